#include "ledger/federation.h"

#include <fmt/format.h>

#include "ledger/ledger.h"

namespace ledger {

void LedgerPeers::Add(const std::string& district, std::weak_ptr<Ledger> ledger) {
  std::lock_guard lk(mu_);
  ledgers_[district] = std::move(ledger);
}

std::shared_ptr<Ledger> LedgerPeers::Get(const std::string& district) const {
  std::lock_guard lk(mu_);
  auto it = ledgers_.find(district);
  return it == ledgers_.end() ? nullptr : it->second.lock();
}

namespace {

Status NotHeld(const std::string& district, std::uint64_t size, std::uint64_t held) {
  return Status(Code::kUnknownPeer,
                held == 0 ? fmt::format("no copy of district {}'s log is held here", district)
                          : fmt::format("district {}'s log is held here to size {}, not {}",
                                        district, held, size));
}

}  // namespace

Result<Hash> LedgerPeers::RootAt(const std::string& district, std::uint64_t size) {
  auto l = Get(district);
  if (!l || l->Size() < size) return NotHeld(district, size, l ? l->Size() : 0);
  return l->RootAt(size);
}

Result<std::string> LedgerPeers::VerifierKey(const std::string& district) {
  auto l = Get(district);
  if (!l) return NotHeld(district, 0, 0);
  return l->VerifierKey();
}

Result<std::vector<TransitCredit>> LedgerPeers::TransitCredits(const std::string& district,
                                                               std::uint64_t from,
                                                               std::uint64_t to) {
  auto l = Get(district);
  if (!l || l->Size() < to) return NotHeld(district, to, l ? l->Size() : 0);
  return l->TransitCredits(from, to);
}

Result<std::vector<KeyChange>> LedgerPeers::KeyChanges(const std::string& district,
                                                       std::uint64_t from, std::uint64_t to) {
  auto l = Get(district);
  if (!l || l->Size() < to) return NotHeld(district, to, l ? l->Size() : 0);
  return l->KeyChanges(from, to);
}

Result<std::vector<HoldEvent>> LedgerPeers::HoldEvents(const std::string& district,
                                                       std::uint64_t from, std::uint64_t to) {
  auto l = Get(district);
  if (!l || l->Size() < to) return NotHeld(district, to, l ? l->Size() : 0);
  return l->HoldEvents(from, to);
}

Result<std::vector<ClaimEvent>> LedgerPeers::Claims(const std::string& district, std::uint64_t from,
                                                    std::uint64_t to) {
  auto l = Get(district);
  if (!l || l->Size() < to) return NotHeld(district, to, l ? l->Size() : 0);
  return l->Claims(from, to);
}

}  // namespace ledger
