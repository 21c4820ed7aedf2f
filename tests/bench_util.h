// bench_util.h — what the benchmarks share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace ledger::testing {

using BenchClock = std::chrono::steady_clock;

// Runs fn(thread) on `threads` threads for about `seconds`; fn returns operations done per
// call. Returns operations per second of wall time.
template <typename Fn>
double Rate(int threads, double seconds, Fn fn) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ops{0};
  std::vector<std::thread> ts;
  const auto start = BenchClock::now();
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) n += fn(t);
      ops += n;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  return ops / std::chrono::duration<double>(BenchClock::now() - start).count();
}

}  // namespace ledger::testing
