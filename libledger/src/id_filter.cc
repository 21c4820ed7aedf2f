#include "id_filter.h"

#include <cstring>

namespace ledger {
namespace {

constexpr std::uint64_t kFirstCapacity = 1u << 16;
constexpr int kProbes = 6;  // bits set per id, all in one 512-bit block: ~1 % false "maybe"

// Ids are chosen by clients, so they are mixed before use (a chosen id can only cost a
// false "maybe", never a wrong "no").
std::uint64_t Mix(std::string_view id, std::uint64_t seed) {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, id.data(), id.size() < 8 ? id.size() : 8);
  if (id.size() > 8) std::memcpy(&b, id.data() + 8, id.size() - 8 < 8 ? id.size() - 8 : 8);
  std::uint64_t h = seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 32);
}

}  // namespace

IdFilter::Segment::Segment(std::uint64_t capacity_)
    : capacity(capacity_),
      blocks((capacity_ * 10 + 511) / 512),
      words(new std::atomic<std::uint64_t>[blocks * 8]) {
  for (std::uint64_t i = 0; i < blocks * 8; ++i) words[i].store(0, std::memory_order_relaxed);
}

void IdFilter::Add(std::string_view id) {
  std::lock_guard lk(mu_);
  const bool full = used_ > 0 && owned_[used_ - 1]->count >= owned_[used_ - 1]->capacity;
  if (used_ == 0 || (full && used_ < kMaxSegments)) {  // (past the last: it only fills up)
    const std::uint64_t cap = used_ == 0 ? kFirstCapacity : owned_[used_ - 1]->capacity * 2;
    owned_[used_] = std::make_unique<Segment>(cap);
    segments_[used_].store(owned_[used_].get(), std::memory_order_release);
    ++used_;
  }
  Segment& s = *owned_[used_ - 1];
  const std::uint64_t h1 = Mix(id, 0), h2 = Mix(id, 0x5851F42D4C957F2Dull);
  std::atomic<std::uint64_t>* block = &s.words[(h1 % s.blocks) * 8];
  for (int k = 0; k < kProbes; ++k) {
    const unsigned bit = static_cast<unsigned>(h2 >> (9 * k)) & 511;
    block[bit / 64].fetch_or(std::uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
  ++s.count;
}

bool IdFilter::MayContain(std::string_view id) const {
  if (!built()) return true;
  const std::uint64_t h1 = Mix(id, 0), h2 = Mix(id, 0x5851F42D4C957F2Dull);
  for (const auto& slot : segments_) {
    const Segment* s = slot.load(std::memory_order_acquire);
    if (!s) break;
    const std::atomic<std::uint64_t>* block = &s->words[(h1 % s->blocks) * 8];
    bool all = true;
    for (int k = 0; k < kProbes && all; ++k) {
      const unsigned bit = static_cast<unsigned>(h2 >> (9 * k)) & 511;
      all = (block[bit / 64].load(std::memory_order_relaxed) >> (bit % 64)) & 1;
    }
    if (all) return true;
  }
  return false;
}

}  // namespace ledger
