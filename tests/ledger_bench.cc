// ledger_bench — libledger's throughput against the machine's raw limits, same run.
//
// Prints name=value lines:
//   verify_per_sec          raw Ed25519 verifications/s, all cores (the limit)
//   append_per_sec          durable appends/s through the public API, all cores: each
//                           client has up to 4 calls in flight (AppendAsync)
//   append_verify_ratio     append_per_sec / verify_per_sec (target >= 0.7)
//   append_blocking_verify_ratio  the same with clients that wait for each call (Append)
//   plain_loop_verify_ratio the same for a bare verify + hash + synced-batch loop: the
//                           ceiling the ledger's bookkeeping is measured against
//   balance_reads_per_sec   Ledger::Balance lookups/s, all cores
//   bytes_per_entry         data directory size / entries
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "bench_util.h"
#include "district.h"

using namespace ledger;
using namespace ledger::testing;
using Clock = std::chrono::steady_clock;

namespace {

int Cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int clients_for(int argc, char** argv, int cores) {
  return argc > 2 ? std::stoi(argv[2]) : 4 * cores;
}
std::size_t batch_for(int argc, char** argv) {
  return argc > 3 ? std::stoul(argv[3]) : 64;
}

// Entries per second through: decode, Ed25519 verify, SHA-256 leaf, one synced RocksDB
// write per batch (RocksDB groups concurrent writers itself).
double PlainLoop(const std::vector<std::string>& work, int clients, std::size_t batch,
                 const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, path, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c)
    ts.emplace_back([&] {
      for (;;) {
        const std::size_t b = next.fetch_add(batch);
        if (b >= work.size()) return;
        rocksdb::WriteBatch wb;
        for (std::size_t i = b; i < std::min(work.size(), b + batch); ++i) {
          auto e = DecodeAndVerifyEntry(work[i]);
          if (!e.ok()) std::abort();
          const Hash leaf = LeafHash(work[i]);
          char key[8];
          for (int k = 0; k < 8; ++k) key[k] = static_cast<char>(i >> (56 - 8 * k));
          wb.Put(rocksdb::Slice(key, 8), work[i]);
          wb.Put(rocksdb::Slice(reinterpret_cast<const char*>(leaf.data()), 32),
                 rocksdb::Slice(key, 8));
        }
        rocksdb::WriteOptions wo;
        wo.sync = true;
        if (!db->Write(wo, &wb).ok()) std::abort();
      }
    });
  for (auto& t : ts) t.join();
  const double rate = work.size() / Seconds(start);
  db.reset();
  std::filesystem::remove_all(path);
  return rate;
}

struct Phase {
  double seconds = 0, cpu_seconds = 0;
};

// Adds to `total` the time spent appending work[from, to) to `ledger` from `clients`
// threads taking batches of `batch` in turn. queued = 0: each call waits (Append);
// queued = n: each client has up to n calls in flight (AppendAsync: it waits for the
// oldest before it makes the n+1st) and counts a batch once its future is ready.
void AppendPhase(Ledger& ledger, const std::vector<std::string>& work, std::size_t from,
                 std::size_t to, int clients, std::size_t batch, std::size_t queued, Phase* total) {
  std::atomic<std::size_t> next{from}, failed{0};
  auto check = [&](const std::vector<Result<Appended>>& rs) {
    for (auto& r : rs)
      if (!r.ok() && failed++ < 3)
        std::fprintf(stderr, "refused: %s\n", r.status().ToString().c_str());
  };
  const auto start = Clock::now();
  const double cpu0 = CpuSeconds();
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c)
    ts.emplace_back([&] {
      std::deque<std::future<std::vector<Result<Appended>>>> pending;
      for (;;) {
        const std::size_t b = next.fetch_add(batch);
        if (b >= to) break;
        const std::size_t e = std::min(to, b + batch);
        if (queued == 0) {
          check(ledger.Append(std::span<const std::string>(work.data() + b, e - b)));
          continue;
        }
        pending.push_back(
            ledger.AppendAsync(std::vector<std::string>(work.begin() + b, work.begin() + e)));
        if (pending.size() >= queued) {
          check(pending.front().get());
          pending.pop_front();
        }
      }
      for (auto& f : pending) check(f.get());
    });
  for (auto& t : ts) t.join();
  total->seconds += Seconds(start);
  total->cpu_seconds += CpuSeconds() - cpu0;
  if (failed > 0) {
    std::fprintf(stderr, "%zu appends failed\n", failed.load());
    std::exit(1);
  }
}

std::uint64_t DirBytes(const std::string& dir) {
  std::uint64_t total = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
    if (f.is_regular_file()) total += f.file_size();
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t entries = argc > 1 ? std::stoul(argv[1]) : 200000;
  const int cores = Cores();
  TempDir dir;
  District d(dir.path());
  // Enough volunteers that the rules' per-day and cap state is realistic.
  std::vector<std::string> volunteers;
  for (int i = 0; i < 1000; ++i) volunteers.push_back(d.OpenPerson(1950 + i % 40));

  // Pre-signed deposits: signing is the client's cost, not the ledger's.
  std::vector<std::string> work(entries);
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < cores; ++t)
      ts.emplace_back([&, t] {
        for (std::size_t i = t; i < entries; i += cores) {
          Deposit dep{volunteers[i % volunteers.size()],
                      "",
                      i % 2 ? "meals" : "cleaning",
                      30,
                      kNoon - 3600,
                      ""};
          work[i] = d.Sign(d.Body(dep));
        }
      });
    for (auto& t : ts) t.join();
  }

  // (a) The raw limit: Ed25519 verifications of the same entries, all cores.
  std::vector<DecodedEntry> decoded;
  for (std::size_t i = 0; i < 1024; ++i) decoded.push_back(DecodeEntry(work[i]).value());
  std::vector<std::string> messages;
  for (const auto& e : decoded) messages.push_back(EntrySigningMessage(e.body_bytes));
  auto verify_rate = [&] {
    return Rate(cores, 2.0, [&](int t) {
      static thread_local std::size_t i = 0;
      const auto& e = decoded[(i++ * cores + t) % decoded.size()];
      return VerifySignature(e.signatures[0].key, messages[&e - decoded.data()],
                             e.signatures[0].signature)
                 ? 1
                 : 0;
    });
  };
  // Measured before and after the appends; the ratio uses the higher (the conservative
  // choice when something else briefly shares the machine).
  const double verify_before = verify_rate();

  // (b) Durable appends through the public API: 4 client threads per core, batches of 64;
  // with up to 4 calls in flight per client (into `d`), and with each call waited for (into a
  // second, identical ledger). The two take turns, a quarter of the entries at a time, so
  // that a slow spell of the VM falls on both alike.
  const int clients = clients_for(argc, argv, cores);
  const std::size_t batch = batch_for(argc, argv);
  constexpr std::size_t kQueued = 4;
  Phase queued_phase, blocking_phase;
  {
    TempDir dir2;
    District d2(dir2.path());
    for (const auto& v : volunteers)
      if (d2.OpenPerson(1950 + (&v - volunteers.data()) % 40) != v) std::abort();
    constexpr std::size_t kTurns = 4;
    for (std::size_t t = 0; t < kTurns; ++t) {
      const std::size_t from = entries * t / kTurns, to = entries * (t + 1) / kTurns;
      AppendPhase(d.ledger(), work, from, to, clients, batch, kQueued, &queued_phase);
      AppendPhase(d2.ledger(), work, from, to, clients, batch, 0, &blocking_phase);
    }
  }
  const double append = entries / queued_phase.seconds;
  const double append_cpu = queued_phase.cpu_seconds / queued_phase.seconds / cores;
  const double blocking = entries / blocking_phase.seconds;
  const double blocking_cpu = blocking_phase.cpu_seconds / blocking_phase.seconds / cores;

  // The reference: a plain loop of verify + hash + batched synced write into a bare
  // RocksDB, the same clients and batches, each waiting for its write (as the blocking
  // clients do), no ledger bookkeeping.
  const bool skip_plain = argc > 4 && std::string(argv[4]) == "noplain";  // for profiling
  const double plain = skip_plain ? 0
                                  : PlainLoop(work, clients_for(argc, argv, cores),
                                              batch_for(argc, argv), dir.path() + "-plain");

  const double verify = std::max(verify_before, verify_rate());

  // (c) Balance lookups, all cores.
  const double reads = Rate(cores, 1.0, [&](int t) {
    static thread_local std::mt19937 rng(t);
    return d.ledger().Balance(volunteers[rng() % volunteers.size()]).ok() ? 1 : 0;
  });

  const std::uint64_t size = d.ledger().Size();
  d.Close();
  const double bytes = static_cast<double>(DirBytes(dir.path())) / size;

  // With a suffix (argv[5]) only the append figures print, named name_<suffix>: for a
  // second configuration in the same scripts/bench run.
  if (argc > 5) {
    const std::string sfx = std::string("_") + argv[5];
    std::printf("append_per_sec%s=%.0f\n", sfx.c_str(), append);
    std::printf("append_verify_ratio%s=%.3f\n", sfx.c_str(), append / verify);
    std::printf("append_blocking_verify_ratio%s=%.3f\n", sfx.c_str(), blocking / verify);
    if (plain > 0) std::printf("plain_loop_verify_ratio%s=%.3f\n", sfx.c_str(), plain / verify);
    return 0;
  }
  std::printf("cores=%d\n", cores);
  std::printf("entries=%llu\n", static_cast<unsigned long long>(size));
  std::printf("verify_per_sec=%.0f\n", verify);
  std::printf("append_per_sec=%.0f\n", append);
  std::printf("append_verify_ratio=%.3f\n", append / verify);
  std::printf("append_cpu_busy=%.2f\n", append_cpu);
  std::printf("append_blocking_per_sec=%.0f\n", blocking);
  std::printf("append_blocking_verify_ratio=%.3f\n", blocking / verify);
  std::printf("append_blocking_cpu_busy=%.2f\n", blocking_cpu);
  std::printf("plain_loop_per_sec=%.0f\n", plain);
  std::printf("plain_loop_verify_ratio=%.3f\n", plain / verify);
  std::printf("clients=%d\n", clients);
  std::printf("batch=%zu\n", batch);
  std::printf("calls_in_flight_per_client=%zu\n", kQueued);
  std::printf("balance_reads_per_sec=%.0f\n", reads);
  std::printf("bytes_per_entry=%.1f\n", bytes);
  return 0;
}
