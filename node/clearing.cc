// GET /v1/clearing — the city's clearing report for a period (docs/federation.md §8), from
// this node's own log and its verified copies of the other districts' logs.
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "node_impl.h"

namespace timebank::node {

using ledger::Minutes;

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return fmt::format("{:04}-{:02}-{:02}", yoe + era * 400 + (m <= 2), m, d);
}

// "YYYY-MM-DD" -> days since 1970-01-01; nullopt unless it is a real date from 1970 on.
std::optional<std::int64_t> ParseDate(const std::string& s) {
  unsigned y = 0, m = 0, d = 0;
  char extra = 0;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &extra) != 3)
    return std::nullopt;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const std::int64_t days = DaysFromCivil(y, m, d);
  if (CivilFromDays(days) != s) return std::nullopt;  // 2026-02-30 and the like
  return days;
}

api::json Figures(const std::string& code, const std::string& name, ledger::Ledger& log,
                  std::int64_t from, std::int64_t to) {
  api::json j = {{"district", code}, {"name", name}, {"entries", log.Size()}};
  auto f = log.Clearing(from, to);
  if (!f.ok()) {
    j["error"] = f.status().ToString();
    return j;
  }
  j["issued_minutes"] = f->issued;
  j["redeemed_minutes"] = f->redeemed;  // by the district that gave the care
  j["liability_minutes"] = f->liability;
  return j;
}

}  // namespace

void GetClearing(Node::Impl& n, Call& c) {
  auto policy = n.ledger->CurrentPolicy();
  if (!policy.ok()) return c.Fail(policy.status());
  // Days are the city's local days (the policy's time zone), as the rules count them.
  const std::int64_t local = api::UnixNow() + std::int64_t{policy->utc_offset_minutes} * 60;
  const std::int64_t today = local / 86400 - (local % 86400 < 0);
  const std::string now = CivilFromDays(today);
  std::int64_t period[2] = {*ParseDate(now.substr(0, 8) + "01"), today + 1};
  const char* names[2] = {"from", "to"};
  for (int i = 0; i < 2; ++i) {
    if (!c.req.has_param(names[i])) continue;
    auto day = ParseDate(c.req.get_param_value(names[i]));
    if (!day)
      return c.Error(
          400, api::codes::kBadRequest,
          fmt::format("query parameter '{}' must be a date YYYY-MM-DD from 1970 on", names[i]));
    period[i] = *day;
  }
  if (period[0] >= period[1])
    return c.Error(400, api::codes::kBadRequest,
                   fmt::format("the period runs from {} up to (not including) {}: 'to' must "
                               "come after 'from'",
                               CivilFromDays(period[0]), CivilFromDays(period[1])));
  api::json districts = api::json::array();
  districts.push_back(
      Figures(n.config.district.code, n.config.district.name, *n.ledger, period[0], period[1]));
  for (auto& p : n.peers)
    districts.push_back(Figures(p->config.code, p->config.name, *p->replica, period[0], period[1]));
  Minutes issued = 0, liability = 0;
  for (const auto& d : districts) {
    issued += d.value("issued_minutes", Minutes{0});
    liability += d.value("liability_minutes", Minutes{0});
  }
  c.Json(200, {{"from", CivilFromDays(period[0])},
               {"to", CivilFromDays(period[1])},
               {"districts", districts},
               {"issued_minutes", issued},
               {"liability_minutes", liability}});
}

}  // namespace timebank::node
