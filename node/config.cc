#include "config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <set>

#include "ledger/checkpoint.h"
#include "ledger/types.h"

namespace timebank::node {

using ledger::Code;
using ledger::Status;

namespace {

Status Bad(std::string_view key, std::string_view why) {
  return Status(Code::kInvalidArgument, fmt::format("config: {}: {}", key, why));
}

std::string Resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

// Reads an optional setting of type T; a present value of another type is an error.
template <typename T>
Status Read(const toml::table& t, std::string_view key, T* out) {
  const toml::node* n = t.at_path(key).node();
  if (!n) return Status::Ok();
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = n->value<std::string>();
    if (!v) return Bad(key, "must be a string");
    *out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    auto v = n->value<bool>();
    if (!v) return Bad(key, "must be true or false");
    *out = *v;
  } else {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 0) return Bad(key, "must be a whole number >= 0");
    *out = static_cast<T>(*v);
  }
  return Status::Ok();
}

// [[peers]] tables: code, name, verifier_key, urls.
Status ReadPeers(const toml::table& t, const std::string& own, std::vector<PeerConfig>* out) {
  const toml::node* n = t.get("peers");
  if (!n) return Status::Ok();
  const toml::array* a = n->as_array();
  if (!a) return Bad("peers", "must be an array of tables ([[peers]])");
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::table* p = a->get(i)->as_table();
    const std::string where = fmt::format("peers[{}]", i);
    if (!p) return Bad(where, "must be a table");
    PeerConfig peer;
    peer.code = p->get("code") ? p->get("code")->value_or(std::string()) : "";
    peer.name = p->get("name") ? p->get("name")->value_or(std::string()) : "";
    peer.verifier_key =
        p->get("verifier_key") ? p->get("verifier_key")->value_or(std::string()) : "";
    if (!ledger::IsDistrictCode(peer.code) || peer.code == own)
      return Bad(where + ".code", "must be another district's 6-digit code");
    for (const auto& other : *out)
      if (other.code == peer.code) return Bad(where + ".code", "names a district twice");
    if (!ledger::ParseVerifierKey(peer.verifier_key).ok())
      return Bad(where + ".verifier_key", "must be a note verifier key (origin+hash+base64)");
    const toml::array* urls = p->get("urls") ? p->get("urls")->as_array() : nullptr;
    if (!urls || urls->empty()) return Bad(where + ".urls", "must list at least one URL");
    for (const auto& u : *urls) {
      auto v = u.value<std::string>();
      if (!v || !(v->starts_with("http://") || v->starts_with("https://")))
        return Bad(where + ".urls", "each must be an http:// or https:// URL");
      std::string url = *v;
      while (url.ends_with("/")) url.pop_back();
      peer.urls.push_back(url);
    }
    out->push_back(std::move(peer));
  }
  return Status::Ok();
}

// The plain settings, each of its own type; `listen` is split into host and port later.
// `read` gets every key asked for: what the file may hold (CheckKnownKeys).
Status ReadSettings(const toml::table& t, NodeConfig* c, std::string* listen,
                    std::set<std::string, std::less<>>* read) {
  auto setting = [&](std::string_view key, auto* out) {
    read->emplace(key);
    return Read(t, key, out);
  };
  const Status errors[] = {
      setting("district.code", &c->district.code),
      setting("district.name", &c->district.name),
      setting("district.city", &c->district.city),
      setting("district.origin", &c->district.origin),
      setting("node.data_dir", &c->data_dir),
      setting("node.log_key_file", &c->log_key_file),
      setting("node.max_clock_skew_seconds", &c->max_clock_skew_seconds),
      setting("node.expire_holds_every_seconds", &c->expire_holds_every_seconds),
      setting("http.listen", listen),
      setting("http.threads", &c->http_threads),
      setting("http.max_body_bytes", &c->max_body_bytes),
      setting("http.read_timeout_seconds", &c->read_timeout_seconds),
      setting("http.write_timeout_seconds", &c->write_timeout_seconds),
      setting("http.keep_alive_seconds", &c->keep_alive_seconds),
      setting("http.max_batch_entries", &c->max_batch_entries),
      setting("http.tls_cert_file", &c->tls_cert_file),
      setting("http.tls_key_file", &c->tls_key_file),
      setting("access.open_log", &c->open_log),
      setting("access.replay_window_seconds", &c->replay_window_seconds),
      setting("log.level", &c->log_level),
      setting("log.format", &c->log_format),
      setting("federation.pull_every_seconds", &c->pull_every_seconds),
      setting("federation.sync_during_copy_entries", &c->sync_during_copy_entries),
  };
  for (const Status& s : errors)
    if (!s.ok()) return s;
  return Status::Ok();
}

// Every key of the file must be a setting: a misspelt one would otherwise leave its
// setting at the default without a word.
// `known_keys`: the keys ReadSettings and ReadReaderKeys read.
Status CheckKnownKeys(const toml::table& t, const std::set<std::string, std::less<>>& known_keys) {
  static const std::set<std::string, std::less<>> kPeerSettings = {"code", "name", "verifier_key",
                                                                   "urls"};
  constexpr std::string_view kHint = "is not a setting (misspelt? see docs/operator-guide.md)";
  for (const auto& [table_key, node] : t) {
    const std::string table(table_key.str());
    if (table == "peers") {  // (not an array of tables: ReadPeers says so)
      if (!node.is_array()) continue;
      const toml::array& peers = *node.as_array();
      for (std::size_t i = 0; i < peers.size(); ++i)
        if (const toml::table* p = peers.get(i)->as_table())
          for (const auto& [k, v] : *p)
            if (!kPeerSettings.contains(k.str()))
              return Bad(fmt::format("peers[{}].{}", i, k.str()), kHint);
      continue;
    }
    const toml::table* settings = node.as_table();
    if (!settings) {
      const bool known =
          std::any_of(known_keys.begin(), known_keys.end(),
                      [&](const std::string& k) { return k.starts_with(table + "."); });
      return Bad(table, known ? fmt::format("must be a table [{}]", table) : std::string(kHint));
    }
    for (const auto& [k, v] : *settings)
      if (const std::string key = table + "." + std::string(k.str()); !known_keys.contains(key))
        return Bad(key, kHint);
  }
  return Status::Ok();
}

// access.reader_keys: hex public keys that may read the log when it is not open.
Status ReadReaderKeys(const toml::table& t, std::vector<std::string>* out) {
  const toml::node* n = t.at_path("access.reader_keys").node();
  if (!n) return Status::Ok();
  const toml::array* a = n->as_array();
  if (!a) return Bad("access.reader_keys", "must be an array of hex keys");
  for (const auto& k : *a) {
    auto v = k.value<std::string>();
    ledger::PublicKey pk;
    if (!v || v->size() != 64 || !ledger::FromHex(*v, &pk))
      return Bad("access.reader_keys", "each key must be 64 hex characters");
    out->push_back(*v);
  }
  return Status::Ok();
}

Status ParseListen(const std::string& listen, NodeConfig* c) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Bad("http.listen", "must be host:port");
  c->listen_host = listen.substr(0, colon);
  try {
    c->listen_port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return Bad("http.listen", "port is not a number");
  }
  if (c->listen_port < 0 || c->listen_port > 65535) return Bad("http.listen", "port out of range");
  return Status::Ok();
}

// The settings' ranges and the ones that go together.
Status CheckRanges(const NodeConfig& c) {
  if (c.pull_every_seconds < 1) return Bad("federation.pull_every_seconds", "must be >= 1");
  if (c.sync_during_copy_entries > (1 << 20))  // (a negative number is refused as read)
    return Bad("federation.sync_during_copy_entries", "must be at most 1048576 (a sync's span)");
  if (c.district.origin.empty()) return Bad("district.origin", "is required");
  if (c.http_threads < 2 || c.http_threads > 1024) return Bad("http.threads", "must be 2..1024");
  if (c.max_batch_entries < 1 || c.max_batch_entries > 4096)
    return Bad("http.max_batch_entries", "must be 1..4096");
  if (c.replay_window_seconds < 5) return Bad("access.replay_window_seconds", "must be >= 5");
  if (c.log_format != "text" && c.log_format != "json") return Bad("log.format", "text or json");
  // (spdlog's names, with its aliases "warning" and "err".)
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info",     "warn", "warning",
                                                 "error", "err",   "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels))
    return Bad("log.level", "trace, debug, info, warn, error, critical or off");
  if (c.max_body_bytes < 4096 || c.max_body_bytes > (std::size_t{1} << 30))
    return Bad("http.max_body_bytes", "must be 4096..1073741824");
  if (c.tls_cert_file.empty() != c.tls_key_file.empty())
    return Bad("http.tls_cert_file", "set both tls_cert_file and tls_key_file, or neither");
  return Status::Ok();
}

}  // namespace

ledger::Result<NodeConfig> LoadConfig(const std::string& path) {
  if (!std::filesystem::exists(path))
    return Status(Code::kNotFound, fmt::format("no config file at {}", path));
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status(Code::kInvalidArgument, fmt::format("config {} line {}: {}", path,
                                                      e.source().begin.line, e.description()));
  }
  NodeConfig c;
  std::string listen = "127.0.0.1:8420";
  std::set<std::string, std::less<>> settings = {"access.reader_keys"};  // (ReadReaderKeys)
  if (Status s = ReadSettings(t, &c, &listen, &settings); !s.ok()) return s;
  if (Status s = CheckKnownKeys(t, settings); !s.ok()) return s;
  if (Status s = ReadReaderKeys(t, &c.reader_keys); !s.ok()) return s;
  if (!ledger::IsDistrictCode(c.district.code)) return Bad("district.code", "must be 6 digits");
  if (Status s = ReadPeers(t, c.district.code, &c.peers); !s.ok()) return s;
  if (Status s = CheckRanges(c); !s.ok()) return s;
  if (Status s = ParseListen(listen, &c); !s.ok()) return s;
  const auto base = std::filesystem::absolute(path).parent_path();
  c.data_dir = Resolve(base, c.data_dir.empty() ? "data" : c.data_dir);
  c.log_key_file = Resolve(base, c.log_key_file.empty() ? "log.key" : c.log_key_file);
  c.tls_cert_file = Resolve(base, c.tls_cert_file);
  c.tls_key_file = Resolve(base, c.tls_key_file);
  return c;
}

std::string DefaultConfigText(const DistrictConfig& d, const std::string& host, int port) {
  return fmt::format(R"(# timebankd configuration. Relative paths are relative to this file.
# Every setting is shown with its default; see docs/operator-guide.md (中文: docs/operator-guide.zh.md).

[district]
code = "{}"            # 6-digit administrative code of the district (区)
name = "{}"
city = "{}"            # 6-digit code of the city
origin = "{}"          # checkpoint origin: the log's unique name (C2SP tlog-checkpoint)

[node]
data_dir = "data"              # the ledger (RocksDB) lives here; one timebankd per directory
log_key_file = "log.key"       # signs checkpoints; keep mode 0600
max_clock_skew_seconds = 600   # entries whose time is further from this clock are refused
expire_holds_every_seconds = 30  # holds past their time are released (HoldExpire, signed by
                                 # the log key); 0 leaves it to operators

[http]
listen = "{}:{}"
threads = 16                   # connections served at once
max_body_bytes = 4194304       # larger requests get 413 body_too_large (4096..1073741824)
read_timeout_seconds = 10
write_timeout_seconds = 10
keep_alive_seconds = 30
max_batch_entries = 1024       # entries in one POST /v1/entries
# TLS (HTTPS) through OpenSSL: set both to PEM files.
tls_cert_file = ""
tls_key_file = ""

[access]
# The log (entries and tiles) holds no names but is still personal data: by default it is
# served only to the keys below (the city's other nodes and registered auditors), to the
# district's root key and to its operators with the auditor role. true publishes it.
open_log = false
reader_keys = []               # hex Ed25519 public keys
replay_window_seconds = 60     # a signed request's time must be this close to the node's

[log]
level = "info"                 # trace, debug, info, warn, error, critical, off
format = "text"                # text or json (one object per line)

[federation]
# 通存通兑: this node copies every other district's log (verifying each signature, the
# tree and its checkpoint), serves the copies under /peers/<code>/, and records sync
# entries that bring their credits for this district's accounts home.
pull_every_seconds = 2
# A long copy (a new node, or one back after days away) is synced as it grows, each time
# this many of the peer's entries have come in; 0: once, when the copy is complete.
sync_during_copy_entries = 65536
# One table per district of the city. The peers' log keys (from their verifier keys) may
# read this node's log, as reader keys do.
# [[peers]]
# code = "510105"
# name = "青羊区时间银行"
# verifier_key = "timebank.chengdu/510105+1a2b3c4d+AbCd..."   # `timebank info` there
# urls = ["https://510105.example:8420", "https://510106.example:8420/peers/510105"]
)",
                     d.code, d.name, d.city, d.origin, host, port);
}

}  // namespace timebank::node
