// The rules that cross district lines (docs/federation.md §2, §4): credits written here
// for other districts' accounts, and the sync entries that bring other districts'
// credits for this district's accounts into this log.
#include <map>

#include "rules.h"

namespace ledger {

namespace {

// The most of a peer's log one sync may cover: its effect is applied as one entry.
constexpr std::uint64_t kMaxSyncSpan = 1u << 20;

}  // namespace

bool Rules::Away(const std::string& account) const {
  auto d = ParseAccountDistrict(account);
  return d.ok() && *d != info_->district();
}

Status Rules::CreditAway(const std::string& account, Minutes minutes, Minutes served) {
  st::Transit t;
  t.set_account(account);
  t.set_minutes(minutes);
  t.set_served(served);
  Store(keys::Transit(ctx_.index), t);
  return Post(Sys(SystemAccount::kInterdistrict), minutes);
}

Result<bool> Rules::WroteTransit(std::uint64_t index) {
  auto v = s_->Read(keys::Transit(index));
  if (!v.ok()) return v.status();
  return v->has_value();
}

void Rules::RecordKeyChange(const PublicKey& key, std::uint32_t roles, bool revoked) {
  st::KeyChange k;
  k.set_key(std::string(keys::View(key)));
  k.set_roles(roles);
  k.set_revoked(revoked);
  Store(keys::KeyChange(ctx_.index), k);
}

Status Rules::CheckRedeemerOf(const std::string& serving) {
  Status local = CheckSigner(Role::kRedeemer);
  if (local.ok() || serving.empty() || serving == info_->district() ||
      local.code() != Code::kUnknownKey)
    return local;
  const PublicKey& k = e_.signatures.front().key;
  st::Operator op;
  auto found = Load(keys::PeerOperator(serving, k), &op);
  if (!found.ok()) return found.status();
  auto who = [&] { return ToHex(k).substr(0, 16); };
  if (!*found || op.revoked())
    return Err(Code::kUnknownKey,
               fmt::format("key {}… is neither an operator here nor, as of this log's latest sync "
                           "of district {}, one of {}'s",
                           who(), serving, serving));
  if (!(op.roles() & RoleBit(Role::kRedeemer)))
    return Err(Code::kUnauthorized,
               fmt::format("operator {}… of district {} lacks the redeemer role", who(), serving));
  return Status::Ok();
}

Status Rules::Apply(const Sync& y) {
  const std::string_view signer = keys::View(e_.signatures.front().key);
  if (signer != info_->log_key() && signer != info_->root_key())
    return Err(Code::kUnauthorized,
               "a sync is signed by the district's log key (or its root key), which vouch for "
               "the peer's log having been verified");
  if (!IsDistrictCode(y.district) || y.district == info_->district())
    return Err(
        Code::kMalformedEntry,
        fmt::format("a sync names another district by its 6-digit code, not '{}'", y.district));
  st::SyncState state;
  auto found = Load(keys::SyncOf(y.district), &state);
  if (!found.ok()) return found.status();
  if (y.size <= state.size())
    return Err(Code::kSyncNotForward,
               fmt::format("district {} is already synced to size {}; a sync to {} adds nothing",
                           y.district, state.size(), y.size));
  if (y.size - state.size() > kMaxSyncSpan)
    return Err(Code::kInvalidArgument,
               fmt::format("a sync covers at most {} entries of the peer's log; this one {}",
                           kMaxSyncSpan, y.size - state.size()));
  if (!ctx_.peers)
    return Err(Code::kUnknownPeer,
               fmt::format("no copy of district {}'s log is available here", y.district));
  auto root = ctx_.peers->RootAt(y.district, y.size);
  if (!root.ok()) return root.status();
  if (*root != y.root)
    return Err(
        Code::kSyncRootMismatch,
        fmt::format("district {}'s tree of size {} has root {}, not the sync's {}", y.district,
                    y.size, ToHex(*root).substr(0, 16), ToHex(y.root).substr(0, 16)));
  auto credits = ctx_.peers->TransitCredits(y.district, state.size(), y.size);
  if (!credits.ok()) return credits.status();
  // Who may sign for the peer, as of this sync: its redeemers may serve this district's
  // accounts there (holds forwarded to this log).
  auto changes = ctx_.peers->KeyChanges(y.district, state.size(), y.size);
  if (!changes.ok()) return changes.status();
  for (const KeyChange& c : *changes) {
    st::Operator op;
    op.set_roles(c.roles);
    op.set_revoked(c.revoked);
    Store(keys::PeerOperator(y.district, c.key), op);
  }
  // Credits for this district's accounts, summed per account (a sync posts to each once,
  // in account order); credits for other districts' accounts are theirs to sync.
  struct Sum {
    Minutes minutes = 0, served = 0;
  };
  std::map<std::string, Sum> mine;
  for (const TransitCredit& c : *credits) {
    auto d = ParseAccountDistrict(c.account);
    if (!d.ok() || *d != info_->district() || IsSystemAccount(c.account)) continue;
    Sum& s = mine[c.account];
    s.minutes += c.minutes;
    s.served += c.served;
  }
  Minutes received = 0, parked = 0;
  for (auto& [account, sum] : mine) {
    st::Account a;
    auto has = Load(keys::Account(account), &a);
    if (!has.ok()) return has.status();
    if (!*has) {  // not registered here: stays in the peer's interdistrict, reported
      parked += sum.minutes;
      continue;
    }
    a.set_served(a.served() + sum.served);
    received += sum.minutes;
    if (Status s = CreditWithCap(account, sum.minutes, &a); !s.ok()) return s;
  }
  if (received > 0)
    if (Status s = Post(Sys(SystemAccount::kInterdistrict), -received); !s.ok()) return s;
  state.set_size(y.size);
  state.set_root(std::string(keys::View(y.root)));
  state.set_parked(state.parked() + parked);
  Store(keys::SyncOf(y.district), state);
  return Status::Ok();
}

}  // namespace ledger
