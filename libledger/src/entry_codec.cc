// Conversion between the public entry structs and the protobuf wire format
// (schema/entry.proto). Decoding checks sizes of every fixed-size field, so that code
// past this point can rely on them.
#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>

#include <cstring>

#include "codec.h"
#include "crypto.h"
#include "entry.pb.h"
#include "ledger/entry.h"

namespace ledger {
namespace pb = timebank::v1;

namespace {

constexpr std::string_view kSigningContext{"timebank/entry/v1\0", 18};

template <std::size_t N>
std::string Bytes(const std::array<std::uint8_t, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), N);
}

template <std::size_t N>
bool Fixed(const std::string& in, std::array<std::uint8_t, N>* out) {
  if (in.size() != N) return false;
  std::memcpy(out->data(), in.data(), N);
  return true;
}

Status Malformed(std::string_view what) {
  return Status(Code::kMalformedEntry, std::string(what));
}

void ToProto(const Policy& p, pb::Policy* out) {
  out->set_version(p.version);
  for (const auto& s : p.services) {
    auto* r = out->add_services();
    r->set_category(s.category);
    r->set_rate_permille(s.rate_permille);
  }
  out->set_balance_cap(p.balance_cap);
  out->set_daily_earn_cap(p.daily_earn_cap);
  out->set_min_age_serve(p.min_age_serve);
  out->set_min_age_redeem(p.min_age_redeem);
  out->set_min_age_redeem_hardship(p.min_age_redeem_hardship);
  out->set_min_served_to_redeem(p.min_served_to_redeem);
  out->set_gift_scope(static_cast<pb::GiftScope>(p.gift_scope));
  out->set_starter_grant(p.starter_grant);
  out->set_owner_signs_debits(p.owner_signs_debits);
  out->set_pool_min_need(p.pool_min_need);
  out->set_utc_offset_minutes(p.utc_offset_minutes);
  out->set_max_hold_seconds(p.max_hold_seconds);
  out->set_max_entry_minutes(p.max_entry_minutes);
  out->set_pool_in_order(p.pool_in_order);
  for (const auto& m : p.city) {
    auto* c = out->add_city();
    c->set_code(m.code);
    c->set_name(m.name);
    c->set_verifier_key(m.verifier_key);
  }
}

}  // namespace

Policy PolicyFromProto(const pb::Policy& p) {
  Policy out;
  out.version = p.version();
  for (const auto& s : p.services()) out.services.push_back({s.category(), s.rate_permille()});
  out.balance_cap = p.balance_cap();
  out.daily_earn_cap = p.daily_earn_cap();
  out.min_age_serve = p.min_age_serve();
  out.min_age_redeem = p.min_age_redeem();
  out.min_age_redeem_hardship = p.min_age_redeem_hardship();
  out.min_served_to_redeem = p.min_served_to_redeem();
  out.gift_scope = static_cast<GiftScope>(p.gift_scope());
  out.starter_grant = p.starter_grant();
  out.owner_signs_debits = p.owner_signs_debits();
  out.pool_min_need = p.pool_min_need();
  out.utc_offset_minutes = p.utc_offset_minutes();
  out.max_hold_seconds = p.max_hold_seconds();
  out.max_entry_minutes = p.max_entry_minutes();
  out.pool_in_order = p.pool_in_order();
  for (const auto& m : p.city()) out.city.push_back({m.code(), m.name(), m.verifier_key()});
  return out;
}

namespace {

struct ToProtoVisitor {
  pb::Body* b;
  void operator()(const Genesis& g) const {
    auto* o = b->mutable_genesis();
    o->set_name(g.name);
    o->set_city(g.city);
    o->set_root_key(Bytes(g.root_key));
    o->set_log_key(Bytes(g.log_key));
    o->set_origin(g.origin);
    ToProto(g.policy, o->mutable_policy());
  }
  void operator()(const Grant& g) const {
    auto* o = b->mutable_grant();
    o->set_key(Bytes(g.key));
    for (Role r : g.roles) o->add_roles(static_cast<pb::Role>(r));
    o->set_label(g.label);
  }
  void operator()(const Revoke& r) const {
    auto* o = b->mutable_revoke();
    o->set_key(Bytes(r.key));
    o->set_reason(r.reason);
  }
  void operator()(const Policy& p) const { ToProto(p, b->mutable_policy()); }
  void operator()(const Open& a) const {
    auto* o = b->mutable_open();
    o->set_account(a.account);
    o->set_kind(static_cast<pb::AccountKind>(a.kind));
    o->set_birth_year(a.birth_year);
    o->set_street(a.street);
    o->set_community(a.community);
    o->set_owner_key(a.owner_key);
    o->set_commitment(Bytes(a.commitment));
    o->set_hardship(a.hardship);
    o->set_need(a.need);
  }
  void operator()(const Deposit& d) const {
    auto* o = b->mutable_deposit();
    o->set_volunteer(d.volunteer);
    o->set_beneficiary(d.beneficiary);
    o->set_category(d.category);
    o->set_minutes(d.minutes);
    o->set_served_at(d.served_at);
    o->set_beneficiary_ack(d.beneficiary_ack);
  }
  void operator()(const Redeem& r) const {
    auto* o = b->mutable_redeem();
    o->set_account(r.account);
    o->set_minutes(r.minutes);
    o->set_category(r.category);
    o->set_serving_district(r.serving_district);
  }
  void operator()(const Hold& h) const {
    auto* o = b->mutable_hold();
    o->set_account(h.account);
    o->set_minutes(h.minutes);
    o->set_expires_at(h.expires_at);
    o->set_category(h.category);
    o->set_serving_district(h.serving_district);
  }
  void operator()(const HoldPost& p) const { b->mutable_post()->set_hold_id(Bytes(p.hold_id)); }
  void operator()(const HoldVoid& v) const {
    b->mutable_void_()->set_hold_id(Bytes(v.hold_id));
    b->mutable_void_()->set_reason(v.reason);
  }
  void operator()(const HoldExpire& e) const { b->mutable_expire()->set_hold_id(Bytes(e.hold_id)); }
  void operator()(const Transfer& t) const {
    auto* o = b->mutable_transfer();
    o->set_kind(static_cast<pb::TransferKind>(t.kind));
    o->set_from(t.from);
    o->set_to(t.to);
    o->set_minutes(t.minutes);
    o->set_relation(static_cast<pb::Relation>(t.relation));
    if (t.request_id != EntryId{}) o->set_request_id(Bytes(t.request_id));
  }
  void operator()(const Reverse& r) const {
    b->mutable_reverse()->set_entry_id(Bytes(r.entry_id));
    b->mutable_reverse()->set_reason(r.reason);
  }
  void operator()(const Sync& s) const {
    auto* o = b->mutable_sync();
    o->set_district(s.district);
    o->set_size(s.size);
    o->set_root(Bytes(s.root));
  }
  void operator()(const Migrate& m) const {
    b->mutable_migrate()->set_account(m.account);
    b->mutable_migrate()->set_to_district(m.to_district);
  }
  void operator()(const PoolRequest& r) const {
    auto* o = b->mutable_pool_request();
    o->set_account(r.account);
    o->set_minutes(r.minutes);
    o->set_reason(r.reason);
  }
  void operator()(const Claim& c) const {
    auto* o = b->mutable_claim();
    o->set_home(c.home);
    o->set_hold_id(Bytes(c.hold_id));
    o->set_minutes(c.minutes);
  }
};

// Each kind from its message, with the checks of its fixed-size fields and enums.
Result<EntryKind> FromProto(const pb::Genesis& g) {
  Genesis out{g.name(), g.city(), {}, {}, g.origin(), PolicyFromProto(g.policy())};
  if (!Fixed(g.root_key(), &out.root_key)) return Malformed("genesis.root_key must be 32 bytes");
  if (!Fixed(g.log_key(), &out.log_key)) return Malformed("genesis.log_key must be 32 bytes");
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Grant& g) {
  Grant out;
  if (!Fixed(g.key(), &out.key)) return Malformed("grant.key must be 32 bytes");
  for (int r : g.roles()) {
    if (r < 1 || r > 5) return Malformed(fmt::format("grant.roles: unknown role {}", r));
    out.roles.push_back(static_cast<Role>(r));
  }
  out.label = g.label();
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Revoke& r) {
  Revoke out;
  if (!Fixed(r.key(), &out.key)) return Malformed("revoke.key must be 32 bytes");
  out.reason = r.reason();
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Open& a) {
  Open out{a.account(),
           static_cast<AccountKind>(a.kind()),
           a.birth_year(),
           a.street(),
           a.community(),
           a.owner_key(),
           {},
           a.hardship(),
           a.need()};
  if (a.kind() != pb::ACCOUNT_PERSON && a.kind() != pb::ACCOUNT_GROUP)
    return Malformed("open.kind must be person or group");
  if (!out.owner_key.empty() && out.owner_key.size() != 32)
    return Malformed("open.owner_key must be empty or 32 bytes");
  if (!Fixed(a.commitment(), &out.commitment)) return Malformed("open.commitment must be 32 bytes");
  return EntryKind(std::move(out));
}
// post, void and expire name a hold by its id.
template <typename Out, typename In>
Result<EntryKind> HoldEnd(const In& in, const char* what) {
  Out out;
  if (!Fixed(in.hold_id(), &out.hold_id))
    return Malformed(fmt::format("{}.hold_id must be 16 bytes", what));
  if constexpr (std::is_same_v<Out, HoldVoid>) out.reason = in.reason();
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Transfer& t) {
  if (t.kind() < 1 || t.kind() > 3)
    return Malformed("transfer.kind must be gift, donation or pool_grant");
  if (t.relation() < 0 || t.relation() > 9) return Malformed("transfer.relation is unknown");
  Transfer out{static_cast<TransferKind>(t.kind()), t.from(), t.to(), t.minutes(),
               static_cast<Relation>(t.relation())};
  if (!t.request_id().empty() && !Fixed(t.request_id(), &out.request_id))
    return Malformed("transfer.request_id must be empty or 16 bytes");
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Reverse& r) {
  Reverse out;
  if (!Fixed(r.entry_id(), &out.entry_id)) return Malformed("reverse.entry_id must be 16 bytes");
  out.reason = r.reason();
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Sync& y) {
  Sync out{y.district(), y.size(), {}};
  if (!Fixed(y.root(), &out.root)) return Malformed("sync.root must be 32 bytes");
  return EntryKind(std::move(out));
}
Result<EntryKind> FromProto(const pb::Claim& c) {
  Claim out{c.home(), {}, c.minutes()};
  if (!Fixed(c.hold_id(), &out.hold_id)) return Malformed("claim.hold_id must be 16 bytes");
  return EntryKind(out);
}

Result<EntryKind> KindFromProto(const pb::Body& b) {
  using B = pb::Body;
  switch (b.kind_case()) {
    case B::kGenesis:
      return FromProto(b.genesis());
    case B::kGrant:
      return FromProto(b.grant());
    case B::kRevoke:
      return FromProto(b.revoke());
    case B::kPolicy:
      return EntryKind(PolicyFromProto(b.policy()));
    case B::kOpen:
      return FromProto(b.open());
    case B::kDeposit: {
      const auto& d = b.deposit();
      return EntryKind(Deposit{d.volunteer(), d.beneficiary(), d.category(), d.minutes(),
                               d.served_at(), d.beneficiary_ack()});
    }
    case B::kRedeem: {
      const auto& r = b.redeem();
      return EntryKind(Redeem{r.account(), r.minutes(), r.category(), r.serving_district()});
    }
    case B::kHold: {
      const auto& h = b.hold();
      return EntryKind(
          Hold{h.account(), h.minutes(), h.expires_at(), h.category(), h.serving_district()});
    }
    case B::kPost:
      return HoldEnd<HoldPost>(b.post(), "post");
    case B::kVoid:
      return HoldEnd<HoldVoid>(b.void_(), "void");
    case B::kExpire:
      return HoldEnd<HoldExpire>(b.expire(), "expire");
    case B::kTransfer:
      return FromProto(b.transfer());
    case B::kReverse:
      return FromProto(b.reverse());
    case B::kSync:
      return FromProto(b.sync());
    case B::kMigrate:
      return EntryKind(Migrate{b.migrate().account(), b.migrate().to_district()});
    case B::kPoolRequest: {
      const auto& r = b.pool_request();
      return EntryKind(PoolRequest{r.account(), r.minutes(), r.reason()});
    }
    case B::kClaim:
      return FromProto(b.claim());
    case B::KIND_NOT_SET:
      break;
  }
  return Malformed("body has no entry kind");
}

// The wire type a field of this type is written with (packed repeated scalars also
// arrive as length-delimited).
int WireTypeOf(const google::protobuf::FieldDescriptor& f) {
  using F = google::protobuf::FieldDescriptor;
  switch (f.type()) {
    case F::TYPE_DOUBLE:
    case F::TYPE_FIXED64:
    case F::TYPE_SFIXED64:
      return 1;
    case F::TYPE_FLOAT:
    case F::TYPE_FIXED32:
    case F::TYPE_SFIXED32:
      return 5;
    case F::TYPE_STRING:
    case F::TYPE_BYTES:
    case F::TYPE_MESSAGE:
      return 2;
    case F::TYPE_GROUP:
      return 3;
    default:
      return 0;  // the varint types
  }
}

bool ReadVarint(std::string_view* in, std::uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= std::uint64_t{byte & 0x7fu} << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

// Whether `wire` (a message of type `d` that has parsed) holds only fields that `d`
// declares, each with its declared wire type, at every depth. Protobuf keeps any other
// field as an unknown field, which a parse does not reject; this walk of the bytes finds
// them without the cost of walking the parsed message by reflection.
bool OnlyKnownFields(const google::protobuf::Descriptor& d, std::string_view wire) {
  while (!wire.empty()) {
    std::uint64_t tag = 0, len = 0;
    if (!ReadVarint(&wire, &tag)) return false;
    const int type = static_cast<int>(tag & 7);
    const auto* f = d.FindFieldByNumber(static_cast<int>(tag >> 3));
    if (!f) return false;
    const int want = WireTypeOf(*f);
    const bool packed = type == 2 && f->is_repeated() && want != 2;
    if (type != want && !packed) return false;
    switch (type) {
      case 0:
        if (!ReadVarint(&wire, &len)) return false;
        break;
      case 1:
      case 5: {
        const std::size_t n = type == 1 ? 8 : 4;
        if (wire.size() < n) return false;
        wire.remove_prefix(n);
        break;
      }
      case 2: {
        if (!ReadVarint(&wire, &len) || len > wire.size()) return false;
        const std::string_view payload = wire.substr(0, len);
        wire.remove_prefix(len);
        if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
            !OnlyKnownFields(*f->message_type(), payload))
          return false;
        break;
      }
      default:
        return false;  // groups: not used by the format
    }
  }
  return true;
}

}  // namespace

namespace {
constexpr std::pair<Relation, std::string_view> kRelationNames[] = {
    {Relation::kParent, "parent"},
    {Relation::kChild, "child"},
    {Relation::kSpouse, "spouse"},
    {Relation::kGrandparent, "grandparent"},
    {Relation::kGrandchild, "grandchild"},
    {Relation::kSibling, "sibling"},
    {Relation::kOtherRelative, "relative"},
    {Relation::kFriend, "friend"},
    {Relation::kNone, "none"}};
}  // namespace

std::string_view RelationName(Relation relation) {
  for (const auto& [r, name] : kRelationNames)
    if (r == relation) return name;
  return "unspecified";
}

std::optional<Relation> ParseRelation(std::string_view name) {
  for (const auto& [r, n] : kRelationNames)
    if (n == name) return r;
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRegistrar:
      return "registrar";
    case Role::kRecorder:
      return "recorder";
    case Role::kRedeemer:
      return "redeemer";
    case Role::kAdmin:
      return "admin";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

std::string_view KindName(const EntryKind& kind) {
  static constexpr std::string_view kNames[] = {
      "genesis", "grant",  "revoke",   "policy",  "open", "deposit", "redeem",       "hold", "post",
      "void",    "expire", "transfer", "reverse", "sync", "migrate", "pool_request", "claim"};
  return kNames[kind.index()];
}

std::string EncodeBody(const EntryBody& body) {
  pb::Body b;
  b.set_id(Bytes(body.id));
  b.set_district(body.district);
  b.set_time(body.time);
  b.set_community(body.community);
  std::visit(ToProtoVisitor{&b}, body.kind);
  std::string out;
  b.SerializeToString(&out);
  return out;
}

std::string EntrySigningMessage(std::string_view body_bytes) {
  std::string msg;
  msg.reserve(kSigningContext.size() + body_bytes.size());
  msg.append(kSigningContext);
  msg.append(body_bytes);
  return msg;
}

std::string SignEntry(std::string_view body_bytes, std::initializer_list<const SigningKey*> keys) {
  pb::Entry e;
  e.set_body(std::string(body_bytes));
  const std::string msg = EntrySigningMessage(body_bytes);
  for (const SigningKey* k : keys) {
    auto* s = e.add_signatures();
    s->set_public_key(Bytes(k->public_key()));
    s->set_signature(Bytes(k->Sign(msg)));
  }
  std::string out;
  e.SerializeToString(&out);
  return out;
}

std::string MakeEntry(const EntryBody& body, std::initializer_list<const SigningKey*> keys) {
  return SignEntry(EncodeBody(body), keys);
}

Result<DecodedEntry> DecodeEntry(std::string_view entry_bytes) {
  if (entry_bytes.size() > kMaxEntryBytes)
    return Malformed(fmt::format("entry is {} bytes; at most {} are allowed", entry_bytes.size(),
                                 kMaxEntryBytes));
  // Hostile input must not reach stderr: protobuf logs each string field that is not
  // UTF-8 before the parse fails (which is reported as kMalformedEntry).
  google::protobuf::LogSilencer quiet;
  pb::Entry e;
  if (entry_bytes.empty() ||
      !e.ParseFromArray(entry_bytes.data(), static_cast<int>(entry_bytes.size())))
    return Malformed("entry bytes are not a timebank.v1.Entry");
  // The wrapper is not signed, so it must be the one canonical encoding of its contents:
  // otherwise the same signed body could travel in many different entries.
  if (e.SerializeAsString() != entry_bytes ||
      !OnlyKnownFields(*pb::Entry::descriptor(), entry_bytes))
    return Malformed("entry is not canonically encoded (field order, unknown or repeated fields)");
  pb::Body b;
  if (!b.ParseFromString(e.body())) return Malformed("entry body is not a timebank.v1.Body");
  // A field this version does not know could carry a rule it would not apply.
  if (!OnlyKnownFields(*pb::Body::descriptor(), e.body()))
    return Malformed("entry body has fields unknown to format v1");
  DecodedEntry out;
  if (!Fixed(b.id(), &out.body.id)) return Malformed("body.id must be 16 bytes");
  if (!IsDistrictCode(b.district())) return Malformed("body.district must be 6 digits");
  out.body.district = b.district();
  out.body.time = b.time();
  out.body.community = b.community();
  auto kind = KindFromProto(b);
  if (!kind.ok()) return kind.status();
  out.body.kind = std::move(kind).value();
  for (const auto& s : e.signatures()) {
    EntrySignature sig;
    if (!Fixed(s.public_key(), &sig.key)) return Malformed("signature.public_key must be 32 bytes");
    if (!Fixed(s.signature(), &sig.signature))
      return Malformed("signature.signature must be 64 bytes");
    for (const auto& earlier : out.signatures)
      if (earlier.key == sig.key) return Malformed("a key signs an entry at most once");
    out.signatures.push_back(sig);
  }
  out.body_bytes = std::move(*e.mutable_body());
  return out;
}

Result<DecodedEntry> DecodeAndVerifyEntry(std::string_view entry_bytes) {
  auto decoded = DecodeEntry(entry_bytes);
  if (!decoded.ok()) return decoded;
  if (decoded->signatures.empty())
    return Status(Code::kMissingSignature, "entry carries no signature");
  const std::string msg = EntrySigningMessage(decoded->body_bytes);
  for (std::size_t i = 0; i < decoded->signatures.size(); ++i) {
    const auto& s = decoded->signatures[i];
    if (!crypto::Ed25519Verify(s.key, msg, s.signature))
      return Status(Code::kBadSignature, fmt::format("signature {} (key {}) does not verify", i,
                                                     ToHex(s.key).substr(0, 16)));
  }
  return decoded;
}

Hash RealNameCommitment(const RealNameRecord& record, std::string_view salt) {
  auto lp = [](const std::string& s) {
    std::uint8_t len[4] = {std::uint8_t(s.size() >> 24), std::uint8_t(s.size() >> 16),
                           std::uint8_t(s.size() >> 8), std::uint8_t(s.size())};
    return std::string(reinterpret_cast<const char*>(len), 4) + s;
  };
  const std::string s = lp(std::string(salt)), name = lp(record.name), id = lp(record.id_number),
                    phone = lp(record.phone);
  return crypto::Sha256({"timebank/realname/v1", s, name, id, phone});
}

}  // namespace ledger
