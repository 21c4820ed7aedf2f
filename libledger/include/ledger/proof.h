// ledger/proof.h — RFC 6962 / RFC 9162 Merkle tree hashing and proof verification.
//
// Stateless: nothing here needs a store, so auditors and clients verify with these alone.
// Threading: free functions on values; safe from any thread.
//
// Tree: SHA-256; leaf hash = SHA-256(0x00 || entry bytes); interior node =
// SHA-256(0x01 || left || right); the empty tree's root is SHA-256("").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

struct InclusionProof {
  std::uint64_t index = 0;      // the leaf's position, 0-based
  std::uint64_t tree_size = 0;  // the size of the tree the proof is for
  std::vector<Hash> path;       // audit path, leaf-side first (RFC 9162 §2.1.3)
};

struct ConsistencyProof {
  std::uint64_t old_size = 0;
  std::uint64_t new_size = 0;
  std::vector<Hash> path;  // RFC 9162 §2.1.4
};

Hash LeafHash(std::string_view entry_bytes);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyTreeRoot();
// MTH of a whole list of leaf hashes (O(n)); for tests, vectors and auditors.
Hash RootFromLeafHashes(std::span<const Hash> leaves);

// The hashes that prove leaves [begin, begin + leaves.size()) of a tree, tile by tile, as
// C2SP tlog-tiles serves them: for each tile of 256 leaves the range covers whole, its
// level-8 subtree hash (an entry of a level-1 tile); for a tile it covers in part (at
// either end), the leaf hashes of that part (from the level-0 tile). In leaf order.
// Ledger::BeginReplication takes these: 32 bytes a tile instead of 32 bytes an entry.
std::vector<Hash> TileCover(std::uint64_t begin, std::span<const Hash> leaves);
// How many hashes TileCover gives for leaves [begin, end).
std::uint64_t TileCoverSize(std::uint64_t begin, std::uint64_t end);

// Ok when `leaf_hash` sits at proof.index in the tree of proof.tree_size whose root is
// `root`. Errors: kInvalidArgument (index out of range, wrong path length),
// kCorruption (the path does not lead to `root`).
Status VerifyInclusion(const Hash& leaf_hash, const InclusionProof& proof, const Hash& root);

// Ok when the tree of old_size with `old_root` is a prefix of the tree of new_size with
// `new_root`. Errors as VerifyInclusion.
Status VerifyConsistency(const ConsistencyProof& proof, const Hash& old_root, const Hash& new_root);

}  // namespace ledger
