// ledger/federation.h — what one district's log needs to know of the others' logs.
//
// A credit written in district X's log for an account homed in H crosses to H when H's
// log records sync(X, size, root) past it (docs/federation.md). To apply that sync, H's
// rules — and every replica and auditor of H's log — read X's log through PeerLogs: the
// root of X's tree at `size`, and the credits X wrote for other districts' accounts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

// A credit written in one district's log for an account of another district.
struct TransitCredit {
  std::uint64_t index = 0;  // the entry that wrote it
  std::string account;      // the credited account (its number names its home)
  Minutes minutes = 0;
  Minutes served = 0;  // minutes of service behind it (deposits), for the home's records
  // The district it goes to: the one in the account's number, or — for an account that
  // moved home (docs/federation.md §7) — the district its old home sends it on to.
  std::string to_district;
  // A migrate: the account's record as its old home kept it, for the new home (the
  // library's internal encoding); empty for every other credit.
  std::string migrated;
};

// A change of who may sign for a district: its root key, a grant or a revoke.
struct KeyChange {
  std::uint64_t index = 0;  // the entry that made it
  PublicKey key{};
  std::uint32_t roles = 0;  // bit (1 << Role); the root key has every bit
  bool revoked = false;
};

// A hold this log made for care given in another district, or the end of one (posted,
// voided, expired, or settled by that district's claim). The serving district copies the
// open ones at its syncs of this log: it may claim them offline (docs/federation.md §5).
struct HoldEvent {
  std::uint64_t index = 0;  // the entry that made or ended it
  EntryId hold_id{};
  std::string account;
  Minutes minutes = 0;
  std::int64_t expires_at = 0;
  std::string serving_district;
  bool closed = false;  // false: the hold was made; true: it ended
};

// Care this log's district gave offline against a hold another district set aside for it.
struct ClaimEvent {
  std::uint64_t index = 0;  // the claim entry
  std::string home;         // the district holding the hold
  EntryId hold_id{};
  Minutes minutes = 0;
};

// A hold another district set aside for care in this one, as this log knows it (from its
// latest sync of that district): what this district may claim offline.
struct SetAsideInfo {
  std::string home;  // the district holding it
  EntryId hold_id{};
  std::string account;
  Minutes minutes = 0;
  std::int64_t expires_at = 0;
  Minutes claimed = 0;  // claimed here already (0: not yet)
  bool closed = false;  // ended at the home
};

class Ledger;

// Read access to other districts' logs, as verified copies.
// Threading: called from the appending ledger's sequencer; implementations must be safe
// to call from any thread.
class PeerLogs {
 public:
  virtual ~PeerLogs() = default;
  // The root of `district`'s tree at `size`. kUnknownPeer when no copy of that log is here
  // or the copy is shorter than `size`.
  virtual Result<Hash> RootAt(const std::string& district, std::uint64_t size) = 0;
  // The transit credits `district`'s log wrote at positions [from, to), in log order.
  // kUnknownPeer as for RootAt.
  virtual Result<std::vector<TransitCredit>> TransitCredits(const std::string& district,
                                                            std::uint64_t from,
                                                            std::uint64_t to) = 0;
  // The key changes `district`'s log made at positions [from, to), in log order.
  virtual Result<std::vector<KeyChange>> KeyChanges(const std::string& district, std::uint64_t from,
                                                    std::uint64_t to) = 0;
  // The hold events and the claims `district`'s log recorded at positions [from, to).
  virtual Result<std::vector<HoldEvent>> HoldEvents(const std::string& district, std::uint64_t from,
                                                    std::uint64_t to) = 0;
  virtual Result<std::vector<ClaimEvent>> Claims(const std::string& district, std::uint64_t from,
                                                 std::uint64_t to) = 0;
  // The verifier key the copy of `district`'s log is verified with (kUnknownPeer: none).
  virtual Result<std::string> VerifierKey(const std::string& district) = 0;
};

// PeerLogs over open ledgers (replicas of other districts, and the own log, whose syncs
// other districts' logs refer to). Ledgers may be added while in use. It keeps weak
// references: a ledger whose Options.peers is this set can be in it without a cycle.
class LedgerPeers : public PeerLogs {
 public:
  void Add(const std::string& district, std::weak_ptr<Ledger> ledger);
  std::shared_ptr<Ledger> Get(const std::string& district) const;
  Result<Hash> RootAt(const std::string& district, std::uint64_t size) override;
  Result<std::vector<TransitCredit>> TransitCredits(const std::string& district, std::uint64_t from,
                                                    std::uint64_t to) override;
  Result<std::vector<KeyChange>> KeyChanges(const std::string& district, std::uint64_t from,
                                            std::uint64_t to) override;
  Result<std::vector<HoldEvent>> HoldEvents(const std::string& district, std::uint64_t from,
                                            std::uint64_t to) override;
  Result<std::vector<ClaimEvent>> Claims(const std::string& district, std::uint64_t from,
                                         std::uint64_t to) override;
  Result<std::string> VerifierKey(const std::string& district) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::weak_ptr<Ledger>> ledgers_;  // GUARDED_BY(mu_)
};

}  // namespace ledger
