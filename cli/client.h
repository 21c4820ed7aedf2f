// client.h — the CLI's connection to a node: plain and signed requests, errors mapped to
// the CLI's exit codes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api.h"
#include "ledger/keys.h"

namespace timebank::cli {

// Exit codes (cli/README.md).
enum Exit : int {
  kExitOk = 0,
  kExitError = 1,         // anything else (a local file, a failed verification)
  kExitUsage = 2,         // bad command line
  kExitRejected = 3,      // the node or its ledger refused the request (code printed)
  kExitUnreachable = 4,   // no answer from the node
  kExitVerifyFailed = 5,  // a proof or signature did not verify
};

// A failed request: what to print and how to exit.
struct Failure {
  Exit exit = kExitError;
  std::string code;  // stable error code when the node gave one
  std::string message;
};

template <typename T>
using Answer = std::variant<T, Failure>;

class Client {
 public:
  // `url`: http://host:port or https://host:port. `wait_seconds`: keep retrying a node that
  // does not answer yet (starting) this long.
  // `ca_cert`: for https, a PEM file of the CA to trust (else the system's store).
  Client(std::string url, int wait_seconds, const std::string& ca_cert = "");
  ~Client();

  Answer<api::json> GetJson(const std::string& target, const ledger::SigningKey* signer = nullptr);
  Answer<std::string> GetText(const std::string& target);
  Answer<api::json> Send(const std::string& method, const std::string& target,
                         const api::json& body, const ledger::SigningKey* signer = nullptr);
  // POSTs one signed entry; the node's answer ({"index",...}) or its refusal.
  Answer<api::json> Submit(const std::string& entry_bytes);

 private:
  Answer<api::json> Request(const std::string& method, const std::string& target,
                            const std::string& body, const ledger::SigningKey* signer,
                            std::string* raw = nullptr);
  std::string url_;
  int wait_seconds_;
  struct Conn;
  std::unique_ptr<Conn> conn_;
};

}  // namespace timebank::cli
