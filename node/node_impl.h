// node_impl.h — the node's shared state and its route table (internal to node/).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "ledger/ledger.h"
#include "metrics.h"
#include "node.h"
#include "pull.h"

namespace timebank::node {

// Who may call a route.
enum class Access {
  kPublic,    // anyone
  kLog,       // the log itself: readers (peers, auditors), root, operators; anyone if open_log
  kEntry,     // kLog, or the owner of an account the entry names
  kAccount,   // root, operators, or the owner of {account}
  kOperator,  // root or operators of the district
};
std::string_view AccessName(Access a);

struct Call;
using Handler = void (*)(Node::Impl& node, Call& call);

// One HTTP route, declared once: the server registers it and the API reference is
// generated from it.
// An account in a route's path: a 15-digit number (1-20 digits match), or a district's own
// account, <district>.<name>.
inline constexpr char kAccountPattern[] = "([0-9]{6}\\.[a-z]+|[0-9]{1,20})";

struct Route {
  const char* name;     // stable, for metrics and the reference: "submit_entries"
  const char* method;   // "GET", "POST", "PUT", "DELETE"
  const char* path;     // OpenAPI form: "/v1/accounts/{account}"
  std::string pattern;  // the regex the server matches
  Access access;
  const char* summary;
  const char* request_example;   // JSON, "" for none
  const char* response_example;  // JSON or text
  Handler handler;
};
const std::vector<Route>& Routes();

// Tracks entries appended over the last seconds, for the append rate gauge.
class RateWindow {
 public:
  void Add(std::uint64_t n);
  double PerSecond();

 private:
  std::mutex mu_;
  std::vector<std::pair<std::int64_t, std::uint64_t>> buckets_;  // (second, count)
};

// Another district, as this node follows it (federation.cc).
struct Peer {
  PeerConfig config;
  std::shared_ptr<ledger::Ledger> replica;        // its log as verified here
  std::atomic<std::uint64_t> errors{0};           // failed pulls
  std::atomic<std::uint64_t> pulled{0};           // entries taken into the replica
  std::atomic<std::uint64_t> checkpoint_size{0};  // the latest checkpoint seen
  std::atomic<std::uint64_t> forwarded{0};        // entries forwarded to it (its accounts)
  // Its log up to here holds nothing for this district beyond the last sync (puller only):
  // each pull looks at the new part alone.
  std::uint64_t nothing_new_until = 0;
  // A sync queued while a long copy goes on (puller only), and the size it syncs.
  std::future<std::vector<ledger::Result<ledger::Appended>>> queued_sync;
  std::uint64_t queued_sync_to = 0;
  bool queued_sync_refused = false;  // during this pull: no more syncs queued
  std::mutex mu;
  std::string last_error;     // GUARDED_BY(mu): of the latest pull ("" when it worked)
  std::string source;         // GUARDED_BY(mu): the URL the latest checkpoint came from
  std::int64_t last_ok = 0;   // GUARDED_BY(mu): Unix seconds of the latest good pull
  bool equivocation = false;  // GUARDED_BY(mu): the peer signed two conflicting trees
  std::atomic<bool> copy_failure_logged{false};  // the copy's failure was logged (once)
};

struct Node::Impl {
  NodeConfig config;
  int lock_fd = -1;
  std::shared_ptr<ledger::Ledger> ledger;
  std::unique_ptr<httplib::Server> server;
  int port = 0;
  Metrics metrics;
  RateWindow rate;
  std::unique_ptr<ReplayGuard> replay;
  std::set<ledger::PublicKey> reader_keys;
  std::atomic<bool> stopping{false};

  // The health of the ledger, then of each copy of a peer's log (Ledger::Health): after a
  // failed write it refuses every entry until the node is restarted. Each one's failure is
  // logged at error level the first time it is seen. The message says which failed.
  ledger::Status LedgerHealth();
  std::atomic<bool> ledger_failure_logged{false};

  // Releases holds whose time ran out: a HoldExpire entry each, signed by the log key.
  std::shared_ptr<const ledger::SigningKey> log_key;
  std::thread expirer;
  std::mutex expirer_mu;
  std::condition_variable expirer_cv;
  bool expirer_stop = false;
  void ExpireLoop();
  void StopExpirer();

  // What a key may do, remembered while the log does not grow (grants and revokes are
  // entries): signed reads look their signer up on every request.
  ledger::KeyInfo Lookup(const ledger::PublicKey& key);
  std::mutex keys_mu;
  std::uint64_t keys_size = 0;
  std::map<ledger::PublicKey, ledger::KeyInfo> keys;

  // Federation (federation.cc): a replica of each peer's log, pulled and verified by one
  // thread, which also records this log's syncs of them.
  std::shared_ptr<ledger::LedgerPeers> peer_logs = std::make_shared<ledger::LedgerPeers>();
  std::vector<std::unique_ptr<Peer>> peers;
  std::thread puller;
  std::mutex puller_mu;
  std::condition_variable puller_cv;
  bool puller_stop = false;
  ledger::Status OpenPeers();  // after the own ledger is open
  void PullLoop();
  void StopPuller();
  Peer* FindPeer(std::string_view code);
  // An entry of peer `p`'s log (a hold or its post/void for one of its accounts, served
  // here) sent to its node; on success the answer carries a verified receipt: the peer's
  // signed checkpoint and the entry's inclusion proof in it.
  struct Forwarded {
    int http = 200;
    api::json body;
    std::string error_code;  // empty on success
  };
  Forwarded Forward(Peer& p, const std::string& entry);
  std::string PeerMetrics();
  api::json PeersJson();
  // Where the config's [[peers]] and the city list of the log's policy disagree
  // (docs/federation.md §10): alerts of kind peer_key_mismatch, not_in_city, not_followed.
  // None while the policy lists no city.
  api::json CityAlerts();

  ~Impl();
  void RegisterRoutes();
  void Answer(const Route& route, const httplib::Request& req, httplib::Response& res);
  void RegisterMethodNotAllowed(const std::map<std::string, std::vector<std::string>>& methods_of);
  void RegisterErrorHandlers();
  // Checks the caller against the route's access; answers the error itself when refused.
  bool Authorize(Call& call);
};

using api::UnixNow;

std::optional<std::uint64_t> ParseU64(std::string_view s);
// tlog-tiles index paths (routes.cc): "x001/x234/067" <-> 1234067.
std::optional<std::uint64_t> TileIndex(std::string_view path);
// Answers a tile (or its error); reads a partial tile's width from match `group`.
void AnswerTile(Call& c, const ledger::Result<std::string>& data);
bool TileWidth(Call& c, int group, int* width);

// Federation routes (federation.cc).
void GetPeers(Node::Impl& n, Call& c);
void GetClearing(Node::Impl& n, Call& c);  // clearing.cc
void GetSetAsides(Node::Impl& n, Call& c);
void GetAccountHome(Node::Impl& n, Call& c);
void GetAlerts(Node::Impl& n, Call& c);
void ClearAlert(Node::Impl& n, Call& c);
// Creates `path` (it must not exist) with `text`, synced to disk.
ledger::Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode);
void GetPeerCheckpoint(Node::Impl& n, Call& c);
void GetPeerHashTile(Node::Impl& n, Call& c);
void GetPeerEntryTile(Node::Impl& n, Call& c);

// One request being answered.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  const Route& route;
  std::optional<ledger::PublicKey> caller;
  std::string error_code;  // set by Error: the answer's stable code, for the metrics  // set once a
                           // signed request checked out

  std::string Param(int i) const { return req.matches[i].str(); }

  void Json(int status, const api::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  void Error(int status, std::string_view code, std::string_view message) {
    error_code = code;
    Json(status, api::ErrorBody(code, message));
  }
  void Fail(const ledger::Status& s) {
    Error(api::HttpStatusFor(s.code()), ledger::CodeName(s.code()), s.message());
  }
  // Parses the body as a JSON object; answers 400 and returns nullopt when it is not.
  std::optional<api::json> Body() {
    api::json j = api::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      Error(400, api::codes::kBadJson, "the request body is not valid JSON");
      return std::nullopt;
    }
    if (!j.is_object()) {
      Error(400, api::codes::kBadRequest, "the request body must be a JSON object");
      return std::nullopt;
    }
    return j;
  }
};

}  // namespace timebank::node
