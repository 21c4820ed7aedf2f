#include "metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace timebank::node {

void Histogram::Observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::Write(std::string* out, const std::string& name) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  *out += fmt::format("{}_sum {:.6f}\n", name, sum_micros_.load() / 1e6);
  *out += fmt::format("{}_count {}\n", name, count_.load());
}

void Metrics::CountError(const std::string& code) {
  std::lock_guard lk(mu_);
  ++errors_[code];
}

void Metrics::CountRequest(std::string_view route, int status) {
  std::lock_guard lk(mu_);
  // Route names are few: look up without building a string, insert once.
  auto it = std::find_if(requests_.begin(), requests_.end(), [&](const auto& kv) {
    return kv.first.second == status && kv.first.first == route;
  });
  if (it == requests_.end()) it = requests_.emplace(std::pair{std::string(route), status}, 0).first;
  ++it->second;
}

std::string Metrics::Render(std::uint64_t log_size, double append_rate, bool ledger_failed) const {
  std::string out;
  auto gauge = [&](const char* name, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, value);
  };
  auto counter = [&](const char* name, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, value);
  };
  gauge("timebank_log_entries", "Entries in this district's log.", log_size);
  gauge("timebank_ledger_failed",
        "1 when the ledger refuses entries since a failed write (restart the node), else 0.",
        ledger_failed ? 1 : 0);
  counter("timebank_entries_appended_total", "New entries accepted through the API.",
          entries_appended.load());
  counter("timebank_entries_duplicate_total", "Repeats of accepted entries (answered, not added).",
          entries_duplicate.load());
  gauge("timebank_append_rate", "Entries appended per second over the last 10 s.",
        fmt::format("{:.1f}", append_rate));
  counter("timebank_submit_requests_total", "POST /v1/entries requests.", submit_requests.load());
  gauge("timebank_http_open_connections", "HTTP connections open now.", open_connections.load());
  counter("timebank_http_connections_total", "HTTP connections accepted.",
          connections_total.load());
  out +=
      "# HELP timebank_commit_latency_seconds Time to durably append one request's entries.\n"
      "# TYPE timebank_commit_latency_seconds histogram\n";
  commit_latency.Write(&out, "timebank_commit_latency_seconds");
  out +=
      "# HELP timebank_http_request_latency_seconds Time to answer an HTTP request.\n"
      "# TYPE timebank_http_request_latency_seconds histogram\n";
  request_latency.Write(&out, "timebank_http_request_latency_seconds");
  std::lock_guard lk(mu_);
  out +=
      "# HELP timebank_errors_total Errors answered, by stable code.\n"
      "# TYPE timebank_errors_total counter\n";
  for (const auto& [code, n] : errors_)
    out += fmt::format("timebank_errors_total{{code=\"{}\"}} {}\n", code, n);
  out +=
      "# HELP timebank_http_requests_total Requests answered, by route and status.\n"
      "# TYPE timebank_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("timebank_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  return out;
}

}  // namespace timebank::node
