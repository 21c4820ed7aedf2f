// The append path: large batches, which go through the ledger as a pipeline of chunks, and
// appends queued without waiting (AppendAsync).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "await.h"
#include "city.h"
#include "district.h"

using namespace ledger;
using namespace ledger::testing;

TEST_CASE("a batch larger than a pipeline chunk keeps its order and each entry's result") {
  TempDir dir;
  District d(dir.path());
  std::vector<std::string> volunteers;
  for (int i = 0; i < 20; ++i) volunteers.push_back(d.OpenPerson(1960 + i));
  // One minute of service by volunteer i % 20.
  auto serve = [&](int i, std::string category = "meals") {
    return d.Sign(d.Body(Serve(volunteers[i % 20], 1, std::move(category))));
  };
  const std::uint64_t start = d.ledger().Size();
  // 1,300 entries: three chunks of the pipeline (512 each). One refused in the second, and
  // repeats of entries from the first and second chunks in the third.
  std::vector<std::string> batch;
  for (int i = 0; i < 1300; ++i) batch.push_back(serve(i));
  batch[700] = serve(0, "gardening");
  batch[1100] = batch[5];
  batch[1200] = batch[1000 - 1];
  // Another caller appends while the batch goes through; its entries may come between two
  // chunks of the batch, never inside one.
  std::vector<Result<Appended>> other;
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      auto rs = d.ledger().Append(std::vector<std::string>{serve(i, "cleaning")});
      other.push_back(std::move(rs.front()));
    }
  });
  auto rs = d.ledger().Append(batch);
  writer.join();
  REQUIRE(rs.size() == batch.size());
  for (const auto& r : other) REQUIRE(r.ok());

  std::uint64_t last = 0;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (i == 700) {
      CHECK(rs[i].code() == Code::kUnknownService);
      continue;
    }
    REQUIRE_MESSAGE(rs[i].ok(), i, ": ", rs[i].status().ToString());
    if (i == 1100 || i == 1200) {
      CHECK(rs[i]->duplicate);
      CHECK(rs[i]->index == rs[i == 1100 ? 5 : 999]->index);
      continue;
    }
    CHECK_FALSE(rs[i]->duplicate);
    CHECK(rs[i]->index > last);  // in the order given
    // Inside a chunk nothing comes between (refused entries and repeats take no index).
    if (i > 0 && i % 512 != 0) CHECK(rs[i]->index == last + 1);
    last = rs[i]->index;
    CHECK(d.ledger().GetEntry(rs[i]->index).value() == batch[i]);
    ++accepted;
  }
  CHECK(accepted == 1297);
  CHECK(d.ledger().Size() == start + accepted + other.size());
  Minutes total = 0;
  for (const auto& v : volunteers) total += d.BalanceOf(v);
  CHECK(total == static_cast<Minutes>(accepted + other.size()));
}

TEST_CASE("AppendAsync: each caller's calls keep their order, each entry its own result") {
  TempDir dir;
  District d(dir.path());
  std::vector<std::string> volunteers;
  for (int i = 0; i < 20; ++i) volunteers.push_back(d.OpenPerson(1960 + i));
  const std::uint64_t start = d.ledger().Size();
  constexpr int kThreads = 4, kCalls = 30, kBatch = 16;
  // Per thread and call: the batch sent and what came back, in call order.
  struct Call {
    std::vector<std::string> batch;
    std::vector<Result<Appended>> results;
  };
  std::vector<std::vector<Call>> calls(kThreads, std::vector<Call>(kCalls));
  std::atomic<bool> timed_out{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::deque<std::pair<int, std::future<Results>>> pending;
      for (int c = 0; c < kCalls; ++c) {
        Call& call = calls[t][c];
        for (int k = 0; k < kBatch; ++k)
          call.batch.push_back(d.Sign(d.Body(Serve(volunteers[(t * 7 + c + k) % 20], 1))));
        call.batch[3] = d.Sign(d.Body(Serve(volunteers[0], 1, "gardening")));  // refused
        if (c > 0) call.batch[9] = calls[t][c - 1].batch[0];  // a repeat of the last call's
        if (c % 5 == 4) {  // now and then a blocking call between the queued ones
          call.results = d.ledger().Append(call.batch);
          continue;
        }
        pending.emplace_back(c, d.ledger().AppendAsync(call.batch));
        if (pending.size() > 2) {  // three calls queued ahead at most
          calls[t][pending.front().first].results =
              AwaitInThread(pending.front().second, &timed_out);
          pending.pop_front();
        }
      }
      for (auto& [c, f] : pending) calls[t][c].results = AwaitInThread(f, &timed_out);
    });
  for (auto& th : threads) th.join();
  REQUIRE_FALSE(timed_out);

  std::size_t accepted = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::uint64_t last = 0;
    for (int c = 0; c < kCalls; ++c) {
      const Call& call = calls[t][c];
      REQUIRE(call.results.size() == call.batch.size());
      std::optional<std::uint64_t> previous;  // the last new entry's index in this call
      for (int k = 0; k < kBatch; ++k) {
        const auto& r = call.results[k];
        if (k == 3) {
          CHECK(r.code() == Code::kUnknownService);
          continue;
        }
        REQUIRE_MESSAGE(r.ok(), t, "/", c, "/", k, ": ", r.status().ToString());
        if (k == 9 && c > 0) {
          CHECK(r->duplicate);
          CHECK(r->index == calls[t][c - 1].results[0]->index);
          continue;
        }
        CHECK_FALSE(r->duplicate);
        CHECK(r->index > last);                          // after everything this thread sent before
        if (previous) CHECK(r->index == *previous + 1);  // nothing comes inside a call
        previous = last = r->index;
        CHECK(d.ledger().GetEntry(r->index).value() == call.batch[k]);
        ++accepted;
      }
    }
  }
  CHECK(accepted ==
        static_cast<std::size_t>(kThreads * kCalls * (kBatch - 1) - kThreads * (kCalls - 1)));
  CHECK(d.ledger().Size() == start + accepted);
  Minutes total = 0;
  for (const auto& v : volunteers) total += d.BalanceOf(v);
  CHECK(total == static_cast<Minutes>(accepted));
}

TEST_CASE("AppendAsync: a large call goes in chunks, and closing the ledger still delivers it") {
  TempDir dir;
  std::vector<std::string> batch;
  std::vector<Result<Appended>> results;
  std::uint64_t start = 0;
  {
    District d(dir.path());
    const std::string v = d.OpenPerson(1970);
    start = d.ledger().Size();
    for (int i = 0; i < 1300; ++i) batch.push_back(d.Sign(d.Body(Serve(v, 1))));
    batch[600] = d.Sign(d.Body(Serve(v, 1, "gardening")));
    auto future = d.ledger().AppendAsync(batch);
    d.Close();  // before anyone waits: the ledger finishes what it took
    REQUIRE(future.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    results = Await(future);
  }
  REQUIRE(results.size() == batch.size());
  CHECK(results[600].code() == Code::kUnknownService);
  District d(dir.path());  // reopened: everything acknowledged is there
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i == 600) continue;
    REQUIRE_MESSAGE(results[i].ok(), i, ": ", results[i].status().ToString());
    CHECK(results[i]->index == start + i - (i > 600 ? 1 : 0));
    CHECK(d.ledger().GetEntry(results[i]->index).value() == batch[i]);
  }
  CHECK(d.ledger().Size() == start + 1299);
}

TEST_CASE("AppendAsync on a replica refuses every entry at once") {
  TempDir dir, copy;
  District d(dir.path());
  auto replica = OpenReplica(copy.path(), d.ledger(), nullptr);
  const std::string v = d.OpenPerson(1970);
  auto rs = replica->AppendAsync({d.Sign(d.Body(Serve(v, 1))), d.Sign(d.Body(Serve(v, 2)))}).get();
  REQUIRE(rs.size() == 2);
  for (const auto& r : rs) CHECK(r.code() == Code::kReadOnlyReplica);
  CHECK(replica->Size() == 0);
  CHECK(replica->AppendAsync({}).get().empty());
}

TEST_CASE("AppendAsync: large calls from several threads, with little room in the queue") {
  TempDir dir;
  District d(dir.path());
  // Room for 64 queued entries: every call of 700 (chunks of 512 and 188) waits for room,
  // and still goes in (a chunk larger than the room is taken once the queue is empty).
  d.Reopen([](Options& o) { o.max_queued_entries = 64; });
  std::vector<std::string> volunteers;
  for (int i = 0; i < 10; ++i) volunteers.push_back(d.OpenPerson(1960 + i));
  const std::uint64_t start = d.ledger().Size();
  constexpr int kThreads = 3, kCalls = 5, kEntries = 700;
  std::vector<std::vector<std::vector<std::string>>> batches(kThreads);
  std::vector<std::vector<Results>> results(kThreads, std::vector<Results>(kCalls));
  for (int t = 0; t < kThreads; ++t)
    for (int c = 0; c < kCalls; ++c) {
      auto& b = batches[t].emplace_back();
      for (int k = 0; k < kEntries; ++k)
        b.push_back(d.Sign(d.Body(Serve(volunteers[(t + c + k) % 10], 1))));
    }
  std::atomic<bool> timed_out{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::deque<std::pair<int, std::future<Results>>> pending;
      for (int c = 0; c < kCalls; ++c) {
        pending.emplace_back(c, d.ledger().AppendAsync(batches[t][c]));
        if (pending.size() == 2) {
          results[t][pending.front().first] = AwaitInThread(pending.front().second, &timed_out);
          pending.pop_front();
        }
      }
      for (auto& [c, f] : pending) results[t][c] = AwaitInThread(f, &timed_out);
    });
  for (auto& th : threads) th.join();
  REQUIRE_FALSE(timed_out);
  for (int t = 0; t < kThreads; ++t) {
    std::uint64_t last = 0;
    for (int c = 0; c < kCalls; ++c) {
      REQUIRE(results[t][c].size() == kEntries);
      for (int k = 0; k < kEntries; ++k) {
        const auto& r = results[t][c][k];
        REQUIRE_MESSAGE(r.ok(), r.status().ToString());
        CHECK(r->index > last);                         // the thread's order
        if (k % 512 != 0) CHECK(r->index == last + 1);  // nothing inside a chunk
        last = r->index;
      }
      CHECK(d.ledger().GetEntry(results[t][c][kEntries - 1]->index).value() ==
            batches[t][c][kEntries - 1]);
    }
  }
  CHECK(d.ledger().Size() == start + kThreads * kCalls * kEntries);
}

TEST_CASE("AppendAsync: with no room at all, a call still goes in once the queue is empty") {
  TempDir dir;
  District d(dir.path());
  d.Reopen([](Options& o) { o.max_queued_entries = 0; });
  const std::string v = d.OpenPerson(1970);
  const std::uint64_t start = d.ledger().Size();
  std::deque<std::future<Results>> calls;
  for (int i = 0; i < 20; ++i)
    calls.push_back(
        d.ledger().AppendAsync({d.Sign(d.Body(Serve(v, 1))), d.Sign(d.Body(Serve(v, 2)))}));
  for (auto& f : calls)
    for (const auto& r : Await(f)) CHECK(r.ok());
  CHECK(d.ledger().Size() == start + 40);
  CHECK(d.BalanceOf(v) == 60);
}
