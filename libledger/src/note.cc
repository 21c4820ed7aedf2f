// note.cc — C2SP signed notes (https://c2sp.org/signed-note) and tlog checkpoints
// (https://c2sp.org/tlog-checkpoint), Ed25519 signature type only.
//
// Parsing follows the Go reference (golang.org/x/mod/sumdb/note) so that notes we accept
// and produce are exactly those other transparency-log tools accept and produce.
#include <cassert>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.h"
#include "ledger/checkpoint.h"

namespace ledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 em dash, then a space
// The spec wants at least 16 accepted; a bound keeps a hostile note from costing much.
constexpr std::size_t kMaxSignatures = 100;
constexpr char kEd25519Type = 0x01;

// Decodes the UTF-8 code point at s[*i] and advances *i; -1 for invalid UTF-8
// (truncated, overlong, surrogate or beyond U+10FFFF).
std::int32_t NextRune(std::string_view s, std::size_t* i) {
  auto c = static_cast<unsigned char>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  std::int32_t min = len == 4 ? 0x10000 : len == 3 ? 0x800 : 0x80;
  if (c < 0xC0 || c >= 0xF8 || *i + len > s.size()) return -1;
  std::int32_t r = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) return -1;
    r = r << 6 | (cc & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return -1;
  *i += len;
  return r;
}

// Unicode White_Space (what Go's unicode.IsSpace reports), which key names must avoid.
bool IsUnicodeSpace(std::int32_t r) {
  return (r >= 0x09 && r <= 0x0D) || r == 0x20 || r == 0x85 || r == 0xA0 || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F ||
         r == 0x3000;
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size();) {
    std::int32_t r = NextRune(name, &i);
    if (r < 0x20 || r == '+' || IsUnicodeSpace(r)) return false;  // r < 0: bad UTF-8
  }
  return true;
}

// Notes MUST be valid UTF-8 with no control characters other than newline.
bool IsValidNoteText(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::int32_t r = NextRune(s, &i);
    if (r < 0 || (r < 0x20 && r != '\n')) return false;
  }
  return true;
}

std::string BigEndian32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::uint32_t ReadBigEndian32(std::string_view b) {
  return std::uint32_t{static_cast<unsigned char>(b[0])} << 24 |
         std::uint32_t{static_cast<unsigned char>(b[1])} << 16 |
         std::uint32_t{static_cast<unsigned char>(b[2])} << 8 | static_cast<unsigned char>(b[3]);
}

// "name+c74f20a3", how people and the Go tools name a key in messages.
std::string KeyId(std::string_view name, std::uint32_t key_hash) {
  return std::string(name) + "+" + ToHex(BigEndian32(key_hash));
}

std::string SignatureLine(std::string_view text, std::string_view name, const SigningKey& key) {
  SignatureBytes sig = key.Sign(text);
  std::string blob = BigEndian32(NoteKeyHash(name, key.public_key()));
  blob.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return std::string(kSigPrefix) + std::string(name) + " " + Base64Encode(blob) + "\n";
}

struct NoteSignature {
  std::string_view name;
  std::uint32_t key_hash = 0;
  std::string sig;        // the signature bytes after the key hash
  std::string_view line;  // the whole line, newline included
};

struct ParsedNote {
  std::string_view text;  // up to and including the newline before the blank line
  std::vector<NoteSignature> sigs;
};

Status Malformed(const std::string& what) {
  return Status(Code::kMalformedEntry, "malformed note: " + what);
}

Result<NoteSignature> ParseSignatureLine(std::string_view line) {
  std::string_view body = line.substr(0, line.size() - 1);  // without the newline
  if (!body.starts_with(kSigPrefix)) return Malformed("signature line must start with \"— \"");
  body.remove_prefix(kSigPrefix.size());
  std::size_t space = body.find(' ');
  NoteSignature s;
  s.name = body.substr(0, space);
  s.line = line;
  if (space == std::string_view::npos || !IsValidKeyName(s.name)) {
    return Malformed("bad key name in signature line");
  }
  std::string blob;
  if (!Base64Decode(body.substr(space + 1), &blob) || blob.size() < 5) {
    return Malformed("bad signature encoding for key " + std::string(s.name));
  }
  s.key_hash = ReadBigEndian32(blob);
  s.sig = blob.substr(4);
  return s;
}

Result<ParsedNote> ParseNote(std::string_view note) {
  if (!IsValidNoteText(note)) return Malformed("not UTF-8, or has control characters");
  if (note.empty() || note.back() != '\n') return Malformed("does not end in a newline");
  // The text may hold blank lines itself; the signatures start after the last one.
  std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Malformed("no blank line before signatures");
  ParsedNote parsed;
  parsed.text = note.substr(0, split + 1);
  std::string_view rest = note.substr(split + 2);
  if (rest.empty()) return Malformed("no signature lines");
  while (!rest.empty()) {
    if (parsed.sigs.size() == kMaxSignatures) return Malformed("too many signatures");
    std::string_view line = rest.substr(0, rest.find('\n') + 1);  // the note ends in '\n'
    rest.remove_prefix(line.size());
    Result<NoteSignature> sig = ParseSignatureLine(line);
    if (!sig.ok()) return sig.status();
    parsed.sigs.push_back(std::move(sig).value());
  }
  return parsed;
}

Status BadCheckpoint(const std::string& what) {
  return Status(Code::kMalformedEntry, "malformed checkpoint: " + what);
}

}  // namespace

std::string FormatCheckpointBody(const Checkpoint& cp) {
  std::string out = cp.origin + "\n" + std::to_string(cp.size) + "\n" +
                    Base64Encode(crypto::AsView(cp.root)) + "\n";
  for (const std::string& ext : cp.extensions) out += ext + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpointBody(std::string_view body) {
  if (body.empty() || body.back() != '\n') return BadCheckpoint("does not end in a newline");
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    std::size_t eol = body.find('\n');
    lines.push_back(body.substr(0, eol));
    body.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) return BadCheckpoint("fewer than three lines");
  Checkpoint cp;
  if (lines[0].empty()) return BadCheckpoint("empty origin");
  cp.origin = lines[0];
  std::string_view size = lines[1];
  const char* size_end = size.data() + size.size();
  auto [ptr, ec] = std::from_chars(size.data(), size_end, cp.size);
  if (size.empty() || ec != std::errc() || ptr != size_end || (size.size() > 1 && size[0] == '0')) {
    return BadCheckpoint("tree size \"" + std::string(size) + "\" is not a canonical decimal");
  }
  std::string root;
  if (!Base64Decode(lines[2], &root) || root.size() != cp.root.size()) {
    return BadCheckpoint("root hash is not base64 of 32 bytes");
  }
  std::memcpy(cp.root.data(), root.data(), root.size());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return BadCheckpoint("empty extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

std::uint32_t NoteKeyHash(std::string_view name, const PublicKey& key) {
  crypto::InitCrypto();
  Hash h = crypto::Sha256({name, "\n", std::string_view(&kEd25519Type, 1), crypto::AsView(key)});
  return ReadBigEndian32(crypto::AsView(h));
}

std::string FormatVerifierKey(std::string_view name, const PublicKey& key) {
  std::string typed_key = kEd25519Type + std::string(crypto::AsView(key));
  return KeyId(name, NoteKeyHash(name, key)) + "+" + Base64Encode(typed_key);
}

Result<NoteVerifier> ParseVerifierKey(std::string_view vkey) {
  auto bad = [&](const char* what) {
    return Status(Code::kInvalidArgument,
                  "bad verifier key \"" + std::string(vkey) + "\": " + what);
  };
  // name+hash+key; the name holds no '+' but the base64 key may.
  std::size_t plus1 = vkey.find('+');
  std::size_t plus2 = plus1 == std::string_view::npos ? plus1 : vkey.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) return bad("want <name>+<hash>+<key>");
  NoteVerifier v;
  v.name = vkey.substr(0, plus1);
  if (!IsValidKeyName(v.name)) return bad("invalid key name");
  std::array<std::uint8_t, 4> hash;
  if (!FromHex(vkey.substr(plus1 + 1, plus2 - plus1 - 1), &hash)) {
    return bad("key hash is not 8 hex digits");
  }
  v.key_hash = ReadBigEndian32({reinterpret_cast<const char*>(hash.data()), hash.size()});
  std::string typed_key;
  if (!Base64Decode(vkey.substr(plus2 + 1), &typed_key) || typed_key.size() != 33) {
    return bad("key is not base64 of 33 bytes");
  }
  if (typed_key[0] != kEd25519Type) return bad("not an Ed25519 key");
  std::memcpy(v.key.data(), typed_key.data() + 1, v.key.size());
  if (v.key_hash != NoteKeyHash(v.name, v.key)) return bad("key hash does not match the key");
  return v;
}

bool SameVerifierKey(std::string_view a, std::string_view b) {
  auto x = ParseVerifierKey(a), y = ParseVerifierKey(b);
  return x.ok() && y.ok() && x->name == y->name && x->key == y->key;
}

std::string SignNote(std::string_view text, std::string_view name, const SigningKey& key) {
  // Preconditions of the header; the note would not open otherwise.
  assert(!text.empty() && text.back() == '\n' && IsValidNoteText(text));
  assert(IsValidKeyName(name));
  return std::string(text) + "\n" + SignatureLine(text, name, key);
}

Result<std::string> AddNoteSignature(std::string_view note, std::string_view name,
                                     const SigningKey& key) {
  if (!IsValidKeyName(name)) {
    return Status(Code::kInvalidArgument, "invalid key name \"" + std::string(name) + "\"");
  }
  Result<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  std::uint32_t hash = NoteKeyHash(name, key.public_key());
  std::string out = std::string(parsed->text) + "\n";
  std::size_t kept = 0;
  for (const NoteSignature& sig : parsed->sigs) {
    if (sig.name == name && sig.key_hash == hash) continue;  // re-signing replaces, as in Go
    out += sig.line;
    ++kept;
  }
  if (kept == kMaxSignatures) return Status(Code::kInvalidArgument, "note has too many signatures");
  return out + SignatureLine(parsed->text, name, key);
}

Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier) {
  if (verifier.key_hash != NoteKeyHash(verifier.name, verifier.key)) {
    return Status(Code::kInvalidArgument, "verifier key hash does not match its name and key");
  }
  Result<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  bool verified = false;
  for (const NoteSignature& sig : parsed->sigs) {
    // Lines by other keys are ignored, even when they share the name or the hash.
    if (sig.name != verifier.name || sig.key_hash != verifier.key_hash) continue;
    SignatureBytes bytes{};
    bool ok = sig.sig.size() == bytes.size();
    if (ok) std::memcpy(bytes.data(), sig.sig.data(), bytes.size());
    if (!ok || !VerifySignature(verifier.key, parsed->text, bytes)) {
      return Status(Code::kBadSignature,
                    "signature by " + KeyId(verifier.name, verifier.key_hash) + " does not verify");
    }
    verified = true;
  }
  if (!verified) {
    return Status(Code::kMissingSignature,
                  "note has no signature by " + KeyId(verifier.name, verifier.key_hash));
  }
  return std::string(parsed->text);
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier) {
  Result<std::string> text = OpenNote(note, verifier);
  if (!text.ok()) return text.status();
  Result<Checkpoint> cp = ParseCheckpointBody(*text);
  if (!cp.ok()) return cp;
  if (cp->origin != verifier.name) {
    return Status(Code::kWrongDistrict,
                  "checkpoint is for log \"" + cp->origin + "\", not \"" + verifier.name + "\"");
  }
  return cp;
}

}  // namespace ledger

namespace ledger {

namespace {

constexpr char kCosignatureType = 0x04;

std::string BigEndian64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
  return out;
}

std::uint64_t ReadBigEndian64(std::string_view b) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(b[i]);
  return v;
}

}  // namespace

std::uint32_t CosignatureKeyId(std::string_view name, const PublicKey& key) {
  crypto::InitCrypto();
  Hash h =
      crypto::Sha256({name, "\n", std::string_view(&kCosignatureType, 1), crypto::AsView(key)});
  return ReadBigEndian32(crypto::AsView(h));
}

std::string CosignatureMessage(std::string_view checkpoint_body, std::uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(checkpoint_body);
}

Result<std::string> AddCosignature(std::string_view note, std::string_view name,
                                   const SigningKey& key, std::uint64_t timestamp) {
  if (!IsValidKeyName(name))
    return Status(Code::kInvalidArgument, "invalid cosigner name \"" + std::string(name) + "\"");
  if (timestamp > static_cast<std::uint64_t>(INT64_MAX))
    return Status(Code::kInvalidArgument, "cosignature timestamp beyond 2^63-1");
  Result<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  if (auto cp = ParseCheckpointBody(parsed->text); !cp.ok()) return cp.status();
  const std::uint32_t id = CosignatureKeyId(name, key.public_key());
  std::string out = std::string(parsed->text) + "\n";
  std::size_t kept = 0;
  for (const NoteSignature& sig : parsed->sigs) {
    if (sig.name == name && sig.key_hash == id) continue;  // a newer cosignature replaces
    out += sig.line;
    ++kept;
  }
  if (kept == kMaxSignatures) return Status(Code::kInvalidArgument, "note has too many signatures");
  const SignatureBytes sig = key.Sign(CosignatureMessage(parsed->text, timestamp));
  std::string blob = BigEndian32(id) + BigEndian64(timestamp);
  blob.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return out + std::string(kSigPrefix) + std::string(name) + " " + Base64Encode(blob) + "\n";
}

Result<std::uint64_t> VerifyCosignature(std::string_view note, std::string_view name,
                                        const PublicKey& key) {
  Result<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  const std::uint32_t id = CosignatureKeyId(name, key);
  for (const NoteSignature& sig : parsed->sigs) {
    if (sig.name != name || sig.key_hash != id) continue;
    SignatureBytes bytes{};
    if (sig.sig.size() != 8 + bytes.size())
      return Status(Code::kBadSignature, "cosignature of " + std::string(name) + " has a bad size");
    const std::uint64_t timestamp = ReadBigEndian64(sig.sig);
    std::memcpy(bytes.data(), sig.sig.data() + 8, bytes.size());
    if (timestamp > static_cast<std::uint64_t>(INT64_MAX) ||
        !VerifySignature(key, CosignatureMessage(parsed->text, timestamp), bytes))
      return Status(Code::kBadSignature,
                    "cosignature of " + std::string(name) + " does not verify");
    return timestamp;
  }
  return Status(Code::kNotFound, "no cosignature of " + std::string(name) + " on this note");
}

}  // namespace ledger
