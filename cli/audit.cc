// timebank audit: a whole city's logs, fetched and checked from nothing (docs/federation.md
// §9). Every district's log is copied over tlog-tiles into a replica in a scratch
// directory (each checkpoint verified with the district's key, each entry checked against
// the signed tree and replayed by the rules, syncs against the other copies); then each
// copy is replayed again from its genesis and compared record for record, and the city's
// books are checked: every log balances, no account is overdrawn, and the hours in the
// interdistrict accounts are exactly the credits still in transit.
#include <fmt/format.h>
#include <stdlib.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "commands.h"
#include "ledger/federation.h"
#include "pull.h"

namespace timebank::cli {

using ledger::Code;
using ledger::Minutes;
using ledger::Status;

namespace {

Failure Usage(std::string message) {
  return Failure{kExitUsage, "usage", std::move(message)};
}

// A district of the city file, and the audit's copy of its log.
struct CityDistrict : CityEntry {
  std::shared_ptr<ledger::Ledger> copy;
  std::string error;
  bool done = false;
};

// Copies every log as far as it goes; a log whose syncs need another log further along
// waits for the next round.
void CopyAll(std::vector<CityDistrict>& city, const ledger::SigningKey* key) {
  for (int round = 0; round < 64; ++round) {
    bool grew = false, all = true;
    for (auto& d : city) {
      if (d.done) continue;
      const std::uint64_t before = d.copy->Size();
      std::string errors;
      for (const auto& url : d.urls) {
        api::TileClient client(url, key);
        api::PullProgress progress;
        Status s = api::PullLog(client, ledger::ParseVerifierKey(d.verifier_key).value(), *d.copy,
                                &progress);
        if (s.ok()) {
          d.done = true;
          break;
        }
        if (s.code() == Code::kUnknownPeer) {  // waits for another copy: next round
          errors = s.ToString();
          break;
        }
        errors += (errors.empty() ? "" : "; ") + s.ToString();
        if (s.code() == Code::kEquivocation) break;
      }
      d.error = d.done ? "" : errors;
      grew = grew || d.copy->Size() > before;
      all = all && d.done;
    }
    if (all || !grew) return;
  }
}

// What the audit found: a report per district and the problems, city-wide.
struct Findings {
  api::json districts = api::json::array();
  std::vector<std::string> problems;
  Minutes interdistrict = 0, in_transit = 0, parked = 0;
};

// Opens an empty copy of every district's log under `dir`, each verifying with the
// district's key, all sharing one set of peers (so syncs between them check out).
std::optional<Failure> OpenCopies(std::vector<CityDistrict>& city, const std::string& dir) {
  auto peers = std::make_shared<ledger::LedgerPeers>();
  for (auto& d : city) {
    ledger::Options o;
    o.replica_verifier = d.verifier_key;
    o.peers = peers;
    std::filesystem::create_directories(dir + "/" + d.code);
    auto l = ledger::Ledger::Open(o, dir + "/" + d.code);
    if (!l.ok()) return Failure{kExitError, std::string(CodeName(l.code())), l.status().message()};
    d.copy = std::shared_ptr<ledger::Ledger>(std::move(l).value());
    peers->Add(d.code, d.copy);
  }
  return std::nullopt;
}

// Credits district `d` wrote for other districts' accounts: synced by their home yet (and
// the account registered there), or still in transit.
void CheckCredits(const CityDistrict& d, const std::map<std::string, CityDistrict*>& by_code,
                  Findings* f) {
  auto credits = d.copy->TransitCredits(0, d.copy->Size());
  if (!credits.ok()) return;
  for (const auto& cr : *credits) {
    auto it = by_code.find(cr.to_district);
    if (it == by_code.end()) {
      f->problems.push_back(
          fmt::format("district {} entry {} credits {} in district '{}', which is not "
                      "in the city",
                      d.code, cr.index, cr.account, cr.to_district));
      continue;
    }
    auto synced = it->second->copy->SyncedSize(d.code);
    if (!synced.ok() || *synced <= cr.index)
      f->in_transit += cr.minutes;
    else if (!it->second->copy->GetAccount(cr.account).ok())
      f->parked += cr.minutes;
  }
}

// A district's city list (its policy's) must be the city file's: the same districts under
// the same keys. An empty list constrains nothing and is not checked.
void CheckCityList(const CityDistrict& d, const std::vector<CityDistrict>& city, Findings* f) {
  auto policy = d.copy->CurrentPolicy();
  if (!policy.ok() || policy->city.empty()) return;
  for (const ledger::CityMember& m : policy->city) {
    auto it = std::find_if(city.begin(), city.end(),
                           [&](const CityDistrict& c) { return c.code == m.code; });
    if (it == city.end())
      f->problems.push_back(
          fmt::format("district {}'s policy v{} lists district {}, which the city file does not",
                      d.code, policy->version, m.code));
    else if (!ledger::SameVerifierKey(it->verifier_key, m.verifier_key))
      f->problems.push_back(
          fmt::format("district {}'s policy v{} lists district {} under the key {}, the city "
                      "file under {}",
                      d.code, policy->version, m.code, m.verifier_key, it->verifier_key));
  }
  for (const CityDistrict& c : city)
    if (std::none_of(policy->city.begin(), policy->city.end(),
                     [&](const ledger::CityMember& m) { return m.code == c.code; }))
      f->problems.push_back(fmt::format("district {}'s policy v{} does not list district {}",
                                        d.code, policy->version, c.code));
}

// Each copy's own audit (balances rebuilt from nothing), then the city's: what the
// interdistrict accounts hold must be exactly what is in transit or parked.
Findings CheckCity(std::vector<CityDistrict>& city) {
  Findings f;
  std::map<std::string, CityDistrict*> by_code;
  for (auto& d : city) by_code[d.code] = &d;
  for (auto& d : city) {
    if (!d.done) f.problems.push_back(fmt::format("district {}: {}", d.code, d.error));
    auto audit = d.copy->Audit();
    api::json j = {{"district", d.code}, {"name", d.name}, {"entries", d.copy->Size()}};
    if (!audit.ok()) {
      f.problems.push_back(fmt::format("district {}: {}", d.code, audit.status().ToString()));
      j["error"] = audit.status().ToString();
    } else {
      j["accounts"] = audit->accounts;
      j["issued_minutes"] = audit->issued;
      j["root"] = ledger::ToHex(audit->root);
      const std::string inter =
          ledger::SystemAccountId(d.code, ledger::SystemAccount::kInterdistrict);
      if (auto it = audit->balances.find(inter); it != audit->balances.end())
        f.interdistrict += it->second;
    }
    CheckCredits(d, by_code, &f);
    CheckCityList(d, city, &f);
    f.districts.push_back(j);
  }
  if (f.interdistrict != f.in_transit + f.parked)
    f.problems.push_back(
        fmt::format("the interdistrict accounts hold {} min, but {} min are in transit "
                    "and {} min parked",
                    f.interdistrict, f.in_transit, f.parked));
  return f;
}

int ReportAudit(Context& c, const Findings& f) {
  if (c.json_output()) {
    c.PrintJson({{"districts", f.districts},
                 {"in_transit_minutes", f.in_transit},
                 {"parked_minutes", f.parked},
                 {"problems", f.problems},
                 {"ok", f.problems.empty()}});
  } else {
    const Lang l = c.lang();
    for (const auto& j : f.districts)
      c.Print(fmt::format("{} {}  {} {}  {} {}  {} {}\n", j.value("district", ""),
                          j.value("name", ""), j.value("entries", 0ull), T(l, "entries"),
                          j.value("accounts", 0ull), T(l, "accounts"), T(l, "issued"),
                          Hours(l, j.value("issued_minutes", Minutes{0}))));
    c.Print(fmt::format("{} {}, {} {}\n", T(l, "in transit"), Hours(l, f.in_transit),
                        T(l, "parked"), Hours(l, f.parked)));
    for (const auto& p : f.problems) c.Print("  ! " + p + "\n");
    c.Print(std::string(T(l, f.problems.empty() ? "audit passed" : "audit failed")) + "\n");
  }
  return f.problems.empty() ? kExitOk : kExitVerifyFailed;
}

}  // namespace

Answer<std::vector<CityEntry>> LoadCityFile(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Usage(
        fmt::format("city file {} line {}: {}", path, e.source().begin.line, e.description()));
  } catch (const std::exception& e) {
    return Usage(fmt::format("city file {}: {}", path, e.what()));
  }
  std::vector<CityEntry> out;
  const toml::array* a = t["districts"].as_array();
  if (!a || a->empty()) return Usage("the city file lists no [[districts]]");
  for (const auto& n : *a) {
    const toml::table* d = n.as_table();
    if (!d) return Usage("each [[districts]] entry must be a table");
    CityEntry cd;
    cd.code = (*d)["code"].value_or(std::string());
    cd.name = (*d)["name"].value_or(std::string());
    cd.verifier_key = (*d)["verifier_key"].value_or(std::string());
    if (const toml::array* urls = (*d)["urls"].as_array())
      for (const auto& u : *urls) cd.urls.push_back(u.value_or(std::string()));
    if (!ledger::IsDistrictCode(cd.code) || !ledger::ParseVerifierKey(cd.verifier_key).ok() ||
        cd.urls.empty())
      return Usage(
          fmt::format("district '{}' needs a 6-digit code, a verifier_key and urls", cd.code));
    out.push_back(std::move(cd));
  }
  return out;
}

int AuditCmd(Context& c, const std::string& city_file, const std::string& keep_dir) {
  auto entries = LoadCityFile(city_file);
  if (auto* f = std::get_if<Failure>(&entries)) return c.Report(*f);
  std::vector<CityDistrict> city;
  for (auto& e : std::get<std::vector<CityEntry>>(entries)) city.push_back({std::move(e)});
  const ledger::SigningKey* key = nullptr;
  if (!c.settings().key_file.empty()) {
    auto k = c.Key();
    if (auto* f = std::get_if<Failure>(&k)) return c.Report(*f);
    key = std::get<const ledger::SigningKey*>(k);
  }
  std::string dir = keep_dir;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "timebank-audit-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return c.Report({kExitError, "io_error", "no scratch directory"});
    dir = tmpl;
  }
  if (auto failed = OpenCopies(city, dir)) return c.Report(*failed);
  CopyAll(city, key);
  const Findings findings = CheckCity(city);
  if (keep_dir.empty()) {
    for (auto& d : city) d.copy.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return ReportAudit(c, findings);
}

int ExportLogCmd(Context& c, const std::string& out_dir) {
  if (out_dir.empty()) return c.Report(Usage("--out names the directory to write"));
  const ledger::SigningKey* key = nullptr;
  if (!c.settings().key_file.empty()) {
    auto k = c.Key();
    if (auto* f = std::get_if<Failure>(&k)) return c.Report(*f);
    key = std::get<const ledger::SigningKey*>(k);
  }
  api::TileClient client(c.settings().node, key);
  auto size = api::ExportLog(client, out_dir);
  if (!size.ok()) {
    const std::string& why = size.status().message();
    if (why.find(": HTTP 401 ") != std::string::npos ||
        why.find(": HTTP 403 ") != std::string::npos)
      return c.Report(
          {kExitRejected,
           why.find(": HTTP 401 ") != std::string::npos ? "unauthenticated" : "forbidden",
           "the node does not let " + (key ? std::string("this key") : "anyone unsigned") +
               " read its log: sign with --key, a key in the node's access.reader_keys "
               "or an operator's (" +
               why + ")"});
    // No answer at all (rather than an answer refused, or a file not written here).
    if (size.code() == ledger::Code::kIoError && why.find(": HTTP ") == std::string::npos &&
        why.find("cannot be written") == std::string::npos)
      return c.Report({kExitUnreachable, "unreachable", why});
    return c.Report({kExitError, std::string(ledger::CodeName(size.code())), why});
  }
  if (c.json_output())
    c.PrintJson({{"dir", out_dir}, {"size", *size}});
  else
    c.Print(fmt::format("{} {} {} → {}\n", T(c.lang(), "exported"), *size, T(c.lang(), "entries"),
                        out_dir));
  return kExitOk;
}

}  // namespace timebank::cli
