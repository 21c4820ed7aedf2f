// Opening and closing a ledger: the RocksDB store, its families and layout, the state
// readers, and the tree and facts loaded at open. The append path is in ledger_append.cc.
#include <fmt/format.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>

#include "crypto.h"
#include "keyspace.h"
#include "ledger_impl.h"
#include "state.pb.h"

namespace ledger {

namespace {

constexpr char kPrivateFamily[] = "private";
constexpr char kLogFamily[] = "log";

rocksdb::Options DbOptions(const Options& o) {
  rocksdb::Options opt;
  opt.create_if_missing = o.create_if_missing;
  opt.create_missing_column_families = true;
  opt.IncreaseParallelism(2);
  // Small memtables: inserting random keys (entry ids, accounts) into a shallower skip
  // list is cheaper, and the append path pays for every insert (measured: 4 MiB beat 64).
  opt.write_buffer_size = 8u << 20;
  opt.max_total_wal_size = 256u << 20;
  // State keys are random (entry ids), so every L0 file overlaps all of L1 and each
  // L0->L1 compaction rewrites the whole of L1. Compacting 8 files at a time instead of 4
  // halves those rewrites (a replica copying 1M entries: 4.3 s of compaction CPU -> 2.9 s);
  // a lookup checks a few more level-0 files, behind pinned bloom filters.
  opt.level0_file_num_compaction_trigger = 8;
  opt.compression = rocksdb::kLZ4Compression;
  // Most lookups of new entry ids miss; a memtable bloom filter answers them cheaply.
  opt.memtable_prefix_bloom_size_ratio = 0.05;
  opt.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.cache_index_and_filter_blocks = true;
  // Filters and indexes in small partitions: a whole-file filter of a large state file
  // (megabytes at a million entry ids) is larger than a block-cache shard holds, so it
  // was read from disk and checksummed again on every id lookup — the append rate fell
  // as the log grew. Partitions of 4 KiB stay cached; the top level stays pinned.
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.metadata_block_size = 4096;
  t.pin_top_level_index_and_filter = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  // Every new entry's id is looked up and missed: its check goes through the filters of
  // all level-0 files, which stay pinned rather than looked up in the cache each time.
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  opt.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return opt;
}

// The log family (the entries). Its keys only ascend and are only ever read
// where they exist (by index, or scanned for tiles), so it needs no bloom filters: neither
// in the memtable nor in its files. Its files never overlap, and the small state records
// in the default family no longer share files (or compactions) with the entries.
rocksdb::ColumnFamilyOptions LogFamilyOptions(const rocksdb::Options& base) {
  rocksdb::ColumnFamilyOptions opt(base);
  opt.memtable_prefix_bloom_size_ratio = 0;
  opt.memtable_whole_key_filtering = false;
  rocksdb::BlockBasedTableOptions t =
      *base.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  t.filter_policy.reset();
  opt.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return opt;
}

// Moves the keys starting with `prefix` from family `from` to family `to`, a batch at a
// time; each batch moves its keys atomically, so a crash midway leaves a store that the
// next open finishes moving. Returns how many keys moved.
Result<std::size_t> MoveKeys(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* from_cf,
                             rocksdb::ColumnFamilyHandle* to_cf, char prefix) {
  constexpr std::size_t kBatch = 4096;
  std::size_t moved = 0;
  const rocksdb::Slice p(&prefix, 1);
  std::string from(1, prefix);  // past the keys already moved (and their tombstones)
  for (;;) {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), from_cf));
    for (it->Seek(from); it->Valid() && it->key().starts_with(p) && batch.Count() < 2 * kBatch;
         it->Next()) {
      Status s = FromRocks(batch.Put(to_cf, it->key(), it->value()), "moving the log");
      if (s.ok()) s = FromRocks(batch.Delete(from_cf, it->key()), "moving the log");
      if (!s.ok()) return s;
      from = it->key().ToString() + '\0';
    }
    if (Status s = FromRocks(it->status(), "moving the log"); !s.ok()) return s;
    it.reset();
    if (batch.Count() == 0) return moved;
    moved += batch.Count() / 2;
    if (Status s = FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "moving the log"); !s.ok())
      return s;
  }
}

// Earlier layouts (docs/format.md §10): libledger 0.1 kept the entries in the default
// family; later stores kept the tree nodes in the log family. Opening either moves them
// where they belong now: entries to the log family, tree nodes to the default family.
Status MoveKeysToTheirFamilies(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf) {
  auto entries = MoveKeys(db, db->DefaultColumnFamily(), log_cf, 'e');
  if (!entries.ok()) return entries.status();
  auto nodes = MoveKeys(db, log_cf, db->DefaultColumnFamily(), 'n');
  if (!nodes.ok()) return nodes.status();
  if (*entries + *nodes == 0) return Status::Ok();
  rocksdb::FlushOptions fo;
  return FromRocks(db->Flush(fo, {db->DefaultColumnFamily(), log_cf}), "moving the log");
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status(Code::kCorruption, fmt::format("{}: {}", what, s.ToString()));
  return Status(Code::kIoError, fmt::format("{}: {}", what, s.ToString()));
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const Options& options, const std::string& path) {
  crypto::InitCrypto();
  if (!options.log_key && options.replica_verifier.empty())
    return Status(Code::kInvalidArgument, "Options.log_key is required: it signs the checkpoints");
  if (!options.replica_verifier.empty())
    if (auto v = ParseVerifierKey(options.replica_verifier); !v.ok())
      return Status(Code::kInvalidArgument,
                    "Options.replica_verifier: " + std::string(v.status().message()));
  if (!options.create_if_missing && !std::filesystem::exists(path + "/CURRENT"))
    return Status(Code::kNotFound, fmt::format("no ledger at {}", path));
  rocksdb::Options opt = DbOptions(options);
  rocksdb::ColumnFamilyOptions log_opt = LogFamilyOptions(opt);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, opt}, {kPrivateFamily, opt}, {kLogFamily, log_opt}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (Status s =
          FromRocks(rocksdb::DB::Open(opt, path, families, &handles, &raw), "opening " + path);
      !s.ok())
    return s;
  std::unique_ptr<rocksdb::DB> db(raw);
  // The default family's handle is owned by the DB; only ours must be destroyed.
  delete handles[0];
  if (Status s = MoveKeysToTheirFamilies(db.get(), handles[2]); !s.ok()) {
    db->DestroyColumnFamilyHandle(handles[1]);
    db->DestroyColumnFamilyHandle(handles[2]);
    return s;
  }
  auto ledger = std::make_unique<LedgerImpl>(options, std::move(db), handles[1], handles[2]);
  if (Status s = ledger->Load(); !s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

Result<std::optional<std::string>> DbStateReader::Read(const std::string& key) {
  const bool cached = Cached(key);
  if (cached) {
    std::shared_lock lk(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  // A new entry's id: nearly always absent, and the filter knows it without the store.
  if (key.size() == 18 && key.starts_with("i:") &&
      !ids_.MayContain(std::string_view(key).substr(2)))
    return std::optional<std::string>();
  std::string value;
  std::shared_ptr<const rocksdb::Snapshot> pin;
  rocksdb::Status s = db_->Get(
      ReadAt(&pin), keys::InLogFamily(key) ? log_cf_ : db_->DefaultColumnFamily(), key, &value);
  std::optional<std::string> out;
  if (s.ok())
    out = std::move(value);
  else if (!s.IsNotFound())
    return FromRocks(s, "reading state");
  if (cached && out) {  // absent keys are not remembered: ids of unknown accounts are unbounded
    std::unique_lock lk(mu_);
    cache_.try_emplace(key, out);
  }
  return out;
}

void DbStateReader::Publish(std::shared_ptr<const rocksdb::Snapshot> durable) {
  std::unique_lock lk(mu_);
  durable_ = std::move(durable);
}

rocksdb::ReadOptions DbStateReader::ReadAt(std::shared_ptr<const rocksdb::Snapshot>* pin) {
  {
    std::shared_lock lk(mu_);
    *pin = durable_;
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = pin->get();
  return ro;
}

std::shared_ptr<const rocksdb::Snapshot> LedgerImpl::TakeSnapshot() {
  rocksdb::DB* db = db_.get();
  return std::shared_ptr<const rocksdb::Snapshot>(
      db->GetSnapshot(), [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
}

void DbStateReader::Durable(const std::unordered_map<std::string, std::string>& writes) {
  for (const auto& [k, v] : writes)
    if (k.size() == 18 && k.starts_with("i:")) ids_.Add(std::string_view(k).substr(2));
}

void DbStateReader::Committed(const std::unordered_map<std::string, std::string>& writes) {
  std::unique_lock lk(mu_);
  for (const auto& [k, v] : writes)
    if (Cached(k)) cache_[k] = v;
}

void LedgerImpl::ScanIds(std::shared_ptr<const rocksdb::Snapshot> at_open) {
  rocksdb::ReadOptions ro;
  ro.snapshot = at_open.get();
  ro.fill_cache = false;
  const std::string prefix = "i:", end = "i;";
  const rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::uint64_t n = 0;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if ((++n & 4095) == 0 && closing_.load(std::memory_order_relaxed)) return;
    if (it->key().size() == 18) state_reader_.ids().Add(it->key().ToStringView().substr(2));
  }
  // A scan that failed leaves the filter unbuilt: every id is then looked up in the store.
  if (it->status().ok()) state_reader_.ids().MarkBuilt();
}

void DbStateReader::Deleted(const std::string& key) {
  std::unique_lock lk(mu_);
  // Remembered as absent (not forgotten): a reader of the older view cannot put it back.
  if (Cached(key)) cache_[key] = std::nullopt;
}

LedgerImpl::LedgerImpl(const Options& options, std::unique_ptr<rocksdb::DB> db,
                       rocksdb::ColumnFamilyHandle* private_cf, rocksdb::ColumnFamilyHandle* log_cf)
    : options_(options),
      replica_(!options.replica_verifier.empty()),
      db_(std::move(db)),
      private_cf_(private_cf),
      log_cf_(log_cf),
      state_reader_(db_.get(), log_cf),
      chain_reader_(this),
      verify_pool_(options.verify_threads > 0
                       ? options.verify_threads - 1
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency())) - 1) {
  if (replica_) replica_verifier_ = ParseVerifierKey(options.replica_verifier).value();
}

LedgerImpl::~LedgerImpl() {
  // Whatever AppendAsync calls queued is sequenced first (the sequencer thread, started by
  // the first such call, returns once the queue is empty and nobody leads), then written
  // by the committer.
  {
    std::lock_guard lk(queue_mu_);
    closing_queue_ = true;
    sequencer_cv_.notify_one();
  }
  if (sequencer_.joinable()) sequencer_.join();
  {
    std::lock_guard lk(commit_mu_);
    stopping_ = true;
    commit_cv_.notify_all();
  }
  if (committer_.joinable()) committer_.join();
  closing_ = true;
  if (id_scan_.joinable()) id_scan_.join();
  state_reader_.Publish(nullptr);  // every snapshot goes before the store closes
  db_->DestroyColumnFamilyHandle(private_cf_);
  db_->DestroyColumnFamilyHandle(log_cf_);
  db_->Close().PermitUncheckedError();
}

Result<std::optional<std::string>> LedgerImpl::Get(const std::string& key) {
  return state_reader_.Read(key);
}

merkle::NodeReader LedgerImpl::Nodes() {
  return [this](int level, std::uint64_t index) { return ReadNode(level, index); };
}

Result<Hash> LedgerImpl::ReadNode(int level, std::uint64_t index) {
  const int stored_level = level - level % 8;  // the tile level below (or at) `level`
  const int below = level - stored_level;
  const std::uint64_t first = index << below, count = std::uint64_t{1} << below;
  std::vector<Hash> hashes;
  hashes.reserve(count);
  std::shared_ptr<const rocksdb::Snapshot> pin;
  const std::string start =
      stored_level == 0 ? keys::Entry(first) : keys::Node(stored_level, first);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(state_reader_.ReadAt(&pin), FamilyOf(start)));
  it->Seek(start);
  for (std::uint64_t i = 0; i < count; ++i, it->Next()) {
    const std::string want =
        stored_level == 0 ? keys::Entry(first + i) : keys::Node(stored_level, first + i);
    if (!it->Valid() || it->key() != want || it->value().size() < 32) {
      if (!it->status().ok()) return FromRocks(it->status(), "reading the tree");
      return Status(Code::kCorruption,
                    fmt::format("tree node ({}, {}) is missing", stored_level, first + i));
    }
    Hash h;
    std::memcpy(h.data(), it->value().data(), 32);
    hashes.push_back(h);
  }
  for (; hashes.size() > 1; hashes.resize(hashes.size() / 2))
    for (std::size_t i = 0; i < hashes.size() / 2; ++i)
      hashes[i] = NodeHash(hashes[2 * i], hashes[2 * i + 1]);
  return hashes.front();
}

Status LedgerImpl::Load() {
  auto size = Get(std::string(keys::kSize));
  if (!size.ok()) return size.status();
  const std::uint64_t n = size->has_value() ? keys::GetBE64(**size) : 0;
  auto frontier = merkle::Frontier::Load(n, Nodes());
  if (!frontier.ok()) return frontier.status();
  timebank::state::LogInfo info;
  auto raw = Get(std::string(keys::kLogInfo));
  if (!raw.ok()) return raw.status();
  if (raw->has_value()) {
    if (!info.ParseFromString(**raw)) return Status(Code::kCorruption, "log info does not parse");
    const PublicKey& expected = replica_ ? replica_verifier_->key : options_.log_key->public_key();
    if (info.log_key() != keys::View(expected))
      return Status(
          Code::kInvalidArgument,
          fmt::format("Options.log_key is not the log key of district {} (its genesis names {}…)",
                      info.district(), ToHex(info.log_key()).substr(0, 16)));
  }
  seq_frontier_ = *frontier;
  state_reader_.Publish(TakeSnapshot());
  // The ids already stored, from a view taken before anything new can commit; every later
  // commit adds its own ids (DbStateReader::Committed).
  id_scan_ = std::thread([this, at_open = TakeSnapshot()] { ScanIds(at_open); });
  committer_ = std::thread([this] { CommitLoop(); });
  std::lock_guard lk(tree_mu_);
  frontier_ = std::move(frontier).value();
  district_ = info.district();
  origin_ = info.origin();
  return Status::Ok();
}

}  // namespace ledger
