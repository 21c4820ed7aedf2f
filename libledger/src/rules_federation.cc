// The rules that cross district lines (docs/federation.md §2, §4): credits written here
// for other districts' accounts, and the sync entries that bring other districts'
// credits for this district's accounts into this log.
#include <algorithm>
#include <map>

#include "ledger/checkpoint.h"
#include "rules.h"

namespace ledger {

namespace {

// The most of a peer's log one sync may cover: its effect is applied as one entry.
constexpr std::uint64_t kMaxSyncSpan = 1u << 20;

}  // namespace

Result<std::string> Rules::HomeOf(const std::string& account) {
  auto d = ParseAccountDistrict(account);
  if (!d.ok()) return Err(Code::kBadAccountNumber, d.status().message());
  // Most deposits for other districts' volunteers: no record here unless one arrived.
  if (*d != info_->district() && info_->has_arrivals() && info_->arrivals() == 0) return *d;
  st::Account a;
  auto found = Load(keys::Account(account), &a);
  if (!found.ok()) return found.status();
  if (*found) return a.moved_to().empty() ? info_->district() : a.moved_to();
  return *d;
}

Status Rules::CreditAway(const std::string& account, Minutes minutes, Minutes served,
                         const std::string& to, const st::Account* migrated) {
  st::Transit t;
  t.set_account(account);
  t.set_minutes(minutes);
  t.set_served(served);
  if (auto d = ParseAccountDistrict(account); !d.ok() || *d != to) t.set_to_district(to);
  if (migrated) *t.mutable_migrated() = *migrated;
  Store(keys::Transit(ctx_.index, transits_++), t);
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
  st::SyncState state;
  if (Status s = CheckSync(y, &state); !s.ok()) return s;
  if (Status s = CopyPeerOperators(y.district, state.size(), y.size); !s.ok()) return s;
  Minutes parked = 0;
  if (Status s = TakeSyncCredits(y, state.size(), &parked); !s.ok()) return s;
  if (Status s = CopySetAsides(y.district, state.size(), y.size); !s.ok()) return s;
  if (Status s = SettleClaims(y.district, state.size(), y.size, &state); !s.ok()) return s;
  state.set_size(y.size);
  state.set_root(std::string(keys::View(y.root)));
  state.set_parked(state.parked() + parked);
  Store(keys::SyncOf(y.district), state);
  return Status::Ok();
}

Status Rules::CheckSync(const Sync& y, st::SyncState* state) {
  const std::string_view signer = keys::View(e_.signatures.front().key);
  if (signer != info_->log_key() && signer != info_->root_key())
    return Err(Code::kUnauthorized,
               "a sync is signed by the district's log key (or its root key), which vouch for "
               "the peer's log having been verified");
  if (!IsDistrictCode(y.district) || y.district == info_->district())
    return Err(
        Code::kMalformedEntry,
        fmt::format("a sync names another district by its 6-digit code, not '{}'", y.district));
  if (Status s = CheckInCity(y.district, "a sync"); !s.ok()) return s;
  auto found = Load(keys::SyncOf(y.district), state);
  if (!found.ok()) return found.status();
  if (y.size <= state->size())
    return Err(Code::kSyncNotForward,
               fmt::format("district {} is already synced to size {}; a sync to {} adds nothing",
                           y.district, state->size(), y.size));
  if (y.size - state->size() > kMaxSyncSpan)
    return Err(Code::kInvalidArgument,
               fmt::format("a sync covers at most {} entries of the peer's log; this one {}",
                           kMaxSyncSpan, y.size - state->size()));
  if (!ctx_.peers)
    return Err(Code::kUnknownPeer,
               fmt::format("no copy of district {}'s log is available here", y.district));
  if (const std::string* listed = CityKey(y.district)) {
    // The city names the key this district's checkpoints are signed with; a copy verified
    // with any other key is not the log the city means.
    auto used = ctx_.peers->VerifierKey(y.district);
    if (!used.ok()) return used.status();
    if (!SameVerifierKey(*used, *listed))
      return Err(Code::kPeerKeyMismatch,
                 fmt::format("the copy of district {}'s log here is verified with {}, but the "
                             "city list of policy v{} gives {}",
                             y.district, *used, policy_->version, *listed));
  }
  auto root = ctx_.peers->RootAt(y.district, y.size);
  if (!root.ok()) return root.status();
  if (*root != y.root)
    return Err(
        Code::kSyncRootMismatch,
        fmt::format("district {}'s tree of size {} has root {}, not the sync's {}", y.district,
                    y.size, ToHex(*root).substr(0, 16), ToHex(y.root).substr(0, 16)));
  return Status::Ok();
}

Status Rules::CopyPeerOperators(const std::string& peer, std::uint64_t from, std::uint64_t to) {
  // Who may sign for the peer, as of this sync: its redeemers may serve this district's
  // accounts there (holds forwarded to this log).
  auto changes = ctx_.peers->KeyChanges(peer, from, to);
  if (!changes.ok()) return changes.status();
  for (const KeyChange& c : *changes) {
    st::Operator op;
    op.set_roles(c.roles);
    op.set_revoked(c.revoked);
    Store(keys::PeerOperator(peer, c.key), op);
  }
  return Status::Ok();
}

Status Rules::TakeSyncCredits(const Sync& y, std::uint64_t from, Minutes* parked) {
  auto credits = ctx_.peers->TransitCredits(y.district, from, y.size);
  if (!credits.ok()) return credits.status();
  // Credits for this district's accounts, summed per account (a sync posts to each once,
  // in account order); credits for other districts' accounts are theirs to sync. An
  // account that moved here is registered first, from its old home's record (§7).
  struct Sum {
    Minutes minutes = 0, served = 0;
  };
  std::map<std::string, Sum> mine;
  for (const TransitCredit& c : *credits) {
    if (c.to_district != info_->district() || IsSystemAccount(c.account)) continue;
    if (!c.migrated.empty())
      if (Status s = ArriveFrom(y.district, c); !s.ok()) return s;
    Sum& s = mine[c.account];
    s.minutes += c.minutes;
    s.served += c.served;
  }
  Minutes received = 0;
  for (auto& [account, sum] : mine)
    if (Status s = TakeCredit(account, sum.minutes, sum.served, &received, parked); !s.ok())
      return s;
  if (received > 0) return Post(Sys(SystemAccount::kInterdistrict), -received);
  return Status::Ok();
}

Status Rules::TakeCredit(const std::string& account, Minutes minutes, Minutes served,
                         Minutes* received, Minutes* parked) {
  st::Account a;
  auto has = Load(keys::Account(account), &a);
  if (!has.ok()) return has.status();
  if (!*has) {  // not registered here: stays in the peer's interdistrict, reported
    *parked += minutes;
    return Status::Ok();
  }
  *received += minutes;
  if (!a.moved_to().empty())  // moved on: this log sends it after the account
    return CreditAway(account, minutes, served, a.moved_to());
  a.set_served(a.served() + served);
  return CreditWithCap(account, minutes, &a);
}

Status Rules::ArriveFrom(const std::string& from, const TransitCredit& c) {
  st::Account moved;
  if (!moved.ParseFromString(c.migrated))
    return Err(Code::kCorruption,
               fmt::format("district {}'s migrate at {} carries no account record", from, c.index));
  st::Account a;
  auto has = Load(keys::Account(c.account), &a);
  if (!has.ok()) return has.status();
  // Here before (it moved away and now back): its history here goes on.
  const std::uint64_t last = *has ? a.last_entry() : 0;
  const std::uint64_t opened = *has ? a.opened_at() : ctx_.index;
  const Minutes balance = *has ? a.balance() : 0;
  a = std::move(moved);
  a.set_balance(balance);  // the balance arrives as the credit
  a.set_last_entry(last);
  a.set_opened_at(opened);
  a.clear_moved_to();
  a.clear_moved_at();
  Store(keys::Account(c.account), a);
  auto numbered = ParseAccountDistrict(c.account);
  if (!*has && numbered.ok() && *numbered != info_->district()) {
    // A number of another district homed here from now on: HomeOf looks such numbers up.
    st::LogInfo info;
    auto found = Load(std::string(keys::kLogInfo), &info);
    if (!found.ok()) return found.status();
    if (info.has_arrivals()) {  // (a log begun before the count: it always looks up)
      info.set_arrivals(info.arrivals() + 1);
      Store(std::string(keys::kLogInfo), info);
    }
  }
  return Status::Ok();
}

Status Rules::Apply(const Migrate& m) {
  if (Status s = CheckSigner(Role::kRegistrar); !s.ok()) return s;
  auto a = LocalAccount(m.account, "account");
  if (!a.ok()) return a.status();
  if (a->kind() == kSystemAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("system account {} cannot move", m.account));
  if (Status s = CheckOwnerSigned(*a, m.account); !s.ok()) return s;
  if (!IsDistrictCode(m.to_district) || m.to_district == info_->district())
    return Err(Code::kMalformedEntry,
               fmt::format("a migrate names another district by its 6-digit code, not '{}'",
                           m.to_district));
  // Only to a district of the city whose log is known here: a balance sent anywhere else
  // would wait in transit for ever.
  if (Status s = CheckInCity(m.to_district, "a migrate"); !s.ok()) return s;
  if (!ctx_.peers)
    return Err(Code::kUnknownPeer,
               fmt::format("no copy of district {}'s log is available here", m.to_district));
  if (auto root = ctx_.peers->RootAt(m.to_district, 1); !root.ok()) return root.status();
  // The balance leaves with the record; open holds stay and, when voided or expired,
  // release to the new home (Post sends credits after a moved account).
  st::Account record = *a;
  const Minutes balance = a->balance();
  if (Status s = Post(m.account, -balance, /*record_zero=*/true, &*a); !s.ok()) return s;
  a->set_moved_to(m.to_district);
  a->set_moved_at(ctx_.index);
  Store(keys::Account(m.account), *a);
  record.clear_last_entry();
  return CreditAway(m.account, balance, 0, m.to_district, &record);
}

// The clearing figures (§8) are kept per local day as the entries are applied, so that a
// report for any period reads a few hundred small records instead of the log.
Status Rules::CountForClearing() {
  if (postings_.empty() || !policy_) return Status::Ok();
  const std::string issuance = Sys(SystemAccount::kIssuance);
  const std::string redeemed = Sys(SystemAccount::kRedeemed);
  const std::string inter = Sys(SystemAccount::kInterdistrict);
  Minutes issued = 0, spent = 0, liability = 0;
  for (const Posting& p : postings_) {
    if (p.account == issuance)
      issued -= p.delta;
    else if (p.account == redeemed)
      spent += p.delta;
    else if (p.account != inter)
      liability += p.delta;  // people, groups, pool, held: what this district owes
  }
  if (issued == 0 && spent == 0 && liability == 0) return Status::Ok();
  const std::string key = keys::ClearingDay(LocalDay());
  st::ClearingDay day;
  if (auto found = Load(key, &day); !found.ok()) return found.status();
  day.set_issued(day.issued() + issued);
  day.set_liability_change(day.liability_change() + liability);
  if (spent != 0) {
    auto* r = day.mutable_redeemed();
    auto at = std::lower_bound(
        r->begin(), r->end(), redeemed_in_,
        [](const st::Served& s, const std::string& d) { return s.district() < d; });
    if (at == r->end() || at->district() != redeemed_in_) {
      const int pos = static_cast<int>(at - r->begin());
      r->Add()->set_district(redeemed_in_);
      for (int i = r->size() - 1; i > pos; --i) r->SwapElements(i, i - 1);
      at = r->begin() + pos;
    }
    at->set_minutes(at->minutes() + spent);
  }
  Store(key, day);
  return Status::Ok();
}

// --- Offline claims (§5) --------------------------------------------------------------------

void Rules::RecordHoldEvent(const EntryId& id, const st::Hold& hold, bool closed) {
  st::HoldEvent e;
  e.set_hold_id(std::string(keys::View(id)));
  e.set_account(hold.account());
  e.set_minutes(hold.minutes());
  e.set_expires_at(hold.expires_at());
  e.set_serving_district(hold.serving_district());
  e.set_closed(closed);
  Store(keys::HoldEvent(ctx_.index, hold_events_++), e);
}

Status Rules::CopySetAsides(const std::string& peer, std::uint64_t from, std::uint64_t to) {
  auto events = ctx_.peers->HoldEvents(peer, from, to);
  if (!events.ok()) return events.status();
  for (const HoldEvent& e : *events) {
    if (e.serving_district != info_->district()) continue;
    const std::string key = keys::SetAside(peer, e.hold_id);
    st::SetAside a;
    auto found = Load(key, &a);
    if (!found.ok()) return found.status();
    if (e.closed) {
      if (!*found) continue;
      a.set_closed(true);
    } else {
      a.set_account(e.account);
      a.set_minutes(e.minutes);
      a.set_expires_at(e.expires_at);
    }
    Store(key, a);
  }
  return Status::Ok();
}

Status Rules::SettleClaims(const std::string& peer, std::uint64_t from, std::uint64_t to,
                           st::SyncState* state) {
  auto claims = ctx_.peers->Claims(peer, from, to);
  if (!claims.ok()) return claims.status();
  for (const ClaimEvent& c : *claims) {
    if (c.home != info_->district()) continue;
    st::Hold hold;
    auto found = Load(keys::Hold(c.hold_id), &hold);
    if (!found.ok()) return found.status();
    // The peer checked the claim against its copy of this log as of its latest sync: the
    // hold was open, set aside for it, and held at least this much. If the hold ended here
    // since (voided, posted), the claim cannot be paid: counted for the city to settle.
    if (!*found || hold.status() != kOpen || hold.serving_district() != peer ||
        c.minutes > hold.minutes()) {
      state->set_unpaid_claims(state->unpaid_claims() + c.minutes);
      continue;
    }
    hold.set_status(kPosted);
    Store(keys::Hold(c.hold_id), hold);
    RecordHoldEvent(c.hold_id, hold, /*closed=*/true);
    redeemed_in_ = peer;
    if (Status s = Post(Sys(SystemAccount::kHeld), -hold.minutes()); !s.ok()) return s;
    if (Status s = Post(Sys(SystemAccount::kRedeemed), c.minutes); !s.ok()) return s;
    if (c.minutes < hold.minutes())  // the rest of what was set aside goes back
      if (Status s = Post(hold.account(), hold.minutes() - c.minutes); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Rules::Apply(const Claim& c) {
  if (Status s = CheckSigner(Role::kRedeemer); !s.ok()) return s;
  if (!IsDistrictCode(c.home) || c.home == info_->district())
    return Err(
        Code::kMalformedEntry,
        fmt::format("a claim names the home district by its 6-digit code, not '{}'", c.home));
  if (Status s = CheckMinutes(c.minutes, "claimed minutes"); !s.ok()) return s;
  const std::string key = keys::SetAside(c.home, c.hold_id);
  st::SetAside a;
  auto found = Load(key, &a);
  if (!found.ok()) return found.status();
  if (!*found)
    return Err(Code::kHoldNotFound,
               fmt::format("district {} set aside no hold {} for this district, as of this log's "
                           "latest sync of {}",
                           c.home, ToHex(c.hold_id), c.home));
  if (a.closed() || a.claimed() > 0)
    return Err(Code::kHoldClosed,
               fmt::format("hold {} of district {} is already {}", ToHex(c.hold_id), c.home,
                           a.claimed() > 0 ? "claimed" : "closed"));
  if (e_.body.time > a.expires_at())
    return Err(Code::kHoldExpired,
               fmt::format("hold {} expired at {}", ToHex(c.hold_id), a.expires_at()));
  if (c.minutes > a.minutes())
    return Err(Code::kInvalidAmount, fmt::format("the claim of {} is more than the {} set aside",
                                                 FormatHours(c.minutes), FormatHours(a.minutes())));
  a.set_claimed(c.minutes);
  Store(key, a);
  st::ClaimRecord r;
  r.set_home(c.home);
  r.set_hold_id(std::string(keys::View(c.hold_id)));
  r.set_minutes(c.minutes);
  Store(keys::Claim(ctx_.index), r);
  return Status::Ok();
}

}  // namespace ledger
