// The append path: large batches, which go through the ledger as a pipeline of chunks.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "district.h"

using namespace ledger;
using namespace ledger::testing;

TEST_CASE("a batch larger than a pipeline chunk keeps its order and each entry's result") {
  TempDir dir;
  District d(dir.path());
  std::vector<std::string> volunteers;
  for (int i = 0; i < 20; ++i) volunteers.push_back(d.OpenPerson(1960 + i));
  // One minute of service by volunteer i % 20.
  auto serve = [&](int i, std::string category = "meals") {
    return d.Sign(d.Body(Serve(volunteers[i % 20], 1, std::move(category))));
  };
  const std::uint64_t start = d.ledger().Size();
  // 1,300 entries: three chunks of the pipeline (512 each). One refused in the second, and
  // repeats of entries from the first and second chunks in the third.
  std::vector<std::string> batch;
  for (int i = 0; i < 1300; ++i) batch.push_back(serve(i));
  batch[700] = serve(0, "gardening");
  batch[1100] = batch[5];
  batch[1200] = batch[1000 - 1];
  // Another caller appends while the batch goes through; its entries may come between two
  // chunks of the batch, never inside one.
  std::vector<Result<Appended>> other;
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      auto rs = d.ledger().Append(std::vector<std::string>{serve(i, "cleaning")});
      other.push_back(std::move(rs.front()));
    }
  });
  auto rs = d.ledger().Append(batch);
  writer.join();
  REQUIRE(rs.size() == batch.size());
  for (const auto& r : other) REQUIRE(r.ok());

  std::uint64_t last = 0;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (i == 700) {
      CHECK(rs[i].code() == Code::kUnknownService);
      continue;
    }
    REQUIRE_MESSAGE(rs[i].ok(), i, ": ", rs[i].status().ToString());
    if (i == 1100 || i == 1200) {
      CHECK(rs[i]->duplicate);
      CHECK(rs[i]->index == rs[i == 1100 ? 5 : 999]->index);
      continue;
    }
    CHECK_FALSE(rs[i]->duplicate);
    CHECK(rs[i]->index > last);  // in the order given
    // Inside a chunk nothing comes between (refused entries and repeats take no index).
    if (i > 0 && i % 512 != 0) CHECK(rs[i]->index == last + 1);
    last = rs[i]->index;
    CHECK(d.ledger().GetEntry(rs[i]->index).value() == batch[i]);
    ++accepted;
  }
  CHECK(accepted == 1297);
  CHECK(d.ledger().Size() == start + accepted + other.size());
  Minutes total = 0;
  for (const auto& v : volunteers) total += d.BalanceOf(v);
  CHECK(total == static_cast<Minutes>(accepted + other.size()));
}
