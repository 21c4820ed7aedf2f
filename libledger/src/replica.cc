// Replicas: verified copies of other districts' logs (docs/federation.md §3).
//
// A replica follows its district's signed checkpoints. Before any entry is taken, the
// tile cover of the new entries (a level-8 hash per whole tile of 256, leaf hashes for a
// tile covered in part: C2SP level-1 and level-0 tiles) must extend the replica's own
// tree to the checkpoint's root; the entries are then checked against the cover and
// replayed through the same rules the district applied. So a
// replica holds exactly a prefix of the tree its district signed, and the state that tree
// implies — whoever served the bytes.
#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <thread>

#include "keyspace.h"
#include "ledger_impl.h"

namespace ledger {

namespace {

std::string LengthPrefixed(std::string_view s) {
  std::string out;
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(s.size() >> (8 * i)));
  return out.append(s);
}

}  // namespace

Status LedgerImpl::PutMeta(std::string_view key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Put(wo, rocksdb::Slice(key.data(), key.size()), value);
  if (!s.ok()) return Status(Code::kIoError, "writing " + std::string(key) + ": " + s.ToString());
  state_reader_.Publish(TakeSnapshot());
  state_reader_.Committed({{std::string(key), value}});
  return Status::Ok();
}

Status LedgerImpl::BeginReplication(std::string_view note, std::span<const Hash> cover) {
  if (!replica_)
    return Status(Code::kInvalidArgument,
                  "BeginReplication is for replicas (Options.replica_verifier)");
  auto cp = OpenCheckpoint(note, *replica_verifier_);
  if (!cp.ok()) return cp.status();
  std::lock_guard lk(replicate_mu_);
  const std::uint64_t size = Size();
  if (cp->size <= size) {
    // Nothing new: the checkpoint must describe the tree this replica already holds.
    auto root = RootAt(cp->size);
    if (!root.ok()) return root.status();
    if (*root != cp->root) {
      auto held = SignedCheckpoint();
      std::string evidence = LengthPrefixed(held.ok() ? *held : std::string());
      evidence += LengthPrefixed(note);
      if (Status s = PutMeta(keys::kEvidence, evidence); !s.ok()) return s;
      return Status(Code::kEquivocation,
                    fmt::format("{} signed a tree of size {} with root {}, but its log as "
                                "replicated here has root {} at that size",
                                cp->origin, cp->size, ToHex(cp->root).substr(0, 16),
                                ToHex(*root).substr(0, 16)));
    }
    if (!cover.empty())
      return Status(Code::kInvalidArgument, "no hashes are needed for a checkpoint already held");
    // The district's note for exactly the replica's tree becomes the one it serves.
    auto held = SignedCheckpoint();
    const bool newer = !held.ok() || OpenCheckpoint(*held, *replica_verifier_)->size < cp->size;
    if (cp->size == size && newer) return PutMeta(keys::kPeerNote, std::string(note));
    return Status::Ok();
  }
  if (cover.size() != TileCoverSize(size, cp->size))
    return Status(Code::kInvalidArgument,
                  fmt::format("the checkpoint adds entries {}..{} to the replica; their tile "
                              "cover has {} hashes, {} were given",
                              size, cp->size - 1, TileCoverSize(size, cp->size), cover.size()));
  merkle::Frontier tree;
  {
    std::lock_guard tl(tree_mu_);
    tree = frontier_;
  }
  const merkle::TileSplit t = merkle::SplitTiles(size, cp->size);
  std::size_t k = 0;
  for (std::uint64_t i = size; i < cp->size; ++k) {
    const bool whole = i >= t.head && i < t.tail;
    if (whole)
      tree.AppendSubtree(8, cover[k]);
    else
      tree.Append(cover[k], nullptr);
    i += whole ? merkle::kTileLeaves : 1;
  }
  if (tree.Root() != cp->root)
    return Status(Code::kCorruption,
                  fmt::format("the hashes given do not extend the replica's tree of size {} "
                              "to the root of {}'s checkpoint of size {}",
                              size, cp->origin, cp->size));
  pending_ = Extension{std::string(note), *cp, size, {cover.begin(), cover.end()}};
  return Status::Ok();
}

// Entries [size, size + n) against the cover of the checkpoint being replicated: each leaf
// of a tile covered in part, each whole tile as its level-8 subtree hash. Their leaf
// hashes go to `leaves` (the append path then need not hash them again).
Status LedgerImpl::CheckAgainstCover(std::uint64_t size, std::span<const std::string> entries,
                                     std::vector<Hash>* leaves) {
  const Extension& x = *pending_;
  const merkle::TileSplit t = merkle::SplitTiles(x.start, x.cp.size);
  const std::uint64_t end = size + entries.size();
  if (end > t.head && end < t.tail && (end - t.head) % merkle::kTileLeaves != 0)
    return Status(Code::kInvalidArgument,
                  fmt::format("entries {}..{} end inside tile {}: entries are replicated by whole "
                              "tiles of 256 (or up to the checkpoint's size)",
                              size, end - 1, end / merkle::kTileLeaves));
  auto cover_index = [&](std::uint64_t i) -> std::size_t {
    if (i < t.head) return i - x.start;
    if (i < t.tail) return (t.head - x.start) + (i - t.head) / merkle::kTileLeaves;
    return (t.head - x.start) + (t.tail - t.head) / merkle::kTileLeaves + (i - t.tail);
  };
  leaves->assign(entries.size(), Hash{});
  verify_pool_.ParallelFor(entries.size(), 256, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) (*leaves)[i] = LeafHash(entries[i]);
  });
  std::vector<Hash> tile;
  for (std::uint64_t i = size; i < end;) {
    if (i >= t.head && i < t.tail) {
      // A whole tile: its leaves hash to its level-8 hash. When an earlier Replicate stopped
      // inside it (a sync waiting for another copy), its first leaves are the stored ones.
      const std::uint64_t first = i - (i - t.head) % merkle::kTileLeaves;
      tile.clear();
      for (std::uint64_t j = first; j < i; ++j) {
        auto stored = Get(keys::Entry(j));
        if (!stored.ok()) return stored.status();
        if (!stored->has_value() || (*stored)->size() < 32)
          return Status(Code::kCorruption, fmt::format("entry {} is missing", j));
        Hash h;
        std::memcpy(h.data(), (*stored)->data(), 32);
        tile.push_back(h);
      }
      for (std::uint64_t j = i; j < first + merkle::kTileLeaves; ++j)
        tile.push_back((*leaves)[j - size]);
      if (RootFromLeafHashes(tile) != x.cover[cover_index(first)])
        return Status(Code::kCorruption, fmt::format("entries {}..{} are not tile {} of {}'s tree",
                                                     first, first + merkle::kTileLeaves - 1,
                                                     first / merkle::kTileLeaves, x.cp.origin));
      i = first + merkle::kTileLeaves;
      continue;
    }
    if ((*leaves)[i - size] != x.cover[cover_index(i)])
      return Status(
          Code::kCorruption,
          fmt::format("entry {} is not the one {}'s tree holds at that position", i, x.cp.origin));
    ++i;
  }
  return Status::Ok();
}

Result<std::uint64_t> LedgerImpl::Replicate(std::span<const std::string> entries) {
  std::lock_guard lk(replicate_mu_);
  if (!pending_)
    return Status(Code::kInvalidArgument, "call BeginReplication with a checkpoint first");
  const std::uint64_t size = Size();
  if (entries.size() > pending_->cp.size - size)
    return Status(Code::kInvalidArgument, fmt::format("{} entries go past the checkpoint's size {}",
                                                      entries.size(), pending_->cp.size));
  std::vector<Hash> leaves;
  if (Status s = CheckAgainstCover(size, entries, &leaves); !s.ok()) return s;
  replica_refused_ = false;
  std::vector<Result<Appended>> results = AppendEntries(entries, leaves);
  for (std::size_t i = 0; i < results.size(); ++i) {
    // A sync of a log this replica's peers do not hold that far yet: not a fault; the
    // entries before it are in, and it goes in once the other copy has caught up.
    if (results[i].code() == Code::kUnknownPeer)
      return Status(Code::kUnknownPeer, fmt::format("{}'s entry {} waits: {}", pending_->cp.origin,
                                                    size + i, results[i].status().message()));
    // The copy's own failure (a write the disk refused, or one inside the library) is not
    // the district's fault: passed on as it is (sticky until the copy is reopened).
    if (results[i].code() == Code::kIoError || results[i].code() == Code::kInternal)
      return Status(results[i].code(),
                    fmt::format("{}'s entry {} is not stored: {}", pending_->cp.origin, size + i,
                                results[i].status().message()));
    if (!results[i].ok())
      return Status(Code::kCorruption,
                    fmt::format("{}'s entry {} is refused by the rules here: {}",
                                pending_->cp.origin, size + i, results[i].status().ToString()));
  }
  if (Size() == pending_->cp.size) {
    if (Status s = PutMeta(keys::kPeerNote, pending_->note); !s.ok()) return s;
    pending_.reset();
  }
  return Size();
}

Status LedgerImpl::CheckFork(std::string_view note, std::span<const Hash> leaf_hashes) {
  if (!replica_) return Status(Code::kInvalidArgument, "CheckFork is for replicas");
  auto cp = OpenCheckpoint(note, *replica_verifier_);
  if (!cp.ok()) return cp.status();
  if (leaf_hashes.size() != cp->size || RootFromLeafHashes(leaf_hashes) != cp->root)
    return Status(Code::kCorruption, fmt::format("the hashes served are not {}'s tree of size {}",
                                                 cp->origin, cp->size));
  std::lock_guard lk(replicate_mu_);
  auto held = SignedCheckpoint();
  if (!held.ok()) return Status::Ok();  // nothing signed held yet: nothing to contradict
  auto held_cp = OpenCheckpoint(*held, *replica_verifier_);
  if (!held_cp.ok() || held_cp->size > cp->size) return Status::Ok();
  if (RootFromLeafHashes(leaf_hashes.first(held_cp->size)) == held_cp->root) return Status::Ok();
  std::string evidence = LengthPrefixed(*held) + LengthPrefixed(note);
  if (Status s = PutMeta(keys::kEvidence, evidence); !s.ok()) return s;
  return Status(Code::kEquivocation,
                fmt::format("{} signed a tree of size {} whose first {} entries differ from the "
                            "tree of that size it signed before",
                            cp->origin, cp->size, held_cp->size));
}

Status LedgerImpl::ClearEquivocationEvidence() {
  if (!replica_) return Status(Code::kInvalidArgument, "equivocation evidence is kept by replicas");
  std::lock_guard lk(replicate_mu_);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::string key(keys::kEvidence);
  rocksdb::Status s = db_->Delete(wo, key);
  if (!s.ok()) return Status(Code::kIoError, "clearing the evidence: " + s.ToString());
  state_reader_.Publish(TakeSnapshot());
  state_reader_.Deleted(key);
  return Status::Ok();
}

std::vector<std::string> LedgerImpl::EquivocationEvidence() {
  auto v = Get(std::string(keys::kEvidence));
  std::vector<std::string> out;
  if (!v.ok() || !v->has_value()) return out;
  std::string_view rest = **v;
  while (rest.size() >= 4) {
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(rest[i]);
    if (rest.size() - 4 < n) break;
    out.emplace_back(rest.substr(4, n));
    rest.remove_prefix(4 + n);
  }
  return out;
}

}  // namespace ledger
