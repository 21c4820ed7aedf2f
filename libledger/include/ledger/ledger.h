// ledger/ledger.h — one district's signed, append-only time-credit log.
//
// Threading: a Ledger is safe to share between threads. Concurrent Append calls are
// grouped into shared durable commits (group commit); signature checks of the waiting
// batches run in parallel on all cores ahead of sequencing. Reads never block appends.
//
// Durability: Append returns an entry as accepted only after the write holding it was
// synced to disk. Reopening costs the same whatever the log's length (no replay).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ledger/audit.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/federation.h"
#include "ledger/keys.h"
#include "ledger/proof.h"
#include "ledger/status.h"
#include "ledger/types.h"

namespace ledger {

struct Options {
  // --- Behaviour ---
  // Create an empty data directory when none exists at the path.
  bool create_if_missing = true;
  // The key that signs this log's checkpoints. Required (except for replicas). Once the
  // log has a genesis its public key must equal the genesis' log_key (else Open fails
  // with kInvalidArgument).
  std::shared_ptr<const SigningKey> log_key;

  // --- Federation (docs/federation.md) ---
  // Other districts' logs, for the rules of sync entries and for Audit. Without it, sync
  // entries are refused (kUnknownPeer).
  std::shared_ptr<PeerLogs> peers;
  // Opens the store as a replica of another district's log, whose checkpoints verify with
  // this note verifier key ("origin+keyhash+base64"). A replica takes entries only through
  // BeginReplication/Replicate (Append refuses them: kReadOnlyReplica) and serves that
  // district's own signed checkpoint. log_key is not used.
  std::string replica_verifier;
  // New entries whose time is further than this from the clock are refused (kClockSkew).
  // 0 disables the check. Entries already in the log are never re-checked.
  std::int64_t max_clock_skew_seconds = 600;
  // Unix seconds now; tests replace it. Defaults to the system clock.
  std::function<std::int64_t()> clock;

  // --- Performance ---
  // Threads verifying signatures ahead of sequencing; 0 means one per core.
  int verify_threads = 0;
  // RocksDB block cache for entries, hashes and accounts.
  std::size_t block_cache_bytes = 64u << 20;
  // Most entries one commit group takes (the rest wait for the next group).
  std::size_t max_group_entries = 4096;
  // Most entries AppendAsync calls may have queued ahead of sequencing; a call beyond it
  // waits for room (a slow disk holds back the callers, not memory).
  std::size_t max_queued_entries = 16384;
};

// Where an accepted entry is.
struct Appended {
  std::uint64_t index = 0;  // its position in the log
  bool duplicate = false;   // true when this exact entry had been accepted before
};

// Account kinds as stored.
enum class AccountType { kPerson, kGroup, kSystem };

struct AccountInfo {
  std::string account;
  AccountType type = AccountType::kPerson;
  Minutes balance = 0;  // spendable minutes (holds already taken out)
  Minutes served = 0;   // minutes of service this account performed
  std::uint32_t birth_year = 0;
  bool hardship = false;
  std::uint32_t need = 0;
  std::string street;
  std::string community;
  bool has_owner_key = false;
  PublicKey owner_key{};        // the account owner's own key, when has_owner_key
  std::uint64_t opened_at = 0;  // index of its open entry (here: at a new home, of the sync
                                // that brought it)
  std::string moved_to;         // set when the account moved its home to that district
  std::uint64_t moved_at = 0;   // ... by the migrate entry at this index
};

// This log's syncs of another district's log (docs/federation.md §4, §5).
struct PeerSync {
  std::uint64_t size = 0;  // synced up to this size of its log
  Hash root{};
  Minutes parked = 0;         // its credits for accounts not registered here
  Minutes unpaid_claims = 0;  // its claims against holds that had ended here
};

// One district's part of the clearing report (docs/federation.md §8), from its own log,
// over a period of local days: days since 1970-01-01 in the policy's time zone, by the
// entries' times.
struct ClearingFigures {
  // Minutes minted in this log: services recorded here (for this district's volunteers
  // and for other districts'), starter grants; net of reversals.
  Minutes issued = 0;
  // Redemptions of accounts homed here (posted holds, redeems), by the district that gave
  // the care (this district's own code for care given here).
  std::map<std::string, Minutes> redeemed;
  // At the end of the period: the minutes this district owes — in accounts homed here,
  // its pool and its open holds.
  Minutes liability = 0;
};

// A key's standing in this district: the root key (民政局), a granted operator, or neither.
struct KeyInfo {
  bool root = false;        // the genesis root key: may do everything
  std::vector<Role> roles;  // a granted, not revoked operator's roles (empty otherwise)
  std::string label;
};

// The district's facts from its genesis.
struct DistrictInfo {
  std::string district;  // "510104"
  std::string name;      // "锦江区时间银行"
  std::string city;      // "510100"
  std::string origin;    // the checkpoint origin
  PublicKey root_key{};
  PublicKey log_key{};
};

// One entry's effect on one account.
struct HistoryItem {
  std::uint64_t index = 0;
  Minutes delta = 0;
};
struct HistoryPage {
  std::vector<HistoryItem> items;     // newest first (descending index)
  std::optional<std::uint64_t> next;  // pass as `from` to get the next (older) page
};

class Ledger {
 public:
  // Opens (or creates) the ledger at `path`. Errors: kInvalidArgument (bad options, log key
  // mismatch), kIoError (cannot open / locked by another process), kCorruption.
  static Result<std::unique_ptr<Ledger>> Open(const Options& options, const std::string& path);

  virtual ~Ledger() = default;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends signed entries, in order. Each gets its own result: its index, or the
  // specific error that refused it (a refused entry changes nothing; the others in the
  // batch still proceed). Entries are durable when this returns. A large batch goes in
  // chunks of 512: a concurrent caller's entries may come between two chunks.
  virtual std::vector<Result<Appended>> Append(std::span<const std::string> entries) = 0;
  Result<Appended> Append(const std::string& entry);
  // Appends like Append without waiting for the commit: the entries are verified (on this
  // thread and the pool) and queued before this returns, and the future yields their
  // results once they are durable. So a caller can check its next batch's signatures
  // while the last one is being written. Calls are sequenced in the order they queue (one
  // thread's calls in the order it makes them). Until the future is ready nothing about
  // the entries is known, not even a refusal. A call waits for room while
  // Options.max_queued_entries are queued.
  virtual std::future<std::vector<Result<Appended>>> AppendAsync(
      std::vector<std::string> entries) = 0;

  // OK while the ledger takes entries. After a failed commit (kIoError) or a failure
  // inside sequencing (kInternal) every append is refused with that status until the
  // ledger is closed and reopened; this returns it. Reads go on working.
  virtual Status Health() = 0;

  // Number of entries in the log.
  virtual std::uint64_t Size() const = 0;
  // The district code from the genesis ("" before it).
  virtual std::string District() const = 0;

  // Entry bytes by index (kNotFound beyond Size()) or by id.
  virtual Result<std::string> GetEntry(std::uint64_t index) = 0;
  virtual Result<std::uint64_t> FindEntry(const EntryId& id) = 0;

  virtual Result<AccountInfo> GetAccount(const std::string& account) = 0;
  virtual Result<Minutes> Balance(const std::string& account) = 0;
  // An account's entries, newest first, up to `limit` (1..1000) of them, starting at entry
  // *from (an entry of this account, e.g. a page's `next`) or at the newest. Each item is
  // one entry's net effect on the account. kInvalidArgument for a `from` not in its history.
  virtual Result<HistoryPage> History(const std::string& account, std::optional<std::uint64_t> from,
                                      std::size_t limit) = 0;
  // What `key` may do here: root, operator roles, or nothing (no error for unknown keys).
  virtual Result<KeyInfo> LookupKey(const PublicKey& key) = 0;
  // The genesis facts (kNotFound before the genesis).
  virtual Result<DistrictInfo> GetDistrictInfo() = 0;
  // Holds still open whose time ran out by `now` (Unix seconds), oldest index first, at
  // most `limit`. A node releases them with HoldExpire entries (signed by its log key).
  // Scans the holds: cost grows with the number of holds ever made.
  virtual Result<std::vector<EntryId>> ExpiredHolds(std::int64_t now, std::size_t limit) = 0;
  // The policy in force for the next entry (kNotFound before the genesis).
  virtual Result<Policy> CurrentPolicy() = 0;

  // The current tree head, unsigned.
  virtual Checkpoint CurrentCheckpoint() const = 0;
  // The current tree head as a C2SP signed note, signed by the log key.
  virtual Result<std::string> SignedCheckpoint() = 0;
  // The verifier key of this log's checkpoints ("origin+hash+key").
  virtual Result<std::string> VerifierKey() const = 0;

  virtual Result<InclusionProof> ProveInclusion(std::uint64_t index, std::uint64_t tree_size) = 0;
  virtual Result<ConsistencyProof> ProveConsistency(std::uint64_t old_size,
                                                    std::uint64_t new_size) = 0;
  // Root hash of the tree of `tree_size` (<= Size()).
  virtual Result<Hash> RootAt(std::uint64_t tree_size) = 0;

  // C2SP tlog-tiles. A hash tile: `width` (1..256) hashes of tree level 8*level, starting
  // at node index*256. kNotFound unless all of them exist in the current tree.
  virtual Result<std::string> HashTile(int level, std::uint64_t index, int width) = 0;
  // An entry bundle: entries index*256 .. +width, each as a big-endian uint16 length and
  // the entry bytes.
  virtual Result<std::string> EntryBundle(std::uint64_t index, int width) = 0;

  // 实名制: the private real-name record of an account of this district. Never part of the
  // log; stored only here. The record and salt must match the account's commitment
  // (kInvalidArgument otherwise).
  virtual Status PutRealName(const std::string& account, const RealNameRecord& record,
                             const std::string& salt) = 0;
  virtual Result<RealNameRecord> GetRealName(const std::string& account) = 0;
  // Erases the record (PIPL: the person asked, or the purpose ended). The log keeps only
  // the salted commitment, which without the record and salt identifies no one.
  // kNotFound when there is no record.
  virtual Status DeleteRealName(const std::string& account) = 0;

  // --- Federation ---
  // The credits this log wrote for other districts' accounts at positions [from, to),
  // in log order (to is clamped to Size()).
  virtual Result<std::vector<TransitCredit>> TransitCredits(std::uint64_t from,
                                                            std::uint64_t to) = 0;
  // The changes of who may sign for this district (root key, grants, revokes) at
  // positions [from, to), in log order.
  virtual Result<std::vector<KeyChange>> KeyChanges(std::uint64_t from, std::uint64_t to) = 0;
  // Holds made here for care in other districts, and their ends, at positions [from, to);
  // and the claims this district made against holds other districts set aside for it.
  virtual Result<std::vector<HoldEvent>> HoldEvents(std::uint64_t from, std::uint64_t to) = 0;
  virtual Result<std::vector<ClaimEvent>> Claims(std::uint64_t from, std::uint64_t to) = 0;
  // The holds other districts set aside for care here, as of this log's latest syncs of
  // them (all, or those of `account` when not empty), in key order (home, hold id); at
  // most `limit`. Closed and claimed ones are included, marked.
  virtual Result<std::vector<SetAsideInfo>> SetAsides(const std::string& account,
                                                      std::size_t limit) = 0;
  // How far this log has synced `district`'s log (0: never).
  virtual Result<std::uint64_t> SyncedSize(const std::string& district) = 0;
  // The same, with what the syncs of it could not apply (all zero: never synced).
  virtual Result<PeerSync> SyncOf(const std::string& district) = 0;
  // The district's clearing figures over local days [from_day, to_day) (see
  // ClearingFigures). kInvalidArgument when from_day > to_day.
  virtual Result<ClearingFigures> Clearing(std::int64_t from_day, std::int64_t to_day) = 0;

  // --- Replicas (Options.replica_verifier) ---
  // Starts bringing the replica up to a checkpoint of its district: `note` must verify
  // with the replica's verifier key, and `cover` — TileCover (proof.h) of the entries
  // Size().. checkpoint size: a level-8 hash from a level-1 tile for each whole tile of
  // 256 entries, leaf hashes from level-0 tiles for a tile covered in part — must extend
  // the replica's tree to the checkpoint's root. Then Replicate takes the entries
  // themselves, checked against the cover: a whole tile at once, other entries each
  // against its leaf hash. A checkpoint no larger than the replica is checked
  // against the replica's own tree. Errors: kMissingSignature (the note carries no valid
  // signature of the district) or another code for a damaged note, kEquivocation (a tree
  // of a size the replica holds, with another root: both notes are kept as evidence),
  // kCorruption (the hashes do not lead to the root), kInvalidArgument.
  virtual Status BeginReplication(std::string_view note, std::span<const Hash> cover) = 0;
  // Appends the next entries of the checkpoint being replicated, checked against the
  // cover (so they must end at a multiple of 256 or at the checkpoint's size when they
  // reach into a whole tile: kInvalidArgument otherwise), then replayed through the rules
  // (signatures, roles, balances) as the district applied them. All or none: an entry the rules
  // refuse is evidence of a faulty district (kCorruption names it); a failed write of the
  // replica is kIoError or kInternal (sticky until it is reopened, as for Append). Once the
  // replica reaches the checkpoint's size, the checkpoint note becomes the replica's
  // SignedCheckpoint. Returns the new size.
  virtual Result<std::uint64_t> Replicate(std::span<const std::string> entries) = 0;
  // After BeginReplication found that a larger checkpoint does not extend the replica's
  // tree (kCorruption): is that the bytes served, or did the district sign a fork?
  // `leaf_hashes` are all of that checkpoint's leaves (from its level-0 tiles). When they
  // lead to its root but disagree with the checkpoint the replica holds at that
  // checkpoint's size, the district signed both: the two notes are kept as evidence and
  // kEquivocation returned. kCorruption when the hashes do not lead to the root (the
  // source is at fault, not the district); OK when there is no fork.
  virtual Status CheckFork(std::string_view note, std::span<const Hash> leaf_hashes) = 0;
  // Two signed checkpoints of this replica's district that cannot both be true, when
  // BeginReplication found them (empty otherwise).
  virtual std::vector<std::string> EquivocationEvidence() = 0;
  // An operator's decision once the fork is dealt with (the evidence kept elsewhere): the
  // evidence is removed, so that whoever stopped taking the district's entries because
  // of it may take them again. Nothing else changes: the replica still takes only
  // checkpoints that extend the tree it holds (a district still on the other branch is
  // caught again). Errors: kInvalidArgument (not a replica), kIoError.
  virtual Status ClearEquivocationEvidence() = 0;

  // Replays the whole log with the rules alone, from nothing, into memory; checks every
  // signature, that every entry is accepted again, that postings balance, that no
  // account is below zero, that the rebuilt state equals the stored state record for
  // record, and that the root matches. kCorruption says where it differs.
  virtual Result<AuditReport> Audit() = 0;

 protected:
  Ledger() = default;
};

}  // namespace ledger
