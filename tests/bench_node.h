// bench_node.h — real timebankd processes for the benchmarks (http_bench, sync_bench).
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "api.h"
#include "ledger/keys.h"

namespace ledger::testing {

inline std::int64_t UnixSeconds() {
  return timebank::api::UnixNow();
}

inline int FreePort() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

// Headers of a signed request (docs/api.md).
inline httplib::Headers SignedHeaders(const SigningKey& key, const std::string& method,
                                      const std::string& target, const std::string& body) {
  auto s = timebank::api::SignRequest(key, method, target, UnixSeconds(), body);
  return {{timebank::api::kKeyHeader, s.key},
          {timebank::api::kTimeHeader, s.time},
          {timebank::api::kNonceHeader, s.nonce},
          {timebank::api::kSignatureHeader, s.signature}};
}

// A district created with `timebankd init` in a temporary directory; Start/Stop run it.
class BenchNode {
 public:
  BenchNode(std::string timebankd, const std::string& district) : timebankd_(std::move(timebankd)) {
    char tmpl[] = "/tmp/timebank-bench.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = FreePort();
    const std::string cmd = timebankd_ + " init --dir " + dir_ + "/node --district " + district +
                            " --name bench --city 510100 --origin timebank.bench/" + district +
                            " --listen 127.0.0.1:" + std::to_string(port_) + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) Fail("timebankd init failed");
  }
  ~BenchNode() {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  const std::string& dir() const { return dir_; }
  std::string config() const { return dir_ + "/node/timebankd.toml"; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen((dir_ + "/node.log").c_str(), "a", stderr);
      (void)f;
      ::execl(timebankd_.c_str(), timebankd_.c_str(), "--config", config().c_str(), nullptr);
      ::_exit(127);
    }
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 400; ++i) {
      if (auto r = c.Get("/healthz"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    Fail("timebankd did not start; see " + dir_ + "/node.log");
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void Kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }
  void Fail(const std::string& what) {
    std::fprintf(stderr, "bench: %s\n", what.c_str());
    Kill();
    std::_Exit(1);
  }

 private:
  std::string timebankd_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ledger::testing
