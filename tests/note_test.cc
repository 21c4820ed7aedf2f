// Tests of signed notes, checkpoints, keys, encodings and status names.
//
// Known answers: the PeterNeumann / EnochRoot notes from golang.org/x/mod/sumdb/note
// (note_test.go), the C2SP tlog-checkpoint example body, RFC 8032 §7.1 test 1 and the
// RFC 4648 §10 base64 vectors.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/keys.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {
namespace {

const std::string kPeterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
// The Go package's signer key: "PRIVATE+KEY+PeterNeumann+c74f20a3+" base64(0x01 || seed).
const std::string kPeterSkeyB64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kEnochVkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const std::string kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kDash = "\xE2\x80\x94 ";  // em dash U+2014 and a space
const std::string kPeterSigB64 =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
const std::string kPeterSig = kDash + "PeterNeumann " + kPeterSigB64 + "\n";
const std::string kEnochSig = kDash + "EnochRoot " +
                              "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
                              "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

SigningKey PeterKey() {
  std::string typed_seed;
  REQUIRE(Base64Decode(kPeterSkeyB64, &typed_seed));
  REQUIRE(typed_seed.size() == 33);
  REQUIRE(typed_seed[0] == 0x01);
  std::array<std::uint8_t, 32> seed;
  std::memcpy(seed.data(), typed_seed.data() + 1, seed.size());
  return SigningKey::FromSeed(seed);
}

NoteVerifier Verifier(const std::string& vkey) {
  Result<NoteVerifier> v = ParseVerifierKey(vkey);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  return *v;
}

NoteVerifier VerifierFor(const std::string& name, const SigningKey& key) {
  return Verifier(FormatVerifierKey(name, key.public_key()));
}

std::array<std::uint8_t, 32> Seed(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed;
  seed.fill(fill);
  return seed;
}

TEST_CASE("base64 and hex") {
  // RFC 4648 §10.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(Base64Encode(plain) == encoded);
    std::string decoded = "junk";
    CHECK(Base64Decode(encoded, &decoded));
    CHECK(decoded == plain);
  }
  CHECK(Base64Encode(std::string("\xfb\xff", 2)) == "+/8=");
  std::string out;
  // Strict: no missing padding, no stray characters, no non-zero bits under padding.
  for (std::string bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", " Zm9v", "Zm=v",
                          "Z===", "====", "Zm9vYg==Zm9v", "Zm9v-_", "Zm9vYg=\x80"}) {
    CAPTURE(bad);
    CHECK_FALSE(Base64Decode(bad, &out));
  }
  CHECK(ToHex(std::string("\x00\x1f\xa0\xff", 4)) == "001fa0ff");
  std::array<std::uint8_t, 2> two{};
  CHECK(FromHex("aBcD", &two));
  CHECK(two == std::array<std::uint8_t, 2>{0xab, 0xcd});
  CHECK_FALSE(FromHex("abc", &two));
  CHECK_FALSE(FromHex("abcdef", &two));
  CHECK_FALSE(FromHex("abcg", &two));
  CHECK_FALSE(FromHex("+1cd", &two));
}

TEST_CASE("status names and text") {
  CHECK(CodeName(Code::kOk) == "ok");
  CHECK(CodeName(Code::kInsufficientBalance) == "insufficient_balance");
  CHECK(CodeName(Code::kAccountKindRestricted) == "account_kind_restricted");
  CHECK(CodeName(Code::kCannotRevokeRoot) == "cannot_revoke_root");
  CHECK(CodeName(static_cast<Code>(999)) == "unknown");
  CHECK(Status().ToString() == "ok");
  CHECK(Status(Code::kInsufficientBalance, "account 510104000000017 has 1.5 h, needs 2 h")
            .ToString() == "insufficient_balance: account 510104000000017 has 1.5 h, needs 2 h");
  // Every code in the enum has its own name.
  std::vector<std::string_view> names;
  for (int c = 0; c < 100; ++c) {
    std::string_view name = CodeName(static_cast<Code>(c));
    if (name == "unknown") continue;
    for (char ch : name) CHECK(((ch >= 'a' && ch <= 'z') || ch == '_'));
    for (std::string_view other : names) CHECK(other != name);
    names.push_back(name);
  }
  CHECK(names.size() == 52);
}

TEST_CASE("Ed25519 keys: RFC 8032 test 1") {
  std::array<std::uint8_t, 32> seed;
  REQUIRE(FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &seed));
  SigningKey key = SigningKey::FromSeed(seed);
  CHECK(ToHex(key.public_key()) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  SignatureBytes sig = key.Sign("");
  CHECK(ToHex(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
        "cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(VerifySignature(key.public_key(), "", sig));
  CHECK_FALSE(VerifySignature(key.public_key(), "x", sig));
  sig[0] ^= 1;
  CHECK_FALSE(VerifySignature(key.public_key(), "", sig));

  // Moving keeps the key usable in its new home.
  SigningKey moved = std::move(key);
  CHECK(ToHex(moved.public_key()) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  CHECK(VerifySignature(moved.public_key(), "m", moved.Sign("m")));
  SigningKey assigned = SigningKey::FromSeed(Seed(1));
  assigned = std::move(moved);
  CHECK(VerifySignature(assigned.public_key(), "m", assigned.Sign("m")));

  SigningKey a = SigningKey::Generate();
  SigningKey b = SigningKey::Generate();
  CHECK(a.public_key() != b.public_key());
  CHECK(VerifySignature(a.public_key(), "hello", a.Sign("hello")));
  CHECK_FALSE(VerifySignature(b.public_key(), "hello", a.Sign("hello")));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/timebank_note_test_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string File(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = File(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST_CASE("key files") {
  TempDir dir;
  SigningKey key = SigningKey::FromSeed(Seed(7));
  const std::string path = dir.File("operator.key");
  REQUIRE(key.SaveFile(path).ok());

  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "timebank-ed25519-seed:" + Base64Encode(std::string(32, '\x07')) + "\n");

  Result<SigningKey> loaded = SigningKey::LoadFile(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key() == key.public_key());

  // Never overwrite a key.
  CHECK(key.SaveFile(path).code() == Code::kInvalidArgument);
  CHECK(SigningKey::LoadFile(path)->public_key() == key.public_key());

  CHECK(SigningKey::LoadFile(dir.path() + "/missing.key").code() == Code::kNotFound);
  CHECK(SigningKey::LoadFile(dir.path()).code() == Code::kIoError);  // a directory
  CHECK(key.SaveFile(dir.path() + "/no/such/dir.key").code() == Code::kIoError);

  const std::string good = "timebank-ed25519-seed:" + Base64Encode(std::string(32, 'k'));
  CHECK(SigningKey::LoadFile(dir.Write("good.key", good + "\n")).ok());
  const std::string bad_contents[] = {
      good,               // no newline
      good + "\n\n",      // trailing junk
      good + "\r\n",      // CRLF
      good + " ",         // no newline, but something in its place
      " " + good + "\n",  // leading space
      "timebank-ed25519-seed " + Base64Encode(std::string(32, 'k')) + "\n",
      "timebank-ed25519-seed:" + Base64Encode(std::string(31, 'k')) + "\n",
      "timebank-ed25519-seed:" + Base64Encode(std::string(33, 'k')) + "\n",
      "timebank-ed25519-seed:" + Base64Encode(std::string(32, 'k')).substr(0, 43) + "B\n",
      "",
      std::string(1000, 'a'),
  };
  int i = 0;
  for (const std::string& bad : bad_contents) {
    CAPTURE(i);
    CHECK(SigningKey::LoadFile(dir.Write("bad" + std::to_string(i++), bad)).code() ==
          Code::kInvalidArgument);
  }
}

TEST_CASE("known answer: the Go sumdb/note PeterNeumann note") {
  SigningKey peter = PeterKey();
  CHECK(NoteKeyHash("PeterNeumann", peter.public_key()) == 0xc74f20a3);
  CHECK(FormatVerifierKey("PeterNeumann", peter.public_key()) == kPeterVkey);
  NoteVerifier v = Verifier(kPeterVkey);
  CHECK(v.name == "PeterNeumann");
  CHECK(v.key_hash == 0xc74f20a3);
  CHECK(v.key == peter.public_key());

  const std::string note = SignNote(kText, "PeterNeumann", peter);
  CHECK(note == kText + "\n" + kPeterSig);
  Result<std::string> text = OpenNote(note, v);
  REQUIRE(text.ok());
  CHECK(*text == kText);
}

TEST_CASE("known answer: Go's two-signature note; unknown signers are ignored") {
  NoteVerifier peter = Verifier(kPeterVkey);
  NoteVerifier enoch = Verifier(kEnochVkey);
  CHECK(enoch.key_hash == 0xaf0cfe78);
  const std::string note = kText + "\n" + kPeterSig + kEnochSig;
  CHECK(OpenNote(note, peter).value() == kText);
  CHECK(OpenNote(note, enoch).value() == kText);
  CHECK(OpenNote(kText + "\n" + kEnochSig, peter).code() == Code::kMissingSignature);
  // Same key hash under another name is another key: ignored, not a bad signature.
  std::string renamed = kPeterSig;
  renamed.replace(renamed.find("PeterNeumann"), 12, "PeterNeumanX");
  CHECK(OpenNote(kText + "\n" + renamed, peter).code() == Code::kMissingSignature);
  // Duplicate lines by the verifier's key are fine when they all verify.
  CHECK(OpenNote(kText + "\n" + kPeterSig + kPeterSig + kEnochSig, peter).ok());
  // A line by this key that does not verify spoils the note (Go's "invalid signature").
  const std::string mangled = kPeterSig.substr(0, 60) + "ABCD" + kPeterSig.substr(60);
  CHECK(OpenNote(kText + "\n" + mangled, peter).code() == Code::kBadSignature);
  CHECK(OpenNote(kText + "\n" + kEnochSig + mangled, peter).code() == Code::kBadSignature);
  // The signature is over the text: another text with Peter's line fails.
  CHECK(OpenNote("If you think\n\n" + kPeterSig, peter).code() == Code::kBadSignature);
}

TEST_CASE("malformed notes") {
  NoteVerifier peter = Verifier(kPeterVkey);
  const std::string sig_prefix = kText + "\n" + kDash;
  // clang-format off
  const std::string bad_notes[] = {
      // From Go's TestOpen.
      kText,
      kText + "\n",
      kText + "\n" + kPeterSig.substr(0, kPeterSig.size() - 1),
      "\x01" + kText + "\n" + kPeterSig,
      "\xff" + kText + "\n" + kPeterSig,
      sig_prefix + "Bad Name " + kPeterSigB64,
      kText + "\n" + kPeterSig + "Unexpected line.\n",
      // More.
      "",
      "\n\n",
      kText + "\n" + kPeterSig + "\n",
      sig_prefix + "PeterNeumann\n",
      sig_prefix + "Peter+Neumann " + kPeterSigB64 + "\n",
      sig_prefix + " " + kPeterSigB64 + "\n",
      sig_prefix + "PeterNeumann AAAA\n",      // shorter than a key hash + 1 byte
      sig_prefix + "PeterNeumann x08go/ZJ=\n",  // bad base64
      kText + "\n- PeterNeumann " + kPeterSigB64 + "\n",  // hyphen, not an em dash
      "a\tb\n\n" + kPeterSig,
      "a\r\n\n" + kPeterSig,
      "\xC0\xAF\n\n" + kPeterSig,      // overlong UTF-8
      "\xED\xA0\x80\n\n" + kPeterSig,  // UTF-16 surrogate
  };
  // clang-format on
  int i = 0;
  for (const std::string& bad : bad_notes) {
    CAPTURE(i++);
    CHECK(OpenNote(bad, peter).code() == Code::kMalformedEntry);
  }
  std::string many = kText + "\n";
  for (int k = 0; k < 101; ++k) many += kPeterSig;
  CHECK(OpenNote(many, peter).code() == Code::kMalformedEntry);
  std::string sixteen = kText + "\n";
  for (int k = 0; k < 16; ++k) sixteen += kEnochSig;
  CHECK(OpenNote(sixteen + kPeterSig, peter).ok());  // the spec's minimum must be accepted
}

TEST_CASE("sign and open round trip") {
  SigningKey key = SigningKey::FromSeed(Seed(42));
  const std::string name = "timebank.example/510104";
  NoteVerifier v = VerifierFor(name, key);
  // Text may hold blank lines and any non-control UTF-8; the last blank line splits.
  const std::string text = "line one\n\nline three, 时间银行 \xE2\x80\x94 ok\n";
  const std::string note = SignNote(text, name, key);
  CHECK(OpenNote(note, v).value() == text);
  CHECK(OpenNote(SignNote("\n", name, key), v).value() == "\n");

  // Tampered text.
  std::string tampered = note;
  tampered[2] ^= 1;
  CHECK(OpenNote(tampered, v).code() == Code::kBadSignature);
  // Unknown key: another key, and a key sharing the name but not the hash.
  SigningKey other = SigningKey::FromSeed(Seed(43));
  CHECK(OpenNote(note, VerifierFor("other.example", other)).code() == Code::kMissingSignature);
  CHECK(OpenNote(note, VerifierFor(name, other)).code() == Code::kMissingSignature);
  CHECK(OpenNote(SignNote(text, name, other), v).code() == Code::kMissingSignature);
  // A verifier whose hash does not belong to its name and key is a caller error.
  NoteVerifier inconsistent = v;
  inconsistent.key_hash ^= 1;
  CHECK(OpenNote(note, inconsistent).code() == Code::kInvalidArgument);
}

TEST_CASE("cosigning with AddNoteSignature") {
  SigningKey log = SigningKey::FromSeed(Seed(1));
  SigningKey witness = SigningKey::FromSeed(Seed(2));
  const std::string text = "log.example\n3\n" + Base64Encode(std::string(32, 'r')) + "\n";
  const std::string note = SignNote(text, "log.example", log);
  Result<std::string> cosigned = AddNoteSignature(note, "witness.example", witness);
  REQUIRE(cosigned.ok());
  CHECK(cosigned->starts_with(note));
  CHECK(OpenNote(*cosigned, VerifierFor("log.example", log)).value() == text);
  CHECK(OpenNote(*cosigned, VerifierFor("witness.example", witness)).value() == text);
  // Signing again with the same key replaces the line instead of adding one.
  Result<std::string> again = AddNoteSignature(*cosigned, "witness.example", witness);
  REQUIRE(again.ok());
  CHECK(*again == *cosigned);
  CHECK(AddNoteSignature(*cosigned, "bad name", witness).code() == Code::kInvalidArgument);
  CHECK(AddNoteSignature(text, "witness.example", witness).code() == Code::kMalformedEntry);
}

TEST_CASE("verifier keys") {
  SigningKey key = SigningKey::FromSeed(Seed(9));
  const std::string vkey = FormatVerifierKey("example.com/log", key.public_key());
  NoteVerifier v = Verifier(vkey);
  CHECK(v.name == "example.com/log");
  CHECK(v.key == key.public_key());
  CHECK(v.key_hash == NoteKeyHash("example.com/log", key.public_key()));
  CHECK(FormatVerifierKey(v.name, v.key) == vkey);

  // As Go's TestNewVerifier: every proper substring and every one-byte change is refused.
  for (std::size_t i = 0; i <= kPeterVkey.size(); ++i) {
    for (std::size_t j = i + 1; j <= kPeterVkey.size(); ++j) {
      if (i == 0 && j == kPeterVkey.size()) continue;
      CAPTURE(kPeterVkey.substr(i, j - i));
      CHECK(ParseVerifierKey(kPeterVkey.substr(i, j - i)).code() == Code::kInvalidArgument);
    }
  }
  for (std::size_t i = 0; i < kPeterVkey.size(); ++i) {
    std::string b = kPeterVkey;
    ++b[i];
    CAPTURE(b);
    CHECK(ParseVerifierKey(b).code() == Code::kInvalidArgument);
  }
  // Wrong key length and unknown algorithm, each with a matching key hash (from Go).
  CHECK_FALSE(
      ParseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
          .ok());
  CHECK_FALSE(
      ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").ok());
  CHECK_FALSE(ParseVerifierKey("").ok());
  CHECK_FALSE(ParseVerifierKey("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq").ok());
}

TEST_CASE("checkpoint bodies") {
  // The example from c2sp.org/tlog-checkpoint.
  const std::string example =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  Result<Checkpoint> cp = ParseCheckpointBody(example);
  REQUIRE(cp.ok());
  CHECK(cp->origin == "example.com/behind-the-sofa");
  CHECK(cp->size == 20852163);
  CHECK(Base64Encode({reinterpret_cast<const char*>(cp->root.data()), 32}) ==
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  CHECK(cp->extensions.empty());
  CHECK(FormatCheckpointBody(*cp) == example);

  Checkpoint with_ext{"timebank.example/510104", 0, {}, {"ext one", "ext two"}};
  with_ext.root.fill(0xee);
  const std::string body = FormatCheckpointBody(with_ext);
  CHECK(body == "timebank.example/510104\n0\n" + Base64Encode(std::string(32, '\xee')) +
                    "\next one\next two\n");
  Result<Checkpoint> back = ParseCheckpointBody(body);
  REQUIRE(back.ok());
  CHECK(back->origin == with_ext.origin);
  CHECK(back->size == 0);
  CHECK(back->root == with_ext.root);
  CHECK(back->extensions == with_ext.extensions);
  CHECK(ParseCheckpointBody("o\n18446744073709551615\n" + Base64Encode(std::string(32, 'x')) + "\n")
            ->size == UINT64_MAX);

  const std::string root = Base64Encode(std::string(32, 'x'));
  const std::string bad_bodies[] = {
      "",
      "o\n",
      "o\n5\n",
      "o\n5\n" + root,          // no final newline
      "\n5\n" + root + "\n",    // empty origin
      "o\n05\n" + root + "\n",  // leading zero
      "o\n-1\n" + root + "\n",
      "o\n+5\n" + root + "\n",
      "o\n 5\n" + root + "\n",
      "o\n5x\n" + root + "\n",
      "o\n\n" + root + "\n",
      "o\n18446744073709551616\n" + root + "\n",  // 2^64
      "o\n5\n" + root.substr(0, 43) + "\n",       // unpadded
      "o\n5\n" + Base64Encode(std::string(31, 'x')) + "\n",
      "o\n5\n" + Base64Encode(std::string(33, 'x')) + "\n",
      "o\n5\n" + root + "\n\n",  // empty extension line
      "o\n5\n" + root + "\next\n\n",
  };
  int i = 0;
  for (const std::string& bad : bad_bodies) {
    CAPTURE(i++);
    CHECK(ParseCheckpointBody(bad).code() == Code::kMalformedEntry);
  }
}

TEST_CASE("OpenCheckpoint") {
  SigningKey key = SigningKey::FromSeed(Seed(5));
  const std::string origin = "timebank.example/510104";
  NoteVerifier v = VerifierFor(origin, key);
  Checkpoint cp{origin, 12345, {}, {}};
  cp.root.fill(0x5a);
  const std::string note = SignNote(FormatCheckpointBody(cp), origin, key);
  Result<Checkpoint> opened = OpenCheckpoint(note, v);
  REQUIRE(opened.ok());
  CHECK(opened->size == 12345);
  CHECK(opened->root == cp.root);

  Checkpoint foreign = cp;
  foreign.origin = "timebank.example/510105";
  CHECK(OpenCheckpoint(SignNote(FormatCheckpointBody(foreign), origin, key), v).code() ==
        Code::kWrongDistrict);
  CHECK(OpenCheckpoint(SignNote("not\na checkpoint\n", origin, key), v).code() ==
        Code::kMalformedEntry);
  std::string tampered = note;
  tampered[origin.size() + 1] = '9';  // the first digit of the size
  CHECK(OpenCheckpoint(tampered, v).code() == Code::kBadSignature);
  CHECK(OpenCheckpoint(note, VerifierFor(origin, SigningKey::FromSeed(Seed(6)))).code() ==
        Code::kMissingSignature);
}

TEST_CASE("C2SP tlog-cosignature/v1: a witness cosigns a district's checkpoint") {
  const SigningKey log = SigningKey::FromSeed(Seed(40)), witness = SigningKey::FromSeed(Seed(41));
  Checkpoint cp{"timebank.chengdu/510104", 42, {}, {}};
  cp.root.fill(7);
  const std::string body = FormatCheckpointBody(cp);
  const std::string note = SignNote(body, cp.origin, log);

  // The signed message is exactly the spec's: two header lines, then the body.
  CHECK(CosignatureMessage(body, 1679315147) == "cosignature/v1\ntime 1679315147\n" + body);
  // Key IDs of cosigners use type 0x04, never the note key hash (0x01).
  CHECK(CosignatureKeyId("w", witness.public_key()) != NoteKeyHash("w", witness.public_key()));

  auto cosigned = AddCosignature(note, "timebank.chengdu/510105", witness, 1679315147);
  REQUIRE(cosigned.ok());
  auto ts = VerifyCosignature(*cosigned, "timebank.chengdu/510105", witness.public_key());
  REQUIRE(ts.ok());
  CHECK(*ts == 1679315147u);
  // The log's own signature still opens the note.
  CHECK(OpenCheckpoint(*cosigned, VerifierFor(cp.origin, log)).ok());

  // Layout against the spec's example line: key ID (4) || be64 timestamp || signature. The
  // example's timestamp is 1679315147, the same as ours: bytes 4..12 must match.
  std::string spec_blob, our_blob;
  REQUIRE(
      Base64Decode("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
                   "qhf5nNo0xUe+mbIUBkBIfZ+qnA==",
                   &spec_blob));
  const std::string last = cosigned->substr(cosigned->rfind(' ') + 1);
  REQUIRE(Base64Decode(last.substr(0, last.size() - 1), &our_blob));
  REQUIRE(spec_blob.size() == 4 + 8 + 64);
  REQUIRE(our_blob.size() == spec_blob.size());
  CHECK(our_blob.substr(4, 8) == spec_blob.substr(4, 8));

  // Another witness, or the right name with another key: not found. A newer cosignature of
  // the same witness replaces the older one.
  CHECK(VerifyCosignature(*cosigned, "timebank.chengdu/510105", log.public_key()).code() ==
        Code::kNotFound);
  auto again = AddCosignature(*cosigned, "timebank.chengdu/510105", witness, 1679315200);
  REQUIRE(again.ok());
  CHECK(*VerifyCosignature(*again, "timebank.chengdu/510105", witness.public_key()) == 1679315200u);
  CHECK(std::count(again->begin(), again->end(), '\n') ==
        std::count(cosigned->begin(), cosigned->end(), '\n'));

  // A cosignature moved onto another checkpoint does not verify.
  Checkpoint other = cp;
  other.size = 43;
  std::string forged = SignNote(FormatCheckpointBody(other), cp.origin, log);
  forged += cosigned->substr(cosigned->rfind(kDash));
  CHECK(VerifyCosignature(forged, "timebank.chengdu/510105", witness.public_key()).code() ==
        Code::kBadSignature);
  // Only checkpoints are cosigned.
  CHECK(AddCosignature(SignNote("not a checkpoint\n", "x", log), "w", witness, 1).code() ==
        Code::kMalformedEntry);
}

TEST_CASE("SameVerifierKey: the same name and key, whatever the hash's hex case") {
  const std::string upper = "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  REQUIRE(ParseVerifierKey(upper).ok());
  CHECK(SameVerifierKey(kPeterVkey, kPeterVkey));
  CHECK(SameVerifierKey(kPeterVkey, upper));
  CHECK_FALSE(SameVerifierKey(kPeterVkey, kEnochVkey));
  CHECK_FALSE(SameVerifierKey("junk", "junk"));
}

}  // namespace
}  // namespace ledger
