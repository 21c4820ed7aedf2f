// A full audit: rebuild the state from the log alone and compare it with the store.
#include <fmt/format.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <map>

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

Status Mismatch(std::string what) { return Status(Code::kCorruption, "audit: " + std::move(what)); }

}  // namespace

Result<AuditReport> LedgerImpl::Audit() {
  // Read everything from one snapshot so that concurrent appends do not disturb the audit.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_.get(), snap};
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string size_bytes;
  const std::uint64_t size = db_->Get(ro, keys::kSize, &size_bytes).ok() ? keys::GetBE64(size_bytes) : 0;

  MapState rebuilt;
  Engine engine;
  merkle::Frontier frontier;
  std::vector<merkle::NodeRef> unused;
  // Signatures are checked in parallel a chunk at a time; the rules run in log order.
  constexpr std::uint64_t kChunk = 2048;
  std::vector<std::string> bytes;
  std::vector<std::optional<Result<DecodedEntry>>> decoded;
  for (std::uint64_t base = 0; base < size; base += kChunk) {
    const std::uint64_t n = std::min(kChunk, size - base);
    bytes.assign(n, {});
    decoded.assign(n, std::nullopt);
    for (std::uint64_t j = 0; j < n; ++j)
      if (!db_->Get(ro, keys::Entry(base + j), &bytes[j]).ok())
        return Mismatch(fmt::format("entry {} is missing", base + j));
    for (std::uint64_t j = 0; j < n; ++j) {
      if (bytes[j].size() < 32 || std::string_view(bytes[j]).substr(0, 32) != crypto::AsView(LeafHash(std::string_view(bytes[j]).substr(32))))
        return Mismatch(fmt::format("entry {}: stored leaf hash does not match its bytes", base + j));
      bytes[j].erase(0, 32);
    }
    verify_pool_.ParallelFor(n, 64, [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j) decoded[j].emplace(DecodeAndVerifyEntry(bytes[j]));
    });
    for (std::uint64_t j = 0; j < n; ++j) {
      const std::uint64_t i = base + j;
      const Result<DecodedEntry>& entry = *decoded[j];
      if (!entry.ok()) return Mismatch(fmt::format("entry {}: {}", i, entry.status().ToString()));
      const Hash leaf = LeafHash(bytes[j]);
      Overlay overlay(&rebuilt);
      ApplyContext ctx{i, leaf, false, 0, 0};
      auto applied = engine.Apply(*entry, ctx, &overlay);
      if (!applied.ok())
        return Mismatch(fmt::format("entry {} is refused on replay: {}", i, applied.status().ToString()));
      if (applied->duplicate)
        return Mismatch(fmt::format("entry {} repeats the id of entry {}", i, applied->index));
      Minutes sum = 0;
      for (const auto& p : applied->postings) sum += p.delta;
      if (sum != 0) return Mismatch(fmt::format("entry {} postings sum to {}, not zero", i, sum));
      for (const auto& [k, v] : overlay.writes()) rebuilt.map[k] = v;
      frontier.Append(leaf, &unused);
      unused.clear();
    }
  }

  // Every stored state record must equal the rebuilt one, and no record may be extra.
  std::size_t compared = 0;
  for (std::string_view prefix : keys::kStatePrefixes) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())); it->Next()) {
      auto found = rebuilt.map.find(it->key().ToString());
      if (found == rebuilt.map.end()) return Mismatch(fmt::format("stored record {} is not derived from the log", ToHex(it->key().ToStringView())));
      if (found->second != it->value().ToStringView()) return Mismatch(fmt::format("stored record {} differs from the rebuilt one", ToHex(it->key().ToStringView())));
      ++compared;
    }
  }
  if (compared != rebuilt.map.size())
    return Mismatch(fmt::format("the store holds {} state records, the log derives {}", compared, rebuilt.map.size()));

  AuditReport report;
  report.entries = size;
  Minutes total = 0;
  for (const auto& [k, v] : rebuilt.map) {
    if (!k.starts_with("a:")) continue;
    timebank::state::Account a;
    a.ParseFromString(v);
    ++report.accounts;
    total += a.balance();
    const bool issuance = k.ends_with(".issuance");
    if (issuance) report.issued = -a.balance();
    if (!issuance && a.balance() < 0) return Mismatch(fmt::format("account {} is below zero", k.substr(2)));
  }
  if (total != 0) return Mismatch(fmt::format("balances sum to {}, not zero", total));
  report.root = frontier.Root();
  auto stored_root = RootAt(size);
  if (!stored_root.ok()) return stored_root.status();
  if (*stored_root != report.root) return Mismatch("the stored tree's root differs from the rebuilt one");
  return report;
}

}  // namespace ledger
