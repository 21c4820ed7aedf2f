// Moving home (docs/federation.md §7): an account's balance and debit authority pass from
// its old home O to its new home T through O's log, while credits for it keep arriving
// in every district — none lost, none counted twice. Three in-process districts, each
// holding verified copies of the other two.
#include <doctest/doctest.h>

#include <array>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "city.h"
#include "district.h"

using namespace ledger;
using namespace ledger::testing;

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

// Random traffic over three districts — services anywhere, gifts, redemptions, holds set
// aside for another district and then claimed there or voided at home, moves of home, and
// syncs in random order — against a model of every person's balance. Once every district
// has synced every other until nothing is in transit, each person's home holds exactly
// the model's balance, every log and every copy passes its audit, and the clearing
// figures add up: what was issued is owed or was redeemed.
TEST_CASE("random city traffic with moves, set-asides and claims: every minute accounted once") {
  for (unsigned seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    City3 c;
    std::mt19937 rng(seed);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    std::vector<std::string> people;
    for (int d = 0; d < 3; ++d)
      for (int k = 0; k < 4; ++k) people.push_back(c.at(d).OpenPerson(1950));
    c.Spread();
    std::map<std::string, Minutes> expected;
    Minutes redeemed = 0;
    // Where a person is homed now (as the logs say): the district that holds the record
    // and has not seen it move away; -1 while a move is on its way.
    auto home = [&](const std::string& p) {
      for (int d = 0; d < 3; ++d) {
        auto a = c.at(d).ledger().GetAccount(p);
        if (a.ok() && a->moved_to.empty()) return d;
      }
      return -1;
    };
    struct OpenHold {
      int log;
      EntryId id;
      std::string account;
      Minutes minutes;
      int serving;
    };
    std::vector<OpenHold> holds;
    int moves = 0, claims = 0, voids = 0;
    for (int step = 0; step < 500; ++step) {
      const std::string p = people[pick(people.size())];
      const int h = home(p);
      switch (pick(8)) {
        case 0:
        case 1: {  // a service anywhere
          const Minutes m = 1 + static_cast<Minutes>(pick(60));
          REQUIRE(c.at(static_cast<int>(pick(3))).Submit(Serve(p, m)).ok());
          expected[p] += m;
          break;
        }
        case 2: {  // a gift, at the giver's home
          const std::string q = people[pick(people.size())];
          if (h < 0 || q == p) break;
          const Minutes have = c.at(h).BalanceOf(p);
          if (have <= 0) break;
          const Minutes m = 1 + static_cast<Minutes>(pick(static_cast<std::size_t>(have)));
          REQUIRE(c.at(h).Submit(Transfer{TransferKind::kGift, p, q, m, Relation::kFriend}).ok());
          expected[p] -= m;
          expected[q] += m;
          break;
        }
        case 3: {  // a redemption at home, or hours set aside for another district
          if (h < 0) break;
          const Minutes have = c.at(h).BalanceOf(p);
          if (have <= 0) break;
          const Minutes m = 1 + static_cast<Minutes>(pick(static_cast<std::size_t>(have)));
          if (pick(2) == 0) {
            REQUIRE(c.at(h).Submit(Redeem{p, m, "meals", ""}).ok());
            expected[p] -= m;
            redeemed += m;
          } else {
            const int s = (h + 1 + static_cast<int>(pick(2))) % 3;
            const EntryBody body =
                c.at(h).Body(Hold{p, m, c.at(h).now + 86400, "meals", City3::kCodes[s]});
            REQUIRE(c.at(h).ledger().Append(c.at(h).Sign(body)).ok());
            holds.push_back({h, body.id, p, m, s});
          }
          break;
        }
        case 4: {  // a set-aside ends: claimed where it was set aside for, or voided at home
          if (holds.empty()) break;
          const std::size_t k = pick(holds.size());
          const OpenHold hd = holds[k];
          if (pick(2) == 0) {
            const Minutes m = 1 + static_cast<Minutes>(pick(static_cast<std::size_t>(hd.minutes)));
            auto r = c.at(hd.serving).Submit(Claim{City3::kCodes[hd.log], hd.id, m});
            if (r.code() == Code::kHoldNotFound) {  // not synced there yet: sync, and again
              const auto known = c.at(hd.serving).ledger().SetAsides(hd.account, 100).value();
              for (const auto& a : known) CHECK(a.hold_id != hd.id);
              c.Spread();
              REQUIRE(c.Sync(hd.serving, hd.log).ok());
              r = c.at(hd.serving).Submit(Claim{City3::kCodes[hd.log], hd.id, m});
            }
            REQUIRE_MESSAGE(r.ok(), r.status().ToString());
            expected[hd.account] -= m;  // the rest goes back at the home's sync
            redeemed += m;
            ++claims;
          } else {
            REQUIRE(c.at(hd.log).Submit(HoldVoid{hd.id}).ok());
            ++voids;
          }
          holds.erase(holds.begin() + static_cast<std::ptrdiff_t>(k));
          break;
        }
        case 5: {  // a move home
          if (h < 0) break;
          const int to = (h + 1 + static_cast<int>(pick(2))) % 3;
          REQUIRE(c.at(h).Submit(Migrate{p, City3::kCodes[to]}).ok());
          c.Spread();
          ++moves;
          break;
        }
        default: {  // a sync, in random order
          const int i = static_cast<int>(pick(3)), j = (i + 1 + static_cast<int>(pick(2))) % 3;
          c.Spread();
          auto r = c.Sync(i, j);
          REQUIRE_MESSAGE((r.ok() || r.code() == Code::kSyncNotForward), r.status().ToString());
        }
      }
    }
    // Open holds are voided at their logs; then everyone syncs everyone until quiet.
    for (const OpenHold& hd : holds) REQUIRE(c.at(hd.log).Submit(HoldVoid{hd.id}).ok());
    for (int round = 0; round < 10; ++round) {
      c.Spread();
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          if (i != j) {
            auto r = c.Sync(i, j);
            REQUIRE_MESSAGE((r.ok() || r.code() == Code::kSyncNotForward), r.status().ToString());
          }
    }
    CHECK(c.InTransit() == 0);
    Minutes issued = 0, owed = 0, spent = 0;
    for (const std::string& p : people) {
      const int h = home(p);
      REQUIRE(h >= 0);
      CHECK_MESSAGE(c.at(h).BalanceOf(p) == expected[p], p);
    }
    for (int d = 0; d < 3; ++d) {
      auto audit = c.at(d).ledger().Audit();
      CHECK_MESSAGE(audit.ok(), audit.status().ToString());
      CHECK(c.at(d).ledger().SyncOf(City3::kCodes[(d + 1) % 3]).value().unpaid_claims == 0);
      for (int j = 0; j < 3; ++j)
        if (j != d) CHECK(c.copies[d][j]->Audit().ok());
      auto f = c.at(d).ledger().Clearing(0, 100000).value();
      issued += f.issued;
      owed += f.liability;
      for (const auto& [where, m] : f.redeemed) spent += m;
    }
    // The paths the test is about were taken.
    CHECK(moves >= 10);
    CHECK(claims >= 3);
    CHECK(voids >= 3);
    MESSAGE("moves ", moves, ", claims ", claims, ", voids ", voids);
    CHECK(spent == redeemed);
    CHECK(issued == owed + spent);
  }
}
