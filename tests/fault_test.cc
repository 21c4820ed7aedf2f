// Failures inside the append path: an exception while a group is sequenced, and a write
// the disk refuses. Either way nothing acknowledged is lost, nothing refused is half in,
// and the ledger takes no more entries until it is reopened.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "await.h"
#include "district.h"

using namespace ledger;
using namespace ledger::testing;

TEST_CASE("a failure while sequencing refuses that group and all later ones until reopened") {
  TempDir dir;
  District d(dir.path());
  // The rules read the clock once a group; a clock that throws stands in for any failure
  // inside sequencing (out of memory in practice).
  std::atomic<int> groups_until_failure{-1};  // -1: never
  std::atomic<bool> throw_int{false};         // throw something that is not a std::exception
  auto throwing_clock = [&](Options& o) {
    o.clock = [&] {
      if (groups_until_failure.fetch_sub(1) == 0) {
        if (throw_int) throw 42;
        throw std::runtime_error("clock unavailable");
      }
      return d.now;
    };
  };
  d.Reopen(throwing_clock);
  const std::string v = d.OpenPerson(1970);
  const std::uint64_t start = d.ledger().Size();

  SUBCASE("a blocking call, then the ledger refuses everything until it is reopened") {
    CHECK(d.ledger().Health().ok());
    groups_until_failure = 0;
    const std::vector<std::string> batch = {d.Sign(d.Body(Serve(v, 1))),
                                            d.Sign(d.Body(Serve(v, 2)))};
    for (const auto& r : d.ledger().Append(batch)) {
      CHECK(r.code() == Code::kInternal);
      CHECK(r.status().message().find("clock unavailable") != std::string::npos);
    }
    auto later = d.ledger().AppendAsync({d.Sign(d.Body(Serve(v, 3)))});
    for (const auto& r : Await(later)) CHECK(r.code() == Code::kInternal);
    CHECK(d.ledger().Append(batch)[0].code() == Code::kInternal);
    CHECK(d.ledger().Health().code() == Code::kInternal);
    CHECK(d.ledger().Size() == start);
    CHECK(d.BalanceOf(v) == 0);
    d.Reopen();
    for (const auto& r : d.ledger().Append(batch)) CHECK(r.ok());
    CHECK(d.BalanceOf(v) == 3);
  }

  SUBCASE("an exception of any type") {
    throw_int = true;
    groups_until_failure = 0;
    auto call = d.ledger().AppendAsync({d.Sign(d.Body(Serve(v, 1)))});  // (led by this thread)
    const Results rs = Await(call);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].code() == Code::kInternal);
    CHECK(rs[0].status().message().find("unknown type") != std::string::npos);
    CHECK(d.ledger().Append(d.Sign(d.Body(Serve(v, 1)))).code() == Code::kInternal);
  }

  SUBCASE("queued calls: the groups before the failure are written, none after") {
    constexpr int kThreads = 3, kCalls = 40;
    std::vector<std::vector<std::string>> sent(kThreads);
    std::vector<std::vector<Results>> got(kThreads);
    groups_until_failure = 12;
    std::atomic<bool> timed_out{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        std::deque<std::future<Results>> pending;
        for (int c = 0; c < kCalls; ++c) {
          std::vector<std::string> call;
          for (int k = 0; k < 8; ++k) call.push_back(d.Sign(d.Body(Serve(v, 1))));
          sent[t].insert(sent[t].end(), call.begin(), call.end());
          pending.push_back(d.ledger().AppendAsync(std::move(call)));
          if (pending.size() == 3) {
            got[t].push_back(AwaitInThread(pending.front(), &timed_out));
            pending.pop_front();
          }
        }
        for (auto& f : pending) got[t].push_back(AwaitInThread(f, &timed_out));
      });
    for (auto& th : threads) th.join();
    REQUIRE_FALSE(timed_out);
    std::size_t written = 0, refused = 0;
    std::vector<std::pair<std::uint64_t, std::string>> acknowledged;
    for (int t = 0; t < kThreads; ++t) {
      std::size_t i = 0;
      bool failed = false;  // in a thread's order: once refused, refused to the end
      for (const auto& call : got[t])
        for (const auto& r : call) {
          if (failed) REQUIRE(r.code() == Code::kInternal);
          if (r.ok()) {
            acknowledged.emplace_back(r->index, sent[t][i]);
            ++written;
          } else {
            REQUIRE(r.code() == Code::kInternal);
            failed = true;
            ++refused;
          }
          ++i;
        }
    }
    CHECK(written >= 12 * 8);  // the twelve groups before the failure, each a call or more
    CHECK(refused > 0);
    CHECK(written + refused == kThreads * kCalls * 8);
    d.Reopen();  // (closing did not hang on the refused queue)
    CHECK(d.ledger().Size() == start + written);
    CHECK(d.BalanceOf(v) == static_cast<Minutes>(written));
    for (const auto& [index, bytes] : acknowledged)
      CHECK(d.ledger().GetEntry(index).value() == bytes);
  }
}

namespace {

// While alive, this process may not write a file past `bytes` (RLIMIT_FSIZE): the kernel
// refuses the write with EFBIG, as a full disk would refuse it with ENOSPC.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);  // (else the process is killed)
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("a write the disk refuses: nothing acknowledged is lost, the rest can be sent again") {
  TempDir dir;
  District d(dir.path());
  const std::string v = d.OpenPerson(1970);
  const std::uint64_t start = d.ledger().Size();
  constexpr int kThreads = 3, kCalls = 40, kPerCall = 16;
  std::vector<std::vector<std::string>> sent(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kCalls * kPerCall; ++i) sent[t].push_back(d.Sign(d.Body(Serve(v, 1))));
  std::vector<Results> got(kThreads);
  {
    // Room for a few hundred more entries in the write-ahead log, then writes fail.
    FileSizeLimit limit(LargestFile(dir.path()) + 256 * 1024);
    std::atomic<bool> timed_out{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        std::deque<std::future<Results>> pending;
        auto take = [&] {
          for (auto& r : AwaitInThread(pending.front(), &timed_out)) got[t].push_back(std::move(r));
          pending.pop_front();
        };
        for (int c = 0; c < kCalls; ++c) {
          std::vector<std::string> call(sent[t].begin() + c * kPerCall,
                                        sent[t].begin() + (c + 1) * kPerCall);
          if (c % 5 == 4) {  // now and then a blocking call, after the queued ones
            while (!pending.empty()) take();
            for (auto& r : d.ledger().Append(call)) got[t].push_back(std::move(r));
            continue;
          }
          pending.push_back(d.ledger().AppendAsync(std::move(call)));
          if (pending.size() == 3) take();
        }
        while (!pending.empty()) take();
      });
    for (auto& th : threads) th.join();
    REQUIRE_FALSE(timed_out);
  }
  // The failure is sticky: with the disk writable again, the ledger still refuses.
  CHECK(d.ledger().Append(d.Sign(d.Body(Serve(v, 1)))).code() == Code::kIoError);
  CHECK(d.ledger().Health().code() == Code::kIoError);
  CHECK(d.ledger().Balance(v).ok());  // reads go on

  std::vector<std::pair<std::uint64_t, const std::string*>> acknowledged;
  std::vector<std::string> refused;
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(got[t].size() == sent[t].size());
    bool failed = false;  // in a thread's order: accepted entries, then refused ones
    for (std::size_t i = 0; i < got[t].size(); ++i) {
      const auto& r = got[t][i];
      if (r.ok()) {
        REQUIRE_FALSE(failed);
        CHECK_FALSE(r->duplicate);
        acknowledged.emplace_back(r->index, &sent[t][i]);
      } else {
        REQUIRE_MESSAGE(r.code() == Code::kIoError, r.status().ToString());
        if (refused.empty()) CHECK(r.status().message().find("committing a group") == 0);
        failed = true;
        refused.push_back(sent[t][i]);
      }
    }
  }
  MESSAGE(acknowledged.size(), " acknowledged, ", refused.size(), " refused");
  REQUIRE(!acknowledged.empty());
  REQUIRE(!refused.empty());

  d.Reopen();
  CHECK(d.ledger().Health().ok());
  CHECK(d.ledger().Size() >= start + acknowledged.size());
  for (const auto& [index, bytes] : acknowledged)
    CHECK(d.ledger().GetEntry(index).value() == *bytes);
  // A refused entry's outcome is unknown (the write may have reached the disk before the
  // sync failed): sent again with the same bytes, it goes in once.
  for (const auto& r : d.ledger().Append(refused)) REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const std::size_t total = kThreads * kCalls * kPerCall;
  CHECK(d.ledger().Size() == start + total);
  CHECK(d.BalanceOf(v) == static_cast<Minutes>(total));
  auto audit = d.ledger().Audit();
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK(audit->entries == start + total);
}
