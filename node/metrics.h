// metrics.h — the node's Prometheus metrics (text exposition format 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace timebank::node {

// A fixed-bucket latency histogram, safe to observe from many threads.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                     0.05,   0.1,   0.2,   0.5,   1.0,  2.0};
  void Observe(double seconds);
  // Appends the _bucket, _sum and _count lines of `name`.
  void Write(std::string* out, const std::string& name) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  std::atomic<std::uint64_t> entries_appended{0};  // accepted, new
  std::atomic<std::uint64_t> entries_duplicate{0};
  std::atomic<std::uint64_t> submit_requests{0};
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::uint64_t> connections_total{0};
  Histogram commit_latency;   // one Ledger::Append call (a submit request's entries)
  Histogram request_latency;  // every HTTP request

  // An error answered, by its stable code.
  void CountError(const std::string& code);
  // A request answered, by route name and HTTP status.
  void CountRequest(std::string_view route, int status);

  // Everything, with the ledger's size, the recent append rate and whether the ledger
  // refuses entries since a failure (Ledger::Health) from the caller.
  std::string Render(std::uint64_t log_size, double append_rate_per_sec, bool ledger_failed) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> errors_;
  std::map<std::pair<std::string, int>, std::uint64_t, std::less<>> requests_;
};

}  // namespace timebank::node
