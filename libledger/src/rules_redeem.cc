// Spending hours (兑换): immediate redemptions, and two-phase ones — a hold, then its post,
// void or expiry, each at most once. Holds for care in another district are recorded as
// hold events for that district's sync (docs/federation.md §5).
#include <fmt/format.h>

#include "rules.h"

namespace ledger {

Status Rules::CheckRedeemer(const st::Account& a, std::string_view account, Minutes minutes) {
  if (a.kind() == kGroupAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("group account {} may only donate its hours", account));
  if (a.kind() == kSystemAcct)
    return Err(Code::kAccountKindRestricted,
               fmt::format("system account {} cannot redeem", account));
  if (Status s = CheckMinutes(minutes, "redeemed minutes"); !s.ok()) return s;
  if (Status s = CheckOwnerSigned(a, account); !s.ok()) return s;
  std::uint32_t min_age = policy_->min_age_redeem;
  if (a.hardship() && policy_->min_age_redeem_hardship > 0)
    min_age = policy_->min_age_redeem_hardship;
  const int age = LocalYear() - static_cast<int>(a.birth_year());
  if (min_age > 0 && age < static_cast<int>(min_age))
    return Err(Code::kTooYoungToRedeem,
               fmt::format("account {} holder is {}; policy v{} redeems from age {}", account, age,
                           policy_->version, min_age));
  if (policy_->min_served_to_redeem > 0 && !a.hardship() &&
      a.served() < policy_->min_served_to_redeem)
    return Err(
        Code::kBelowRedeemThreshold,
        fmt::format("account {} has served {}; policy v{} requires {} served before redeeming",
                    account, FormatHours(a.served()), policy_->version,
                    FormatHours(policy_->min_served_to_redeem)));
  if (a.balance() < minutes)
    return Err(Code::kInsufficientBalance,
               fmt::format("account {} has {}, needs {}", account, FormatHours(a.balance()),
                           FormatHours(minutes)));
  return Status::Ok();
}

Status Rules::Apply(const Redeem& r) {
  if (Status s = CheckSigner(Role::kRedeemer); !s.ok()) return s;
  if (Status s = CheckService(r.category, r.serving_district); !s.ok()) return s;
  auto a = LocalAccount(r.account, "account");
  if (!a.ok()) return a.status();
  if (Status s = CheckRedeemer(*a, r.account, r.minutes); !s.ok()) return s;
  if (Status s = Post(r.account, -r.minutes); !s.ok()) return s;
  if (r.serving_district != info_->district()) redeemed_in_ = r.serving_district;
  return Post(Sys(SystemAccount::kRedeemed), r.minutes);
}

Status Rules::Apply(const Hold& h) {
  if (Status s = CheckRedeemerOf(h.serving_district); !s.ok()) return s;
  if (Status s = CheckService(h.category, h.serving_district); !s.ok()) return s;
  auto a = LocalAccount(h.account, "account");
  if (!a.ok()) return a.status();
  if (Status s = CheckRedeemer(*a, h.account, h.minutes); !s.ok()) return s;
  const std::int64_t timeout = h.expires_at - e_.body.time;
  if (timeout <= 0 || (policy_->max_hold_seconds > 0 && timeout > policy_->max_hold_seconds))
    return Err(Code::kInvalidArgument,
               fmt::format("a hold must expire after it is made and within {} s; this one is {} s",
                           policy_->max_hold_seconds, timeout));
  st::Hold hold;
  hold.set_account(h.account);
  hold.set_minutes(h.minutes);
  hold.set_expires_at(h.expires_at);
  hold.set_status(kOpen);
  hold.set_index(ctx_.index);
  if (h.serving_district != info_->district()) hold.set_serving_district(h.serving_district);
  Store(keys::Hold(e_.body.id), hold);
  if (!hold.serving_district().empty()) RecordHoldEvent(e_.body.id, hold, /*closed=*/false);
  if (Status s = Post(h.account, -h.minutes); !s.ok()) return s;
  return Post(Sys(SystemAccount::kHeld), h.minutes);
}

Result<st::Hold> Rules::OpenHold(const EntryId& id) {
  st::Hold hold;
  auto found = Load(keys::Hold(id), &hold);
  if (!found.ok()) return found.status();
  if (!*found)
    return Err(
        Code::kHoldNotFound,
        fmt::format("no hold with id {} in district {}'s log (a hold of another "
                    "district's account is in its home's log: post or void it with the home named)",
                    ToHex(id), info_->district()));
  static constexpr std::string_view kStatus[] = {"open", "posted", "voided", "expired"};
  if (hold.status() != kOpen)
    return Err(Code::kHoldClosed,
               fmt::format("hold {} is already {}", ToHex(id), kStatus[hold.status() & 3]));
  return hold;
}

Status Rules::Apply(const HoldPost& p) {
  auto hold = OpenHold(p.hold_id);
  if (!hold.ok()) return hold.status();
  if (Status s = CheckRedeemerOf(hold->serving_district()); !s.ok()) return s;
  if (e_.body.time > hold->expires_at())
    return Err(Code::kHoldExpired,
               fmt::format("hold {} expired at {}", ToHex(p.hold_id), hold->expires_at()));
  hold->set_status(kPosted);
  Store(keys::Hold(p.hold_id), *hold);
  if (!hold->serving_district().empty()) RecordHoldEvent(p.hold_id, *hold, /*closed=*/true);
  redeemed_in_ = hold->serving_district();
  if (Status s = Post(Sys(SystemAccount::kHeld), -hold->minutes()); !s.ok()) return s;
  return Post(Sys(SystemAccount::kRedeemed), hold->minutes());
}

Status Rules::Apply(const HoldVoid& v) {
  auto hold = OpenHold(v.hold_id);
  if (!hold.ok()) return hold.status();
  if (Status s = CheckRedeemerOf(hold->serving_district()); !s.ok()) return s;
  hold->set_status(kVoided);
  Store(keys::Hold(v.hold_id), *hold);
  if (!hold->serving_district().empty()) RecordHoldEvent(v.hold_id, *hold, /*closed=*/true);
  if (Status s = Post(Sys(SystemAccount::kHeld), -hold->minutes()); !s.ok()) return s;
  return Post(hold->account(), hold->minutes());
}

Status Rules::Apply(const HoldExpire& x) {
  if (Status s = CheckSigner(Role::kRedeemer, /*log_key_allowed=*/true); !s.ok()) return s;
  auto hold = OpenHold(x.hold_id);
  if (!hold.ok()) return hold.status();
  if (e_.body.time < hold->expires_at())
    return Err(Code::kHoldNotExpired,
               fmt::format("hold {} runs until {}; it is {}", ToHex(x.hold_id), hold->expires_at(),
                           e_.body.time));
  if (!hold->serving_district().empty() && e_.body.time < hold->expires_at() + kClaimWindowSeconds)
    return Err(Code::kHoldNotExpired,
               fmt::format("hold {} is served by district {}, which may claim it until {}; it is "
                           "released {} s after that",
                           ToHex(x.hold_id), hold->serving_district(), hold->expires_at(),
                           kClaimWindowSeconds));
  hold->set_status(kExpired);
  Store(keys::Hold(x.hold_id), *hold);
  if (!hold->serving_district().empty()) RecordHoldEvent(x.hold_id, *hold, /*closed=*/true);
  if (Status s = Post(Sys(SystemAccount::kHeld), -hold->minutes()); !s.ok()) return s;
  return Post(hold->account(), hold->minutes());
}

}  // namespace ledger
