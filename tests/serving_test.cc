// What a ledger serves to its node and to auditors: tiles, entry bundles and proofs,
// the standing of signers, expired holds; and a witness following a peer's log.
#include <doctest/doctest.h>

#include "district.h"
#include "ledger/witness.h"

using namespace ledger;
using namespace ledger::testing;

TEST_CASE("tiles, entry bundles and proofs served by the ledger agree with the entries") {
  TempDir dir;
  District d(dir.path());
  const auto v = d.OpenPerson(1990);
  while (d.ledger().Size() < 600) REQUIRE(d.Submit(Serve(v, 1)).ok());
  const std::uint64_t n = d.ledger().Size();
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  for (std::uint64_t i = 0; i < n; ++i) {
    entries.push_back(d.ledger().GetEntry(i).value());
    leaves.push_back(LeafHash(entries.back()));
  }
  auto tile_of = [](std::span<const Hash> hs) {
    std::string out;
    for (const auto& h : hs) out.append(reinterpret_cast<const char*>(h.data()), 32);
    return out;
  };
  // Level 0: the leaf hashes themselves, full and partial tiles.
  auto t0 = d.ledger().HashTile(0, 0, 256);
  REQUIRE(t0.ok());
  CHECK(*t0 == tile_of(std::span(leaves).subspan(0, 256)));
  const int partial = static_cast<int>(n - 512);
  auto t2 = d.ledger().HashTile(0, 2, partial);
  REQUIRE(t2.ok());
  CHECK(*t2 == tile_of(std::span(leaves).subspan(512, partial)));
  CHECK(d.ledger().HashTile(0, 2, 256).code() == Code::kNotFound);
  // Level 1: node i is the root of leaves [256 i, 256 i + 256).
  auto t1 = d.ledger().HashTile(1, 0, 2);
  REQUIRE(t1.ok());
  const Hash r0 = RootFromLeafHashes(std::span(leaves).subspan(0, 256));
  const Hash r1 = RootFromLeafHashes(std::span(leaves).subspan(256, 256));
  CHECK(*t1 == tile_of(std::vector<Hash>{r0, r1}));
  CHECK(d.ledger().HashTile(1, 0, 3).code() == Code::kNotFound);
  CHECK(d.ledger().HashTile(8, 0, 1).code() == Code::kInvalidArgument);
  CHECK(d.ledger().HashTile(0, 0, 0).code() == Code::kInvalidArgument);
  // Entry bundle: big-endian uint16 length, then the entry, for each entry.
  auto bundle = d.ledger().EntryBundle(1, 256);
  REQUIRE(bundle.ok());
  std::string_view rest = *bundle;
  for (std::uint64_t i = 256; i < 512; ++i) {
    REQUIRE(rest.size() >= 2);
    const std::size_t len =
        (static_cast<std::uint8_t>(rest[0]) << 8) | static_cast<std::uint8_t>(rest[1]);
    REQUIRE(rest.size() >= 2 + len);
    CHECK(rest.substr(2, len) == entries[i]);
    rest.remove_prefix(2 + len);
  }
  CHECK(rest.empty());
  CHECK(d.ledger().EntryBundle(2, 256).code() == Code::kNotFound);
  // Roots, consistency and inclusion at older sizes.
  for (std::uint64_t m : {1ull, 255ull, 256ull, 300ull, 513ull}) {
    auto root = d.ledger().RootAt(m);
    REQUIRE(root.ok());
    CHECK(*root == RootFromLeafHashes(std::span(leaves).subspan(0, m)));
    auto proof = d.ledger().ProveConsistency(m, n);
    REQUIRE(proof.ok());
    CHECK(VerifyConsistency(*proof, *root, d.ledger().CurrentCheckpoint().root).ok());
    auto inc = d.ledger().ProveInclusion(m - 1, m);
    REQUIRE(inc.ok());
    CHECK(VerifyInclusion(leaves[m - 1], *inc, *root).ok());
  }
  CHECK(d.ledger().ProveConsistency(10, n + 1).code() == Code::kInvalidArgument);
  CHECK(d.ledger().ProveInclusion(n, n).code() == Code::kInvalidArgument);
  CHECK(d.ledger().RootAt(n + 1).code() == Code::kInvalidArgument);
}

TEST_CASE("keys, owners and district facts as the node sees them") {
  TempDir dir;
  District d(dir.path());
  auto facts = d.ledger().GetDistrictInfo();
  REQUIRE(facts.ok());
  CHECK(facts->district == "510104");
  CHECK(facts->root_key == d.root.public_key());
  CHECK(facts->log_key == d.log_key->public_key());

  auto root = d.ledger().LookupKey(d.root.public_key());
  REQUIRE(root.ok());
  CHECK(root->root);
  auto op = d.ledger().LookupKey(d.op.public_key());
  REQUIRE(op.ok());
  CHECK_FALSE(op->root);
  CHECK(op->roles == std::vector<Role>{Role::kRegistrar, Role::kRecorder, Role::kRedeemer});
  const SigningKey stranger = KeyFromByte(77);
  auto none = d.ledger().LookupKey(stranger.public_key());
  REQUIRE(none.ok());
  CHECK_FALSE(none->root);
  CHECK(none->roles.empty());

  REQUIRE(d.Submit(Revoke{d.op.public_key(), "left the service station"}, &d.root).ok());
  auto revoked = d.ledger().LookupKey(d.op.public_key());
  REQUIRE(revoked.ok());
  CHECK(revoked->roles.empty());

  const SigningKey owner = KeyFromByte(78);
  d.op = KeyFromByte(79);
  REQUIRE(d.Submit(Grant{d.op.public_key(), {Role::kRegistrar}, "new desk"}, &d.root).ok());
  const std::string owned = d.OpenPerson(1960, 0, false, &owner);
  auto info = d.ledger().GetAccount(owned);
  REQUIRE(info.ok());
  CHECK(info->has_owner_key);
  CHECK(info->owner_key == owner.public_key());
  const std::string plain = d.OpenPerson(1960);
  auto pinfo = d.ledger().GetAccount(plain);
  REQUIRE(pinfo.ok());
  CHECK_FALSE(pinfo->has_owner_key);
}

TEST_CASE("expired holds are listed for the node to release, oldest first") {
  TempDir dir;
  District d(dir.path());
  const auto elder = d.OpenPerson(1950);
  REQUIRE(d.Submit(Serve(elder, 300)).ok());
  EntryBody early = d.Body(Hold{elder, 60, d.now + 100, "cleaning", ""});
  EntryBody late = d.Body(Hold{elder, 60, d.now + 1000, "cleaning", ""});
  EntryBody posted = d.Body(Hold{elder, 60, d.now + 50, "cleaning", ""});
  EntryBody second = d.Body(Hold{elder, 60, d.now + 200, "cleaning", ""});
  for (const auto* b : {&early, &late, &posted, &second})
    REQUIRE(d.ledger().Append(d.Sign(*b)).ok());
  REQUIRE(d.Submit(HoldPost{posted.id}).ok());

  auto none = d.ledger().ExpiredHolds(d.now + 99, 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto due = d.ledger().ExpiredHolds(d.now + 500, 10);
  REQUIRE(due.ok());
  CHECK(*due == std::vector<EntryId>{early.id, second.id});
  auto one = d.ledger().ExpiredHolds(d.now + 500, 1);
  REQUIRE(one.ok());
  CHECK(*one == std::vector<EntryId>{early.id});

  // The log key may expire them (what timebankd does); the hours come back.
  d.now += 500;
  CHECK(d.BalanceOf(elder) == 60);
  for (const EntryId& id : *due) REQUIRE(d.Submit(HoldExpire{id}, d.log_key.get()).ok());
  CHECK(d.BalanceOf(elder) == 180);
  auto after = d.ledger().ExpiredHolds(d.now, 10);
  REQUIRE(after.ok());
  CHECK(after->empty());
}

TEST_CASE("a witness follows a peer's log, cosigns it, and catches a fork") {
  TempDir dir_a, dir_b;
  District a(dir_a.path());
  auto vkey = a.ledger().VerifierKey();
  REQUIRE(vkey.ok());
  auto w = Witness::Create(*vkey);
  REQUIRE(w.ok());
  const std::string first = a.ledger().SignedCheckpoint().value();
  REQUIRE(w->Observe(first, {}).ok());
  const std::uint64_t s1 = a.ledger().Size();
  const std::string volunteer = a.OpenPerson(1990);
  REQUIRE(a.Submit(Deposit{volunteer, "", "meals", 60, a.now - 3600, ""}).ok());
  const std::uint64_t s2 = a.ledger().Size();
  const std::string second = a.ledger().SignedCheckpoint().value();
  auto proof = a.ledger().ProveConsistency(s1, s2);
  REQUIRE(proof.ok());
  REQUIRE(w->Observe(second, *proof).ok());
  CHECK(w->latest_checkpoint().size == s2);
  // An older checkpoint, with the proof to the latest: consistent, latest stays.
  CHECK(w->Observe(first, *proof).ok());
  CHECK(w->latest_checkpoint().size == s2);
  // Proofs for other sizes, or that do not link the trees, change nothing.
  ConsistencyProof wrong = *proof;
  wrong.old_size = s1 + 1;
  CHECK(w->Observe(first, wrong).code() == Code::kInvalidArgument);
  ConsistencyProof bent = *proof;
  REQUIRE(!bent.path.empty());
  bent.path[0][0] ^= 1;
  CHECK(w->Observe(first, bent).code() == Code::kCorruption);
  CHECK(w->latest_checkpoint().size == s2);
  CHECK(w->evidence().empty());
  // Not the peer's note.
  const SigningKey other = KeyFromByte(90);
  CHECK_FALSE(w->Observe(SignNote(FormatCheckpointBody(a.ledger().CurrentCheckpoint()),
                                  a.ledger().CurrentCheckpoint().origin, other),
                         {})
                  .ok());

  // Cosigning what was accepted: the peer's signature stays, the cosignature verifies.
  const SigningKey witness_key = KeyFromByte(91);
  auto cosigned = w->Cosign("timebank.example/510105", witness_key, 1795348800);
  REQUIRE(cosigned.ok());
  CHECK(VerifyCosignature(*cosigned, "timebank.example/510105", witness_key.public_key()).ok());
  CHECK(OpenCheckpoint(*cosigned, ParseVerifierKey(*vkey).value()).ok());

  // The same keys sign another history of the same size: equivocation, with evidence.
  District b(dir_b.path());
  const std::string other_volunteer = b.OpenPerson(1991);
  REQUIRE(b.Submit(Deposit{other_volunteer, "", "meals", 90, b.now - 3600, ""}).ok());
  REQUIRE(b.ledger().Size() == s2);
  const std::string forked = b.ledger().SignedCheckpoint().value();
  CHECK(w->Observe(forked, {}).code() == Code::kEquivocation);
  REQUIRE(w->evidence().size() == 1);
  CHECK(w->evidence()[0].first == second);
  CHECK(w->evidence()[0].second == forked);

  // A witness restarts from its stored latest note; one signed by another key is refused.
  auto again = Witness::Create(*vkey, w->latest());
  REQUIRE(again.ok());
  CHECK(again->latest_checkpoint().size == s2);
  CHECK(
      Witness::Create(FormatVerifierKey(a.ledger().CurrentCheckpoint().origin, other.public_key()),
                      w->latest())
          .code() == Code::kInvalidArgument);
}
