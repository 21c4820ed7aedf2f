// merkle.h — tree bookkeeping for a stored log (internal).
//
// The store keeps the hash of every *perfect* subtree: node (level, index) covers leaves
// [index << level, (index + 1) << level). Level 0 are the leaf hashes. That is exactly
// the layout C2SP tlog-tiles serves (a tile of level L holds nodes of tree level 8L), and
// every hash an RFC 6962 proof needs is either such a node or computed from a few of them.
// Threading: Frontier is a plain value; the free functions only call `read`.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ledger/proof.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger::merkle {

struct NodeRef {
  int level = 0;
  std::uint64_t index = 0;
  Hash hash{};
};

// Reads a stored perfect-subtree hash; must exist for every complete node of the tree.
using NodeReader = std::function<Result<Hash>(int level, std::uint64_t index)>;

// The right edge of the tree: one perfect subtree per set bit of size().
class Frontier {
 public:
  // Rebuilds the frontier of a tree of `size` from stored nodes: O(log size) reads.
  static Result<Frontier> Load(std::uint64_t size, const NodeReader& read);

  std::uint64_t size() const { return size_; }
  // Adds a leaf hash; appends to `created` every perfect-subtree node this completes
  // (the leaf itself at level 0 first, then its completed ancestors).
  void Append(const Hash& leaf_hash, std::vector<NodeRef>* created);
  // Adds the perfect subtree of 2^level leaves whose hash is `hash`; size() must be a
  // multiple of 2^level. (Its nodes are not known, so none are reported.)
  void AppendSubtree(int level, const Hash& hash);
  // The RFC 6962 root of the current tree (EmptyTreeRoot() when size() == 0).
  Hash Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> stack_;  // hashes of the perfect subtrees, largest (leftmost) first
};

// Leaves [begin, end) as C2SP tiles of 256: leaves [begin, head) of a tile covered in
// part, whole tiles [head, tail), leaves [tail, end) of a last tile covered in part.
// (The layout of TileCover, proof.h.)
inline constexpr std::uint64_t kTileLeaves = 256;
struct TileSplit {
  std::uint64_t head = 0, tail = 0;
};
TileSplit SplitTiles(std::uint64_t begin, std::uint64_t end);

// MTH(D[begin:end)) from stored perfect-subtree nodes; 0 <= begin < end.
Result<Hash> RangeHash(std::uint64_t begin, std::uint64_t end, const NodeReader& read);
// RFC 9162 §2.1.3 audit path for `index` in the tree of `size`.
Result<std::vector<Hash>> InclusionPath(std::uint64_t index, std::uint64_t size,
                                        const NodeReader& read);
// RFC 9162 §2.1.4 consistency proof between sizes old_size <= new_size.
Result<std::vector<Hash>> ConsistencyPath(std::uint64_t old_size, std::uint64_t new_size,
                                          const NodeReader& read);

}  // namespace ledger::merkle
