// pull.h — copying a district's log over C2SP tlog-tiles into a replica (shared by
// timebankd, which follows its peers, and `timebank audit`, which follows a whole city).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "ledger/checkpoint.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"

namespace timebank::api {

// "http://host:port/prefix" -> ("http://host:port", "/prefix").
std::pair<std::string, std::string> SplitUrl(const std::string& url);

// tlog-tiles index path: 1234067 -> "x001/x234/067".
std::string TilePath(std::uint64_t index);

// GETs under one base URL (a district's node, or "<node>/peers/<code>" for a copy),
// signed with `key` when one is given (nodes serve their log to known keys) — or reads
// under a directory holding an exported log in the same layout (`file:///path` or an
// absolute path; see ExportLog).
class TileClient {
 public:
  TileClient(const std::string& base, const ledger::SigningKey* key);
  ledger::Result<std::string> Get(const std::string& path);
  const std::string& base() const { return base_; }
  const ledger::SigningKey* key() const { return key_; }

 private:
  std::string base_;
  std::pair<std::string, std::string> split_;
  std::string dir_;                          // set for an exported log
  std::unique_ptr<httplib::Client> client_;  // set for a node
  const ledger::SigningKey* key_;
};

// Writes the log served under `c` as static C2SP tlog-tiles files under `dir`: the
// checkpoint, every hash tile of every level and every entry bundle of its tree (partial
// tiles as .p/W), so that any tlog-tiles client — and `timebank audit` — can read it from
// the files or from a plain web server. Returns the tree size written.
ledger::Result<std::uint64_t> ExportLog(TileClient& c, const std::string& dir);

struct PullProgress {
  std::uint64_t checkpoint_size = 0;  // the checkpoint served
  std::uint64_t pulled = 0;           // entries taken into the replica
  // Called (if set) after each batch of a long copy is in the replica, while the next
  // batch is on its way: the node writes syncs as the copy grows (docs/federation.md §4).
  // false stops the copy there (the node is stopping): PullLog returns kClosed.
  std::function<bool()> after_batch;
};

// Brings `replica` up to the checkpoint served under `c`: the checkpoint (verified with
// `verifier`), the level-0 hash tiles of the new entries (which must lead to its root),
// then the entry bundles, each entry checked against its hash and replayed by the rules.
// Errors as Ledger::BeginReplication and Ledger::Replicate, kIoError for the network, or
// kClosed when progress->after_batch stopped the copy.
ledger::Status PullLog(TileClient& c, const ledger::NoteVerifier& verifier, ledger::Ledger& replica,
                       PullProgress* progress);

}  // namespace timebank::api
