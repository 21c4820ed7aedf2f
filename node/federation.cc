// Federation in the node (docs/federation.md §3–§4): one thread pulls each peer's log
// over C2SP tlog-tiles — from the peer or from any node that holds a copy — verifies it
// into a replica, serves the replica onward under /peers/<code>/, and appends sync
// entries so that the peers' credits for this district's accounts count here.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>

#include "node_impl.h"

namespace timebank::node {

using ledger::Code;
using ledger::Hash;
using ledger::KeyInfo;
using ledger::Result;
using ledger::Role;
using ledger::Status;

namespace {}  // namespace

Status Node::Impl::OpenPeers() {
  peer_logs->Add(config.district.code, ledger);
  for (const PeerConfig& pc : config.peers) {
    auto p = std::make_unique<Peer>();
    p->config = pc;
    const std::string dir = config.data_dir + "/peers/" + pc.code;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ledger::Options o;
    o.replica_verifier = pc.verifier_key;
    o.peers = peer_logs;
    auto r = ledger::Ledger::Open(o, dir);
    if (!r.ok())
      return Status(r.code(),
                    fmt::format("replica of {} in {}: {}", pc.code, dir, r.status().message()));
    p->replica = std::shared_ptr<ledger::Ledger>(std::move(r).value());
    p->equivocation = !p->replica->EquivocationEvidence().empty();
    peer_logs->Add(pc.code, p->replica);
    auto vk = ledger::ParseVerifierKey(pc.verifier_key);
    reader_keys.insert(vk->key);  // its node may read this log
    peers.push_back(std::move(p));
  }
  return Status::Ok();
}

Peer* Node::Impl::FindPeer(std::string_view code) {
  for (auto& p : peers)
    if (p->config.code == code) return p.get();
  return nullptr;
}

namespace {

// Whether the peer's entries [from, to) matter to this log: a credit for one of its
// accounts, a hold the peer set aside for care here (or its end), a claim against one of
// this log's holds, or a change of who may sign for the peer (its redeemers serve here).
bool RelevantIn(Node::Impl& n, Peer& peer, std::uint64_t from, std::uint64_t to) {
  const std::string& here = n.config.district.code;
  auto credits = peer.replica->TransitCredits(from, to);
  if (!credits.ok()) return false;
  for (const auto& c : *credits)
    if (c.to_district == here) return true;
  auto holds = peer.replica->HoldEvents(from, to);
  if (holds.ok())
    for (const auto& h : *holds)
      if (h.serving_district == here) return true;
  auto claims = peer.replica->Claims(from, to);
  if (claims.ok())
    for (const auto& c : *claims)
      if (c.home == here) return true;
  auto changes = peer.replica->KeyChanges(from, to);
  return changes.ok() && !changes->empty();
}

// Looked at in growing windows, oldest first: a new copy of a long log full of credits for
// this district answers in its first window rather than after listing them all.
bool Relevant(Node::Impl& n, Peer& peer, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t window = 4096; from < to; from += window, window *= 2)
    if (RelevantIn(n, peer, from, std::min(to, from + window))) return true;
  return false;
}

// The rules' largest sync: a longer copy is synced a step at a time.
constexpr std::uint64_t kSyncStep = 1u << 20;

// This log's sync of `peer` up to `to` of its replica, signed with the log key.
Result<std::string> SyncEntry(Node::Impl& n, Peer& peer, std::uint64_t to) {
  auto root = peer.replica->RootAt(to);
  if (!root.ok()) return root.status();
  ledger::EntryBody body{ledger::NewEntryId(), n.config.district.code, UnixNow(), "",
                         ledger::Sync{peer.config.code, to, *root}};
  return ledger::MakeEntry(body, {n.log_key.get()});
}

void SyncWritten(Node::Impl& n, Peer& peer, std::uint64_t to, const Result<ledger::Appended>& r) {
  if (!r.ok()) {
    spdlog::error("sync of {} to {}: {}", peer.config.code, to, r.status().ToString());
    return;
  }
  n.metrics.entries_appended += 1;
  n.rate.Add(1);
  spdlog::info("synced district {} to size {} (entry {})", peer.config.code, to, r->index);
}

// Waits for the sync queued during a copy, if any, and reports it.
// A refused one stops syncs during this copy (the sync at its end says why again).
void FinishQueuedSync(Node::Impl& n, Peer& peer) {
  if (!peer.queued_sync.valid()) return;
  auto results = peer.queued_sync.get();
  SyncWritten(n, peer, peer.queued_sync_to, results.front());
  if (!results.front().ok()) peer.queued_sync_refused = true;
}

// During a long copy, after each batch: once federation.sync_during_copy_entries have come
// in since the last sync, and they hold something for this district, their sync is queued
// (AppendAsync), so that the rules credit them while the copy verifies the next batch, and
// accounts here see a peer's credits as the copy grows rather than when it ends. One at a
// time: while one is on its way, nothing more is queued.
void SyncDuringCopy(Node::Impl& n, Peer& peer) {
  const auto every = static_cast<std::uint64_t>(n.config.sync_during_copy_entries);
  if (every == 0) return;
  if (peer.queued_sync.valid()) {
    if (peer.queued_sync.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    FinishQueuedSync(n, peer);
  }
  if (peer.queued_sync_refused) return;
  auto synced = n.ledger->SyncedSize(peer.config.code);
  if (!synced.ok()) return;
  const std::uint64_t from = std::max(*synced, peer.nothing_new_until);
  const std::uint64_t to = std::min(peer.replica->Size(), *synced + kSyncStep);
  if (to < from + every) return;
  if (!Relevant(n, peer, from, to)) {
    peer.nothing_new_until = to;
    return;
  }
  auto entry = SyncEntry(n, peer, to);
  if (!entry.ok()) return;
  peer.queued_sync = n.ledger->AppendAsync({std::move(entry).value()});
  peer.queued_sync_to = to;
}

// Records this log's sync of `peer` up to its replica's size (a step at a time) — when
// the new part of the peer's log holds something for this district. Syncs of syncs would
// never end: each sync grows a log that the other districts would sync in turn.
void SyncPeer(Node::Impl& n, Peer& peer) {
  FinishQueuedSync(n, peer);
  for (;;) {
    auto synced = n.ledger->SyncedSize(peer.config.code);
    if (!synced.ok()) {
      spdlog::error("sync of {}: {}", peer.config.code, synced.status().ToString());
      return;
    }
    const std::uint64_t have = peer.replica->Size();
    if (have <= *synced) return;
    const std::uint64_t to = std::min(have, *synced + kSyncStep);
    if (to == have) {
      const std::uint64_t from = std::max(*synced, peer.nothing_new_until);
      if (from >= to || !Relevant(n, peer, from, to)) {
        peer.nothing_new_until = to;
        return;
      }
    }
    auto entry = SyncEntry(n, peer, to);
    if (!entry.ok()) return;
    auto r = n.ledger->Append(*entry);
    SyncWritten(n, peer, to, r);
    if (!r.ok()) return;
  }
}

// One pull of `peer` (its URLs in order) and the syncs it allows. Returns whether its
// replica is waiting for another peer's copy to catch up (a sync in its log).
bool PullPeer(Node::Impl& n, Peer& peer) {
  {
    std::lock_guard lk(peer.mu);
    if (peer.equivocation) return false;  // stopped until an operator clears it
  }
  std::string errors;
  bool waiting = false;
  peer.queued_sync_refused = false;
  for (const std::string& url : peer.config.urls) {
    api::TileClient client(url, n.log_key.get());
    api::PullProgress progress;
    progress.after_batch = [&] {
      if (n.stopping) return false;  // (a long copy would hold up the node's stop)
      SyncDuringCopy(n, peer);
      return true;
    };
    Status s = api::PullLog(client, ledger::ParseVerifierKey(peer.config.verifier_key).value(),
                            *peer.replica, &progress);
    peer.pulled += progress.pulled;
    peer.checkpoint_size = std::max<std::uint64_t>(peer.checkpoint_size, progress.checkpoint_size);
    if (s.code() == Code::kClosed) {  // the node is stopping: the copy goes on at the next start
      FinishQueuedSync(n, peer);
      return false;
    }
    if (s.ok() || s.code() == Code::kUnknownPeer) {
      waiting = !s.ok();
      if (waiting) spdlog::debug("pulling district {}: {}", peer.config.code, s.message());
      std::lock_guard lk(peer.mu);
      peer.last_error.clear();
      peer.source = url;
      peer.last_ok = UnixNow();
      errors.clear();
      break;
    }
    if (s.code() == Code::kEquivocation) {
      spdlog::error(
          "district {} signed two trees that cannot both be true ({}): {}; its entries "
          "are no longer taken; the evidence is kept",
          peer.config.code, url, s.message());
      FinishQueuedSync(n, peer);  // (what the copy held before is sound)
      std::lock_guard lk(peer.mu);
      peer.equivocation = true;
      peer.last_error = s.ToString();
      ++peer.errors;
      return false;
    }
    errors += (errors.empty() ? "" : "; ") + s.ToString();
  }
  if (!errors.empty()) {
    ++peer.errors;
    if (!peer.replica->Health().ok()) (void)n.LedgerHealth();  // logs the failure, once
    std::lock_guard lk(peer.mu);
    if (peer.last_error != errors)
      spdlog::warn("pulling district {}: {}", peer.config.code, errors);
    peer.last_error = errors;
  }
  SyncPeer(n, peer);
  return waiting;
}

}  // namespace

void Node::Impl::PullLoop() {
  const auto every = std::chrono::seconds(config.pull_every_seconds);
  std::unique_lock lk(puller_mu);
  do {
    lk.unlock();
    // Logs refer to one another (syncs): a copy that waits for another copy to catch up
    // goes again at once while the copies still grow.
    for (int round = 0; round < 16 && !stopping; ++round) {
      bool waiting = false, grew = false;
      for (auto& p : peers) {
        if (stopping) break;
        const std::uint64_t before = p->replica->Size();
        waiting = PullPeer(*this, *p) || waiting;
        grew = grew || p->replica->Size() > before;
      }
      if (!waiting || !grew) break;
    }
    lk.lock();
  } while (!puller_cv.wait_for(lk, every, [&] { return puller_stop; }));
}

void Node::Impl::StopPuller() {
  {
    std::lock_guard lk(puller_mu);
    puller_stop = true;
  }
  puller_cv.notify_all();
  if (puller.joinable()) puller.join();
}

Node::Impl::Forwarded Node::Impl::Forward(Peer& peer, const std::string& entry) {
  const std::string& url = peer.config.urls.front();  // the district's own node takes writes
  const auto [host, prefix] = api::SplitUrl(url);
  httplib::Client client(host);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  client.set_tcp_nodelay(true);
  auto fail = [](int http, std::string code, std::string message) {
    return Forwarded{http, api::ErrorBody(code, message), code};
  };
  const api::json request = {{"entry", ledger::Base64Encode(entry)}};
  auto res = client.Post(prefix + "/v1/entries", request.dump(), "application/json");
  if (!res)
    return fail(503, api::codes::kHomeUnreachable,
                fmt::format("district {}'s node at {} did not answer ({}); the entry may not be "
                            "recorded — sending it again is safe (its id makes it idempotent)",
                            peer.config.code, url, httplib::to_string(res.error())));
  api::json answer = api::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !answer.is_object() || !answer.contains("index")) {
    std::string code = api::codes::kBadReceipt;
    if (answer.is_object() && answer.contains("error")) code = answer["error"].value("code", code);
    return Forwarded{res->status == 200 ? 502 : res->status,
                     answer.is_object() ? answer : api::ErrorBody(code, res->body), code};
  }
  ++peer.forwarded;
  const std::uint64_t index = answer["index"].get<std::uint64_t>();
  // The receipt: the home's signed checkpoint and the entry's inclusion proof, both
  // checked here against the home's verifier key before the entry counts as recorded.
  auto bad = [&](const std::string& why) {
    return fail(502, api::codes::kBadReceipt,
                fmt::format("district {} took the entry (index {}) but its receipt does not "
                            "verify: {}",
                            peer.config.code, index, why));
  };
  auto note = client.Get(prefix + "/v1/checkpoint");
  if (!note || note->status != 200) return bad("no checkpoint");
  auto cp = ledger::OpenCheckpoint(note->body,
                                   ledger::ParseVerifierKey(peer.config.verifier_key).value());
  if (!cp.ok()) return bad(cp.status().ToString());
  if (cp->size <= index) return bad("the checkpoint does not contain the entry");
  auto proof_res = client.Get(
      fmt::format("{}/v1/proofs/inclusion?index={}&tree_size={}", prefix, index, cp->size));
  if (!proof_res || proof_res->status != 200) return bad("no inclusion proof");
  const api::json proof_json = api::json::parse(proof_res->body, nullptr, false);
  auto proof = api::InclusionFromJson(proof_json);
  if (!proof.ok()) return bad(proof.status().ToString());
  if (Status s = ledger::VerifyInclusion(ledger::LeafHash(entry), *proof, cp->root); !s.ok())
    return bad(s.ToString());
  answer["district"] = peer.config.code;
  answer["receipt"] = {{"checkpoint", note->body}, {"inclusion_proof", proof_json}};
  return Forwarded{200, answer, ""};
}

api::json Node::Impl::PeersJson() {
  api::json out = api::json::array();
  for (auto& p : peers) {
    auto synced = ledger->SyncOf(p->config.code);
    std::lock_guard lk(p->mu);
    out.push_back({{"district", p->config.code},
                   {"name", p->config.name},
                   {"replica_size", p->replica->Size()},
                   {"checkpoint_size", p->checkpoint_size.load()},
                   {"synced_size", synced.ok() ? synced->size : 0},
                   {"parked_minutes", synced.ok() ? synced->parked : 0},
                   {"unpaid_claim_minutes", synced.ok() ? synced->unpaid_claims : 0},
                   {"source", p->source},
                   {"last_ok", p->last_ok},
                   {"last_error", p->last_error},
                   {"errors", p->errors.load()},
                   {"equivocation", p->equivocation}});
  }
  return out;
}

api::json Node::Impl::CityAlerts() {
  api::json out = api::json::array();
  auto policy = ledger->CurrentPolicy();
  if (!policy.ok() || policy->city.empty()) return out;
  const std::uint32_t v = policy->version;
  auto alert = [&](const std::string& district, const char* kind, std::string message) {
    out.push_back({{"district", district}, {"kind", kind}, {"message", std::move(message)}});
  };
  for (const PeerConfig& p : config.peers) {
    auto m = std::find_if(policy->city.begin(), policy->city.end(),
                          [&](const ledger::CityMember& c) { return c.code == p.code; });
    if (m == policy->city.end())
      alert(p.code, "not_in_city",
            fmt::format("district {} is followed ([[peers]] in the config) but is not in the "
                        "city list of policy v{}: its log is copied and served, never synced",
                        p.code, v));
    else if (!ledger::SameVerifierKey(m->verifier_key, p.verifier_key))
      alert(p.code, "peer_key_mismatch",
            fmt::format("the config verifies district {}'s log with {}, but the city list of "
                        "policy v{} gives {}: syncs of it are refused until they agree",
                        p.code, p.verifier_key, v, m->verifier_key));
  }
  for (const ledger::CityMember& m : policy->city)
    if (m.code != config.district.code &&
        std::none_of(config.peers.begin(), config.peers.end(),
                     [&](const PeerConfig& p) { return p.code == m.code; }))
      alert(m.code, "not_followed",
            fmt::format("district {} ({}) is in the city list of policy v{} but not in the "
                        "config's [[peers]]: credits for its accounts wait until this node "
                        "follows its log",
                        m.code, m.name, v));
  return out;
}

std::string Node::Impl::PeerMetrics() {
  std::string out;
  auto series = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (auto& p : peers)
      out += fmt::format("{}{{district=\"{}\"}} {}\n", name, p->config.code, value(*p));
  };
  series("timebank_peer_replica_size", "gauge", "Entries of the peer's log verified and held here.",
         [](Peer& p) { return p.replica->Size(); });
  series("timebank_peer_checkpoint_size", "gauge",
         "Size of the latest checkpoint seen from the peer.",
         [](Peer& p) { return p.checkpoint_size.load(); });
  series("timebank_peer_lag_entries", "gauge",
         "Entries of the peer's latest checkpoint not yet held.", [](Peer& p) {
           const std::uint64_t have = p.replica->Size(), seen = p.checkpoint_size.load();
           return seen > have ? seen - have : 0;
         });
  series("timebank_peer_synced_size", "gauge", "How far this log has synced the peer's log.",
         [this](Peer& p) {
           auto s = ledger->SyncedSize(p.config.code);
           return s.ok() ? *s : 0;
         });
  series("timebank_peer_pull_errors_total", "counter", "Pulls of the peer that failed.",
         [](Peer& p) { return p.errors.load(); });
  series("timebank_peer_last_ok_seconds", "gauge", "Unix time of the latest good pull.",
         [](Peer& p) {
           std::lock_guard lk(p.mu);
           return p.last_ok;
         });
  series("timebank_peer_forwarded_total", "counter",
         "Entries for the peer's accounts forwarded to its node (redeeming away).",
         [](Peer& p) { return p.forwarded.load(); });
  series("timebank_peer_copy_failed", "gauge",
         "1 when the copy of the peer's log takes no entries since a failed write (restart the "
         "node).",
         [](Peer& p) { return p.replica->Health().ok() ? 0 : 1; });
  series("timebank_equivocation", "gauge",
         "1 when the peer signed two trees that cannot both be true.", [](Peer& p) {
           std::lock_guard lk(p.mu);
           return p.equivocation ? 1 : 0;
         });
  out += fmt::format(
      "# HELP timebank_city_alerts Disagreements between the config's peers and the city list "
      "of the policy.\n# TYPE timebank_city_alerts gauge\ntimebank_city_alerts {}\n",
      CityAlerts().size());
  return out;
}

// --- Routes ----------------------------------------------------------------------------------

// Where an account is homed now, as this node's log and copies say: the district whose
// log holds it and has not seen it move away; or, while a move is on its way (the old
// home wrote it, the new one has not synced it yet), where it is going.
void GetAccountHome(Node::Impl& n, Call& c) {
  const std::string account = c.Param(1);
  std::string moving_to;
  std::uint64_t moved_at = 0;
  auto look = [&](const std::string& district, ledger::Ledger& log) -> bool {
    auto a = log.GetAccount(account);
    if (!a.ok()) return false;
    if (a->moved_to.empty()) {
      c.Json(200, {{"account", account}, {"home", district}});
      return true;
    }
    moving_to = a->moved_to;
    moved_at = a->moved_at;
    return false;
  };
  if (look(n.config.district.code, *n.ledger)) return;
  for (auto& p : n.peers)
    if (look(p->config.code, *p->replica)) return;
  if (!moving_to.empty())
    return c.Json(200, {{"account", account},
                        {"home", nullptr},
                        {"moving_to", moving_to},
                        {"moved_at", moved_at}});
  c.Error(404, ledger::CodeName(Code::kUnknownAccount),
          fmt::format("account {} is not registered in any log this node holds", account));
}

// What other districts set aside for care here (claimable offline: `timebank claim`).
void GetSetAsides(Node::Impl& n, Call& c) {
  const std::string account = c.req.has_param("account") ? c.req.get_param_value("account") : "";
  if (!account.empty())
    if (auto d = ledger::ParseAccountDistrict(account); !d.ok())
      return c.Fail(Status(Code::kBadAccountNumber, "account: " + d.status().message()));
  auto list = n.ledger->SetAsides(account, 1000);
  if (!list.ok()) return c.Fail(list.status());
  api::json out = api::json::array();
  for (const auto& s : *list)
    out.push_back({{"home", s.home},
                   {"hold_id", ledger::ToHex(s.hold_id)},
                   {"account", s.account},
                   {"minutes", s.minutes},
                   {"expires_at", s.expires_at},
                   {"claimed_minutes", s.claimed},
                   {"closed", s.closed}});
  c.Json(200, {{"set_asides", out}});
}

void GetPeers(Node::Impl& n, Call& c) {
  c.Json(200, {{"district", n.config.district.code}, {"peers", n.PeersJson()}});
}

// Alerts an operator must act on: a peer that signed two trees that cannot both be true,
// with the two signed checkpoints as evidence (anyone can check them with its key); and
// where the config and the city list in the policy disagree.
void GetAlerts(Node::Impl& n, Call& c) {
  api::json alerts = n.CityAlerts();
  for (auto& p : n.peers) {
    const std::vector<std::string> evidence = p->replica->EquivocationEvidence();
    if (evidence.empty()) continue;
    alerts.push_back(
        {{"district", p->config.code},
         {"kind", "equivocation"},
         {"message",
          fmt::format("district {} signed two trees that cannot both be true; this node takes "
                      "no more of its entries until an operator clears it",
                      p->config.code)},
         {"evidence", evidence}});
  }
  c.Json(200, {{"alerts", alerts}});
}

namespace {
Peer* PeerOrFail(Node::Impl& n, Call& c);
}  // namespace

// The district office (admin) or the root clears a peer's equivocation alert once the city
// has dealt with the fork: the evidence is archived under <data_dir>/alerts/, removed from
// the copy, and pulling that district resumes at the next pull. The copy still takes only
// checkpoints that extend the tree it holds, so a district still on the other branch is caught
// again.
void ClearAlert(Node::Impl& n, Call& c) {
  const KeyInfo k = n.Lookup(*c.caller);
  if (!k.root && std::find(k.roles.begin(), k.roles.end(), Role::kAdmin) == k.roles.end())
    return c.Error(403, api::codes::kForbidden,
                   "clearing an alert is for the district office (admin role) or the root key");
  Peer* p = PeerOrFail(n, c);
  if (!p) return;
  // Only a raised alert: while it is raised the peer is not pulled, so the evidence read
  // here is the evidence cleared below.
  bool raised = false;
  {
    std::lock_guard lk(p->mu);
    raised = p->equivocation;
  }
  const std::vector<std::string> evidence = p->replica->EquivocationEvidence();
  if (!raised || evidence.empty())
    return c.Error(404, api::codes::kNoAlert,
                   fmt::format("district {} has no alert to clear", p->config.code));
  const std::string dir = n.config.data_dir + "/alerts";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::int64_t now = UnixNow();
  const api::json record = {{"district", p->config.code},
                            {"kind", "equivocation"},
                            {"cleared_at", now},
                            {"cleared_by", ledger::ToHex(*c.caller)},
                            {"evidence", evidence}};
  std::string path;
  Status written(Code::kIoError, fmt::format("{}: no free name for the evidence", dir));
  for (int n_try = 0; n_try < 100; ++n_try) {
    path = fmt::format("{}/{}-{}{}.json", dir, p->config.code, now,
                       n_try ? fmt::format("-{}", n_try) : "");
    if (std::filesystem::exists(path)) continue;  // cleared twice in one second
    written = WriteNewFile(path, record.dump(2) + "\n", 0640);
    break;
  }
  if (!written.ok()) return c.Error(500, ledger::CodeName(written.code()), written.message());
  if (Status s = p->replica->ClearEquivocationEvidence(); !s.ok())
    return c.Error(500, ledger::CodeName(s.code()), s.message());
  {
    std::lock_guard lk(p->mu);
    p->equivocation = false;
    p->last_error.clear();
  }
  spdlog::warn("the equivocation alert for district {} was cleared by key {}…; evidence kept in {}",
               p->config.code, ledger::ToHex(*c.caller).substr(0, 16), path);
  c.Json(200, {{"district", p->config.code}, {"cleared", true}, {"archived", path}});
}

namespace {

Peer* PeerOrFail(Node::Impl& n, Call& c) {
  Peer* p = n.FindPeer(c.Param(1));
  if (!p)
    c.Error(404, ledger::CodeName(Code::kUnknownPeer),
            fmt::format("district {} is not a peer of this node", c.Param(1)));
  return p;
}

}  // namespace

// The peer's own signed checkpoint, with this node's cosignature (C2SP tlog-cosignature):
// it vouches that this node verified the tree and holds it.
void GetPeerCheckpoint(Node::Impl& n, Call& c) {
  Peer* p = PeerOrFail(n, c);
  if (!p) return;
  auto note = p->replica->SignedCheckpoint();
  if (!note.ok()) return c.Fail(note.status());
  auto cosigned = ledger::AddCosignature(*note, n.config.district.origin, *n.log_key,
                                         static_cast<std::uint64_t>(UnixNow()));
  c.res.status = 200;
  c.res.set_content(cosigned.ok() ? *cosigned : *note, "text/plain; charset=utf-8");
}

void GetPeerHashTile(Node::Impl& n, Call& c) {
  Peer* p = PeerOrFail(n, c);
  if (!p) return;
  auto level = ParseU64(c.Param(2));
  auto index = TileIndex(c.Param(3));
  int width = 0;
  if (!level || *level > 63 || !index)
    return c.Error(400, api::codes::kBadRequest, "tile path must be /tile/<L>/<N>[.p/<W>]");
  if (!TileWidth(c, 4, &width)) return;
  AnswerTile(c, p->replica->HashTile(static_cast<int>(*level), *index, width));
}

void GetPeerEntryTile(Node::Impl& n, Call& c) {
  Peer* p = PeerOrFail(n, c);
  if (!p) return;
  auto index = TileIndex(c.Param(2));
  int width = 0;
  if (!index) return c.Error(400, api::codes::kBadRequest, "tile path must be /tile/entries/<N>");
  if (!TileWidth(c, 3, &width)) return;
  AnswerTile(c, p->replica->EntryBundle(*index, width));
}

}  // namespace timebank::node
