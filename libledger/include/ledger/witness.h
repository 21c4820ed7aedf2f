// ledger/witness.h — what one district's node keeps about another district's log.
//
// A Witness holds the largest checkpoint of a peer's log it has verified and accepts a new
// one only with a consistency proof from it (C2SP tlog-witness semantics). Two signed
// checkpoints of the same size with different roots cannot both be true: that is
// equivocation, and the witness keeps both notes as evidence. It cosigns what it accepted
// (C2SP tlog-cosignature). It needs no store: the caller persists latest() and evidence().
//
// Threading: a plain value; use from one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/keys.h"
#include "ledger/proof.h"
#include "ledger/status.h"

namespace ledger {

class Witness {
 public:
  // `verifier_key`: the peer's checkpoint verifier key ("origin+hash+key"). `latest`: a
  // note this witness accepted before (empty: none yet). kInvalidArgument for a bad key,
  // or a `latest` that does not verify with it.
  static Result<Witness> Create(std::string_view verifier_key, std::string_view latest = "");

  // Considers a new signed checkpoint of the peer. `proof` links latest() to it (an empty
  // path when there is no latest yet or the sizes are equal). On success the note becomes
  // latest() (a smaller or equal size, once checked, leaves latest() as it was).
  //   ok             accepted (or consistent with what is known)
  //   bad_signature, missing_signature, malformed_entry, wrong_district — not the peer's note
  //   invalid_argument  the proof is for other sizes
  //   corruption     the proof does not link the two trees (a bad proof, or a fork: ask
  //                  the peer itself; nothing changes)
  //   equivocation   same size, other root: both notes are kept in evidence()
  Status Observe(std::string_view note, const ConsistencyProof& proof);

  const std::string& latest() const { return latest_; }
  const Checkpoint& latest_checkpoint() const { return checkpoint_; }
  // Pairs of signed notes that contradict each other, oldest first.
  const std::vector<std::pair<std::string, std::string>>& evidence() const { return evidence_; }

  // latest() with this witness's cosignature (`name`, `key`) at `timestamp` (Unix seconds).
  // kNotFound before any checkpoint was accepted.
  Result<std::string> Cosign(std::string_view name, const SigningKey& key,
                             std::uint64_t timestamp) const;

 private:
  Witness() = default;
  NoteVerifier verifier_;
  std::string latest_;
  Checkpoint checkpoint_;
  std::vector<std::pair<std::string, std::string>> evidence_;
};

}  // namespace ledger
