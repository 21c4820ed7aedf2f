// ledger_impl.h — the RocksDB-backed Ledger (internal).
//
// Append path, a pipeline:
//   1. caller threads decode + verify signatures in parallel (thread pool);
//   2. writers queue; the writer at the front leads: it applies the rules to the queued
//      entries in log order over an overlay (reading through groups still in flight),
//      builds one WriteBatch (entries, tree nodes, history, state) and hands it on;
//      then the next writer leads (an AppendAsync writer has no thread waiting to lead,
//      so whoever holds the queue goes on leading while one is at the front);
//   3. the committer thread writes the waiting groups in order with one sync, publishes
//      the new tree head and wakes their writers (or fulfils an AppendAsync's promise).
// So verifying, sequencing and syncing overlap, and groups grow under load.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "engine.h"
#include "id_filter.h"
#include "keyspace.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "merkle.h"
#include "thread_pool.h"

namespace ledger {

// A RocksDB status as ours: kCorruption for corruption, else kIoError; `what` says what
// was being done ("committing a group").
Status FromRocks(const rocksdb::Status& s, std::string_view what);

// StateReader over the committed RocksDB state. Accounts, operators and the log's
// facts and policy — the records nearly every entry reads — are also kept in memory
// (about 100 bytes an account); entry references and holds are read from the store.
// Threading: Read is safe from any thread; Committed is called by the committing leader.
class DbStateReader : public StateReader {
 public:
  DbStateReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf) : db_(db), log_cf_(log_cf) {}
  Result<std::optional<std::string>> Read(const std::string& key) override;
  // Called after `writes` are durable in the store, before the view holding them is
  // published: adds their entry ids to the id filter.
  void Durable(const std::unordered_map<std::string, std::string>& writes);
  // Called after `writes` are durable in the store.
  void Committed(const std::unordered_map<std::string, std::string>& writes);
  // Called after `key` was deleted from the store.
  void Deleted(const std::string& key);
  // Every entry id in the store ("i:" keys), so that new ids rarely search the store.
  IdFilter& ids() { return ids_; }
  // Reads see the store as of the last sync, never a group that is written but not yet
  // durable. Publish makes a new durable view current; ReadAt pins the current one.
  void Publish(std::shared_ptr<const rocksdb::Snapshot> durable);
  rocksdb::ReadOptions ReadAt(std::shared_ptr<const rocksdb::Snapshot>* pin);

 private:
  static bool Cached(std::string_view key) {
    return key.starts_with("a:") || key.starts_with("o:") || key.starts_with("m:");
  }
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_cf_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::optional<std::string>> cache_;  // GUARDED_BY(mu_)
  std::shared_ptr<const rocksdb::Snapshot> durable_;                   // GUARDED_BY(mu_)
  IdFilter ids_;
};

class Replayer;

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(const Options& options, std::unique_ptr<rocksdb::DB> db,
             rocksdb::ColumnFamilyHandle* private_cf, rocksdb::ColumnFamilyHandle* log_cf);
  ~LedgerImpl() override;

  // Loads size, tree edge and genesis facts: O(log n) reads.
  Status Load();

  std::vector<Result<Appended>> Append(std::span<const std::string> entries) override;
  std::future<std::vector<Result<Appended>>> AppendAsync(std::vector<std::string> entries) override;
  Status Health() override;
  std::uint64_t Size() const override;
  std::string District() const override;
  Result<std::string> GetEntry(std::uint64_t index) override;
  Result<std::uint64_t> FindEntry(const EntryId& id) override;
  Result<AccountInfo> GetAccount(const std::string& account) override;
  Result<Minutes> Balance(const std::string& account) override;
  Result<HistoryPage> History(const std::string& account, std::optional<std::uint64_t> from,
                              std::size_t limit) override;
  Result<Policy> CurrentPolicy() override;
  Result<KeyInfo> LookupKey(const PublicKey& key) override;
  Result<std::vector<EntryId>> ExpiredHolds(std::int64_t now, std::size_t limit) override;
  Result<DistrictInfo> GetDistrictInfo() override;
  Checkpoint CurrentCheckpoint() const override;
  Result<std::string> SignedCheckpoint() override;
  Result<std::string> VerifierKey() const override;
  Result<InclusionProof> ProveInclusion(std::uint64_t index, std::uint64_t tree_size) override;
  Result<ConsistencyProof> ProveConsistency(std::uint64_t old_size,
                                            std::uint64_t new_size) override;
  Result<Hash> RootAt(std::uint64_t tree_size) override;
  Result<std::string> HashTile(int level, std::uint64_t index, int width) override;
  Result<std::string> EntryBundle(std::uint64_t index, int width) override;
  Status PutRealName(const std::string& account, const RealNameRecord& record,
                     const std::string& salt) override;
  Result<RealNameRecord> GetRealName(const std::string& account) override;
  Status DeleteRealName(const std::string& account) override;
  Result<std::vector<TransitCredit>> TransitCredits(std::uint64_t from, std::uint64_t to) override;
  Result<std::vector<KeyChange>> KeyChanges(std::uint64_t from, std::uint64_t to) override;
  Result<std::vector<HoldEvent>> HoldEvents(std::uint64_t from, std::uint64_t to) override;
  Result<std::vector<ClaimEvent>> Claims(std::uint64_t from, std::uint64_t to) override;
  Result<std::vector<SetAsideInfo>> SetAsides(const std::string& account,
                                              std::size_t limit) override;
  Result<std::uint64_t> SyncedSize(const std::string& district) override;
  Result<PeerSync> SyncOf(const std::string& district) override;
  Result<ClearingFigures> Clearing(std::int64_t from_day, std::int64_t to_day) override;
  Status BeginReplication(std::string_view note, std::span<const Hash> cover) override;
  Result<std::uint64_t> Replicate(std::span<const std::string> entries) override;
  Status CheckFork(std::string_view note, std::span<const Hash> leaf_hashes) override;
  std::vector<std::string> EquivocationEvidence() override;
  Status ClearEquivocationEvidence() override;
  Result<AuditReport> Audit() override;

 private:
  // One entry on its way in.
  struct Prepared {
    const std::string* bytes = nullptr;
    std::optional<DecodedEntry> decoded;  // empty when `error` is set
    Status error;
    Hash leaf{};
    bool leaf_known = false;  // `leaf` was given (else Prepare hashes the bytes)
    std::optional<Result<Appended>> result;
  };
  struct AsyncAppend;
  // A caller's entries in the commit queue. A blocking caller waits on `cv` to lead or to
  // be done; an AppendAsync call's writers have no thread waiting (`async` is set).
  struct Writer {
    std::vector<Prepared>* items = nullptr;
    bool done = false;
    std::condition_variable cv;
    AsyncAppend* async = nullptr;
  };
  // An AppendAsync call on its way: owned by its writers; the last one to finish keeps
  // the promise and frees it.
  struct AsyncAppend {
    std::vector<std::string> entries;
    std::vector<std::vector<Prepared>> parts;  // one writer a chunk
    std::deque<Writer> writers;
    std::size_t remaining = 0;  // GUARDED_BY(queue_mu_): writers not finished
    std::promise<std::vector<Result<Appended>>> promise;
  };

  // Reads state through the groups still in flight (newest first), then the store.
  class ChainReader : public StateReader {
   public:
    explicit ChainReader(LedgerImpl* ledger) : ledger_(ledger) {}
    Result<std::optional<std::string>> Read(const std::string& key) override;

   private:
    LedgerImpl* ledger_;
  };
  // A group that is sequenced and on its way to disk.
  struct PendingGroup {
    std::vector<Writer*> writers;
    std::unique_ptr<Overlay> state;  // its state writes; read-only once in flight
    rocksdb::WriteBatch batch;
    merkle::Frontier frontier;     // the tree once it is in
    std::uint64_t start = 0;       // its first index
    std::string district, origin;  // set by a genesis
  };
  static constexpr std::size_t kMaxInflight = 4;

  void Prepare(Prepared* p) const;
  // The append path: verify, sequence, commit. A replica's entries replay the rules as
  // their district applied them (no clock) and stop at the first refused one.
  // A large call is cut into chunks of kPipelineChunk that go through as a pipeline: while
  // one chunk is sequenced and committed, the next one's signatures are checked, so the
  // cores are not left idle while a single large group goes through the serial stages.
  // `leaves`: the entries' leaf hashes when the caller has them already (replicas).
  static constexpr std::size_t kPipelineChunk = 512;
  static constexpr std::size_t kPipelineDepth = kMaxInflight + 2;  // chunks ahead of commits
  std::vector<Result<Appended>> AppendEntries(std::span<const std::string> entries,
                                              std::span<const Hash> leaves = {});
  // Stage one: decodes and verifies `entries` on all cores (leaf hashes too, unless given).
  std::vector<Prepared> Verify(std::span<const std::string> entries, std::span<const Hash> leaves);
  // The items' results, chunk after chunk, moved out.
  static std::vector<Result<Appended>> TakeResults(std::vector<std::vector<Prepared>>* parts);
  // Stage two: joins the commit queue (with `turn`, in the order of `ticket`), and returns
  // once the entries are sequenced and durable; each item then holds its result.
  struct Turn {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t next = 0;  // GUARDED_BY(mu): the ticket whose writer joins next
  };
  void Commit(std::vector<Prepared>* items, Turn* turn, std::size_t ticket);
  // With queue_mu_ held and no round running: sequences groups from the front of the
  // queue until `mine` has been sequenced (an AppendAsync caller: a few rounds more while
  // async writers are at the front). Then, if the front writer is a blocking one, it is
  // woken to lead; if it is an async one (no thread waits to lead it), the sequencer
  // thread is. mine == nullptr (the sequencer thread): while the front writer is async.
  // noexcept: Sequence turns a failure into refusals (kInternal); should even that fail
  // (out of memory while refusing), the process ends rather than leave writers waiting
  // for ever. Nothing acknowledged is lost, and reopening recovers.
  void Lead(std::unique_lock<std::mutex>& lk, const Writer* mine) noexcept;
  // The sequencer thread: leads the queue whenever an async writer is at its front and
  // nobody else leads, so that no caller is kept leading other callers' entries.
  void SequenceLoop();
  // Replicas: writes a state record of the replica's own (the district's note, evidence).
  Status PutMeta(std::string_view key, const std::string& value);
  // Leader only: takes `group` off the queue, applies the rules to it in log order and
  // queues it for the committer. Should that throw (out of memory, a clock that throws),
  // the group and every later one are refused with kInternal until the ledger is reopened.
  void Sequence(const std::vector<Writer*>& group);
  // Every item of `group` gets `why` as its result; then the writers are finished.
  void Refuse(const std::vector<Writer*>& group, const Status& why);
  void ApplyGroup(PendingGroup* b);
  // A group's writes other than its entries, on their way into its batch: views of its
  // state overlay, or of `owned` (strings made here). `nodes`: scratch for the tree.
  struct GroupWrites {
    std::vector<std::pair<std::string_view, std::string_view>> writes;
    std::deque<std::string> owned;
    std::vector<merkle::NodeRef> nodes;
  };
  // The rules' verdict on one item of group `b`, left in p->result; true when it is a new
  // entry. A replica refuses every entry after a refused one (`refused`: its index).
  bool Judge(PendingGroup* b, Prepared* p, std::int64_t now, std::optional<std::uint64_t>* refused);
  // Puts a new entry into b's batch at the next index, with the tree's tile-level nodes.
  void AddEntry(PendingGroup* b, const Prepared& p, GroupWrites* gw);
  // The committer thread: writes queued groups in order, syncs, publishes, wakes writers.
  void CommitLoop();
  void Finish(const std::vector<Writer*>& group);
  Status broken_status();
  std::int64_t Now() const;
  merkle::NodeReader Nodes();
  // Any perfect subtree's hash: stored at tile levels, hashed up from them in between.
  Result<Hash> ReadNode(int level, std::uint64_t index);
  Result<std::optional<std::string>> Get(const std::string& key);
  // State records keyed by a log index ("t:", "k:" + be64): each one at [from, to) in
  // order, from the durable view; `each` returns false for a record that does not parse.
  Status ScanByIndex(std::string (*key)(std::uint64_t), std::uint64_t from, std::uint64_t to,
                     const std::function<bool(std::uint64_t, std::string_view)>& each);
  // A snapshot of the store now, released with the shared_ptr.
  std::shared_ptr<const rocksdb::Snapshot> TakeSnapshot();

  const Options options_;
  const bool replica_;                            // Options.replica_verifier was given
  std::optional<NoteVerifier> replica_verifier_;  // parsed, for replicas
  // A replica's checkpoint being replicated (BeginReplication .. Replicate reaching it).
  struct Extension {
    std::string note;
    Checkpoint cp;
    std::uint64_t start = 0;  // the replica's size when it began
    std::vector<Hash> cover;  // TileCover of [start, cp.size)
  };
  Status CheckAgainstCover(std::uint64_t size, std::span<const std::string> entries,
                           std::vector<Hash>* leaves);
  std::mutex replicate_mu_;           // serializes BeginReplication / Replicate
  std::optional<Extension> pending_;  // GUARDED_BY(replicate_mu_)
  // Set by the sequencer when a replicated entry is refused: nothing after it goes in.
  // Reset by Replicate (under replicate_mu_) before its entries are queued.
  std::atomic<bool> replica_refused_{false};
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* private_cf_;
  rocksdb::ColumnFamilyHandle* log_cf_;  // the entries (keys::InLogFamily)
  // The family a key lives in.
  rocksdb::ColumnFamilyHandle* FamilyOf(std::string_view key) const {
    return keys::InLogFamily(key) ? log_cf_ : db_->DefaultColumnFamily();
  }
  DbStateReader state_reader_;
  ChainReader chain_reader_;
  ThreadPool verify_pool_;

  // Sequencer state: touched only by the current leader (leaders follow one another
  // through writers_), so it needs no lock of its own.
  merkle::Frontier seq_frontier_;
  Engine engine_;

  // Groups in flight, in sequence order; the first `written_` are being written.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::deque<std::shared_ptr<PendingGroup>> inflight_;  // GUARDED_BY(commit_mu_)
  std::size_t written_ = 0;                             // GUARDED_BY(commit_mu_)
  Status broken_;                                       // GUARDED_BY(commit_mu_)
  // Set once sequencing a group threw: every later group is refused (the groups before it
  // are still written, unlike after a failed commit).
  Status sequencer_broken_;  // GUARDED_BY(commit_mu_)
  bool stopping_ = false;    // GUARDED_BY(commit_mu_)
  std::thread committer_;
  // Adds the ids of the store as opened to state_reader_.ids(), then marks it built.
  std::thread id_scan_;
  std::atomic<bool> closing_{false};
  void ScanIds(std::shared_ptr<const rocksdb::Snapshot> at_open);

  // Commit queue; the front writer leads.
  std::mutex queue_mu_;
  std::deque<Writer*> writers_;             // GUARDED_BY(queue_mu_)
  bool sequencing_ = false;                 // GUARDED_BY(queue_mu_): a leader is applying a group
  std::size_t queued_entries_ = 0;          // GUARDED_BY(queue_mu_): in writers_
  std::condition_variable queue_space_cv_;  // queued_entries_ fell
  std::condition_variable sequencer_cv_;    // work for the sequencer thread, or closing
  bool closing_queue_ = false;              // GUARDED_BY(queue_mu_)
  std::thread sequencer_;  // GUARDED_BY(queue_mu_) until joined: started by AppendAsync

  // Published tree state.
  mutable std::mutex tree_mu_;
  merkle::Frontier frontier_;                    // GUARDED_BY(tree_mu_)
  std::string district_;                         // GUARDED_BY(tree_mu_)
  std::string origin_;                           // GUARDED_BY(tree_mu_)
  std::string cached_note_;                      // GUARDED_BY(tree_mu_)
  std::uint64_t cached_note_size_ = UINT64_MAX;  // GUARDED_BY(tree_mu_)
};

}  // namespace ledger
