// status.cc — stable names of error codes.
#include "ledger/status.h"

namespace ledger {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kCorruption:
      return "corruption";
    case Code::kIoError:
      return "io_error";
    case Code::kUnimplemented:
      return "unimplemented";
    case Code::kClosed:
      return "closed";
    case Code::kMalformedEntry:
      return "malformed_entry";
    case Code::kWrongDistrict:
      return "wrong_district";
    case Code::kBadSignature:
      return "bad_signature";
    case Code::kMissingSignature:
      return "missing_signature";
    case Code::kUnknownKey:
      return "unknown_key";
    case Code::kUnauthorized:
      return "unauthorized";
    case Code::kIdConflict:
      return "id_conflict";
    case Code::kClockSkew:
      return "clock_skew";
    case Code::kNoGenesis:
      return "no_genesis";
    case Code::kGenesisExists:
      return "genesis_exists";
    case Code::kBadAccountNumber:
      return "bad_account_number";
    case Code::kUnknownAccount:
      return "unknown_account";
    case Code::kAccountExists:
      return "account_exists";
    case Code::kInsufficientBalance:
      return "insufficient_balance";
    case Code::kInvalidAmount:
      return "invalid_amount";
    case Code::kSameAccount:
      return "same_account";
    case Code::kAccountKindRestricted:
      return "account_kind_restricted";
    case Code::kNotHomeDistrict:
      return "not_home_district";
    case Code::kUnknownService:
      return "unknown_service";
    case Code::kDailyCapExceeded:
      return "daily_cap_exceeded";
    case Code::kTooYoungToServe:
      return "too_young_to_serve";
    case Code::kTooYoungToRedeem:
      return "too_young_to_redeem";
    case Code::kBelowRedeemThreshold:
      return "below_redeem_threshold";
    case Code::kGiftNotAllowed:
      return "gift_not_allowed";
    case Code::kPoolNotEligible:
      return "pool_not_eligible";
    case Code::kPolicyVersion:
      return "policy_version";
    case Code::kOwnerSignatureRequired:
      return "owner_signature_required";
    case Code::kBalanceCapReached:
      return "balance_cap_reached";
    case Code::kHoldNotFound:
      return "hold_not_found";
    case Code::kHoldClosed:
      return "hold_closed";
    case Code::kHoldExpired:
      return "hold_expired";
    case Code::kHoldNotExpired:
      return "hold_not_expired";
    case Code::kAlreadyReversed:
      return "already_reversed";
    case Code::kNotReversible:
      return "not_reversible";
    case Code::kCannotRevokeRoot:
      return "cannot_revoke_root";
    case Code::kPoolOrder:
      return "pool_order";
    case Code::kEquivocation:
      return "equivocation";
    case Code::kUnknownPeer:
      return "unknown_peer";
    case Code::kSyncNotForward:
      return "sync_not_forward";
    case Code::kSyncRootMismatch:
      return "sync_root_mismatch";
    case Code::kReadOnlyReplica:
      return "read_only_replica";
    case Code::kNotInCity:
      return "not_in_city";
    case Code::kPeerKeyMismatch:
      return "peer_key_mismatch";
    case Code::kNotTransitable:
      return "not_transitable";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";  // a value cast from an int this version does not know
}

std::string Status::ToString() const {
  std::string out(CodeName(code_));
  if (!message_.empty()) out.append(": ").append(message_);
  return out;
}

}  // namespace ledger
