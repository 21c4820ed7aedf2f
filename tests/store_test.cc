// The data directory's layout across libledger versions (docs/format.md §10).
#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "district.h"
#include "id_filter.h"
#include "ledger/proof.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

// Rewrites a closed store into the 0.1 layout: entries and tree nodes in the default
// column family, no "log" family.
void DowngradeToSingleFamily(const std::string& path) {
  rocksdb::Options opt;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, opt}, {"private", opt}, {"log", opt}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(opt, path, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[2]));
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++n)
    REQUIRE(batch.Put(it->key(), it->value()).ok());
  REQUIRE(it->status().ok());
  it.reset();
  REQUIRE(n > 0);
  REQUIRE(db->Write(rocksdb::WriteOptions(), &batch).ok());
  REQUIRE(db->DropColumnFamily(handles[2]).ok());
  for (auto* h : handles)
    if (h != db->DefaultColumnFamily()) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  REQUIRE(db->Close().ok());
}

// Opens a closed store's families as they are, for a layout helper.
struct RawStore {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // by name, below
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) {
    for (auto* h : handles)
      if (h->GetName() == name) return h;
    return nullptr;
  }
  explicit RawStore(const std::string& path, bool read_only) {
    rocksdb::Options opt;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(opt, path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : names) families.emplace_back(name, opt);
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status opened =
        read_only ? rocksdb::DB::OpenForReadOnly(opt, path, families, &handles, &raw)
                  : rocksdb::DB::Open(opt, path, families, &handles, &raw);
    REQUIRE_MESSAGE(opened.ok(), opened.ToString());
    db.reset(raw);
  }
  ~RawStore() {
    for (auto* h : handles)
      if (h != db->DefaultColumnFamily()) db->DestroyColumnFamilyHandle(h);
  }
  // How many keys of `family` start with `prefix` (0 without such a family).
  std::size_t Count(const std::string& family, char prefix) {
    if (!Family(family)) return 0;
    std::size_t n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), Family(family)));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (it->key()[0] == prefix) ++n;
    return n;
  }
};

// Rewrites a closed store into the layout of the sessions before tree nodes moved to the
// default family: tree nodes in the log family.
void MoveNodesToLogFamily(const std::string& path) {
  RawStore s(path, false);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions()));
  std::size_t n = 0;
  for (it->Seek("n"); it->Valid() && it->key()[0] == 'n'; it->Next(), ++n) {
    REQUIRE(batch.Put(s.Family("log"), it->key(), it->value()).ok());
    REQUIRE(batch.Delete(it->key()).ok());
  }
  REQUIRE(it->status().ok());
  it.reset();
  REQUIRE(n > 0);
  REQUIRE(s.db->Write(rocksdb::WriteOptions(), &batch).ok());
}

// Leaves a closed store as a move to the log family that stopped midway leaves it: the
// entries from `from` on still in the default family (a move goes in index order), and
// the tree nodes in the log family.
void InterruptedMove(const std::string& path, std::uint64_t from) {
  RawStore s(path, false);
  rocksdb::WriteBatch batch;
  std::string start = "e";
  for (int i = 56; i >= 0; i -= 8) start.push_back(static_cast<char>(from >> i));
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.Family("log")));
  std::size_t n = 0;
  for (it->Seek(start); it->Valid() && it->key()[0] == 'e'; it->Next(), ++n) {
    REQUIRE(batch.Put(it->key(), it->value()).ok());
    REQUIRE(batch.Delete(s.Family("log"), it->key()).ok());
  }
  REQUIRE(it->status().ok());
  it.reset();
  REQUIRE(n > 0);
  REQUIRE(s.db->Write(rocksdb::WriteOptions(), &batch).ok());
}

// A store's keys by family (read with the store closed: a read-only open next to a live
// writer can race its compactions).
struct Layout {
  std::size_t entries_in_default, nodes_in_default, entries_in_log, nodes_in_log;
  bool operator==(const Layout&) const = default;
};
Layout KeysByFamily(const std::string& path) {
  RawStore s(path, true);
  return {s.Count("default", 'e'), s.Count("default", 'n'), s.Count("log", 'e'),
          s.Count("log", 'n')};
}
// Where a store of `size` entries and `nodes` stored tree nodes keeps them now.
void CheckCurrentLayout(const std::string& path, std::size_t size, std::size_t nodes) {
  const Layout keys = KeysByFamily(path);
  CHECK(keys.entries_in_default == 0);
  CHECK(keys.nodes_in_default == nodes);
  CHECK(keys.entries_in_log == size);
  CHECK(keys.nodes_in_log == 0);
}

// What a store opened in any earlier layout must still hold and do.
void CheckSameLog(const std::string& path, const Checkpoint& head,
                  const std::vector<std::string>& entries, const std::string& volunteer,
                  Minutes balance) {
  District d(path);
  CHECK(d.ledger().CurrentCheckpoint().size == head.size);
  CHECK(d.ledger().CurrentCheckpoint().root == head.root);
  CHECK(d.BalanceOf(volunteer) == balance);
  for (std::uint64_t i = 0; i < head.size; i += 97)
    CHECK(d.ledger().GetEntry(i).value() == entries[i]);
  auto proof = d.ledger().ProveInclusion(300, head.size);
  REQUIRE(proof.ok());
  CHECK(VerifyInclusion(LeafHash(entries[300]), *proof, head.root).ok());
  auto consistency = d.ledger().ProveConsistency(260, head.size);
  REQUIRE(consistency.ok());
  auto audit = d.ledger().Audit();
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK(audit->root == head.root);
  // And it goes on appending.
  REQUIRE(d.Submit(Deposit{volunteer, "", "meals", 1, d.now - 3600, ""}).ok());
  CHECK(d.ledger().Size() == head.size + 1);
}

}  // namespace

// A log of `n` deposits (by default 700: more than 256 entries, so that a level-8 tree
// node is stored too), closed; what it holds.
struct StoredLog {
  Checkpoint head;
  std::vector<std::string> entries;
  std::string volunteer;
  Minutes balance = 0;
  explicit StoredLog(const std::string& path, int n = 700) {
    District d(path);
    volunteer = d.OpenPerson(1990);
    std::vector<std::string> batch;
    for (int i = 0; i < n; ++i)
      batch.push_back(d.Sign(d.Body(Deposit{volunteer, "", "meals", 1, d.now - 3600, ""})));
    for (const auto& r : d.ledger().Append(batch)) REQUIRE(r.ok());
    head = d.ledger().CurrentCheckpoint();
    balance = d.BalanceOf(volunteer);
    for (std::uint64_t i = 0; i < head.size; ++i) entries.push_back(d.ledger().GetEntry(i).value());
  }
};

TEST_CASE("entries live in the log family and tree nodes in the default family") {
  TempDir dir;
  StoredLog log(dir.path());
  CheckCurrentLayout(dir.path(), log.head.size, 2);  // level-8 nodes of tiles 0 and 1
}

TEST_CASE("a store of the single-family layout (0.1) is moved to the log family at open") {
  TempDir dir;
  StoredLog log(dir.path());
  DowngradeToSingleFamily(dir.path());
  REQUIRE(KeysByFamily(dir.path()).entries_in_default == log.head.size);

  { District moved(dir.path()); }
  CheckCurrentLayout(dir.path(), log.head.size, 2);
  CheckSameLog(dir.path(), log.head, log.entries, log.volunteer, log.balance);
}

TEST_CASE("a store with its tree nodes in the log family has them moved out at open") {
  TempDir dir;
  StoredLog log(dir.path());
  MoveNodesToLogFamily(dir.path());
  REQUIRE(KeysByFamily(dir.path()).nodes_in_log == 2);

  { District moved(dir.path()); }
  CheckCurrentLayout(dir.path(), log.head.size, 2);
  CheckSameLog(dir.path(), log.head, log.entries, log.volunteer, log.balance);
}

TEST_CASE("a move of several batches that stopped midway is finished at the next open") {
  TempDir dir;
  StoredLog log(dir.path(), 9000);
  const std::size_t nodes = log.head.size / 256;
  InterruptedMove(dir.path(), 500);
  MoveNodesToLogFamily(dir.path());
  // More than two batches of 4,096 still to move.
  REQUIRE(KeysByFamily(dir.path()) == Layout{log.head.size - 500, 0, 500, nodes});

  { District moved(dir.path()); }
  CheckCurrentLayout(dir.path(), log.head.size, nodes);
  CheckSameLog(dir.path(), log.head, log.entries, log.volunteer, log.balance);
}

TEST_CASE("the id filter never says no to an id it was given, and rarely yes to others") {
  IdFilter f;
  std::vector<std::string> added;
  for (int i = 0; i < 200000; ++i) {  // past the first segment's 65,536: three segments
    const EntryId id = NewEntryId();
    added.emplace_back(reinterpret_cast<const char*>(id.data()), id.size());
  }
  for (std::size_t i = 0; i < added.size() / 2; ++i) f.Add(added[i]);
  // Not built yet: every id is a "maybe" (the store is asked).
  const EntryId fresh = NewEntryId();
  const std::string fresh_s(reinterpret_cast<const char*>(fresh.data()), fresh.size());
  CHECK(f.MayContain(fresh_s));
  f.MarkBuilt();
  for (std::size_t i = added.size() / 2; i < added.size(); ++i) f.Add(added[i]);
  std::size_t missing = 0;
  for (const auto& id : added) missing += f.MayContain(id) ? 0 : 1;
  CHECK(missing == 0);
  std::size_t maybe = 0;
  constexpr int kOthers = 100000;
  for (int i = 0; i < kOthers; ++i) {
    const EntryId id = NewEntryId();
    maybe += f.MayContain(std::string_view(reinterpret_cast<const char*>(id.data()), 16)) ? 1 : 0;
  }
  CHECK(maybe < kOthers * 3 / 100);  // about 1 % an id, summed over the segments
  CHECK(maybe > 0);                  // (a filter that says no to everything would pass above)
}

TEST_CASE("repeats of stored entries are found at once after a reopen, and later") {
  TempDir dir;
  District d(dir.path());
  std::vector<std::string> people, entries;
  for (int i = 0; i < 20; ++i) people.push_back(d.OpenPerson(1950 + i));
  for (int i = 0; i < 3000; ++i)
    entries.push_back(
        d.Sign(d.Body(Deposit{people[i % people.size()], "", "meals", 1, kNoon - 3600, ""})));
  for (const auto& r : d.ledger().Append(entries)) REQUIRE(r.ok());
  d.Reopen();
  const std::uint64_t size = d.ledger().Size();
  for (int round = 0; round < 2; ++round) {  // while the ids are still being scanned, and after
    auto results = d.ledger().Append(entries);
    for (const auto& r : results) {
      REQUIRE(r.ok());
      CHECK(r->duplicate);
    }
    CHECK(d.ledger().Size() == size);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}
