// ledger/checkpoint.h — signed tree heads as C2SP signed notes.
//
// Formats followed exactly, so that existing transparency-log tools can verify our logs:
//   C2SP signed-note     https://c2sp.org/signed-note   (Ed25519 signature type 0x01)
//   C2SP tlog-checkpoint https://c2sp.org/tlog-checkpoint
// Threading: free functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/keys.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

// The body of a checkpoint: "<origin>\n<size>\n<base64 root>\n" + extension lines.
struct Checkpoint {
  std::string origin;  // unique name of the log, e.g. "timebank.cd.gov.cn/510104"
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // optional extra lines (without '\n')
};

std::string FormatCheckpointBody(const Checkpoint& cp);
// Errors: kMalformedEntry with what is wrong (missing lines, bad number, bad base64...).
Result<Checkpoint> ParseCheckpointBody(std::string_view body);

// A signed-note verifier: key name, 4-byte key hash and the Ed25519 public key.
struct NoteVerifier {
  std::string name;
  std::uint32_t key_hash = 0;
  PublicKey key{};
};

// key hash = first 4 bytes (big-endian) of SHA-256(name || "\n" || 0x01 || public key).
std::uint32_t NoteKeyHash(std::string_view name, const PublicKey& key);
// The standard verifier key string "<name>+<8 hex key hash>+<base64(0x01 || key)>".
std::string FormatVerifierKey(std::string_view name, const PublicKey& key);
Result<NoteVerifier> ParseVerifierKey(std::string_view vkey);
// Whether two verifier key strings name the same signer (name and public key); false when
// either does not parse. Their text may differ (the key hash's hex case).
bool SameVerifierKey(std::string_view a, std::string_view b);

// Signs `text` (which must end in '\n') as a note: text + "\n" + "— <name>
// <base64(keyhash||sig)>\n".
std::string SignNote(std::string_view text, std::string_view name, const SigningKey& key);
// Adds one more signature line to an already signed note (e.g. a cosigner's).
Result<std::string> AddNoteSignature(std::string_view note, std::string_view name,
                                     const SigningKey& key);

// Verifies that `note` carries a valid signature by `verifier` and returns the note text
// (everything before the blank line). Unknown signers' lines are ignored, as the spec says.
// Errors: kMalformedEntry (not a note), kMissingSignature (no line by this key),
// kBadSignature (a line by this key that does not verify).
Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);

// OpenNote + ParseCheckpointBody + origin == verifier.name.
Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier);

// --- C2SP tlog-cosignature/v1 (Ed25519) ------------------------------------------------
// A witness (another district's node) states that, as of `timestamp` (Unix seconds), the
// checkpoint is the largest consistent tree it has seen of that log. Its line in the note is
// "— <name> base64(key ID || be64(timestamp) || signature)", the signature over
// "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.

// SHA-256(name || "\n" || 0x04 || key)[:4], as a big-endian number.
std::uint32_t CosignatureKeyId(std::string_view name, const PublicKey& key);
// The message a cosigner signs.
std::string CosignatureMessage(std::string_view checkpoint_body, std::uint64_t timestamp);
// Adds (or replaces) the cosignature of `name` to a signed checkpoint note. The note's
// body must be a checkpoint (kMalformedEntry otherwise); the note's own signatures are kept.
Result<std::string> AddCosignature(std::string_view note, std::string_view name,
                                   const SigningKey& key, std::uint64_t timestamp);
// The timestamp of the cosignature by (`name`, `key`) on the note, once its signature checks
// out. kNotFound when the note has no line of that cosigner; kBadSignature when the line
// does not verify.
Result<std::uint64_t> VerifyCosignature(std::string_view note, std::string_view name,
                                        const PublicKey& key);

}  // namespace ledger
