// ledger_bench — libledger's throughput against the machine's raw limits, same run.
//
// Prints name=value lines:
//   verify_per_sec          raw Ed25519 verifications/s, all cores (the limit)
//   append_per_sec          durable appends/s through the public API, all cores
//   append_verify_ratio     append_per_sec / verify_per_sec (target >= 0.7)
//   plain_loop_verify_ratio the same for a bare verify + hash + synced-batch loop: the
//                           ceiling the ledger's bookkeeping is measured against
//   balance_reads_per_sec   Ledger::Balance lookups/s, all cores
//   bytes_per_entry         data directory size / entries
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
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

  // (b) Durable appends through the public API: 4 client threads per core, batches of 64.
  const int clients = clients_for(argc, argv, cores);
  const std::size_t batch = batch_for(argc, argv);
  std::atomic<std::size_t> next{0}, failed{0};
  const auto start = Clock::now();
  const double cpu0 = CpuSeconds();
  {
    std::vector<std::thread> ts;
    for (int c = 0; c < clients; ++c)
      ts.emplace_back([&] {
        for (;;) {
          const std::size_t b = next.fetch_add(batch);
          if (b >= entries) return;
          const std::size_t e = std::min(entries, b + batch);
          auto rs = d.ledger().Append(std::span<const std::string>(work.data() + b, e - b));
          for (auto& r : rs)
            if (!r.ok() && failed++ < 3)
              std::fprintf(stderr, "refused: %s\n", r.status().ToString().c_str());
        }
      });
    for (auto& t : ts) t.join();
  }
  const double append = entries / Seconds(start);
  const double append_cpu = (CpuSeconds() - cpu0) / Seconds(start) / cores;
  if (failed > 0) {
    std::fprintf(stderr, "%zu appends failed\n", failed.load());
    return 1;
  }

  // The reference: a plain loop of verify + hash + batched synced write into a bare
  // RocksDB, the same clients and batches, no ledger bookkeeping.
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
    if (plain > 0) std::printf("plain_loop_verify_ratio%s=%.3f\n", sfx.c_str(), plain / verify);
    return 0;
  }
  std::printf("cores=%d\n", cores);
  std::printf("entries=%llu\n", static_cast<unsigned long long>(size));
  std::printf("verify_per_sec=%.0f\n", verify);
  std::printf("append_per_sec=%.0f\n", append);
  std::printf("append_verify_ratio=%.3f\n", append / verify);
  std::printf("append_cpu_busy=%.2f\n", append_cpu);
  std::printf("plain_loop_per_sec=%.0f\n", plain);
  std::printf("plain_loop_verify_ratio=%.3f\n", plain / verify);
  std::printf("clients=%d\n", clients);
  std::printf("batch=%zu\n", batch);
  std::printf("balance_reads_per_sec=%.0f\n", reads);
  std::printf("bytes_per_entry=%.1f\n", bytes);
  return 0;
}
