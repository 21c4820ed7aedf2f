// The city's district list in a log's policy (docs/federation.md §10): checked when it is
// written, and then every district an entry names must be in it, and a sync's copy must be
// verified with the key it lists — rules a replica and an auditor apply from the log alone.
#include <doctest/doctest.h>

#include "city.h"
#include "district.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

// H's next policy: the defaults, with `city` as its city list.
Policy NextPolicy(District& d, std::vector<CityMember> city) {
  Policy p = d.ledger().CurrentPolicy().value();
  p.version += 1;
  p.city = std::move(city);
  return p;
}

CityMember Member(Ledger& l, const std::string& code, const std::string& name) {
  return {code, name, l.VerifierKey().value()};
}

// Submits `kind` at `d`, expects it refused with `code` and the log not to have moved.
void Refused(District& d, EntryKind kind, Code code, const SigningKey* signer = nullptr) {
  const std::uint64_t size = d.ledger().Size();
  const Hash root = d.ledger().CurrentCheckpoint().root;
  auto r = d.Submit(std::move(kind), signer);
  CHECK_MESSAGE(r.code() == code, r.status().ToString());
  CHECK(d.ledger().Size() == size);
  CHECK(d.ledger().CurrentCheckpoint().root == root);
}

}  // namespace

TEST_CASE("a policy's city list is checked before it is written") {
  City c;
  const CityMember h = Member(c.h.ledger(), "510104", "锦江区时间银行");
  const CityMember x = Member(c.x.ledger(), "510105", "青羊区时间银行");

  SUBCASE("a code that is not 6 digits") {
    Refused(c.h, NextPolicy(c.h, {h, {"51010", "x", x.verifier_key}}), Code::kMalformedEntry,
            &c.h.root);
  }
  SUBCASE("a district listed twice") {
    Refused(c.h, NextPolicy(c.h, {h, x, x}), Code::kMalformedEntry, &c.h.root);
  }
  SUBCASE("a district without a name") {
    Refused(c.h, NextPolicy(c.h, {{"510105", "", x.verifier_key}}), Code::kMalformedEntry,
            &c.h.root);
  }
  SUBCASE("a verifier key that does not parse") {
    Refused(c.h, NextPolicy(c.h, {{"510105", "青羊区", "not-a-key"}}), Code::kMalformedEntry,
            &c.h.root);
  }
  SUBCASE("a key not in its one spelling (the hash in upper-case hex)") {
    std::string upper = x.verifier_key;
    const auto plus = upper.find('+');
    for (std::size_t i = plus + 1; i < plus + 9; ++i)
      upper[i] = static_cast<char>(std::toupper(upper[i]));
    REQUIRE(upper != x.verifier_key);
    REQUIRE(SameVerifierKey(upper, x.verifier_key));  // the same key, written otherwise
    Refused(c.h, NextPolicy(c.h, {h, {"510105", "青羊区", upper}}), Code::kMalformedEntry,
            &c.h.root);
  }
  SUBCASE("this district under a key its checkpoints are not signed with") {
    Refused(c.h, NextPolicy(c.h, {{"510104", "锦江区", x.verifier_key}, x}), Code::kMalformedEntry,
            &c.h.root);
  }
  SUBCASE("only the district office writes it") {
    Refused(c.h, NextPolicy(c.h, {h, x}), Code::kUnauthorized, &c.h.op);
  }
  SUBCASE("a good list is in force from the next entry, and a replica reads it from the log") {
    REQUIRE(c.h.Submit(NextPolicy(c.h, {h, x}), &c.h.root).ok());
    CHECK(c.h.ledger().CurrentPolicy()->city == std::vector<CityMember>{h, x});
    Follow(c.h.ledger(), *c.h_at_x);
    CHECK(c.h_at_x->CurrentPolicy()->city == std::vector<CityMember>{h, x});
    auto audit = c.h_at_x->Audit();
    CHECK_MESSAGE(audit.ok(), audit.status().ToString());
  }
}

TEST_CASE("the city list round-trips through the entry encoding") {
  City c;
  const Policy p = NextPolicy(c.h, {Member(c.x.ledger(), "510105", "青羊区时间银行")});
  const std::string bytes = c.h.Sign(c.h.Body(p), &c.h.root);
  auto decoded = DecodeAndVerifyEntry(bytes);
  REQUIRE(decoded.ok());
  const auto* back = std::get_if<Policy>(&decoded->body.kind);
  REQUIRE(back);
  CHECK(back->city == p.city);
  CHECK(back->version == p.version);
}

TEST_CASE("with a city list, every other district an entry names must be in it") {
  City c;
  REQUIRE(c.h.Submit(NextPolicy(c.h, {Member(c.x.ledger(), "510105", "青羊区")}), &c.h.root).ok());
  const std::string elder = c.h.OpenPerson(1950);
  REQUIRE(c.h.Submit(Serve(elder, 240)).ok());
  const std::string away = MakeAccountNumber("510199", 7).value();  // a district not listed
  const std::string in_x = MakeAccountNumber("510105", 7).value();

  // A service by a volunteer of an unlisted district: the hours would wait for ever.
  Refused(c.h, Serve(away, 60), Code::kNotInCity);
  // Care given in an unlisted district, at once or in two phases.
  Refused(c.h, Redeem{elder, 10, "meals", "510199"}, Code::kNotInCity);
  Refused(c.h, Hold{elder, 10, c.h.now + 3600, "meals", "510199"}, Code::kNotInCity);
  // Care for an elder of an unlisted district.
  Refused(c.h, Deposit{elder, away, "meals", 30, kNoon - 3600, ""}, Code::kNotInCity);
  // A gift to someone homed in an unlisted district (named first, whatever the balance).
  Refused(c.h, Transfer{TransferKind::kGift, elder, away, 10, Relation::kChild}, Code::kNotInCity);
  Refused(c.h, Transfer{TransferKind::kGift, elder, away, 100000, Relation::kChild},
          Code::kNotInCity);
  // Moving home there.
  Refused(c.h, Migrate{elder, "510199"}, Code::kNotInCity);
  // A sync of a log the city does not list.
  Refused(c.h, Sync{"510199", 1, Hash{}}, Code::kNotInCity, c.h.log_key.get());

  // The listed district, and this one, are open as before.
  REQUIRE(c.h.Submit(Serve(in_x, 60)).ok());
  REQUIRE(c.h.Submit(Redeem{elder, 10, "meals", "510105"}).ok());
  REQUIRE(c.h.Submit(Redeem{elder, 10, "meals", "510104"}).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  auto synced = SyncTo(c.h, *c.x_at_h, "510105");
  CHECK_MESSAGE(synced.ok(), synced.status().ToString());
  // Its replica replays all of it from the log alone, and agrees.
  Follow(c.h.ledger(), *c.h_at_x);
  CHECK(c.h_at_x->Balance(elder).value() == c.h.BalanceOf(elder));
  auto audit = c.h.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
}

TEST_CASE("a sync's copy must be verified with the key the city lists") {
  City c;
  // The city lists 510105 under another key (its origin, a different public key): the copy
  // H holds, verified with X's real key, is not the log the city means.
  const CityMember wrong{
      "510105", "青羊区",
      FormatVerifierKey(c.x.ledger().CurrentCheckpoint().origin, KeyFromByte(99).public_key())};
  REQUIRE(c.h.Submit(NextPolicy(c.h, {wrong}), &c.h.root).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  const Checkpoint cp = c.x_at_h->CurrentCheckpoint();
  Refused(c.h, Sync{"510105", cp.size, cp.root}, Code::kPeerKeyMismatch, c.h.log_key.get());

  // Once the city list gives X's real key, the same sync goes in.
  REQUIRE(c.h.Submit(NextPolicy(c.h, {Member(c.x.ledger(), "510105", "青羊区")}), &c.h.root).ok());
  auto synced = SyncTo(c.h, *c.x_at_h, "510105");
  CHECK_MESSAGE(synced.ok(), synced.status().ToString());
}
