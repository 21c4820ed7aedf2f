// http_bench — a running timebankd driven over loopback, against the machine's raw limits
// measured in the same run.
//
//   http_bench <timebankd path> [seconds per phase]
//
// Prints name=value lines:
//   verify_per_sec             raw Ed25519 verifications/s, all cores (the limit)
//   http_submit_per_sec        entries/s through POST /v1/entries in batches of 256
//   http_submit_verify_ratio   http_submit_per_sec / verify_per_sec (target >= 0.6)
//   http_bundle_submit_*       the same with binary entry bundles (no JSON, no base64)
//   http_single_submit_per_sec entries/s, one entry per POST
//   http_balance_reads_per_sec signed GET /v1/accounts/{a} answered per second
//   http_balance_read_p50_ms, http_balance_read_p99_ms
// The clients run on the same cores as the node: their work (signing requests, HTTP) is
// charged to the node's figures.
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "api.h"
#include "bench_node.h"
#include "bench_util.h"
#include "district.h"
#include "ledger/entry.h"
#include "ledger/keys.h"

using namespace ledger;
using namespace ledger::testing;
using timebank::api::json;
namespace api = timebank::api;
using Clock = std::chrono::steady_clock;

namespace {

int Cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

pid_t g_node_pid = -1;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  if (g_node_pid > 0) ::kill(g_node_pid, SIGKILL);
  std::_Exit(1);
}

struct Node {
  std::string dir;
  int port = 0;
  pid_t pid = -1;
  ~Node() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir);
  }
};

void StartNode(const std::string& timebankd, Node* n) {
  char tmpl[] = "/tmp/timebank-http-bench.XXXXXX";
  n->dir = ::mkdtemp(tmpl);
  n->port = FreePort();
  const std::string listen = "127.0.0.1:" + std::to_string(n->port);
  const std::string cmd = timebankd + " init --dir " + n->dir +
                          "/node --district 510104 --name bench --city 510100 --listen " + listen +
                          " >/dev/null";
  if (std::system(cmd.c_str()) != 0) Die("timebankd init failed");
  n->pid = ::fork();
  if (n->pid == 0) {
    const std::string config = n->dir + "/node/timebankd.toml";
    FILE* f = std::freopen((n->dir + "/node.log").c_str(), "w", stderr);
    (void)f;
    ::execl(timebankd.c_str(), timebankd.c_str(), "--config", config.c_str(), nullptr);
    ::_exit(127);
  }
  g_node_pid = n->pid;
  httplib::Client c("127.0.0.1", n->port);
  for (int i = 0; i < 200; ++i) {
    if (auto r = c.Get("/healthz"); r && r->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  Die("timebankd did not start");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: http_bench <timebankd> [seconds]");
  const double seconds = argc > 2 ? std::stod(argv[2]) : 5;
  const int cores = Cores();
  Node node;
  StartNode(argv[1], &node);
  auto root = SigningKey::LoadFile(node.dir + "/node/root.key");
  if (!root.ok()) Die("no root key");
  const SigningKey op = testing::KeyFromByte(3);
  httplib::Client admin("127.0.0.1", node.port);
  admin.set_read_timeout(60, 0);
  auto submit = [&](const std::vector<std::string>& entries) {
    json list = json::array();
    for (const auto& e : entries) list.push_back(Base64Encode(e));
    auto r = admin.Post("/v1/entries", json{{"entries", list}}.dump(), "application/json");
    if (!r || r->status != 200) Die("setup submit failed");
    const json answer = json::parse(r->body);
    for (const auto& result : answer["results"])
      if (!result.contains("index")) Die("setup entry refused: " + result.dump());
  };
  auto body = [&](EntryKind kind) {
    return EntryBody{NewEntryId(), "510104", UnixSeconds(), "", kind};
  };
  submit({MakeEntry(
      body(Grant{op.public_key(), {Role::kRegistrar, Role::kRecorder, Role::kRedeemer}, "bench"}),
      {&*root})});
  std::vector<std::string> accounts, opens;
  for (int i = 1; i <= 1000; ++i) {
    accounts.push_back(MakeAccountNumber("510104", i).value());
    opens.push_back(
        MakeEntry(body(Open{accounts.back(), AccountKind::kPerson, 1980, "", "", "",
                            RealNameCommitment({"bench", "0", "0"}, accounts.back()), false, 0}),
                  {&op}));
  }
  submit(opens);

  // Pre-signed deposits, as request bodies ready to send.
  const int clients = 4 * cores;
  const std::size_t batch = 256;
  // Enough for 50,000 entries/s through the whole phase.
  const std::size_t batches_per_client =
      static_cast<std::size_t>(seconds * 50000 / (clients * batch)) + 4;
  // JSON bodies, then as many binary entry bundles (application/x-timebank-entries).
  std::vector<std::vector<std::string>> bodies(clients), bundles(clients);
  std::vector<std::string> all_entries;
  {
    std::vector<std::thread> ts;
    std::mutex mu;
    for (int t = 0; t < clients; ++t)
      ts.emplace_back([&, t] {
        std::vector<std::string> mine;
        for (std::size_t b = 0; b < 2 * batches_per_client; ++b) {
          json list = json::array();
          std::string bundle;
          for (std::size_t i = 0; i < batch; ++i) {
            const std::string e =
                MakeEntry(body(Deposit{accounts[(t * 131 + b * 7 + i) % accounts.size()], "",
                                       "meals", 1, UnixSeconds() - 60, ""}),
                          {&op});
            if (b == 0) {
              std::lock_guard lk(mu);
              all_entries.push_back(e);
            }
            if (b < batches_per_client) {
              list.push_back(Base64Encode(e));
            } else {
              bundle += static_cast<char>(e.size() >> 8);
              bundle += static_cast<char>(e.size() & 0xff);
              bundle += e;
            }
          }
          if (b < batches_per_client)
            bodies[t].push_back(json{{"entries", list}}.dump());
          else
            bundles[t].push_back(std::move(bundle));
        }
      });
    for (auto& t : ts) t.join();
  }

  std::fprintf(stderr, "http_bench: node on port %d, %d clients, batches ready\n", node.port,
               clients);
  // (a) The limit: raw verifications of these entries on all cores.
  std::vector<DecodedEntry> decoded;
  for (const auto& e : all_entries) decoded.push_back(DecodeEntry(e).value());
  auto verify_rate = [&] {
    return Rate(cores, 2.0, [&](int t) {
      std::uint64_t n = 0;
      for (std::size_t i = t; i < decoded.size() && n < 64; i += cores, ++n) {
        const auto& d = decoded[i];
        if (!VerifySignature(d.signatures[0].key, EntrySigningMessage(d.body_bytes),
                             d.signatures[0].signature))
          Die("verify failed");
      }
      return n;
    });
  };
  double verify = verify_rate();

  std::fprintf(stderr, "http_bench: batched submits\n");
  // (b) Batched submits: JSON, then binary entry bundles.
  auto batched = [&](std::vector<std::vector<std::string>>& sets, const char* type) {
    std::vector<std::size_t> next(clients, 0);
    return Rate(clients, seconds, [&](int t) -> std::uint64_t {
      thread_local std::unique_ptr<httplib::Client> c;
      if (!c) {
        c = std::make_unique<httplib::Client>("127.0.0.1", node.port);
        c->set_read_timeout(60, 0);
        c->set_keep_alive(true);
        c->set_tcp_nodelay(true);
      }
      if (next[t] >= sets[t].size()) Die("ran out of pre-signed batches; lower seconds");
      auto r = c->Post("/v1/entries", sets[t][next[t]++], type);
      if (!r || r->status != 200) Die("batched submit failed");
      // Every entry must be accepted: a refusal is cheaper than an append and would flatter.
      if (r->body.find("\"error\"") != std::string::npos)
        Die("entry refused: " + r->body.substr(0, 300));
      return batch;
    });
  };
  const double submits = batched(bodies, "application/json");
  std::fprintf(stderr, "http_bench: batched submits, binary\n");
  const double bundle_submits = batched(bundles, api::kEntriesMediaType);

  std::fprintf(stderr, "http_bench: single submits\n");
  // (c) Single submits: one entry per request.
  std::atomic<std::uint64_t> single_seq{0};
  const double singles = Rate(clients * 2, std::min(seconds, 3.0), [&](int) -> std::uint64_t {
    thread_local std::unique_ptr<httplib::Client> c;
    if (!c) {
      c = std::make_unique<httplib::Client>("127.0.0.1", node.port);
      c->set_keep_alive(true);
      c->set_tcp_nodelay(true);
    }
    const std::uint64_t i = single_seq++;
    const std::string e = MakeEntry(
        body(Deposit{accounts[i % accounts.size()], "", "meals", 1, UnixSeconds() - 60, ""}),
        {&op});
    auto r = c->Post("/v1/entries", json{{"entry", Base64Encode(e)}}.dump(), "application/json");
    if (!r || r->status != 200)
      Die("single submit failed: " + (r ? r->body : httplib::to_string(r.error())));
    return 1;
  });

  std::fprintf(stderr, "http_bench: balance reads\n");
  // (d) Balance reads, signed by the operator, with latencies.
  std::mutex lat_mu;
  std::vector<double> latencies;
  const double reads = Rate(clients, seconds, [&](int t) -> std::uint64_t {
    thread_local std::unique_ptr<httplib::Client> c;
    thread_local std::uint64_t i = 0;
    if (!c) {
      c = std::make_unique<httplib::Client>("127.0.0.1", node.port);
      c->set_keep_alive(true);
      c->set_tcp_nodelay(true);
    }
    const std::string target = "/v1/accounts/" + accounts[(t * 977 + i++) % accounts.size()];
    const auto start = Clock::now();
    auto r = c->Get(target, SignedHeaders(op, "GET", target, ""));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!r || r->status != 200) Die("balance read failed: " + (r ? r->body : "no answer"));
    std::lock_guard lk(lat_mu);
    latencies.push_back(ms);
    return 1;
  });
  verify = std::max(verify, verify_rate());

  std::printf("http_clients=%d\n", clients);
  std::printf("http_batch=%zu\n", batch);
  std::printf("http_submit_per_sec=%.0f\n", submits);
  std::printf("http_submit_verify_ratio=%.3f\n", submits / verify);
  std::printf("http_bundle_submit_per_sec=%.0f\n", bundle_submits);
  std::printf("http_bundle_submit_verify_ratio=%.3f\n", bundle_submits / verify);
  std::printf("http_single_submit_per_sec=%.0f\n", singles);
  std::printf("http_balance_reads_per_sec=%.0f\n", reads);
  std::printf("http_balance_read_p50_ms=%.3f\n", Percentile(latencies, 0.50));
  std::printf("http_balance_read_p99_ms=%.3f\n", Percentile(latencies, 0.99));
  std::printf("http_verify_per_sec=%.0f\n", verify);
  return 0;
}
