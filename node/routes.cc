// The HTTP API v1: the route table and its handlers.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "node_impl.h"

namespace timebank::node {

using namespace ledger;
using api::json;
namespace codes = api::codes;

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kPublic:
      return "public";
    case Access::kLog:
      return "log";
    case Access::kEntry:
      return "entry";
    case Access::kAccount:
      return "account";
    case Access::kOperator:
      return "operator";
  }
  return "public";
}

// --- Arguments -----------------------------------------------------------------------------

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

namespace {

// A query parameter as a number; answers 400 when it is present but not one, or absent
// and required.
bool QueryU64(Call& c, const char* name, std::optional<std::uint64_t>* out, bool required) {
  if (!c.req.has_param(name)) {
    if (!required) return true;
    c.Error(400, codes::kBadRequest, fmt::format("query parameter '{}' is required", name));
    return false;
  }
  *out = ParseU64(c.req.get_param_value(name));
  if (!*out) {
    c.Error(400, codes::kBadRequest,
            fmt::format("query parameter '{}' must be a whole number", name));
    return false;
  }
  return true;
}

}  // namespace

// tlog-tiles index path: "x001/x234/067" -> 1234067.
std::optional<std::uint64_t> TileIndex(std::string_view path) {
  std::uint64_t v = 0;
  while (!path.empty()) {
    const bool last = path.front() != 'x';
    if (!last) path.remove_prefix(1);
    if (path.size() < 3) return std::nullopt;
    auto d = ParseU64(path.substr(0, 3));
    if (!d) return std::nullopt;
    v = v * 1000 + *d;
    path.remove_prefix(3);
    if (last) return path.empty() ? std::optional(v) : std::nullopt;
    if (path.empty() || path.front() != '/') return std::nullopt;
    path.remove_prefix(1);
  }
  return std::nullopt;
}

namespace {

// --- Access --------------------------------------------------------------------------------

bool IsStaff(Node::Impl& n, const PublicKey& key) {
  const KeyInfo k = n.Lookup(key);
  return k.root || !k.roles.empty();
}

bool IsLogReader(Node::Impl& n, const PublicKey& key) {
  return n.reader_keys.count(key) || IsStaff(n, key);
}

// The accounts an entry names (for owners reading their own entries).
std::vector<std::string> AccountsOf(const EntryKind& kind) {
  return std::visit(
      [](const auto& v) -> std::vector<std::string> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Deposit>)
          return {v.volunteer, v.beneficiary};
        else if constexpr (std::is_same_v<T, Transfer>)
          return {v.from, v.to};
        else if constexpr (std::is_same_v<T, Open> || std::is_same_v<T, Redeem> ||
                           std::is_same_v<T, Hold> || std::is_same_v<T, Migrate> ||
                           std::is_same_v<T, PoolRequest>)
          return {v.account};
        else
          return {};
      },
      kind);
}

bool OwnsAccount(Node::Impl& n, const PublicKey& key, const std::string& account) {
  if (account.empty()) return false;
  auto a = n.ledger->GetAccount(account);
  return a.ok() && a->has_owner_key && a->owner_key == key;
}

// --- Handlers ------------------------------------------------------------------------------

// The entries of a JSON submission: {"entry": b64} (one) or {"entries": [b64, ...]}.
// Answers the error itself and returns false when the body is not one of these.
bool EntriesFromJson(Node::Impl& n, Call& c, std::vector<std::string>* entries, bool* batch) {
  auto body = c.Body();
  if (!body) return false;
  *batch = body->contains("entries");
  if (*batch == body->contains("entry")) {
    c.Error(400, codes::kBadRequest, "send either \"entry\" (one) or \"entries\" (a batch)");
    return false;
  }
  if (*batch) {
    const json& list = (*body)["entries"];
    if (!list.is_array() || list.empty()) {
      c.Error(400, codes::kBadRequest, "\"entries\" must be a non-empty array");
      return false;
    }
    if (list.size() > n.config.max_batch_entries) {
      c.Error(413, codes::kBodyTooLarge,
              fmt::format("a batch holds at most {} entries, this one {}",
                          n.config.max_batch_entries, list.size()));
      return false;
    }
    entries->reserve(list.size());
  }
  const json& items = *batch ? (*body)["entries"] : json::array({(*body)["entry"]});
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string bytes;
    if (!items[i].is_string() || !Base64Decode(items[i].get_ref<const std::string&>(), &bytes)) {
      c.Error(400, codes::kBadRequest,
              *batch ? fmt::format("entries[{}] must be a base64 string", i)
                     : std::string("\"entry\" must be a base64 string"));
      return false;
    }
    entries->push_back(std::move(bytes));
  }
  return true;
}

// The entries of a binary submission (Content-Type application/x-timebank-entries): each
// entry as a big-endian uint16 length and its bytes — the framing of a tlog-tiles entry
// bundle. No JSON, no base64: for peers and bulk integrators.
bool EntriesFromBundle(Node::Impl& n, Call& c, std::vector<std::string>* entries) {
  std::string_view body = c.req.body;
  while (!body.empty()) {
    if (body.size() < 2) {
      c.Error(400, codes::kBadRequest, "the entry bundle ends inside a length");
      return false;
    }
    const std::size_t len =
        static_cast<std::uint8_t>(body[0]) << 8 | static_cast<std::uint8_t>(body[1]);
    if (len == 0 || body.size() < 2 + len) {
      c.Error(400, codes::kBadRequest,
              fmt::format("entry {} of the bundle is empty or cut short", entries->size()));
      return false;
    }
    if (entries->size() == n.config.max_batch_entries) {
      c.Error(413, codes::kBodyTooLarge,
              fmt::format("a batch holds at most {} entries", n.config.max_batch_entries));
      return false;
    }
    entries->emplace_back(body.substr(2, len));
    body.remove_prefix(2 + len);
  }
  if (entries->empty()) {
    c.Error(400, codes::kBadRequest, "the entry bundle is empty");
    return false;
  }
  return true;
}

void Submit(Node::Impl& n, Call& c) {
  ++n.metrics.submit_requests;
  std::vector<std::string> entries;
  bool batch = true;
  // (Media types are case-insensitive: RFC 9110 §8.3.1.)
  std::string type = c.req.get_header_value("Content-Type");
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  const bool binary = type.starts_with(api::kEntriesMediaType);
  if (!(binary ? EntriesFromBundle(n, c, &entries) : EntriesFromJson(n, c, &entries, &batch)))
    return;
  const auto start = std::chrono::steady_clock::now();
  auto results = n.ledger->Append(entries);
  n.metrics.commit_latency.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (std::any_of(results.begin(), results.end(), [](const auto& r) {
        return r.code() == Code::kIoError || r.code() == Code::kInternal;
      }))
    (void)n.LedgerHealth();  // logs the failure, once
  std::uint64_t added = 0;
  json out = json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    // An entry of a peer's log (redeeming away: a hold for an account of that district
    // served here, its post or void), refused here as another district's, goes to that
    // peer's node. Only refused entries are decoded again: the append path is untouched.
    if (r.code() == Code::kWrongDistrict && !n.peers.empty()) {
      auto d = DecodeEntry(entries[i]);
      if (Peer* home = d.ok() ? n.FindPeer(d->body.district) : nullptr) {
        const Node::Impl::Forwarded f = n.Forward(*home, entries[i]);
        if (!batch) {
          c.error_code = f.error_code;
          return c.Json(f.http, f.body);
        }
        if (!f.error_code.empty()) n.metrics.CountError(f.error_code);
        out.push_back(f.body);
        continue;
      }
    }
    if (r.ok()) {
      (r->duplicate ? n.metrics.entries_duplicate : n.metrics.entries_appended) += 1;
      added += r->duplicate ? 0 : 1;
      out.push_back({{"index", r->index}, {"duplicate", r->duplicate}});
    } else {
      // One refused entry of a batch (a single entry's error is counted with the answer).
      if (batch) n.metrics.CountError(std::string(CodeName(r.code())));
      out.push_back(api::ErrorBody(CodeName(r.code()), r.status().message()));
    }
  }
  n.rate.Add(added);
  if (!batch) {
    if (!results[0].ok()) return c.Fail(results[0].status());
    return c.Json(200, out[0]);
  }
  c.Json(200, {{"results", out}});
}

void GetEntryAt(Node::Impl& n, Call& c, std::uint64_t index) {
  auto bytes = n.ledger->GetEntry(index);
  if (!bytes.ok()) return c.Fail(bytes.status());
  if (c.route.access == Access::kEntry && c.caller && !IsLogReader(n, *c.caller)) {
    // Not a log reader: only the owner of an account the entry names may read it.
    auto d = DecodeEntry(*bytes);
    bool owner = false;
    if (d.ok())
      for (const auto& a : AccountsOf(d->body.kind)) owner = owner || OwnsAccount(n, *c.caller, a);
    if (!owner)
      return c.Error(403, codes::kForbidden,
                     "this key may read only entries naming an account it owns");
  }
  c.Json(200, api::EntryJson(index, *bytes));
}

void GetEntry(Node::Impl& n, Call& c) {
  auto index = ParseU64(c.Param(1));
  if (!index) return c.Error(400, codes::kBadRequest, "entry index must be a whole number");
  GetEntryAt(n, c, *index);
}

void GetEntryById(Node::Impl& n, Call& c) {
  EntryId id;
  if (c.Param(1).size() != 32 || !FromHex(c.Param(1), &id))
    return c.Error(400, codes::kBadRequest, "entry id must be 32 hex characters");
  auto index = n.ledger->FindEntry(id);
  if (!index.ok()) return c.Fail(index.status());
  GetEntryAt(n, c, *index);
}

void GetAccount(Node::Impl& n, Call& c) {
  auto a = n.ledger->GetAccount(c.Param(1));
  if (!a.ok()) return c.Fail(a.status());
  c.Json(200, api::ToJson(*a));
}

void GetHistory(Node::Impl& n, Call& c) {
  std::optional<std::uint64_t> from, limit, detail;
  if (!QueryU64(c, "from", &from, false) || !QueryU64(c, "limit", &limit, false) ||
      !QueryU64(c, "detail", &detail, false))
    return;
  auto page = n.ledger->History(c.Param(1), from, limit.value_or(100));
  if (!page.ok()) return c.Fail(page.status());
  json j = api::ToJson(*page);
  j["account"] = c.Param(1);
  if (detail.value_or(0) != 0) {
    // Each item's entry kind and time, read here rather than in one request per entry.
    for (auto& item : j["items"]) {
      auto bytes = n.ledger->GetEntry(item["index"].get<std::uint64_t>());
      if (!bytes.ok()) return c.Fail(bytes.status());
      auto d = DecodeEntry(*bytes);
      if (!d.ok()) return c.Fail(d.status());
      item["kind"] = KindName(d->body.kind);
      item["time"] = d->body.time;
    }
  }
  c.Json(200, j);
}

// Real names (实名) are handled by registrars, the district office (admin) and root only.
bool MayHandleRealNames(Node::Impl& n, Call& c) {
  const KeyInfo k = n.Lookup(*c.caller);
  if (k.root || std::any_of(k.roles.begin(), k.roles.end(),
                            [](Role r) { return r == Role::kRegistrar || r == Role::kAdmin; }))
    return true;
  c.Error(403, codes::kForbidden, "real-name records are for registrars and the district office");
  return false;
}

void PutRealName(Node::Impl& n, Call& c) {
  if (!MayHandleRealNames(n, c)) return;
  auto body = c.Body();
  if (!body) return;
  RealNameRecord r;
  std::string salt;
  for (auto [field, out] : {std::pair{"name", &r.name}, std::pair{"id_number", &r.id_number},
                            std::pair{"phone", &r.phone}, std::pair{"salt", &salt}}) {
    auto it = body->find(field);
    if (it == body->end() || !it->is_string())
      return c.Error(400, codes::kBadRequest, fmt::format("\"{}\" must be a string", field));
    *out = it->get<std::string>();
  }
  if (Status s = n.ledger->PutRealName(c.Param(1), r, salt); !s.ok()) return c.Fail(s);
  c.Json(200, {{"account", c.Param(1)}, {"stored", true}});
}

void GetRealName(Node::Impl& n, Call& c) {
  if (!MayHandleRealNames(n, c)) return;
  auto r = n.ledger->GetRealName(c.Param(1));
  if (!r.ok()) return c.Fail(r.status());
  c.Json(200, {{"account", c.Param(1)},
               {"name", r->name},
               {"id_number", r->id_number},
               {"phone", r->phone}});
}

void DeleteRealName(Node::Impl& n, Call& c) {
  if (!MayHandleRealNames(n, c)) return;
  if (Status s = n.ledger->DeleteRealName(c.Param(1)); !s.ok()) return c.Fail(s);
  c.Json(200, {{"account", c.Param(1)}, {"erased", true}});
}

void GetCheckpoint(Node::Impl& n, Call& c) {
  auto note = n.ledger->SignedCheckpoint();
  if (!note.ok()) return c.Fail(note.status());
  c.res.status = 200;
  c.res.set_content(*note, "text/plain; charset=utf-8");
}

void GetInclusion(Node::Impl& n, Call& c) {
  std::optional<std::uint64_t> index, size;
  if (!QueryU64(c, "index", &index, true) || !QueryU64(c, "tree_size", &size, false)) return;
  auto p = n.ledger->ProveInclusion(*index, size.value_or(n.ledger->Size()));
  if (!p.ok()) return c.Fail(p.status());
  c.Json(200, api::ToJson(*p));
}

void GetConsistency(Node::Impl& n, Call& c) {
  std::optional<std::uint64_t> old_size, new_size;
  if (!QueryU64(c, "old", &old_size, true) || !QueryU64(c, "new", &new_size, false)) return;
  auto p = n.ledger->ProveConsistency(*old_size, new_size.value_or(n.ledger->Size()));
  if (!p.ok()) return c.Fail(p.status());
  c.Json(200, api::ToJson(*p));
}

}  // namespace

void AnswerTile(Call& c, const Result<std::string>& data) {
  if (!data.ok()) return c.Fail(data.status());
  c.res.status = 200;
  c.res.set_header("Cache-Control", "public, max-age=31536000, immutable");
  c.res.set_content(*data, "application/octet-stream");
}

bool TileWidth(Call& c, int group, int* width) {
  *width = 256;
  if (c.req.matches[group].length() == 0) return true;
  auto w = ParseU64(c.Param(group));
  if (!w || *w < 1 || *w > 255) {
    c.Error(400, codes::kBadRequest, "a partial tile's width must be 1..255");
    return false;
  }
  *width = static_cast<int>(*w);
  return true;
}

namespace {

void GetHashTile(Node::Impl& n, Call& c) {
  auto level = ParseU64(c.Param(1));
  auto index = TileIndex(c.Param(2));
  int width = 0;
  if (!level || *level > 63 || !index)
    return c.Error(400, codes::kBadRequest, "tile path must be /tile/<L>/<N>[.p/<W>]");
  if (!TileWidth(c, 3, &width)) return;
  AnswerTile(c, n.ledger->HashTile(static_cast<int>(*level), *index, width));
}

void GetEntryTile(Node::Impl& n, Call& c) {
  auto index = TileIndex(c.Param(1));
  int width = 0;
  if (!index) return c.Error(400, codes::kBadRequest, "tile path must be /tile/entries/<N>");
  if (!TileWidth(c, 2, &width)) return;
  AnswerTile(c, n.ledger->EntryBundle(*index, width));
}

void GetInfo(Node::Impl& n, Call& c) {
  auto d = n.ledger->GetDistrictInfo();
  if (!d.ok()) return c.Fail(d.status());
  auto vkey = n.ledger->VerifierKey();
  if (!vkey.ok()) return c.Fail(vkey.status());
  const auto cp = n.ledger->CurrentCheckpoint();
  c.Json(200, {{"district", d->district},
               {"name", d->name},
               {"city", d->city},
               {"origin", d->origin},
               {"verifier_key", *vkey},
               {"root_key", ToHex(d->root_key)},
               {"log_key", ToHex(d->log_key)},
               {"size", cp.size},
               {"root_hash", ToHex(cp.root)},
               {"open_log", n.config.open_log},
               {"api", "v1"},
               {"version", "0.1.0"}});
}

// Aggregate figures: the system accounts' balances. No person is visible in them.
void GetStats(Node::Impl& n, Call& c) {
  auto d = n.ledger->GetDistrictInfo();
  if (!d.ok()) return c.Fail(d.status());
  Minutes v[4] = {};
  const SystemAccount which[4] = {SystemAccount::kIssuance, SystemAccount::kPool,
                                  SystemAccount::kHeld, SystemAccount::kRedeemed};
  for (int i = 0; i < 4; ++i) {
    auto b = n.ledger->Balance(SystemAccountId(d->district, which[i]));
    if (!b.ok()) return c.Fail(b.status());
    v[i] = *b;
  }
  const Minutes issued = -v[0];
  c.Json(200, {{"district", d->district},
               {"size", n.ledger->Size()},
               {"issued_minutes", issued},
               {"pool_minutes", v[1]},
               {"held_minutes", v[2]},
               {"redeemed_minutes", v[3]},
               {"outstanding_minutes", issued - v[1] - v[2] - v[3]}});
}

void GetPolicy(Node::Impl& n, Call& c) {
  auto p = n.ledger->CurrentPolicy();
  if (!p.ok()) return c.Fail(p.status());
  c.Json(200, api::ToJson(*p));
}

void Healthz(Node::Impl& n, Call& c) {
  if (n.stopping) return c.Error(503, codes::kUnavailable, "shutting down");
  // A ledger (or a copy of a peer's log) that refuses entries since a failed write: reads
  // still work, so the node stays up, but it is not healthy until it is restarted.
  if (auto health = n.LedgerHealth(); !health.ok())
    return c.Error(503, CodeName(health.code()),
                   health.message() +
                       "; reads still work; restart timebankd once the cause is "
                       "fixed");
  c.Json(200, {{"status", "ok"}, {"size", n.ledger->Size()}});
}

void GetMetrics(Node::Impl& n, Call& c) {
  c.res.status = 200;
  c.res.set_content(
      n.metrics.Render(n.ledger->Size(), n.rate.PerSecond(), !n.ledger->Health().ok()) +
          n.PeerMetrics(),
      "text/plain; version=0.0.4");
}

constexpr char kTileN[] = "((?:x[0-9]{3}/)*[0-9]{3})";

// Writing: signed entries in, and reading them back.
std::vector<Route> EntryRoutes() {
  return {
      {"submit_entries", "POST", "/v1/entries", "/v1/entries", Access::kPublic,
       "Submit one signed entry ({\"entry\": base64}) or a batch ({\"entries\": [...]}, or a "
       "binary entry bundle with Content-Type application/x-timebank-entries). Writes are "
       "authorised by the signatures inside the entries. One entry: its index, or the error "
       "that refused it. A batch: one result per entry, in order.",
       R"({"entries": ["CiQKEP...base64...", "CiQKEP..."]})",
       R"({"results": [{"index": 42, "duplicate": false}, {"error": {"code": "insufficient_balance", "message": "account 510104000000011 has 1 h, needs 2 h"}}]})",
       Submit},
      {"get_entry", "GET", "/v1/entries/{index}", "/v1/entries/([0-9]+)", Access::kEntry,
       "An entry by its index: bytes (base64), leaf hash, decoded body and signers.", "",
       R"({"index": 7, "entry": "CiQK...", "leaf_hash": "9f...", "decoded": {"kind": "deposit", "body": {"volunteer": "510104000000011"}}, "signers": ["ab..."]})",
       GetEntry},
      {"get_entry_by_id", "GET", "/v1/entries/by-id/{id}", "/v1/entries/by-id/([0-9a-fA-F]+)",
       Access::kEntry, "An entry by its 128-bit id (32 hex characters).", "",
       R"({"index": 7, "entry": "CiQK..."})", GetEntryById},
  };
}

// Accounts: balances, histories, and the private real-name records (never in the log).
std::vector<Route> AccountRoutes() {
  return {
      {"get_account", "GET", "/v1/accounts/{account}",
       std::string("/v1/accounts/") + kAccountPattern, Access::kAccount,
       "An account: balance, hours served, kind, community.", "",
       R"({"account": "510104000000011", "type": "person", "balance_minutes": 150, "balance": "2.5 h"})",
       GetAccount},
      {"get_history", "GET", "/v1/accounts/{account}/history",
       std::string("/v1/accounts/") + kAccountPattern + "/history", Access::kAccount,
       "An account's entries, newest first: ?limit=1..1000 (100), ?from=<next of the previous "
       "page>, ?detail=1 adds each entry's kind and time.",
       "",
       R"({"account": "510104000000011", "items": [{"index": 9, "delta_minutes": -60, "delta": "-1 h"}], "next": 4})",
       GetHistory},
      {"put_realname", "PUT", "/v1/accounts/{account}/realname",
       std::string("/v1/accounts/") + kAccountPattern + "/realname", Access::kOperator,
       "Store the private real-name record (实名) of an account (registrars, admin, root); it must "
       "match the commitment "
       "of its open entry. Never replicated, never in the log.",
       R"({"name": "李娜", "id_number": "510104199201010000", "phone": "13800000000", "salt": "hex or text"})",
       R"({"account": "510104000000011", "stored": true})", PutRealName},
      {"get_realname", "GET", "/v1/accounts/{account}/realname",
       std::string("/v1/accounts/") + kAccountPattern + "/realname", Access::kOperator,
       "The private real-name record of an account.", "",
       R"({"account": "510104000000011", "name": "李娜", "id_number": "...", "phone": "..."})",
       GetRealName},
      {"delete_realname", "DELETE", "/v1/accounts/{account}/realname",
       std::string("/v1/accounts/") + kAccountPattern + "/realname", Access::kOperator,
       "Erase the real-name record (PIPL); the log keeps only the salted commitment.", "",
       R"({"account": "510104000000011", "erased": true})", DeleteRealName},
  };
}

// Proofs of the log: the checkpoint, RFC 6962 proofs, C2SP tlog-tiles.
std::vector<Route> ProofRoutes() {
  return {
      {"get_checkpoint", "GET", "/v1/checkpoint", "/v1/checkpoint", Access::kPublic,
       "The signed checkpoint (C2SP tlog-checkpoint signed note), text/plain.", "",
       "timebank.chengdu/510104\n42\nq1...=\n\n— timebank.chengdu/510104 Az3...\n", GetCheckpoint},
      {"tlog_checkpoint", "GET", "/checkpoint", "/checkpoint", Access::kPublic,
       "C2SP tlog-tiles: the signed checkpoint.", "", "(as /v1/checkpoint)", GetCheckpoint},
      {"get_inclusion_proof", "GET", "/v1/proofs/inclusion", "/v1/proofs/inclusion",
       Access::kPublic,
       "RFC 6962 inclusion proof of entry ?index= in the tree of ?tree_size= (default: the "
       "current size).",
       "", R"({"index": 7, "tree_size": 42, "path": ["9f...", "03..."]})", GetInclusion},
      {"get_consistency_proof", "GET", "/v1/proofs/consistency", "/v1/proofs/consistency",
       Access::kPublic,
       "RFC 6962 consistency proof between the trees of ?old= and ?new= (default: current).", "",
       R"({"old_size": 10, "new_size": 42, "path": ["9f..."]})", GetConsistency},
      {"tlog_hash_tile", "GET", "/tile/{L}/{N}",
       std::string("/tile/([0-9]+)/") + kTileN + "(?:\\.p/([0-9]+))?", Access::kLog,
       "C2SP tlog-tiles hash tile (level L, index N in x001/234 form, .p/W partial).", "",
       "(binary: W x 32-byte hashes)", GetHashTile},
      {"tlog_entry_bundle", "GET", "/tile/entries/{N}",
       std::string("/tile/entries/") + kTileN + "(?:\\.p/([0-9]+))?", Access::kLog,
       "C2SP tlog-tiles entry bundle: each entry as a big-endian uint16 length and its bytes.", "",
       "(binary)", GetEntryTile},
  };
}

// The district: who it is, its figures, its rules, its health.
std::vector<Route> DistrictRoutes() {
  return {
      {"get_info", "GET", "/v1/info", "/v1/info", Access::kPublic,
       "The district: code, name, checkpoint origin and verifier key, keys, size.", "",
       R"({"district": "510104", "name": "锦江区时间银行", "origin": "timebank.chengdu/510104", "verifier_key": "timebank.chengdu/510104+1a2b3c4d+AQ...", "size": 42})",
       GetInfo},
      {"get_stats", "GET", "/v1/stats", "/v1/stats", Access::kPublic,
       "Aggregate figures: hours issued, in the pool, held for redemptions, redeemed, and "
       "outstanding in people's accounts (minutes). No person is visible in them.",
       "",
       R"({"district": "510104", "size": 42, "issued_minutes": 6000, "pool_minutes": 120, "held_minutes": 60, "redeemed_minutes": 900, "outstanding_minutes": 4920})",
       GetStats},
      {"get_policy", "GET", "/v1/policy", "/v1/policy", Access::kPublic,
       "The policy in force: service catalogue and rates, caps, ages, gift scope, and the "
       "city's districts (city: when listed, the only other districts entries may name).",
       "",
       R"({"version": 2, "services": [{"category": "meals", "rate_permille": 1000}], "city": [{"code": "510105", "name": "青羊区时间银行", "verifier_key": "timebank.chengdu/510105+1a2b3c4d+AQ..."}]})",
       GetPolicy},
      {"healthz", "GET", "/healthz", "/healthz", Access::kPublic,
       "Liveness: 200 while serving; 503 while shutting down (unavailable), or while the "
       "ledger or a copy of a peer's log refuses entries since a failed write (io_error, "
       "internal; the message says which: restart the node once the cause is fixed; reads "
       "go on).",
       "", R"({"status": "ok", "size": 42})", Healthz},
      {"metrics", "GET", "/metrics", "/metrics", Access::kPublic,
       "Prometheus metrics (text format 0.0.4).", "", "timebank_log_entries 42\n", GetMetrics},
  };
}

// Federation: the other districts as this node follows them, alerts, the city's books,
// and the copies it serves onward.
std::vector<Route> FederationRoutes() {
  return {
      {"get_peers", "GET", "/v1/peers", "/v1/peers", Access::kPublic,
       "The city's other districts as this node follows them: replica size, latest checkpoint "
       "seen, how far this log has synced each, the source, errors, equivocation.",
       "",
       R"({"district":"510104","peers":[{"district":"510105","name":"青羊区时间银行","replica_size":1200,"checkpoint_size":1200,"synced_size":1200,"parked_minutes":0,"unpaid_claim_minutes":0,"source":"http://10.0.0.5:8420","last_ok":1795400000,"last_error":"","errors":0,"equivocation":false}]})",
       GetPeers},
      {"get_alerts", "GET", "/v1/alerts", "/v1/alerts", Access::kPublic,
       "What an operator must act on: peers that signed two trees that cannot both be true, "
       "with both signed checkpoints as evidence (equivocation); where the config's peers and "
       "the policy's city list disagree (peer_key_mismatch, not_in_city, not_followed).",
       "",
       R"({"alerts":[{"district":"510105","kind":"equivocation","message":"district 510105 signed two trees that cannot both be true; ...","evidence":["timebank.chengdu/510105\n12\n...","timebank.chengdu/510105\n12\n..."]}]})",
       GetAlerts},
      {"clear_alert", "POST", "/v1/alerts/{district}/clear", "/v1/alerts/([0-9]{6})/clear",
       Access::kOperator,
       "Clear a peer's equivocation alert once the city has dealt with the fork (district "
       "office: admin role, or root). The evidence is archived under <data_dir>/alerts/ and "
       "removed from the copy; pulling resumes, and the copy still takes only checkpoints that "
       "extend the tree it holds (a district still on the other branch is caught again). "
       "404 no_alert when there is none.",
       "",
       R"({"district":"510105","cleared":true,"archived":"/var/lib/timebank/alerts/510105-1795400000.json"})",
       ClearAlert},
      {"get_account_home", "GET", "/v1/accounts/{account}/home",
       std::string("/v1/accounts/") + kAccountPattern + "/home", Access::kAccount,
       "Where an account is homed now, from this node's log and its copies of the others "
       "(accounts move home: docs/federation.md §7); while a move is on its way, home is null "
       "and moving_to names the new home.",
       "", R"({"account": "510104000000011", "home": "510105"})", GetAccountHome},
      {"get_set_asides", "GET", "/v1/set-asides", "/v1/set-asides", Access::kOperator,
       "Holds other districts set aside for care here (?account= for one person's), as of "
       "this log's latest sync of each: what this district may claim while that home is "
       "unreachable.",
       "",
       R"({"set_asides":[{"home":"510106","hold_id":"5cef15ef...","account":"510106439269299","minutes":120,"expires_at":1795500000,"claimed_minutes":0,"closed":false}]})",
       GetSetAsides},
      {"get_clearing", "GET", "/v1/clearing", "/v1/clearing", Access::kPublic,
       "The city's clearing report for local days ?from=YYYY-MM-DD up to (not including) "
       "?to=YYYY-MM-DD (default: this month so far), from this node's log and its copies of "
       "the others: per district, minutes issued in its log, its accounts' redemptions by the "
       "district that gave the care, and what it owes at the end (accounts, pool, holds).",
       "",
       R"({"from":"2026-11-01","to":"2026-12-01","districts":[{"district":"510104","name":"锦江区时间银行","entries":1200,"issued_minutes":9000,"redeemed_minutes":{"510104":600,"510105":120},"liability_minutes":8100}],"issued_minutes":9000,"liability_minutes":8100})",
       GetClearing},
      {"peer_checkpoint", "GET", "/peers/{district}/checkpoint", "/peers/([0-9]{6})/checkpoint",
       Access::kPublic,
       "A peer's own signed checkpoint, as verified here, with this node's C2SP "
       "tlog-cosignature.",
       "",
       "timebank.chengdu/510105\n1200\n...=\n\n— timebank.chengdu/510105 Bx7...\n— "
       "timebank.chengdu/510104 Az3...\n",
       GetPeerCheckpoint},
      {"peer_hash_tile", "GET", "/peers/{district}/tile/{L}/{N}",
       std::string("/peers/([0-9]{6})/tile/([0-9]+)/") + kTileN + "(?:\\.p/([0-9]+))?",
       Access::kLog, "A peer's hash tile, from its verified copy here (C2SP tlog-tiles).", "",
       "(32-byte hashes)", GetPeerHashTile},
      {"peer_entry_bundle", "GET", "/peers/{district}/tile/entries/{N}",
       std::string("/peers/([0-9]{6})/tile/entries/") + kTileN + "(?:\\.p/([0-9]+))?", Access::kLog,
       "A peer's entry bundle, from its verified copy here (C2SP tlog-tiles).", "",
       "(length-prefixed entries)", GetPeerEntryTile},
  };
}

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = [] {
    std::vector<Route> all;
    for (auto part :
         {EntryRoutes(), AccountRoutes(), ProofRoutes(), DistrictRoutes(), FederationRoutes()})
      all.insert(all.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    return all;
  }();
  return routes;
}

}  // namespace timebank::node

namespace timebank::node {

KeyInfo Node::Impl::Lookup(const PublicKey& key) {
  const std::uint64_t size = ledger->Size();
  {
    std::lock_guard lk(keys_mu);
    if (keys_size != size) {
      keys.clear();
      keys_size = size;
    }
    if (auto it = keys.find(key); it != keys.end()) return it->second;
  }
  auto k = ledger->LookupKey(key);
  if (!k.ok()) return {};
  std::lock_guard lk(keys_mu);
  if (keys_size == size && keys.size() < 10000) keys.emplace(key, *k);
  return *k;
}

bool Node::Impl::Authorize(Call& c) {
  const Access access = c.route.access;
  if (access == Access::kPublic) return true;
  const bool log_route = access == Access::kLog || access == Access::kEntry;
  const bool signed_request =
      c.req.has_header(api::kKeyHeader) || c.req.has_header(api::kNonceHeader) ||
      c.req.has_header(api::kSignatureHeader) || c.req.has_header(api::kTimeHeader);
  if (log_route && config.open_log && !signed_request) return true;
  auto header = [&](const char* name) -> std::optional<std::string> {
    if (!c.req.has_header(name)) return std::nullopt;
    return c.req.get_header_value(name);
  };
  RequestView view{.method = c.req.method,
                   .target = c.req.target,
                   .body = c.req.body,
                   .key = header(api::kKeyHeader),
                   .time = header(api::kTimeHeader),
                   .nonce = header(api::kNonceHeader),
                   .signature = header(api::kSignatureHeader)};
  auto checked = CheckSignedRequest(view, UnixNow(), config.replay_window_seconds, replay.get());
  if (auto* e = std::get_if<AuthError>(&checked)) {
    c.Error(e->http_status, e->code, e->message);
    return false;
  }
  const PublicKey key = std::get<Caller>(checked).key;
  c.caller = key;
  if (log_route && config.open_log) return true;
  switch (access) {
    case Access::kLog:
      if (IsLogReader(*this, key)) return true;
      c.Error(403, codes::kForbidden,
              "the log is served to the city's nodes, registered auditors and this district's "
              "operators only");
      return false;
    case Access::kEntry:
      return true;  // the handler checks ownership for keys that are not log readers
    case Access::kAccount:
      if (IsStaff(*this, key) || OwnsAccount(*this, key, c.Param(1))) return true;
      c.Error(403, codes::kForbidden,
              "an account is read by its owner or by this district's operators only");
      return false;
    case Access::kOperator:
      if (IsStaff(*this, key)) return true;
      c.Error(403, codes::kForbidden, "this needs a key of this district's operators");
      return false;
    case Access::kPublic:
      break;
  }
  return true;
}

}  // namespace timebank::node
