#include "api.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <chrono>

#include <array>
#include <charconv>
#include <limits>
#include <set>

namespace timebank::api {

using namespace ledger;

namespace {

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return ToHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

json Hashes(const std::vector<Hash>& path) {
  json out = json::array();
  for (const auto& h : path) out.push_back(ToHex(h));
  return out;
}

template <typename T>
bool ReadU64(const json& j, const char* field, T* out) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<T>();
  return true;
}

Result<std::vector<Hash>> PathFromJson(const json& j) {
  auto it = j.find("path");
  if (it == j.end() || !it->is_array()) return Status(Code::kInvalidArgument, "proof has no path");
  std::vector<Hash> out;
  for (const auto& h : *it) {
    if (!h.is_string()) return Status(Code::kInvalidArgument, "proof path holds a non-string");
    auto hash = HashFromHex(h.get<std::string>());
    if (!hash.ok()) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

}  // namespace

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RequestSigningMessage(std::string_view method, std::string_view target,
                                  std::int64_t time, std::string_view nonce,
                                  std::string_view body) {
  return fmt::format("timebank-request/v1\n{}\n{}\n{}\n{}\n{}", method, target, time, nonce,
                     Sha256Hex(body));
}

RequestSignature SignRequest(const SigningKey& key, std::string_view method,
                             std::string_view target, std::int64_t time, std::string_view body) {
  const std::string nonce = ToHex(NewEntryId());
  const auto sig = key.Sign(RequestSigningMessage(method, target, time, nonce, body));
  return {ToHex(key.public_key()), std::to_string(time), nonce, ToHex(sig)};
}

json ErrorBody(std::string_view code, std::string_view message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
    case Code::kMalformedEntry:
    case Code::kBadAccountNumber:
      return 400;
    case Code::kNotFound:
    case Code::kUnknownAccount:
    case Code::kHoldNotFound:
      return 404;
    case Code::kIdConflict:
    case Code::kAccountExists:
    case Code::kGenesisExists:
    case Code::kHoldClosed:
    case Code::kAlreadyReversed:
      return 409;
    case Code::kCorruption:
    case Code::kIoError:
    case Code::kInternal:
      return 500;
    case Code::kUnimplemented:
      return 501;
    case Code::kClosed:
      return 503;
    default:
      return 422;  // a rule refused the entry
  }
}

std::string_view AccountTypeName(AccountType t) {
  switch (t) {
    case AccountType::kPerson:
      return "person";
    case AccountType::kGroup:
      return "group";
    case AccountType::kSystem:
      return "system";
  }
  return "person";
}

json ToJson(const AccountInfo& a) {
  json j = {{"account", a.account},         {"type", AccountTypeName(a.type)},
            {"balance_minutes", a.balance}, {"balance", FormatHours(a.balance)},
            {"served_minutes", a.served},   {"birth_year", a.birth_year},
            {"hardship", a.hardship},       {"need", a.need},
            {"street", a.street},           {"community", a.community},
            {"opened_at", a.opened_at}};
  j["owner_key"] = a.has_owner_key ? json(ToHex(a.owner_key)) : json(nullptr);
  if (!a.moved_to.empty()) {  // moved home: this district no longer debits it
    j["moved_to"] = a.moved_to;
    j["moved_at"] = a.moved_at;
  }
  return j;
}

std::string_view GiftScopeName(GiftScope scope) {
  switch (scope) {
    case GiftScope::kAnyone:
      return "anyone";
    case GiftScope::kRelativesAndFriends:
      return "relatives_and_friends";
    case GiftScope::kDirectRelatives:
      return "direct_relatives";
    case GiftScope::kNone:
      return "none";
  }
  return "anyone";
}

json ToJson(const Policy& p) {
  json services = json::array();
  for (const auto& s : p.services)
    services.push_back({{"category", s.category}, {"rate_permille", s.rate_permille}});
  json city = json::array();
  for (const auto& m : p.city)
    city.push_back({{"code", m.code}, {"name", m.name}, {"verifier_key", m.verifier_key}});
  return {{"version", p.version},
          {"services", services},
          {"balance_cap_minutes", p.balance_cap},
          {"daily_earn_cap_minutes", p.daily_earn_cap},
          {"min_age_serve", p.min_age_serve},
          {"min_age_redeem", p.min_age_redeem},
          {"min_age_redeem_hardship", p.min_age_redeem_hardship},
          {"min_served_to_redeem_minutes", p.min_served_to_redeem},
          {"gift_scope", static_cast<int>(p.gift_scope)},
          {"starter_grant_minutes", p.starter_grant},
          {"owner_signs_debits", p.owner_signs_debits},
          {"pool_min_need", p.pool_min_need},
          {"utc_offset_minutes", p.utc_offset_minutes},
          {"max_hold_seconds", p.max_hold_seconds},
          {"max_entry_minutes", p.max_entry_minutes},
          {"pool_in_order", p.pool_in_order},
          {"city", city}};
}

namespace {

// Reads policy field `key` of `j` into *out when present, checking its JSON type.
template <typename T>
Status PolicyField(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  auto bad = [&](std::string_view what) {
    return Status(Code::kInvalidArgument, fmt::format("policy: {} must be {}", key, what));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return bad("true or false");
    *out = it->template get<bool>();
  } else if constexpr (std::is_signed_v<T>) {
    if (!it->is_number_integer() ||
        (it->is_number_unsigned() &&
         it->template get<std::uint64_t>() >
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())))
      return bad("a whole number in range");
    const auto v = it->template get<std::int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      return bad("in range");
    *out = static_cast<T>(v);
  } else {
    if (!it->is_number_integer() ||
        (!it->is_number_unsigned() && it->template get<std::int64_t>() < 0))
      return bad("a whole number >= 0");
    const auto v = it->template get<std::uint64_t>();
    if (v > std::numeric_limits<T>::max()) return bad("in range");
    *out = static_cast<T>(v);
  }
  return Status::Ok();
}

Status GiftScopeFromJson(const json& j, GiftScope* out) {
  auto it = j.find("gift_scope");
  if (it == j.end()) return Status::Ok();
  for (int s = 0; s <= 3; ++s)
    if ((it->is_number_integer() && it->get<std::int64_t>() == s) ||
        (it->is_string() && it->get<std::string>() == GiftScopeName(static_cast<GiftScope>(s)))) {
      *out = static_cast<GiftScope>(s);
      return Status::Ok();
    }
  return Status(Code::kInvalidArgument,
                "policy: gift_scope must be anyone, relatives_and_friends, direct_relatives or "
                "none (or 0..3)");
}

// An array of objects with string fields only: services and city.
template <typename F>
Status ObjectsFromJson(const json& j, const char* key, std::initializer_list<const char*> fields,
                       F each) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  auto bad = [&](std::size_t i, std::string_view what) {
    return Status(Code::kInvalidArgument, fmt::format("policy: {}[{}]: {}", key, i, what));
  };
  if (!it->is_array())
    return Status(Code::kInvalidArgument, fmt::format("policy: {} must be a list", key));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& o = (*it)[i];
    if (!o.is_object()) return bad(i, "must be a table");
    for (const auto& [k, v] : o.items())
      if (std::find_if(fields.begin(), fields.end(), [&](const char* f) { return k == f; }) ==
          fields.end())
        return bad(i, fmt::format("unknown field '{}'", k));
    if (Status s = each(o); !s.ok()) return bad(i, s.message());
  }
  return Status::Ok();
}

}  // namespace

ledger::Result<Policy> PolicyFromJson(const json& j) {
  if (!j.is_object()) return Status(Code::kInvalidArgument, "policy: must be an object");
  static const std::set<std::string> known = {"version",
                                              "services",
                                              "balance_cap_minutes",
                                              "daily_earn_cap_minutes",
                                              "min_age_serve",
                                              "min_age_redeem",
                                              "min_age_redeem_hardship",
                                              "min_served_to_redeem_minutes",
                                              "gift_scope",
                                              "starter_grant_minutes",
                                              "owner_signs_debits",
                                              "pool_min_need",
                                              "utc_offset_minutes",
                                              "max_hold_seconds",
                                              "max_entry_minutes",
                                              "pool_in_order",
                                              "city"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k))
      return Status(Code::kInvalidArgument, fmt::format("policy: unknown field '{}'", k));
  Policy p;
  const Status read[] = {
      PolicyField(j, "version", &p.version),
      PolicyField(j, "balance_cap_minutes", &p.balance_cap),
      PolicyField(j, "daily_earn_cap_minutes", &p.daily_earn_cap),
      PolicyField(j, "min_age_serve", &p.min_age_serve),
      PolicyField(j, "min_age_redeem", &p.min_age_redeem),
      PolicyField(j, "min_age_redeem_hardship", &p.min_age_redeem_hardship),
      PolicyField(j, "min_served_to_redeem_minutes", &p.min_served_to_redeem),
      GiftScopeFromJson(j, &p.gift_scope),
      PolicyField(j, "starter_grant_minutes", &p.starter_grant),
      PolicyField(j, "owner_signs_debits", &p.owner_signs_debits),
      PolicyField(j, "pool_min_need", &p.pool_min_need),
      PolicyField(j, "utc_offset_minutes", &p.utc_offset_minutes),
      PolicyField(j, "max_hold_seconds", &p.max_hold_seconds),
      PolicyField(j, "max_entry_minutes", &p.max_entry_minutes),
      PolicyField(j, "pool_in_order", &p.pool_in_order),
      ObjectsFromJson(j, "services", {"category", "rate_permille"},
                      [&](const json& o) {
                        ServiceRate r;
                        if (!o.contains("category") || !o["category"].is_string())
                          return Status(Code::kInvalidArgument, "category must be a string");
                        r.category = o["category"].get<std::string>();
                        if (Status s = PolicyField(o, "rate_permille", &r.rate_permille); !s.ok())
                          return s;
                        p.services.push_back(std::move(r));
                        return Status::Ok();
                      }),
      ObjectsFromJson(
          j, "city", {"code", "name", "verifier_key"},
          [&](const json& o) {
            CityMember m;
            for (auto [field, out] : {std::pair{"code", &m.code}, std::pair{"name", &m.name},
                                      std::pair{"verifier_key", &m.verifier_key}}) {
              if (!o.contains(field) || !o[field].is_string())
                return Status(Code::kInvalidArgument, fmt::format("{} must be a string", field));
              *out = o[field].get<std::string>();
            }
            p.city.push_back(std::move(m));
            return Status::Ok();
          }),
  };
  for (const Status& s : read)
    if (!s.ok()) return s;
  return p;
}

json ToJson(const InclusionProof& p) {
  return {{"index", p.index}, {"tree_size", p.tree_size}, {"path", Hashes(p.path)}};
}

json ToJson(const ConsistencyProof& p) {
  return {{"old_size", p.old_size}, {"new_size", p.new_size}, {"path", Hashes(p.path)}};
}

json ToJson(const HistoryPage& page) {
  json items = json::array();
  for (const auto& it : page.items)
    items.push_back(
        {{"index", it.index}, {"delta_minutes", it.delta}, {"delta", FormatHours(it.delta)}});
  json j = {{"items", items}};
  j["next"] = page.next ? json(*page.next) : json(nullptr);
  return j;
}

namespace {

// Each kind's own fields, as the API shows them.
json KindJson(const Genesis& v) {
  return {{"name", v.name},
          {"city", v.city},
          {"root_key", ToHex(v.root_key)},
          {"log_key", ToHex(v.log_key)},
          {"origin", v.origin},
          {"policy", ToJson(v.policy)}};
}
json KindJson(const Grant& v) {
  json roles = json::array();
  for (Role r : v.roles) roles.push_back(RoleName(r));
  return {{"key", ToHex(v.key)}, {"roles", roles}, {"label", v.label}};
}
json KindJson(const Revoke& v) {
  return {{"key", ToHex(v.key)}, {"reason", v.reason}};
}
json KindJson(const Policy& v) {
  return ToJson(v);
}
json KindJson(const Open& v) {
  return {{"account", v.account},
          {"type", v.kind == AccountKind::kGroup ? "group" : "person"},
          {"birth_year", v.birth_year},
          {"street", v.street},
          {"community", v.community},
          {"owner_key", ToHex(v.owner_key)},
          {"commitment", ToHex(v.commitment)},
          {"hardship", v.hardship},
          {"need", v.need}};
}
json KindJson(const Deposit& v) {
  return {{"volunteer", v.volunteer},
          {"beneficiary", v.beneficiary},
          {"category", v.category},
          {"minutes", v.minutes},
          {"served_at", v.served_at}};
}
json KindJson(const Redeem& v) {
  return {{"account", v.account},
          {"minutes", v.minutes},
          {"category", v.category},
          {"serving_district", v.serving_district}};
}
json KindJson(const Hold& v) {
  return {{"account", v.account},
          {"minutes", v.minutes},
          {"expires_at", v.expires_at},
          {"category", v.category},
          {"serving_district", v.serving_district}};
}
json KindJson(const HoldPost& v) {
  return {{"hold_id", ToHex(v.hold_id)}};
}
json KindJson(const HoldExpire& v) {
  return {{"hold_id", ToHex(v.hold_id)}};
}
json KindJson(const HoldVoid& v) {
  return {{"hold_id", ToHex(v.hold_id)}, {"reason", v.reason}};
}
json KindJson(const Transfer& v) {
  return {{"transfer", v.kind == TransferKind::kGift       ? "gift"
                       : v.kind == TransferKind::kDonation ? "donation"
                                                           : "pool_grant"},
          {"from", v.from},
          {"to", v.to},
          {"minutes", v.minutes},
          {"relation", static_cast<int>(v.relation)},
          {"request_id", ToHex(v.request_id)}};
}
json KindJson(const Reverse& v) {
  return {{"entry_id", ToHex(v.entry_id)}, {"reason", v.reason}};
}
json KindJson(const Sync& v) {
  return {{"district", v.district}, {"size", v.size}, {"root", ToHex(v.root)}};
}
json KindJson(const Migrate& v) {
  return {{"account", v.account}, {"to_district", v.to_district}};
}
json KindJson(const Claim& v) {
  return {{"home", v.home}, {"hold_id", ToHex(v.hold_id)}, {"minutes", v.minutes}};
}
json KindJson(const PoolRequest& v) {
  return {{"account", v.account}, {"minutes", v.minutes}, {"reason", v.reason}};
}

}  // namespace

json BodyJson(const EntryBody& body) {
  return {{"id", ToHex(body.id)},
          {"district", body.district},
          {"time", body.time},
          {"community", body.community},
          {"kind", KindName(body.kind)},
          {"body", std::visit([](const auto& v) { return KindJson(v); }, body.kind)}};
}

json EntryJson(std::uint64_t index, const std::string& entry_bytes) {
  json j = {{"index", index},
            {"entry", Base64Encode(entry_bytes)},
            {"leaf_hash", ToHex(LeafHash(entry_bytes))}};
  if (auto d = DecodeEntry(entry_bytes); d.ok()) {
    j["decoded"] = BodyJson(d->body);
    json signers = json::array();
    for (const auto& s : d->signatures) signers.push_back(ToHex(s.key));
    j["signers"] = signers;
  }
  return j;
}

Result<Hash> HashFromHex(std::string_view hex) {
  Hash h;
  if (hex.size() != 64 || !FromHex(hex, &h))
    return Status(Code::kInvalidArgument, fmt::format("'{}' is not a 32-byte hex hash", hex));
  return h;
}

Result<InclusionProof> InclusionFromJson(const json& j) {
  InclusionProof p;
  if (!j.is_object() || !ReadU64(j, "index", &p.index) || !ReadU64(j, "tree_size", &p.tree_size))
    return Status(Code::kInvalidArgument, "inclusion proof needs index and tree_size");
  auto path = PathFromJson(j);
  if (!path.ok()) return path.status();
  p.path = std::move(path).value();
  return p;
}

Result<ConsistencyProof> ConsistencyFromJson(const json& j) {
  ConsistencyProof p;
  if (!j.is_object() || !ReadU64(j, "old_size", &p.old_size) ||
      !ReadU64(j, "new_size", &p.new_size))
    return Status(Code::kInvalidArgument, "consistency proof needs old_size and new_size");
  auto path = PathFromJson(j);
  if (!path.ok()) return path.status();
  p.path = std::move(path).value();
  return p;
}

}  // namespace timebank::api
