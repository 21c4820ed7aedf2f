// The append path: entries are decoded and verified on the callers' threads (and the
// pool) ahead of sequencing; a leader applies the rules to a group in log order and hands
// it to the committer, which writes the groups in order and makes them durable with one
// sync (group commit). AppendAsync queues without waiting; failures are sticky.
#include <fmt/format.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "crypto.h"
#include "keyspace.h"
#include "ledger_impl.h"

namespace ledger {

Result<Appended> Ledger::Append(const std::string& entry) {
  auto results = Append(std::span<const std::string>(&entry, 1));
  return std::move(results.front());
}

std::int64_t LedgerImpl::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LedgerImpl::Prepare(Prepared* p) const {
  if (!p->leaf_known) p->leaf = LeafHash(*p->bytes);
  auto decoded = DecodeAndVerifyEntry(*p->bytes);
  if (!decoded.ok()) {
    p->error = decoded.status();
    return;
  }
  const PublicKey& log_key = replica_ ? replica_verifier_->key : options_.log_key->public_key();
  if (auto* g = std::get_if<Genesis>(&decoded->body.kind); g && g->log_key != log_key) {
    p->error = Status(Code::kInvalidArgument,
                      replica_ ? "the genesis names a log_key other than the replica's verifier key"
                               : "the genesis names a log_key that is not this ledger's log key");
    return;
  }
  p->decoded = std::move(decoded).value();
}

Result<std::optional<std::string>> LedgerImpl::ChainReader::Read(const std::string& key) {
  {
    std::lock_guard lk(ledger_->commit_mu_);
    for (auto it = ledger_->inflight_.rbegin(); it != ledger_->inflight_.rend(); ++it)
      if (auto w = (*it)->state->writes().find(key); w != (*it)->state->writes().end())
        return std::optional<std::string>(w->second);
  }
  // Not in flight: committed (a group leaves inflight_ only after it is in the store).
  return ledger_->state_reader_.Read(key);
}

std::vector<Result<Appended>> LedgerImpl::Append(std::span<const std::string> entries) {
  if (replica_)
    return std::vector<Result<Appended>>(
        entries.size(),
        Status(Code::kReadOnlyReplica,
               "this is a replica of another district's log: entries come from that log"));
  return AppendEntries(entries);
}

std::vector<Result<Appended>> LedgerImpl::AppendEntries(std::span<const std::string> entries,
                                                        std::span<const Hash> leaves) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // see CommitLoop
  const std::size_t chunks = (entries.size() + kPipelineChunk - 1) / kPipelineChunk;
  std::vector<std::vector<Prepared>> parts(std::max<std::size_t>(chunks, 1));
  if (chunks <= 1) {
    parts[0] = Verify(entries, leaves);
    Commit(&parts[0], nullptr, 0);
  } else {
    // Chunk k is verified by this thread and the pool, then committed by a thread of its
    // own while chunk k + 1 is verified; the turn keeps the chunks in order. At most
    // kPipelineDepth chunks are verified ahead of the commits (a slow disk holds back the
    // verification, not memory and threads). jthreads join when they go out of scope, so an
    // exception here still waits for the chunks on their way (none waits on a later one).
    Turn turn;
    std::vector<std::jthread> committers(chunks);
    for (std::size_t k = 0; k < chunks; ++k) {
      if (k >= kPipelineDepth) committers[k - kPipelineDepth].join();
      const std::size_t at = k * kPipelineChunk;
      const std::size_t n = std::min(kPipelineChunk, entries.size() - at);
      parts[k] = Verify(entries.subspan(at, n), leaves.empty() ? leaves : leaves.subspan(at, n));
      committers[k] = std::jthread([this, &parts, &turn, k] {
        rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
        Commit(&parts[k], &turn, k);
      });
    }
    for (auto& t : committers)
      if (t.joinable()) t.join();
  }
  return TakeResults(&parts);
}

std::vector<Result<Appended>> LedgerImpl::TakeResults(std::vector<std::vector<Prepared>>* parts) {
  std::size_t n = 0;
  for (const auto& part : *parts) n += part.size();
  std::vector<Result<Appended>> out;
  out.reserve(n);
  for (auto& part : *parts)
    for (auto& p : part) out.push_back(std::move(*p.result));
  return out;
}

std::vector<LedgerImpl::Prepared> LedgerImpl::Verify(std::span<const std::string> entries,
                                                     std::span<const Hash> leaves) {
  std::vector<Prepared> items(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    items[i].bytes = &entries[i];
    if (i < leaves.size()) {
      items[i].leaf = leaves[i];
      items[i].leaf_known = true;
    }
  }
  verify_pool_.ParallelFor(items.size(), 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) Prepare(&items[i]);
  });
  return items;
}

void LedgerImpl::Commit(std::vector<Prepared>* items, Turn* turn, std::size_t ticket) {
  Writer w;
  w.items = items;
  if (turn) {  // join the queue in the caller's order
    std::unique_lock tl(turn->mu);
    turn->cv.wait(tl, [&] { return turn->next == ticket; });
  }
  std::unique_lock lk(queue_mu_);
  writers_.push_back(&w);
  queued_entries_ += items->size();
  if (turn) {
    std::lock_guard tl(turn->mu);
    ++turn->next;
    turn->cv.notify_all();
  }
  w.cv.wait(
      lk, [&] { return w.done || (!writers_.empty() && writers_.front() == &w && !sequencing_); });
  if (w.done) return;
  Lead(lk, &w);
  w.cv.wait(lk, [&] { return w.done; });
}

void LedgerImpl::Lead(std::unique_lock<std::mutex>& lk, const Writer* mine) noexcept {
  // An AppendAsync caller goes on for a few rounds more while async writers stand at the
  // front (waking the sequencer thread for every round costs more than it saves: measured,
  // docs/performance.md); a blocking caller stops after its own round.
  constexpr int kExtraRounds = 4;
  // (Read now: once sequenced, an async writer may be finished and freed at any moment.)
  const bool mine_async = mine != nullptr && mine->async != nullptr;
  bool mine_sequenced = false;
  int extra = 0;
  do {
    // Sequence the queue as it stands (up to the group limit), hand the group to the
    // committer, and let the next writer lead while this group is being written.
    sequencing_ = true;
    std::vector<Writer*> group;
    std::size_t n = 0;
    for (Writer* x : writers_) {
      if (!group.empty() && n + x->items->size() > options_.max_group_entries) break;
      group.push_back(x);
      n += x->items->size();
      mine_sequenced |= x == mine;
    }
    queued_entries_ -= n;
    queue_space_cv_.notify_all();
    lk.unlock();
    Sequence(group);  // pops the group from writers_
    lk.lock();
    sequencing_ = false;
  } while (!writers_.empty() &&
           (mine == nullptr ? writers_.front()->async != nullptr
                            : !mine_sequenced || (mine_async && writers_.front()->async &&
                                                  ++extra <= kExtraRounds)));
  if (writers_.empty()) {
    if (closing_queue_) sequencer_cv_.notify_one();  // it waits for the queue to empty
  } else if (writers_.front()->async) {
    if (mine) sequencer_cv_.notify_one();
  } else {
    writers_.front()->cv.notify_one();
  }
}

void LedgerImpl::SequenceLoop() {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // see CommitLoop
  std::unique_lock lk(queue_mu_);
  for (;;) {
    sequencer_cv_.wait(lk, [&] {
      return !sequencing_ &&
             (writers_.empty() ? closing_queue_ : writers_.front()->async != nullptr);
    });
    if (writers_.empty()) return;  // closing, and nothing queued
    Lead(lk, nullptr);
  }
}

std::future<std::vector<Result<Appended>>> LedgerImpl::AppendAsync(
    std::vector<std::string> entries) {
  if (replica_ || entries.empty()) {
    std::promise<std::vector<Result<Appended>>> done;
    done.set_value(entries.empty() ? std::vector<Result<Appended>>() : Append(entries));
    return done.get_future();
  }
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // see CommitLoop
  // Owned here until its first writer is queued; from then on by its writers: the last
  // one to finish frees it (Finish), and not before every chunk is queued. (Should a later
  // chunk's verification throw, bad_alloc in practice, the job stays unfinished.)
  auto owned = std::make_unique<AsyncAppend>();
  AsyncAppend* job = owned.get();
  auto future = job->promise.get_future();
  job->entries = std::move(entries);
  const std::size_t chunks = (job->entries.size() + kPipelineChunk - 1) / kPipelineChunk;
  job->parts.resize(chunks);
  for (std::size_t k = 0; k < chunks; ++k) job->writers.emplace_back();
  job->remaining = chunks;
  const std::span<const std::string> all(job->entries);
  for (std::size_t k = 0; k < chunks; ++k) {
    const std::size_t at = k * kPipelineChunk;
    job->parts[k] = Verify(all.subspan(at, std::min(kPipelineChunk, all.size() - at)), {});
    Writer& w = job->writers[k];
    w.items = &job->parts[k];
    w.async = job;
    std::unique_lock lk(queue_mu_);
    queue_space_cv_.wait(lk, [&] {  // (an empty queue takes a chunk whatever the limit)
      return queued_entries_ == 0 || queued_entries_ < options_.max_queued_entries;
    });
    // The sequencer thread starts with the first queued call: replicas and ledgers that
    // only ever Append need none.
    if (!sequencer_.joinable()) sequencer_ = std::thread([this] { SequenceLoop(); });
    writers_.push_back(&w);
    queued_entries_ += w.items->size();
    owned.release();
    // A blocking writer at the front leads by itself; an async one is led by whoever
    // holds the queue, or by this thread now: as far as its own chunk, and a few rounds more.
    if (!sequencing_ && writers_.front()->async) Lead(lk, &w);
  }
  return future;
}

void LedgerImpl::Finish(const std::vector<Writer*>& group) {
  // AppendAsync promises first, then blocking writers: a thread that queued a call and
  // then appended finds the call's future ready once its Append returns (unless a write
  // failed: then a later group may be refused before an earlier one is finished).
  std::vector<AsyncAppend*> complete;
  std::vector<Writer*> blocking;
  {
    std::lock_guard lk(queue_mu_);
    for (Writer* x : group)
      if (!x->async)
        blocking.push_back(x);
      else if (--x->async->remaining == 0)
        complete.push_back(x->async);
  }
  for (AsyncAppend* job : complete) {  // (their writers go with them)
    job->promise.set_value(TakeResults(&job->parts));
    delete job;
  }
  if (blocking.empty()) return;
  std::lock_guard lk(queue_mu_);
  for (Writer* x : blocking) {
    x->done = true;
    x->cv.notify_one();
  }
}

void LedgerImpl::Sequence(const std::vector<Writer*>& group) {
  {
    std::lock_guard lk(queue_mu_);
    for (std::size_t i = 0; i < group.size(); ++i) writers_.pop_front();
  }
  Status broken;
  {
    // Backpressure: a few groups in flight keep the disk and the cores busy; more would
    // only grow memory and latency.
    std::unique_lock lk(commit_mu_);
    commit_cv_.wait(lk, [&] { return inflight_.size() < kMaxInflight || !broken_.ok(); });
    broken = !broken_.ok() ? broken_ : sequencer_broken_;
  }
  if (!broken.ok()) return Refuse(group, broken);
  std::string failure;
  try {
    auto b = std::make_shared<PendingGroup>();
    b->writers = group;
    b->state = std::make_unique<Overlay>(&chain_reader_, /*cache_reads=*/true);
    b->start = seq_frontier_.size();
    ApplyGroup(b.get());
    // Even a group with nothing new goes through the committer: a repeat of an entry that
    // is still in flight may only be acknowledged once that entry is durable.
    std::lock_guard lk(commit_mu_);
    inflight_.push_back(std::move(b));
    commit_cv_.notify_all();
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {  // (Options.clock may throw anything)
    failure = "an exception of unknown type";
  }
  // The tree frontier and the rules may be part-way through the group, so nothing after it
  // can be judged. The groups before it are sound and still get written.
  Status failed(Code::kInternal,
                fmt::format("sequencing failed ({}); the ledger takes no entries until it is "
                            "reopened",
                            failure));
  {
    std::lock_guard lk(commit_mu_);
    sequencer_broken_ = failed;
  }
  Refuse(group, failed);
}

void LedgerImpl::Refuse(const std::vector<Writer*>& group, const Status& why) {
  for (Writer* w : group)
    for (Prepared& p : *w->items) p.result.emplace(why);
  Finish(group);
}

void LedgerImpl::ApplyGroup(PendingGroup* b) {
  // The other writes of the group are sorted by key before they enter the batch: the
  // memtable's skip list inserts ascending keys cheaply (it reuses its last position).
  // They are views (of the group's state overlay, or of `owned`): the batch copies each
  // once, into a buffer sized for the whole group up front.
  GroupWrites gw;
  const std::int64_t now = Now();
  std::size_t bytes = 0;
  for (Writer* w : b->writers)
    for (const Prepared& p : *w->items)
      if (p.bytes) bytes += p.bytes->size() + 256;  // the entry, its key and hash, state
  b->batch = rocksdb::WriteBatch(bytes);
  for (Writer* w : b->writers) {
    std::optional<std::uint64_t> refused;  // replicas: the index of the first refused entry
    for (Prepared& p : *w->items)
      if (Judge(b, &p, now, &refused)) AddEntry(b, p, &gw);
  }
  b->frontier = seq_frontier_;
  for (const auto& [k, v] : b->state->writes()) gw.writes.emplace_back(k, v);
  std::string& size = gw.owned.emplace_back();
  keys::PutBE64(&size, seq_frontier_.size());
  gw.writes.emplace_back(keys::kSize, size);
  std::sort(gw.writes.begin(), gw.writes.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [k, v] : gw.writes)
    b->batch.Put(FamilyOf(k), rocksdb::Slice(k.data(), k.size()),
                 rocksdb::Slice(v.data(), v.size()));
}

bool LedgerImpl::Judge(PendingGroup* b, Prepared* p, std::int64_t now,
                       std::optional<std::uint64_t>* refused) {
  if (replica_ && replica_refused_) {
    p->result.emplace(Status(Code::kCorruption, "not replicated: an earlier entry was refused"));
    return false;
  }
  if (*refused) {
    p->result.emplace(Status(
        Code::kCorruption, fmt::format("not replicated: the entry at {} was refused", **refused)));
    return false;
  }
  Status error = p->error;
  std::optional<Result<Applied>> applied;
  if (error.ok()) {
    ApplyContext ctx{seq_frontier_.size(), p->leaf, !replica_, now, options_.max_clock_skew_seconds,
                     options_.peers.get()};
    applied.emplace(engine_.Apply(*p->decoded, ctx, b->state.get()));
    if (!applied->ok())
      error = applied->status();
    else if (replica_ && (*applied)->duplicate)
      error = Status(Code::kCorruption,
                     fmt::format("it repeats the id of entry {}", (*applied)->index));
  }
  if (!error.ok()) {
    if (replica_) {
      *refused = seq_frontier_.size();
      replica_refused_ = true;  // and every entry after it, in any writer
    }
    p->result.emplace(error);
    return false;
  }
  p->result.emplace(Appended{(*applied)->index, (*applied)->duplicate});
  return !(*applied)->duplicate;
}

void LedgerImpl::AddEntry(PendingGroup* b, const Prepared& p, GroupWrites* gw) {
  const std::uint64_t index = seq_frontier_.size();
  // Entries go straight in, in index order; leaf hash and bytes without a copy.
  const std::string key = keys::Entry(index);
  const rocksdb::Slice k(key), parts[2] = {crypto::AsView(p.leaf), *p.bytes};
  b->batch.Put(log_cf_, rocksdb::SliceParts(&k, 1), rocksdb::SliceParts(parts, 2));
  gw->nodes.clear();
  seq_frontier_.Append(p.leaf, &gw->nodes);
  for (const auto& node : gw->nodes)
    if (node.level > 0 && node.level % 8 == 0) {
      const std::string& nk = gw->owned.emplace_back(keys::Node(node.level, node.index));
      gw->writes.emplace_back(nk, gw->owned.emplace_back(crypto::AsView(node.hash)));
    }
  if (auto* g = std::get_if<Genesis>(&p.decoded->body.kind)) {
    b->district = p.decoded->body.district;
    b->origin = g->origin;
  }
}

void LedgerImpl::CommitLoop() {
  // RocksDB counts every key comparison in a thread-local perf context unless told not
  // to; the committer's memtable inserts compare keys a few dozen times each.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  for (;;) {
    std::vector<std::shared_ptr<PendingGroup>> todo;
    {
      std::unique_lock lk(commit_mu_);
      commit_cv_.wait(lk, [&] { return stopping_ || inflight_.size() > written_; });
      if (inflight_.size() == written_) return;  // stopping, and nothing left to write
      todo.assign(inflight_.begin() + written_, inflight_.end());
      written_ = inflight_.size();
    }
    // The groups go to the WAL in sequence order; one sync at the end makes them all
    // durable. None is acknowledged before that sync returns.
    Status err = broken_status();
    std::size_t last = todo.size();
    for (std::size_t i = 0; i < todo.size(); ++i)
      if (todo[i]->batch.Count() > 0) last = i;
    for (std::size_t i = 0; i < todo.size() && err.ok(); ++i) {
      if (todo[i]->batch.Count() == 0) continue;
      rocksdb::WriteOptions wo;
      wo.sync = i == last;
      err = FromRocks(db_->Write(wo, &todo[i]->batch), "committing a group");
    }
    if (err.ok()) {
      // The groups' entry ids join the id filter before any reader can see the new view.
      for (auto& b : todo) state_reader_.Durable(b->state->writes());
      state_reader_.Publish(TakeSnapshot());  // before the groups leave inflight_
    }
    for (auto& b : todo) {
      if (err.ok()) {
        state_reader_.Committed(b->state->writes());
        std::lock_guard lk(tree_mu_);
        frontier_ = b->frontier;
        if (!b->district.empty()) {
          district_ = b->district;
          origin_ = b->origin;
        }
      } else {
        // Nothing of these groups is durable: every entry going in fails, and the ledger
        // takes no more appends until it is reopened (later groups built on this state).
        // Repeats of entries that are durable (below the published size) keep their result;
        // a repeat of anything later may refer to a group that failed too.
        const std::uint64_t durable = Size();
        for (Writer* w : b->writers)
          for (Prepared& p : *w->items)
            if (p.result->ok() &&
                (!p.result->value().duplicate || p.result->value().index >= durable))
              p.result.emplace(err);
      }
    }
    {
      std::lock_guard lk(commit_mu_);
      if (!err.ok() && broken_.ok()) broken_ = err;
      inflight_.erase(inflight_.begin(), inflight_.begin() + todo.size());
      written_ -= todo.size();
      commit_cv_.notify_all();
    }
    for (auto& b : todo) Finish(b->writers);
  }
}

Status LedgerImpl::Health() {
  std::lock_guard lk(commit_mu_);
  return !broken_.ok() ? broken_ : sequencer_broken_;
}

Status LedgerImpl::broken_status() {
  std::lock_guard lk(commit_mu_);
  return broken_;
}

}  // namespace ledger
