// ledger/entry.h — the entries of a time-bank log, as plain C++ values.
//
// These structs mirror schema/entry.proto field for field; Encode/Decode convert between
// them and the exact bytes that are signed, stored, hashed and replicated. A client builds
// an EntryBody, encodes it, signs it with SignEntry and submits the resulting bytes.
//
// Threading: plain values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/keys.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

// Operator roles. Part of the persistent format — do not renumber.
enum class Role : int {
  kRegistrar = 1,  // opens accounts (registers people)
  kRecorder = 2,   // records services: deposits (存入)
  kRedeemer = 3,   // redemptions (兑换), holds, gifts (转赠) and donations (捐赠)
  kAdmin = 4,      // grants, policy, reversals, pool grants (district civil-affairs office)
  kAuditor = 5,    // reads only
};
std::string_view RoleName(Role role);

// Part of the persistent format — do not renumber.
enum class GiftScope : int {
  kAnyone = 0,
  kRelativesAndFriends = 1,
  kDirectRelatives = 2,
  kNone = 3
};
enum class AccountKind : int { kPerson = 0, kGroup = 1 };
enum class TransferKind : int { kGift = 1, kDonation = 2, kPoolGrant = 3 };
enum class Relation : int {
  kUnspecified = 0,
  kParent = 1,
  kChild = 2,
  kSpouse = 3,
  kGrandparent = 4,
  kGrandchild = 5,
  kSibling = 6,
  kOtherRelative = 7,
  kFriend = 8,
  kNone = 9,
};
// A relation's name ("parent", "child", "spouse", "grandparent", "grandchild", "sibling",
// "relative", "friend", "none"; "unspecified" for kUnspecified), and back: nullopt for a
// name that is none of them (kUnspecified has no name to parse).
std::string_view RelationName(Relation relation);
std::optional<Relation> ParseRelation(std::string_view name);

struct ServiceRate {
  std::string category;                // e.g. "meals" (助餐)
  std::uint32_t rate_permille = 1000;  // credited minutes per 1000 minutes served
};

// Versioned rules (policy). Zero in a limit means "no limit".
// A district of the city as the city office publishes it (docs/federation.md §10).
struct CityMember {
  std::string code;          // 6 digits
  std::string name;          // e.g. "青羊区时间银行"
  std::string verifier_key;  // its checkpoints' note verifier key: "<origin>+<hash>+<base64>"
  bool operator==(const CityMember&) const = default;
};

struct Policy {
  std::uint32_t version = 1;
  std::vector<ServiceRate> services;  // the catalogue deposits must name
  Minutes balance_cap = 0;            // above it, credits overflow to the pool (公益池)
  Minutes daily_earn_cap = 0;         // credited per account per local day
  std::uint32_t min_age_serve = 0;
  std::uint32_t min_age_redeem = 0;
  std::uint32_t min_age_redeem_hardship = 0;  // for accounts flagged hardship (0: same rule)
  Minutes min_served_to_redeem = 0;           // minutes the account must itself have served
  GiftScope gift_scope = GiftScope::kAnyone;
  Minutes starter_grant = 0;              // credited on registration
  bool owner_signs_debits = false;        // debits of owned accounts need the owner's signature
  std::uint32_t pool_min_need = 0;        // pool grants only to accounts with need >= this
  std::int32_t utc_offset_minutes = 480;  // local day boundary (China: UTC+8)
  std::int64_t max_hold_seconds = 0;      // longest hold timeout
  Minutes max_entry_minutes = 0;          // largest single deposit
  bool pool_in_order = false;             // pool grants answer requests, neediest first
  // The city's districts. When listed, every district an entry names must be one of them
  // (not_in_city), and a sync's copy must be verified with the key listed here
  // (peer_key_mismatch). Empty: not constrained.
  std::vector<CityMember> city;
};

struct Genesis {
  std::string name;  // "锦江区时间银行"
  std::string city;  // "510100"
  PublicKey root_key{};
  PublicKey log_key{};
  std::string origin;  // checkpoint origin, e.g. "timebank.chengdu/510104"
  Policy policy;       // version 1
};
struct Grant {
  PublicKey key{};
  std::vector<Role> roles;
  std::string label;
};
struct Revoke {
  PublicKey key{};
  std::string reason;
};
struct Open {
  std::string account;
  AccountKind kind = AccountKind::kPerson;
  std::uint32_t birth_year = 0;
  std::string street;
  std::string community;
  std::string owner_key;  // empty, or 32 bytes
  Hash commitment{};      // RealNameCommitment(record, salt); the record itself stays private
  bool hardship = false;
  std::uint32_t need = 0;  // 0..3, pool priority
};
struct Deposit {
  std::string volunteer;
  std::string beneficiary;  // optional
  std::string category;
  Minutes minutes = 0;
  std::int64_t served_at = 0;
  std::string beneficiary_ack;  // optional, carried
};
struct Redeem {
  std::string account;
  Minutes minutes = 0;
  std::string category;
  std::string serving_district;
};
struct Hold {
  std::string account;
  Minutes minutes = 0;
  std::int64_t expires_at = 0;
  std::string category;
  std::string serving_district;
};
struct HoldPost {
  EntryId hold_id{};
};
struct HoldVoid {
  EntryId hold_id{};
  std::string reason;
};
struct HoldExpire {
  EntryId hold_id{};
};
struct Transfer {
  TransferKind kind = TransferKind::kGift;
  std::string from;
  std::string to;
  Minutes minutes = 0;
  Relation relation = Relation::kUnspecified;
  EntryId request_id{};  // pool grants: the PoolRequest answered (all zero: none)
};
struct Reverse {
  EntryId entry_id{};
  std::string reason;
};
struct Sync {
  std::string district;
  std::uint64_t size = 0;
  Hash root{};
};
struct Migrate {
  std::string account;
  std::string to_district;
};
// Care given offline by this (serving) district against a hold that district `home` set
// aside for it (docs/federation.md §5); `home` posts the hold when it syncs this log.
struct Claim {
  std::string home;
  EntryId hold_id{};
  Minutes minutes = 0;
};
// An elder's application to the pool (公益池); queued by need level.
struct PoolRequest {
  std::string account;
  Minutes minutes = 0;
  std::string reason;
};

using EntryKind =
    std::variant<Genesis, Grant, Revoke, Policy, Open, Deposit, Redeem, Hold, HoldPost, HoldVoid,
                 HoldExpire, Transfer, Reverse, Sync, Migrate, PoolRequest, Claim>;
// "genesis", "grant", ..., "deposit", ... (the proto field names).
std::string_view KindName(const EntryKind& kind);

// What is signed.
struct EntryBody {
  EntryId id{};
  std::string district;
  std::int64_t time = 0;
  std::string community;
  EntryKind kind;
};

struct EntrySignature {
  PublicKey key{};
  SignatureBytes signature{};
};

// A decoded entry, with the exact bytes it came from.
struct DecodedEntry {
  EntryBody body;
  std::vector<EntrySignature> signatures;
  std::string body_bytes;  // exactly what the signatures cover
};

// The serialized body (the bytes to sign).
std::string EncodeBody(const EntryBody& body);
// The message an entry signature covers: "timebank/entry/v1" || 0x00 || body bytes.
std::string EntrySigningMessage(std::string_view body_bytes);
// Entry bytes: the body plus one signature per key, in the order given. The first signer
// is the operator who writes the entry; others may be the account owner's key.
std::string SignEntry(std::string_view body_bytes, std::initializer_list<const SigningKey*> keys);
// Convenience: EncodeBody + SignEntry.
std::string MakeEntry(const EntryBody& body, std::initializer_list<const SigningKey*> keys);

// The largest entry a log takes (C2SP tlog-tiles entry bundles carry 16-bit lengths).
inline constexpr std::size_t kMaxEntryBytes = 16384;

// Parses entry bytes. Errors: kMalformedEntry, saying which field is wrong.
Result<DecodedEntry> DecodeEntry(std::string_view entry_bytes);
// DecodeEntry plus: at least one signature, and every signature valid.
// Errors: kMalformedEntry, kMissingSignature, kBadSignature.
Result<DecodedEntry> DecodeAndVerifyEntry(std::string_view entry_bytes);

// 实名制: the real-name record kept by the home district only, never in the log.
struct RealNameRecord {
  std::string name;
  std::string id_number;
  std::string phone;
};
// SHA-256("timebank/realname/v1" || lp(salt) || lp(name) || lp(id_number) || lp(phone)),
// lp(x) = 4-byte big-endian length of x, then x. The log holds only this.
Hash RealNameCommitment(const RealNameRecord& record, std::string_view salt);

}  // namespace ledger
