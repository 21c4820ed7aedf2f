// node.h — a running district node: its ledger, HTTP server and the state they share.
//
// Start() takes the numbered init steps (lock the data directory, load the log key, open
// the ledger, bind the listener); Serve() answers requests until Stop(). Destruction
// after a Start that failed half-way is safe.
#pragma once

#include <memory>
#include <string>

#include "config.h"
#include "ledger/ledger.h"
#include "ledger/status.h"

namespace timebank::node {

class Node {
 public:
  static ledger::Result<std::unique_ptr<Node>> Start(const NodeConfig& config);
  ~Node();

  // Answers requests until Stop() (from another thread). Returns false when the listener
  // failed.
  bool Serve();
  // Stops accepting, finishes the requests being served (their commits included), and
  // returns. The ledger closes when the Node is destroyed.
  void Stop();
  int port() const;

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Creates a district in `dir`: log.key and root.key (mode 0600), the data directory with
// the genesis entry, and timebankd.toml. Prints what it made to `out`. kInvalidArgument
// when `dir` already holds a node.
ledger::Status InitDistrict(const std::string& dir, const DistrictConfig& district,
                            const std::string& listen_host, int listen_port, std::string* out);

// The route table as an OpenAPI 3.0 document (docs/openapi.json).
std::string OpenApiDocument();

}  // namespace timebank::node
