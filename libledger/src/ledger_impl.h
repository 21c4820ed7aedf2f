// ledger_impl.h — the RocksDB-backed Ledger (internal).
//
// Append path:  caller threads decode + verify signatures in parallel (thread pool)
//            -> writers queue; the writer at the front leads a commit group
//            -> the leader applies the rules in log order over an overlay, builds one
//               WriteBatch (entries, tree nodes, history, state), writes it synced
//            -> publishes the new size and tree edge, wakes the group.
// While a leader syncs, the next batches verify and queue, so groups grow under load.
#pragma once

#include <rocksdb/db.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "engine.h"
#include "ledger/ledger.h"
#include "merkle.h"
#include "thread_pool.h"

namespace ledger {

// StateReader over the committed RocksDB state.
class DbStateReader : public StateReader {
 public:
  explicit DbStateReader(rocksdb::DB* db) : db_(db) {}
  Result<std::optional<std::string>> Read(const std::string& key) override;

 private:
  rocksdb::DB* db_;
};

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(const Options& options, std::unique_ptr<rocksdb::DB> db,
             rocksdb::ColumnFamilyHandle* private_cf);
  ~LedgerImpl() override;

  // Loads size, tree edge and genesis facts: O(log n) reads.
  Status Load();

  std::vector<Result<Appended>> Append(std::span<const std::string> entries) override;
  std::uint64_t Size() const override;
  std::string District() const override;
  Result<std::string> GetEntry(std::uint64_t index) override;
  Result<std::uint64_t> FindEntry(const EntryId& id) override;
  Result<AccountInfo> GetAccount(const std::string& account) override;
  Result<Minutes> Balance(const std::string& account) override;
  Result<HistoryPage> History(const std::string& account, std::optional<std::uint64_t> after,
                              std::size_t limit) override;
  Result<Policy> CurrentPolicy() override;
  Checkpoint CurrentCheckpoint() const override;
  Result<std::string> SignedCheckpoint() override;
  Result<std::string> VerifierKey() const override;
  Result<InclusionProof> ProveInclusion(std::uint64_t index, std::uint64_t tree_size) override;
  Result<ConsistencyProof> ProveConsistency(std::uint64_t old_size, std::uint64_t new_size) override;
  Result<Hash> RootAt(std::uint64_t tree_size) override;
  Result<std::string> HashTile(int level, std::uint64_t index, int width) override;
  Result<std::string> EntryBundle(std::uint64_t index, int width) override;
  Status PutRealName(const std::string& account, const RealNameRecord& record,
                     const std::string& salt) override;
  Result<RealNameRecord> GetRealName(const std::string& account) override;
  Result<AuditReport> Audit() override;

 private:
  // One entry on its way in.
  struct Prepared {
    const std::string* bytes = nullptr;
    std::optional<DecodedEntry> decoded;  // empty when `error` is set
    Status error;
    Hash leaf{};
    std::optional<Result<Appended>> result;
  };
  struct Writer {
    std::vector<Prepared>* items = nullptr;
    bool done = false;
    std::condition_variable cv;
  };

  void Prepare(Prepared* p) const;
  // Leader only: sequences, validates and commits every item of `group`.
  void CommitGroup(const std::vector<Writer*>& group);
  std::int64_t Now() const;
  merkle::NodeReader Nodes();
  Result<std::optional<std::string>> Get(const std::string& key);

  const Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* private_cf_;
  DbStateReader state_reader_;
  ThreadPool verify_pool_;

  // Commit queue; the front writer leads.
  std::mutex queue_mu_;
  std::deque<Writer*> writers_;

  // Published tree state.
  mutable std::mutex tree_mu_;
  merkle::Frontier frontier_;     // GUARDED_BY(tree_mu_)
  std::string district_;          // GUARDED_BY(tree_mu_)
  std::string origin_;            // GUARDED_BY(tree_mu_)
  std::string cached_note_;       // GUARDED_BY(tree_mu_)
  std::uint64_t cached_note_size_ = UINT64_MAX;  // GUARDED_BY(tree_mu_)
};

}  // namespace ledger
