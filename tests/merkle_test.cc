// Tests of the Merkle tree: RFC 6962 hashing, proofs, the frontier and node reads.
//
// Known answers come from transparency-dev/merkle (proof/verify_test.go), which carries
// the Certificate Transparency reference vectors; the rest are properties checked over
// every tree size up to 70 against an in-memory node store.
#include <doctest/doctest.h>

#include <bit>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/proof.h"
#include "ledger/types.h"
#include "merkle.h"

#ifndef TIMEBANK_SCHEMA_DIR
#define TIMEBANK_SCHEMA_DIR "schema"
#endif

namespace ledger {
namespace {

Hash H(std::string_view hex) {
  Hash h{};
  REQUIRE_MESSAGE(FromHex(hex, &h), hex);
  return h;
}

std::vector<Hash> Hs(std::initializer_list<std::string_view> hexes) {
  std::vector<Hash> out;
  for (auto hex : hexes) out.push_back(H(hex));
  return out;
}

Hash Flip(Hash h, int byte = 0) {
  h[byte] ^= 0x10;
  return h;
}

// The CT reference leaves: "", 00, 10, 2021, 3031, 40414243, 50..57, 60..6f.
const std::vector<std::string> kCtLeaves = {
    std::string(),
    std::string("\x00", 1),
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};

// Roots of the trees of the first 1..8 CT leaves.
const std::vector<std::string_view> kCtRoots = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Hash> LeafHashes(const std::vector<std::string>& entries) {
  std::vector<Hash> out;
  for (const auto& e : entries) out.push_back(LeafHash(e));
  return out;
}

// Every perfect-subtree node of a list of leaves, computed independently of Frontier.
class MemoryTree {
 public:
  explicit MemoryTree(std::vector<Hash> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() >= 2) {
      const auto& below = levels_.back();
      std::vector<Hash> up;
      for (std::size_t i = 0; i + 1 < below.size(); i += 2)
        up.push_back(NodeHash(below[i], below[i + 1]));
      levels_.push_back(std::move(up));
    }
  }

  const std::vector<Hash>& leaves() const { return levels_[0]; }
  Hash Root(std::size_t size) const { return RootFromLeafHashes(std::span(leaves()).first(size)); }
  bool Has(int level, std::uint64_t index) const {
    return level >= 0 && static_cast<std::size_t>(level) < levels_.size() &&
           index < levels_[level].size();
  }
  const Hash& At(int level, std::uint64_t index) const { return levels_[level][index]; }

  // A reader for the tree of the first `size` leaves: a node outside it is an error,
  // which catches proofs that look at leaves the tree does not have yet.
  merkle::NodeReader Reader(std::uint64_t size, int* reads = nullptr) const {
    return [this, size, reads](int level, std::uint64_t index) -> Result<Hash> {
      if (reads != nullptr) ++*reads;
      if (!Has(level, index) || ((index + 1) << level) > size) {
        return Status(Code::kNotFound, "no node " + std::to_string(level) + "/" +
                                           std::to_string(index) + " in tree of " +
                                           std::to_string(size));
      }
      return At(level, index);
    };
  }

 private:
  std::vector<std::vector<Hash>> levels_;
};

MemoryTree CtTree() {
  return MemoryTree(LeafHashes(kCtLeaves));
}

MemoryTree NumberedTree(int n) {
  std::vector<Hash> leaves;
  for (int i = 0; i < n; ++i) leaves.push_back(LeafHash("entry " + std::to_string(i)));
  return MemoryTree(std::move(leaves));
}

TEST_CASE("hashing follows RFC 6962") {
  CHECK(ToHex(EmptyTreeRoot()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(RootFromLeafHashes({}) == EmptyTreeRoot());
  CHECK(merkle::Frontier().Root() == EmptyTreeRoot());
  // The leaf hash of the empty entry is the CT root of size 1.
  CHECK(LeafHash("") == H(kCtRoots[0]));
  Hash a = LeafHash("a");
  Hash b = LeafHash("b");
  CHECK(NodeHash(a, b) != NodeHash(b, a));
  CHECK(RootFromLeafHashes(std::vector<Hash>{a, b}) == NodeHash(a, b));
  // Domain separation: a leaf that looks like an interior node hashes differently.
  std::string node_bytes(reinterpret_cast<const char*>(a.data()), 32);
  node_bytes += std::string(reinterpret_cast<const char*>(b.data()), 32);
  CHECK(LeafHash(node_bytes) != NodeHash(a, b));
}

TEST_CASE("known answers: roots of the CT test tree, sizes 1..8") {
  MemoryTree tree = CtTree();
  merkle::Frontier frontier;
  for (std::size_t n = 1; n <= 8; ++n) {
    CAPTURE(n);
    frontier.Append(tree.leaves()[n - 1], nullptr);
    CHECK(ToHex(tree.Root(n)) == kCtRoots[n - 1]);
    CHECK(ToHex(frontier.Root()) == kCtRoots[n - 1]);
    Result<Hash> range = merkle::RangeHash(0, n, tree.Reader(n));
    REQUIRE(range.ok());
    CHECK(ToHex(*range) == kCtRoots[n - 1]);
  }
}

struct KnownProof {
  std::uint64_t a;  // leaf index, or old size
  std::uint64_t b;  // tree size, or new size
  std::vector<Hash> path;
};

TEST_CASE("known answers: inclusion proofs of the CT test tree") {
  const std::vector<KnownProof> known = {
      {0, 1, {}},
      {0, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  MemoryTree tree = CtTree();
  for (const KnownProof& k : known) {
    CAPTURE(k.a);
    CAPTURE(k.b);
    Result<std::vector<Hash>> path = merkle::InclusionPath(k.a, k.b, tree.Reader(k.b));
    REQUIRE(path.ok());
    CHECK(*path == k.path);
    const Hash root = H(kCtRoots[k.b - 1]);
    const Hash leaf = tree.leaves()[k.a];
    CHECK(VerifyInclusion(leaf, {k.a, k.b, k.path}, root).ok());
    // Probes from the reference tests: every one must be refused.
    CHECK_FALSE(VerifyInclusion(leaf, {k.a - 1, k.b, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(leaf, {k.a + 1, k.b, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(leaf, {k.a ^ 2, k.b, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(leaf, {k.a, k.b * 2, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(leaf, {k.a, k.b / 2, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(LeafHash("WrongLeaf"), {k.a, k.b, k.path}, root).ok());
    CHECK_FALSE(VerifyInclusion(leaf, {k.a, k.b, k.path}, EmptyTreeRoot()).ok());
    std::vector<Hash> longer = k.path;
    longer.push_back(root);
    CHECK(VerifyInclusion(leaf, {k.a, k.b, longer}, root).code() == Code::kInvalidArgument);
    longer.insert(longer.begin(), root);
    longer.pop_back();
    CHECK(VerifyInclusion(leaf, {k.a, k.b, longer}, root).code() == Code::kInvalidArgument);
    for (std::size_t i = 0; i < k.path.size(); ++i) {
      std::vector<Hash> bad = k.path;
      bad[i] = Flip(bad[i]);
      CHECK(VerifyInclusion(leaf, {k.a, k.b, bad}, root).code() == Code::kCorruption);
    }
  }
}

TEST_CASE("known answers: consistency proofs of the CT test tree") {
  const std::vector<KnownProof> known = {
      {1, 1, {}},
      {1, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
  MemoryTree tree = CtTree();
  for (const KnownProof& k : known) {
    CAPTURE(k.a);
    CAPTURE(k.b);
    Result<std::vector<Hash>> path = merkle::ConsistencyPath(k.a, k.b, tree.Reader(k.b));
    REQUIRE(path.ok());
    CHECK(*path == k.path);
    const Hash root1 = H(kCtRoots[k.a - 1]);
    const Hash root2 = H(kCtRoots[k.b - 1]);
    CHECK(VerifyConsistency({k.a, k.b, k.path}, root1, root2).ok());
    if (k.path.empty()) continue;
    CHECK_FALSE(VerifyConsistency({k.a - 1, k.b, k.path}, root1, root2).ok());
    CHECK_FALSE(VerifyConsistency({k.a + 1, k.b, k.path}, root1, root2).ok());
    CHECK_FALSE(VerifyConsistency({k.a ^ 2, k.b, k.path}, root1, root2).ok());
    CHECK_FALSE(VerifyConsistency({k.a, k.b * 2, k.path}, root1, root2).ok());
    CHECK_FALSE(VerifyConsistency({k.a, k.b / 2, k.path}, root1, root2).ok());
    CHECK_FALSE(VerifyConsistency({k.a, k.b, k.path}, root2, root1).ok());
    CHECK_FALSE(VerifyConsistency({k.a, k.b, {}}, root1, root2).ok());
    std::vector<Hash> longer = k.path;
    longer.push_back(root1);
    CHECK(VerifyConsistency({k.a, k.b, longer}, root1, root2).code() == Code::kInvalidArgument);
    std::vector<Hash> shorter(k.path.begin(), k.path.end() - 1);
    CHECK(VerifyConsistency({k.a, k.b, shorter}, root1, root2).code() == Code::kInvalidArgument);
    for (std::size_t i = 0; i < k.path.size(); ++i) {
      std::vector<Hash> bad = k.path;
      bad[i] = Flip(bad[i]);
      CHECK(VerifyConsistency({k.a, k.b, bad}, root1, root2).code() == Code::kCorruption);
    }
  }
}

TEST_CASE("verification of degenerate sizes") {
  const Hash some = LeafHash("some");
  const Hash other = LeafHash("other");
  // Inclusion in an empty tree, or beyond the tree, is a caller error.
  CHECK(VerifyInclusion(some, {0, 0, {}}, EmptyTreeRoot()).code() == Code::kInvalidArgument);
  CHECK(VerifyInclusion(some, {1, 0, {}}, EmptyTreeRoot()).code() == Code::kInvalidArgument);
  CHECK(VerifyInclusion(some, {2, 1, {}}, some).code() == Code::kInvalidArgument);
  // A one-leaf tree's root is its leaf hash.
  CHECK(VerifyInclusion(some, {0, 1, {}}, some).ok());
  CHECK(VerifyInclusion(some, {0, 1, {}}, other).code() == Code::kCorruption);
  // Consistency: equal sizes need equal roots; the empty tree precedes every tree.
  CHECK(VerifyConsistency({0, 0, {}}, EmptyTreeRoot(), EmptyTreeRoot()).ok());
  CHECK(VerifyConsistency({0, 5, {}}, EmptyTreeRoot(), some).ok());
  CHECK(VerifyConsistency({0, 5, {}}, some, other).code() == Code::kCorruption);
  CHECK(VerifyConsistency({1, 1, {}}, some, some).ok());
  CHECK(VerifyConsistency({1, 1, {}}, some, other).code() == Code::kCorruption);
  CHECK(VerifyConsistency({1, 1, {some}}, some, some).code() == Code::kInvalidArgument);
  CHECK(VerifyConsistency({0, 1, {some}}, EmptyTreeRoot(), some).code() == Code::kInvalidArgument);
  CHECK(VerifyConsistency({1, 0, {}}, some, other).code() == Code::kInvalidArgument);
  CHECK(VerifyConsistency({2, 1, {}}, some, other).code() == Code::kInvalidArgument);
  CHECK(VerifyConsistency({1, 2, {}}, some, other).code() == Code::kInvalidArgument);
}

constexpr int kMaxSize = 70;

TEST_CASE("every inclusion proof in trees of size 1..70 verifies, and tampering fails") {
  MemoryTree tree = NumberedTree(kMaxSize);
  for (std::uint64_t n = 1; n <= kMaxSize; ++n) {
    const Hash root = tree.Root(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      CAPTURE(n);
      CAPTURE(i);
      const Hash& leaf = tree.leaves()[i];
      Result<std::vector<Hash>> path = merkle::InclusionPath(i, n, tree.Reader(n));
      REQUIRE(path.ok());
      REQUIRE(VerifyInclusion(leaf, {i, n, *path}, root).ok());
      CHECK(VerifyInclusion(leaf, {i, n, *path}, Flip(root, 31)).code() == Code::kCorruption);
      CHECK(VerifyInclusion(LeafHash("x"), {i, n, *path}, root).code() == Code::kCorruption);
      if (n > 1) CHECK_FALSE(VerifyInclusion(leaf, {(i + 1) % n, n, *path}, root).ok());
      for (std::size_t k = 0; k < path->size(); ++k) {
        std::vector<Hash> bad = *path;
        bad[k] = Flip(bad[k], static_cast<int>(k % 32));
        CHECK(VerifyInclusion(leaf, {i, n, bad}, root).code() == Code::kCorruption);
      }
      std::vector<Hash> longer = *path;
      longer.push_back(root);
      CHECK(VerifyInclusion(leaf, {i, n, longer}, root).code() == Code::kInvalidArgument);
      if (!path->empty()) {
        std::vector<Hash> shorter(path->begin(), path->end() - 1);
        CHECK(VerifyInclusion(leaf, {i, n, shorter}, root).code() == Code::kInvalidArgument);
      }
    }
  }
}

TEST_CASE("every consistency proof between sizes 0..70 verifies, and tampering fails") {
  MemoryTree tree = NumberedTree(kMaxSize);
  for (std::uint64_t n = 0; n <= kMaxSize; ++n) {
    for (std::uint64_t m = 0; m <= n; ++m) {
      CAPTURE(m);
      CAPTURE(n);
      const Hash root1 = tree.Root(m);
      const Hash root2 = tree.Root(n);
      Result<std::vector<Hash>> path = merkle::ConsistencyPath(m, n, tree.Reader(n));
      REQUIRE(path.ok());
      REQUIRE(VerifyConsistency({m, n, *path}, root1, root2).ok());
      CHECK(VerifyConsistency({m, n, *path}, Flip(root1), root2).code() == Code::kCorruption);
      if (m > 0) {
        CHECK(VerifyConsistency({m, n, *path}, root1, Flip(root2)).code() == Code::kCorruption);
      }
      for (std::size_t k = 0; k < path->size(); ++k) {
        std::vector<Hash> bad = *path;
        bad[k] = Flip(bad[k], static_cast<int>(k % 32));
        CHECK(VerifyConsistency({m, n, bad}, root1, root2).code() == Code::kCorruption);
      }
      std::vector<Hash> longer = *path;
      longer.push_back(root2);
      CHECK(VerifyConsistency({m, n, longer}, root1, root2).code() == Code::kInvalidArgument);
      if (!path->empty()) {
        std::vector<Hash> shorter(path->begin() + 1, path->end());
        CHECK(VerifyConsistency({m, n, shorter}, root1, root2).code() == Code::kInvalidArgument);
      }
      if (m > 0 && m < n) {
        // The proof is for m; it must not pass for a neighbouring old size.
        CHECK_FALSE(VerifyConsistency({m - 1, n, *path}, tree.Root(m - 1), root2).ok());
        CHECK_FALSE(VerifyConsistency({m + 1, n, *path}, tree.Root(m + 1), root2).ok());
      }
    }
  }
}

TEST_CASE("RangeHash equals the root of any sub-list of leaves") {
  MemoryTree tree = NumberedTree(kMaxSize);
  auto read = tree.Reader(kMaxSize);
  for (std::uint64_t begin = 0; begin < kMaxSize; ++begin) {
    for (std::uint64_t end = begin + 1; end <= kMaxSize; ++end) {
      Result<Hash> h = merkle::RangeHash(begin, end, read);
      REQUIRE(h.ok());
      CHECK(*h == RootFromLeafHashes(std::span(tree.leaves()).subspan(begin, end - begin)));
    }
  }
  CHECK(merkle::RangeHash(5, 5, read).code() == Code::kInvalidArgument);
  CHECK(merkle::RangeHash(6, 5, read).code() == Code::kInvalidArgument);
  // An aligned perfect range is one stored node: one read.
  int reads = 0;
  REQUIRE(merkle::RangeHash(32, 64, tree.Reader(kMaxSize, &reads)).ok());
  CHECK(reads == 1);
}

TEST_CASE("Frontier appends, reports created nodes and reloads from stored nodes") {
  MemoryTree tree = NumberedTree(kMaxSize);
  merkle::Frontier frontier;
  std::map<std::pair<int, std::uint64_t>, Hash> created_nodes;
  for (std::uint64_t n = 0; n <= kMaxSize; ++n) {
    CAPTURE(n);
    CHECK(frontier.size() == n);
    CHECK(frontier.Root() == tree.Root(n));
    int reads = 0;
    Result<merkle::Frontier> loaded = merkle::Frontier::Load(n, tree.Reader(n, &reads));
    REQUIRE(loaded.ok());
    CHECK(reads == std::popcount(n));
    CHECK(loaded->size() == n);
    CHECK(loaded->Root() == frontier.Root());
    if (n == kMaxSize) break;
    const Hash& leaf = tree.leaves()[n];
    std::vector<merkle::NodeRef> created;
    frontier.Append(leaf, &created);
    REQUIRE_FALSE(created.empty());
    CHECK(created[0].level == 0);
    CHECK(created[0].index == n);
    // Leaf first, then its completed ancestors; one per trailing one bit of n.
    CHECK(created.size() == static_cast<std::size_t>(std::countr_one(n)) + 1);
    for (std::size_t k = 0; k < created.size(); ++k) {
      const merkle::NodeRef& node = created[k];
      CHECK(node.level == static_cast<int>(k));
      REQUIRE(tree.Has(node.level, node.index));
      CHECK(node.hash == tree.At(node.level, node.index));
      CHECK(created_nodes.emplace(std::pair(node.level, node.index), node.hash).second);
    }
    // A reloaded frontier continues exactly like the original.
    loaded->Append(leaf, nullptr);
    CHECK(loaded->Root() == frontier.Root());
  }
  // Every stored node of the 70-leaf tree was reported exactly once.
  std::size_t all_nodes = 0;
  for (int level = 0; tree.Has(level, 0); ++level) {
    for (std::uint64_t i = 0; tree.Has(level, i); ++i) ++all_nodes;
  }
  CHECK(created_nodes.size() == all_nodes);
}

TEST_CASE("proofs and frontiers stay O(log n) and 64-bit safe in huge trees") {
  // All leaves equal: node (L, i) is then the same hash for every i, so a consistent tree
  // of up to 2^64 - 1 leaves costs nothing to store.
  std::vector<Hash> level_hash = {LeafHash("same")};
  for (int l = 1; l < 64; ++l) level_hash.push_back(NodeHash(level_hash.back(), level_hash.back()));
  const std::uint64_t sizes[] = {(std::uint64_t{1} << 40) + 12345, std::uint64_t{1} << 40,
                                 (std::uint64_t{1} << 63) + 5, UINT64_MAX};
  for (std::uint64_t n : sizes) {
    CAPTURE(n);
    int reads = 0;
    // (index + 1) << level cannot overflow for nodes inside a tree of n < 2^64 leaves.
    merkle::NodeReader read = [&](int level, std::uint64_t index) -> Result<Hash> {
      ++reads;
      bool inside = level < 64 && index < (n >> level) && ((index + 1) << level) <= n;
      if (!inside) return Status(Code::kNotFound, "outside");
      return level_hash[level];
    };
    Result<Hash> root = merkle::RangeHash(0, n, read);
    REQUIRE(root.ok());
    reads = 0;
    Result<merkle::Frontier> frontier = merkle::Frontier::Load(n, read);
    REQUIRE(frontier.ok());
    CHECK(reads == std::popcount(n));
    CHECK(frontier->Root() == *root);
    for (std::uint64_t i : {std::uint64_t{0}, n / 3, n - 2, n - 1}) {
      reads = 0;
      Result<std::vector<Hash>> path = merkle::InclusionPath(i, n, read);
      REQUIRE(path.ok());
      CHECK(reads <= 2 * 64);
      CHECK(VerifyInclusion(level_hash[0], {i, n, *path}, *root).ok());
    }
    for (std::uint64_t m : {std::uint64_t{1}, n / 2 + 7, n - 1}) {
      reads = 0;
      Result<std::vector<Hash>> path = merkle::ConsistencyPath(m, n, read);
      REQUIRE(path.ok());
      CHECK(reads <= 4 * 64);
      Result<Hash> old_root = merkle::RangeHash(0, m, read);
      REQUIRE(old_root.ok());
      CHECK(VerifyConsistency({m, n, *path}, *old_root, *root).ok());
    }
  }
}

TEST_CASE("out-of-range requests and read errors") {
  MemoryTree tree = NumberedTree(8);
  CHECK(merkle::InclusionPath(8, 8, tree.Reader(8)).code() == Code::kInvalidArgument);
  CHECK(merkle::InclusionPath(0, 0, tree.Reader(8)).code() == Code::kInvalidArgument);
  CHECK(merkle::ConsistencyPath(9, 8, tree.Reader(8)).code() == Code::kInvalidArgument);
  CHECK(merkle::ConsistencyPath(0, 8, tree.Reader(8))->empty());
  CHECK(merkle::ConsistencyPath(8, 8, tree.Reader(8))->empty());
  // The store's error reaches the caller unchanged.
  merkle::NodeReader failing = [](int level, std::uint64_t) -> Result<Hash> {
    if (level == 1) return Status(Code::kIoError, "disk on fire");
    return LeafHash("x");
  };
  Result<std::vector<Hash>> incl = merkle::InclusionPath(0, 8, failing);
  CHECK(incl.code() == Code::kIoError);
  CHECK(incl.status().message() == "disk on fire");
  CHECK(merkle::ConsistencyPath(3, 8, failing).code() == Code::kIoError);
  CHECK(merkle::RangeHash(0, 3, failing).code() == Code::kIoError);
  CHECK(merkle::Frontier::Load(7, failing).code() == Code::kIoError);
  CHECK(merkle::Frontier::Load(5, failing).ok());  // 4 + 1: no level-1 node needed
}

// schema/vectors/merkle.txt: our published vectors (format described in the file).
TEST_CASE("schema/vectors/merkle.txt matches the implementation") {
  const std::string path = std::string(TIMEBANK_SCHEMA_DIR) + "/vectors/merkle.txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::vector<std::string> entries;
  std::vector<Hash> leaf_hashes;
  std::map<std::string, int> records;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(line_no);
    std::istringstream fields(line);
    std::string kind;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    fields >> kind >> a;
    std::vector<std::string> rest;
    for (std::string f; fields >> f;) rest.push_back(f);
    ++records[kind];
    if (kind == "leaf") {
      REQUIRE(rest.size() == 2);
      REQUIRE(a == entries.size());  // leaves are listed in order
      std::string bytes(rest[1] == "-" ? 0 : rest[1].size() / 2, '\0');
      REQUIRE((rest[1] == "-" ||
               FromHex(rest[1], reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size())));
      CHECK(ToHex(LeafHash(bytes)) == rest[0]);
      entries.push_back(bytes);
      leaf_hashes.push_back(LeafHash(bytes));
      continue;
    }
    MemoryTree tree(leaf_hashes);
    if (kind == "root") {
      REQUIRE(rest.size() == 1);
      REQUIRE(a <= leaf_hashes.size());
      CHECK(ToHex(tree.Root(a)) == rest[0]);
      merkle::Frontier f;
      for (std::uint64_t i = 0; i < a; ++i) f.Append(leaf_hashes[i], nullptr);
      CHECK(ToHex(f.Root()) == rest[0]);
      continue;
    }
    REQUIRE(!rest.empty());
    b = std::stoull(rest[0]);
    rest.erase(rest.begin());
    std::vector<Hash> want;
    for (const auto& hex : rest) want.push_back(H(hex));
    REQUIRE(b <= leaf_hashes.size());
    if (kind == "inclusion") {
      Result<std::vector<Hash>> got = merkle::InclusionPath(a, b, tree.Reader(b));
      REQUIRE(got.ok());
      CHECK(*got == want);
      CHECK(VerifyInclusion(leaf_hashes[a], {a, b, want}, tree.Root(b)).ok());
    } else if (kind == "consistency") {
      Result<std::vector<Hash>> got = merkle::ConsistencyPath(a, b, tree.Reader(b));
      REQUIRE(got.ok());
      CHECK(*got == want);
      CHECK(VerifyConsistency({a, b, want}, tree.Root(a), tree.Root(b)).ok());
    } else {
      FAIL("unknown record kind " << kind);
    }
  }
  // A truncated or emptied file must not pass quietly.
  CHECK(records["leaf"] >= 16);
  CHECK(records["root"] == records["leaf"] + 1);
  CHECK(records["inclusion"] >= 16);
  CHECK(records["consistency"] >= 16);
}

}  // namespace
}  // namespace ledger
