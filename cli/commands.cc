#include "commands.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>

namespace timebank::cli {

using namespace ledger;
using api::json;

namespace {

Failure Usage(std::string message) {
  return Failure{kExitUsage, "usage", std::move(message)};
}

// --minutes, else --hours (whole minutes); must be positive.
Answer<Minutes> AmountOf(const MoveArgs& a) {
  if (a.minutes && a.hours) return Usage("give either --hours or --minutes, not both");
  if (!a.minutes && !a.hours) return Usage("an amount is required: --hours 1.5 or --minutes 90");
  // Time is counted in whole minutes, up to 10,000,000 hours in one entry (as the ledger).
  constexpr double kMaxMinutes = 60.0 * 10'000'000;
  const double m = a.minutes ? static_cast<double>(*a.minutes) : *a.hours * 60;
  const auto described = [&] {
    return a.minutes ? fmt::format("--minutes {}", *a.minutes)
                     : fmt::format("--hours {}", *a.hours);
  };
  if (!std::isfinite(m) || m > kMaxMinutes || std::llround(m) <= 0)
    return Usage(fmt::format(
        "the amount must be at least a minute and at most 10,000,000 hours; got {}", described()));
  if (std::abs(m - std::round(m)) > 1e-6)
    return Usage(
        fmt::format("{} is not a whole number of minutes (time is counted in minutes: "
                    "--hours 1.25 is 75 minutes)",
                    described()));
  return static_cast<Minutes>(std::llround(m));
}

Answer<EntryId> ParseId(const std::string& hex, const char* what) {
  EntryId id;
  if (hex.size() != 32 || !FromHex(hex, &id))
    return Usage(fmt::format("{} must be an entry id of 32 hex characters", what));
  return id;
}

}  // namespace

Context::Context(Settings s)
    : settings_(std::move(s)),
      lang_(PickLang(settings_.lang)),
      client_(settings_.node, settings_.wait_seconds, settings_.ca_cert) {}

Answer<const SigningKey*> Context::Key() {
  if (key_) return &*key_;
  if (settings_.key_file.empty())
    return Usage("this command signs: give --key FILE (or TIMEBANK_KEY, or key in the config)");
  auto k = SigningKey::LoadFile(settings_.key_file);
  if (!k.ok()) return Failure{kExitError, std::string(CodeName(k.code())), k.status().message()};
  key_.emplace(std::move(k).value());
  return &*key_;
}

Answer<std::string> Context::District() {
  if (!district_.empty()) return district_;
  auto info = client_.GetJson("/v1/info");
  if (auto* f = std::get_if<Failure>(&info)) return *f;
  district_ = std::get<json>(info).value("district", "");
  return district_;
}

int Context::Report(const Failure& f) {
  if (settings_.json) {
    std::printf("%s\n", api::ErrorBody(f.code, f.message).dump().c_str());
  } else {
    std::string head = f.exit == kExitUnreachable ? std::string(T(lang_, "unreachable"))
                                                  : std::string(T(lang_, "error"));
    if (f.exit == kExitRejected) head = std::string(T(lang_, "refused"));
    std::fprintf(stderr, "timebank: %s: %s%s%s\n", head.c_str(), f.code.c_str(),
                 f.message.empty() ? "" : ": ", f.message.c_str());
  }
  return f.exit;
}

std::optional<int> Context::Fetch(const std::string& target, const SigningKey* signer, json* out) {
  auto r = client_.GetJson(target, signer);
  if (auto* f = std::get_if<Failure>(&r)) return Report(*f);
  *out = std::move(std::get<json>(r));
  if (!settings_.json) return std::nullopt;
  PrintJson(*out);
  return kExitOk;
}

void Context::Print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
}
void Context::PrintJson(const json& j) {
  std::printf("%s\n", j.dump(2).c_str());
}

int Context::SubmitEntry(EntryKind kind, const std::string& what, EntryId* id_out,
                         const std::string& home) {
  auto key = Key();
  if (auto* f = std::get_if<Failure>(&key)) return Report(*f);
  auto district = District();
  if (auto* f = std::get_if<Failure>(&district)) return Report(*f);
  EntryBody body{NewEntryId(), home.empty() ? std::get<std::string>(district) : home,
                 api::UnixNow(), "", std::move(kind)};
  if (id_out) *id_out = body.id;
  const std::string entry = MakeEntry(body, {std::get<const SigningKey*>(key)});
  auto r = client_.Submit(entry);
  if (auto* f = std::get_if<Failure>(&r)) return Report(*f);
  const json& j = std::get<json>(r);
  if (settings_.json) {
    json out = j;
    out["id"] = ToHex(body.id);
    out["kind"] = KindName(body.kind);
    PrintJson(out);
  } else {
    const bool dup = j.value("duplicate", false);
    Print(fmt::format("{}: {} ({} #{}, {} {})\n", T(lang_, dup ? "duplicate" : "recorded"), what,
                      T(lang_, "entry"), j.value("index", 0ull), T(lang_, "id"), ToHex(body.id)));
    if (j.contains("receipt"))
      Print(fmt::format("  {} {}\n", T(lang_, "forwarded home"), j.value("district", "")));
  }
  return kExitOk;
}

int Keygen(Context& c, const std::string& out) {
  const SigningKey k = SigningKey::Generate();
  if (Status s = k.SaveFile(out); !s.ok())
    return c.Report({kExitError, std::string(CodeName(s.code())), s.message()});
  if (c.json_output())
    c.PrintJson({{"key_file", out}, {"public_key", ToHex(k.public_key())}});
  else
    c.Print(Rows({{std::string(T(c.lang(), "key_file")), out},
                  {std::string(T(c.lang(), "public_key")), ToHex(k.public_key())}}));
  return kExitOk;
}

int Info(Context& c) {
  json j;
  if (auto done = c.Fetch("/v1/info", nullptr, &j)) return *done;
  const Lang l = c.lang();
  c.Print(Rows({{std::string(T(l, "district")), j.value("district", "")},
                {std::string(T(l, "name")), j.value("name", "")},
                {std::string(T(l, "origin")), j.value("origin", "")},
                {std::string(T(l, "size")), std::to_string(j.value("size", 0ull))},
                {std::string(T(l, "verifier_key")), j.value("verifier_key", "")}}));
  return kExitOk;
}

int StatusCmd(Context& c) {
  auto health = c.client().GetJson("/healthz");
  // A node that answers but is not healthy (its ledger takes no entries since a failed
  // write) still has figures to show: the failure is shown with them, as an alert.
  std::optional<Failure> unhealthy;
  if (auto* f = std::get_if<Failure>(&health)) {
    if (f->exit != kExitRejected || (f->code != "io_error" && f->code != "internal"))
      return c.Report(*f);
    unhealthy = *f;
    health = json{{"status", "failed"}, {"error", {{"code", f->code}, {"message", f->message}}}};
  }
  auto info = c.client().GetJson("/v1/info");
  if (auto* f = std::get_if<Failure>(&info)) return c.Report(*f);
  auto stats = c.client().GetJson("/v1/stats");
  if (auto* f = std::get_if<Failure>(&stats)) return c.Report(*f);
  const json& i = std::get<json>(info);
  const json& st = std::get<json>(stats);
  if (c.json_output()) {
    c.PrintJson({{"health", std::get<json>(health)}, {"info", i}, {"stats", st}});
    return unhealthy ? kExitVerifyFailed : kExitOk;
  }
  const Lang l = c.lang();
  c.Print(Rows({{std::string(T(l, "district")),
                 fmt::format("{} {}", i.value("district", ""), i.value("name", ""))},
                {std::string(T(l, "health")), std::get<json>(health).value("status", "")},
                {std::string(T(l, "size")), std::to_string(i.value("size", 0ull))},
                {std::string(T(l, "issued")), Hours(l, st.value("issued_minutes", 0ll))},
                {std::string(T(l, "outstanding")), Hours(l, st.value("outstanding_minutes", 0ll))},
                {std::string(T(l, "pool")), Hours(l, st.value("pool_minutes", 0ll))},
                {std::string(T(l, "held")), Hours(l, st.value("held_minutes", 0ll))},
                {std::string(T(l, "redeemed")), Hours(l, st.value("redeemed_minutes", 0ll))},
                {std::string(T(l, "verifier_key")), i.value("verifier_key", "")}}));
  // The city's other districts as this node follows them, and alerts.
  auto peers = c.client().GetJson("/v1/peers");
  auto alerts = c.client().GetJson("/v1/alerts");
  if (auto* p = std::get_if<json>(&peers); p && !(*p)["peers"].empty()) {
    c.Print(fmt::format("\n{}\n", T(l, "peers")));
    for (const auto& q : (*p)["peers"])
      c.Print(fmt::format(
          "  {} {}  {} {}/{}  {} {}  {}\n", q.value("district", ""), q.value("name", ""),
          T(l, "copied"), q.value("replica_size", 0ull), q.value("checkpoint_size", 0ull),
          T(l, "synced"), q.value("synced_size", 0ull),
          q.value("equivocation", false)                 ? std::string(T(l, "EQUIVOCATION"))
          : q.value("last_error", std::string()).empty() ? std::string("ok")
                                                         : q.value("last_error", std::string())));
    // What syncs of a peer could not apply: credits for accounts unknown here, claims
    // against holds that had ended here. Both wait for the districts to settle them.
    for (const auto& q : (*p)["peers"])
      for (const auto& [field, label] : {std::pair{"parked_minutes", "parked credits"},
                                         std::pair{"unpaid_claim_minutes", "unpaid claims"}})
        if (const Minutes m = q.value(field, Minutes{0}); m != 0)
          c.Print(
              fmt::format("  ! {} {}: {}\n", q.value("district", ""), T(l, label), Hours(l, m)));
  }
  int code = kExitOk;
  if (unhealthy) {
    c.Print(fmt::format("! {}: {}\n", unhealthy->code, unhealthy->message));
    code = kExitVerifyFailed;
  }
  if (auto* a = std::get_if<json>(&alerts))
    for (const auto& alert : (*a)["alerts"]) {
      c.Print(fmt::format("! {}\n", alert.value("message", "")));
      code = kExitVerifyFailed;
    }
  return code;
}

int Grant(Context& c, const std::string& key_hex, const std::string& roles,
          const std::string& label) {
  PublicKey k;
  if (key_hex.size() != 64 || !FromHex(key_hex, &k))
    return c.Report(Usage("--operator must be a 64-hex-character public key"));
  ledger::Grant g{k, {}, label};
  static const std::map<std::string, Role> names = {{"registrar", Role::kRegistrar},
                                                    {"recorder", Role::kRecorder},
                                                    {"redeemer", Role::kRedeemer},
                                                    {"admin", Role::kAdmin},
                                                    {"auditor", Role::kAuditor}};
  std::size_t at = 0;
  while (at <= roles.size()) {
    const auto comma = std::min(roles.find(',', at), roles.size());
    auto it = names.find(roles.substr(at, comma - at));
    if (it == names.end())
      return c.Report(
          Usage(fmt::format("unknown role '{}' (registrar, recorder, redeemer, admin, auditor)",
                            roles.substr(at, comma - at))));
    if (std::find(g.roles.begin(), g.roles.end(), it->second) != g.roles.end())
      return c.Report(Usage(fmt::format("role '{}' is named twice", it->first)));
    g.roles.push_back(it->second);
    at = comma + 1;
  }
  return c.SubmitEntry(
      g, fmt::format("{} {} ({})", T(c.lang(), "granted"), key_hex.substr(0, 16), roles));
}

int Revoke(Context& c, const std::string& key_hex, const std::string& reason) {
  PublicKey k;
  if (key_hex.size() != 64 || !FromHex(key_hex, &k))
    return c.Report(Usage("--operator must be a 64-hex-character public key"));
  return c.SubmitEntry(ledger::Revoke{k, reason}, "revoked " + key_hex.substr(0, 16));
}

int Register(Context& c, const RegisterArgs& a) {
  // 实名制: a person is registered under a real name and an identity document.
  if (a.name.empty() || (!a.group && a.id_number.empty()))
    return c.Report(Usage(a.group ? "register needs --name"
                                  : "register needs --name and --id-number (实名制)"));
  auto district = c.District();
  if (auto* f = std::get_if<Failure>(&district)) return c.Report(*f);
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  std::string owner;
  if (!a.owner_key.empty()) {
    PublicKey k;
    if (a.owner_key.size() != 64 || !FromHex(a.owner_key, &k))
      return c.Report(Usage("--owner-key must be a 64-hex-character public key"));
    owner.assign(reinterpret_cast<const char*>(k.data()), k.size());
  }
  // 实名制: the record goes to the node's private store; the log gets a salted commitment.
  const RealNameRecord record{a.name, a.id_number, a.phone};
  const std::string salt = ToHex(NewEntryId());
  for (int attempt = 0;; ++attempt) {
    // A random serial: registrars need no coordination; a clash is refused and retried.
    const EntryId r = NewEntryId();
    const std::uint64_t serial =
        1 + (static_cast<std::uint64_t>(r[0]) << 24 | r[1] << 16 | r[2] << 8 | r[3]) % 99'999'999;
    const std::string account = MakeAccountNumber(std::get<std::string>(district), serial).value();
    Open open{account,
              a.group ? AccountKind::kGroup : AccountKind::kPerson,
              a.birth_year,
              a.street,
              a.community,
              owner,
              RealNameCommitment(record, salt),
              a.hardship,
              a.need};
    EntryBody body{NewEntryId(), std::get<std::string>(district), api::UnixNow(), a.community,
                   open};
    auto sent = c.client().Submit(MakeEntry(body, {std::get<const SigningKey*>(key)}));
    if (auto* f = std::get_if<Failure>(&sent)) {
      if (f->code == "account_exists" && attempt < 5) continue;
      return c.Report(*f);
    }
    auto stored = c.client().Send(
        "PUT", "/v1/accounts/" + account + "/realname",
        json{{"name", a.name}, {"id_number", a.id_number}, {"phone", a.phone}, {"salt", salt}},
        std::get<const SigningKey*>(key));
    if (auto* f = std::get_if<Failure>(&stored)) {
      // The account exists now; only its private record is missing. The salt is the one
      // thing that cannot be recovered: say how to store the record later.
      Failure later = *f;
      later.message += fmt::format(
          " — account {} was opened; store its record with: timebank realname put {} "
          "--name ... --id-number ... --phone ... --salt {}",
          account, account, salt);
      return c.Report(later);
    }
    const std::uint64_t index = std::get<json>(sent).value("index", 0ull);
    if (c.json_output())
      c.PrintJson({{"account", account}, {"index", index}, {"id", ToHex(body.id)}});
    else
      c.Print(fmt::format("{}: {} {} ({} #{})\n", T(c.lang(), "registered"), a.name, account,
                          T(c.lang(), "entry"), index));
    return kExitOk;
  }
}

int AlertsCmd(Context& c, const std::string& action, const std::string& district) {
  if (action == "list") {
    auto r = c.client().GetJson("/v1/alerts");
    if (auto* f = std::get_if<Failure>(&r)) return c.Report(*f);
    const json& j = std::get<json>(r);
    if (c.json_output()) {
      c.PrintJson(j);
    } else {
      for (const auto& alert : j["alerts"])
        c.Print(fmt::format("! {}: {}\n", alert.value("district", ""), alert.value("message", "")));
      if (j["alerts"].empty()) c.Print(fmt::format("{}\n", T(c.lang(), "no alerts")));
    }
    return j["alerts"].empty() ? 0 : 5;
  }
  if (district.empty()) return c.Report(Usage("alerts clear needs the peer's district code"));
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  auto r = c.client().Send("POST", "/v1/alerts/" + district + "/clear", json::object(),
                           std::get<const SigningKey*>(key));
  if (auto* f = std::get_if<Failure>(&r)) return c.Report(*f);
  const json& j = std::get<json>(r);
  if (c.json_output())
    c.PrintJson(j);
  else
    c.Print(fmt::format("{}: {} ({}: {})\n", T(c.lang(), "alert cleared"), district,
                        T(c.lang(), "evidence kept in"), j.value("archived", "")));
  return 0;
}

int RealNameCmd(Context& c, const std::string& action, const std::string& account,
                const RegisterArgs& a, const std::string& salt) {
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  const SigningKey* signer = std::get<const SigningKey*>(key);
  const std::string target = "/v1/accounts/" + account + "/realname";
  Answer<json> r = json();
  if (action == "put") {
    if (salt.empty()) return c.Report(Usage("realname put needs the --salt used at registration"));
    r = c.client().Send(
        "PUT", target,
        json{{"name", a.name}, {"id_number", a.id_number}, {"phone", a.phone}, {"salt", salt}},
        signer);
  } else if (action == "get") {
    r = c.client().GetJson(target, signer);
  } else {
    r = c.client().Send("DELETE", target, json::object(), signer);
  }
  if (auto* f = std::get_if<Failure>(&r)) return c.Report(*f);
  const json& j = std::get<json>(r);
  if (c.json_output()) {
    c.PrintJson(j);
  } else if (action == "get") {
    c.Print(Rows({{std::string(T(c.lang(), "account")), account},
                  {std::string(T(c.lang(), "name")), j.value("name", "")},
                  {"ID", j.value("id_number", "")},
                  {std::string(T(c.lang(), "phone")), j.value("phone", "")}}));
  } else {
    c.Print(fmt::format("{}: {} {}\n", T(c.lang(), action == "put" ? "stored" : "erased"), account,
                        T(c.lang(), "realname")));
  }
  return kExitOk;
}

int DepositCmd(Context& c, const MoveArgs& a) {
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  const Minutes minutes = std::get<Minutes>(m);
  const std::int64_t served_at =
      api::UnixNow() - 60 * (a.served_ago_minutes > 0 ? a.served_ago_minutes : minutes);
  const int done =
      c.SubmitEntry(Deposit{a.account, a.to, a.service, minutes, served_at, ""},
                    fmt::format("{} {} {}", a.account, a.service, Hours(c.lang(), minutes)));
  if (done != kExitOk || c.json_output()) return done;
  // Credit beyond a person's balance cap goes to the pool (公益池): said, so that "recorded
  // 600 h" is not read as 600 h more in the account. (For an account whose balance is here;
  // a read that fails changes nothing about what was recorded.)
  auto key = c.Key();
  if (std::get_if<Failure>(&key)) return done;
  auto account = c.client().GetJson("/v1/accounts/" + a.account, std::get<const SigningKey*>(key));
  auto policy = c.client().GetJson("/v1/policy");
  if (std::get_if<Failure>(&account) || std::get_if<Failure>(&policy)) return done;
  const json& acct = std::get<json>(account);
  const Minutes cap = std::get<json>(policy).value("balance_cap_minutes", 0ll);
  if (cap > 0 && acct.value("type", "") == "person" && !acct.contains("moved_to") &&
      acct.value("balance_minutes", 0ll) >= cap)
    c.Print(fmt::format("  {}\n",
                        fmt::format(fmt::runtime(T(c.lang(), "at_cap")), Hours(c.lang(), cap))));
  return done;
}

int RedeemCmd(Context& c, const MoveArgs& a) {
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  return c.SubmitEntry(Redeem{a.account, std::get<Minutes>(m), a.service, a.serving_district},
                       fmt::format("{} -{}", a.account, Hours(c.lang(), std::get<Minutes>(m))));
}

int HoldCmd(Context& c, const MoveArgs& a) {
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  if (a.expires_in <= 0) return c.Report(Usage("--expires-in must be positive seconds"));
  // An account of another district is held in its home's log, for service here.
  auto here = c.District();
  if (auto* f = std::get_if<Failure>(&here)) return c.Report(*f);
  if (!a.home.empty() && !IsDistrictCode(a.home))
    return c.Report(Usage("--home must be a 6-digit district code"));
  Result<std::string> home = a.home.empty() ? ParseAccountDistrict(a.account) : a.home;
  if (a.home.empty()) {
    // The district in the number is the first home; the node knows where it is now.
    auto key = c.Key();
    if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
    auto where =
        c.client().GetJson("/v1/accounts/" + a.account + "/home", std::get<const SigningKey*>(key));
    if (auto* j = std::get_if<json>(&where)) {
      // On its way to a new home (this node's copy of it may be behind): only the new
      // home may debit it, and it says whether it has taken the account yet.
      if ((*j)["home"].is_string())
        home = (*j)["home"].get<std::string>();
      else if (j->contains("moving_to"))
        home = j->value("moving_to", "");
    }
  }
  std::string forward_to, serving = a.serving_district;
  if (home.ok() && *home != std::get<std::string>(here)) {
    forward_to = *home;
    if (serving.empty()) serving = std::get<std::string>(here);
  }
  return c.SubmitEntry(
      Hold{a.account, std::get<Minutes>(m), api::UnixNow() + a.expires_in, a.service, serving},
      fmt::format("{} {} {}", T(c.lang(), "hold"), a.account,
                  Hours(c.lang(), std::get<Minutes>(m))),
      nullptr, forward_to);
}

int ClaimCmd(Context& c, const std::string& hold_id, const std::string& home, const MoveArgs& a) {
  auto id = ParseId(hold_id, "the hold id");
  if (auto* f = std::get_if<Failure>(&id)) return c.Report(*f);
  if (!IsDistrictCode(home)) return c.Report(Usage("--home must be a 6-digit district code"));
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  return c.SubmitEntry(Claim{home, std::get<EntryId>(id), std::get<Minutes>(m)},
                       fmt::format("{} {} {}", T(c.lang(), "claim"), hold_id,
                                   Hours(c.lang(), std::get<Minutes>(m))));
}

int MigrateCmd(Context& c, const MoveArgs& a) {
  if (!IsDistrictCode(a.to)) return c.Report(Usage("--to must be a 6-digit district code"));
  return c.SubmitEntry(Migrate{a.account, a.to},
                       fmt::format("{} {} -> {}", T(c.lang(), "migrate"), a.account, a.to));
}

int PostCmd(Context& c, const std::string& hold_id, const std::string& home) {
  auto id = ParseId(hold_id, "the hold id");
  if (auto* f = std::get_if<Failure>(&id)) return c.Report(*f);
  if (!home.empty() && !IsDistrictCode(home))
    return c.Report(Usage("--home must be a 6-digit district code"));
  return c.SubmitEntry(HoldPost{std::get<EntryId>(id)}, "post " + hold_id, nullptr, home);
}

int VoidCmd(Context& c, const std::string& hold_id, const std::string& reason,
            const std::string& home) {
  auto id = ParseId(hold_id, "the hold id");
  if (auto* f = std::get_if<Failure>(&id)) return c.Report(*f);
  if (!home.empty() && !IsDistrictCode(home))
    return c.Report(Usage("--home must be a 6-digit district code"));
  return c.SubmitEntry(HoldVoid{std::get<EntryId>(id), reason}, "void " + hold_id, nullptr, home);
}

int GiveCmd(Context& c, const MoveArgs& a) {
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  const Minutes minutes = std::get<Minutes>(m);
  Transfer t;
  t.minutes = minutes;
  if (a.kind == "gift" || a.kind.empty()) {
    if (a.from.empty() || a.to.empty()) return c.Report(Usage("a gift needs --from and --to"));
    const auto relation =
        a.relation.empty() ? std::optional(Relation::kUnspecified) : ParseRelation(a.relation);
    if (!relation)
      return c.Report(
          Usage("--relation is parent, child, spouse, grandparent, grandchild, "
                "sibling, relative, friend or none"));
    t = Transfer{TransferKind::kGift, a.from, a.to, minutes, *relation};
  } else if (a.kind == "donation") {
    // The pool receives a donation and pays a grant: naming another side would be ignored.
    if (a.from.empty() || !a.to.empty())
      return c.Report(Usage("a donation needs --from, and no --to (the pool receives it)"));
    t = Transfer{TransferKind::kDonation, a.from, "", minutes};
  } else if (a.kind == "grant") {
    if (a.to.empty() || !a.from.empty())
      return c.Report(Usage("a pool grant needs --to, and no --from (the pool pays it)"));
    t = Transfer{TransferKind::kPoolGrant, "", a.to, minutes};
    if (!a.request.empty()) {
      auto id = ParseId(a.request, "--request");
      if (auto* f = std::get_if<Failure>(&id)) return c.Report(*f);
      t.request_id = std::get<EntryId>(id);
    }
  } else {
    return c.Report(Usage("--kind is gift, donation or grant"));
  }
  return c.SubmitEntry(t, fmt::format("{} {} -> {} {}", a.kind.empty() ? "gift" : a.kind,
                                      a.from.empty() ? "pool" : a.from,
                                      a.to.empty() ? "pool" : a.to, Hours(c.lang(), minutes)));
}

int PoolRequestCmd(Context& c, const MoveArgs& a) {
  auto m = AmountOf(a);
  if (auto* f = std::get_if<Failure>(&m)) return c.Report(*f);
  return c.SubmitEntry(
      PoolRequest{a.account, std::get<Minutes>(m), a.reason},
      fmt::format("pool request {} {}", a.account, Hours(c.lang(), std::get<Minutes>(m))));
}

int BalanceCmd(Context& c, const std::string& account) {
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  json j;
  if (auto done = c.Fetch("/v1/accounts/" + account, std::get<const SigningKey*>(key), &j))
    return *done;
  const Lang l = c.lang();
  std::vector<std::pair<std::string, std::string>> rows = {
      {std::string(T(l, "account")), j.value("account", "")},
      {std::string(T(l, "balance")), Hours(l, j.value("balance_minutes", 0ll))},
      {std::string(T(l, "served")), Hours(l, j.value("served_minutes", 0ll))},
      {std::string(T(l, "type")), std::string(T(l, j.value("type", "person")))}};
  if (const std::string community = j.value("community", ""); !community.empty())
    rows.emplace_back(std::string(T(l, "community")), community);
  if (const std::string moved = j.value("moved_to", ""); !moved.empty())
    rows.emplace_back(std::string(T(l, "moved to")),
                      fmt::format("{} (#{})", moved, j.value("moved_at", 0ull)));
  c.Print(Rows(rows));
  return kExitOk;
}

int HistoryCmd(Context& c, const std::string& account, std::optional<std::uint64_t> from,
               std::size_t limit) {
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  std::string target = fmt::format("/v1/accounts/{}/history?limit={}", account, limit);
  if (from) target += fmt::format("&from={}", *from);
  json j;
  if (auto done = c.Fetch(target, std::get<const SigningKey*>(key), &j)) return *done;
  const Lang l = c.lang();
  if (j["items"].empty()) {
    c.Print(std::string(T(l, "no_history")) + "\n");
    return kExitOk;
  }
  std::string out = fmt::format("{:>8}  {:>12}\n", T(l, "index"), T(l, "change"));
  for (const auto& it : j["items"]) {
    const Minutes d = it.value("delta_minutes", 0ll);
    out +=
        fmt::format("{:>8}  {:>12}\n", it.value("index", 0ull), (d > 0 ? "+" : "") + Hours(l, d));
  }
  if (!j["next"].is_null())
    out += fmt::format("{} {}\n", T(l, "more"), j["next"].get<std::uint64_t>());
  c.Print(out);
  return kExitOk;
}

int ExportCmd(Context& c, const std::string& account, const std::string& out_path) {
  auto key = c.Key();
  if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
  const SigningKey* signer = std::get<const SigningKey*>(key);
  auto acct = c.client().GetJson("/v1/accounts/" + account, signer);
  if (auto* f = std::get_if<Failure>(&acct)) return c.Report(*f);
  Minutes balance = std::get<json>(acct).value("balance_minutes", 0ll);
  // index,time,kind,delta_minutes,delta_hours,balance_after_minutes — newest first, as the
  // ledger keeps the chain; the balance after each entry is walked back from today's.
  std::string csv = "index,time,kind,delta_minutes,delta_hours,balance_after_minutes\n";
  std::optional<std::uint64_t> from;
  std::size_t rows = 0;
  for (;;) {
    std::string target = fmt::format("/v1/accounts/{}/history?limit=1000&detail=1", account);
    if (from) target += fmt::format("&from={}", *from);
    auto page = c.client().GetJson(target, signer);
    if (auto* f = std::get_if<Failure>(&page)) return c.Report(*f);
    const json& j = std::get<json>(page);
    for (const auto& it : j["items"]) {
      const Minutes d = it.value("delta_minutes", 0ll);
      csv += fmt::format("{},{},{},{},{:.2f},{}\n", it.value("index", 0ull), it.value("time", 0ll),
                         it.value("kind", ""), d, d / 60.0, balance);
      balance -= d;
      ++rows;
    }
    if (j["next"].is_null()) break;
    from = j["next"].get<std::uint64_t>();
  }
  if (out_path.empty() || out_path == "-") {
    c.Print(csv);
    return kExitOk;
  }
  std::ofstream f(out_path, std::ios::binary);
  f << csv;
  if (!f.good()) return c.Report({kExitError, "io_error", "cannot write " + out_path});
  if (!c.json_output())
    c.Print(fmt::format("{}: {} {} -> {}\n", T(c.lang(), "exported"), rows, T(c.lang(), "rows"),
                        out_path));
  return kExitOk;
}

int CheckpointCmd(Context& c) {
  auto note = c.client().GetText("/v1/checkpoint");
  if (auto* f = std::get_if<Failure>(&note)) return c.Report(*f);
  const std::string& text = std::get<std::string>(note);
  std::string vkey = c.settings().verifier_key;
  if (vkey.empty()) {
    if (!c.json_output()) c.Print(text);
    return kExitOk;
  }
  auto v = ParseVerifierKey(vkey);
  if (!v.ok()) return c.Report(Usage("--verifier-key: " + v.status().message()));
  auto cp = OpenCheckpoint(text, *v);
  if (!cp.ok())
    return c.Report({kExitVerifyFailed, std::string(CodeName(cp.code())), cp.status().message()});
  if (c.json_output())
    c.PrintJson({{"origin", cp->origin},
                 {"size", cp->size},
                 {"root_hash", ToHex(cp->root)},
                 {"verified", true},
                 {"note", text}});
  else
    c.Print(text + fmt::format("{}: {}\n", T(c.lang(), "cp_signature"), T(c.lang(), "verified")));
  return kExitOk;
}

int ClearingCmd(Context& c, const std::string& from, const std::string& to) {
  std::string target = "/v1/clearing";
  for (const auto& [name, value] : {std::pair{"from", from}, std::pair{"to", to}})
    if (!value.empty()) {
      if (value.size() != 10 || value.find_first_not_of("0123456789-") != std::string::npos)
        return c.Report(Usage(fmt::format("--{} must be a date YYYY-MM-DD", name)));
      target +=
          (target.find('?') == std::string::npos ? "?" : "&") + std::string(name) + "=" + value;
    }
  auto r = c.client().GetJson(target);
  if (auto* f = std::get_if<Failure>(&r)) return c.Report(*f);
  const json& j = std::get<json>(r);
  if (c.json_output()) {
    c.PrintJson(j);
    return kExitOk;
  }
  const Lang l = c.lang();
  c.Print(fmt::format("{} {} … {} ({})\n", T(l, "clearing"), j.value("from", ""), j.value("to", ""),
                      T(l, "to_excluded")));
  // One line per district, then the matrix: rows are homes, columns where care was given.
  // Each column is as wide as its widest cell (by display width: CJK characters take two),
  // two spaces apart; the first is left-aligned, the rest right-aligned.
  std::vector<std::string> codes;
  for (const auto& d : j["districts"]) codes.push_back(d.value("district", ""));
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {std::string(T(l, "district")), std::string(T(l, "entries")),
                                   std::string(T(l, "issued")), std::string(T(l, "liability"))};
  head.insert(head.end(), codes.begin(), codes.end());
  rows.push_back(head);
  std::vector<std::string> errors;  // (districts whose copy could not be read)
  for (const auto& d : j["districts"]) {
    if (d.contains("error")) {
      errors.push_back(d.value("district", "") + "  " + d.value("error", ""));
      continue;
    }
    std::vector<std::string> row = {
        d.value("district", ""), std::to_string(d.value("entries", 0ull)),
        Hours(l, d.value("issued_minutes", 0ll)), Hours(l, d.value("liability_minutes", 0ll))};
    for (const auto& code : codes) row.push_back(Hours(l, d["redeemed_minutes"].value(code, 0ll)));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& row : rows)
    for (std::size_t k = 0; k < row.size(); ++k)
      width[k] = std::max(width[k], DisplayWidth(row[k]));
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t k = 0; k < row.size(); ++k) {
      const std::string pad(width[k] - DisplayWidth(row[k]), ' ');
      line += k == 0 ? row[k] + pad : "  " + pad + row[k];
    }
    c.Print(line + "\n");
  }
  for (const auto& e : errors) c.Print(e + "\n");
  c.Print(fmt::format("{}\n", T(l, "clearing_legend")));
  return kExitOk;
}

}  // namespace timebank::cli
