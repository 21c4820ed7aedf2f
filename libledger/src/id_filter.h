// id_filter.h — a Bloom filter of every entry id in a store (internal).
//
// Every new entry's id is looked up for idempotency, and nearly every lookup misses: in
// RocksDB a miss still walks the memtables and a filter of every level. This filter
// answers most of those misses from memory: about 10 bits an id (1.25 MB a million), in
// blocks of one cache line, growing by segments as the log grows.
//
// It may say "maybe" for an id that is not there (then the store is asked), never "no" for
// one that is: every id enters it before it can be missed in the store's view — ids of the
// store as it was at open, added by a background scan (until that finishes, the filter says
// "maybe" to everything), and each committed group's ids, added before the group leaves
// the in-flight queue.
// Threading: Add and MarkBuilt from any thread (serialized inside); MayContain lock-free.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

namespace ledger {

class IdFilter {
 public:
  IdFilter() = default;
  IdFilter(const IdFilter&) = delete;
  IdFilter& operator=(const IdFilter&) = delete;

  // `id` is an entry id's 16 bytes.
  void Add(std::string_view id);
  // False only when `id` was never added — and only once MarkBuilt was called.
  bool MayContain(std::string_view id) const;
  // Every id of the store as it was opened has been added.
  void MarkBuilt() { built_.store(true, std::memory_order_release); }
  bool built() const { return built_.load(std::memory_order_acquire); }

 private:
  struct Segment {
    explicit Segment(std::uint64_t capacity);
    std::uint64_t capacity;  // ids it holds at about 10 bits each
    std::uint64_t blocks;    // 512-bit blocks
    std::unique_ptr<std::atomic<std::uint64_t>[]> words;
    std::uint64_t count = 0;  // ids added (under the filter's mutex)
  };
  static constexpr int kMaxSegments = 40;  // capacities double: far beyond any log

  std::mutex mu_;  // serializes Add (segments are only ever appended)
  std::array<std::atomic<Segment*>, kMaxSegments> segments_{};
  std::array<std::unique_ptr<Segment>, kMaxSegments> owned_;  // GUARDED_BY(mu_)
  int used_ = 0;                                              // GUARDED_BY(mu_)
  std::atomic<bool> built_{false};
};

}  // namespace ledger
