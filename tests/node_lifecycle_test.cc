// A node's life, with real timebankd processes: killed with SIGKILL, a write the disk
// refuses, SIGTERM and restart, one node per data directory, config errors at start.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "node_process.h"

using namespace ledger;
using namespace ledger::testing;
using timebank::api::json;

TEST_CASE("a node killed with SIGKILL keeps every entry it acknowledged") {
  NodeProcess node;
  node.Start();
  node.GrantOperator();
  std::vector<std::string> accounts;
  for (int i = 0; i < 4; ++i) accounts.push_back(node.Register(1985));
  std::mutex mu;
  std::set<std::string> acknowledged;  // entry ids (hex)
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
      clients.emplace_back([&, t] {
        auto http = node.Http();
        while (!stop) {
          std::vector<std::string> entries;
          std::vector<std::string> ids;
          json list = json::array();
          for (int i = 0; i < 8; ++i) {
            EntryBody body{NewEntryId(), node.district(), Now(), "",
                           Deposit{accounts[(t + i) % 4], "", "meals", 1, Now() - 60, ""}};
            ids.push_back(ToHex(body.id));
            list.push_back(Base64Encode(MakeEntry(body, {&node.op()})));
          }
          auto r = http.Post("/v1/entries", json{{"entries", list}}.dump(), "application/json");
          if (!r || r->status != 200) continue;  // killed mid-request: nothing acknowledged
          auto j = json::parse(r->body);
          std::lock_guard lk(mu);
          for (std::size_t i = 0; i < ids.size(); ++i)
            if (j["results"][i].contains("index")) acknowledged.insert(ids[i]);
        }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 300));
    node.Kill();
    stop = true;
    for (auto& c : clients) c.join();
    node.Start();
  }
  REQUIRE(acknowledged.size() > 100);
  for (const auto& id : acknowledged) {
    auto [status, j] = node.SignedGet("/v1/entries/by-id/" + id);
    REQUIRE_MESSAGE(status == 200, id);
  }
  // Balances agree with the deposits the log holds (1 minute each).
  std::int64_t total = 0;
  for (const auto& a : accounts)
    total += node.SignedGet("/v1/accounts/" + a).second["balance_minutes"].get<std::int64_t>();
  auto size = json::parse(node.Http().Get("/v1/info")->body)["size"].get<std::int64_t>();
  CHECK(total == size - 2 - 4);  // genesis, grant, four opens
  CHECK(total >= static_cast<std::int64_t>(acknowledged.size()));
}

TEST_CASE("a write the disk refuses: the node says so, serves reads, and recovers on restart") {
  NodeProcess node;
  node.Start();
  node.GrantOperator();
  const std::string account = node.Register(1985);
  // The node may not write a file past a little more than it holds now (prlimit: EFBIG,
  // as a full disk gives ENOSPC).
  const rlimit limit{LargestFile(node.dir()) + 128 * 1024, RLIM_INFINITY};
  REQUIRE(::prlimit(node.pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);

  std::vector<std::string> acknowledged, refused;  // entries
  std::vector<std::uint64_t> indices;
  for (int batch = 0; batch < 400 && refused.empty(); ++batch) {
    std::vector<std::string> entries;
    for (int i = 0; i < 32; ++i)
      entries.push_back(node.Entry(Deposit{account, "", "meals", 1, Now() - 60, ""}));
    auto [status, j] = node.Submit(entries);
    REQUIRE_MESSAGE(status == 200, j.dump());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const json& r = j["results"][i];
      if (r.contains("index")) {
        REQUIRE(refused.empty());  // accepted ones, then refused ones
        acknowledged.push_back(entries[i]);
        indices.push_back(r["index"].get<std::uint64_t>());
      } else {
        REQUIRE_MESSAGE(ErrorCode(r) == "io_error", r.dump());
        refused.push_back(entries[i]);
      }
    }
  }
  REQUIRE(!acknowledged.empty());
  REQUIRE(!refused.empty());
  // Sticky, and said: the health check fails with the cause, the metric is set, the log
  // says what to do; reads go on.
  auto [one, one_j] = node.SubmitOne(node.Entry(Deposit{account, "", "meals", 1, Now() - 60, ""}));
  CHECK(one == 500);
  CHECK(ErrorCode(one_j) == "io_error");
  auto health = node.Http().Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 503);
  CHECK(ErrorCode(json::parse(health->body)) == "io_error");
  auto metrics = node.Http().Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("\ntimebank_ledger_failed 1\n") != std::string::npos);
  CHECK(node.SignedGet("/v1/accounts/" + account).first == 200);
  // The CLI's status shows the figures and the failure, as an alert (exit 5).
  Ran cli = RunProgram({TIMEBANK_CLI_PATH, "--node", node.url(), "--lang", "en", "status"},
                       {"HOME=/nonexistent"});
  CHECK(cli.exit_code == 5);
  CHECK(cli.out.find("! io_error: the ledger takes no entries since a failure") !=
        std::string::npos);
  CHECK(cli.out.find(FormatHours(static_cast<Minutes>(acknowledged.size()))) != std::string::npos);
  CHECK(node.Stop(SIGTERM) == 0);
  std::ifstream log(node.dir() + "/node.log");
  const std::string logged((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(logged.find("the ledger takes no entries since a failure: io_error") != std::string::npos);

  // Restarted without the limit: healthy, every acknowledged entry there, the refused ones
  // go in when sent again (once, whatever reached the disk).
  node.Start();
  auto again = node.Http().Get("/metrics");
  REQUIRE(again);
  CHECK(again->body.find("\ntimebank_ledger_failed 0\n") != std::string::npos);
  for (std::size_t i = 0; i < acknowledged.size(); ++i) {
    auto [status, j] = node.SignedGet("/v1/entries/" + std::to_string(indices[i]));
    REQUIRE(status == 200);
    std::string bytes;
    REQUIRE(Base64Decode(j["entry"].get<std::string>(), &bytes));
    CHECK(bytes == acknowledged[i]);
  }
  auto [status, j] = node.Submit(refused);
  REQUIRE(status == 200);
  for (const auto& r : j["results"]) CHECK_MESSAGE(r.contains("index"), r.dump());
  CHECK(node.SignedGet("/v1/accounts/" + account).second["balance_minutes"] ==
        acknowledged.size() + refused.size());
}

TEST_CASE("one node per data directory; SIGTERM stops cleanly; restart needs no repair") {
  NodeProcess node;
  node.Start();
  node.GrantOperator();
  Ran second = RunProgram({TIMEBANKD_PATH, "--config", node.dir() + "/timebankd.toml"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("in use by another timebankd") != std::string::npos);
  // Another district's node on the same port is refused, not let in to share the port.
  NodeProcess neighbour("510105");
  neighbour.SetConfig("listen", "\"127.0.0.1:" + std::to_string(node.port()) + "\"");
  // (Bounded: were it let in, it would serve until stopped.)
  Ran same_port = RunProgram(
      {"/usr/bin/timeout", "10", TIMEBANKD_PATH, "--config", neighbour.dir() + "/timebankd.toml"});
  CHECK(same_port.exit_code == 1);
  CHECK_MESSAGE(same_port.err.find("address is in use") != std::string::npos, same_port.err);
  CHECK(json::parse(node.Http().Get("/v1/info")->body)["district"] == node.district());
  const std::string account = node.Register(1970);
  CHECK(node.Stop(SIGTERM) == 0);
  node.Start();
  CHECK(node.SignedGet("/v1/accounts/" + account).first == 200);
  // A config error is reported with the setting at fault.
  node.Stop(SIGTERM);
  node.SetConfig("format", "\"xml\"");
  Ran bad = RunProgram({TIMEBANKD_PATH, "--config", node.dir() + "/timebankd.toml"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("log.format") != std::string::npos);
  node.SetConfig("format", "\"text\"");
  const std::pair<std::string, std::string> bad_settings[] = {
      {"level", "log.level"}, {"max_body_bytes", "http.max_body_bytes"}};
  for (const auto& [key, setting] : bad_settings) {
    const std::string good_value = key == "level" ? "\"info\"" : "4194304";
    for (const std::string value :
         {key == "level" ? "\"verbose\"" : "0", key == "level" ? "\"INFO\"" : "1073741825"}) {
      node.SetConfig(key, value);
      Ran r = RunProgram({TIMEBANKD_PATH, "--config", node.dir() + "/timebankd.toml"});
      CHECK_MESSAGE(r.exit_code == 2, key, " = ", value);
      CHECK_MESSAGE(r.err.find(setting) != std::string::npos, r.err);
    }
    node.SetConfig(key, good_value);
  }
  // Peers: each mistake named by the setting at fault.
  const std::string config = node.dir() + "/timebankd.toml";
  std::ifstream in(config);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string peer_ok = "verifier_key = \"" + node.VerifierKey() + "\"\n";
  const std::pair<std::string, std::string> peer_mistakes[] = {
      {"[[peers]]\ncode = \"" + node.district() + "\"\n" + peer_ok + "urls = [\"http://x\"]",
       "peers[0].code"},
      {"[[peers]]\ncode = \"510199\"\nverifier_key = \"nonsense\"\nurls = [\"http://x\"]",
       "peers[0].verifier_key"},
      {"[[peers]]\ncode = \"510199\"\n" + peer_ok + "urls = []", "peers[0].urls"},
      {"[[peers]]\ncode = \"510199\"\n" + peer_ok + "urls = [\"ftp://x\"]", "peers[0].urls"},
  };
  // A key that is no setting (misspelt, or in the wrong table) is refused, named.
  std::string misspelt = good;
  const auto pull = misspelt.find("pull_every_seconds =");
  REQUIRE(pull != std::string::npos);
  misspelt.replace(pull, 18, "pull_every_second");
  for (const auto& [text, setting] : std::vector<std::pair<std::string, std::string>>{
           {misspelt, "federation.pull_every_second"},
           {good + "\n[logging]\nlevel = \"debug\"", "logging.level"},
           {good + "\n[[peers]]\ncode = \"510199\"\n" + peer_ok + "url = [\"http://x\"]",
            "peers[0].url"}}) {
    std::ofstream(config, std::ios::trunc) << text << "\n";
    Ran r = RunProgram({TIMEBANKD_PATH, "--config", config});
    CHECK_MESSAGE(r.exit_code == 2, text);
    CHECK_MESSAGE(r.err.find(setting + ": is not a setting") != std::string::npos, r.err);
  }
  // [peers] written as a table rather than an array of tables: said as such.
  std::ofstream(config, std::ios::trunc) << good << "\n[peers]\ncode = \"510199\"\n";
  Ran table = RunProgram({TIMEBANKD_PATH, "--config", config});
  CHECK(table.exit_code == 2);
  CHECK_MESSAGE(table.err.find("[[peers]]") != std::string::npos, table.err);
  for (const auto& [text, setting] : peer_mistakes) {
    std::ofstream(config, std::ios::trunc) << good << "\n" << text << "\n";
    Ran r = RunProgram({TIMEBANKD_PATH, "--config", config});
    CHECK_MESSAGE(r.exit_code == 2, text);
    CHECK_MESSAGE(r.err.find(setting) != std::string::npos, r.err);
  }
  // A setting out of its range, named too.
  const std::string sync_every = "sync_during_copy_entries = 65536";
  const std::pair<std::string, std::string> out_of_range[] = {
      {"-1", "must be a whole number >= 0"}, {"1048577", "must be at most 1048576"}};
  for (const auto& [value, why] : out_of_range) {
    std::string text = good;
    const auto at = text.find(sync_every);
    REQUIRE(at != std::string::npos);
    text.replace(at, sync_every.size(), "sync_during_copy_entries = " + value);
    std::ofstream(config, std::ios::trunc) << text;
    Ran r = RunProgram({TIMEBANKD_PATH, "--config", config});
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find("federation.sync_during_copy_entries: " + why) != std::string::npos,
                  r.err);
  }
}
