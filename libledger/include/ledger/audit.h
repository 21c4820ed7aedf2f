// ledger/audit.h — checking a log from its entries alone.
//
// An auditor (区民政局, city office) needs no keys, no store and no node: given a district's
// entries in log order, ReplayEntries runs the same rules every node runs and reaches the
// same balances, or says at which entry and why it cannot.
// Threading: a free function on values; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "ledger/federation.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

struct AuditReport {
  std::uint64_t entries = 0;
  std::uint64_t accounts = 0;
  Minutes issued = 0;  // hours minted so far: minus the issuance account's balance
  Hash root{};         // RFC 6962 root of the entries
  std::map<std::string, Minutes> balances;  // every account's balance after the last entry
};

// Replays `entries` (entry 0 must be the genesis) with every signature and rule checked,
// and checks that each entry's postings sum to zero, that no account but issuance ever
// goes below zero, and that all balances sum to zero. Errors: kCorruption naming the
// first entry that fails and why.
// `peers`: the other districts' logs its sync entries refer to (null: a sync is refused).
Result<AuditReport> ReplayEntries(std::span<const std::string> entries, PeerLogs* peers = nullptr);

}  // namespace ledger
