// schema/vectors/entries.txt: the entry format's published test vectors (format described
// in the file; written by vectors_gen.cc). Every value is checked against the library:
// a wrong byte anywhere in the file fails a test here.
//
// TIMEBANK_ENTRY_VECTORS in the environment names another file to check (for trying
// out edited vectors).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crypto.h"
#include "district.h"
#include "entry_text.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/proof.h"
#include "ledger/types.h"

#ifndef TIMEBANK_SCHEMA_DIR
#define TIMEBANK_SCHEMA_DIR "schema"
#endif

namespace ledger {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct EntryVector {
  int line = 0;
  std::uint64_t index = 0;
  std::string kind;
  Fields fields;
  std::string body, message, bytes;
  std::vector<std::pair<PublicKey, SignatureBytes>> signatures;
  Hash leaf{};
  int leaf_lines = 0;
};

struct Vectors {
  std::map<std::string, std::pair<std::array<std::uint8_t, 32>, PublicKey>> keys;  // by name
  std::vector<EntryVector> entries;
  std::string origin, vkey;
  std::uint64_t checkpoint_size = 0;
  Hash checkpoint_root{};
  int checkpoint_lines = 0;
  std::vector<std::string> note_lines;
  std::map<std::string, std::string> realname;
};

std::string Unhex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  REQUIRE_MESSAGE((hex.size() % 2 == 0 && !hex.empty() &&
                   FromHex(hex, reinterpret_cast<std::uint8_t*>(out.data()), out.size())),
                  "not hex: " << hex);
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> UnhexFixed(std::string_view hex) {
  std::array<std::uint8_t, N> out{};
  REQUIRE_MESSAGE(FromHex(hex, &out), "not " << N << " bytes of hex: " << hex);
  return out;
}

std::string VectorsPath() {
  if (const char* p = std::getenv("TIMEBANK_ENTRY_VECTORS"); p != nullptr && *p != '\0') return p;
  return std::string(TIMEBANK_SCHEMA_DIR) + "/vectors/entries.txt";
}

// Splits off the first space-separated word of `rest`.
std::string Word(std::string_view* rest) {
  const std::size_t sp = rest->find(' ');
  std::string w(rest->substr(0, sp));
  rest->remove_prefix(sp == std::string_view::npos ? rest->size() : sp + 1);
  return w;
}

Vectors Load() {
  const std::string path = VectorsPath();
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  Vectors v;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(line_no);
    CAPTURE(line);
    std::string_view rest = line;
    const std::string record = Word(&rest);
    auto words = [&] {
      std::vector<std::string> out;
      for (std::string_view r = rest; !r.empty();) out.push_back(Word(&r));
      return out;
    };
    auto current = [&]() -> EntryVector& {
      REQUIRE_MESSAGE(!v.entries.empty(), record << " outside an entry");
      return v.entries.back();
    };
    if (record == "key") {
      auto w = words();
      REQUIRE(w.size() == 3);
      REQUIRE(v.keys.emplace(w[0], std::pair(UnhexFixed<32>(w[1]), UnhexFixed<32>(w[2]))).second);
    } else if (record == "entry") {
      auto w = words();
      REQUIRE(w.size() == 2);
      EntryVector e;
      e.line = line_no;
      e.index = std::stoull(w[0]);
      REQUIRE(e.index == v.entries.size());  // entries are listed in log order
      e.kind = w[1];
      v.entries.push_back(std::move(e));
    } else if (record == "field") {
      std::string name = Word(&rest);
      REQUIRE(!name.empty());
      REQUIRE(!rest.empty());
      current().fields.emplace_back(std::move(name), std::string(rest));
    } else if (record == "body" || record == "message" || record == "bytes") {
      auto w = words();
      REQUIRE(w.size() == 1);
      std::string& field = record == "body"      ? current().body
                           : record == "message" ? current().message
                                                 : current().bytes;
      REQUIRE_MESSAGE(field.empty(), record << " given twice");
      field = Unhex(w[0]);
    } else if (record == "signature") {
      auto w = words();
      REQUIRE(w.size() == 2);
      current().signatures.emplace_back(UnhexFixed<32>(w[0]), UnhexFixed<64>(w[1]));
    } else if (record == "leaf") {
      auto w = words();
      REQUIRE(w.size() == 1);
      current().leaf = UnhexFixed<32>(w[0]);
      ++current().leaf_lines;
    } else if (record == "origin") {
      REQUIRE(v.origin.empty());
      v.origin = std::string(rest);
    } else if (record == "vkey") {
      REQUIRE(v.vkey.empty());
      v.vkey = std::string(rest);
    } else if (record == "checkpoint") {
      auto w = words();
      REQUIRE(w.size() == 2);
      v.checkpoint_size = std::stoull(w[0]);
      v.checkpoint_root = UnhexFixed<32>(w[1]);
      ++v.checkpoint_lines;
    } else if (record == "note") {
      v.note_lines.emplace_back(rest);
    } else if (record == "realname") {
      std::string name = Word(&rest);
      REQUIRE(v.realname.emplace(name, std::string(rest)).second);
    } else {
      FAIL("unknown record " << record);
    }
  }
  return v;
}

std::string Unquote(const std::string& s) {
  REQUIRE_MESSAGE((s.size() >= 2 && s.front() == '"' && s.back() == '"'),
                  "not a quoted string: " << s);
  return s.substr(1, s.size() - 2);
}

std::string NoteText(const Vectors& v) {
  std::string note;
  for (const auto& l : v.note_lines) note += l + "\n";
  return note;
}

const SigningKey* KeyFor(const Vectors& v, const PublicKey& pub,
                         std::vector<std::unique_ptr<SigningKey>>* pool) {
  for (const auto& [name, k] : v.keys) {
    if (k.second == pub) {
      pool->push_back(std::make_unique<SigningKey>(SigningKey::FromSeed(k.first)));
      return pool->back().get();
    }
  }
  return nullptr;
}

const PublicKey& NamedKey(const Vectors& v, const std::string& name) {
  auto it = v.keys.find(name);
  REQUIRE_MESSAGE(it != v.keys.end(), "no key named " << name);
  return it->second.second;
}

TEST_CASE("entry vectors: keys come from their seeds") {
  Vectors v = Load();
  REQUIRE(v.keys.size() >= 3);
  for (const auto& [name, k] : v.keys) {
    CAPTURE(name);
    CHECK(SigningKey::FromSeed(k.first).public_key() == k.second);
  }
}

TEST_CASE("entry vectors: bodies, signatures, entry bytes and leaf hashes") {
  Vectors v = Load();
  REQUIRE(v.entries.size() >= 15);
  std::set<std::string> kinds;
  std::set<TransferKind> transfers;
  for (const EntryVector& e : v.entries) {
    CAPTURE(e.line);
    CAPTURE(e.kind);
    // The stated fields encode to the stated body bytes.
    Result<EntryBody> stated = testing::BodyFromFields(e.kind, e.fields);
    REQUIRE_MESSAGE(stated.ok(), stated.status().ToString());
    CHECK(KindName(stated->kind) == e.kind);
    CHECK(ToHex(EncodeBody(*stated)) == ToHex(e.body));
    CHECK(testing::BodyFields(*stated) == e.fields);  // listed completely and in order

    // The signing message is the context string, a zero byte and the body.
    CHECK(ToHex(e.message) == ToHex(std::string("timebank/entry/v1", 17) + '\0' + e.body));
    CHECK(ToHex(EntrySigningMessage(e.body)) == ToHex(e.message));

    // Each signature verifies, and is what the key's seed signs (Ed25519 is deterministic).
    REQUIRE(!e.signatures.empty());
    REQUIRE(e.signatures.size() <= 2);
    std::vector<std::unique_ptr<SigningKey>> pool;
    std::vector<const SigningKey*> signers;
    for (const auto& [pub, sig] : e.signatures) {
      CHECK(VerifySignature(pub, e.message, sig));
      const SigningKey* k = KeyFor(v, pub, &pool);
      REQUIRE_MESSAGE(k != nullptr, "signature by a key not listed: " << ToHex(pub));
      CHECK(ToHex(k->Sign(e.message)) == ToHex(sig));
      signers.push_back(k);
    }

    // The entry bytes are the body plus the signatures, exactly as SignEntry writes them.
    const std::string signed_entry = signers.size() == 1
                                         ? SignEntry(e.body, {signers[0]})
                                         : SignEntry(e.body, {signers[0], signers[1]});
    CHECK(ToHex(signed_entry) == ToHex(e.bytes));

    // Decoding the entry bytes gives back the stated body, body bytes and signatures.
    Result<DecodedEntry> d = DecodeAndVerifyEntry(e.bytes);
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CHECK(ToHex(d->body_bytes) == ToHex(e.body));
    CHECK(testing::BodyFields(d->body) == e.fields);
    REQUIRE(d->signatures.size() == e.signatures.size());
    for (std::size_t i = 0; i < e.signatures.size(); ++i) {
      CHECK(d->signatures[i].key == e.signatures[i].first);
      CHECK(d->signatures[i].signature == e.signatures[i].second);
    }

    CHECK(e.leaf_lines == 1);
    CHECK(ToHex(LeafHash(e.bytes)) == ToHex(e.leaf));

    // Keys the body names are listed too (with their seeds).
    std::vector<PublicKey> named;
    if (auto* x = std::get_if<Grant>(&d->body.kind)) named.push_back(x->key);
    if (auto* x = std::get_if<Revoke>(&d->body.kind)) named.push_back(x->key);
    if (auto* x = std::get_if<Open>(&d->body.kind); x && !x->owner_key.empty())
      named.push_back(UnhexFixed<32>(ToHex(x->owner_key)));
    for (const PublicKey& k : named)
      CHECK_MESSAGE(KeyFor(v, k, &pool) != nullptr, "key not listed: " << ToHex(k));

    kinds.insert(e.kind);
    if (auto* t = std::get_if<Transfer>(&d->body.kind)) transfers.insert(t->kind);
  }
  // Every kind a v1 ledger processes is covered, and all three kinds of transfer.
  for (const char* k : {"genesis", "grant", "revoke", "policy", "open", "deposit", "redeem", "hold",
                        "post", "void", "expire", "transfer", "reverse"}) {
    CHECK_MESSAGE(kinds.count(k) == 1, "no " << k << " vector");
  }
  CHECK(transfers == std::set<TransferKind>{TransferKind::kGift, TransferKind::kDonation,
                                            TransferKind::kPoolGrant});

  // The genesis names the listed root and log keys and the origin of the checkpoint.
  REQUIRE(v.entries[0].kind == "genesis");
  const Genesis g =
      std::get<Genesis>(testing::BodyFromFields("genesis", v.entries[0].fields)->kind);
  CHECK(g.root_key == NamedKey(v, "root"));
  CHECK(g.log_key == NamedKey(v, "log"));
  CHECK(g.origin == v.origin);
}

// Every single-bit change of an entry's bytes makes DecodeAndVerifyEntry fail. Flips in
// the body or a signature break a signature; flips in the unsigned Entry wrapper (tags,
// lengths) are caught by the rule that the wrapper is canonically encoded with no unknown
// fields (schema/entry.proto); without it a flipped tag could turn one of two signatures
// into an unknown field and leave a different entry that still verifies.
TEST_CASE("entry vectors: a tampered entry does not verify") {
  Vectors v = Load();
  REQUIRE(!v.entries.empty());
  for (const EntryVector& e : v.entries) {
    CAPTURE(e.line);
    Result<DecodedEntry> original = DecodeAndVerifyEntry(e.bytes);
    REQUIRE(original.ok());
    for (std::size_t pos = 0; pos < e.bytes.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = e.bytes;
        bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
        if (DecodeAndVerifyEntry(bad).ok())
          FAIL_CHECK("flipping bit " << bit << " of byte " << pos << " still verifies");
      }
    }
    // The wrapper: 0a <len> body, then per signature 12 64 {0a 20 <key> 12 40 <signature>}.
    const std::size_t first_sig = e.bytes.size() - 102 * e.signatures.size();
    REQUIRE(e.bytes.substr(first_sig, 2) == "\x12\x64");
    // Bytes added to the wrapper: unknown fields, the body once more.
    CHECK_FALSE(DecodeAndVerifyEntry(e.bytes + std::string("\x1a\x00", 2)).ok());
    CHECK_FALSE(DecodeAndVerifyEntry(e.bytes + std::string("\x20\x01", 2)).ok());
    CHECK_FALSE(DecodeAndVerifyEntry(e.bytes + e.bytes.substr(0, first_sig)).ok());
    // A signature repeated: a key signs an entry at most once. (With several signatures,
    // the list can still be reordered or cut short: the rules decide which are needed.)
    CHECK(DecodeAndVerifyEntry(e.bytes + e.bytes.substr(first_sig, 102)).code() ==
          Code::kMalformedEntry);
    // Truncated anywhere: refused, except right after a signature, which drops the ones
    // after it (the same body with fewer signatures).
    for (std::size_t n = 0; n < e.bytes.size(); ++n) {
      Result<DecodedEntry> d = DecodeAndVerifyEntry(e.bytes.substr(0, n));
      const bool after_signature = n > first_sig && (n - first_sig) % 102 == 0;
      if (!after_signature) {
        if (d.ok()) FAIL_CHECK("truncated to " << n << " bytes, the entry still verifies");
        continue;
      }
      REQUIRE(d.ok());
      CHECK(d->body_bytes == original->body_bytes);
      CHECK(d->signatures.size() == (n - first_sig) / 102);
    }
  }
}

// A body that carries something format v1 does not know is refused even when it is
// properly signed: such a field could carry a rule this version would not apply.
TEST_CASE("entry vectors: signed bodies with fields unknown to format v1 are refused") {
  Vectors v = Load();
  const SigningKey key = testing::KeyFromByte(7);
  const auto varint = [](std::uint64_t x) {
    std::string out;
    for (; x >= 0x80; x >>= 7) out.push_back(static_cast<char>(x | 0x80));
    out.push_back(static_cast<char>(x));
    return out;
  };
  const std::string unknown = varint(99 << 3) + '\x01';  // field 99, varint 1
  int nested = 0;
  for (const EntryVector& e : v.entries) {
    CAPTURE(e.line);
    Result<DecodedEntry> d = DecodeEntry(e.bytes);
    REQUIRE(d.ok());
    const std::string& body = d->body_bytes;
    REQUIRE(DecodeAndVerifyEntry(SignEntry(body, {&key})).ok());  // the control
    CHECK(DecodeEntry(SignEntry(body + unknown, {&key})).code() == Code::kMalformedEntry);
    // A known field number with the wrong wire type is unknown to the parser too.
    CHECK(DecodeEntry(SignEntry(body + varint(1 << 3) + '\x01', {&key})).code() ==
          Code::kMalformedEntry);
    // Inside the entry kind's message (the body's last length-delimited field of number
    // >= 10): the same unknown field, one level down.
    std::string_view rest = body;
    std::string rebuilt;
    while (!rest.empty()) {
      std::uint64_t tag = 0, len = 0;
      auto read = [&](std::uint64_t* x) {
        *x = 0;
        for (int shift = 0;; shift += 7) {
          const auto byte = static_cast<std::uint8_t>(rest.front());
          rest.remove_prefix(1);
          *x |= std::uint64_t{byte & 0x7fu} << shift;
          if (byte < 0x80) return;
        }
      };
      read(&tag);
      std::string field = varint(tag);
      if ((tag & 7) == 0) {
        read(&len);
        field += varint(len);
      } else {
        REQUIRE((tag & 7) == 2);
        read(&len);
        std::string payload(rest.substr(0, len));
        rest.remove_prefix(len);
        if ((tag >> 3) >= 10 && !payload.empty()) {
          payload += unknown;
          ++nested;
        }
        field += varint(payload.size()) + payload;
      }
      rebuilt += field;
    }
    if (rebuilt != body)
      CHECK(DecodeEntry(SignEntry(rebuilt, {&key})).code() == Code::kMalformedEntry);
  }
  CHECK(nested > 0);
}

TEST_CASE("entry vectors: the signed checkpoint of the log") {
  Vectors v = Load();
  REQUIRE(!v.entries.empty());
  REQUIRE(v.checkpoint_lines == 1);
  std::vector<Hash> leaves;
  for (const EntryVector& e : v.entries) leaves.push_back(LeafHash(e.bytes));
  CHECK(v.checkpoint_size == leaves.size());
  CHECK(ToHex(RootFromLeafHashes(leaves)) == ToHex(v.checkpoint_root));

  const PublicKey& log_key = NamedKey(v, "log");
  CHECK(v.vkey == FormatVerifierKey(v.origin, log_key));
  Result<NoteVerifier> verifier = ParseVerifierKey(v.vkey);
  REQUIRE_MESSAGE(verifier.ok(), verifier.status().ToString());
  CHECK(verifier->name == v.origin);
  CHECK(verifier->key == log_key);
  CHECK(verifier->key_hash == NoteKeyHash(v.origin, log_key));

  const std::string note = NoteText(v);
  Result<Checkpoint> cp = OpenCheckpoint(note, *verifier);
  REQUIRE_MESSAGE(cp.ok(), cp.status().ToString());
  CHECK(cp->origin == v.origin);
  CHECK(cp->size == v.checkpoint_size);
  CHECK(cp->root == v.checkpoint_root);
  CHECK(cp->extensions.empty());
  // The note is exactly what the log key signs (Ed25519 is deterministic).
  const SigningKey log = SigningKey::FromSeed(v.keys.at("log").first);
  CHECK(note == SignNote(FormatCheckpointBody(*cp), v.origin, log));

  // A changed root does not open.
  std::string bad = note;
  const std::size_t root_at = bad.find('\n', bad.find('\n') + 1) + 1;
  bad[root_at] = bad[root_at] == 'A' ? 'B' : 'A';
  CHECK(OpenCheckpoint(bad, *verifier).code() == Code::kBadSignature);
}

TEST_CASE("entry vectors: a ledger accepts the entries in order and signs the same checkpoint") {
  Vectors v = Load();
  REQUIRE(!v.entries.empty());
  testing::TempDir dir;
  std::int64_t now = 0;
  Options o;
  o.log_key = std::make_shared<SigningKey>(SigningKey::FromSeed(v.keys.at("log").first));
  o.clock = [&now] { return now; };
  auto ledger = Ledger::Open(o, dir.path());
  REQUIRE_MESSAGE(ledger.ok(), ledger.status().ToString());
  for (const EntryVector& e : v.entries) {
    CAPTURE(e.line);
    Result<DecodedEntry> d = DecodeEntry(e.bytes);
    REQUIRE(d.ok());
    now = d->body.time;
    Result<Appended> r = (*ledger)->Append(e.bytes);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->index == e.index);
    CHECK_FALSE(r->duplicate);
  }
  Result<AuditReport> audit = (*ledger)->Audit();
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK(audit->root == v.checkpoint_root);
  CHECK((*ledger)->CurrentCheckpoint().root == v.checkpoint_root);
  CHECK((*ledger)->CurrentCheckpoint().size == v.checkpoint_size);
  CHECK(*(*ledger)->VerifierKey() == v.vkey);
  CHECK(*(*ledger)->SignedCheckpoint() == NoteText(v));
}

TEST_CASE("entry vectors: the real-name commitment") {
  Vectors v = Load();
  REQUIRE(v.realname.size() == 6);
  const RealNameRecord record{Unquote(v.realname.at("name")), Unquote(v.realname.at("id_number")),
                              Unquote(v.realname.at("phone"))};
  const std::string salt = Unhex(v.realname.at("salt"));
  const std::string preimage = Unhex(v.realname.at("preimage"));
  const Hash commitment = UnhexFixed<32>(v.realname.at("commitment"));
  CHECK(RealNameCommitment(record, salt) == commitment);
  // The stated preimage follows the stated definition and hashes to the commitment.
  auto lp = [](const std::string& s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)} +
           s;
  };
  CHECK(ToHex(preimage) == ToHex("timebank/realname/v1" + lp(salt) + lp(record.name) +
                                 lp(record.id_number) + lp(record.phone)));
  CHECK(crypto::Sha256(preimage) == commitment);
  // It is the commitment of an account opened in the log.
  bool used = false;
  for (const EntryVector& e : v.entries) {
    if (e.kind != "open") continue;
    auto body = testing::BodyFromFields("open", e.fields);
    REQUIRE(body.ok());
    used = used || std::get<Open>(body->kind).commitment == commitment;
  }
  CHECK(used);
}

TEST_CASE("entry text: fields round-trip for every kind") {
  const PublicKey key = SigningKey::FromSeed({}).public_key();
  const std::vector<EntryKind> kinds = {
      Sync{"510105", 42, LeafHash("x")},
      Migrate{"510104000000011", "510105"},
      Claim{"510104", NewEntryId(), 45},
      Transfer{TransferKind::kGift, "a", "b", -5, Relation::kNone},
      Grant{key, {}, ""},
      Open{"x", AccountKind::kGroup, 0, "", "", "", {}, false, 0},
  };
  for (const EntryKind& k : kinds) {
    EntryBody body{NewEntryId(), "510104", -1, "c d", k};
    const auto fields = testing::BodyFields(body);
    Result<EntryBody> back = testing::BodyFromFields(std::string(KindName(k)), fields);
    REQUIRE_MESSAGE(back.ok(), back.status().ToString());
    CHECK(EncodeBody(*back) == EncodeBody(body));
    CHECK(testing::BodyFields(*back) == fields);
  }
  // Missing, repeated and unknown fields are refused.
  EntryBody body{EntryId{}, "510104", 1, "", Revoke{key, "r"}};
  auto fields = testing::BodyFields(body);
  auto missing = fields;
  missing.pop_back();
  CHECK_FALSE(testing::BodyFromFields("revoke", missing).ok());
  auto extra = fields;
  extra.emplace_back("revoke.extra", "1");
  CHECK_FALSE(testing::BodyFromFields("revoke", extra).ok());
  auto twice = fields;
  twice.push_back(fields.back());
  CHECK_FALSE(testing::BodyFromFields("revoke", twice).ok());
  CHECK_FALSE(testing::BodyFromFields("grant", fields).ok());
}

}  // namespace
}  // namespace ledger
