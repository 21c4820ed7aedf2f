// merkle.cc — RFC 6962 / RFC 9162 tree hashing, proof generation and verification.
//
// Generation follows the RFC 6962 recursive definitions (MTH, PATH, SUBPROOF), walked
// iteratively; verification follows the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, which
// need no store. Path lengths are checked up front so that a proof of the wrong shape is
// reported as kInvalidArgument and only a proof of the right shape that does not hash to
// the root is reported as kCorruption.
#include <algorithm>
#include <bit>
#include <string>

#include "crypto.h"
#include "ledger/proof.h"
#include "merkle.h"

namespace ledger {
namespace {

// RFC 6962 split point: the largest power of two smaller than n (n >= 2).
std::uint64_t SplitPoint(std::uint64_t n) {
  return std::bit_floor(n - 1);
}

Hash Mth(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  std::size_t k = SplitPoint(leaves.size());
  return NodeHash(Mth(leaves.first(k)), Mth(leaves.subspan(k)));
}

// Right-shifts fn and sn together until fn's lowest bit is `bit` (or fn reaches zero).
void ShiftUntilLsb(std::uint64_t* fn, std::uint64_t* sn, bool bit) {
  while (*fn != 0 && ((*fn & 1) != 0) != bit) {
    *fn >>= 1;
    *sn >>= 1;
  }
}

// v >> bits, defined as 0 for bits == 64 (which a tree of more than 2^63 leaves reaches).
std::uint64_t ShiftRight(std::uint64_t v, int bits) {
  return bits >= 64 ? 0 : v >> bits;
}

// Number of hashes in the audit path of `index` in a tree of `size` (index < size): the
// levels below the point where the paths to index and to the last leaf part, plus one
// per left-hand perfect subtree above it.
std::size_t InclusionPathLength(std::uint64_t index, std::uint64_t size) {
  int inner = std::bit_width(index ^ (size - 1));
  return inner + std::popcount(ShiftRight(index, inner));
}

std::string SizeText(std::uint64_t a, std::uint64_t b) {
  return std::to_string(a) + " -> " + std::to_string(b);
}

}  // namespace

Hash LeafHash(std::string_view entry_bytes) {
  crypto::InitCrypto();
  return crypto::Sha256({std::string_view("\x00", 1), entry_bytes});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  crypto::InitCrypto();
  return crypto::Sha256({"\x01", crypto::AsView(left), crypto::AsView(right)});
}

Hash EmptyTreeRoot() {
  crypto::InitCrypto();
  return crypto::Sha256(std::string_view());
}

Hash RootFromLeafHashes(std::span<const Hash> leaves) {
  return leaves.empty() ? EmptyTreeRoot() : Mth(leaves);
}

namespace merkle {
TileSplit SplitTiles(std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t head = std::min(end, (begin + kTileLeaves - 1) / kTileLeaves * kTileLeaves);
  return {head, head + (end - head) / kTileLeaves * kTileLeaves};
}
}  // namespace merkle

std::uint64_t TileCoverSize(std::uint64_t begin, std::uint64_t end) {
  if (end <= begin) return 0;
  const merkle::TileSplit t = merkle::SplitTiles(begin, end);
  return (t.head - begin) + (t.tail - t.head) / 256 + (end - t.tail);
}

std::vector<Hash> TileCover(std::uint64_t begin, std::span<const Hash> leaves) {
  const std::uint64_t end = begin + leaves.size();
  std::vector<Hash> out;
  if (leaves.empty()) return out;
  const merkle::TileSplit t = merkle::SplitTiles(begin, end);
  out.reserve(TileCoverSize(begin, end));
  for (std::uint64_t i = begin; i < t.head; ++i) out.push_back(leaves[i - begin]);
  for (std::uint64_t i = t.head; i < t.tail; i += 256)
    out.push_back(Mth(leaves.subspan(i - begin, 256)));
  for (std::uint64_t i = t.tail; i < end; ++i) out.push_back(leaves[i - begin]);
  return out;
}

Status VerifyInclusion(const Hash& leaf_hash, const InclusionProof& proof, const Hash& root) {
  if (proof.index >= proof.tree_size) {
    return Status(Code::kInvalidArgument, "inclusion proof index " + std::to_string(proof.index) +
                                              " is outside a tree of size " +
                                              std::to_string(proof.tree_size));
  }
  std::size_t want = InclusionPathLength(proof.index, proof.tree_size);
  if (proof.path.size() != want) {
    return Status(Code::kInvalidArgument,
                  "inclusion proof for leaf " + std::to_string(proof.index) + " of " +
                      std::to_string(proof.tree_size) + " has " +
                      std::to_string(proof.path.size()) + " hashes, want " + std::to_string(want));
  }
  const Status mismatch(Code::kCorruption, "inclusion proof for leaf " +
                                               std::to_string(proof.index) + " of " +
                                               std::to_string(proof.tree_size) +
                                               " does not lead to the expected root");
  std::uint64_t fn = proof.index;
  std::uint64_t sn = proof.tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof.path) {
    if (sn == 0) return mismatch;  // unreachable after the length check; kept per RFC
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      ShiftUntilLsb(&fn, &sn, true);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || r != root) return mismatch;
  return Status::Ok();
}

Status VerifyConsistency(const ConsistencyProof& proof, const Hash& old_root,
                         const Hash& new_root) {
  const std::uint64_t m = proof.old_size;
  const std::uint64_t n = proof.new_size;
  const std::string sizes = SizeText(m, n);
  if (m > n) {
    return Status(Code::kInvalidArgument, "consistency proof goes backwards: " + sizes);
  }
  if (m == 0 || m == n) {
    // Nothing to prove beyond the roots themselves; RFC 9162 wants an empty path.
    if (!proof.path.empty()) {
      return Status(Code::kInvalidArgument, "consistency proof " + sizes + " must be empty");
    }
    if ((m == 0 && old_root != EmptyTreeRoot()) || (m == n && old_root != new_root)) {
      return Status(Code::kCorruption, "roots of " + sizes + " do not match");
    }
    return Status::Ok();
  }
  // Shape check (as in transparency-dev/merkle): the old tree's largest aligned right
  // subtree is a node of both trees; above it the path is an inclusion path for it.
  int shift = std::countr_zero(m);
  int inner = std::bit_width((m - 1) ^ (n - 1)) - shift;
  std::size_t want =
      inner + std::popcount(ShiftRight(m - 1, inner + shift)) + (std::has_single_bit(m) ? 0 : 1);
  if (proof.path.size() != want) {
    return Status(Code::kInvalidArgument, "consistency proof " + sizes + " has " +
                                              std::to_string(proof.path.size()) + " hashes, want " +
                                              std::to_string(want));
  }
  // RFC 9162 §2.1.4.2. When m is a power of two the old root is the seed node itself.
  std::vector<Hash> path;
  path.reserve(proof.path.size() + 1);
  if (std::has_single_bit(m)) path.push_back(old_root);
  path.insert(path.end(), proof.path.begin(), proof.path.end());
  const Status mismatch(Code::kCorruption,
                        "consistency proof " + sizes + " does not lead to the expected roots");
  std::uint64_t fn = m - 1;
  std::uint64_t sn = n - 1;
  ShiftUntilLsb(&fn, &sn, false);
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return mismatch;  // unreachable after the length check; kept per RFC
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftUntilLsb(&fn, &sn, true);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || fr != old_root || sr != new_root) return mismatch;
  return Status::Ok();
}

namespace merkle {

Result<Frontier> Frontier::Load(std::uint64_t size, const NodeReader& read) {
  Frontier f;
  std::uint64_t begin = 0;
  // One perfect subtree per set bit of size, largest (leftmost) first.
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    Result<Hash> h = read(level, begin >> level);
    if (!h.ok()) return h.status();
    f.stack_.push_back(*h);
    begin += std::uint64_t{1} << level;
  }
  f.size_ = size;
  return f;
}

void Frontier::Append(const Hash& leaf_hash, std::vector<NodeRef>* created) {
  Hash h = leaf_hash;
  int level = 0;
  std::uint64_t index = size_;
  if (created != nullptr) created->push_back({level, index, h});
  // Each trailing set bit of the old size is a left sibling this leaf now completes.
  while (((size_ >> level) & 1) != 0) {
    h = NodeHash(stack_.back(), h);
    stack_.pop_back();
    ++level;
    index >>= 1;
    if (created != nullptr) created->push_back({level, index, h});
  }
  stack_.push_back(h);
  ++size_;
}

void Frontier::AppendSubtree(int level, const Hash& hash) {
  const std::uint64_t leaves = std::uint64_t{1} << level;
  Hash h = hash;
  // The lower `level` bits of size_ are zero: the subtree is a left or right child the
  // way a leaf is, `level` levels up.
  while (((size_ >> level) & 1) != 0) {
    h = NodeHash(stack_.back(), h);
    stack_.pop_back();
    ++level;
  }
  stack_.push_back(h);
  size_ += leaves;
}

Hash Frontier::Root() const {
  if (stack_.empty()) return EmptyTreeRoot();
  // RFC 6962 combines the smallest (rightmost) subtrees first.
  Hash h = stack_.back();
  for (auto it = stack_.rbegin() + 1; it != stack_.rend(); ++it) h = NodeHash(*it, h);
  return h;
}

Result<Hash> RangeHash(std::uint64_t begin, std::uint64_t end, const NodeReader& read) {
  if (begin >= end) {
    return Status(Code::kInvalidArgument,
                  "empty leaf range [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    int level = std::countr_zero(n);
    return read(level, begin >> level);
  }
  std::uint64_t mid = begin + SplitPoint(n);
  Result<Hash> left = RangeHash(begin, mid, read);
  if (!left.ok()) return left;
  Result<Hash> right = RangeHash(mid, end, read);
  if (!right.ok()) return right;
  return NodeHash(*left, *right);
}

Result<std::vector<Hash>> InclusionPath(std::uint64_t index, std::uint64_t size,
                                        const NodeReader& read) {
  if (index >= size) {
    return Status(Code::kInvalidArgument, "no leaf " + std::to_string(index) +
                                              " in a tree of size " + std::to_string(size));
  }
  // PATH(m, D[begin:end)), descending toward the leaf; siblings come out root-side first.
  std::vector<Hash> path;
  std::uint64_t begin = 0;
  std::uint64_t end = size;
  while (end - begin > 1) {
    std::uint64_t mid = begin + SplitPoint(end - begin);
    Result<Hash> sibling = index < mid ? RangeHash(mid, end, read) : RangeHash(begin, mid, read);
    if (!sibling.ok()) return sibling.status();
    path.push_back(*sibling);
    (index < mid ? end : begin) = mid;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

Result<std::vector<Hash>> ConsistencyPath(std::uint64_t old_size, std::uint64_t new_size,
                                          const NodeReader& read) {
  if (old_size > new_size) {
    return Status(Code::kInvalidArgument,
                  "no consistency proof backwards: " + SizeText(old_size, new_size));
  }
  std::vector<Hash> path;
  if (old_size == 0) return path;  // the empty tree is a prefix of every tree
  // SUBPROOF(m, D[begin:end), b), descending; siblings come out root-side first.
  std::uint64_t m = old_size;
  std::uint64_t begin = 0;
  std::uint64_t end = new_size;
  bool whole_old_tree = true;  // RFC 6962's b: the part proved is the old root itself
  while (m != end - begin) {
    std::uint64_t k = SplitPoint(end - begin);
    Result<Hash> sibling =
        m <= k ? RangeHash(begin + k, end, read) : RangeHash(begin, begin + k, read);
    if (!sibling.ok()) return sibling.status();
    path.push_back(*sibling);
    if (m <= k) {
      end = begin + k;
    } else {
      begin += k;
      m -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) {
    // The verifier cannot know this subtree's hash from the old root alone.
    Result<Hash> h = RangeHash(begin, end, read);
    if (!h.ok()) return h.status();
    path.push_back(*h);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

}  // namespace merkle
}  // namespace ledger
