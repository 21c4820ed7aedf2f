// Integration tests: real timebankd processes on loopback, driven through raw HTTP and
// the timebank CLI.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "ledger/checkpoint.h"
#include "node_process.h"

using namespace ledger;
using namespace ledger::testing;
namespace api = timebank::api;
using timebank::api::json;

namespace {

// Runs the CLI against `node` with the operator's key.
Ran Cli(const NodeProcess& node, std::vector<std::string> args, bool with_key = true) {
  std::vector<std::string> argv = {TIMEBANK_CLI_PATH, "--node", node.url()};
  if (std::find(args.begin(), args.end(), "--lang") == args.end()) {
    argv.push_back("--lang");
    argv.push_back("en");
  }
  if (with_key) {
    argv.push_back("--key");
    argv.push_back(node.op_key_file());
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, {"HOME=/nonexistent"});
}

json Json(const Ran& r) {
  return json::parse(r.out, nullptr, false);
}

}  // namespace

TEST_CASE("the CLI tells a district's story against a real node") {
  NodeProcess node;
  node.Start();
  node.GrantOperator();

  // Registration keeps the real name on the node; the log gets the commitment.
  Ran li = Cli(node, {"--json", "register", "--name", "李娜", "--id-number", "510104199201010000",
                      "--phone", "13800000000", "--birth-year", "1992"});
  REQUIRE_MESSAGE(li.exit_code == 0, li.err);
  const std::string volunteer = Json(li)["account"];
  Ran mom = Cli(node, {"--json", "register", "--name", "李母", "--id-number", "510104195601010000",
                       "--phone", "13800000001", "--birth-year", "1956"});
  REQUIRE(mom.exit_code == 0);
  const std::string mother = Json(mom)["account"];
  auto [rn_status, rn] = node.SignedGet("/v1/accounts/" + volunteer + "/realname");
  CHECK(rn_status == 200);
  CHECK(rn["name"] == "李娜");
  Ran rn_get = Cli(node, {"realname", "get", mother});
  CHECK(rn_get.exit_code == 0);
  CHECK(rn_get.out.find("李母") != std::string::npos);
  // A record that does not match the account's commitment is refused.
  Ran rn_bad = Cli(node, {"realname", "put", mother, "--name", "冒名", "--id-number", "1",
                          "--phone", "2", "--salt", "00"});
  CHECK(rn_bad.exit_code == 3);
  // Erasure (PIPL): the record is gone, the account and its commitment stay.
  CHECK(Cli(node, {"realname", "erase", mother}).exit_code == 0);
  Ran rn_gone = Cli(node, {"realname", "get", mother});
  CHECK(rn_gone.exit_code == 3);
  CHECK(rn_gone.err.find("not_found") != std::string::npos);

  CHECK(Cli(node, {"deposit", "--volunteer", volunteer, "--beneficiary", mother, "--service",
                   "meals", "--hours", "2"})
            .exit_code == 0);
  CHECK(Cli(node,
            {"deposit", "--volunteer", volunteer, "--service", "medical_escort", "--minutes", "60"})
            .exit_code == 0);
  CHECK(Cli(node,
            {"give", "--from", volunteer, "--to", mother, "--hours", "1", "--relation", "parent"})
            .exit_code == 0);

  Ran bal = Cli(node, {"balance", volunteer});
  REQUIRE(bal.exit_code == 0);
  CHECK(bal.out.find("2.5 h") != std::string::npos);  // 2 + 1.5 (escort x1.5) - 1
  Ran zh = Cli(node, {"--lang", "zh", "balance", volunteer});
  CHECK(zh.out.find("余额") != std::string::npos);
  CHECK(zh.out.find("2.5 小时") != std::string::npos);

  // A refused overdraft: exit 3 and the ledger's code; nothing changes.
  const std::string before = node.CheckpointRoot();
  Ran over = Cli(node, {"redeem", "--account", mother, "--hours", "5"});
  CHECK(over.exit_code == 3);
  CHECK(over.err.find("insufficient_balance") != std::string::npos);
  CHECK(node.CheckpointRoot() == before);

  // Two-phase redemption: hold, post; a second post is refused.
  Ran hold = Cli(node, {"--json", "hold", "--account", mother, "--hours", "0.5"});
  REQUIRE(hold.exit_code == 0);
  const std::string hold_id = Json(hold)["id"];
  CHECK(Cli(node, {"post", hold_id}).exit_code == 0);
  Ran again = Cli(node, {"post", hold_id});
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("hold_closed") != std::string::npos);
  auto [st, acct] = node.SignedGet("/v1/accounts/" + mother);
  CHECK(acct["balance_minutes"] == 30);
  // Aggregates are public: 120 + 90 issued, 30 redeemed, nothing held or pooled.
  auto stats = json::parse(node.Http().Get("/v1/stats")->body);
  Ran status = Cli(node, {"status"}, /*with_key=*/false);
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("3.5 h") != std::string::npos);  // issued: 120 + 90 minutes
  CHECK(stats["issued_minutes"] == 210);
  CHECK(stats["redeemed_minutes"] == 30);
  CHECK(stats["held_minutes"] == 0);
  CHECK(stats["outstanding_minutes"] == 180);

  // History and export agree with the balance.
  Ran hist = Cli(node, {"--json", "history", volunteer});
  REQUIRE(hist.exit_code == 0);
  CHECK(Json(hist)["items"].size() == 3);
  Ran csv = Cli(node, {"export", volunteer});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("index,time,kind,delta_minutes", 0) == 0);
  CHECK(csv.out.find(",transfer,-60,-1.00,150") != std::string::npos);

  // verify: entry signature, inclusion proof and checkpoint against the pinned key.
  auto info = node.Http().Get("/v1/info");
  const std::string vkey = json::parse(info->body)["verifier_key"];
  Ran ver = Cli(node, {"--json", "--verifier-key", vkey, "verify", "3"});
  REQUIRE_MESSAGE(ver.exit_code == 0, ver.err);
  CHECK(Json(ver)["verified"] == true);
  CHECK(Json(ver)["verifier_key_pinned"] == true);
  // Against another district's key it fails with its own exit code.
  const SigningKey other = KeyFromByte(99);
  Ran wrong =
      Cli(node, {"--verifier-key", FormatVerifierKey("timebank.510100/510104", other.public_key()),
                 "verify", "3"});
  CHECK(wrong.exit_code == 5);

  // Usage errors and an unreachable node have their own exit codes.
  CHECK(Cli(node, {"deposit", "--volunteer", volunteer}).exit_code == 2);
  CHECK(Cli(node, {"redeem", "--account", mother}).exit_code == 2);
  Ran gone = RunProgram({TIMEBANK_CLI_PATH, "--node", "http://127.0.0.1:1", "--key",
                         node.op_key_file(), "balance", volunteer});
  CHECK(gone.exit_code == 4);
  // Mistakes the CLI can see itself: exit 2 naming what is wrong, and nothing sent.
  const std::string root_before = node.CheckpointRoot();
  const std::pair<std::vector<std::string>, std::string> mistakes[] = {
      {{"give", "--from", volunteer, "--to", mother, "--hours", "1", "--relation", "cousin"},
       "--relation is parent"},
      {{"give", "--kind", "donation", "--from", volunteer, "--to", mother, "--hours", "1"},
       "no --to"},
      {{"give", "--kind", "grant", "--from", volunteer, "--to", mother, "--hours", "1"},
       "no --from"},
      {{"deposit", "--volunteer", volunteer, "--service", "meals", "--hours", "1", "--served-ago",
        "-100"},
       "--served-ago"},
      {{"verify", "-1"}, "index"},
      {{"grant", "--operator", ToHex(KeyFromByte(77).public_key()), "--roles", "recorder,recorder"},
       "named twice"},
      {{"redeem", "--account", mother, "--hours", "0"}, "at least a minute"},
      {{"redeem", "--account", mother, "--hours", "1e-9"}, "at least a minute"},
      {{"redeem", "--account", mother, "--hours", "nan"}, "at least a minute"},
      {{"redeem", "--account", mother, "--hours", "99999999999"}, "at most 10,000,000 hours"},
      {{"redeem", "--account", mother, "--hours", "1.234"}, "whole number of minutes"},
      {{"redeem", "--account", mother, "--hours", "1", "--minutes", "60"}, "not both"},
      {{"register", "--name", "", "--id-number", "", "--phone", "", "--birth-year", "1992"},
       "--name and --id-number"},
      {{"--ca-cert", "/nonexistent/ca.crt", "info"}, "does not exist"},
  };
  for (const auto& [args, why] : mistakes) {
    Ran r = Cli(node, args);
    CHECK_MESSAGE(r.exit_code == 2, args[0], " ", why);
    CHECK_MESSAGE(r.err.find(why) != std::string::npos, r.err);
  }
  CHECK(node.CheckpointRoot() == root_before);
  // A deposit that takes the balance past the cap (1500 h by default) says where the rest went.
  {
    const std::string worker =
        Json(Cli(node, {"--json", "register", "--name", "赵强", "--id-number", "510104199003030011",
                        "--phone", "13800000009", "--birth-year", "1990"}))["account"];
    Ran first =
        Cli(node, {"deposit", "--volunteer", worker, "--service", "meals", "--hours", "1000"});
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    CHECK(first.out.find("cap") == std::string::npos);
    Ran over =
        Cli(node, {"deposit", "--volunteer", worker, "--service", "meals", "--hours", "600"});
    REQUIRE_MESSAGE(over.exit_code == 0, over.err);
    CHECK_MESSAGE(over.out.find("at the policy's cap of 1500 h") != std::string::npos, over.out);
    CHECK(node.SignedGet("/v1/accounts/" + worker).second["balance_minutes"] == 1500 * 60);
    // A group account has no cap: nothing goes to the pool, and nothing is said.
    const std::string group = Json(Cli(
        node, {"--json", "register", "--group", "--name", "社区服务队", "--id-number",
               "51010400MA000000X1", "--phone", "02800000000", "--birth-year", "2000"}))["account"];
    Ran big = Cli(node, {"deposit", "--volunteer", group, "--service", "meals", "--hours", "1000"});
    REQUIRE_MESSAGE(big.exit_code == 0, big.err);
    big = Cli(node, {"deposit", "--volunteer", group, "--service", "meals", "--hours", "600"});
    REQUIRE_MESSAGE(big.exit_code == 0, big.err);
    CHECK(big.out.find("cap") == std::string::npos);
    CHECK(node.SignedGet("/v1/accounts/" + group).second["balance_minutes"] == 1600 * 60);
  }
  // export-log: a node that will not let the caller read its log is a refusal (exit 3), a
  // node that does not answer is unreachable (exit 4).
  Ran unsigned_export = Cli(node, {"export-log", "--out", node.dir() + "/export"}, false);
  CHECK(unsigned_export.exit_code == 3);
  CHECK_MESSAGE(unsigned_export.err.find("unauthenticated") != std::string::npos,
                unsigned_export.err);
  Ran no_node_export = RunProgram({TIMEBANK_CLI_PATH, "--node", "http://127.0.0.1:1", "export-log",
                                   "--out", node.dir() + "/export"},
                                  {"HOME=/nonexistent"});
  CHECK_MESSAGE(no_node_export.exit_code == 4, no_node_export.err);
  // The node's URL: a trailing slash is fine; another scheme, a path or a missing config
  // file are usage errors (exit 2), not a crash or "unreachable".
  Ran slash =
      RunProgram({TIMEBANK_CLI_PATH, "--node", node.url() + "/", "info"}, {"HOME=/nonexistent"});
  CHECK_MESSAGE(slash.exit_code == 0, slash.err);
  const std::pair<std::vector<std::string>, std::string> bad_urls[] = {
      {{"--node", "ftp://127.0.0.1:1", "info"}, "must begin with http:// or https://"},
      {{"--node", node.url() + "/base", "info"}, "without a path"},
      {{"--config", "/nonexistent/timebank.toml", "info"}, "no such file"},
      {{"--config", node.dir() + "/timebankd.toml.broken", "info"}, "line 1"},
      {{"--config", node.dir(), "info"}, "config file " + node.dir() + ": "},  // a directory
      {{"--node", node.url() + "?x=1", "info"}, "without a path or query"},
  };
  std::ofstream(node.dir() + "/timebankd.toml.broken") << "node = \"http://x\n";
  // A command that contacts no node does not care about its URL.
  Ran keygen = RunProgram(
      {TIMEBANK_CLI_PATH, "--node", "ftp://x", "keygen", "--out", node.dir() + "/offline.key"},
      {"HOME=/nonexistent"});
  CHECK_MESSAGE(keygen.exit_code == 0, keygen.err);
  for (const auto& [args, why] : bad_urls) {
    std::vector<std::string> argv = {TIMEBANK_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    Ran r = RunProgram(argv, {"HOME=/nonexistent"});
    CHECK_MESSAGE(r.exit_code == 2, args[1]);
    CHECK_MESSAGE(r.err.find(why) != std::string::npos, r.err);
  }
}

TEST_CASE("bad input of every kind gets its error and changes nothing") {
  NodeProcess node;
  node.SetConfig("max_body_bytes", "65536");
  node.SetConfig("max_batch_entries", "8");
  node.Start();
  node.GrantOperator();
  const std::string account = node.Register(1990);
  const std::string before = node.CheckpointRoot();
  auto http = node.Http();

  struct Case {
    const char* what;
    std::string method, target, body;
    int status;
    std::string code;
  };
  const std::string entry_ok =
      Base64Encode(node.Entry(Deposit{account, "", "meals", 60, Now() - 3600, ""}));
  NodeProcess other_district("510105");  // never started: only its entries are used
  const std::string foreign =
      Base64Encode(other_district.Entry(Deposit{account, "", "meals", 60, Now() - 3600, ""}));
  std::string tampered = node.Entry(Deposit{account, "", "meals", 60, Now() - 3600, ""});
  tampered[tampered.size() - 3] ^= 1;  // inside the signature
  const std::string stranger_entry = Base64Encode(
      node.Entry(Deposit{account, "", "meals", 60, Now() - 3600, ""}, &other_district.root()));
  const std::vector<Case> cases = {
      {"malformed JSON", "POST", "/v1/entries", "{\"entry\": ", 400, "bad_json"},
      {"not an object", "POST", "/v1/entries", "[1,2]", 400, "bad_request"},
      {"missing field", "POST", "/v1/entries", "{}", 400, "bad_request"},
      {"both fields", "POST", "/v1/entries",
       json{{"entry", entry_ok}, {"entries", {entry_ok}}}.dump(), 400, "bad_request"},
      {"wrong type", "POST", "/v1/entries", "{\"entry\": 42}", 400, "bad_request"},
      {"wrong type in batch", "POST", "/v1/entries", "{\"entries\": [\"" + entry_ok + "\", 1]}",
       400, "bad_request"},
      {"empty batch", "POST", "/v1/entries", "{\"entries\": []}", 400, "bad_request"},
      {"batch too large", "POST", "/v1/entries",
       json{{"entries", std::vector<std::string>(9, entry_ok)}}.dump(), 413, "body_too_large"},
      {"not base64", "POST", "/v1/entries", "{\"entry\": \"!!!\"}", 400, "bad_request"},
      {"garbage entry", "POST", "/v1/entries", json{{"entry", Base64Encode("not an entry")}}.dump(),
       400, "malformed_entry"},
      {"bad signature", "POST", "/v1/entries", json{{"entry", Base64Encode(tampered)}}.dump(), 422,
       "bad_signature"},
      {"unknown signer", "POST", "/v1/entries", json{{"entry", stranger_entry}}.dump(), 422,
       "unknown_key"},
      {"another district", "POST", "/v1/entries", json{{"entry", foreign}}.dump(), 422,
       "wrong_district"},
      {"oversized body", "POST", "/v1/entries", std::string(70000, ' '), 413, "body_too_large"},
      {"unknown route", "GET", "/v1/nothing", "", 404, "unknown_route"},
      {"wrong method", "DELETE", "/v1/checkpoint", "", 405, "method_not_allowed"},
      {"bad index", "GET", "/v1/proofs/inclusion?index=abc", "", 400, "bad_request"},
      {"missing query", "GET", "/v1/proofs/inclusion", "", 400, "bad_request"},
      {"index beyond log", "GET", "/v1/proofs/inclusion?index=999", "", 400, "invalid_argument"},
      {"personal read unsigned", "GET", "/v1/accounts/" + account, "", 401, "unauthenticated"},
      {"log read unsigned", "GET", "/tile/entries/000.p/1", "", 401, "unauthenticated"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    httplib::Result r = c.method == "GET"    ? http.Get(c.target)
                        : c.method == "POST" ? http.Post(c.target, c.body, "application/json")
                                             : http.Delete(c.target);
    REQUIRE(r);
    CHECK(r->status == c.status);
    CHECK(ErrorCode(json::parse(r->body, nullptr, false)) == c.code);
  }

  // Signed, but malformed arguments: each its own 400 (or 404), nothing changes.
  struct SignedCase {
    const char* what;
    std::string target;
    int status;
    std::string code;
  };
  const std::vector<SignedCase> signed_cases = {
      {"short entry id", "/v1/entries/by-id/abc", 400, "bad_request"},
      {"unknown entry id", "/v1/entries/by-id/" + std::string(32, '0'), 404, "not_found"},
      {"entry beyond the log", "/v1/entries/99999", 404, "not_found"},
      {"tile width 0", "/tile/entries/000.p/0", 400, "bad_request"},
      {"tile width 256", "/tile/entries/000.p/256", 400, "bad_request"},
      {"tile not yet full", "/tile/0/001", 404, "not_found"},
      {"bad detail flag", "/v1/accounts/" + account + "/history?detail=yes", 400, "bad_request"},
      {"bad account number", "/v1/accounts/510104000000000", 400, "bad_account_number"},
      {"account that is not a number", "/v1/accounts/abc", 400, "bad_account_number"},
      {"set-asides of no account", "/v1/set-asides?account=abc", 400, "bad_account_number"},
      {"system account in capitals", "/v1/accounts/510104.POOL/history", 400, "bad_account_number"},
      {"unknown account", "/v1/accounts/" + MakeAccountNumber("510104", 777).value(), 404,
       "unknown_account"},
  };
  for (const SignedCase& c : signed_cases) {
    CAPTURE(c.what);
    auto [status, j] = node.SignedGet(c.target);
    CHECK(status == c.status);
    CHECK(ErrorCode(j) == c.code);
  }
  // A real-name record without its fields.
  {
    const std::string target = "/v1/accounts/" + account + "/realname";
    const std::string body = R"({"name": "x"})";
    auto sig = api::SignRequest(node.op(), "PUT", target, Now(), body);
    auto r = http.Put(target,
                      {{api::kKeyHeader, sig.key},
                       {api::kTimeHeader, sig.time},
                       {api::kNonceHeader, sig.nonce},
                       {api::kSignatureHeader, sig.signature}},
                      body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(json::parse(r->body, nullptr, false)) == "bad_request");
  }
  // A bundle with more entries than a batch may hold.
  {
    std::string many;
    for (int i = 0; i < 9; ++i) {
      const std::string e = node.Entry(Deposit{account, "", "meals", 1, Now() - 60, ""});
      many += static_cast<char>(e.size() >> 8);
      many += static_cast<char>(e.size() & 0xff);
      many += e;
    }
    auto r = http.Post("/v1/entries", many, api::kEntriesMediaType);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(ErrorCode(json::parse(r->body, nullptr, false)) == "body_too_large");
  }

  // Binary entry bundles: cut short, or empty.
  const std::string one = node.Entry(Deposit{account, "", "meals", 60, Now() - 3600, ""});
  std::string framed = {static_cast<char>(one.size() >> 8), static_cast<char>(one.size() & 0xff)};
  framed += one;
  for (const std::string& body :
       {framed.substr(0, framed.size() - 1), framed.substr(0, 1), std::string()}) {
    auto r = http.Post("/v1/entries", body, api::kEntriesMediaType);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(json::parse(r->body, nullptr, false)) == "bad_request");
  }

  // Signed requests: wrong signature, half the headers, replay, stale time, a stranger.
  const std::string target = "/v1/accounts/" + account;
  auto sig = api::SignRequest(node.op(), "GET", target, Now(), "");
  auto get = [&](httplib::Headers h) {
    auto r = http.Get(target, h);
    REQUIRE(r);
    return std::pair{r->status, ErrorCode(json::parse(r->body, nullptr, false))};
  };
  std::string bad_sig = sig.signature;
  bad_sig[0] = bad_sig[0] == 'a' ? 'b' : 'a';
  CHECK(get({{api::kKeyHeader, sig.key},
             {api::kTimeHeader, sig.time},
             {api::kNonceHeader, sig.nonce},
             {api::kSignatureHeader, bad_sig}}) ==
        std::pair{401, std::string("bad_request_signature")});
  CHECK(get({{api::kKeyHeader, sig.key}}) == std::pair{401, std::string("bad_request_signature")});
  const httplib::Headers good = {{api::kKeyHeader, sig.key},
                                 {api::kTimeHeader, sig.time},
                                 {api::kNonceHeader, sig.nonce},
                                 {api::kSignatureHeader, sig.signature}};
  CHECK(http.Get(target, good)->status == 200);
  CHECK(get(good) == std::pair{401, std::string("replayed_request")});
  auto stale = api::SignRequest(node.op(), "GET", target, Now() - 3600, "");
  CHECK(get({{api::kKeyHeader, stale.key},
             {api::kTimeHeader, stale.time},
             {api::kNonceHeader, stale.nonce},
             {api::kSignatureHeader, stale.signature}}) ==
        std::pair{401, std::string("request_expired")});
  const SigningKey stranger = KeyFromByte(120);
  auto [s1, j1] = node.SignedGet(target, &stranger);
  CHECK(s1 == 403);
  CHECK(ErrorCode(j1) == "forbidden");
  auto [s2, j2] = node.SignedGet("/tile/entries/000.p/1", &stranger);
  CHECK(s2 == 403);
  auto [s3, j3] = node.SignedGet("/v1/accounts/" + account + "/realname", &stranger);
  CHECK(s3 == 403);

  CHECK(node.CheckpointRoot() == before);
  // The errors were counted by code.
  auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("timebank_errors_total{code=\"bad_json\"} 1") != std::string::npos);
  CHECK(metrics->body.find("timebank_errors_total{code=\"replayed_request\"} 1") !=
        std::string::npos);
  CHECK(metrics->body.find("timebank_errors_total{code=\"bad_signature\"} 1") != std::string::npos);
}

TEST_CASE("who may read what: owners, operators, log readers, open logs") {
  NodeProcess node;
  const SigningKey auditor = KeyFromByte(121);
  node.SetConfig("reader_keys", "[\"" + ToHex(auditor.public_key()) + "\"]");
  node.Start();
  node.GrantOperator();
  const SigningKey owner = KeyFromByte(122), neighbour = KeyFromByte(123);
  const std::string mine = node.Register(1950, &owner);
  const std::string theirs = node.Register(1951, &neighbour);
  auto [d_status, d] = node.SubmitOne(node.Entry(Deposit{mine, "", "meals", 90, Now() - 5400, ""}));
  REQUIRE(d_status == 200);
  const std::uint64_t deposit_index = d["index"];

  CHECK(node.SignedGet("/v1/accounts/" + mine, &owner).first == 200);
  CHECK(node.SignedGet("/v1/accounts/" + mine + "/history", &owner).first == 200);
  CHECK(node.SignedGet("/v1/accounts/" + theirs, &owner).first == 403);
  CHECK(node.SignedGet("/v1/accounts/" + mine + "/realname", &owner).first == 403);
  CHECK(node.SignedGet("/v1/accounts/" + theirs).first == 200);  // the operator
  // Real names: registrars and the office only, not a recorder-only operator.
  // (allowed for the registrar; this account's record was never stored: 404)
  CHECK(node.SignedGet("/v1/accounts/" + mine + "/realname").first == 404);
  const SigningKey recorder = KeyFromByte(124);
  REQUIRE(node.SubmitOne(
                  node.Entry(Grant{recorder.public_key(), {Role::kRecorder}, "desk"}, &node.root()))
              .first == 200);
  CHECK(node.SignedGet("/v1/accounts/" + mine, &recorder).first == 200);
  CHECK(node.SignedGet("/v1/accounts/" + mine + "/realname", &recorder).first == 403);
  // Entries: the owner reads entries naming their account, not others'.
  CHECK(node.SignedGet("/v1/entries/" + std::to_string(deposit_index), &owner).first == 200);
  CHECK(node.SignedGet("/v1/entries/" + std::to_string(deposit_index), &neighbour).first == 403);
  // The log: a registered reader and the operator, not an owner.
  CHECK(node.SignedGet("/tile/entries/000.p/1", &auditor).first == 200);
  CHECK(node.SignedGet("/tile/entries/000.p/1").first == 200);
  CHECK(node.SignedGet("/tile/entries/000.p/1", &owner).first == 403);
  // Public: checkpoint, proofs, info, policy.
  auto http = node.Http();
  for (const char* p : {"/v1/checkpoint", "/checkpoint", "/v1/info", "/v1/policy", "/v1/stats",
                        "/healthz", "/metrics", "/v1/proofs/inclusion?index=1"})
    CHECK_MESSAGE(http.Get(p)->status == 200, p);

  node.Stop();
  node.SetConfig("open_log", "true");
  node.Start();
  auto bundle = http.Get("/tile/entries/000.p/2");
  REQUIRE(bundle);
  CHECK(bundle->status == 200);
  auto entry = http.Get("/v1/entries/0");
  CHECK(entry->status == 200);
  CHECK(http.Get("/v1/accounts/" + mine)->status == 401);  // accounts stay personal
}

TEST_CASE("tiles and proofs served over HTTP verify against the signed checkpoint") {
  NodeProcess node;
  node.SetConfig("open_log", "true");
  node.Start();
  node.GrantOperator();
  std::vector<std::string> accounts;
  for (int i = 0; i < 3; ++i) accounts.push_back(node.Register(1980));
  std::vector<std::string> batch;
  for (int i = 0; i < 300; ++i)
    batch.push_back(node.Entry(Deposit{accounts[i % 3], "", "meals", 1, Now() - 60, ""}));
  for (std::size_t at = 0; at < batch.size(); at += 8) {
    std::vector<std::string> part(batch.begin() + at,
                                  batch.begin() + std::min(batch.size(), at + 8));
    if (at % 16 == 0) {
      auto [status, j] = node.Submit(part);
      REQUIRE(status == 200);
      for (const auto& r : j["results"]) REQUIRE_MESSAGE(r.contains("index"), r.dump());
      continue;
    }
    // Every other batch as a binary entry bundle (no JSON, no base64).
    std::string bundle;
    for (const auto& e : part) {
      bundle += static_cast<char>(e.size() >> 8);
      bundle += static_cast<char>(e.size() & 0xff);
      bundle += e;
    }
    // (The media type in any case: RFC 9110 media types are case-insensitive.)
    auto r =
        node.Http().Post("/v1/entries", bundle,
                         at % 32 == 8 ? "Application/X-Timebank-Entries" : api::kEntriesMediaType);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto j = json::parse(r->body);
    REQUIRE(j["results"].size() == part.size());
    for (const auto& res : j["results"]) REQUIRE_MESSAGE(res.contains("index"), res.dump());
  }
  auto http = node.Http();
  auto info = json::parse(http.Get("/v1/info")->body);
  auto verifier = ParseVerifierKey(info["verifier_key"].get<std::string>());
  REQUIRE(verifier.ok());
  auto cp = OpenCheckpoint(http.Get("/checkpoint")->body, *verifier);
  REQUIRE(cp.ok());
  CHECK(cp->size == 305);  // genesis, grant, 3 opens, 300 deposits
  // The full first entry bundle, then the partial second: every entry's leaf is in the tree.
  std::vector<Hash> leaves;
  for (std::string path : {"/tile/entries/000", "/tile/entries/001.p/49"}) {
    auto r = http.Get(path);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    for (std::size_t at = 0; at < r->body.size();) {
      const std::size_t len =
          static_cast<std::uint8_t>(r->body[at]) << 8 | static_cast<std::uint8_t>(r->body[at + 1]);
      leaves.push_back(LeafHash(std::string_view(r->body).substr(at + 2, len)));
      at += 2 + len;
    }
  }
  REQUIRE(leaves.size() == cp->size);
  CHECK(RootFromLeafHashes(leaves) == cp->root);
  // The level-0 hash tile holds the first 256 leaf hashes.
  auto tile = http.Get("/tile/0/000");
  REQUIRE(tile->status == 200);
  REQUIRE(tile->body.size() == 256 * 32);
  CHECK(std::memcmp(tile->body.data() + 255 * 32, leaves[255].data(), 32) == 0);
  CHECK(http.Get("/tile/0/001")->status == 404);  // not full yet
  // Inclusion and consistency proofs check out.
  auto inc = api::InclusionFromJson(
      json::parse(http.Get("/v1/proofs/inclusion?index=200&tree_size=305")->body));
  REQUIRE(inc.ok());
  CHECK(VerifyInclusion(leaves[200], *inc, cp->root).ok());
  auto cons = api::ConsistencyFromJson(
      json::parse(http.Get("/v1/proofs/consistency?old=100&new=305")->body));
  REQUIRE(cons.ok());
  const Hash old_root = RootFromLeafHashes(std::span(leaves).first(100));
  CHECK(VerifyConsistency(*cons, old_root, cp->root).ok());
}

TEST_CASE("HTTPS through OpenSSL: the node serves TLS and the CLI checks its certificate") {
  NodeProcess node;
  Ran cert = RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                         node.dir() + "/tls.key", "-out", node.dir() + "/tls.crt"});
  REQUIRE_MESSAGE(cert.exit_code == 0, cert.err);
  node.SetConfig("tls_cert_file", "\"tls.crt\"");
  node.SetConfig("tls_key_file", "\"tls.key\"");
  node.Start(/*tls=*/true);
  httplib::SSLClient https("127.0.0.1", node.port());
  https.set_ca_cert_path((node.dir() + "/tls.crt").c_str());
  https.enable_server_certificate_verification(true);
  auto info = https.Get("/v1/info");
  REQUIRE(info);
  CHECK(info->status == 200);
  // Plain HTTP to the TLS port gets no answer.
  CHECK_FALSE(node.Http().Get("/v1/info"));
  const std::string url = "https://127.0.0.1:" + std::to_string(node.port());
  Ran ok = RunProgram(
      {TIMEBANK_CLI_PATH, "--node", url, "--ca-cert", node.dir() + "/tls.crt", "--json", "info"});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  CHECK(Json(ok)["district"] == "510104");
  // Without the CA the certificate is not trusted: no connection.
  Ran untrusted = RunProgram({TIMEBANK_CLI_PATH, "--node", url, "info"}, {"HOME=/nonexistent"});
  CHECK(untrusted.exit_code == 4);
}

TEST_CASE("JSON logs: one object per line") {
  NodeProcess node;
  node.SetConfig("level", "\"debug\"");
  node.SetConfig("format", "\"json\"");
  // A data directory with a quote in its name: the start message must escape it.
  std::filesystem::rename(node.dir() + "/data", node.dir() + "/data\"quoted\"");
  node.SetConfig("data_dir", "'data\"quoted\"'");
  node.Start();
  node.GrantOperator();
  CHECK(node.Stop(SIGTERM) == 0);
  std::ifstream log(node.dir() + "/node.log");
  int lines = 0;
  bool saw_quoted = false;
  for (std::string line; std::getline(log, line);) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), line);
    CHECK(j.contains("time"));
    CHECK(j.contains("level"));
    saw_quoted = saw_quoted || j.value("msg", "").find("data\"quoted\"") != std::string::npos;
    ++lines;
  }
  CHECK(lines >= 3);  // serving, signal, stopped (and the requests at debug level)
  CHECK(saw_quoted);
}

TEST_CASE("the node releases holds whose time ran out") {
  NodeProcess node;
  node.SetConfig("expire_holds_every_seconds", "1");
  node.Start();
  node.GrantOperator();
  const std::string elder = node.Register(1950);
  REQUIRE(node.SubmitOne(node.Entry(Deposit{elder, "", "meals", 120, Now() - 7200, ""})).first ==
          200);
  REQUIRE(node.SubmitOne(node.Entry(Hold{elder, 90, Now() + 1, "meals", ""})).first == 200);
  REQUIRE(node.SubmitOne(node.Entry(Hold{elder, 10, Now() + 3600, "meals", ""})).first == 200);
  CHECK(node.SignedGet("/v1/accounts/" + elder).second["balance_minutes"] == 20);
  std::int64_t balance = 0;
  for (int i = 0; i < 50 && balance != 110; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    balance = node.SignedGet("/v1/accounts/" + elder).second["balance_minutes"];
  }
  CHECK(balance == 110);  // the first hold came back; the second is still open
  auto stats = json::parse(node.Http().Get("/v1/stats")->body);
  CHECK(stats["held_minutes"] == 10);
}

TEST_CASE("init refuses what it cannot do well; metrics report what happened") {
  TempDir dir;
  Ran bad_code = RunProgram(
      {TIMEBANKD_PATH, "init", "--dir", dir.path() + "/x", "--district", "51010", "--name", "x"});
  CHECK(bad_code.exit_code == 1);
  CHECK(bad_code.err.find("6 digits") != std::string::npos);
  Ran quote = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir.path() + "/y", "--district",
                          "510104", "--name", "a\"b"});
  CHECK(quote.exit_code == 1);
  // A genesis the library refuses (a malformed origin): nothing is left behind, so the
  // corrected command goes through in the same directory.
  Ran bad_origin = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir.path() + "/o", "--district",
                               "510104", "--name", "o", "--origin", "bad origin"});
  CHECK(bad_origin.exit_code == 1);
  CHECK_MESSAGE(bad_origin.err.find("origin") != std::string::npos, bad_origin.err);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/o"));
  Ran nested = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir.path() + "/q/r/s", "--district",
                           "510104", "--name", "q", "--origin", "bad origin"});
  CHECK(nested.exit_code == 1);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/q"));      // every directory it made
  std::filesystem::create_directories(dir.path() + "/p/mine");  // a directory that was there
  bad_origin = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir.path() + "/p", "--district",
                           "510104", "--name", "p", "--origin", "bad origin"});
  CHECK(bad_origin.exit_code == 1);
  CHECK(std::filesystem::exists(dir.path() + "/p/mine"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/p/root.key"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/p/log.key"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/p/data"));
  Ran fixed = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir.path() + "/p", "--district",
                          "510104", "--name", "p", "--origin", "timebank.chengdu/510104"});
  CHECK_MESSAGE(fixed.exit_code == 0, fixed.err);
  Ran ok = RunProgram(
      {TIMEBANKD_PATH, "init", "--dir", dir.path() + "/z", "--district", "510104", "--name", "z"});
  REQUIRE(ok.exit_code == 0);
  Ran again = RunProgram(
      {TIMEBANKD_PATH, "init", "--dir", dir.path() + "/z", "--district", "510104", "--name", "z"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("already holds a node") != std::string::npos);
  // Keys are private to their owner.
  struct stat st {};
  REQUIRE(::stat((dir.path() + "/z/log.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path() + "/z/root.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  NodeProcess node;
  node.Start();
  node.GrantOperator();
  const std::string a = node.Register(1980);
  for (int i = 0; i < 3; ++i)
    REQUIRE(node.SubmitOne(node.Entry(Deposit{a, "", "meals", 10, Now() - 600, ""})).first == 200);
  // History paging over HTTP: two pages of two, then a bad `from`.
  auto [s1, p1] = node.SignedGet("/v1/accounts/" + a + "/history?limit=2");
  REQUIRE(s1 == 200);
  CHECK(p1["items"].size() == 2);
  REQUIRE(p1["next"].is_number());
  auto [s2, p2] = node.SignedGet("/v1/accounts/" + a + "/history?limit=2&from=" +
                                 std::to_string(p1["next"].get<std::uint64_t>()));
  REQUIRE(s2 == 200);
  CHECK(p2["items"].size() == 1);
  CHECK(p2["next"].is_null());
  CHECK(node.SignedGet("/v1/accounts/" + a + "/history?from=0").first == 400);
  CHECK(node.SignedGet("/v1/accounts/" + a + "/history?limit=0").first == 400);

  auto metrics = node.Http().Get("/metrics");
  REQUIRE(metrics);
  const std::string& m = metrics->body;
  CHECK(m.find("timebank_log_entries 6") != std::string::npos);  // genesis, grant, open, 3
  CHECK(m.find("timebank_entries_appended_total 5") != std::string::npos);
  CHECK(m.find("timebank_commit_latency_seconds_count 5") != std::string::npos);
  CHECK(m.find("timebank_http_open_connections ") != std::string::npos);
  CHECK(m.find("timebank_http_requests_total{route=\"submit_entries\",status=\"200\"} 5") !=
        std::string::npos);
  CHECK(m.find("timebank_errors_total{code=\"invalid_argument\"} 2") != std::string::npos);
}

TEST_CASE("the policy: shown as TOML, changed by the district office, bad files refused") {
  NodeProcess node;
  node.Start();
  node.GrantOperator();
  const std::string root_key = node.dir() + "/root.key";
  auto as_root = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--key", root_key});
    return Cli(node, args, /*with_key=*/false);
  };
  auto version = [&] { return Json(Cli(node, {"--json", "policy", "show"}))["version"]; };
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = node.dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  };

  Ran shown = Cli(node, {"policy", "show"});
  REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
  CHECK(shown.out.find("relatives_and_friends") != std::string::npos);
  CHECK(shown.out.find("[[services]]") != std::string::npos);
  CHECK(version() == 1);

  // Only what the file names changes; the version is the next one.
  Ran set = as_root({"policy", "set",
                     write("caps.toml",
                           "balance_cap_minutes = 6000\n"
                           "min_age_redeem = 65\n"
                           "gift_scope = \"direct_relatives\"\n")});
  REQUIRE_MESSAGE(set.exit_code == 0, set.err << set.out);
  CHECK(set.out.find("balance_cap_minutes") != std::string::npos);
  const json p2 = Json(Cli(node, {"--json", "policy", "show"}));
  CHECK(p2["version"] == 2);
  CHECK(p2["balance_cap_minutes"] == 6000);
  CHECK(p2["min_age_redeem"] == 65);
  CHECK(p2["gift_scope"] == 2);
  CHECK(p2["services"].size() == 6);

  // What `policy show` prints applies as it is: it changes nothing, and says so.
  Ran same = as_root({"policy", "set", write("same.toml", Cli(node, {"policy", "show"}).out)});
  CHECK(same.exit_code == 2);
  CHECK(same.err.find("changes nothing") != std::string::npos);
  // ... and edited, it becomes the next version.
  std::string edited = Cli(node, {"policy", "show"}).out;
  edited.replace(edited.find("min_age_redeem = 65"), 19, "min_age_redeem = 70");
  Ran next = as_root({"policy", "set", write("edited.toml", edited)});
  REQUIRE_MESSAGE(next.exit_code == 0, next.err);
  CHECK(next.out.find("policy v3 (min_age_redeem)") != std::string::npos);

  // Bad files and the wrong key change nothing, each with its own error.
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b :
       {Bad{"gift_scope = \"everyone\"\n", "gift_scope"},
        Bad{"balance_cap = 5\n", "unknown field 'balance_cap'"},
        Bad{"min_age_serve = \"18\"\n", "min_age_serve must be"},
        Bad{"[[services]]\ncategory = \"meals\"\nrate = 1\n", "unknown field 'rate'"},
        Bad{"balance_cap_minutes = -1\n", "must not be negative"},
        Bad{"balance_cap_minutes = \n", "line 1"}}) {
    Ran r = as_root({"policy", "set", write("bad.toml", b.text)});
    CHECK(r.exit_code != 0);
    CHECK_MESSAGE(r.err.find(b.says) != std::string::npos, b.text << " -> " << r.err);
  }
  Ran op = Cli(node, {"policy", "set", write("op.toml", "min_age_serve = 16\n")});
  CHECK(op.exit_code == 3);
  CHECK(op.err.find("unauthorized") != std::string::npos);
  CHECK(version() == 3);

  // The city list from the city office's file: a district it lists that this node does not
  // follow is an alert, and a district it does not list cannot be named.
  const std::string other_key =
      FormatVerifierKey("timebank.test/510105", KeyFromByte(77).public_key());
  const std::string city =
      write("city.toml", "[[districts]]\ncode = \"" + node.district() +
                             "\"\nname = \"here\"\nverifier_key = \"" + node.VerifierKey() +
                             "\"\nurls = [\"http://127.0.0.1:1\"]\n\n"
                             "[[districts]]\ncode = \"510105\"\nname = "
                             "\"青羊区\"\nverifier_key = \"" +
                             other_key + "\"\nurls = [\"http://127.0.0.1:2\"]\n");
  Ran listed = as_root({"policy", "set", "--city", city});
  REQUIRE_MESSAGE(listed.exit_code == 0, listed.err);
  const json p3 = Json(Cli(node, {"--json", "policy", "show"}));
  CHECK(p3["version"] == 4);
  REQUIRE(p3["city"].size() == 2);
  CHECK(p3["city"][1]["verifier_key"] == other_key);
  Ran alerts = Cli(node, {"--json", "alerts"});
  CHECK(alerts.exit_code == 5);
  REQUIRE(Json(alerts)["alerts"].size() == 1);
  CHECK(Json(alerts)["alerts"][0]["kind"] == "not_followed");
  CHECK(Json(alerts)["alerts"][0]["district"] == "510105");
  auto metrics = node.Http().Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("timebank_city_alerts 1") != std::string::npos);
  const std::string elsewhere = MakeAccountNumber("510199", 3).value();
  auto [refused, why] =
      node.SubmitOne(node.Entry(Deposit{elsewhere, "", "meals", 60, Now() - 3600, ""}));
  CHECK(refused == 422);
  CHECK(ErrorCode(why) == "not_in_city");
  auto [taken, ok] = node.SubmitOne(node.Entry(
      Deposit{MakeAccountNumber("510105", 3).value(), "", "meals", 60, Now() - 3600, ""}));
  CHECK_MESSAGE(taken == 200, ok.dump());
}
