// The rules of a time-bank log. Every check returns its own Code and a message that
// says what was wrong in the words of the field; nothing is written unless all pass.
#include "engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "codec.h"
#include "ledger/checkpoint.h"
#include "rules.h"

namespace ledger {

Result<std::optional<std::string>> Overlay::Read(const std::string& key) {
  if (auto it = writes_.find(key); it != writes_.end())
    return std::optional<std::string>(it->second);
  if (!cache_reads_) return base_->Read(key);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  auto v = base_->Read(key);
  if (v.ok()) cache_.emplace(key, *v);
  return v;
}

void Overlay::MergeInto(Overlay* parent) {
  for (auto& [k, v] : writes_) parent->writes_[k] = std::move(v);
  writes_.clear();
}

Result<Applied> Rules::Run() {
  const EntryBody& b = e_.body;
  // Idempotency first: a repeat of an accepted entry returns its first result, whatever
  // has changed since (clock, policy, balances).
  st::EntryRef ref;
  auto found = Load(keys::Ref(b.id), &ref);
  if (!found.ok()) return found.status();
  if (*found) {
    if (ref.leaf_hash() != keys::View(ctx_.leaf_hash))
      return Err(Code::kIdConflict,
                 fmt::format("entry id {} was already used for a different entry (index {})",
                             ToHex(b.id), ref.index()));
    Applied dup;
    dup.duplicate = true;
    dup.index = ref.index();
    return dup;
  }
  if (ctx_.admission && ctx_.max_clock_skew > 0 &&
      (b.time > ctx_.now + ctx_.max_clock_skew || b.time < ctx_.now - ctx_.max_clock_skew))
    return Err(Code::kClockSkew, fmt::format("entry time {} is {} s from the ledger's clock {}",
                                             b.time, b.time - ctx_.now, ctx_.now));

  bool has_genesis = false;
  if (Status s = LoadFacts(&has_genesis); !s.ok()) return s;
  const bool is_genesis = std::holds_alternative<Genesis>(b.kind);
  if (!has_genesis && !is_genesis)
    return Err(Code::kNoGenesis, "the log is empty: its first entry must be a genesis");
  if (has_genesis) {
    if (is_genesis) return Err(Code::kGenesisExists, "this log already has its genesis entry");
    if (b.district != info_->district())
      return Err(Code::kWrongDistrict, fmt::format("entry is for district {}, this log is {}",
                                                   b.district, info_->district()));
  }

  Status st = std::visit([this](const auto& k) { return Apply(k); }, b.kind);
  if (!st.ok()) return st;
  if (st = CountForClearing(); !st.ok()) return st;

  ref.set_index(ctx_.index);
  ref.set_leaf_hash(std::string(keys::View(ctx_.leaf_hash)));
  ref.set_kind(static_cast<std::uint32_t>(b.kind.index()));
  for (const auto& p : postings_) {
    auto* out = ref.add_postings();
    out->set_account(p.account);
    out->set_delta(p.delta);
    out->set_prev(p.prev);
  }
  ref.set_served(served_);
  ref.set_served_by(served_by_);
  Store(keys::Ref(b.id), ref);
  Applied applied;
  applied.index = ctx_.index;
  applied.postings = std::move(postings_);
  return applied;
}

// The log's facts and policy, decoded only when their stored bytes changed.
Status Rules::LoadFacts(bool* has_genesis) {
  auto info = s_->Read(std::string(keys::kLogInfo));
  if (!info.ok()) return info.status();
  *has_genesis = info->has_value();
  if (!*has_genesis) return Status::Ok();
  if (**info != cache_->info_bytes) {
    if (!cache_->info.ParseFromString(**info))
      return Err(Code::kCorruption, "log info does not parse");
    cache_->info_bytes = **info;
  }
  info_ = &cache_->info;
  auto policy = s_->Read(std::string(keys::kPolicy));
  if (!policy.ok()) return policy.status();
  if (!policy->has_value()) return Err(Code::kCorruption, "the log has no policy record");
  if (**policy != cache_->policy_bytes) {
    pb::Policy p;
    if (!p.ParseFromString(**policy)) return Err(Code::kCorruption, "policy record does not parse");
    cache_->policy = PolicyFromProto(p);
    cache_->policy_bytes = **policy;
  }
  policy_ = &cache_->policy;
  return Status::Ok();
}

Status Rules::CheckSigner(Role role, bool log_key_allowed) {
  const PublicKey& k = e_.signatures.front().key;
  if (keys::View(k) == info_->root_key()) return Status::Ok();
  if (log_key_allowed && keys::View(k) == info_->log_key()) return Status::Ok();
  st::Operator op;
  auto found = Load(keys::Operator(k), &op);
  if (!found.ok()) return found.status();
  auto who = [&] { return ToHex(k).substr(0, 16); };
  if (!*found)
    return Err(Code::kUnknownKey,
               fmt::format("key {}… is not an operator of district {}", who(), info_->district()));
  if (op.revoked())
    return Err(Code::kUnknownKey, fmt::format("operator key {}… was revoked", who()));
  if (!(op.roles() & RoleBit(role)))
    return Err(Code::kUnauthorized,
               fmt::format("operator {}… ('{}') lacks the {} role for a {} entry", who(),
                           op.label(), RoleName(role), KindName(e_.body.kind)));
  return Status::Ok();
}

Status Rules::CheckOwnerSigned(const st::Account& a, std::string_view account) {
  if (!policy_->owner_signs_debits || a.owner_key().empty()) return Status::Ok();
  for (const auto& s : e_.signatures)
    if (keys::View(s.key) == a.owner_key()) return Status::Ok();
  return Err(
      Code::kOwnerSignatureRequired,
      fmt::format("account {} has an owner key; policy requires the owner's signature on debits",
                  account));
}

Result<st::Account> Rules::LocalAccount(const std::string& account, std::string_view what) {
  auto district = ParseAccountDistrict(account);
  if (!district.ok())
    return Err(Code::kBadAccountNumber, fmt::format("{}: {}", what, district.status().message()));
  st::Account a;
  auto found = Load(keys::Account(account), &a);
  if (!found.ok()) return found.status();
  if (*found && !a.moved_to().empty())
    return Err(Code::kNotHomeDistrict,
               fmt::format("{} {} moved its home to district {} (entry {}); only {} debits it now",
                           what, account, a.moved_to(), a.moved_at(), a.moved_to()));
  if (*found) return a;  // registered here: its number's district, or moved here (§7)
  if (*district != info_->district())
    return Err(
        Code::kNotHomeDistrict,
        fmt::format("{} {} belongs to district {}; this log is {} (only an account's home district "
                    "debits it)",
                    what, account, *district, info_->district()));
  return Err(Code::kUnknownAccount, fmt::format("{} {} is not registered", what, account));
}

Status Rules::Post(const std::string& account, Minutes delta, bool record_zero,
                   st::Account* loaded) {
  if (delta == 0 && !record_zero) {
    if (loaded) Store(keys::Account(account), *loaded);  // the caller's changes still count
    return Status::Ok();
  }
  st::Account local;
  st::Account& a = loaded ? *loaded : local;
  const bool interdistrict = account == Sys(SystemAccount::kInterdistrict);
  if (!loaded) {
    auto found = Load(keys::Account(account), &a);
    if (!found.ok()) return found.status();
    if (!*found && interdistrict)
      a.set_kind(kSystemAcct);  // a log begun before federation gains it on first use
    else if (!*found)
      return Err(Code::kUnknownAccount, fmt::format("account {} is not registered", account));
  }
  if (!a.moved_to().empty()) {
    // An account that moved home: no debit here; a credit (a released hold, a reversed
    // redemption) goes on to its new home.
    if (delta < 0)
      return Err(Code::kNotHomeDistrict,
                 fmt::format("account {} moved its home to district {}; only {} debits it now",
                             account, a.moved_to(), a.moved_to()));
    if (loaded) Store(keys::Account(account), a);
    if (delta > 0) return CreditAway(account, delta, 0, a.moved_to());
  }
  const Minutes next = a.balance() + delta;
  // Only issuance (where hours are minted) and interdistrict (hours received from other
  // districts' logs before their own logs' credits are counted) go below zero.
  if (next < 0 && account != Sys(SystemAccount::kIssuance) && !interdistrict)
    return Err(Code::kInsufficientBalance,
               fmt::format("account {} has {}, needs {}", account, FormatHours(a.balance()),
                           FormatHours(-delta)));
  a.set_balance(next);
  // Each account's entries form a chain, newest first, through the postings: history
  // needs no index of its own. A second posting in the same entry keeps the first's link.
  std::uint64_t prev = a.last_entry();
  if (prev == ctx_.index + 1)
    for (const auto& p : postings_)
      if (p.account == account) prev = p.prev;
  a.set_last_entry(ctx_.index + 1);
  Store(keys::Account(account), a);
  postings_.push_back({account, delta, prev});
  return Status::Ok();
}

Status Rules::CheckMinutes(Minutes m, std::string_view what) const {
  constexpr Minutes kAbsurd = 10'000'000LL * 60;  // ten million hours
  if (m <= 0 || m > kAbsurd)
    return Err(Code::kInvalidAmount,
               fmt::format("{} must be more than 0 and at most 600000000 (ten million hours), "
                           "got {}",
                           what, m));
  return Status::Ok();
}

std::int64_t Rules::LocalDay() const {
  return FloorDiv(e_.body.time + std::int64_t{policy_->utc_offset_minutes} * 60, 86400);
}
int Rules::LocalYear() const {
  return YearOfDay(LocalDay());
}

Status Rules::CreditWithCap(const std::string& account, Minutes amount, st::Account* loaded) {
  st::Account local;
  st::Account& a = loaded ? *loaded : local;
  if (!loaded) {
    auto found = Load(keys::Account(account), &a);
    if (!found.ok()) return found.status();
  }
  Minutes keep = amount;
  if (policy_->balance_cap > 0 && a.kind() == kPersonAcct &&
      a.balance() + amount > policy_->balance_cap)
    keep = std::max<Minutes>(0, policy_->balance_cap - a.balance());
  // At the cap the account still gets a (zero) posting, so the entry shows in its history.
  if (Status s = Post(account, keep, /*record_zero=*/true, loaded); !s.ok()) return s;
  return Post(Sys(SystemAccount::kPool), amount - keep);  // overflow is donated (公益池)
}

// The city list: well-formed, each district once, and this district (if listed) with the
// key its own checkpoints are signed with.
static Status ValidateCity(const Policy& p, const std::string& own_district,
                           const std::string& own_verifier_key) {
  auto bad = [](std::string m) { return Err(Code::kMalformedEntry, "policy city: " + m); };
  constexpr std::size_t kMaxDistricts = 1000;
  if (p.city.size() > kMaxDistricts)
    return bad(fmt::format("lists {} districts; at most {}", p.city.size(), kMaxDistricts));
  std::vector<std::string_view> seen;
  for (const CityMember& m : p.city) {
    if (!IsDistrictCode(m.code)) return bad(fmt::format("'{}' is not a 6-digit code", m.code));
    if (std::find(seen.begin(), seen.end(), m.code) != seen.end())
      return bad(fmt::format("district {} is listed twice", m.code));
    seen.push_back(m.code);
    if (m.name.empty() || m.name.size() > 200)
      return bad(fmt::format("district {}'s name must be 1..200 bytes", m.code));
    auto vkey = ParseVerifierKey(m.verifier_key);
    if (!vkey.ok())
      return bad(fmt::format("district {}'s verifier key: {}", m.code, vkey.status().message()));
    // One spelling per key (the hash in lower-case hex), so that a key is never listed in a
    // form that compares unequal to itself.
    if (FormatVerifierKey(vkey->name, vkey->key) != m.verifier_key)
      return bad(fmt::format("district {}'s verifier key must be written as {}", m.code,
                             FormatVerifierKey(vkey->name, vkey->key)));
    if (m.code == own_district && m.verifier_key != own_verifier_key)
      return bad(
          fmt::format("lists this district with the key {}, but its checkpoints verify "
                      "with {}",
                      m.verifier_key, own_verifier_key));
  }
  return Status::Ok();
}

Status Rules::CheckInCity(const std::string& district, std::string_view what) const {
  if (policy_->city.empty() || district == info_->district()) return Status::Ok();
  if (CityKey(district)) return Status::Ok();
  return Err(Code::kNotInCity,
             fmt::format("{} names district {}, which is not in the city list of policy v{}", what,
                         district, policy_->version));
}

const std::string* Rules::CityKey(const std::string& district) const {
  for (const CityMember& m : policy_->city)
    if (m.code == district) return &m.verifier_key;
  return nullptr;
}

Status Rules::ValidatePolicy(const Policy& p) const {
  auto bad = [](std::string m) { return Err(Code::kMalformedEntry, "policy: " + m); };
  std::vector<std::string_view> seen;
  for (const auto& s : p.services) {
    if (s.category.empty() || s.category.size() > 64)
      return bad("service category must be 1..64 bytes");
    if (s.rate_permille == 0 || s.rate_permille > 100'000)
      return bad(fmt::format("service '{}' rate must be 1..100000 permille", s.category));
    if (std::find(seen.begin(), seen.end(), s.category) != seen.end())
      return bad(fmt::format("service '{}' is listed twice", s.category));
    seen.push_back(s.category);
  }
  if (p.balance_cap < 0 || p.daily_earn_cap < 0 || p.min_served_to_redeem < 0 ||
      p.starter_grant < 0 || p.max_hold_seconds < 0 || p.max_entry_minutes < 0)
    return bad("limits must not be negative");
  if (p.utc_offset_minutes < -14 * 60 || p.utc_offset_minutes > 14 * 60)
    return bad("utc_offset_minutes must be within ±14 h");
  if (p.min_age_serve > 150 || p.min_age_redeem > 150 || p.min_age_redeem_hardship > 150)
    return bad("ages must be at most 150");
  if (static_cast<int>(p.gift_scope) < 0 || static_cast<int>(p.gift_scope) > 3)
    return bad("unknown gift scope");
  if (p.pool_min_need > 3) return bad("pool_min_need must be 0..3");
  return Status::Ok();
}

Status Rules::Apply(const Genesis& g) {
  if (ctx_.index != 0) return Err(Code::kGenesisExists, "a genesis can only be entry 0");
  if (keys::View(e_.signatures.front().key) != keys::View(g.root_key))
    return Err(Code::kUnauthorized, "a genesis must be signed by its own root key");
  // The origin names the checkpoint key in signed notes: printable ASCII without '+'
  // (C2SP signed-note key names), or no checkpoint of this log could ever be verified.
  const bool origin_ok = !g.origin.empty() && g.origin.size() <= 200 &&
                         std::all_of(g.origin.begin(), g.origin.end(),
                                     [](char c) { return c > 0x20 && c < 0x7f && c != '+'; });
  if (g.name.empty() || !origin_ok)
    return Err(Code::kMalformedEntry,
               "genesis needs a name, and an origin of 1..200 printable ASCII characters without "
               "spaces or '+'");
  if (g.policy.version != 1)
    return Err(Code::kPolicyVersion, "the genesis policy must be version 1");
  if (Status s = ValidatePolicy(g.policy); !s.ok()) return s;
  if (Status s = ValidateCity(g.policy, e_.body.district, FormatVerifierKey(g.origin, g.log_key));
      !s.ok())
    return s;
  st::LogInfo info;
  info.set_district(e_.body.district);
  info.set_name(g.name);
  info.set_city(g.city);
  info.set_root_key(std::string(keys::View(g.root_key)));
  info.set_log_key(std::string(keys::View(g.log_key)));
  info.set_origin(g.origin);
  info.set_arrivals(0);  // counted from the start (HomeOf)
  Store(std::string(keys::kLogInfo), info);
  pb::Body parsed;
  parsed.ParseFromString(e_.body_bytes);
  s_->Put(std::string(keys::kPolicy), Serialize(parsed.genesis().policy()));
  st::Account sys;
  sys.set_kind(kSystemAcct);
  for (auto which : {SystemAccount::kIssuance, SystemAccount::kPool, SystemAccount::kHeld,
                     SystemAccount::kRedeemed, SystemAccount::kInterdistrict})
    Store(keys::Account(SystemAccountId(e_.body.district, which)), sys);
  RecordKeyChange(g.root_key, ~0u, false);
  return Status::Ok();
}

Status Rules::Apply(const Grant& g) {
  if (Status s = CheckSigner(Role::kAdmin); !s.ok()) return s;
  if (keys::View(g.key) == info_->root_key())
    return Err(Code::kInvalidArgument, "the root key already holds every role");
  if (g.roles.empty()) return Err(Code::kMalformedEntry, "a grant must name at least one role");
  st::Operator op;
  auto found = Load(keys::Operator(g.key), &op);
  if (!found.ok()) return found.status();
  if (*found && op.revoked())
    return Err(Code::kInvalidArgument, "a revoked key stays revoked; grant the operator a new key");
  op.Clear();  // a grant to an active operator replaces its roles
  for (Role r : g.roles) op.set_roles(op.roles() | RoleBit(r));
  op.set_label(g.label);
  Store(keys::Operator(g.key), op);
  RecordKeyChange(g.key, op.roles(), false);
  return Status::Ok();
}

Status Rules::Apply(const Revoke& r) {
  if (Status s = CheckSigner(Role::kAdmin); !s.ok()) return s;
  if (keys::View(r.key) == info_->root_key())
    return Err(Code::kCannotRevokeRoot, "the district root key cannot be revoked");
  st::Operator op;
  auto found = Load(keys::Operator(r.key), &op);
  if (!found.ok()) return found.status();
  if (!*found || op.revoked())
    return Err(Code::kUnknownKey,
               fmt::format("key {}… is not an active operator", ToHex(r.key).substr(0, 16)));
  op.set_revoked(true);
  Store(keys::Operator(r.key), op);
  RecordKeyChange(r.key, op.roles(), true);
  return Status::Ok();
}

Status Rules::Apply(const Policy& p) {
  if (Status s = CheckSigner(Role::kAdmin); !s.ok()) return s;
  if (p.version != policy_->version + 1)
    return Err(Code::kPolicyVersion,
               fmt::format("policy version {} is not the next one (current is {})", p.version,
                           policy_->version));
  if (Status s = ValidatePolicy(p); !s.ok()) return s;
  PublicKey log_key;
  std::memcpy(log_key.data(), info_->log_key().data(), log_key.size());
  if (Status s = ValidateCity(p, info_->district(), FormatVerifierKey(info_->origin(), log_key));
      !s.ok())
    return s;
  pb::Body parsed;
  parsed.ParseFromString(e_.body_bytes);
  s_->Put(std::string(keys::kPolicy), Serialize(parsed.policy()));
  return Status::Ok();
}

Status Rules::Apply(const Open& o) {
  if (Status s = CheckSigner(Role::kRegistrar); !s.ok()) return s;
  if (IsSystemAccount(o.account))
    return Err(Code::kBadAccountNumber, "system accounts are created by the genesis, not opened");
  auto district = ParseAccountDistrict(o.account);
  if (!district.ok()) return district.status();
  if (*district != info_->district())
    return Err(Code::kNotHomeDistrict, fmt::format("account {} has district {} but this log is {}",
                                                   o.account, *district, info_->district()));
  st::Account a;
  auto found = Load(keys::Account(o.account), &a);
  if (!found.ok()) return found.status();
  if (*found)
    return Err(Code::kAccountExists, fmt::format("account {} is already registered", o.account));
  const int year = LocalYear();
  if (o.kind == AccountKind::kPerson &&
      (o.birth_year < 1900 || static_cast<int>(o.birth_year) > year))
    return Err(Code::kMalformedEntry, fmt::format("birth year {} is not plausible", o.birth_year));
  if (o.kind == AccountKind::kPerson && o.commitment == Hash{})
    return Err(Code::kMalformedEntry, "a person's account needs a real-name commitment");
  if (o.need > 3) return Err(Code::kMalformedEntry, "need must be 0..3");
  a.set_kind(o.kind == AccountKind::kGroup ? kGroupAcct : kPersonAcct);
  a.set_birth_year(o.birth_year);
  a.set_hardship(o.hardship);
  a.set_need(o.need);
  a.set_owner_key(o.owner_key);
  a.set_opened_at(ctx_.index);
  a.set_street(o.street);
  a.set_community(o.community);
  a.set_commitment(std::string(keys::View(o.commitment)));
  Store(keys::Account(o.account), a);
  if (policy_->starter_grant > 0 && o.kind == AccountKind::kPerson) {
    if (Status s = Post(Sys(SystemAccount::kIssuance), -policy_->starter_grant); !s.ok()) return s;
    return Post(o.account, policy_->starter_grant);
  }
  return Status::Ok();
}

Status Rules::Apply(const Deposit& d) {
  if (Status s = CheckSigner(Role::kRecorder); !s.ok()) return s;
  auto credit = DepositCredit(d);
  if (!credit.ok()) return credit.status();
  auto home = HomeOf(d.volunteer);
  if (!home.ok()) return home.status();
  served_ = d.minutes;
  served_by_ = d.volunteer;
  if (*home != info_->district()) {
    // A volunteer of another district served here (通存): the hours are minted here, at
    // this district's rate, and reach the volunteer's home when it syncs this log. The
    // volunteer's age and daily cap are the home's records; this district checks what it
    // sees (the service, its catalogue, its recorder).
    if (Status s = Post(Sys(SystemAccount::kIssuance), -*credit); !s.ok()) return s;
    if (Status s = CheckInCity(*home, "the volunteer's home"); !s.ok()) return s;
    return CreditAway(d.volunteer, *credit, d.minutes, *home);
  }
  return CreditHomeVolunteer(d, *credit);
}

Result<Minutes> Rules::DepositCredit(const Deposit& d) {
  auto rate = std::find_if(policy_->services.begin(), policy_->services.end(),
                           [&](const ServiceRate& r) { return r.category == d.category; });
  if (rate == policy_->services.end())
    return Err(Code::kUnknownService,
               fmt::format("service '{}' is not in the catalogue of policy v{}", d.category,
                           policy_->version));
  if (Status s = CheckMinutes(d.minutes, "served minutes"); !s.ok()) return s;
  if (policy_->max_entry_minutes > 0 && d.minutes > policy_->max_entry_minutes)
    return Err(Code::kInvalidAmount,
               fmt::format("{} exceeds the largest single service of {}", FormatHours(d.minutes),
                           FormatHours(policy_->max_entry_minutes)));
  if (auto vd = ParseAccountDistrict(d.volunteer); !vd.ok())
    return Err(Code::kBadAccountNumber, "volunteer: " + vd.status().message());
  if (IsSystemAccount(d.volunteer))
    return Err(Code::kAccountKindRestricted,
               fmt::format("system account {} cannot earn hours", d.volunteer));
  constexpr std::int64_t kYear = 366 * 86400;
  if (d.served_at > e_.body.time || d.served_at < e_.body.time - kYear)
    return Err(Code::kInvalidArgument,
               fmt::format("served_at {} must be within the year before the entry's time {}",
                           d.served_at, e_.body.time));
  if (Status s = CheckBeneficiary(d); !s.ok()) return s;
  const Minutes credit = d.minutes * static_cast<Minutes>(rate->rate_permille) / 1000;
  if (credit <= 0) return Err(Code::kInvalidAmount, "the service is too short to earn a minute");
  return credit;
}

Status Rules::CreditHomeVolunteer(const Deposit& d, Minutes credit) {
  auto a = LocalAccount(d.volunteer, "volunteer");
  if (!a.ok()) return a.status();
  if (a->kind() == kSystemAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("system account {} cannot earn hours", d.volunteer));
  const int age = LocalYear() - static_cast<int>(a->birth_year());
  if (a->kind() == kPersonAcct && policy_->min_age_serve > 0 &&
      age < static_cast<int>(policy_->min_age_serve))
    return Err(Code::kTooYoungToServe,
               fmt::format("volunteer {} is {}; policy v{} credits service from age {}",
                           d.volunteer, age, policy_->version, policy_->min_age_serve));
  // Entry times may step back a little (clock skew); the earning day never does, or a
  // volunteer could earn two days' cap around midnight.
  const std::int64_t day = std::max(LocalDay(), a->earn_day());
  const Minutes today = a->earn_day() == day ? a->earned_today() : 0;
  if (policy_->daily_earn_cap > 0 && today + credit > policy_->daily_earn_cap)
    return Err(
        Code::kDailyCapExceeded,
        fmt::format("volunteer {} has earned {} today; policy v{} caps a day at {}", d.volunteer,
                    FormatHours(today), policy_->version, FormatHours(policy_->daily_earn_cap)));
  a->set_earn_day(day);
  a->set_earned_today(today + credit);
  a->set_served(a->served() + d.minutes);
  if (Status s = Post(Sys(SystemAccount::kIssuance), -credit); !s.ok()) return s;
  // The volunteer's record, changed above, is stored once, with the credit.
  return CreditWithCap(d.volunteer, credit, &*a);
}

Status Rules::CheckBeneficiary(const Deposit& d) {
  if (d.beneficiary.empty()) return Status::Ok();
  auto bd = ParseAccountDistrict(d.beneficiary);
  if (!bd.ok()) return Err(Code::kBadAccountNumber, "beneficiary: " + bd.status().message());
  if (d.beneficiary == d.volunteer)
    return Err(Code::kSameAccount, "a volunteer cannot serve themself");
  if (IsSystemAccount(d.beneficiary))
    return Err(Code::kAccountKindRestricted, "a beneficiary is a person, not a system account");
  if (Status s = CheckInCity(*bd, "the beneficiary's account"); !s.ok()) return s;
  // An elder of this district must be registered here; elders of other districts are
  // known to their own district.
  if (*bd == info_->district()) {
    auto b = LocalAccount(d.beneficiary, "beneficiary");
    if (!b.ok()) return b.status();
  }
  return Status::Ok();
}

Status Rules::CheckService(const std::string& category, const std::string& serving_district) const {
  if (!category.empty() &&
      std::none_of(policy_->services.begin(), policy_->services.end(),
                   [&](const ServiceRate& r) { return r.category == category; }))
    return Err(Code::kUnknownService,
               fmt::format("service '{}' is not in the catalogue of policy v{}", category,
                           policy_->version));
  if (!serving_district.empty() && !IsDistrictCode(serving_district))
    return Err(Code::kMalformedEntry, "serving_district must be empty or a 6-digit district code");
  if (!serving_district.empty()) return CheckInCity(serving_district, "serving_district");
  return Status::Ok();
}

static bool GiftAllowed(GiftScope scope, Relation rel) {
  switch (scope) {
    case GiftScope::kAnyone:
      return true;
    case GiftScope::kNone:
      return false;
    case GiftScope::kRelativesAndFriends:
      return rel != Relation::kUnspecified && rel != Relation::kNone;
    case GiftScope::kDirectRelatives:
      return rel == Relation::kParent || rel == Relation::kChild || rel == Relation::kSpouse ||
             rel == Relation::kGrandparent || rel == Relation::kGrandchild;
  }
  return false;
}

Status Rules::Apply(const Transfer& t) {
  if (t.kind == TransferKind::kPoolGrant) {
    if (Status s = CheckSigner(Role::kAdmin); !s.ok()) return s;
    if (Status s = CheckMinutes(t.minutes, "granted minutes"); !s.ok()) return s;
    auto to = LocalAccount(t.to, "recipient");
    if (!to.ok()) return to.status();
    if (to->kind() != kPersonAcct)
      return Err(Code::kAccountKindRestricted,
                 fmt::format("pool grants go to people; {} is not a person's account", t.to));
    if (policy_->pool_min_need > 0 && to->need() < policy_->pool_min_need)
      return Err(Code::kPoolNotEligible,
                 fmt::format("account {} has need level {}; policy v{} grants from level {}", t.to,
                             to->need(), policy_->version, policy_->pool_min_need));
    if (policy_->balance_cap > 0 && to->balance() + t.minutes > policy_->balance_cap)
      return Err(Code::kBalanceCapReached,
                 fmt::format("the grant would take {} above the cap of {}", t.to,
                             FormatHours(policy_->balance_cap)));
    if (Status s = AnswerRequest(t); !s.ok()) return s;
    if (Status s = Post(Sys(SystemAccount::kPool), -t.minutes); !s.ok()) return s;
    return Post(t.to, t.minutes);
  }
  if (Status s = CheckSigner(Role::kRedeemer); !s.ok()) return s;
  if (Status s = CheckMinutes(t.minutes, "transferred minutes"); !s.ok()) return s;
  auto from = LocalAccount(t.from, "giver");
  if (!from.ok()) return from.status();
  if (from->kind() == kSystemAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("system account {} cannot give hours", t.from));
  if (Status s = CheckOwnerSigned(*from, t.from); !s.ok()) return s;
  if (t.kind == TransferKind::kDonation) {
    if (Status s = Post(t.from, -t.minutes); !s.ok()) return s;
    return Post(Sys(SystemAccount::kPool), t.minutes);
  }
  // Gift (转赠).
  if (from->kind() == kGroupAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("group account {} may only donate its hours", t.from));
  if (t.to == t.from) return Err(Code::kSameAccount, "an account cannot give hours to itself");
  if (!GiftAllowed(policy_->gift_scope, t.relation))
    return Err(Code::kGiftNotAllowed,
               fmt::format("policy v{} does not allow gifts {}", policy_->version,
                           t.relation == Relation::kUnspecified
                               ? "that do not state the relation (parent, friend, ...)"
                               : fmt::format("with relation {} ({})", static_cast<int>(t.relation),
                                             RelationName(t.relation))));
  if (auto rd = ParseAccountDistrict(t.to); !rd.ok())
    return Err(Code::kBadAccountNumber, "receiver: " + rd.status().message());
  if (IsSystemAccount(t.to))
    return Err(Code::kAccountKindRestricted,
               fmt::format("gifts go to people; {} is not a person's account", t.to));
  auto home = HomeOf(t.to);
  if (!home.ok()) return home.status();
  if (*home != info_->district()) {  // to a relative homed in another district: it crosses
    if (Status s = CheckInCity(*home, "the receiver's home"); !s.ok()) return s;
    if (Status s = Post(t.from, -t.minutes); !s.ok()) return s;  // at their sync
    return CreditAway(t.to, t.minutes, 0, *home);
  }
  auto to = LocalAccount(t.to, "receiver");
  if (!to.ok()) return to.status();
  if (to->kind() != kPersonAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("gifts go to people; {} is not a person's account", t.to));
  if (Status s = Post(t.from, -t.minutes); !s.ok()) return s;
  return CreditWithCap(t.to, t.minutes);
}

Status Rules::Apply(const Reverse& r) {
  if (Status s = CheckSigner(Role::kAdmin); !s.ok()) return s;
  if (r.reason.empty() || r.reason.size() > 500)
    return Err(Code::kMalformedEntry, "a reversal must state a reason (1..500 bytes)");
  st::EntryRef orig;
  auto found = Load(keys::Ref(r.entry_id), &orig);
  if (!found.ok()) return found.status();
  if (!*found)
    return Err(Code::kNotFound, fmt::format("no entry with id {} to reverse", ToHex(r.entry_id)));
  const std::size_t kind = orig.kind();
  if (kind == EntryKind(PoolRequest{}).index()) {  // reversing a request cancels it
    st::PoolRequest req;
    if (Status s = Dequeue(r.entry_id, &req); !s.ok()) return s;
    orig.set_reversed(true);
    Store(keys::Ref(r.entry_id), orig);
    return Status::Ok();
  }
  const bool reversible = kind == EntryKind(Deposit{}).index() ||
                          kind == EntryKind(Redeem{}).index() ||
                          kind == EntryKind(Transfer{}).index();
  if (!reversible)
    return Err(
        Code::kNotReversible,
        fmt::format("entry {} is not a deposit, redemption or transfer; holds are voided instead",
                    ToHex(r.entry_id)));
  if (orig.reversed())
    return Err(Code::kAlreadyReversed,
               fmt::format("entry {} was already reversed", ToHex(r.entry_id)));
  auto transit = WroteTransit(orig.index());
  if (!transit.ok()) return transit.status();
  if (*transit)
    return Err(Code::kNotTransitable,
               fmt::format("entry {} credited an account of another district, whose home counts it "
                           "at its sync; correct it there with a transfer",
                           ToHex(r.entry_id)));
  // Debits first so that an overdraft is found before anything is credited.
  std::vector<st::Posting> ps(orig.postings().begin(), orig.postings().end());
  std::stable_partition(ps.begin(), ps.end(), [](const st::Posting& p) { return p.delta() > 0; });
  // Zero postings are mirrored too, so the reversal shows wherever the original did.
  for (const auto& p : ps)
    if (Status s = Post(p.account(), -p.delta(), /*record_zero=*/p.delta() == 0); !s.ok()) return s;
  if (orig.served() > 0) {
    st::Account a;
    auto has = Load(keys::Account(orig.served_by()), &a);
    if (!has.ok()) return has.status();
    a.set_served(a.served() - orig.served());
    Store(keys::Account(orig.served_by()), a);
  }
  orig.set_reversed(true);
  Store(keys::Ref(r.entry_id), orig);
  return Status::Ok();
}

Engine::Engine() : cache_(std::make_unique<RuleCache>()) {}
Engine::~Engine() = default;

Result<Applied> Engine::Apply(const DecodedEntry& entry, const ApplyContext& ctx, Overlay* state) {
  if (entry.signatures.empty()) return Err(Code::kMissingSignature, "entry carries no signature");
  Overlay scratch(state);
  Rules rules(entry, ctx, &scratch, cache_.get());
  auto applied = rules.Run();
  if (applied.ok()) scratch.MergeInto(state);
  return applied;
}

}  // namespace ledger
