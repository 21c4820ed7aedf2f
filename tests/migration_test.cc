// Moving home (docs/federation.md §7): an account's balance and debit authority pass from
// its old home O to its new home T through O's log, while credits for it keep arriving
// in every district — none lost, none counted twice. Three in-process districts, each
// holding verified copies of the other two.
#include <doctest/doctest.h>

#include <array>
#include <memory>

#include "city.h"
#include "district.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

Deposit Serve(const std::string& volunteer, Minutes minutes) {
  return Deposit{volunteer, "", "meals", minutes, kNoon - 3600, ""};
}

// O = 510104 (the old home), T = 510105 (the new one), X = 510106 (where she also serves).
struct City3 {
  static constexpr std::array<const char*, 3> kCodes = {"510104", "510105", "510106"};
  std::array<TempDir, 3> dirs;
  std::array<TempDir, 6> copy_dirs;
  std::array<std::shared_ptr<LedgerPeers>, 3> peers = {std::make_shared<LedgerPeers>(),
                                                       std::make_shared<LedgerPeers>(),
                                                       std::make_shared<LedgerPeers>()};
  District o{dirs[0].path(), kCodes[0], DefaultPolicy(), peers[0], 1};
  District t{dirs[1].path(), kCodes[1], DefaultPolicy(), peers[1], 11};
  District x{dirs[2].path(), kCodes[2], DefaultPolicy(), peers[2], 21};
  // copies[i][j]: district i's copy of district j's log (null on the diagonal).
  std::array<std::array<std::shared_ptr<Ledger>, 3>, 3> copies;

  District& at(int i) { return i == 0 ? o : i == 1 ? t : x; }
  City3() {
    int n = 0;
    for (int i = 0; i < 3; ++i) {
      peers[i]->Add(kCodes[i], at(i).shared());
      for (int j = 0; j < 3; ++j) {
        if (i == j) continue;
        copies[i][j] = OpenReplica(copy_dirs[n++].path(), at(j).ledger(), peers[i]);
        peers[i]->Add(kCodes[j], copies[i][j]);
      }
    }
  }
  // Brings every copy up to its district's log. Called after every sync or migrate, so
  // that what a new entry refers to is already in every copy.
  void Spread() {
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 3; ++i)
        if (i != j) Follow(at(j).ledger(), *copies[i][j]);
  }
  // District i syncs district j (its copy being current).
  Result<Appended> Sync(int i, int j) {
    auto r = SyncTo(at(i), *copies[i][j], kCodes[j]);
    Spread();
    return r;
  }
  Minutes InTransit() { return Interdistrict(o) + Interdistrict(t) + Interdistrict(x); }
};

}  // namespace

TEST_CASE("moving home: balance, holds and credits from everywhere reach the new home once") {
  City3 c;
  const std::string v = c.o.OpenPerson(1950);
  const Minutes starter = c.o.BalanceOf(v);
  REQUIRE(c.o.Submit(Serve(v, 120)).ok());
  // Served in X and synced home before the move: counted at O.
  REQUIRE(c.x.Submit(Serve(v, 30)).ok());
  c.Spread();
  REQUIRE(c.Sync(0, 2).ok());
  CHECK(c.o.BalanceOf(v) == starter + 150);
  // An open hold at O, and credits on their way to O that O has not synced yet: in X,
  // and in T (which does not know she is coming).
  const EntryBody hold = c.o.Body(Hold{v, 40, c.o.now + 3600, "meals", ""});
  REQUIRE(c.o.ledger().Append(c.o.Sign(hold)).ok());
  REQUIRE(c.x.Submit(Serve(v, 20)).ok());
  REQUIRE(c.t.Submit(Serve(v, 10)).ok());
  c.Spread();

  // Refusals, each with its own code; O's log does not move.
  const std::uint64_t before = c.o.ledger().Size();
  CHECK(c.o.Submit(Migrate{v, "510105"}, c.o.log_key.get()).code() == Code::kUnknownKey);
  CHECK(c.o.Submit(Migrate{v, "510104"}).code() == Code::kMalformedEntry);
  CHECK(c.o.Submit(Migrate{v, "51010"}).code() == Code::kMalformedEntry);
  CHECK(c.o.Submit(Migrate{v, "510107"}).code() == Code::kUnknownPeer);  // no such log here
  CHECK(c.o.Submit(Migrate{c.o.Pool(), "510105"}).code() == Code::kAccountKindRestricted);
  CHECK(c.t.Submit(Migrate{v, "510106"}).code() == Code::kNotHomeDistrict);  // T is not home
  CHECK(c.o.ledger().Size() == before);

  const Minutes moving = c.o.BalanceOf(v);
  REQUIRE(moving == starter + 150 - 40);
  const Minutes o_transit = Interdistrict(c.o);
  auto moved = c.o.Submit(Migrate{v, "510105"});
  REQUIRE_MESSAGE(moved.ok(), moved.status().ToString());
  c.Spread();
  auto at_o = c.o.ledger().GetAccount(v).value();
  CHECK(at_o.balance == 0);
  CHECK(at_o.moved_to == "510105");
  CHECK(at_o.moved_at == moved->index);
  CHECK(Interdistrict(c.o) == o_transit + moving);
  // No debit at O any more; the same migrate is idempotent, a second one refused.
  CHECK(c.o.Submit(Redeem{v, 10, "meals", ""}).code() == Code::kNotHomeDistrict);
  CHECK(c.o.Submit(Migrate{v, "510106"}).code() == Code::kNotHomeDistrict);
  // Nor at T before T has synced O past the migrate.
  CHECK(c.t.Submit(Redeem{v, 10, "meals", ""}).code() == Code::kNotHomeDistrict);
  // Credits after the move, written at O (it sends them on) and at X (addressed to O).
  REQUIRE(c.o.Submit(Serve(v, 15)).ok());
  REQUIRE(c.x.Submit(Serve(v, 25)).ok());
  // The hold made before the move is voided at O: its 40 minutes follow her.
  REQUIRE(c.o.Submit(HoldVoid{hold.id}).ok());
  CHECK(c.o.BalanceOf(v) == 0);
  c.Spread();

  // T syncs O: she arrives with her balance, her record and her service.
  REQUIRE(c.Sync(1, 0).ok());
  auto at_t = c.t.ledger().GetAccount(v).value();
  CHECK(at_t.balance == moving + 15 + 40);
  CHECK(at_t.served == 120 + 30 + 15);
  CHECK(at_t.birth_year == 1950);
  CHECK(at_t.moved_to.empty());
  // O syncs X and T: the credits addressed to O go on to T.
  REQUIRE(c.Sync(0, 2).ok());
  REQUIRE(c.Sync(0, 1).ok());
  CHECK(c.o.BalanceOf(v) == 0);
  REQUIRE(c.Sync(1, 0).ok());
  // Everything she earned, less what she spent, exactly once.
  const Minutes total = starter + 120 + 30 + 20 + 10 + 15 + 25;
  CHECK(c.t.BalanceOf(v) == total);
  CHECK(c.t.ledger().GetAccount(v).value().served == 120 + 30 + 20 + 10 + 15 + 25);
  CHECK(c.InTransit() == 0);

  // T is her home now: it debits her, and credits written at T stay at T.
  auto transits = [&] { return c.t.ledger().TransitCredits(0, c.t.ledger().Size()).value(); };
  const std::size_t t_transits = transits().size();
  REQUIRE(c.t.Submit(Redeem{v, 60, "meals", ""}).ok());
  REQUIRE(c.t.Submit(Serve(v, 5)).ok());
  CHECK(c.t.BalanceOf(v) == total - 60 + 5);
  CHECK(transits().size() == t_transits);
  c.Spread();
  for (int i = 0; i < 3; ++i) {
    auto audit = c.at(i).ledger().Audit();
    CHECK_MESSAGE(audit.ok(), c.at(i).code(), ": ", audit.status().ToString());
    for (int j = 0; j < 3; ++j)
      if (i != j) {
        auto copy = c.copies[i][j]->Audit();
        CHECK_MESSAGE(copy.ok(), c.at(i).code(), "'s copy of ", c.at(j).code(), ": ",
                      copy.status().ToString());
        CHECK(c.copies[i][j]->CurrentCheckpoint().root ==
              c.at(j).ledger().CurrentCheckpoint().root);
      }
  }
}

TEST_CASE("moving home and back again: the account's history at the first home goes on") {
  City3 c;
  const std::string v = c.o.OpenPerson(1950);
  REQUIRE(c.o.Submit(Serve(v, 50)).ok());
  c.Spread();
  REQUIRE(c.o.Submit(Migrate{v, "510105"}).ok());
  c.Spread();
  REQUIRE(c.Sync(1, 0).ok());
  CHECK(c.t.BalanceOf(v) == 50);
  REQUIRE(c.t.Submit(Serve(v, 30)).ok());
  REQUIRE(c.t.Submit(Migrate{v, "510104"}).ok());
  c.Spread();
  REQUIRE(c.Sync(0, 1).ok());
  CHECK(c.o.BalanceOf(v) == 80);
  CHECK(c.o.ledger().GetAccount(v).value().moved_to.empty());
  CHECK(c.t.ledger().GetAccount(v).value().moved_to == "510104");
  REQUIRE(c.o.Submit(Redeem{v, 20, "meals", ""}).ok());
  auto history = c.o.ledger().History(v, std::nullopt, 100);
  REQUIRE(history.ok());
  // Newest first: the redemption, the arrival back (the sync), the migrate away, the
  // service before it.
  REQUIRE(history->items.size() == 4);
  CHECK(history->items[0].delta == -20);
  CHECK(history->items[1].delta == 80);
  CHECK(history->items[2].delta == -50);
  CHECK(history->items[3].delta == 50);
  CHECK(c.InTransit() == 0);
  for (int i = 0; i < 3; ++i) CHECK(c.at(i).ledger().Audit().ok());
}
