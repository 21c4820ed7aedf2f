// await.h — waiting for Ledger::AppendAsync's futures in tests, with a deadline, so that a
// hang fails the test instead of stopping the run.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include "ledger/ledger.h"

namespace ledger::testing {

using Results = std::vector<Result<Appended>>;

// On the test's thread: REQUIREs that the results come within two minutes.
inline Results Await(std::future<Results>& f) {
  REQUIRE(f.wait_for(std::chrono::minutes(2)) == std::future_status::ready);
  return f.get();
}

// On a thread of the test's own, where doctest's REQUIRE may not throw: no results and
// `timed_out` set when they do not come within two minutes (check it after joining).
inline Results AwaitInThread(std::future<Results>& f, std::atomic<bool>* timed_out) {
  if (f.wait_for(std::chrono::minutes(2)) != std::future_status::ready) {
    *timed_out = true;
    return {};
  }
  return f.get();
}

}  // namespace ledger::testing
