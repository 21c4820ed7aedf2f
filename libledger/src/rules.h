// rules.h — the Rules of one entry (internal to engine.cc and rules_*.cc).
//
// engine.cc holds the rules of a single district's log; rules_redeem.cc spending
// (redemptions and holds); rules_pool.cc the pool's queues; rules_federation.cc the rules
// that cross district lines (transit credits, sync). See engine.h for the contract.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "engine.h"
#include "entry.pb.h"
#include "keyspace.h"
#include "state.pb.h"

namespace ledger {
namespace pb = timebank::v1;
namespace st = timebank::state;

enum AccountKindState : std::uint32_t { kPersonAcct = 0, kGroupAcct = 1, kSystemAcct = 2 };
enum HoldStatus : std::uint32_t { kOpen = 0, kPosted = 1, kVoided = 2, kExpired = 3 };

inline std::uint32_t RoleBit(Role r) {
  return 1u << static_cast<int>(r);
}

// Days since 1970-01-01 -> civil year (H. Hinnant's algorithm).
inline int YearOfDay(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

inline std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

template <typename Msg>
std::string Serialize(const Msg& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

inline Status Err(Code code, std::string message) {
  return Status(code, std::move(message));
}

struct RuleCache {
  std::string info_bytes;
  st::LogInfo info;
  std::string policy_bytes;
  Policy policy;
};

// Validation and state changes of one entry, over a scratch overlay.
class Rules {
 public:
  Rules(const DecodedEntry& e, const ApplyContext& ctx, Overlay* scratch, RuleCache* cache)
      : e_(e), ctx_(ctx), s_(scratch), cache_(cache) {}

  Result<Applied> Run();

 private:
  // State access.
  template <typename Msg>
  Result<bool> Load(const std::string& key, Msg* out);
  template <typename Msg>
  void Store(const std::string& key, const Msg& m) {
    s_->Put(key, Serialize(m));
  }

  Status CheckSigner(Role role, bool log_key_allowed = false);
  Status CheckOwnerSigned(const st::Account& a, std::string_view account);
  Result<st::Account> LocalAccount(const std::string& account, std::string_view what);
  // Moves `delta` on `account` (refusing overdrafts). A zero move is skipped unless
  // `record_zero`: then the entry still joins the account's history.
  // `loaded`: the account's record as the caller already read (and maybe changed) it;
  // saves reading it again (the record is stored once, here).
  Status Post(const std::string& account, Minutes delta, bool record_zero = false,
              st::Account* loaded = nullptr);
  Status CheckMinutes(Minutes m, std::string_view what) const;
  int LocalYear() const;
  std::int64_t LocalDay() const;
  // Credits `amount` to a person/group `account`; above the policy's balance cap the rest
  // overflows to the pool. Postings only; the caller balances the source.
  Status CreditWithCap(const std::string& account, Minutes amount, st::Account* loaded = nullptr);
  Status CheckRedeemer(const st::Account& a, std::string_view account, Minutes minutes);
  // A redemption's service: empty or in the catalogue; where: empty or a district code.
  Status CheckBeneficiary(const Deposit& d);
  // A deposit's credit at its service's rate, once its form is checked (catalogue,
  // amount, volunteer's number, time, beneficiary).
  Result<Minutes> DepositCredit(const Deposit& d);
  // Age and daily cap of a volunteer homed here, then the credit (balance cap applies).
  Status CreditHomeVolunteer(const Deposit& d, Minutes credit);
  Status CheckService(const std::string& category, const std::string& serving_district) const;
  Status ValidatePolicy(const Policy& p) const;
  // With a city list in the policy, another district an entry names must be in it
  // (not_in_city); `what` says which field named it.
  Status CheckInCity(const std::string& district, std::string_view what) const;
  // The verifier key the policy's city list gives `district` (nullptr: not listed).
  const std::string* CityKey(const std::string& district) const;

  Status Apply(const Genesis& g);
  Status Apply(const Grant& g);
  Status Apply(const Revoke& r);
  Status Apply(const Policy& p);
  Status Apply(const Open& o);
  Status Apply(const Deposit& d);
  Status Apply(const Redeem& r);
  Status Apply(const Hold& h);
  Status Apply(const HoldPost& p);
  Status Apply(const HoldVoid& v);
  Status Apply(const HoldExpire& x);
  Status Apply(const Transfer& t);
  Status Apply(const Reverse& r);
  Status Apply(const Sync& y);
  Status Apply(const Migrate& m);
  Status Apply(const Claim& c);
  Status Apply(const PoolRequest& r);
  // Federation (rules_federation.cc).
  // The district that holds `account` (a well-formed number) now: this one when it is
  // registered here and has not moved; the one it moved to; else the one its number names.
  Result<std::string> HomeOf(const std::string& account);
  // A credit for an account homed in district `to`: `minutes` leave for it through this
  // district's interdistrict account (the caller posts the source). `migrated`: the
  // account's record, when the credit is a migrate's balance.
  Status CreditAway(const std::string& account, Minutes minutes, Minutes served,
                    const std::string& to, const st::Account* migrated = nullptr);
  // A sync's form, signer and root against the copy of the peer's log; *state: the
  // peer's sync state so far.
  Status CheckSync(const Sync& y, st::SyncState* state);
  // The peer's operator key changes in its entries [from, to).
  Status CopyPeerOperators(const std::string& peer, std::uint64_t from, std::uint64_t to);
  // The credits for this district's accounts in the peer's entries [from, y.size): taken,
  // or parked (adds to *parked) for accounts not registered here.
  Status TakeSyncCredits(const Sync& y, std::uint64_t from, Minutes* parked);
  // A sync's credits for `account` from a peer (its new home's share of a migrate first
  // registers it here). Adds to *received what this log takes from the peer.
  Status TakeCredit(const std::string& account, Minutes minutes, Minutes served, Minutes* received,
                    Minutes* parked);
  // Records that a hold served by another district was made or ended here (peers copy
  // the open ones: they may claim them offline).
  void RecordHoldEvent(const EntryId& id, const st::Hold& hold, bool closed);
  // At a sync of `peer`: copies the holds it set aside for this district (its hold
  // events), and settles the claims it made against this district's holds.
  Status CopySetAsides(const std::string& peer, std::uint64_t from, std::uint64_t to);
  Status SettleClaims(const std::string& peer, std::uint64_t from, std::uint64_t to,
                      st::SyncState* state);
  // Registers an account that moved here, from its old home `from`'s migrate credit.
  Status ArriveFrom(const std::string& from, const TransitCredit& c);
  // Whether the entry at `index` wrote a transit credit.
  Result<bool> WroteTransit(std::uint64_t index);
  // Records who may now sign for this district, for peers to read at their syncs.
  void RecordKeyChange(const PublicKey& key, std::uint32_t roles, bool revoked);
  // A redeemer of this district — or, for a redemption served by peer `serving`, a
  // redeemer of that peer as of this log's latest sync of it (redeeming away, §5).
  Status CheckRedeemerOf(const std::string& serving);
  // The pool request queues (one per need level): load, append, take out.
  Result<st::PoolQueue> LoadQueue();
  Status Enqueue(const EntryId& id, st::PoolRequest req);
  Status Dequeue(const EntryId& id, st::PoolRequest* req);
  // A pool grant's request: open, for this elder, at most what was asked, and — under
  // pool_in_order — the first in line. Takes it out of its queue.
  Status AnswerRequest(const Transfer& t);
  Result<st::Hold> OpenHold(const EntryId& id);

  std::string Sys(SystemAccount which) const { return SystemAccountId(info_->district(), which); }

  Status LoadFacts(bool* has_genesis);
  // Adds the entry's postings to its day's clearing figures.
  Status CountForClearing();

  const DecodedEntry& e_;
  const ApplyContext& ctx_;
  Overlay* s_;
  RuleCache* cache_;
  const st::LogInfo* info_ = nullptr;  // valid once LoadFacts found the genesis
  const Policy* policy_ = nullptr;
  std::vector<Posting> postings_;
  Minutes served_ = 0;
  std::string served_by_;
  std::uint32_t transits_ = 0;     // transit credits this entry wrote so far
  std::uint32_t hold_events_ = 0;  // hold events this entry recorded so far
  std::string redeemed_in_;        // a redemption's serving district ("" = here)
};

template <typename Msg>
Result<bool> Rules::Load(const std::string& key, Msg* out) {
  auto v = s_->Read(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return false;
  if (!out->ParseFromString(**v))
    return Err(Code::kCorruption,
               fmt::format("state record '{}' does not parse", key.substr(0, 2)));
  return true;
}

}  // namespace ledger
