// ledger/status.h — the one error type of libledger.
//
// Threading: Status and Result<T> are values; a const instance is safe to share.
//
// Every failure the library reports carries a stable Code and a message a person
// understands. Codes are part of the public contract (the node maps them to HTTP
// errors, the CLI to exit codes, tests to expectations): their names and numbers
// never change; new ones are only ever added at the end.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ledger {

// Stable error codes. Part of the public contract — do not renumber or rename.
enum class Code : int {
  kOk = 0,
  // Generic.
  kInvalidArgument = 1,  // unusable argument, or an entry field outside what its rule allows
  kNotFound = 2,         // no such entry / index / account
  kCorruption = 3,       // stored data failed a check
  kIoError = 4,          // the storage layer failed
  kUnimplemented = 5,    // a known entry kind this version does not process yet
  kClosed = 6,           // reserved: the ledger is shut down
  // Entry format and signatures.
  kMalformedEntry = 10,    // bytes do not decode as an entry, or a field is out of range
  kWrongDistrict = 11,     // the entry names another district's log
  kBadSignature = 12,      // a signature does not verify
  kMissingSignature = 13,  // a required signature (operator or owner) is absent
  kUnknownKey = 14,        // the signing key is not a granted operator of this district
  kUnauthorized = 15,      // the operator lacks the role this entry needs
  kIdConflict = 16,        // this entry id was used before for different bytes
  kClockSkew = 17,         // the entry's time is too far from the ledger's clock
  kNoGenesis = 18,         // the log has no genesis yet; only a genesis may come first
  kGenesisExists = 19,     // a second genesis
  // Accounts.
  kBadAccountNumber = 20,       // malformed account number or failed check digit
  kUnknownAccount = 21,         // account not registered (in this district)
  kAccountExists = 22,          // account number already registered
  kInsufficientBalance = 23,    // the debit would take the account below zero (overdraft)
  kInvalidAmount = 24,          // zero, negative or absurd minutes
  kSameAccount = 25,            // a transfer from an account to itself
  kAccountKindRestricted = 26,  // e.g. group hours may only be donated; system accounts
  kNotHomeDistrict = 27,        // a debit of an account homed elsewhere
  // Policy rules.
  kUnknownService = 30,          // the service category is not in the policy's catalogue
  kDailyCapExceeded = 31,        // earning cap per day reached
  kTooYoungToServe = 32,         // below the minimum age to volunteer
  kTooYoungToRedeem = 33,        // below the minimum age to redeem
  kBelowRedeemThreshold = 34,    // has not served the minimum hours before redeeming
  kGiftNotAllowed = 35,          // gift relation not allowed by policy
  kPoolNotEligible = 36,         // the elder does not qualify for a pool grant
  kPolicyVersion = 37,           // policy version is not the next one
  kOwnerSignatureRequired = 38,  // policy wants the owner's own signature on debits
  kBalanceCapReached = 39,       // the account is at its cap and policy refuses overflow
  // Holds (two-phase redemption) and reversals.
  kHoldNotFound = 40,
  kHoldClosed = 41,      // the hold was already posted, voided or expired
  kHoldExpired = 42,     // too late to post: the hold has timed out
  kHoldNotExpired = 43,  // too early to expire the hold
  kAlreadyReversed = 44,
  kNotReversible = 45,  // kind of entry that cannot be reversed
  kCannotRevokeRoot = 46,
  kPoolOrder = 47,  // another pool request comes first (policy pool_in_order)
  // Federation.
  kEquivocation = 48,      // a district signed two trees that cannot both be true
  kUnknownPeer = 49,       // no verified copy of that district's log here (or not that far)
  kSyncNotForward = 50,    // a sync must cover more of the peer's log than the last one
  kSyncRootMismatch = 51,  // the sync's root is not the peer's tree at that size
  kReadOnlyReplica = 52,   // a replica takes entries only from its district's log
  kNotTransitable = 53,    // this entry kind cannot cross district lines
  kNotInCity = 54,         // the district named is not in the policy's city list
  kPeerKeyMismatch = 55,   // the copy of a peer's log is not verified with the listed key
  // Generic, added later.
  kInternal = 56,  // the library failed inside (an exception, e.g. out of memory); see message
};

// The stable snake_case name of a code, e.g. "insufficient_balance".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "insufficient_balance: account 510104000000011 has 1.5 h, needs 2 h".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) { return a.code_ == b.code_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  Code code() const { return status_.code(); }

  // Precondition: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ledger
