// Opening a ledger and the append path (group commit).
#include <fmt/format.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "crypto.h"
#include "keyspace.h"
#include "ledger_impl.h"
#include "state.pb.h"

namespace ledger {

namespace {

constexpr char kPrivateFamily[] = "private";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Status(Code::kCorruption, fmt::format("{}: {}", what, s.ToString()));
  return Status(Code::kIoError, fmt::format("{}: {}", what, s.ToString()));
}

rocksdb::Options DbOptions(const Options& o) {
  rocksdb::Options opt;
  opt.create_if_missing = o.create_if_missing;
  opt.create_missing_column_families = true;
  opt.IncreaseParallelism(2);
  opt.write_buffer_size = 64u << 20;
  opt.max_total_wal_size = 256u << 20;
  opt.compression = rocksdb::kLZ4Compression;
  // Most lookups of new entry ids miss; a memtable bloom filter answers them cheaply.
  opt.memtable_prefix_bloom_size_ratio = 0.05;
  opt.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.cache_index_and_filter_blocks = true;
  opt.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return opt;
}

}  // namespace

Result<Appended> Ledger::Append(const std::string& entry) {
  auto results = Append(std::span<const std::string>(&entry, 1));
  return std::move(results.front());
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const Options& options, const std::string& path) {
  crypto::InitCrypto();
  if (!options.log_key)
    return Status(Code::kInvalidArgument, "Options.log_key is required: it signs the checkpoints");
  if (!options.create_if_missing && !std::filesystem::exists(path + "/CURRENT"))
    return Status(Code::kNotFound, fmt::format("no ledger at {}", path));
  rocksdb::Options opt = DbOptions(options);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, opt}, {kPrivateFamily, opt}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (Status s = FromRocks(rocksdb::DB::Open(opt, path, families, &handles, &raw), "opening " + path);
      !s.ok())
    return s;
  std::unique_ptr<rocksdb::DB> db(raw);
  // The default family's handle is owned by the DB; only ours must be destroyed.
  delete handles[0];
  auto ledger = std::make_unique<LedgerImpl>(options, std::move(db), handles[1]);
  if (Status s = ledger->Load(); !s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

Result<std::optional<std::string>> DbStateReader::Read(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading state");
  return std::optional<std::string>(std::move(value));
}

LedgerImpl::LedgerImpl(const Options& options, std::unique_ptr<rocksdb::DB> db,
                       rocksdb::ColumnFamilyHandle* private_cf)
    : options_(options),
      db_(std::move(db)),
      private_cf_(private_cf),
      state_reader_(db_.get()),
      verify_pool_(options.verify_threads > 0
                       ? options.verify_threads - 1
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency())) - 1) {}

LedgerImpl::~LedgerImpl() {
  db_->DestroyColumnFamilyHandle(private_cf_);
  db_->Close().PermitUncheckedError();
}

Result<std::optional<std::string>> LedgerImpl::Get(const std::string& key) {
  return state_reader_.Read(key);
}

merkle::NodeReader LedgerImpl::Nodes() {
  return [this](int level, std::uint64_t index) -> Result<Hash> {
    auto v = Get(keys::Node(level, index));
    if (!v.ok()) return v.status();
    if (!v->has_value() || (*v)->size() != 32)
      return Status(Code::kCorruption, fmt::format("tree node ({}, {}) is missing", level, index));
    Hash h;
    std::memcpy(h.data(), (*v)->data(), 32);
    return h;
  };
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
    if (info.log_key() != keys::View(options_.log_key->public_key()))
      return Status(Code::kInvalidArgument,
                    fmt::format("Options.log_key is not the log key of district {} (its genesis names {}…)",
                                info.district(), ToHex(info.log_key()).substr(0, 16)));
  }
  std::lock_guard lk(tree_mu_);
  frontier_ = std::move(frontier).value();
  district_ = info.district();
  origin_ = info.origin();
  return Status::Ok();
}

std::int64_t LedgerImpl::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LedgerImpl::Prepare(Prepared* p) const {
  p->leaf = LeafHash(*p->bytes);
  auto decoded = DecodeAndVerifyEntry(*p->bytes);
  if (!decoded.ok()) {
    p->error = decoded.status();
    return;
  }
  if (auto* g = std::get_if<Genesis>(&decoded->body.kind);
      g && g->log_key != options_.log_key->public_key()) {
    p->error = Status(Code::kInvalidArgument, "the genesis names a log_key that is not this ledger's log key");
    return;
  }
  p->decoded = std::move(decoded).value();
}

std::vector<Result<Appended>> LedgerImpl::Append(std::span<const std::string> entries) {
  std::vector<Prepared> items(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) items[i].bytes = &entries[i];
  // Signature checks: all cores, before taking a place in the commit queue.
  verify_pool_.ParallelFor(items.size(), 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) Prepare(&items[i]);
  });

  Writer w;
  w.items = &items;
  std::unique_lock lk(queue_mu_);
  writers_.push_back(&w);
  w.cv.wait(lk, [&] { return w.done || writers_.front() == &w; });
  if (!w.done) {
    // Leader: take the queue as it stands, up to the group limit.
    std::vector<Writer*> group;
    std::size_t n = 0;
    for (Writer* x : writers_) {
      if (!group.empty() && n + x->items->size() > options_.max_group_entries) break;
      group.push_back(x);
      n += x->items->size();
    }
    lk.unlock();
    CommitGroup(group);
    lk.lock();
    for (Writer* x : group) {
      writers_.pop_front();
      x->done = true;
      if (x != &w) x->cv.notify_one();
    }
    if (!writers_.empty()) writers_.front()->cv.notify_one();
  }
  lk.unlock();

  std::vector<Result<Appended>> out;
  out.reserve(items.size());
  for (auto& p : items) out.push_back(std::move(*p.result));
  return out;
}

void LedgerImpl::CommitGroup(const std::vector<Writer*>& group) {
  merkle::Frontier frontier;
  std::string district;
  {
    std::lock_guard lk(tree_mu_);
    frontier = frontier_;
  }
  const std::uint64_t start = frontier.size();
  auto T0 = std::chrono::steady_clock::now();
  Overlay pending(&state_reader_, /*cache_reads=*/true);
  // Every write of the group, sorted by key before it enters the batch: the memtable's
  // skip list inserts ascending keys cheaply (it reuses its last position), and a group
  // otherwise interleaves entries, tree nodes and history at random.
  std::vector<std::pair<std::string, std::string>> writes;
  std::vector<merkle::NodeRef> nodes;
  const std::int64_t now = Now();
  std::vector<Prepared*> accepted;
  for (Writer* w : group) {
    for (Prepared& p : *w->items) {
      if (!p.error.ok()) {
        p.result.emplace(p.error);
        continue;
      }
      ApplyContext ctx{frontier.size(), p.leaf, true, now, options_.max_clock_skew_seconds};
      auto applied = ApplyEntry(*p.decoded, ctx, &pending);
      if (!applied.ok()) {
        p.result.emplace(applied.status());
        continue;
      }
      p.result.emplace(Appended{applied->index, applied->duplicate});
      if (applied->duplicate) continue;
      const std::uint64_t index = frontier.size();
      writes.emplace_back(keys::Entry(index), *p.bytes);
      nodes.clear();
      frontier.Append(p.leaf, &nodes);
      for (const auto& node : nodes)
        writes.emplace_back(keys::Node(node.level, node.index), crypto::AsView(node.hash));
      for (const auto& posting : applied->postings) {
        // The busiest system accounts move on nearly every entry; their history is the log.
        if (IsSystemAccount(posting.account) && !posting.account.ends_with(".pool")) continue;
        std::string delta;
        keys::PutBE64(&delta, static_cast<std::uint64_t>(posting.delta));
        writes.emplace_back(keys::History(posting.account, index), std::move(delta));
      }
      if (std::holds_alternative<Genesis>(p.decoded->body.kind)) district = p.decoded->body.district;
      accepted.push_back(&p);
    }
  }
  if (frontier.size() == start && pending.writes().empty()) return;  // nothing new (all refused or repeats)
  for (const auto& [k, v] : pending.writes()) writes.emplace_back(k, v);
  std::string size;
  keys::PutBE64(&size, frontier.size());
  writes.emplace_back(keys::kSize, std::move(size));
  std::sort(writes.begin(), writes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  rocksdb::WriteBatch batch;
  for (const auto& [k, v] : writes) batch.Put(k, v);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto T1 = std::chrono::steady_clock::now();
  rocksdb::Status s = db_->Write(wo, &batch);
  auto T2 = std::chrono::steady_clock::now();
  static std::atomic<long> a{0}, w{0}, g{0}, n{0}; a += (T1-T0).count(); w += (T2-T1).count(); g++; n += frontier.size()-start;
  if (g % 200 == 0) fprintf(stderr, "groups=%ld avg_entries=%ld apply_us/entry=%.1f write_us/group=%.0f\n", g.load(), n/g, a/1000.0/n, w/1000.0/g);
  if (!s.ok()) {
    // Nothing of the group is durable: every entry that was going in fails. Repeats of
    // entries committed earlier are still true, so they keep their result.
    const Status err = FromRocks(s, "committing a group");
    for (Writer* w : group)
      for (Prepared& p : *w->items)
        if (p.result->ok() && (!p.result->value().duplicate || p.result->value().index >= start))
          p.result.emplace(err);
    return;
  }
  std::lock_guard lk(tree_mu_);
  frontier_ = std::move(frontier);
  if (!district.empty()) {
    district_ = district;
    timebank::state::LogInfo info;
    if (auto raw = pending.Read(std::string(keys::kLogInfo)); raw.ok() && raw->has_value() &&
                                                              info.ParseFromString(**raw))
      origin_ = info.origin();
  }
}

}  // namespace ledger
