// engine.h — the rules of a time-bank log: validation and state transitions (internal).
//
// The engine is the consensus-critical part: the node, every replica and every auditor
// run this same code over the same entries and reach the same state. It sees state only
// as key/value records (keyspace.h) through a StateView, so the same rules run over
// RocksDB (the ledger) and over a plain map (an audit rebuilding state from the log).
// Threading: an Engine is used by one thread at a time (the ledger's sequencer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/entry.h"
#include "ledger/federation.h"
#include "ledger/status.h"

namespace ledger {

// Read access to committed state.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // The value at `key`, std::nullopt when absent; an error only when storage fails.
  virtual Result<std::optional<std::string>> Read(const std::string& key) = 0;
};

// Writes not yet committed, layered over a reader (or over another overlay).
class Overlay : public StateReader {
 public:
  // With `cache_reads`, values read from the base are remembered: a commit group reads
  // the policy, the log facts and busy accounts once, not once per entry.
  explicit Overlay(StateReader* base, bool cache_reads = false)
      : base_(base), cache_reads_(cache_reads) {}
  Result<std::optional<std::string>> Read(const std::string& key) override;
  void Put(const std::string& key, std::string value) { writes_[key] = std::move(value); }
  // Moves this overlay's writes into `parent` (which must be the base it reads through).
  void MergeInto(Overlay* parent);
  const std::unordered_map<std::string, std::string>& writes() const { return writes_; }

 private:
  StateReader* base_;
  bool cache_reads_;
  std::unordered_map<std::string, std::string> writes_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;
};

struct Posting {
  std::string account;
  Minutes delta = 0;
  std::uint64_t prev = 0;  // 1 + index of the account's previous entry (0: none)
};

// What one accepted entry did.
struct Applied {
  std::vector<Posting> postings;  // sums to zero
  bool duplicate = false;         // the same entry was accepted before, at `index`
  std::uint64_t index = 0;        // where the entry is (the earlier index for duplicates)
};

// A hold served by another district may be claimed by it offline until the hold's expiry;
// the claim reaches the home at its next sync of that district. The home releases such a
// hold only this long after its expiry (docs/federation.md §5).
inline constexpr std::int64_t kClaimWindowSeconds = 24 * 3600;

struct ApplyContext {
  std::uint64_t index = 0;          // the log position the entry would take
  Hash leaf_hash{};                 // its RFC 6962 leaf hash
  bool admission = false;           // true for new submissions: also check the clock
  std::int64_t now = 0;             // the ledger's clock (admission only)
  std::int64_t max_clock_skew = 0;  // seconds; 0 = no check
  PeerLogs* peers = nullptr;        // other districts' logs, for sync entries (may be null)
};

struct RuleCache;

// Applies entries one after another. Keeps the decoded log facts and policy between
// entries while their stored bytes are unchanged, so a busy log decodes them rarely.
class Engine {
 public:
  Engine();
  ~Engine();
  // Validates `entry` against `state` and, when it is valid, writes its state changes
  // into `state`. On error nothing is written. Signatures must already have been
  // verified (DecodeAndVerifyEntry); this checks who signed, and every rule.
  Result<Applied> Apply(const DecodedEntry& entry, const ApplyContext& ctx, Overlay* state);

 private:
  std::unique_ptr<RuleCache> cache_;
};

}  // namespace ledger
