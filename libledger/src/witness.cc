#include "ledger/witness.h"

#include <fmt/format.h>

namespace ledger {

Result<Witness> Witness::Create(std::string_view verifier_key, std::string_view latest) {
  auto v = ParseVerifierKey(verifier_key);
  if (!v.ok()) return v.status();
  Witness w;
  w.verifier_ = *v;
  if (!latest.empty()) {
    auto cp = OpenCheckpoint(latest, w.verifier_);
    if (!cp.ok())
      return Status(Code::kInvalidArgument,
                    "the stored checkpoint does not verify: " + cp.status().ToString());
    w.latest_ = std::string(latest);
    w.checkpoint_ = *cp;
  }
  return w;
}

Status Witness::Observe(std::string_view note, const ConsistencyProof& proof) {
  auto cp = OpenCheckpoint(note, verifier_);
  if (!cp.ok()) return cp.status();
  if (latest_.empty()) {
    latest_ = std::string(note);
    checkpoint_ = *cp;
    return Status::Ok();
  }
  const Checkpoint& old = checkpoint_;
  if (cp->size == old.size) {
    if (cp->root == old.root) return Status::Ok();
    evidence_.emplace_back(latest_, std::string(note));
    return Status(Code::kEquivocation,
                  fmt::format("{} signed two different trees of size {}", old.origin, old.size));
  }
  // Whichever is smaller must be a prefix of the other.
  const bool grows = cp->size > old.size;
  const Checkpoint& small = grows ? old : *cp;
  const Checkpoint& large = grows ? *cp : old;
  if (proof.old_size != small.size || proof.new_size != large.size)
    return Status(Code::kInvalidArgument,
                  fmt::format("the proof links sizes {} -> {}, not {} -> {}", proof.old_size,
                              proof.new_size, small.size, large.size));
  if (Status s = VerifyConsistency(proof, small.root, large.root); !s.ok())
    return Status(Code::kCorruption,
                  fmt::format("no consistency between {}'s trees of size {} and {}: {}", old.origin,
                              small.size, large.size, s.message()));
  if (grows) {
    latest_ = std::string(note);
    checkpoint_ = *cp;
  }
  return Status::Ok();
}

Result<std::string> Witness::Cosign(std::string_view name, const SigningKey& key,
                                    std::uint64_t timestamp) const {
  if (latest_.empty()) return Status(Code::kNotFound, "no checkpoint accepted yet");
  return AddCosignature(latest_, name, key, timestamp);
}

}  // namespace ledger
