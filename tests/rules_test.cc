// Every validation rule: its specific error, and that the log did not move.
#include <doctest/doctest.h>

#include "district.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

// Submits and expects refusal with `code`; the tree head and every balance named stay put.
void ExpectRefused(District& d, Code code, const std::string& entry,
                   std::initializer_list<std::string> accounts = {}) {
  const Checkpoint before = d.ledger().CurrentCheckpoint();
  std::vector<Minutes> balances;
  for (const auto& a : accounts) balances.push_back(d.BalanceOf(a));
  auto r = d.ledger().Append(entry);
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.code() == code, r.status().ToString());
  CHECK_FALSE(r.status().message().empty());
  const Checkpoint after = d.ledger().CurrentCheckpoint();
  CHECK(after.size == before.size);
  CHECK(after.root == before.root);
  std::size_t i = 0;
  for (const auto& a : accounts) CHECK(d.BalanceOf(a) == balances[i++]);
}

void ExpectRefused(District& d, Code code, EntryKind kind, const SigningKey* signer = nullptr,
                   std::initializer_list<std::string> accounts = {}) {
  ExpectRefused(d, code, d.Sign(d.Body(std::move(kind)), signer), accounts);
}

// A ledger with no entries yet (no genesis) and no clock check.
Result<std::unique_ptr<Ledger>> OpenEmpty(const std::string& dir,
                                          std::shared_ptr<const SigningKey> log_key) {
  Options o;
  o.log_key = std::move(log_key);
  o.max_clock_skew_seconds = 0;
  return Ledger::Open(o, dir);
}

}  // namespace

TEST_CASE("a deposit credits the rate of its service and debits issuance") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);
  REQUIRE(d.Submit(Serve(v, 120, "meals")).ok());
  REQUIRE(d.Submit(Serve(v, 60, "medical_escort")).ok());  // 1.5x
  CHECK(d.BalanceOf(v) == 120 + 90);
  CHECK(d.BalanceOf(d.Issuance()) == -210);
  auto info = d.ledger().GetAccount(v);
  REQUIRE(info.ok());
  CHECK(info->served == 180);
  auto audit = d.ledger().Audit();
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK(audit->issued == 210);
}

TEST_CASE("entry format and signature rules") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);

  SUBCASE("malformed bytes") {
    ExpectRefused(d, Code::kMalformedEntry, std::string("\x0a\x05hello", 7));
  }
  SUBCASE("empty bytes") {
    ExpectRefused(d, Code::kMalformedEntry, std::string());
  }
  SUBCASE("no signature") {
    ExpectRefused(d, Code::kMissingSignature, SignEntry(EncodeBody(d.Body(Serve(v, 60))), {}));
  }
  SUBCASE("tampered body") {
    std::string body = EncodeBody(d.Body(Serve(v, 60)));
    std::string entry = SignEntry(body, {&d.op});
    const auto pos = entry.find("meals");
    REQUIRE(pos != std::string::npos);
    entry[pos] = 'n';  // "neals": the signature no longer covers these bytes
    ExpectRefused(d, Code::kBadSignature, entry, {v});
  }
  SUBCASE("another district's log") {
    EntryBody b = d.Body(Serve(v, 60));
    b.district = "510105";
    ExpectRefused(d, Code::kWrongDistrict, d.Sign(b), {v});
  }
  SUBCASE("unknown key") {
    SigningKey stranger = KeyFromByte(77);
    ExpectRefused(d, Code::kUnknownKey, Serve(v, 60), &stranger, {v});
  }
  SUBCASE("operator lacks the role") {
    ExpectRefused(d, Code::kUnauthorized, Policy{.version = 2}, &d.op);
  }
  SUBCASE("revoked key") {
    SigningKey recorder = KeyFromByte(9);
    REQUIRE(d.Submit(Grant{recorder.public_key(), {Role::kRecorder}, "r"}, &d.root).ok());
    REQUIRE(d.Submit(Serve(v, 60), &recorder).ok());
    REQUIRE(d.Submit(Revoke{recorder.public_key(), "left"}, &d.root).ok());
    ExpectRefused(d, Code::kUnknownKey, Serve(v, 60), &recorder, {v});
  }
  SUBCASE("root cannot be revoked") {
    ExpectRefused(d, Code::kCannotRevokeRoot, Revoke{d.root.public_key(), "x"}, &d.root);
  }
  SUBCASE("same id, different bytes") {
    EntryBody b = d.Body(Serve(v, 60));
    REQUIRE(d.ledger().Append(d.Sign(b)).ok());
    b.kind = Serve(v, 61);
    ExpectRefused(d, Code::kIdConflict, d.Sign(b), {v});
  }
  SUBCASE("clock skew") {
    EntryBody b = d.Body(Serve(v, 60));
    b.time = d.now + 3600;
    ExpectRefused(d, Code::kClockSkew, d.Sign(b), {v});
  }
  SUBCASE("second genesis") {
    Genesis g{"x", "510100", d.root.public_key(), d.log_key->public_key(), "o", DefaultPolicy()};
    ExpectRefused(d, Code::kGenesisExists, g, &d.root);
  }
}

TEST_CASE("a repeated entry returns its first result and posts nothing twice") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);
  const std::string entry = d.Sign(d.Body(Serve(v, 60)));
  auto first = d.ledger().Append(entry);
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate);
  d.now += 86400;  // even after the clock moved past the skew window
  auto again = d.ledger().Append(entry);
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->index == first->index);
  CHECK(d.BalanceOf(v) == 60);
  // Twice in one batch: one posting.
  const std::string e2 = d.Sign(d.Body(Serve(v, 30)));
  std::vector<std::string> batch{e2, e2};
  auto rs = d.ledger().Append(batch);
  REQUIRE(rs[0].ok());
  REQUIRE(rs[1].ok());
  CHECK(rs[1]->duplicate);
  CHECK(rs[1]->index == rs[0]->index);
  CHECK(d.BalanceOf(v) == 90);
}

TEST_CASE("an empty log takes only a genesis") {
  TempDir dir;
  auto key = std::make_shared<SigningKey>(KeyFromByte(2));
  auto l = OpenEmpty(dir.path(), key);
  REQUIRE(l.ok());
  SigningKey root = KeyFromByte(1);
  EntryBody b{NewEntryId(), "510104", kNoon, "",
              Grant{KeyFromByte(5).public_key(), {Role::kAdmin}, ""}};
  auto r = (*l)->Append(MakeEntry(b, {&root}));
  CHECK(r.code() == Code::kNoGenesis);
  // A genesis naming another log key is refused too.
  b.kind =
      Genesis{"x", "510100", root.public_key(), KeyFromByte(6).public_key(), "o", DefaultPolicy()};
  CHECK((*l)->Append(MakeEntry(b, {&root})).code() == Code::kInvalidArgument);
  CHECK((*l)->Size() == 0);
}

TEST_CASE("account rules") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);

  SUBCASE("bad check digit") {
    std::string bad = v;
    bad[14] = bad[14] == '9' ? '0' : bad[14] + 1;
    ExpectRefused(d, Code::kBadAccountNumber, Serve(bad, 60));
  }
  SUBCASE("unknown account") {
    ExpectRefused(d, Code::kUnknownAccount, Serve(d.NextAccountNumber(), 60));
  }
  SUBCASE("debit of another district's account") {
    // Credits may be written anywhere (federation_test.cc); debits only at home.
    ExpectRefused(d, Code::kNotHomeDistrict,
                  Redeem{MakeAccountNumber("510105", 1).value(), 60, "meals", ""});
  }
  SUBCASE("account exists") {
    Open o{v, AccountKind::kPerson, 1990, "", "", "", RealNameCommitment({"a", "b", "c"}, "s")};
    ExpectRefused(d, Code::kAccountExists, o);
  }
  SUBCASE("open needs a commitment") {
    Open o{d.NextAccountNumber(), AccountKind::kPerson, 1990};
    ExpectRefused(d, Code::kMalformedEntry, o);
  }
  SUBCASE("zero or negative minutes") {
    ExpectRefused(d, Code::kInvalidAmount, Serve(v, 0), nullptr, {v});
    ExpectRefused(d, Code::kInvalidAmount, Serve(v, -60), nullptr, {v});
  }
  SUBCASE("unknown service") {
    ExpectRefused(d, Code::kUnknownService, Serve(v, 60, "karaoke"), nullptr, {v});
  }
  SUBCASE("serving oneself") {
    Deposit dep = Serve(v, 60);
    dep.beneficiary = v;
    ExpectRefused(d, Code::kSameAccount, dep, nullptr, {v});
  }
  SUBCASE("system accounts cannot earn") {
    ExpectRefused(d, Code::kAccountKindRestricted, Serve(d.Pool(), 60));
  }
}

TEST_CASE("policy rules") {
  TempDir dir;
  Policy p = DefaultPolicy();
  p.daily_earn_cap = 120;  // Changning: 2 coins a day
  p.min_served_to_redeem = 600;
  p.min_age_redeem_hardship = 55;
  p.pool_min_need = 2;
  p.owner_signs_debits = true;
  p.gift_scope = GiftScope::kDirectRelatives;
  District d(dir.path(), "510104", p);
  const auto young = d.OpenPerson(2012);     // 14
  const auto adult = d.OpenPerson(1990);     // 36
  const auto elder = d.OpenPerson(1950, 1);  // 76, need 1
  const auto needy = d.OpenPerson(1944, 3);  // 82, need 3

  SUBCASE("minimum age to serve") {
    ExpectRefused(d, Code::kTooYoungToServe, Serve(young, 60), nullptr, {young});
  }
  SUBCASE("daily earning cap") {
    REQUIRE(d.Submit(Serve(adult, 90)).ok());
    ExpectRefused(d, Code::kDailyCapExceeded, Serve(adult, 31), nullptr, {adult});
    REQUIRE(d.Submit(Serve(adult, 30)).ok());
    d.now += 86400;  // a new local day
    CHECK(d.Submit(Serve(adult, 60)).ok());
  }
  SUBCASE("minimum age to redeem") {
    REQUIRE(d.Submit(Serve(adult, 120)).ok());
    ExpectRefused(d, Code::kTooYoungToRedeem, Redeem{adult, 60, "meals", ""}, nullptr, {adult});
  }
  SUBCASE("hours served before redeeming") {
    d.now += 0;
    REQUIRE(d.Submit(Serve(elder, 60)).ok());
    ExpectRefused(d, Code::kBelowRedeemThreshold, Redeem{elder, 30, "meals", ""}, nullptr, {elder});
  }
  SUBCASE("gifts only to direct relatives") {
    REQUIRE(d.Submit(Serve(adult, 120)).ok());
    ExpectRefused(d, Code::kGiftNotAllowed,
                  Transfer{TransferKind::kGift, adult, elder, 60, Relation::kFriend}, nullptr,
                  {adult, elder});
    CHECK(d.Submit(Transfer{TransferKind::kGift, adult, elder, 60, Relation::kParent}).ok());
    CHECK(d.BalanceOf(elder) == 60);
  }
  SUBCASE("pool grants only to elders in need") {
    REQUIRE(d.Submit(Serve(adult, 120)).ok());
    REQUIRE(d.Submit(Transfer{TransferKind::kDonation, adult, "", 120}).ok());
    ExpectRefused(d, Code::kPoolNotEligible, Transfer{TransferKind::kPoolGrant, "", elder, 60},
                  &d.root, {elder, d.Pool()});
    CHECK(d.Submit(Transfer{TransferKind::kPoolGrant, "", needy, 60}, &d.root).ok());
    CHECK(d.BalanceOf(needy) == 60);
    ExpectRefused(d, Code::kInsufficientBalance, Transfer{TransferKind::kPoolGrant, "", needy, 61},
                  &d.root, {needy, d.Pool()});
  }
  SUBCASE("owner's signature on debits of an owned account") {
    SigningKey owner = KeyFromByte(40);
    const auto owned = d.OpenPerson(1990, 0, false, &owner);
    REQUIRE(d.Submit(Serve(owned, 120)).ok());
    ExpectRefused(d, Code::kOwnerSignatureRequired,
                  Transfer{TransferKind::kDonation, owned, "", 60}, nullptr, {owned});
    CHECK(d.Submit(Transfer{TransferKind::kDonation, owned, "", 60}, &d.op, &owner).ok());
  }
  SUBCASE("policy versions go one by one, by admins") {
    Policy next = p;
    next.version = 3;
    ExpectRefused(d, Code::kPolicyVersion, next, &d.root);
    next.version = 2;
    next.services.push_back({"meals", 1000});
    ExpectRefused(d, Code::kMalformedEntry, next, &d.root);
    next.services.pop_back();
    next.daily_earn_cap = 0;
    REQUIRE(d.Submit(next, &d.root).ok());
    auto now = d.ledger().CurrentPolicy();
    REQUIRE(now.ok());
    CHECK(now->version == 2);
    CHECK(d.Submit(Serve(adult, 300)).ok());  // the cap is gone from this position on
  }
}

TEST_CASE("balance cap: overflow goes to the pool; group hours may only be donated") {
  TempDir dir;
  Policy p = DefaultPolicy();
  p.balance_cap = 180;
  District d(dir.path(), "510104", p);
  const auto v = d.OpenPerson(1990);
  const auto needy = d.OpenPerson(1940, 3);
  REQUIRE(d.Submit(Serve(v, 150)).ok());
  REQUIRE(d.Submit(Serve(v, 60)).ok());
  CHECK(d.BalanceOf(v) == 180);
  CHECK(d.BalanceOf(d.Pool()) == 30);
  REQUIRE(d.Submit(Serve(needy, 170)).ok());
  ExpectRefused(d, Code::kBalanceCapReached, Transfer{TransferKind::kPoolGrant, "", needy, 30},
                &d.root, {needy});

  const auto group = d.OpenGroup();
  REQUIRE(d.Submit(Serve(group, 120)).ok());
  ExpectRefused(d, Code::kAccountKindRestricted,
                Transfer{TransferKind::kGift, group, v, 60, Relation::kFriend}, nullptr, {group});
  ExpectRefused(d, Code::kAccountKindRestricted, Redeem{group, 60, "meals", ""}, nullptr, {group});
  CHECK(d.Submit(Transfer{TransferKind::kDonation, group, "", 120}).ok());
  ExpectRefused(d, Code::kSameAccount, Transfer{TransferKind::kGift, v, v, 10, Relation::kFriend},
                nullptr, {v});
  auto audit = d.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
}

TEST_CASE("redemption: immediate, overdraft, two-phase hold/post/void/expire") {
  TempDir dir;
  District d(dir.path());
  const auto elder = d.OpenPerson(1950);
  REQUIRE(d.Submit(Serve(elder, 180)).ok());

  SUBCASE("immediate and overdraft") {
    REQUIRE(d.Submit(Redeem{elder, 60, "meals", ""}).ok());
    CHECK(d.BalanceOf(elder) == 120);
    ExpectRefused(d, Code::kInsufficientBalance, Redeem{elder, 121, "meals", ""}, nullptr, {elder});
  }
  SUBCASE("hold then post, at most once") {
    EntryBody hold = d.Body(Hold{elder, 120, d.now + 3600, "cleaning", ""});
    REQUIRE(d.ledger().Append(d.Sign(hold)).ok());
    CHECK(d.BalanceOf(elder) == 60);  // held hours are not spendable
    ExpectRefused(d, Code::kInsufficientBalance, Redeem{elder, 61, "meals", ""}, nullptr, {elder});
    REQUIRE(d.Submit(HoldPost{hold.id}).ok());
    ExpectRefused(d, Code::kHoldClosed, HoldPost{hold.id});
    ExpectRefused(d, Code::kHoldClosed, HoldVoid{hold.id, "x"});
    CHECK(d.BalanceOf(elder) == 60);
    CHECK(d.BalanceOf(SystemAccountId(d.code(), SystemAccount::kRedeemed)) == 120);
  }
  SUBCASE("void returns the hours") {
    EntryBody hold = d.Body(Hold{elder, 120, d.now + 3600, "cleaning", ""});
    REQUIRE(d.ledger().Append(d.Sign(hold)).ok());
    REQUIRE(d.Submit(HoldVoid{hold.id, "cancelled"}).ok());
    CHECK(d.BalanceOf(elder) == 180);
    ExpectRefused(d, Code::kHoldClosed, HoldExpire{hold.id});
  }
  SUBCASE("expiry: not before its time; posting after it is refused") {
    EntryBody hold = d.Body(Hold{elder, 120, d.now + 3600, "cleaning", ""});
    REQUIRE(d.ledger().Append(d.Sign(hold)).ok());
    ExpectRefused(d, Code::kHoldNotExpired, HoldExpire{hold.id}, nullptr, {elder});
    d.now += 3601;
    ExpectRefused(d, Code::kHoldExpired, HoldPost{hold.id}, nullptr, {elder});
    REQUIRE(d.Submit(HoldExpire{hold.id}, d.log_key.get()).ok());  // the node itself may expire
    CHECK(d.BalanceOf(elder) == 180);
  }
  SUBCASE("unknown hold and bad timeouts") {
    ExpectRefused(d, Code::kHoldNotFound, HoldPost{NewEntryId()});
    ExpectRefused(d, Code::kInvalidArgument, Hold{elder, 60, d.now - 1, "", ""}, nullptr, {elder});
    ExpectRefused(d, Code::kInvalidArgument, Hold{elder, 60, d.now + 30 * 86400, "", ""}, nullptr,
                  {elder});
  }
  auto audit = d.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
}

TEST_CASE("reversal: references the original, at most once, never overdraws") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);
  const auto elder = d.OpenPerson(1950);
  EntryBody dep = d.Body(Serve(v, 120));
  REQUIRE(d.ledger().Append(d.Sign(dep)).ok());
  ExpectRefused(d, Code::kUnauthorized, Reverse{dep.id, "typo"}, &d.op, {v});
  ExpectRefused(d, Code::kMalformedEntry, Reverse{dep.id, ""}, &d.root, {v});
  ExpectRefused(d, Code::kNotFound, Reverse{NewEntryId(), "typo"}, &d.root, {v});
  EntryBody open = d.Body(Open{d.NextAccountNumber(), AccountKind::kGroup});
  REQUIRE(d.ledger().Append(d.Sign(open)).ok());
  ExpectRefused(d, Code::kNotReversible, Reverse{open.id, "x"}, &d.root);
  REQUIRE(d.Submit(Transfer{TransferKind::kGift, v, elder, 100, Relation::kParent}).ok());
  ExpectRefused(d, Code::kInsufficientBalance, Reverse{dep.id, "recorded twice"}, &d.root,
                {v, elder});
  REQUIRE(d.Submit(Transfer{TransferKind::kGift, elder, v, 100, Relation::kChild}).ok());
  REQUIRE(d.Submit(Reverse{dep.id, "recorded twice"}, &d.root).ok());
  CHECK(d.BalanceOf(v) == 0);
  CHECK(d.ledger().GetAccount(v)->served == 0);
  ExpectRefused(d, Code::kAlreadyReversed, Reverse{dep.id, "again"}, &d.root, {v});
  auto audit = d.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
}

TEST_CASE("history: an account's entries newest first, in pages") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);
  const auto mother = d.OpenPerson(1950);
  std::vector<std::uint64_t> indexes;
  for (int i = 1; i <= 7; ++i) {
    auto r = d.Submit(Serve(v, 10 * i));
    REQUIRE(r.ok());
    indexes.push_back(r->index);
    REQUIRE(d.Submit(Serve(mother, 5)).ok());  // interleaved entries of another account
  }
  auto gift = d.Submit(Transfer{TransferKind::kGift, v, mother, 25, Relation::kParent});
  REQUIRE(gift.ok());
  indexes.push_back(gift->index);

  std::vector<HistoryItem> all;
  std::optional<std::uint64_t> from;
  int pages = 0;
  do {
    auto page = d.ledger().History(v, from, 3);
    REQUIRE_MESSAGE(page.ok(), page.status().ToString());
    CHECK(page->items.size() <= 3);
    all.insert(all.end(), page->items.begin(), page->items.end());
    from = page->next;
    ++pages;
  } while (from);
  CHECK(pages == 3);
  REQUIRE(all.size() == 8);
  CHECK(all[0].index == gift->index);
  CHECK(all[0].delta == -25);
  Minutes sum = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].index == indexes[indexes.size() - 1 - i]);
    sum += all[i].delta;
  }
  CHECK(sum == d.BalanceOf(v));
  CHECK(d.ledger().History(v, indexes[0] - 1, 3).code() ==
        Code::kInvalidArgument);  // mother's entry
  CHECK(d.ledger().History(v, std::nullopt, 0).code() == Code::kInvalidArgument);
  CHECK(d.ledger().History(d.NextAccountNumber(), std::nullopt, 3).code() == Code::kUnknownAccount);
}

TEST_CASE("more rules: largest service, hardship exemptions, starter grant, federation kinds") {
  TempDir dir;
  Policy p = DefaultPolicy();
  p.max_entry_minutes = 8 * 60;
  p.min_age_redeem = 65;  // Shanghai: 65+, or 60+ in hardship
  p.min_age_redeem_hardship = 60;
  p.min_served_to_redeem = 100 * 60;  // Guangzhou: 100 h served first
  p.starter_grant = 5 * 60;           // Hangzhou Xihu: 5 coins on registration
  District d(dir.path(), "510104", p);
  const auto v = d.OpenPerson(1990);
  CHECK(d.BalanceOf(v) == 300);  // the starter grant
  CHECK(d.BalanceOf(d.Issuance()) == -300);

  ExpectRefused(d, Code::kInvalidAmount, Serve(v, 8 * 60 + 1), nullptr, {v});
  CHECK(d.Submit(Serve(v, 8 * 60)).ok());

  const auto hardship62 = d.OpenPerson(1964, 0, /*hardship=*/true);
  const auto plain62 = d.OpenPerson(1964);
  // The plain 62-year-old is below 65; the one in hardship may redeem, and is exempt
  // from the hours-served threshold.
  ExpectRefused(d, Code::kTooYoungToRedeem, Redeem{plain62, 60, "meals", ""}, nullptr, {plain62});
  CHECK(d.Submit(Redeem{hardship62, 60, "meals", ""}).ok());
  CHECK(d.BalanceOf(hardship62) == 240);

  ExpectRefused(d, Code::kUnknownPeer, Sync{"510105", 10, Hash{}}, &d.root);
  ExpectRefused(d, Code::kUnknownPeer, Migrate{v, "510105"}, &d.root, {v});
  ExpectRefused(d, Code::kBadAccountNumber, Open{d.Pool()}, nullptr);
  Open wrong_district{MakeAccountNumber("510105", 7).value(), AccountKind::kPerson, 1990};
  wrong_district.commitment = RealNameCommitment({"a", "b", "c"}, "s");
  ExpectRefused(d, Code::kNotHomeDistrict, wrong_district);
  ExpectRefused(d, Code::kInvalidArgument, Grant{d.root.public_key(), {Role::kAdmin}, "x"},
                &d.root);
  ExpectRefused(d, Code::kMalformedEntry, Grant{KeyFromByte(50).public_key(), {}, "no roles"},
                &d.root);
}

TEST_CASE("the real-name record stays private and must match the commitment") {
  TempDir dir;
  District d(dir.path());
  Open o{d.NextAccountNumber(), AccountKind::kPerson, 1950};
  const RealNameRecord record{"张秀英", "510104195001011234", "13800000000"};
  o.commitment = RealNameCommitment(record, "salt-1");
  REQUIRE(d.Submit(o).ok());
  CHECK(d.ledger().GetRealName(o.account).code() == Code::kNotFound);
  CHECK(d.ledger().PutRealName(o.account, record, "salt-2").code() == Code::kInvalidArgument);
  CHECK(d.ledger()
            .PutRealName(o.account, {"张秀英", "510104195001011235", "13800000000"}, "salt-1")
            .code() == Code::kInvalidArgument);
  REQUIRE(d.ledger().PutRealName(o.account, record, "salt-1").ok());
  auto back = d.ledger().GetRealName(o.account);
  REQUIRE(back.ok());
  CHECK(back->name == record.name);
  CHECK(back->id_number == record.id_number);
  // Nothing of it is in the log.
  for (std::uint64_t i = 0; i < d.ledger().Size(); ++i) {
    auto e = d.ledger().GetEntry(i);
    REQUIRE(e.ok());
    CHECK(e->find(record.id_number) == std::string::npos);
    CHECK(e->find(record.name) == std::string::npos);
    CHECK(e->find(record.phone) == std::string::npos);
  }
  d.Reopen();
  CHECK(d.ledger().GetRealName(o.account)->phone == record.phone);
  // Erasure (PIPL): gone, and stays gone across a reopen; the log is untouched.
  const Checkpoint head = d.ledger().CurrentCheckpoint();
  REQUIRE(d.ledger().DeleteRealName(o.account).ok());
  CHECK(d.ledger().GetRealName(o.account).code() == Code::kNotFound);
  CHECK(d.ledger().DeleteRealName(o.account).code() == Code::kNotFound);
  d.Reopen();
  CHECK(d.ledger().GetRealName(o.account).code() == Code::kNotFound);
  CHECK(d.ledger().CurrentCheckpoint().root == head.root);
}

TEST_CASE("reopening costs no replay and keeps the head; a second process is locked out") {
  TempDir dir;
  Checkpoint head;
  {
    District d(dir.path());
    const auto v = d.OpenPerson(1990);
    for (int i = 0; i < 300; ++i) REQUIRE(d.Submit(Serve(v, 1)).ok());
    head = d.ledger().CurrentCheckpoint();
    Options o;
    o.log_key = d.log_key;
    auto second = Ledger::Open(o, dir.path());  // the same data directory, still open
    CHECK(second.code() == Code::kIoError);
  }
  District d(dir.path());
  CHECK(d.ledger().CurrentCheckpoint().size == head.size);
  CHECK(d.ledger().CurrentCheckpoint().root == head.root);
  auto root = d.ledger().RootAt(head.size);
  REQUIRE(root.ok());
  CHECK(*root == head.root);
  // A wrong log key is refused at open.
  Options wrong;
  wrong.log_key = std::make_shared<SigningKey>(KeyFromByte(99));
  d.Close();
  CHECK(Ledger::Open(wrong, dir.path()).code() == Code::kInvalidArgument);
}

TEST_CASE("field rules: when, whom, which service, where, how large") {
  TempDir dir;
  Policy p = DefaultPolicy();
  p.daily_earn_cap = 120;
  p.balance_cap = 100;
  District d(dir.path(), "510104", p);
  const auto v = d.OpenPerson(1990);
  const auto elder = d.OpenPerson(1950);
  REQUIRE(d.Submit(Serve(elder, 100)).ok());

  Deposit future = Serve(v, 30);
  future.served_at = d.now + 60;
  ExpectRefused(d, Code::kInvalidArgument, future, nullptr, {v});
  Deposit ancient = Serve(v, 30);
  ancient.served_at = d.now - 400 * 86400;
  ExpectRefused(d, Code::kInvalidArgument, ancient, nullptr, {v});
  Deposit stranger = Serve(v, 30);
  stranger.beneficiary = d.NextAccountNumber();  // of this district, never registered
  ExpectRefused(d, Code::kUnknownAccount, stranger, nullptr, {v});
  Deposit to_pool = Serve(v, 30);
  to_pool.beneficiary = d.Pool();
  ExpectRefused(d, Code::kAccountKindRestricted, to_pool, nullptr, {v});

  ExpectRefused(d, Code::kUnknownService, Redeem{elder, 10, "karaoke", ""}, nullptr, {elder});
  ExpectRefused(d, Code::kMalformedEntry, Redeem{elder, 10, "meals", "51010"}, nullptr, {elder});
  ExpectRefused(d, Code::kUnknownService, Hold{elder, 10, d.now + 60, "karaoke", ""}, nullptr,
                {elder});

  SigningKey gone = KeyFromByte(60);
  REQUIRE(d.Submit(Grant{gone.public_key(), {Role::kRecorder}, "x"}, &d.root).ok());
  REQUIRE(d.Submit(Revoke{gone.public_key(), "lost"}, &d.root).ok());
  ExpectRefused(d, Code::kInvalidArgument, Grant{gone.public_key(), {Role::kRecorder}, "again"},
                &d.root);

  Deposit big = Serve(v, 30);
  big.beneficiary_ack = std::string(kMaxEntryBytes, 'x');
  ExpectRefused(d, Code::kMalformedEntry, d.Sign(d.Body(big)), {v});

  // The daily cap holds when entry times step back across midnight (within the skew).
  const std::int64_t midnight = (d.now / 86400 + 1) * 86400 - 8 * 3600;  // 00:00 China time
  d.now = midnight + 60;
  REQUIRE(d.Submit(Serve(v, 90)).ok());
  d.now = midnight - 60;
  ExpectRefused(d, Code::kDailyCapExceeded, Serve(v, 60), nullptr, {v});

  // A deposit credited wholly to the pool (the account is at its cap) still shows in the
  // volunteer's history.
  d.now = midnight + 86400;
  REQUIRE(d.Submit(Serve(v, 10)).ok());
  CHECK(d.BalanceOf(v) == 100);
  EntryBody capped = d.Body(Serve(v, 20));
  auto last = d.ledger().Append(d.Sign(capped));
  REQUIRE(last.ok());
  CHECK(d.BalanceOf(v) == 100);
  auto page = d.ledger().History(v, std::nullopt, 1);
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].index == last->index);
  CHECK(page->items[0].delta == 0);
  // Its reversal shows in the history too.
  auto reversal = d.Submit(Reverse{capped.id, "recorded by mistake"}, &d.root);
  REQUIRE(reversal.ok());
  page = d.ledger().History(v, std::nullopt, 2);
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[0].index == reversal->index);
  CHECK(page->items[0].delta == 0);
  CHECK(page->items[1].index == last->index);
}

TEST_CASE("a genesis origin must be usable as a signed-note key name") {
  TempDir dir;
  auto key = std::make_shared<SigningKey>(KeyFromByte(2));
  auto l = OpenEmpty(dir.path(), key);
  REQUIRE(l.ok());
  SigningKey root = KeyFromByte(1);
  for (std::string origin : {"", "timebank chengdu", "a+b", "锦江区", "tab\there"}) {
    Genesis g{"x", "510100", root.public_key(), key->public_key(), origin, DefaultPolicy()};
    EntryBody b{NewEntryId(), "510104", kNoon, "", g};
    CHECK_MESSAGE((*l)->Append(MakeEntry(b, {&root})).code() == Code::kMalformedEntry, origin);
  }
  CHECK((*l)->Size() == 0);
}

TEST_CASE("pool requests: a queue per need level, answered neediest first, oldest first") {
  TempDir dir;
  Policy p = DefaultPolicy();
  p.pool_min_need = 1;
  p.pool_in_order = true;
  District d(dir.path(), "510104", p);
  const auto donor = d.OpenPerson(1990);
  REQUIRE(d.Submit(Serve(donor, 480)).ok());
  REQUIRE(d.Submit(Transfer{TransferKind::kDonation, donor, "", 480}).ok());
  const auto well = d.OpenPerson(1945, 0);
  const auto low = d.OpenPerson(1944, 1);
  const auto high_old = d.OpenPerson(1938, 3);
  const auto high_new = d.OpenPerson(1939, 3);

  ExpectRefused(d, Code::kPoolNotEligible, PoolRequest{well, 60, ""}, nullptr, {well});
  auto request = [&](const std::string& who, Minutes m) {
    EntryBody b = d.Body(PoolRequest{who, m, "lives alone"});
    REQUIRE(d.ledger().Append(d.Sign(b)).ok());
    return b.id;
  };
  const EntryId r_low = request(low, 60);
  const EntryId r_old = request(high_old, 120);
  const EntryId r_new = request(high_new, 60);
  auto grant = [&](const std::string& to, Minutes m, const EntryId& id) {
    Transfer t{TransferKind::kPoolGrant, "", to, m};
    t.request_id = id;
    return t;
  };
  // Under pool_in_order a grant answers a request, and the first in line.
  ExpectRefused(d, Code::kMalformedEntry, Transfer{TransferKind::kPoolGrant, "", low, 60}, &d.root,
                {low, d.Pool()});
  ExpectRefused(d, Code::kPoolOrder, grant(low, 60, r_low), &d.root, {low, d.Pool()});
  ExpectRefused(d, Code::kPoolOrder, grant(high_new, 60, r_new), &d.root, {high_new, d.Pool()});
  ExpectRefused(d, Code::kInvalidArgument, grant(high_new, 60, r_old), &d.root, {high_new});
  ExpectRefused(d, Code::kInvalidAmount, grant(high_old, 121, r_old), &d.root, {high_old});
  ExpectRefused(d, Code::kNotFound, grant(high_old, 60, NewEntryId()), &d.root, {high_old});
  REQUIRE(d.Submit(grant(high_old, 120, r_old), &d.root).ok());
  CHECK(d.BalanceOf(high_old) == 120);
  ExpectRefused(d, Code::kAlreadyReversed, grant(high_old, 60, r_old), &d.root, {high_old});
  // A request can be cancelled (reversed), from anywhere in its queue.
  const EntryId r_new2 = request(high_new, 30);
  REQUIRE(d.Submit(Reverse{r_new, "moved to another district"}, &d.root).ok());
  ExpectRefused(d, Code::kAlreadyReversed, Reverse{r_new, "again"}, &d.root);
  ExpectRefused(d, Code::kPoolOrder, grant(low, 60, r_low), &d.root, {low});
  REQUIRE(d.Submit(grant(high_new, 30, r_new2), &d.root).ok());
  REQUIRE(d.Submit(grant(low, 60, r_low), &d.root).ok());  // level 1 is first now
  CHECK(d.BalanceOf(d.Pool()) == 480 - 120 - 30 - 60);
  auto audit = d.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
  d.Reopen();
  auto again = d.ledger().Audit();
  CHECK_MESSAGE(again.ok(), again.status().ToString());
}

TEST_CASE("without pool_in_order, grants may answer a request or none") {
  TempDir dir;
  Policy p = DefaultPolicy();
  District d(dir.path(), "510104", p);
  const auto donor = d.OpenPerson(1990);
  REQUIRE(d.Submit(Serve(donor, 240)).ok());
  REQUIRE(d.Submit(Transfer{TransferKind::kDonation, donor, "", 240}).ok());
  const auto a = d.OpenPerson(1940, 2);
  const auto b = d.OpenPerson(1941, 3);
  EntryBody ra = d.Body(PoolRequest{a, 60, ""});
  REQUIRE(d.ledger().Append(d.Sign(ra)).ok());
  EntryBody rb = d.Body(PoolRequest{b, 60, ""});
  REQUIRE(d.ledger().Append(d.Sign(rb)).ok());
  Transfer t{TransferKind::kPoolGrant, "", a, 60};
  t.request_id = ra.id;  // out of order is fine here
  REQUIRE(d.Submit(t, &d.root).ok());
  REQUIRE(d.Submit(Transfer{TransferKind::kPoolGrant, "", b, 30}, &d.root).ok());
  CHECK(d.BalanceOf(a) == 60);
  CHECK(d.BalanceOf(b) == 30);
  CHECK(d.ledger().Audit().ok());
}

TEST_CASE("relation names read back as the same relation; other words are none") {
  for (int r = 1; r <= 9; ++r) {
    const auto relation = static_cast<Relation>(r);
    CAPTURE(r);
    CHECK(ParseRelation(RelationName(relation)) == relation);
  }
  CHECK(RelationName(Relation::kOtherRelative) == "relative");
  CHECK(RelationName(Relation::kUnspecified) == "unspecified");
  CHECK_FALSE(ParseRelation("unspecified").has_value());
  CHECK_FALSE(ParseRelation("cousin").has_value());
  CHECK_FALSE(ParseRelation("").has_value());
}
