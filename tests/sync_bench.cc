// sync_bench: how fast a new node catches up with a peer's log, and how long a redemption
// away from home takes (docs/federation.md). Real timebankd processes on loopback:
//   1. district H (510104) registers 1,000 elders;
//   2. district X (510105) records N deposits (default 1,000,000) for them — volunteers of
//      H serving in X — through HTTP entry bundles;
//   3. H, started with X as its peer, copies X's log over tlog-tiles (checkpoint, hash tiles,
//      entry bundles), checks every signature, the tree and the rules, and syncs it: timed
//      from H's start until its copy holds all of X's log and its log has synced it
//      (sync_copied_seconds: until the copy alone is complete);
//   4. X's redeemer holds hours for H's elders at X's node, which forwards each hold to H
//      and verifies H's receipt: the latency of each, one at a time.
// Prints name=value lines; sync_verify_ratio = entries copied per second / raw Ed25519
// verifications per second of the same entries on all cores, measured in the same run.
#include <atomic>
#include <fstream>
#include <mutex>

#include "bench_node.h"
#include "bench_util.h"
#include "district.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"

using namespace ledger;
using namespace ledger::testing;
using timebank::api::json;

namespace {

int Cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void Submit(BenchNode& n, httplib::Client& c, const std::vector<std::string>& entries) {
  std::string bundle;
  for (const auto& e : entries) {
    bundle += static_cast<char>(e.size() >> 8);
    bundle += static_cast<char>(e.size() & 0xff);
    bundle += e;
  }
  auto r = c.Post("/v1/entries", bundle, timebank::api::kEntriesMediaType);
  if (!r || r->status != 200) n.Fail("submit failed: " + (r ? r->body : std::string("no answer")));
  for (const auto& result : json::parse(r->body)["results"])
    if (!result.contains("index")) n.Fail("entry refused: " + result.dump());
}

std::string VerifierKeyOf(const BenchNode& n, const std::string& district) {
  auto key = SigningKey::LoadFile(n.dir() + "/node/log.key").value();
  return FormatVerifierKey("timebank.bench/" + district, key.public_key());
}

void AppendConfig(const BenchNode& n, const std::string& text) {
  std::ofstream(n.config(), std::ios::app) << "\n" << text << "\n";
}

json Peer(httplib::Client& c) {
  auto r = c.Get("/v1/peers");
  if (!r || r->status != 200) return json::object();
  const json j = json::parse(r->body, nullptr, false);
  return j.is_object() && !j["peers"].empty() ? j["peers"][0] : json::object();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sync_bench <timebankd> [entries]\n");
    return 2;
  }
  const std::size_t n_entries = argc > 2 ? std::stoul(argv[2]) : 1000000;
  const int cores = Cores();
  BenchNode h(argv[1], "510104"), x(argv[1], "510105");
  // X's node lets H's node read its log; H follows X.
  const PublicKey h_log = SigningKey::LoadFile(h.dir() + "/node/log.key").value().public_key();
  AppendConfig(h, "[[peers]]\ncode = \"510105\"\nname = \"x\"\nverifier_key = \"" +
                      VerifierKeyOf(x, "510105") + "\"\nurls = [\"" + x.url() + "\"]");
  AppendConfig(x, "[[peers]]\ncode = \"510104\"\nname = \"h\"\nverifier_key = \"" +
                      VerifierKeyOf(h, "510104") + "\"\nurls = [\"" + h.url() + "\"]");
  (void)h_log;
  const SigningKey op_h = KeyFromByte(3), op_x = KeyFromByte(13);
  auto body = [](const std::string& d, EntryKind kind) {
    return EntryBody{NewEntryId(), d, UnixSeconds(), "", std::move(kind)};
  };
  auto grant = [&](BenchNode& n, const std::string& d, const SigningKey& op) {
    auto root = SigningKey::LoadFile(n.dir() + "/node/root.key").value();
    httplib::Client c("127.0.0.1", n.port());
    Submit(n, c,
           {MakeEntry(body(d, Grant{op.public_key(),
                                    {Role::kRegistrar, Role::kRecorder, Role::kRedeemer},
                                    "bench"}),
                      {&root})});
  };

  std::vector<std::string> accounts;
  for (int i = 1; i <= 1000; ++i) accounts.push_back(MakeAccountNumber("510104", i).value());
  auto deposit = [&](std::size_t i) {
    return MakeEntry(body("510105", Deposit{accounts[i % accounts.size()], "", "meals", 1,
                                            UnixSeconds() - 3600, ""}),
                     {&op_x});
  };

  // The machine's raw limit: Ed25519 verifications of entries like X's, all cores, measured
  // while no node runs (before they start, and after they stop: a node compacting its
  // store in the background would lower the limit and flatter the ratio).
  std::vector<DecodedEntry> decoded;
  std::vector<std::string> messages;
  for (std::size_t i = 0; i < 1024; ++i) {
    decoded.push_back(DecodeEntry(deposit(i)).value());
    messages.push_back(EntrySigningMessage(decoded.back().body_bytes));
  }
  auto verify_rate = [&] {
    return Rate(cores, 2.0, [&](int t) {
      static thread_local std::size_t i = 0;
      const std::size_t k = (i++ * cores + t) % decoded.size();
      return VerifySignature(decoded[k].signatures[0].key, messages[k],
                             decoded[k].signatures[0].signature)
                 ? 1
                 : 0;
    });
  };
  const double verify_before = verify_rate();

  // 1. H's elders (they volunteer too: 60 and over, so they may redeem).
  h.Start();
  {
    grant(h, "510104", op_h);
    httplib::Client c("127.0.0.1", h.port());
    std::vector<std::string> opens;
    for (int i = 1; i <= 1000; ++i) {
      opens.push_back(MakeEntry(
          body("510104", Open{accounts[i - 1], AccountKind::kPerson, 1950, "", "", "",
                              RealNameCommitment({"bench", "0", "0"}, accounts[i - 1]), false, 0}),
          {&op_h}));
    }
    Submit(h, c, opens);
  }
  h.Stop();

  // 2. X records the deposits (signed first, on all cores: the client's cost).
  x.Start();
  grant(x, "510105", op_x);
  std::vector<std::string> work(n_entries);
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < cores; ++t)
      ts.emplace_back([&, t] {
        for (std::size_t i = t; i < n_entries; i += cores) work[i] = deposit(i);
      });
    for (auto& t : ts) t.join();
  }
  {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2 * cores; ++t)
      ts.emplace_back([&] {
        httplib::Client c("127.0.0.1", x.port());
        c.set_read_timeout(60, 0);
        for (;;) {
          const std::size_t b = next.fetch_add(1024);
          if (b >= n_entries) return;
          Submit(x, c, {work.begin() + b, work.begin() + std::min(n_entries, b + 1024)});
        }
      });
    for (auto& t : ts) t.join();
  }
  httplib::Client xc("127.0.0.1", x.port());
  const std::uint64_t x_size = json::parse(xc.Get("/v1/info")->body)["size"].get<std::uint64_t>();

  // 3. H catches up.
  const auto start = BenchClock::now();
  h.Start();
  httplib::Client hc("127.0.0.1", h.port());
  double copied_seconds = 0;
  for (;;) {
    const json p = Peer(hc);
    if (copied_seconds == 0 && p.value("replica_size", std::uint64_t{0}) >= x_size)
      copied_seconds = std::chrono::duration<double>(BenchClock::now() - start).count();
    if (p.value("replica_size", std::uint64_t{0}) >= x_size &&
        p.value("synced_size", std::uint64_t{0}) >= x_size - 1)
      break;
    if (!p.value("last_error", std::string()).empty() &&
        p.value("last_error", std::string()).find("unknown_peer") == std::string::npos)
      h.Fail("catching up: " + p.value("last_error", std::string()));
    if (std::chrono::duration<double>(BenchClock::now() - start).count() > 1200)
      h.Fail("catching up took more than 20 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double catchup_seconds = std::chrono::duration<double>(BenchClock::now() - start).count();

  // 4. Redemptions away from home: held at H through X's node, one at a time.
  std::vector<double> latencies;
  xc.set_read_timeout(30, 0);
  for (int i = 0; i < 200; ++i) {
    const std::string entry = MakeEntry(
        body("510104",
             Hold{accounts[i % accounts.size()], 1, UnixSeconds() + 3600, "meals", "510105"}),
        {&op_x});
    const json req = {{"entry", Base64Encode(entry)}};
    const auto t0 = BenchClock::now();
    auto r = xc.Post("/v1/entries", req.dump(), "application/json");
    latencies.push_back(std::chrono::duration<double, std::milli>(BenchClock::now() - t0).count());
    if (!r || r->status != 200) x.Fail("hold away: " + (r ? r->body : std::string("no answer")));
  }

  x.Stop();
  h.Stop();
  const double verify = std::max(verify_before, verify_rate());
  std::printf("sync_entries=%llu\n", static_cast<unsigned long long>(x_size));
  std::printf("sync_copied_seconds=%.1f\n", copied_seconds);
  std::printf("sync_seconds=%.1f\n", catchup_seconds);
  std::printf("sync_per_sec=%.0f\n", x_size / catchup_seconds);
  std::printf("sync_verify_per_sec=%.0f\n", verify);
  std::printf("sync_verify_ratio=%.3f\n", x_size / catchup_seconds / verify);
  std::printf("away_hold_p50_ms=%.2f\n", Percentile(latencies, 0.5));
  std::printf("away_hold_p99_ms=%.2f\n", Percentile(latencies, 0.99));
  return 0;
}
