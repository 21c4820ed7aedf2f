// A full audit: rebuild the state from the log alone and compare it with the store.
#include <fmt/format.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <map>
#include <thread>

#include "crypto.h"
#include "keyspace.h"
#include "ledger_impl.h"
#include "state.pb.h"

namespace ledger {
namespace {

// State rebuilt in memory.
class MapState : public StateReader {
 public:
  Result<std::optional<std::string>> Read(const std::string& key) override {
    auto it = map.find(key);
    if (it == map.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> map;
};

Status Mismatch(std::string what) {
  return Status(Code::kCorruption, "audit: " + std::move(what));
}

}  // namespace

// Rebuilds state from entries fed in log order, in memory.
class Replayer {
 public:
  explicit Replayer(PeerLogs* peers = nullptr) : peers_(peers) {}
  // Checks and applies entries first_index.. (the bytes of each, without any prefix).
  Status Add(std::uint64_t first_index, std::vector<std::string>& bytes, ThreadPool* pool) {
    std::vector<std::optional<Result<DecodedEntry>>> decoded(bytes.size());
    auto verify = [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j) decoded[j].emplace(DecodeAndVerifyEntry(bytes[j]));
    };
    if (pool)
      pool->ParallelFor(bytes.size(), 64, verify);  // signatures on all cores
    else
      verify(0, bytes.size());
    for (std::size_t j = 0; j < bytes.size(); ++j) {
      const std::uint64_t i = first_index + j;
      const Result<DecodedEntry>& entry = *decoded[j];
      if (!entry.ok()) return Mismatch(fmt::format("entry {}: {}", i, entry.status().ToString()));
      const Hash leaf = LeafHash(bytes[j]);
      Overlay overlay(&state_);
      ApplyContext ctx{i, leaf, false, 0, 0, peers_};
      auto applied = engine_.Apply(*entry, ctx, &overlay);
      if (!applied.ok())
        return Mismatch(
            fmt::format("entry {} is refused on replay: {}", i, applied.status().ToString()));
      if (applied->duplicate)
        return Mismatch(fmt::format("entry {} repeats the id of entry {}", i, applied->index));
      Minutes sum = 0;
      for (const auto& p : applied->postings) sum += p.delta;
      if (sum != 0) return Mismatch(fmt::format("entry {} postings sum to {}, not zero", i, sum));
      for (const auto& [k, v] : overlay.writes()) state_.map[k] = v;
      frontier_.Append(leaf, nullptr);
    }
    return Status::Ok();
  }

  // Balances, sums and the root once every entry is in.
  Result<AuditReport> Finish() const {
    AuditReport report;
    report.entries = frontier_.size();
    report.root = frontier_.Root();
    Minutes total = 0;
    for (const auto& [k, v] : state_.map) {
      if (!k.starts_with("a:")) continue;
      timebank::state::Account a;
      if (!a.ParseFromString(v)) return Mismatch("an account record does not parse");
      const std::string account = k.substr(2);
      report.balances[account] = a.balance();
      total += a.balance();
      if (account.ends_with(".issuance"))
        report.issued = -a.balance();
      else if (a.balance() < 0 && !account.ends_with(".interdistrict"))
        return Mismatch(fmt::format("account {} is below zero", account));
    }
    report.accounts = report.balances.size();
    if (total != 0) return Mismatch(fmt::format("balances sum to {}, not zero", total));
    return report;
  }

  const std::map<std::string, std::string>& state() const { return state_.map; }

 private:
  PeerLogs* peers_;
  MapState state_;
  Engine engine_;
  merkle::Frontier frontier_;
};

Result<AuditReport> ReplayEntries(std::span<const std::string> entries, PeerLogs* peers) {
  crypto::InitCrypto();
  Replayer replay(peers);
  ThreadPool pool(std::max(1, static_cast<int>(std::thread::hardware_concurrency())) - 1);
  constexpr std::size_t kChunk = 4096;  // bounded memory for the decoded entries
  std::vector<std::string> bytes;
  for (std::size_t base = 0; base < entries.size(); base += kChunk) {
    const std::size_t n = std::min(kChunk, entries.size() - base);
    bytes.assign(entries.begin() + base, entries.begin() + base + n);
    if (Status s = replay.Add(base, bytes, &pool); !s.ok()) return s;
  }
  return replay.Finish();
}

Result<AuditReport> LedgerImpl::Audit() {
  // Read everything from the durable view, so that concurrent appends do not disturb it.
  std::shared_ptr<const rocksdb::Snapshot> pin;
  const rocksdb::ReadOptions ro = state_reader_.ReadAt(&pin);
  std::string size_bytes;
  const std::uint64_t size =
      db_->Get(ro, keys::kSize, &size_bytes).ok() ? keys::GetBE64(size_bytes) : 0;
  // The tree head is published a moment after the durable view it belongs to.
  while (Size() < size) std::this_thread::yield();

  Replayer replay(options_.peers.get());
  constexpr std::uint64_t kChunk = 2048;
  std::vector<std::string> bytes;
  for (std::uint64_t base = 0; base < size; base += kChunk) {
    const std::uint64_t n = std::min(kChunk, size - base);
    bytes.assign(n, {});
    for (std::uint64_t j = 0; j < n; ++j) {
      if (!db_->Get(ro, log_cf_, keys::Entry(base + j), &bytes[j]).ok())
        return Mismatch(fmt::format("entry {} is missing", base + j));
      const std::string_view stored(bytes[j]);
      if (stored.size() < 32 || stored.substr(0, 32) != crypto::AsView(LeafHash(stored.substr(32))))
        return Mismatch(
            fmt::format("entry {}: stored leaf hash does not match its bytes", base + j));
      bytes[j].erase(0, 32);
    }
    if (Status s = replay.Add(base, bytes, &verify_pool_); !s.ok()) return s;
  }

  // Every stored state record must equal the rebuilt one, and no record may be extra.
  std::size_t compared = 0;
  for (std::string_view prefix : keys::kStatePrefixes) {
    const rocksdb::Slice p(prefix.data(), prefix.size());
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      auto found = replay.state().find(it->key().ToString());
      if (found == replay.state().end())
        return Mismatch(fmt::format("stored record {} is not derived from the log",
                                    ToHex(it->key().ToStringView())));
      if (found->second != it->value().ToStringView())
        return Mismatch(fmt::format("stored record {} differs from the rebuilt one",
                                    ToHex(it->key().ToStringView())));
      ++compared;
    }
  }
  if (compared != replay.state().size())
    return Mismatch(fmt::format("the store holds {} state records, the log derives {}", compared,
                                replay.state().size()));
  auto report = replay.Finish();
  if (!report.ok()) return report;
  auto stored_root = RootAt(size);
  if (!stored_root.ok()) return stored_root.status();
  if (*stored_root != report->root)
    return Mismatch("the stored tree's root differs from the rebuilt one");
  return report;
}

}  // namespace ledger
