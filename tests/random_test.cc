// Randomized test: thousands of random operations, valid and invalid, against one
// district. After every operation: balances sum to zero, no account is below zero
// (only issuance may be), a refused operation moved neither the tree nor any balance,
// and an accepted debit took exactly its amount. Every 500 operations and at the end the
// state rebuilt from the log alone must equal the stored state (Audit), and a reopened
// ledger must show the same head and balances.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "district.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

class World {
 public:
  explicit World(const std::string& dir, std::uint32_t seed)
      : d_(dir, "510104", MakePolicy()), rng_(seed) {
    for (int i = 0; i < 8; ++i)
      people_.push_back(d_.OpenPerson(1930 + Pick(0, 85), Pick(0, 3), Pick(0, 4) == 0));
    groups_.push_back(d_.OpenGroup());
    all_ = people_;
    all_.insert(all_.end(), groups_.begin(), groups_.end());
    all_.push_back(d_.Pool());
    all_.push_back(d_.Issuance());
    all_.push_back(SystemAccountId(d_.code(), SystemAccount::kHeld));
    all_.push_back(SystemAccountId(d_.code(), SystemAccount::kRedeemed));
  }

  static Policy MakePolicy() {
    Policy p = DefaultPolicy();
    p.balance_cap = 40 * 60;
    p.daily_earn_cap = 8 * 60;
    p.min_served_to_redeem = 60;
    p.pool_min_need = 2;
    p.starter_grant = 30;
    return p;
  }

  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  const std::string& AnyAccount() { return all_[Pick(0, static_cast<int>(all_.size()) - 1)]; }
  const std::string& Person() { return people_[Pick(0, static_cast<int>(people_.size()) - 1)]; }
  Minutes Amount() {
    switch (Pick(0, 9)) {
      case 0:
        return -Pick(0, 30);  // invalid
      case 1:
        return Pick(1000, 5000);  // large: caps and overdrafts
      default:
        return Pick(1, 240);
    }
  }

  std::map<std::string, Minutes> Balances() {
    std::map<std::string, Minutes> out;
    for (const auto& a : all_) out[a] = d_.BalanceOf(a);
    return out;
  }

  // One random operation; checks its immediate effects.
  void Step() {
    const auto before = Balances();
    const Checkpoint head = d_.ledger().CurrentCheckpoint();
    std::string debited;
    Minutes debit = 0;
    EntryBody body = d_.Body(Deposit{});
    const SigningKey* signer = &d_.op;
    std::string entry;
    switch (Pick(0, 13)) {
      case 0:
      case 1:
      case 2: {
        const char* cats[] = {"meals", "cleaning", "medical_escort", "companionship", "karaoke"};
        body.kind = Deposit{
            Pick(0, 5) ? Person() : AnyAccount(), "", cats[Pick(0, 4)], Amount(), d_.now, ""};
        break;
      }
      case 3: {
        debited = Person();
        debit = Amount();
        body.kind = Redeem{debited, debit, "meals", ""};
        break;
      }
      case 4: {
        debited = Person();
        debit = Amount();
        body.kind = Hold{debited, debit, d_.now + Pick(-10, 7200), "cleaning", ""};
        holds_.push_back(body.id);
        break;
      }
      case 5:
      case 6: {
        const EntryId id = holds_.empty() || Pick(0, 9) == 0
                               ? NewEntryId()
                               : holds_[Pick(0, static_cast<int>(holds_.size()) - 1)];
        const int what = Pick(0, 2);
        if (what == 0) body.kind = HoldPost{id};
        if (what == 1) body.kind = HoldVoid{id, "cancelled"};
        if (what == 2) body.kind = HoldExpire{id};
        break;
      }
      case 7: {
        debited = Pick(0, 5) ? Person() : AnyAccount();
        debit = Amount();
        body.kind = Transfer{TransferKind::kGift, debited, Person(), debit,
                             static_cast<Relation>(Pick(0, 9))};
        break;
      }
      case 8: {
        debited = Pick(0, 3) ? Person() : groups_[0];
        debit = Amount();
        body.kind = Transfer{TransferKind::kDonation, debited, "", debit};
        break;
      }
      case 9: {
        debited = d_.Pool();
        debit = Amount();
        Transfer t{TransferKind::kPoolGrant, "", Person(), debit};
        if (!requests_.empty() && Pick(0, 1))  // answer a request (maybe a closed one)
          t.request_id = requests_[Pick(0, static_cast<int>(requests_.size()) - 1)];
        body.kind = t;
        signer = &d_.root;
        if (Pick(0, 2) == 0) {  // or an elder applies to the pool
          debited.clear();
          body.kind = PoolRequest{Person(), Amount(), "random"};
          signer = &d_.op;
          requests_.push_back(body.id);
        }
        break;
      }
      case 10: {
        const EntryId id = accepted_.empty() || Pick(0, 9) == 0
                               ? NewEntryId()
                               : accepted_[Pick(0, static_cast<int>(accepted_.size()) - 1)];
        body.kind = Reverse{id, "correction"};
        signer = &d_.root;
        break;
      }
      case 11:  // a repeat of an accepted entry: must not post twice
        if (!sent_.empty()) entry = sent_[Pick(0, static_cast<int>(sent_.size()) - 1)];
        break;
      case 12:  // a forged signature
        body.kind = Deposit{Person(), "", "meals", 60, d_.now, ""};
        entry = d_.Sign(body);
        entry[entry.size() - 5] ^= 0x40;
        break;
      case 13:
        d_.now += Pick(60, 20 * 3600);  // time passes: new days, holds expire
        return;
    }
    if (entry.empty()) entry = d_.Sign(body, signer);
    auto r = d_.ledger().Append(entry);
    const auto after = Balances();
    Minutes sum = 0;
    for (const auto& [acct, bal] : after) {
      sum += bal;
      if (acct != d_.Issuance()) REQUIRE_MESSAGE(bal >= 0, acct, " went below zero");
    }
    REQUIRE(sum == 0);
    const Checkpoint now = d_.ledger().CurrentCheckpoint();
    if (!r.ok() || r->duplicate) {
      ++refused_;
      codes_.insert(r.ok() ? Code::kOk : r.code());
      REQUIRE(before == after);
      REQUIRE(now.size == head.size);
      REQUIRE(now.root == head.root);
      return;
    }
    ++accepted_count_;
    REQUIRE(now.size == head.size + 1);
    sent_.push_back(entry);
    accepted_.push_back(body.id);
    if (!debited.empty()) REQUIRE(after.at(debited) == before.at(debited) - debit);
  }

  void AuditAndReopen() {
    auto audit = d_.ledger().Audit();
    REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
    // An auditor with the entries alone reaches the same balances and root.
    std::vector<std::string> entries;
    for (std::uint64_t i = 0; i < d_.ledger().Size(); ++i)
      entries.push_back(d_.ledger().GetEntry(i).value());
    auto replay = ReplayEntries(entries);
    REQUIRE_MESSAGE(replay.ok(), replay.status().ToString());
    CHECK(replay->root == d_.ledger().CurrentCheckpoint().root);
    for (const auto& a : all_) CHECK(replay->balances.at(a) == d_.BalanceOf(a));
    // Entries out of order or missing do not replay.
    if (entries.size() > 20) {
      std::vector<std::string> broken = entries;
      std::swap(broken[0], broken[1]);  // the genesis must come first
      CHECK(ReplayEntries(broken).code() == Code::kCorruption);
      broken = entries;
      broken.erase(broken.begin() + 1);  // the operator's grant
      CHECK(ReplayEntries(broken).code() == Code::kCorruption);
    }
    const auto balances = Balances();
    const Checkpoint head = d_.ledger().CurrentCheckpoint();
    d_.Reopen();
    CHECK(Balances() == balances);
    CHECK(d_.ledger().CurrentCheckpoint().root == head.root);
  }

  int accepted_count_ = 0, refused_ = 0;
  std::set<Code> codes_;  // distinct refusals seen (kOk: a repeat)

 private:
  District d_;
  std::mt19937 rng_;
  std::vector<std::string> people_, groups_, all_;
  std::vector<EntryId> holds_, accepted_, requests_;
  std::vector<std::string> sent_;
};

}  // namespace

TEST_CASE("random operations keep every invariant") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    TempDir dir;
    World w(dir.path(), seed);
    for (int i = 1; i <= 3000; ++i) {
      w.Step();
      if (i % 500 == 0) w.AuditAndReopen();
    }
    w.AuditAndReopen();
    // Both outcomes must be exercised for the test to mean anything.
    CHECK(w.accepted_count_ > 300);
    CHECK(w.refused_ > 300);
    CHECK(w.codes_.size() >= 12);
    MESSAGE("seed ", seed, ": ", w.accepted_count_, " accepted, ", w.refused_, " refused");
  }
}
