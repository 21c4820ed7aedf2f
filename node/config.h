// config.h — timebankd's settings, parsed once from its TOML file into plain structs.
//
// The rest of the node reads only these structs, never the file or the command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/status.h"

namespace timebank::node {

struct DistrictConfig {
  std::string code;    // "510104"
  std::string name;    // "锦江区时间银行"
  std::string city;    // "510100"
  std::string origin;  // checkpoint origin, "timebank.chengdu/510104"
};

// Another district of the city (docs/federation.md §3).
struct PeerConfig {
  std::string code;          // "510105"
  std::string name;          // "青羊区时间银行"
  std::string verifier_key;  // its checkpoints' note verifier key ("origin+hash+base64")
  // Where its log is served, tried in order: the district's node ("http://host:port") and
  // nodes holding a copy ("http://host:port/peers/510105"). Each serves C2SP tlog-tiles
  // (/checkpoint, /tile/...) under it.
  std::vector<std::string> urls;
};

struct NodeConfig {
  DistrictConfig district;
  std::string data_dir;      // the ledger and the node's lock; relative paths: from the config
  std::string log_key_file;  // signs checkpoints; mode 0600
  std::string listen_host = "127.0.0.1";
  int listen_port = 8420;
  int http_threads = 16;                    // connections served at once
  std::size_t max_body_bytes = 4u << 20;    // larger bodies: 413 body_too_large
  int read_timeout_seconds = 10;            // per request, reading
  int write_timeout_seconds = 10;           // per response, writing
  int keep_alive_seconds = 30;              // idle keep-alive connections close after
  std::size_t max_batch_entries = 1024;     // entries in one POST /v1/entries
  std::int64_t replay_window_seconds = 60;  // signed requests: |time - now| allowed
  bool open_log = false;                    // serve entries and tiles to anyone
  std::vector<std::string> reader_keys;     // hex keys of peers and auditors: may read the log
  std::string tls_cert_file;                // both set: HTTPS
  std::string tls_key_file;
  std::string log_level = "info";             // trace, debug, info, warn, error, critical, off
  std::string log_format = "text";            // text | json
  std::int64_t max_clock_skew_seconds = 600;  // entries' time vs the node's clock
  int expire_holds_every_seconds = 30;        // release timed-out holds; 0: never
  std::vector<PeerConfig> peers;              // the city's other districts
  int pull_every_seconds = 2;                 // how often each peer's checkpoint is fetched
  // While a long copy of a peer's log goes on: a sync each time this many of its entries
  // have come in, so that its credits count here as the copy grows (0: at the end only).
  std::int64_t sync_during_copy_entries = 65536;
};

// Reads `path`. Relative file names in it are resolved against its directory. Errors name
// the setting at fault (kInvalidArgument) or the file (kNotFound, kIoError).
ledger::Result<NodeConfig> LoadConfig(const std::string& path);

// The commented config file `timebankd init` writes.
std::string DefaultConfigText(const DistrictConfig& district, const std::string& listen_host,
                              int listen_port);

}  // namespace timebank::node
