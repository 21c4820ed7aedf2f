// crash_child — appends deposits to a district ledger until it is killed.
//
// Usage: crash_child DIR ACCOUNT...
// Prints "<entry id hex> <index>\n" to stdout, flushed, for every entry the ledger has
// acknowledged. The crash test kills this process with SIGKILL at random moments and
// checks that every printed entry survived.
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "district.h"

using namespace ledger;
using namespace ledger::testing;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crash_child DIR ACCOUNT...\n");
    return 2;
  }
  std::vector<std::string> accounts(argv + 2, argv + argc);
  District d(argv[1]);
  std::mutex out_mu;
  // Reports the entries of one call once the ledger has answered it.
  auto report = [&](const std::vector<EntryBody>& bodies,
                    const std::vector<Result<Appended>>& results) {
    std::lock_guard lk(out_mu);
    for (std::size_t k = 0; k < bodies.size(); ++k) {
      if (!results[k].ok()) {
        std::fprintf(stderr, "refused: %s\n", results[k].status().ToString().c_str());
        std::_Exit(3);
      }
      std::printf("%s %llu\n", ToHex(bodies[k].id).c_str(),
                  static_cast<unsigned long long>(results[k]->index));
    }
    std::fflush(stdout);
  };
  // Two appenders, so that kills also land inside shared group commits: one waits for each
  // call (Append), the other keeps up to three calls queued (AppendAsync).
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      std::deque<std::pair<std::vector<EntryBody>, std::future<std::vector<Result<Appended>>>>>
          queued;
      for (std::uint64_t i = 0;; ++i) {
        std::vector<EntryBody> bodies;
        std::vector<std::string> batch;
        const std::size_t n = 1 + (i * 7 + t) % 16;
        for (std::size_t k = 0; k < n; ++k) {
          Deposit dep{accounts[(i + k + t) % accounts.size()],
                      "",
                      "meals",
                      1 + static_cast<Minutes>(k),
                      kNoon - 60,
                      ""};
          bodies.push_back(d.Body(dep));
          batch.push_back(d.Sign(bodies.back()));
        }
        if (t == 0) {
          report(bodies, d.ledger().Append(batch));
          continue;
        }
        queued.emplace_back(std::move(bodies), d.ledger().AppendAsync(std::move(batch)));
        if (queued.size() > 2) {
          report(queued.front().first, queued.front().second.get());
          queued.pop_front();
        }
      }
    });
  for (auto& t : threads) t.join();
}
