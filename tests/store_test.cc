// The data directory's layout across libledger versions (docs/format.md §10).
#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <vector>

#include "district.h"
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

// How many keys of the default family start with 'e' or 'n' (entries, tree nodes).
std::size_t LogKeysInDefaultFamily(const std::string& path) {
  rocksdb::Options opt;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(opt, path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) families.emplace_back(name, opt);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(opt, path, families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::size_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key()[0] == 'e' || it->key()[0] == 'n') ++n;
  it.reset();
  for (auto* h : handles)
    if (h != db->DefaultColumnFamily()) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  return n;
}

}  // namespace

TEST_CASE("a store of the single-family layout (0.1) is moved to the log family at open") {
  TempDir dir;
  Checkpoint head;
  std::vector<std::string> entries;
  std::string volunteer;
  Minutes balance = 0;
  {
    District d(dir.path());
    volunteer = d.OpenPerson(1990);
    // More than 256 entries, so that a level-8 tree node is stored too.
    for (int i = 0; i < 700; ++i)
      REQUIRE(d.Submit(Deposit{volunteer, "", "meals", 1, d.now - 3600, ""}).ok());
    head = d.ledger().CurrentCheckpoint();
    balance = d.BalanceOf(volunteer);
    for (std::uint64_t i = 0; i < head.size; ++i) entries.push_back(d.ledger().GetEntry(i).value());
  }
  DowngradeToSingleFamily(dir.path());
  REQUIRE(LogKeysInDefaultFamily(dir.path()) > head.size);  // entries and nodes

  District d(dir.path());
  CHECK(LogKeysInDefaultFamily(dir.path()) == 0);
  CHECK(d.ledger().CurrentCheckpoint().size == head.size);
  CHECK(d.ledger().CurrentCheckpoint().root == head.root);
  CHECK(d.BalanceOf(volunteer) == balance);
  for (std::uint64_t i = 0; i < head.size; i += 97)
    CHECK(d.ledger().GetEntry(i).value() == entries[i]);
  auto proof = d.ledger().ProveInclusion(300, head.size);
  REQUIRE(proof.ok());
  CHECK(VerifyInclusion(LeafHash(entries[300]), *proof, head.root).ok());
  auto audit = d.ledger().Audit();
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK(audit->root == head.root);
  // And it goes on appending.
  REQUIRE(d.Submit(Deposit{volunteer, "", "meals", 1, d.now - 3600, ""}).ok());
  CHECK(d.ledger().Size() == head.size + 1);
}
