// Federation in the library: credits written for other districts' accounts, replicas of
// other districts' logs, and the sync entries that bring credits home
// (docs/federation.md §2–§4). Districts here are in-process ledgers; node_tests runs
// real nodes.
#include <doctest/doctest.h>

#include <memory>

#include "city.h"
#include "district.h"
#include "ledger/checkpoint.h"
#include "ledger/federation.h"

using namespace ledger;
using namespace ledger::testing;

namespace {

// Appends one-minute services by `volunteers` in turn until `d`'s log has `n` entries.
void GrowTo(District& d, const std::vector<std::string>& volunteers, std::uint64_t n) {
  std::vector<std::string> batch;
  for (std::uint64_t i = d.ledger().Size(); i < n; ++i)
    batch.push_back(d.Sign(d.Body(Serve(volunteers[i % volunteers.size()], 1))));
  for (const auto& r : d.ledger().Append(batch)) REQUIRE(r.ok());
  REQUIRE(d.ledger().Size() == n);
}

// Entries [from, to) of `l` appended to `entries`; their leaf hashes returned.
std::vector<Hash> EntriesOf(Ledger& l, std::uint64_t from, std::uint64_t to,
                            std::vector<std::string>* entries) {
  std::vector<Hash> leaves;
  for (std::uint64_t i = from; i < to; ++i) {
    entries->push_back(l.GetEntry(i).value());
    leaves.push_back(LeafHash(entries->back()));
  }
  return leaves;
}

// X's log of `total` entries with a sync of H's log after its first `sync_after`, and a
// third node's copy of X begun at X's checkpoint, before that node holds H's log: the
// copy stops at the sync until HoldH().
struct ThirdCopy {
  City c;
  std::vector<std::string> entries;
  std::uint64_t sync_at = 0;
  TempDir third_dir, third_h_dir;
  std::shared_ptr<LedgerPeers> peers = std::make_shared<LedgerPeers>();
  std::shared_ptr<Ledger> third, h_copy;
  ThirdCopy(std::uint64_t sync_after, std::uint64_t total) {
    std::vector<std::string> volunteers;
    for (int i = 0; i < 50; ++i) volunteers.push_back(c.x.OpenPerson(1990));
    GrowTo(c.x, volunteers, sync_after);
    Follow(c.h.ledger(), *c.h_at_x);
    auto synced = SyncTo(c.x, *c.h_at_x, "510104");
    REQUIRE(synced.ok());
    sync_at = synced->index;
    GrowTo(c.x, volunteers, total);
    const std::vector<Hash> leaves = EntriesOf(c.x.ledger(), 0, total, &entries);
    third = OpenReplica(third_dir.path(), c.x.ledger(), peers);
    peers->Add("510105", third);
    REQUIRE(third->BeginReplication(c.x.ledger().SignedCheckpoint().value(), TileCover(0, leaves))
                .ok());
  }
  // The third node gets its own copy of H's log: X's sync can go in.
  void HoldH() {
    h_copy = OpenReplica(third_h_dir.path(), c.h.ledger(), peers);
    peers->Add("510104", h_copy);
    Follow(c.h.ledger(), *h_copy);
  }
  // The copy holds all of X's log, as X's node holds it.
  void CheckComplete() {
    CHECK(third->Size() == entries.size());
    CHECK(third->CurrentCheckpoint().root == c.x.ledger().CurrentCheckpoint().root);
    CHECK(third->Audit().ok());
  }
};

}  // namespace

TEST_CASE("a volunteer homed in H serves in X: the hours reach H at its sync of X") {
  City c;
  const std::string v = c.h.OpenPerson(1990);
  const std::string local = c.x.OpenPerson(1985);
  REQUIRE(c.x.Submit(Serve(v, 90)).ok());
  REQUIRE(c.x.Submit(Serve(local, 30)).ok());
  REQUIRE(c.x.Submit(Serve(v, 60)).ok());
  // In X's log the hours are minted and wait in X's interdistrict account.
  CHECK(Interdistrict(c.x) == 150);
  CHECK(c.x.BalanceOf(local) == 30);
  auto credits = c.x.ledger().TransitCredits(0, c.x.ledger().Size());
  REQUIRE(credits.ok());
  REQUIRE(credits->size() == 2);
  CHECK((*credits)[0].account == v);
  CHECK((*credits)[0].minutes == 90);
  CHECK((*credits)[0].served == 90);
  CHECK(c.h.BalanceOf(v) == 0);

  // Without a verified copy of X's log, H cannot sync it.
  CHECK(SyncTo(c.h, *c.x_at_h, "510105").code() == Code::kSyncNotForward);  // size 0
  CHECK(c.h.Submit(Sync{"510105", 3, Hash{}}, c.h.log_key.get()).code() == Code::kUnknownPeer);

  Follow(c.x.ledger(), *c.x_at_h);
  CHECK(c.x_at_h->CurrentCheckpoint().root == c.x.ledger().CurrentCheckpoint().root);
  // X's log credits X's interdistrict, not an account X does not hold.
  CHECK(c.x_at_h->Balance(v).code() == Code::kUnknownAccount);
  CHECK(c.x_at_h->Balance("510105.interdistrict").value() == 150);
  auto replica_audit = c.x_at_h->Audit();
  CHECK_MESSAGE(replica_audit.ok(), replica_audit.status().ToString());

  const Checkpoint cp = c.x_at_h->CurrentCheckpoint();
  // Refusals first: each with its own code, and H's log does not move.
  const std::uint64_t before = c.h.ledger().Size();
  CHECK(c.h.Submit(Sync{"510105", cp.size, cp.root}, &c.h.op).code() == Code::kUnauthorized);
  Hash wrong = cp.root;
  wrong[0] ^= 1;
  CHECK(c.h.Submit(Sync{"510105", cp.size, wrong}, c.h.log_key.get()).code() ==
        Code::kSyncRootMismatch);
  CHECK(c.h.Submit(Sync{"510105", cp.size + 1, cp.root}, c.h.log_key.get()).code() ==
        Code::kUnknownPeer);
  CHECK(c.h.Submit(Sync{"510104", cp.size, cp.root}, c.h.log_key.get()).code() ==
        Code::kMalformedEntry);
  CHECK(c.h.ledger().Size() == before);

  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  CHECK(c.h.BalanceOf(v) == 150);
  CHECK(c.h.ledger().GetAccount(v).value().served == 150);
  CHECK(Interdistrict(c.h) == -150);
  CHECK(Interdistrict(c.h) + Interdistrict(c.x) == 0);  // nothing left in transit
  CHECK(c.h.ledger().SyncedSize("510105").value() == cp.size);
  CHECK(SyncTo(c.h, *c.x_at_h, "510105").code() == Code::kSyncNotForward);
  auto audit = c.h.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());

  // Later credits cross at the next sync, not twice the earlier ones.
  REQUIRE(c.x.Submit(Serve(v, 30)).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  CHECK(c.h.BalanceOf(v) == 180);
  // And she spends them at home.
  REQUIRE(c.h.Submit(Redeem{v, 0, "", ""}).code() == Code::kInvalidAmount);
}

TEST_CASE("a gift to a mother homed in another district, and a sync in a replicated log") {
  City c;
  const std::string daughter = c.h.OpenPerson(1990);
  const std::string mother = c.x.OpenPerson(1950);
  REQUIRE(c.h.Submit(Serve(daughter, 120)).ok());
  Transfer gift{TransferKind::kGift, daughter, mother, 45, Relation::kParent};
  auto given = c.h.Submit(gift);
  REQUIRE(given.ok());
  CHECK(c.h.BalanceOf(daughter) == 75);
  CHECK(Interdistrict(c.h) == 45);
  // A debit of another district's account is refused: only its home debits it.
  Transfer back{TransferKind::kGift, mother, daughter, 5, Relation::kChild};
  CHECK(c.h.Submit(back).code() == Code::kNotHomeDistrict);
  // A transit credit cannot be reversed by its writer: the home may have counted it.
  const EntryId gift_id = DecodeEntry(c.h.ledger().GetEntry(given->index).value()).value().body.id;
  CHECK(c.h.Submit(Reverse{gift_id, "entered twice"}, &c.h.root).code() == Code::kNotTransitable);

  Follow(c.h.ledger(), *c.h_at_x);
  REQUIRE(SyncTo(c.x, *c.h_at_x, "510104").ok());
  CHECK(c.x.BalanceOf(mother) == 45);
  // H's copy of X's log replays X's sync of H: it reads H's own log through the peers.
  Follow(c.x.ledger(), *c.x_at_h);
  CHECK(c.x_at_h->Balance(mother).value() == 45);
  CHECK(c.x_at_h->SyncedSize("510104").value() == c.h_at_x->Size());

  // A third copy of X's log, made where H's log is not (yet) held: it takes X's entries up
  // to the sync of H and stops there, waiting (unknown_peer) with nothing after it taken;
  // once H's log is held too, the rest goes in.
  TempDir third_dir, third_h_dir;
  auto third_peers = std::make_shared<LedgerPeers>();
  auto third = OpenReplica(third_dir.path(), c.x.ledger(), third_peers);
  third_peers->Add("510105", third);
  const std::string note = c.x.ledger().SignedCheckpoint().value();
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  std::uint64_t sync_at = 0;
  for (std::uint64_t i = 0; i < c.x.ledger().Size(); ++i) {
    entries.push_back(c.x.ledger().GetEntry(i).value());
    leaves.push_back(LeafHash(entries.back()));
    if (std::holds_alternative<Sync>(DecodeEntry(entries.back()).value().body.kind)) sync_at = i;
  }
  REQUIRE(sync_at > 0);
  REQUIRE(third->BeginReplication(note, leaves).ok());
  CHECK(third->Replicate(entries).code() == Code::kUnknownPeer);
  CHECK(third->Size() == sync_at);
  CHECK_FALSE(third->SignedCheckpoint().ok());  // the note is not served before its size
  auto h_copy = OpenReplica(third_h_dir.path(), c.h.ledger(), third_peers);
  third_peers->Add("510104", h_copy);
  Follow(c.h.ledger(), *h_copy);
  auto size = third->Replicate(std::span<const std::string>(entries).subspan(sync_at));
  REQUIRE_MESSAGE(size.ok(), size.status().ToString());
  CHECK(*size == entries.size());
  CHECK(third->SignedCheckpoint().value() == note);
  CHECK(third->Balance(mother).value() == 45);
}

TEST_CASE("a replica takes only what its district signed") {
  City c;
  const std::string v = c.x.OpenPerson(1990);
  for (int i = 0; i < 5; ++i) REQUIRE(c.x.Submit(Serve(v, 10)).ok());
  Ledger& r = *c.x_at_h;
  const std::string note = c.x.ledger().SignedCheckpoint().value();
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  for (std::uint64_t i = 0; i < c.x.ledger().Size(); ++i) {
    entries.push_back(c.x.ledger().GetEntry(i).value());
    leaves.push_back(LeafHash(entries.back()));
  }
  // Entries come only from the district's log.
  CHECK(r.Append(entries[0]).code() == Code::kReadOnlyReplica);
  // Notes signed by someone else, or changed: refused.
  std::string forged = SignNote(FormatCheckpointBody(c.x.ledger().CurrentCheckpoint()),
                                "timebank.test/510105", c.h.root);
  CHECK(r.BeginReplication(forged, TileCover(0, leaves)).code() == Code::kMissingSignature);
  std::string altered = note;
  altered[altered.find('\n') + 1] ^= 1;  // the size line
  CHECK(r.BeginReplication(altered, leaves).code() != Code::kOk);
  // Leaf hashes that do not lead to the signed root: refused.
  std::vector<Hash> bad = leaves;
  bad[3][0] ^= 1;
  CHECK(r.BeginReplication(note, bad).code() == Code::kCorruption);
  CHECK(r.BeginReplication(note, std::span<const Hash>(leaves).first(3)).code() ==
        Code::kInvalidArgument);
  CHECK(r.Replicate(entries).code() == Code::kInvalidArgument);  // nothing begun
  REQUIRE(r.BeginReplication(note, leaves).ok());
  // An entry other than the one the tree holds at its position: refused, nothing taken.
  std::vector<std::string> swapped = {entries[1], entries[0]};
  CHECK(r.Replicate(swapped).code() == Code::kCorruption);
  CHECK(r.Size() == 0);
  REQUIRE(r.Replicate(entries).ok());
  CHECK(r.Size() == entries.size());

  // X signs another tree of the same size: a fork. The replica keeps both notes.
  TempDir fork_dir;
  District fork(fork_dir.path(), "510105", DefaultPolicy(), nullptr, 11);
  fork.now += 7;  // other entry ids and times: another tree
  const std::string w = fork.OpenPerson(1990);
  while (fork.ledger().Size() < entries.size()) REQUIRE(fork.Submit(Serve(w, 10)).ok());
  const std::string fork_note = fork.ledger().SignedCheckpoint().value();
  REQUIRE(fork.ledger().CurrentCheckpoint().root != c.x.ledger().CurrentCheckpoint().root);
  CHECK(r.BeginReplication(fork_note, {}).code() == Code::kEquivocation);
  const std::vector<std::string> evidence = r.EquivocationEvidence();
  REQUIRE(evidence.size() == 2);
  CHECK(evidence[0] == note);
  CHECK(evidence[1] == fork_note);
  // The replica itself is unchanged.
  CHECK(r.SignedCheckpoint().value() == note);
  // An operator clears the evidence: gone, the replica still as it was; the district still
  // on its fork is caught again.
  REQUIRE(r.ClearEquivocationEvidence().ok());
  CHECK(r.EquivocationEvidence().empty());
  CHECK(r.SignedCheckpoint().value() == note);
  CHECK(r.BeginReplication(fork_note, {}).code() == Code::kEquivocation);
  CHECK(r.EquivocationEvidence().size() == 2);
  CHECK(c.x.ledger().ClearEquivocationEvidence().code() == Code::kInvalidArgument);
}

TEST_CASE("a replica takes whole tiles against their level-8 hashes, parts of tiles leaf by leaf") {
  City c;
  std::vector<std::string> volunteers;
  for (int i = 0; i < 50; ++i) volunteers.push_back(c.x.OpenPerson(1990));
  Ledger& r = *c.x_at_h;
  // First 300 entries: one whole tile, then 44 leaves of the next.
  GrowTo(c.x, volunteers, 300);
  std::vector<std::string> first;
  const std::vector<Hash> first_leaves = EntriesOf(c.x.ledger(), 0, 300, &first);
  const std::vector<Hash> cover = TileCover(0, first_leaves);
  REQUIRE(cover.size() == 1 + 44);
  CHECK(TileCoverSize(0, 300) == cover.size());
  CHECK(cover[0] == RootFromLeafHashes(std::span<const Hash>(first_leaves).first(256)));
  const std::string note300 = c.x.ledger().SignedCheckpoint().value();
  // All 300 leaf hashes are not the cover: refused, as is a cover with a changed tile hash.
  CHECK(r.BeginReplication(note300, first_leaves).code() == Code::kInvalidArgument);
  std::vector<Hash> bad = cover;
  bad[0][5] ^= 1;
  CHECK(r.BeginReplication(note300, bad).code() == Code::kCorruption);
  REQUIRE(r.BeginReplication(note300, cover).ok());
  // Entries that end inside the whole tile: refused, nothing taken.
  CHECK(r.Replicate(std::span<const std::string>(first).first(100)).code() ==
        Code::kInvalidArgument);
  // One entry changed inside the whole tile: the tile's hash differs.
  std::vector<std::string> swapped = first;
  std::swap(swapped[10], swapped[11]);
  CHECK(r.Replicate(std::span<const std::string>(swapped).first(256)).code() == Code::kCorruption);
  CHECK(r.Size() == 0);
  REQUIRE(r.Replicate(std::span<const std::string>(first).first(256)).ok());
  REQUIRE(r.Replicate(std::span<const std::string>(first).subspan(256, 20)).ok());
  REQUIRE(r.Replicate(std::span<const std::string>(first).subspan(276)).ok());
  CHECK(r.SignedCheckpoint().value() == note300);

  // From 300 to 1000: 212 leaves to finish the tile, one whole tile, 232 leaves.
  GrowTo(c.x, volunteers, 1000);
  std::vector<std::string> rest;
  const std::vector<Hash> rest_leaves = EntriesOf(c.x.ledger(), 300, 1000, &rest);
  const std::vector<Hash> cover2 = TileCover(300, rest_leaves);
  CHECK(cover2.size() == 212 + 1 + 232);
  const std::string note1000 = c.x.ledger().SignedCheckpoint().value();
  REQUIRE(r.BeginReplication(note1000, cover2).ok());
  REQUIRE(r.Replicate(std::span<const std::string>(rest).first(212 + 256 + 100)).ok());
  REQUIRE(r.Replicate(std::span<const std::string>(rest).subspan(212 + 256 + 100)).ok());
  CHECK(r.Size() == 1000);
  CHECK(r.SignedCheckpoint().value() == note1000);
  CHECK(r.CurrentCheckpoint().root == c.x.ledger().CurrentCheckpoint().root);
  CHECK(r.Audit().ok());
}

TEST_CASE("a copy that stopped inside a whole tile finishes the tile from its stored leaves") {
  // X syncs H's log at entry 100, inside X's first tile.
  ThirdCopy t(100, 600);
  const std::uint64_t sync_at = t.sync_at;
  REQUIRE(sync_at < 256);
  const std::span<const std::string> all(t.entries);
  CHECK(t.third->Replicate(all.first(512)).code() == Code::kUnknownPeer);
  REQUIRE(t.third->Size() == sync_at);
  // Once it holds H's log, the same checkpoint goes on from inside the tile: the tile's
  // first leaves are the ones stored. A changed entry in the rest of the tile is caught.
  t.HoldH();
  std::vector<std::string> changed(all.begin() + sync_at, all.begin() + 512);
  std::swap(changed[5], changed[6]);
  CHECK(t.third->Replicate(changed).code() == Code::kCorruption);
  CHECK(t.third->Size() == sync_at);
  REQUIRE(t.third->Replicate(all.subspan(sync_at, 512 - sync_at)).ok());
  REQUIRE(t.third->Replicate(all.subspan(512)).ok());
  t.CheckComplete();
}

TEST_CASE("a copy of several chunks stops at a sync in a later chunk and goes on from it") {
  // X syncs H's log at entry 1300: in the third chunk (of 512) of a copy from the start.
  ThirdCopy t(1300, 1800);
  const std::uint64_t sync_at = t.sync_at;
  REQUIRE(sync_at > 1024);
  const std::span<const std::string> all(t.entries);
  // One call of 1,792 entries (four chunks): the two chunks before the sync's go in, and its
  // own chunk up to the sync; nothing after it, in that chunk or the next.
  CHECK(t.third->Replicate(all.first(1792)).code() == Code::kUnknownPeer);
  REQUIRE(t.third->Size() == sync_at);
  for (std::uint64_t i = 0; i < sync_at; i += 101)
    CHECK(t.third->GetEntry(i).value() == t.entries[i]);
  t.HoldH();
  REQUIRE(t.third->Replicate(all.subspan(sync_at, 1792 - sync_at)).ok());
  REQUIRE(t.third->Replicate(all.subspan(1792)).ok());
  t.CheckComplete();
}

TEST_CASE("redeeming away: X's redeemer holds and posts at H, once H has synced X's keys") {
  City c;
  const std::string elder = c.h.OpenPerson(1950);
  REQUIRE(c.h.Submit(Serve(elder, 120)).ok());
  // X's operator writes a hold in H's log (district H, served in X).
  Hold hold{elder, 60, c.h.now + 3600, "meals", "510105"};
  const EntryBody body = c.h.Body(hold);
  const std::string entry = c.h.Sign(body, &c.x.op);
  CHECK(c.h.ledger().Append(entry).code() == Code::kUnknownKey);  // H does not know X's keys
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  auto held = c.h.ledger().Append(entry);
  REQUIRE_MESSAGE(held.ok(), held.status().ToString());
  CHECK(c.h.BalanceOf(elder) == 60);
  // The same key may not hold for service in another district, nor act for H itself.
  Hold elsewhere{elder, 10, c.h.now + 3600, "meals", "510106"};
  CHECK(c.h.ledger().Append(c.h.Sign(c.h.Body(elsewhere), &c.x.op)).code() == Code::kUnknownKey);
  CHECK(c.h.ledger().Append(c.h.Sign(c.h.Body(Redeem{elder, 10, "meals", ""}), &c.x.op)).code() ==
        Code::kUnknownKey);
  // Posted by X's redeemer, at most once.
  const std::string post = c.h.Sign(c.h.Body(HoldPost{body.id}), &c.x.op);
  REQUIRE(c.h.ledger().Append(post).ok());
  CHECK(c.h.ledger().Append(c.h.Sign(c.h.Body(HoldVoid{body.id}), &c.x.op)).code() ==
        Code::kHoldClosed);
  CHECK(c.h.BalanceOf(elder) == 60);
  CHECK(c.h.BalanceOf(SystemAccountId("510104", SystemAccount::kRedeemed)) == 60);

  // X revokes that key; after H syncs it, the key can no longer hold at H.
  REQUIRE(c.x.Submit(Revoke{c.x.op.public_key()}, &c.x.root).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  Hold again{elder, 10, c.h.now + 3600, "meals", "510105"};
  CHECK(c.h.ledger().Append(c.h.Sign(c.h.Body(again), &c.x.op)).code() == Code::kUnknownKey);
  auto audit = c.h.ledger().Audit();
  CHECK_MESSAGE(audit.ok(), audit.status().ToString());
}

TEST_CASE("clearing figures: issued per log, redeemed by where the care was given, liability") {
  City c;
  const std::int64_t today = (kNoon + 8 * 3600) / 86400;  // local days (UTC+8)
  const std::string v = c.h.OpenPerson(1990);
  const std::string elder = c.h.OpenPerson(1950);
  REQUIRE(c.x.Submit(Serve(v, 90)).ok());  // minted in X, for H's volunteer
  REQUIRE(c.h.Submit(Serve(v, 60)).ok());
  REQUIRE(c.h.Submit(Serve(elder, 120)).ok());
  REQUIRE(c.h.Submit(Redeem{elder, 30, "meals", ""}).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  // The next day: care given in X, held and posted at H; a donation to the pool.
  c.h.now += 86400;
  const EntryBody hold = c.h.Body(Hold{elder, 45, c.h.now + 3600, "meals", "510105"});
  REQUIRE(c.h.ledger().Append(c.h.Sign(hold, &c.x.op)).ok());
  REQUIRE(c.h.ledger().Append(c.h.Sign(c.h.Body(HoldPost{hold.id}), &c.x.op)).ok());
  REQUIRE(c.h.Submit(Transfer{TransferKind::kDonation, v, "", 20}).ok());
  const EntryBody open_hold = c.h.Body(Hold{elder, 10, c.h.now + 3600, "meals", ""});
  REQUIRE(c.h.ledger().Append(c.h.Sign(open_hold)).ok());

  auto day1 = c.h.ledger().Clearing(today, today + 1).value();
  CHECK(day1.issued == 180);
  CHECK(day1.redeemed == std::map<std::string, Minutes>{{"510104", 30}});
  CHECK(day1.liability == 180 + 90 - 30);  // the sync brought X's 90 home that day
  auto both = c.h.ledger().Clearing(today, today + 2).value();
  CHECK(both.issued == 180);
  CHECK(both.redeemed == std::map<std::string, Minutes>{{"510104", 30}, {"510105", 45}});
  // What H owes at the end: its people's balances, its pool and its open hold.
  const Minutes owed = c.h.BalanceOf(v) + c.h.BalanceOf(elder) + c.h.BalanceOf(c.h.Pool()) +
                       c.h.BalanceOf(SystemAccountId("510104", SystemAccount::kHeld));
  CHECK(both.liability == owed);
  CHECK(owed == 180 + 90 - 30 - 45);
  // X minted 90 it does not owe: they are H's liability now.
  auto x = c.x.ledger().Clearing(today, today + 2).value();
  CHECK(x.issued == 90);
  CHECK(x.redeemed.empty());
  CHECK(x.liability == 0);
  // Its copy at H says the same; an empty or reversed period is no error or an error.
  auto copy = c.x_at_h->Clearing(today, today + 2).value();
  CHECK(copy.issued == 90);
  CHECK(c.h.ledger().Clearing(today + 5, today + 5).value().issued == 0);
  CHECK(c.h.ledger().Clearing(today + 1, today).code() == Code::kInvalidArgument);
  CHECK(c.h.ledger().Audit().ok());
}

TEST_CASE("hours set aside for a district are claimed there offline and posted at home once") {
  City c;
  const std::string elder = c.h.OpenPerson(1950);
  REQUIRE(c.h.Submit(Serve(elder, 120)).ok());
  // H sets 60 minutes aside for care in X, for three days.
  const EntryBody aside = c.h.Body(Hold{elder, 60, c.h.now + 3 * 86400, "meals", "510105"});
  REQUIRE(c.h.ledger().Append(c.h.Sign(aside)).ok());
  CHECK(c.h.BalanceOf(elder) == 60);
  // X cannot claim what its copy of H does not show yet.
  CHECK(c.x.Submit(Claim{"510104", aside.id, 45}).code() == Code::kHoldNotFound);
  Follow(c.h.ledger(), *c.h_at_x);
  REQUIRE(SyncTo(c.x, *c.h_at_x, "510104").ok());

  // H is now unreachable; X gives the care and claims it in its own log.
  const std::uint64_t before = c.x.ledger().Size();
  CHECK(c.x.Submit(Claim{"510104", aside.id, 61}).code() == Code::kInvalidAmount);
  CHECK(c.x.Submit(Claim{"510105", aside.id, 45}).code() == Code::kMalformedEntry);
  CHECK(c.x.Submit(Claim{"510104", aside.id, 45}, c.x.log_key.get()).code() == Code::kUnknownKey);
  c.x.now += 4 * 86400;
  CHECK(c.x.Submit(Claim{"510104", aside.id, 45}).code() == Code::kHoldExpired);
  c.x.now -= 4 * 86400;
  CHECK(c.x.ledger().Size() == before);
  REQUIRE(c.x.Submit(Claim{"510104", aside.id, 45}).ok());
  CHECK(c.x.Submit(Claim{"510104", aside.id, 10}).code() == Code::kHoldClosed);  // once
  auto claims = c.x.ledger().Claims(0, c.x.ledger().Size()).value();
  REQUIRE(claims.size() == 1);
  CHECK(claims[0].minutes == 45);

  // H syncs X: the hold is posted for 45, the other 15 go back to her.
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  CHECK(c.h.BalanceOf(elder) == 75);
  CHECK(c.h.BalanceOf(SystemAccountId("510104", SystemAccount::kRedeemed)) == 45);
  CHECK(c.h.BalanceOf(SystemAccountId("510104", SystemAccount::kHeld)) == 0);
  CHECK(c.h.Submit(HoldVoid{aside.id}).code() == Code::kHoldClosed);
  const std::int64_t day = (c.h.now + 8 * 3600) / 86400;
  CHECK(c.h.ledger().Clearing(day, day + 1).value().redeemed.at("510105") == 45);
  CHECK(c.h.ledger().SyncOf("510105").value().unpaid_claims == 0);

  // A stale copy: H voids a second set-aside before X's claim of it arrives. H keeps the
  // hours with her and counts the claim as unpaid, for the districts to settle.
  const EntryBody second = c.h.Body(Hold{elder, 30, c.h.now + 3 * 86400, "meals", "510105"});
  REQUIRE(c.h.ledger().Append(c.h.Sign(second)).ok());
  Follow(c.h.ledger(), *c.h_at_x);
  REQUIRE(SyncTo(c.x, *c.h_at_x, "510104").ok());
  REQUIRE(c.h.Submit(HoldVoid{second.id}).ok());
  REQUIRE(c.x.Submit(Claim{"510104", second.id, 30}).ok());
  Follow(c.x.ledger(), *c.x_at_h);
  REQUIRE(SyncTo(c.h, *c.x_at_h, "510105").ok());
  CHECK(c.h.BalanceOf(elder) == 75);
  CHECK(c.h.ledger().SyncOf("510105").value().unpaid_claims == 30);
  // X learns at its next sync of H that the hold ended there.
  Follow(c.h.ledger(), *c.h_at_x);
  REQUIRE(SyncTo(c.x, *c.h_at_x, "510104").ok());

  // A set-aside nobody claims is released only a claim window after its expiry.
  const EntryBody third = c.h.Body(Hold{elder, 20, c.h.now + 3600, "meals", "510105"});
  REQUIRE(c.h.ledger().Append(c.h.Sign(third)).ok());
  c.h.now += 2 * 3600;
  CHECK(c.h.Submit(HoldExpire{third.id}, c.h.log_key.get()).code() == Code::kHoldNotExpired);
  CHECK(c.h.ledger().ExpiredHolds(c.h.now, 10).value().empty());
  c.h.now += 86400;
  CHECK(c.h.ledger().ExpiredHolds(c.h.now, 10).value().size() == 1);
  REQUIRE(c.h.Submit(HoldExpire{third.id}, c.h.log_key.get()).ok());
  CHECK(c.h.BalanceOf(elder) == 75);
  for (Ledger* l : {&c.h.ledger(), &c.x.ledger(), c.x_at_h.get(), c.h_at_x.get()}) {
    auto audit = l->Audit();
    CHECK_MESSAGE(audit.ok(), audit.status().ToString());
  }
}
