// keyspace.h — the RocksDB key layout of a data directory (internal).
//
// Part of the on-disk format — do not change a prefix.
//
//   state (derived from the log; an audit rebuilds and compares it):
//     "m:log"                  -> state.LogInfo         (written by genesis)
//     "m:policy"               -> timebank.v1.Policy    (the policy in force)
//     "a:" account             -> state.Account
//     "o:" key(32)             -> state.Operator
//     "H:" hold id(16)         -> state.Hold
//     "P:" request id(16)      -> state.PoolRequest
//     "m:poolq"                -> state.PoolQueue       (pool request queues by need)
//     "t:" be64(index)         -> state.Transit         (a credit for another district's
//                                 account, written by the entry at index; an entry's
//                                 further credits add be32(n), n = 1, 2, ...)
//     "s:" district(6)         -> state.SyncState       (how far this log synced that peer)
//     "k:" be64(index)         -> state.KeyChange       (root key, grant or revoke at index)
//     "c:" be64(day)           -> state.ClearingDay     (the day's figures for clearing)
//     "h:" be64(index)[be32 n] -> state.HoldEvent       (a hold for care in another district
//                                 made or ended at index)
//     "x:" be64(index)         -> state.ClaimRecord     (a claim this district made)
//     "A:" district(6) id(16)  -> state.SetAside        (a hold that district set aside for
//                                 this one, as of this log's latest sync of it)
//     "O:" district(6) key(32) -> state.Operator        (a peer's operator, as of this log's
//                                 latest sync of that peer)
//     "i:" entry id(16)        -> state.EntryRef        (idempotency, reversals, and the
//                                 per-account history chain: Account.last_entry and
//                                 Posting.prev link an account's entries newest first)
//   log: the entries in the column family "log" (all other keys are in the default
//   family; real-name records in "private", never in the log), and their tree:
//     "e" be64(index)          -> leaf hash(32) || entry bytes      (family "log")
//     "n" level(1) be64(index) -> 32-byte hash of the perfect subtree (level, index), stored
//                                 for tile levels only (8, 16, 24, ...): the levels C2SP
//                                 tlog-tiles serves. Level 0 is the leaf hash in "e"; the
//                                 levels between are hashed from a tile's worth of nodes.
//     "m:size"                 -> be64(number of entries)
//   replicas only (default family): "m:note" the district's signed checkpoint as
//   replicated; "m:evidence" two of its notes that cannot both be true.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/types.h"

namespace ledger::keys {

inline constexpr std::string_view kLogInfo = "m:log";
inline constexpr std::string_view kPolicy = "m:policy";
inline constexpr std::string_view kSize = "m:size";
// Replicas only: the district's signed checkpoint as replicated, and equivocation
// evidence (two notes, each preceded by its be32 length). Not derived from the log.
inline constexpr std::string_view kPeerNote = "m:note";
inline constexpr std::string_view kEvidence = "m:evidence";

inline void PutBE64(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline std::uint64_t GetBE64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}
template <std::size_t N>
std::string_view View(const std::array<std::uint8_t, N>& a) {
  return {reinterpret_cast<const char*>(a.data()), N};
}

inline std::string Account(std::string_view account) {
  return std::string("a:").append(account);
}
inline std::string Operator(const PublicKey& k) {
  return std::string("o:").append(View(k));
}
inline std::string Hold(const EntryId& id) {
  return std::string("H:").append(View(id));
}
inline constexpr std::string_view kPoolQueue = "m:poolq";
inline std::string PoolRequest(const EntryId& id) {
  return std::string("P:").append(View(id));
}
// prefix + be64(index), and + be32(n) for an entry's further records (n > 0).
inline std::string IndexKey(std::string_view prefix, std::uint64_t index, std::uint32_t n = 0) {
  std::string k(prefix);
  PutBE64(&k, index);
  if (n > 0)
    for (int shift = 24; shift >= 0; shift -= 8) k.push_back(static_cast<char>(n >> shift));
  return k;
}
inline std::string Transit(std::uint64_t index) {
  return IndexKey("t:", index);
}
// An entry's further transit credits (a sync forwarding credits for accounts that moved).
inline std::string Transit(std::uint64_t index, std::uint32_t n) {
  return IndexKey("t:", index, n);
}
inline std::string ClearingDay(std::int64_t day) {
  return IndexKey("c:", static_cast<std::uint64_t>(day));
}
// A hold event at index (n > 0: an entry's further events, as for Transit).
inline std::string HoldEvent(std::uint64_t index, std::uint32_t n) {
  return IndexKey("h:", index, n);
}
inline std::string HoldEvent(std::uint64_t index) {
  return IndexKey("h:", index);
}
inline std::string Claim(std::uint64_t index) {
  return IndexKey("x:", index);
}
inline std::string SetAside(std::string_view home, const EntryId& hold_id) {
  return std::string("A:").append(home).append(View(hold_id));
}
inline std::string KeyChange(std::uint64_t index) {
  return IndexKey("k:", index);
}
inline std::string PeerOperator(std::string_view district, const PublicKey& key) {
  return std::string("O:").append(district).append(View(key));
}
inline std::string SyncOf(std::string_view district) {
  return std::string("s:").append(district);
}
inline std::string Ref(const EntryId& id) {
  return std::string("i:").append(View(id));
}
// Whether a key belongs to the "log" column family: the entries alone. Their keys only
// ever ascend, so each flush's file follows the last one without overlapping it, and
// compaction moves the files down without rewriting them. (Tree nodes live with the
// state: a second prefix in the family made every file span both ranges, so each L0->L1
// compaction rewrote the family's whole L1 — 333 MB for a log of 1M entries.)
inline bool InLogFamily(std::string_view key) {
  return !key.empty() && key[0] == 'e';
}
inline std::string Entry(std::uint64_t index) {
  std::string k = "e";
  PutBE64(&k, index);
  return k;
}
inline std::string Node(int level, std::uint64_t index) {
  std::string k = "n";
  k.push_back(static_cast<char>(level));
  PutBE64(&k, index);
  return k;
}
// The prefixes of state keys, for audits that compare all state.
inline constexpr std::string_view kStatePrefixes[] = {
    "m:log", "m:policy", "m:poolq", "a:", "o:", "H:", "P:", "i:",
    "t:",    "s:",       "k:",      "O:", "c:", "h:", "x:", "A:"};

}  // namespace ledger::keys
