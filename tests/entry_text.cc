#include "entry_text.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string_view>

namespace ledger::testing {
namespace {

// Proto enum value names, indexed by value (schema/entry.proto).
constexpr std::string_view kRoles[] = {"ROLE_UNSPECIFIED", "ROLE_REGISTRAR", "ROLE_RECORDER",
                                       "ROLE_REDEEMER",    "ROLE_ADMIN",     "ROLE_AUDITOR"};
constexpr std::string_view kGiftScopes[] = {"GIFT_ANYONE", "GIFT_RELATIVES_AND_FRIENDS",
                                            "GIFT_DIRECT_RELATIVES", "GIFT_NONE"};
constexpr std::string_view kAccountKinds[] = {"ACCOUNT_PERSON", "ACCOUNT_GROUP"};
constexpr std::string_view kTransferKinds[] = {"TRANSFER_UNSPECIFIED", "TRANSFER_GIFT",
                                               "TRANSFER_DONATION", "TRANSFER_POOL_GRANT"};
constexpr std::string_view kRelations[] = {
    "RELATION_UNSPECIFIED", "RELATION_PARENT",     "RELATION_CHILD",   "RELATION_SPOUSE",
    "RELATION_GRANDPARENT", "RELATION_GRANDCHILD", "RELATION_SIBLING", "RELATION_OTHER_RELATIVE",
    "RELATION_FRIEND",      "RELATION_NONE"};

std::string EnumName(std::span<const std::string_view> names, int value) {
  if (value < 0 || static_cast<std::size_t>(value) >= names.size()) return std::to_string(value);
  return std::string(names[value]);
}

class Writer {
 public:
  void Str(const std::string& path, const std::string& s) { Add(path, "\"" + s + "\""); }
  void Bytes(const std::string& path, std::string_view b) { Add(path, b.empty() ? "-" : ToHex(b)); }
  template <std::size_t N>
  void Bytes(const std::string& path, const std::array<std::uint8_t, N>& a) {
    Add(path, ToHex(a));
  }
  void Int(const std::string& path, std::int64_t v) { Add(path, std::to_string(v)); }
  void UInt(const std::string& path, std::uint64_t v) { Add(path, std::to_string(v)); }
  void Bool(const std::string& path, bool v) { Add(path, v ? "true" : "false"); }
  void Enum(const std::string& path, std::span<const std::string_view> names, int v) {
    Add(path, EnumName(names, v));
  }
  std::vector<std::pair<std::string, std::string>> Take() { return std::move(out_); }

 private:
  void Add(const std::string& path, std::string value) {
    out_.emplace_back(path, std::move(value));
  }
  std::vector<std::pair<std::string, std::string>> out_;
};

void WritePolicy(Writer& w, const std::string& p, const Policy& x) {
  w.UInt(p + ".version", x.version);
  for (std::size_t i = 0; i < x.services.size(); ++i) {
    const std::string s = p + ".services[" + std::to_string(i) + "]";
    w.Str(s + ".category", x.services[i].category);
    w.UInt(s + ".rate_permille", x.services[i].rate_permille);
  }
  w.Int(p + ".balance_cap", x.balance_cap);
  w.Int(p + ".daily_earn_cap", x.daily_earn_cap);
  w.UInt(p + ".min_age_serve", x.min_age_serve);
  w.UInt(p + ".min_age_redeem", x.min_age_redeem);
  w.UInt(p + ".min_age_redeem_hardship", x.min_age_redeem_hardship);
  w.Int(p + ".min_served_to_redeem", x.min_served_to_redeem);
  w.Enum(p + ".gift_scope", kGiftScopes, static_cast<int>(x.gift_scope));
  w.Int(p + ".starter_grant", x.starter_grant);
  w.Bool(p + ".owner_signs_debits", x.owner_signs_debits);
  w.UInt(p + ".pool_min_need", x.pool_min_need);
  w.Int(p + ".utc_offset_minutes", x.utc_offset_minutes);
  w.Int(p + ".max_hold_seconds", x.max_hold_seconds);
  w.Int(p + ".max_entry_minutes", x.max_entry_minutes);
  w.Bool(p + ".pool_in_order", x.pool_in_order);
}

struct KindWriter {
  Writer& w;
  void operator()(const Genesis& g) const {
    w.Str("genesis.name", g.name);
    w.Str("genesis.city", g.city);
    w.Bytes("genesis.root_key", g.root_key);
    w.Bytes("genesis.log_key", g.log_key);
    w.Str("genesis.origin", g.origin);
    WritePolicy(w, "genesis.policy", g.policy);
  }
  void operator()(const Grant& g) const {
    w.Bytes("grant.key", g.key);
    for (std::size_t i = 0; i < g.roles.size(); ++i)
      w.Enum("grant.roles[" + std::to_string(i) + "]", kRoles, static_cast<int>(g.roles[i]));
    w.Str("grant.label", g.label);
  }
  void operator()(const Revoke& r) const {
    w.Bytes("revoke.key", r.key);
    w.Str("revoke.reason", r.reason);
  }
  void operator()(const Policy& p) const { WritePolicy(w, "policy", p); }
  void operator()(const Open& o) const {
    w.Str("open.account", o.account);
    w.Enum("open.kind", kAccountKinds, static_cast<int>(o.kind));
    w.UInt("open.birth_year", o.birth_year);
    w.Str("open.street", o.street);
    w.Str("open.community", o.community);
    w.Bytes("open.owner_key", o.owner_key);
    w.Bytes("open.commitment", o.commitment);
    w.Bool("open.hardship", o.hardship);
    w.UInt("open.need", o.need);
  }
  void operator()(const Deposit& d) const {
    w.Str("deposit.volunteer", d.volunteer);
    w.Str("deposit.beneficiary", d.beneficiary);
    w.Str("deposit.category", d.category);
    w.Int("deposit.minutes", d.minutes);
    w.Int("deposit.served_at", d.served_at);
    w.Bytes("deposit.beneficiary_ack", d.beneficiary_ack);
  }
  void operator()(const Redeem& r) const {
    w.Str("redeem.account", r.account);
    w.Int("redeem.minutes", r.minutes);
    w.Str("redeem.category", r.category);
    w.Str("redeem.serving_district", r.serving_district);
  }
  void operator()(const Hold& h) const {
    w.Str("hold.account", h.account);
    w.Int("hold.minutes", h.minutes);
    w.Int("hold.expires_at", h.expires_at);
    w.Str("hold.category", h.category);
    w.Str("hold.serving_district", h.serving_district);
  }
  void operator()(const HoldPost& p) const { w.Bytes("post.hold_id", p.hold_id); }
  void operator()(const HoldVoid& v) const {
    w.Bytes("void.hold_id", v.hold_id);
    w.Str("void.reason", v.reason);
  }
  void operator()(const HoldExpire& x) const { w.Bytes("expire.hold_id", x.hold_id); }
  void operator()(const Transfer& t) const {
    w.Enum("transfer.kind", kTransferKinds, static_cast<int>(t.kind));
    w.Str("transfer.from", t.from);
    w.Str("transfer.to", t.to);
    w.Int("transfer.minutes", t.minutes);
    w.Enum("transfer.relation", kRelations, static_cast<int>(t.relation));
    w.Bytes("transfer.request_id", t.request_id);
  }
  void operator()(const Reverse& r) const {
    w.Bytes("reverse.entry_id", r.entry_id);
    w.Str("reverse.reason", r.reason);
  }
  void operator()(const Sync& s) const {
    w.Str("sync.district", s.district);
    w.UInt("sync.size", s.size);
    w.Bytes("sync.root", s.root);
  }
  void operator()(const Claim& c) const {
    w.Str("claim.home", c.home);
    w.Bytes("claim.hold_id", c.hold_id);
    w.Int("claim.minutes", c.minutes);
  }
  void operator()(const PoolRequest& q) const {
    w.Str("pool_request.account", q.account);
    w.Int("pool_request.minutes", q.minutes);
    w.Str("pool_request.reason", q.reason);
  }
  void operator()(const Migrate& m) const {
    w.Str("migrate.account", m.account);
    w.Str("migrate.to_district", m.to_district);
  }
};

// Reads fields by path; the first problem is kept and reported by Finish().
class Reader {
 public:
  explicit Reader(const std::vector<std::pair<std::string, std::string>>& fields) {
    for (const auto& [path, value] : fields) {
      if (!values_.emplace(path, value).second) Fail("field " + path + " is listed twice");
    }
  }

  bool Has(const std::string& path) const { return values_.count(path) != 0; }

  std::string Str(const std::string& path) {
    const std::string* v = Get(path);
    if (v == nullptr) return {};
    if (v->size() < 2 || v->front() != '"' || v->back() != '"') {
      Fail(path + ": a string must be in double quotes, got " + *v);
      return {};
    }
    return v->substr(1, v->size() - 2);
  }
  std::string Bytes(const std::string& path) {
    const std::string* v = Get(path);
    if (v == nullptr || *v == "-") return {};
    std::string out(v->size() / 2, '\0');
    if (v->size() % 2 != 0 ||
        !FromHex(*v, reinterpret_cast<std::uint8_t*>(out.data()), out.size())) {
      Fail(path + ": not hex: " + *v);
      return {};
    }
    return out;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(const std::string& path) {
    std::array<std::uint8_t, N> out{};
    const std::string b = Bytes(path);
    if (b.size() != N) {
      Fail(path + ": must be " + std::to_string(N) + " bytes");
      return out;
    }
    std::memcpy(out.data(), b.data(), N);
    return out;
  }
  template <typename T>
  T Int(const std::string& path) {
    const std::string* v = Get(path);
    if (v == nullptr) return 0;
    T out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) {
      Fail(path + ": not an integer in range: " + *v);
      return 0;
    }
    return out;
  }
  bool Bool(const std::string& path) {
    const std::string* v = Get(path);
    if (v == nullptr) return false;
    if (*v != "true" && *v != "false") Fail(path + ": must be true or false, got " + *v);
    return *v == "true";
  }
  int Enum(const std::string& path, std::span<const std::string_view> names) {
    const std::string* v = Get(path);
    if (v == nullptr) return 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == *v) return static_cast<int>(i);
    }
    Fail(path + ": unknown enum value " + *v);
    return 0;
  }

  Status Finish() {
    for (const auto& [path, value] : values_) {
      if (!used_.count(path)) Fail("unexpected field " + path);
    }
    return error_.empty() ? Status::Ok() : Status(Code::kInvalidArgument, error_);
  }

 private:
  const std::string* Get(const std::string& path) {
    auto it = values_.find(path);
    if (it == values_.end()) {
      Fail("missing field " + path);
      return nullptr;
    }
    used_.insert(path);
    return &it->second;
  }
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = what;
  }

  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
  std::string error_;
};

Policy ReadPolicy(Reader& r, const std::string& p) {
  Policy x;
  x.version = r.Int<std::uint32_t>(p + ".version");
  for (std::size_t i = 0;; ++i) {
    const std::string s = p + ".services[" + std::to_string(i) + "]";
    if (!r.Has(s + ".category")) break;
    x.services.push_back({r.Str(s + ".category"), r.Int<std::uint32_t>(s + ".rate_permille")});
  }
  x.balance_cap = r.Int<std::int64_t>(p + ".balance_cap");
  x.daily_earn_cap = r.Int<std::int64_t>(p + ".daily_earn_cap");
  x.min_age_serve = r.Int<std::uint32_t>(p + ".min_age_serve");
  x.min_age_redeem = r.Int<std::uint32_t>(p + ".min_age_redeem");
  x.min_age_redeem_hardship = r.Int<std::uint32_t>(p + ".min_age_redeem_hardship");
  x.min_served_to_redeem = r.Int<std::int64_t>(p + ".min_served_to_redeem");
  x.gift_scope = static_cast<GiftScope>(r.Enum(p + ".gift_scope", kGiftScopes));
  x.starter_grant = r.Int<std::int64_t>(p + ".starter_grant");
  x.owner_signs_debits = r.Bool(p + ".owner_signs_debits");
  x.pool_min_need = r.Int<std::uint32_t>(p + ".pool_min_need");
  x.utc_offset_minutes = r.Int<std::int32_t>(p + ".utc_offset_minutes");
  x.max_hold_seconds = r.Int<std::int64_t>(p + ".max_hold_seconds");
  x.max_entry_minutes = r.Int<std::int64_t>(p + ".max_entry_minutes");
  x.pool_in_order = r.Bool(p + ".pool_in_order");
  return x;
}

Result<EntryKind> ReadKind(Reader& r, const std::string& kind) {
  if (kind == "genesis") {
    Genesis g;
    g.name = r.Str("genesis.name");
    g.city = r.Str("genesis.city");
    g.root_key = r.Fixed<32>("genesis.root_key");
    g.log_key = r.Fixed<32>("genesis.log_key");
    g.origin = r.Str("genesis.origin");
    g.policy = ReadPolicy(r, "genesis.policy");
    return EntryKind(std::move(g));
  }
  if (kind == "grant") {
    Grant g;
    g.key = r.Fixed<32>("grant.key");
    for (std::size_t i = 0; r.Has("grant.roles[" + std::to_string(i) + "]"); ++i)
      g.roles.push_back(
          static_cast<Role>(r.Enum("grant.roles[" + std::to_string(i) + "]", kRoles)));
    g.label = r.Str("grant.label");
    return EntryKind(std::move(g));
  }
  if (kind == "revoke") return EntryKind(Revoke{r.Fixed<32>("revoke.key"), r.Str("revoke.reason")});
  if (kind == "policy") return EntryKind(ReadPolicy(r, "policy"));
  if (kind == "open") {
    Open o;
    o.account = r.Str("open.account");
    o.kind = static_cast<AccountKind>(r.Enum("open.kind", kAccountKinds));
    o.birth_year = r.Int<std::uint32_t>("open.birth_year");
    o.street = r.Str("open.street");
    o.community = r.Str("open.community");
    o.owner_key = r.Bytes("open.owner_key");
    o.commitment = r.Fixed<32>("open.commitment");
    o.hardship = r.Bool("open.hardship");
    o.need = r.Int<std::uint32_t>("open.need");
    return EntryKind(std::move(o));
  }
  if (kind == "deposit") {
    Deposit d;
    d.volunteer = r.Str("deposit.volunteer");
    d.beneficiary = r.Str("deposit.beneficiary");
    d.category = r.Str("deposit.category");
    d.minutes = r.Int<std::int64_t>("deposit.minutes");
    d.served_at = r.Int<std::int64_t>("deposit.served_at");
    d.beneficiary_ack = r.Bytes("deposit.beneficiary_ack");
    return EntryKind(std::move(d));
  }
  if (kind == "redeem") {
    Redeem x;
    x.account = r.Str("redeem.account");
    x.minutes = r.Int<std::int64_t>("redeem.minutes");
    x.category = r.Str("redeem.category");
    x.serving_district = r.Str("redeem.serving_district");
    return EntryKind(std::move(x));
  }
  if (kind == "hold") {
    Hold h;
    h.account = r.Str("hold.account");
    h.minutes = r.Int<std::int64_t>("hold.minutes");
    h.expires_at = r.Int<std::int64_t>("hold.expires_at");
    h.category = r.Str("hold.category");
    h.serving_district = r.Str("hold.serving_district");
    return EntryKind(std::move(h));
  }
  if (kind == "post") return EntryKind(HoldPost{r.Fixed<16>("post.hold_id")});
  if (kind == "void") return EntryKind(HoldVoid{r.Fixed<16>("void.hold_id"), r.Str("void.reason")});
  if (kind == "expire") return EntryKind(HoldExpire{r.Fixed<16>("expire.hold_id")});
  if (kind == "transfer") {
    Transfer t;
    t.kind = static_cast<TransferKind>(r.Enum("transfer.kind", kTransferKinds));
    t.from = r.Str("transfer.from");
    t.to = r.Str("transfer.to");
    t.minutes = r.Int<std::int64_t>("transfer.minutes");
    t.relation = static_cast<Relation>(r.Enum("transfer.relation", kRelations));
    t.request_id = r.Fixed<16>("transfer.request_id");
    return EntryKind(std::move(t));
  }
  if (kind == "reverse")
    return EntryKind(Reverse{r.Fixed<16>("reverse.entry_id"), r.Str("reverse.reason")});
  if (kind == "sync") {
    Sync s;
    s.district = r.Str("sync.district");
    s.size = r.Int<std::uint64_t>("sync.size");
    s.root = r.Fixed<32>("sync.root");
    return EntryKind(std::move(s));
  }
  if (kind == "claim")
    return EntryKind(Claim{r.Str("claim.home"), r.Fixed<16>("claim.hold_id"),
                           r.Int<std::int64_t>("claim.minutes")});
  if (kind == "pool_request")
    return EntryKind(PoolRequest{r.Str("pool_request.account"),
                                 r.Int<std::int64_t>("pool_request.minutes"),
                                 r.Str("pool_request.reason")});
  if (kind == "migrate")
    return EntryKind(Migrate{r.Str("migrate.account"), r.Str("migrate.to_district")});
  return Status(Code::kInvalidArgument, "unknown entry kind " + kind);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BodyFields(const EntryBody& body) {
  Writer w;
  w.Bytes("id", body.id);
  w.Str("district", body.district);
  w.Int("time", body.time);
  w.Str("community", body.community);
  std::visit(KindWriter{w}, body.kind);
  return w.Take();
}

Result<EntryBody> BodyFromFields(const std::string& kind,
                                 const std::vector<std::pair<std::string, std::string>>& fields) {
  Reader r(fields);
  EntryBody body;
  body.id = r.Fixed<16>("id");
  body.district = r.Str("district");
  body.time = r.Int<std::int64_t>("time");
  body.community = r.Str("community");
  auto k = ReadKind(r, kind);
  if (!k.ok()) return k.status();
  body.kind = std::move(k).value();
  if (Status s = r.Finish(); !s.ok()) return s;
  return body;
}

}  // namespace ledger::testing
