// timebank policy: the district's rules as a TOML file an office can read, edit and apply
// as the next policy version (docs/operator-guide.md, "Changing the policy").
#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>

#include <sstream>

#include "commands.h"

namespace timebank::cli {

using api::json;

namespace {

Failure Usage(std::string message) {
  return Failure{kExitUsage, "usage", std::move(message)};
}

// A TOML value as JSON (integers stay integers; what the policy does not use, such as
// dates, is reported by the policy's own checks as a wrong type).
json ToJson(const toml::node& n) {
  if (auto* t = n.as_table()) {
    json out = json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = ToJson(v);
    return out;
  }
  if (auto* a = n.as_array()) {
    json out = json::array();
    for (const auto& v : *a) out.push_back(ToJson(v));
    return out;
  }
  if (auto v = n.value_exact<std::int64_t>()) return *v;
  if (auto v = n.value_exact<bool>()) return *v;
  if (auto v = n.value_exact<double>()) return *v;
  if (auto v = n.value_exact<std::string>()) return *v;
  return nullptr;
}

toml::table ToToml(const json& j);

toml::array ToTomlArray(const json& j) {
  toml::array out;
  for (const auto& v : j) {
    if (v.is_object())
      out.push_back(ToToml(v));
    else if (v.is_string())
      out.push_back(v.get<std::string>());
    else if (v.is_boolean())
      out.push_back(v.get<bool>());
    else if (v.is_number_integer())
      out.push_back(v.get<std::int64_t>());
  }
  return out;
}

toml::table ToToml(const json& j) {
  toml::table out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_object())
      out.insert(k, ToToml(v));
    else if (v.is_array())
      out.insert(k, ToTomlArray(v));
    else if (v.is_string())
      out.insert(k, v.get<std::string>());
    else if (v.is_boolean())
      out.insert(k, v.get<bool>());
    else if (v.is_number_integer())
      out.insert(k, v.get<std::int64_t>());
  }
  return out;
}

// The policy in force, as the node serves it.
Answer<json> CurrentPolicy(Context& c) {
  auto r = c.client().GetJson("/v1/policy");
  if (auto* f = std::get_if<Failure>(&r)) return *f;
  return std::get<json>(r);
}

int Show(Context& c) {
  auto current = CurrentPolicy(c);
  if (auto* f = std::get_if<Failure>(&current)) return c.Report(*f);
  json p = std::get<json>(current);
  if (c.json_output()) {
    c.PrintJson(p);
    return kExitOk;
  }
  if (p.contains("gift_scope") && p["gift_scope"].is_number_integer())
    p["gift_scope"] =
        api::GiftScopeName(static_cast<ledger::GiftScope>(p["gift_scope"].get<int>()));
  std::ostringstream text;
  text << ToToml(p) << "\n";
  c.Print(fmt::format(
      "# The policy in force: version {}. To change it, edit what should change (leave out\n"
      "# the rest) and apply it with: timebank --key <admin or root key> policy set FILE\n"
      "# Limits are minutes unless named otherwise; 0 means no limit.\n\n{}",
      p.value("version", 0u), text.str()));
  return kExitOk;
}

// The next policy: the current one with what `file` changes, and the city file's
// districts when given. *changed lists the fields that differ from the current policy.
Answer<json> NextPolicy(const json& current, const std::string& file, const std::string& city_file,
                        std::vector<std::string>* changed) {
  json next = current;
  const std::uint32_t next_version = current.value("version", 0u) + 1;
  next["version"] = next_version;
  if (!file.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      return Usage(
          fmt::format("policy file {} line {}: {}", file, e.source().begin.line, e.description()));
    } catch (const std::exception& e) {
      return Usage(fmt::format("policy file {}: {}", file, e.what()));
    }
    const json changes = ToJson(t);
    for (const auto& [k, v] : changes.items()) next[k] = v;
    // A file written by `policy show` names the version it showed: it becomes the next.
    if (next["version"] == current.value("version", 0u)) next["version"] = next_version;
  }
  if (!city_file.empty()) {
    auto city = LoadCityFile(city_file);
    if (auto* f = std::get_if<Failure>(&city)) return *f;
    next["city"] = json::array();
    for (const CityEntry& d : std::get<std::vector<CityEntry>>(city))
      next["city"].push_back(
          {{"code", d.code}, {"name", d.name}, {"verifier_key", d.verifier_key}});
  }
  if (next.contains("gift_scope") && next["gift_scope"].is_string())
    for (int s = 0; s <= 3; ++s)
      if (next["gift_scope"] == api::GiftScopeName(static_cast<ledger::GiftScope>(s)))
        next["gift_scope"] = s;
  for (const auto& [k, v] : next.items())
    if (k != "version" && (!current.contains(k) || current[k] != v)) changed->push_back(k);
  return next;
}

int Set(Context& c, const std::string& file, const std::string& city_file) {
  if (file.empty() && city_file.empty())
    return c.Report(Usage("policy set needs a policy file, --city, or both"));
  auto current = CurrentPolicy(c);
  if (auto* f = std::get_if<Failure>(&current)) return c.Report(*f);
  std::vector<std::string> changed;
  auto next = NextPolicy(std::get<json>(current), file, city_file, &changed);
  if (auto* f = std::get_if<Failure>(&next)) return c.Report(*f);
  auto policy = api::PolicyFromJson(std::get<json>(next));
  if (!policy.ok())
    return c.Report(Failure{kExitUsage, std::string(ledger::CodeName(policy.code())),
                            policy.status().message()});
  if (!policy->city.empty() && std::find(changed.begin(), changed.end(), "city") != changed.end()) {
    // Entries may then name only the districts listed: a list without this district is a
    // mistake in the city file (the audit would report it), not a choice.
    auto district = c.District();
    if (auto* f = std::get_if<Failure>(&district)) return c.Report(*f);
    const std::string& own = std::get<std::string>(district);
    if (std::none_of(policy->city.begin(), policy->city.end(),
                     [&](const ledger::CityMember& m) { return m.code == own; }))
      return c.Report(Usage(fmt::format(
          "{} does not list this district ({}): every district's list names all the city's "
          "districts, itself included",
          city_file.empty() ? std::string("the policy's city list") : "the city file " + city_file,
          own)));
  }
  if (changed.empty())
    return c.Report(Usage(fmt::format("the file changes nothing in policy v{}",
                                      std::get<json>(current).value("version", 0u))));
  std::string what = fmt::format("policy v{} (", policy->version);
  for (std::size_t i = 0; i < changed.size(); ++i) what += (i ? ", " : "") + changed[i];
  return c.SubmitEntry(*policy, what + ")");
}

}  // namespace

int PolicyCmd(Context& c, const std::string& action, const std::string& file,
              const std::string& city_file) {
  if (action == "show") {
    if (!file.empty() || !city_file.empty())
      return c.Report(Usage("policy show takes no file; did you mean policy set?"));
    return Show(c);
  }
  return Set(c, file, city_file);
}

}  // namespace timebank::cli
