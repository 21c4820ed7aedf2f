// city.h — several districts' ledgers and their copies of each other, in one process, for
// the federation tests (docs/federation.md §3–§4; node tests run real nodes instead).
#pragma once

#include <doctest/doctest.h>

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
  Status begun = replica.BeginReplication(note, leaves);
  REQUIRE_MESSAGE(begun.ok(), begun.ToString());
  for (std::size_t i = 0; i < entries.size(); i += chunk) {
    const std::size_t n = std::min(chunk, entries.size() - i);
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

}  // namespace ledger::testing
