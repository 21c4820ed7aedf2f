// city.h — several districts' ledgers and their copies of each other, in one process, for
// the federation tests (docs/federation.md §3–§4; node tests run real nodes instead).
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "district.h"
#include "ledger/checkpoint.h"
#include "ledger/federation.h"
#include "ledger/proof.h"

namespace ledger::testing {

inline std::shared_ptr<Ledger> OpenReplica(const std::string& dir, Ledger& of,
                                           std::shared_ptr<PeerLogs> peers) {
  Options o;
  o.replica_verifier = of.VerifierKey().value();
  o.peers = std::move(peers);
  auto l = Ledger::Open(o, dir);
  REQUIRE_MESSAGE(l.ok(), l.status().ToString());
  return std::shared_ptr<Ledger>(std::move(l).value());
}

// Brings `replica` up to `source`'s current checkpoint the way a node does: leaf hashes
// first (checked against the signed root), then the entries in chunks.
inline void Follow(Ledger& source, Ledger& replica, std::size_t chunk = 37) {
  const std::string note = source.SignedCheckpoint().value();
  const std::uint64_t from = replica.Size(), to = source.CurrentCheckpoint().size;
  if (auto held = replica.SignedCheckpoint(); from == to && held.ok() && *held == note) return;
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  for (std::uint64_t i = from; i < to; ++i) {
    entries.push_back(source.GetEntry(i).value());
    leaves.push_back(LeafHash(entries.back()));
  }
  Status begun = replica.BeginReplication(note, TileCover(from, leaves));
  REQUIRE_MESSAGE(begun.ok(), begun.ToString());
  // Chunks of `chunk` entries where a tile is covered in part, whole tiles elsewhere.
  for (std::size_t i = 0, n; i < entries.size(); i += n) {
    n = std::min(chunk, entries.size() - i);
    const std::uint64_t end = from + i + n,
                        head = std::min<std::uint64_t>(to, (from + 255) / 256 * 256);
    if (end > head && end < head + (to - head) / 256 * 256) n += (256 - (end - head) % 256) % 256;
    auto size = replica.Replicate(std::span<const std::string>(entries.data() + i, n));
    REQUIRE_MESSAGE(size.ok(), size.status().ToString());
    CHECK(*size == from + i + n);
  }
  CHECK(replica.Size() == to);
  CHECK(replica.SignedCheckpoint().value() == note);
}

// Appends sync(peer, size, root) to `home`, signed with its log key.
inline Result<Appended> SyncTo(District& home, Ledger& replica, const std::string& peer) {
  const Checkpoint cp = replica.CurrentCheckpoint();
  return home.Submit(Sync{peer, cp.size, cp.root}, home.log_key.get());
}

inline Minutes Interdistrict(District& d) {
  return d.BalanceOf(SystemAccountId(d.code(), SystemAccount::kInterdistrict));
}

// Two districts, H = 510104 and X = 510105, each holding a verified copy of the other.
struct City {
  TempDir dir_h, dir_x, dir_rx, dir_rh;
  std::shared_ptr<LedgerPeers> peers_h = std::make_shared<LedgerPeers>();  // at H's node
  std::shared_ptr<LedgerPeers> peers_x = std::make_shared<LedgerPeers>();  // at X's node
  District h{dir_h.path(), "510104", DefaultPolicy(), peers_h, 1};
  District x{dir_x.path(), "510105", DefaultPolicy(), peers_x, 11};
  std::shared_ptr<Ledger> x_at_h = OpenReplica(dir_rx.path(), x.ledger(), peers_h);
  std::shared_ptr<Ledger> h_at_x = OpenReplica(dir_rh.path(), h.ledger(), peers_x);
  City() {
    peers_h->Add("510104", h.shared());
    peers_h->Add("510105", x_at_h);
    peers_x->Add("510105", x.shared());
    peers_x->Add("510104", h_at_x);
  }
};

// Three districts, each holding verified copies of the other two: O = 510104,
// T = 510105, X = 510106 (named for the moving-home tests: old home, new home, elsewhere).
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

}  // namespace ledger::testing
