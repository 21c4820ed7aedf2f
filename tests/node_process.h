// node_process.h — real timebankd processes on loopback, for integration tests.
//
// A NodeProcess creates a district with `timebankd init` in a temporary directory, starts
// `timebankd` on a free port, and can stop it (SIGTERM), kill it (SIGKILL) and restart
// it. Helpers sign entries and requests the way clients do.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api.h"
#include "district.h"
#include "ledger/entry.h"
#include "ledger/keys.h"

namespace ledger::testing {
namespace api = timebank::api;

int FreePort();
inline std::int64_t Now() {
  return api::UnixNow();
}

// The stable code of an API error body ({"error": {"code": ...}}), or what it is instead.
inline std::string ErrorCode(const api::json& j) {
  if (!j.is_object() || !j.contains("error")) return "<no error envelope: " + j.dump() + ">";
  return j["error"].value("code", "<no code>");
}

// Result of running a program: exit code and what it printed.
struct Ran {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `argv` (argv[0] a path) with extra environment entries "NAME=value".
Ran RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

class NodeProcess {
 public:
  // `config_extra` is appended to the generated config, e.g. "open_log = true" lines go in
  // through SetConfig.
  explicit NodeProcess(std::string district = "510104");
  ~NodeProcess();

  // Replaces `key = ...` in the config (the first occurrence) before a (re)start.
  void SetConfig(const std::string& key, const std::string& value);
  // Appends to the config (tables such as [[peers]]) before a (re)start.
  void AppendConfig(const std::string& text);
  // Adds `other` as a peer district, its log served at `urls` (default: its own URL).
  void AddPeer(const NodeProcess& other, std::vector<std::string> urls = {});
  // The verifier key of this district's checkpoints (from its log key and origin).
  std::string VerifierKey() const;
  void Start(bool tls = false);  // waits until /healthz answers
  int Stop(int signal = 15);     // returns the exit status (or 128+signal)
  void Kill() { Stop(9); }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  const std::string& dir() const { return dir_.path(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& district() const { return district_; }
  httplib::Client Http() const;

  // Keys: the district root (from init) and an operator granted registrar, recorder and
  // redeemer roles (after GrantOperator).
  const SigningKey& root() const { return *root_; }
  const SigningKey& op() const { return op_; }
  std::string op_key_file() const { return dir() + "/op.key"; }
  void GrantOperator();

  // Signs `kind` as an entry of this district.
  std::string Entry(EntryKind kind, const SigningKey* signer = nullptr) const;
  // POSTs entries; the parsed answer and HTTP status.
  std::pair<int, api::json> Submit(const std::vector<std::string>& entries) const;
  std::pair<int, api::json> SubmitOne(const std::string& entry) const;
  // Registers a person and returns the account number (CHECKs success).
  std::string Register(std::uint32_t birth_year, const SigningKey* owner = nullptr);
  // A GET signed by `key` (the operator by default).
  std::pair<int, api::json> SignedGet(const std::string& target,
                                      const SigningKey* key = nullptr) const;
  // The current checkpoint's root hash line (public).
  std::string CheckpointRoot() const;

 private:
  TempDir dir_;
  std::string district_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<SigningKey> root_;
  SigningKey op_;  // a key of each district's own (from its code)
  std::uint64_t serial_ = 0;
};

}  // namespace ledger::testing
