// 通存通兑 between real timebankd processes on loopback (docs/federation.md).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "ledger/checkpoint.h"
#include "node_process.h"

using namespace ledger;
using namespace ledger::testing;
using timebank::api::json;

namespace {

// Polls `cond` for up to `seconds`.
template <typename F>
bool Eventually(F cond, int seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

Minutes BalanceAt(const NodeProcess& node, const std::string& account) {
  auto [status, body] = node.SignedGet("/v1/accounts/" + account);
  if (status != 200) return -1;
  return body.value("balance_minutes", Minutes{-1});
}

// Writes a city file at `path` listing `city`'s districts, each at the URL `url` gives.
void WriteCityFile(const std::vector<NodeProcess*>& city, const std::string& path,
                   const std::function<std::string(const NodeProcess&)>& url) {
  std::string toml;
  for (const NodeProcess* n : city)
    toml += "[[districts]]\ncode = \"" + n->district() + "\"\nname = \"d\"\nverifier_key = \"" +
            n->VerifierKey() + "\"\nurls = [\"" + url(*n) + "\"]\n\n";
  std::ofstream(path) << toml;
}

// `timebank audit --json` of a city file (signed with `key_file` when given).
Ran AuditCity(const std::string& city_file, const std::string& key_file = "") {
  std::vector<std::string> args = {TIMEBANK_CLI_PATH, "--lang", "en", "--json"};
  if (!key_file.empty()) args.insert(args.end(), {"--key", key_file});
  args.insert(args.end(), {"audit", "--city", city_file});
  return RunProgram(args, {"HOME=/nonexistent"});
}

json Peers(const NodeProcess& node) {
  auto res = node.Http().Get("/v1/peers");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return json::parse(res->body);
}

// A catch-up to come: H follows X and may read its log (a reader key at X; X does not
// follow H, so that its log holds only what the test writes). H registers a volunteer
// and goes down; X records `entries` one-minute services for her, 1,024 a request. H is
// left stopped, X running. Returns the volunteer's account.
std::string ServedWhileHomeDown(NodeProcess& h, NodeProcess& x, int entries) {
  h.AddPeer(x);
  const PublicKey h_key = SigningKey::LoadFile(h.dir() + "/log.key").value().public_key();
  x.SetConfig("reader_keys", "[\"" + ToHex(h_key) + "\"]");
  h.Start();
  h.GrantOperator();
  const std::string hv = h.Register(1960);
  h.Stop();
  x.Start();
  x.GrantOperator();
  for (int b = 0; b < entries / 1024; ++b) {
    std::vector<std::string> batch;
    for (int i = 0; i < 1024; ++i)
      batch.push_back(x.Entry(Deposit{hv, "", "meals", 1, Now() - 3600, ""}));
    auto [status, body] = x.Submit(batch);
    REQUIRE_MESSAGE(status == 200, body.dump());
  }
  return hv;
}

}  // namespace

TEST_CASE("two districts: hours served away reach home; logs are copied, cosigned, served on") {
  NodeProcess h("510104"), x("510105"), c("510106");
  h.Start();
  x.Start();
  h.GrantOperator();
  x.GrantOperator();
  const std::string v = h.Register(1955);  // homed in H, retired, volunteering
  const std::string w = h.Register(1956);  // another of H's volunteers, busy in X
  h.Stop();
  x.Stop();
  h.AddPeer(x);
  h.AddPeer(c);  // (down until later: H keeps trying)
  x.AddPeer(h);
  h.SetConfig("pull_every_seconds", "1");
  x.SetConfig("pull_every_seconds", "1");
  h.Start();
  x.Start();

  // She serves in X: X records it (a credit for another district's account).
  auto [status, body] = x.SubmitOne(x.Entry(Deposit{v, "", "meals", 90, Now() - 3600, ""}));
  REQUIRE_MESSAGE(status == 200, body.dump());
  // X cannot debit her: only her home can.
  auto [refused, why] = x.SubmitOne(x.Entry(Redeem{v, 30, "meals", ""}));
  CHECK(refused == 422);
  CHECK(why["error"]["code"] == "not_home_district");

  // Many services in X at once: X's log grows past two whole tiles, which H's copy (and
  // later C's, through H) proves by their level-1 hashes (the tile cover).
  std::vector<std::string> many;
  for (int i = 0; i < 600; ++i)
    many.push_back(x.Entry(Deposit{w, "", "meals", 1, Now() - 3600, ""}));
  auto [bulk, bulk_body] = x.Submit(many);
  REQUIRE_MESSAGE(bulk == 200, bulk_body.dump().substr(0, 300));

  // H copies X's log, verifies it, and syncs it: the hours are hers at home.
  CHECK(Eventually([&] { return BalanceAt(h, v) == 90; }));
  CHECK(Eventually([&] { return BalanceAt(h, w) == 600; }));
  const json peers = Peers(h);
  REQUIRE(peers["peers"].size() == 2);
  const json& p = peers["peers"][0];
  CHECK(p["district"] == "510105");
  CHECK(p["equivocation"] == false);
  CHECK(p["last_error"] == "");
  CHECK(p["replica_size"].get<std::uint64_t>() >= 4);
  // Synced as far as X's log holds anything for H (later entries of X are syncs of H).
  CHECK(p["synced_size"].get<std::uint64_t>() >= 4);
  CHECK(p["synced_size"].get<std::uint64_t>() <= p["replica_size"].get<std::uint64_t>());
  // And she spends them at home.
  auto [spent, r] = h.SubmitOne(h.Entry(Redeem{v, 30, "meals", ""}));
  CHECK_MESSAGE(spent == 200, r.dump());
  CHECK(BalanceAt(h, v) == 60);

  // Redeeming away: she is served in X; X's redeemer signs a hold in H's log and gives it
  // to X's node, which forwards it to H and checks H's receipt.
  Hold hold{v, 45, Now() + 3600, "meals", "510105"};
  const std::string hold_entry = h.Entry(hold, &x.op());
  const EntryId hold_id = DecodeEntry(hold_entry).value().body.id;
  auto [held, receipt] = x.SubmitOne(hold_entry);
  REQUIRE_MESSAGE(held == 200, receipt.dump());
  CHECK(receipt["district"] == "510104");
  auto hv0 = ParseVerifierKey(h.VerifierKey()).value();
  auto rcp = OpenCheckpoint(receipt["receipt"]["checkpoint"].get<std::string>(), hv0);
  REQUIRE(rcp.ok());
  auto rproof = timebank::api::InclusionFromJson(receipt["receipt"]["inclusion_proof"]);
  REQUIRE(rproof.ok());
  CHECK(VerifyInclusion(LeafHash(hold_entry), *rproof, rcp->root).ok());
  CHECK(BalanceAt(h, v) == 15);
  // Home down: the post is refused with a clear error, and nothing changes.
  h.Stop();
  const std::string post = h.Entry(HoldPost{hold_id}, &x.op());
  auto [down, why_down] = x.SubmitOne(post);
  CHECK(down == 503);
  CHECK(why_down["error"]["code"] == "home_unreachable");
  h.Start();
  CHECK(BalanceAt(h, v) == 15);
  auto [posted, posted_body] = x.SubmitOne(post);
  CHECK_MESSAGE(posted == 200, posted_body.dump());
  auto [again, again_body] = x.SubmitOne(h.Entry(HoldVoid{hold_id}, &x.op()));
  CHECK(again == 409);
  CHECK(again_body["error"]["code"] == "hold_closed");
  CHECK(BalanceAt(h, v) == 15);

  // H serves X's log onward, with X's own signature and H's cosignature.
  auto note = h.Http().Get("/peers/510105/checkpoint");
  REQUIRE(note);
  REQUIRE(note->status == 200);
  auto xv = ParseVerifierKey(x.VerifierKey());
  auto cp = OpenCheckpoint(note->body, *xv);
  REQUIRE_MESSAGE(cp.ok(), cp.status().ToString());
  CHECK(cp->size == p["replica_size"].get<std::uint64_t>());
  const auto hv = ParseVerifierKey(h.VerifierKey()).value();
  CHECK(VerifyCosignature(note->body, hv.name, hv.key).ok());
  // The copy's tiles go to readers only (peers' log keys); a stranger is refused.
  const SigningKey stranger = KeyFromByte(77);
  auto [denied, _] = h.SignedGet("/peers/510105/tile/entries/000.p/1", &stranger);
  CHECK(denied == 403);
  auto metrics = h.Http().Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("timebank_peer_replica_size{district=\"510105\"}") != std::string::npos);
  CHECK(metrics->body.find("timebank_equivocation{district=\"510105\"} 0") != std::string::npos);

  // A third district reads X's log through H while X is down.
  const std::uint64_t x_size = cp->size;
  x.Stop();
  c.AddPeer(x, {x.url(), h.url() + "/peers/510105"});
  c.AddPeer(h);
  c.SetConfig("pull_every_seconds", "1");
  c.Start();
  CHECK(Eventually([&] {
    const json cp_ = Peers(c);
    for (const auto& q : cp_["peers"])
      if (q["district"] == "510105") return q["replica_size"].get<std::uint64_t>() == x_size;
    return false;
  }));
  const json cpeers = Peers(c);
  for (const auto& q : cpeers["peers"])
    if (q["district"] == "510105") CHECK(q["source"] == h.url() + "/peers/510105");
}

TEST_CASE("a district that signs a forked tree is caught: evidence kept, alert raised") {
  NodeProcess h("510104"), x("510105");
  x.Start();
  x.GrantOperator();
  const std::string v = x.Register(1960);
  x.Stop();
  h.AddPeer(x);
  // H's node may read X's log (a reader key at X; X does not follow H, so that its log
  // holds only what the test writes).
  const PublicKey h_key = SigningKey::LoadFile(h.dir() + "/log.key").value().public_key();
  x.SetConfig("reader_keys", "[\"" + ToHex(h_key) + "\"]");
  h.SetConfig("pull_every_seconds", "1");
  // The test helper: X's data directory as it is now, to be restored after X goes on, so
  // that X signs a second, different tree of the same size with the same key.
  const std::string fork_point = h.dir() + "/x-data-copy";
  std::filesystem::copy(x.dir() + "/data", fork_point, std::filesystem::copy_options::recursive);
  x.Start();
  h.Start();
  for (int i = 0; i < 2; ++i)
    REQUIRE(x.SubmitOne(x.Entry(Deposit{v, "", "meals", 30, Now() - 3600, ""})).first == 200);
  std::uint64_t size = 0;
  {
    auto info = x.Http().Get("/v1/info");
    REQUIRE(info);
    size = json::parse(info->body)["size"].get<std::uint64_t>();
  }
  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["replica_size"] == size; }));
  x.Stop();
  // The branch H holds, for X to return to later.
  const std::string held_branch = h.dir() + "/x-data-held";
  std::filesystem::copy(x.dir() + "/data", held_branch, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(x.dir() + "/data");
  std::filesystem::copy(fork_point, x.dir() + "/data", std::filesystem::copy_options::recursive);
  x.Start();
  // A longer fork: its checkpoint does not extend H's copy, and its first `size` entries
  // are not the tree X signed before.
  for (int i = 0; i < 3; ++i)
    REQUIRE(x.SubmitOne(x.Entry(Deposit{v, "", "cleaning", 45, Now() - 3600, ""})).first == 200);

  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["equivocation"] == true; }));
  auto alerts = h.Http().Get("/v1/alerts");
  REQUIRE(alerts);
  const json a = json::parse(alerts->body)["alerts"];
  REQUIRE(a.size() == 1);
  CHECK(a[0]["district"] == "510105");
  REQUIRE(a[0]["evidence"].size() == 2);
  const auto xv = ParseVerifierKey(x.VerifierKey()).value();
  auto first = OpenCheckpoint(a[0]["evidence"][0].get<std::string>(), xv);
  auto second = OpenCheckpoint(a[0]["evidence"][1].get<std::string>(), xv);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->size == size);
  CHECK(second->size == size + 1);
  auto metrics = h.Http().Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("timebank_equivocation{district=\"510105\"} 1") != std::string::npos);
  // No more of X's entries are taken.
  REQUIRE(x.SubmitOne(x.Entry(Deposit{v, "", "meals", 15, Now() - 3600, ""})).first == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(Peers(h)["peers"][0]["replica_size"] == size);
  // The evidence survives a restart, and so does the stop.
  h.Stop();
  h.Start();
  CHECK(Peers(h)["peers"][0]["equivocation"] == true);

  // Clearing is the district office's: an operator without the admin role is refused.
  auto clear = [&](const std::string& key_file, const std::string& district) {
    return RunProgram({TIMEBANK_CLI_PATH, "--node", h.url(), "--key", key_file, "--json", "alerts",
                       "clear", district},
                      {"HOME=/nonexistent"});
  };
  h.GrantOperator();  // registrar, recorder, redeemer: not admin
  Ran refused = clear(h.op_key_file(), "510105");
  CHECK(refused.exit_code != 0);
  CHECK(refused.out.find("district office") != std::string::npos);
  CHECK(clear(h.dir() + "/root.key", "510106").out.find("unknown_peer") != std::string::npos);
  CHECK(Peers(h)["peers"][0]["equivocation"] == true);
  // The root clears it while X is still on its fork: the evidence is archived, pulling
  // resumes, and the fork is caught again — new evidence, nothing of the fork taken.
  Ran cleared = clear(h.dir() + "/root.key", "510105");
  REQUIRE_MESSAGE(cleared.exit_code == 0, cleared.out, cleared.err);
  const json done = json::parse(cleared.out);
  CHECK(done["cleared"] == true);
  const json archived = json::parse(std::ifstream(done["archived"].get<std::string>()));
  CHECK(archived["district"] == "510105");
  CHECK(archived["evidence"].size() == 2);
  CHECK(archived["evidence"][0] == a[0]["evidence"][0]);
  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["equivocation"] == true; }));
  CHECK(Peers(h)["peers"][0]["replica_size"] == size);
  // Clearing when there is no alert: 404 no_alert.
  h.Stop();
  auto no_alert = [&] {
    auto sig = api::SignRequest(h.root(), "POST", "/v1/alerts/510105/clear", Now(), "{}");
    auto r = h.Http().Post("/v1/alerts/510105/clear",
                           {{api::kKeyHeader, sig.key},
                            {api::kTimeHeader, sig.time},
                            {api::kNonceHeader, sig.nonce},
                            {api::kSignatureHeader, sig.signature}},
                           "{}", "application/json");
    REQUIRE(r);
    return std::pair{r->status, json::parse(r->body, nullptr, false)};
  };
  // X goes back to the tree its peers hold (its data as it was before the fork) and on.
  x.Stop();
  std::filesystem::remove_all(x.dir() + "/data");
  std::filesystem::copy(held_branch, x.dir() + "/data", std::filesystem::copy_options::recursive);
  x.Start();
  REQUIRE(x.SubmitOne(x.Entry(Deposit{v, "", "meals", 20, Now() - 3600, ""})).first == 200);
  h.Start();
  REQUIRE(clear(h.dir() + "/root.key", "510105").exit_code == 0);
  const auto [status, body] = no_alert();
  CHECK(status == 404);
  CHECK(body.value("/error/code"_json_pointer, "") == "no_alert");
  // H takes X's entries again, from where its copy stood.
  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["replica_size"] == size + 1; }));
  CHECK(Peers(h)["peers"][0]["equivocation"] == false);
  auto after = h.Http().Get("/v1/alerts");
  REQUIRE(after);
  CHECK(json::parse(after->body)["alerts"].empty());
}

TEST_CASE("the same hours redeemed at two districts at once: never overdrawn, clear refusals") {
  NodeProcess h("510104"), x("510105"), y("510106");
  h.Start();
  h.GrantOperator();
  const std::string elder = h.Register(1945);
  REQUIRE(h.SubmitOne(h.Entry(Deposit{elder, "", "meals", 100, Now() - 3600, ""})).first == 200);
  h.Stop();
  for (NodeProcess* n : {&h, &x, &y}) n->SetConfig("pull_every_seconds", "1");
  h.AddPeer(x);
  h.AddPeer(y);
  x.AddPeer(h);
  y.AddPeer(h);
  h.Start();
  x.Start();
  y.Start();
  x.GrantOperator();
  y.GrantOperator();
  // H has synced both peers' keys: their redeemers may hold for service there.
  REQUIRE(Eventually([&] {
    const json p = Peers(h)["peers"];
    return p.size() == 2 && p[0]["synced_size"].get<std::uint64_t>() >= 2 &&
           p[1]["synced_size"].get<std::uint64_t>() >= 2;
  }));
  // 2 x 10 holds of 10 minutes against 100: half must be refused, whatever the timing.
  std::atomic<int> held{0}, refused{0}, other{0};
  auto serve = [&](NodeProcess& at, const std::string& district) {
    for (int i = 0; i < 10; ++i) {
      const std::string e = h.Entry(Hold{elder, 10, Now() + 3600, "meals", district}, &at.op());
      auto [status, body] = at.SubmitOne(e);
      if (status == 200)
        ++held;
      else if (status == 422 && body["error"]["code"] == "insufficient_balance")
        ++refused;
      else
        ++other;
    }
  };
  std::thread tx([&] { serve(x, "510105"); });
  std::thread ty([&] { serve(y, "510106"); });
  tx.join();
  ty.join();
  CHECK(held == 10);
  CHECK(refused == 10);
  CHECK(other == 0);
  CHECK(BalanceAt(h, elder) == 0);
}

TEST_CASE("partition: a district stopped while the other works catches up; nothing is lost") {
  NodeProcess h("510104"), x("510105");
  h.Start();
  x.Start();
  h.GrantOperator();
  x.GrantOperator();
  const std::string hv = h.Register(1960), xv = x.Register(1962);
  h.Stop();
  x.Stop();
  for (NodeProcess* n : {&h, &x}) n->SetConfig("pull_every_seconds", "1");
  h.AddPeer(x);
  x.AddPeer(h);
  x.Start();
  // H is down: X keeps working, for its own people and for H's.
  std::vector<std::string> acknowledged_at_x;
  for (int i = 0; i < 12; ++i) {
    const std::string e = x.Entry(Deposit{i % 2 ? hv : xv, "", "meals", 10 + i, Now() - 3600, ""});
    auto [status, body] = x.SubmitOne(e);
    REQUIRE_MESSAGE(status == 200, body.dump());
    acknowledged_at_x.push_back(ToHex(DecodeEntry(e).value().body.id));
  }
  Minutes for_hv = 0, for_xv = 0;
  for (int i = 0; i < 12; ++i) (i % 2 ? for_hv : for_xv) += 10 + i;
  // Now X goes down and H comes back: H serves its people and X's, then catches up.
  x.Kill();
  h.Start();
  REQUIRE(h.SubmitOne(h.Entry(Deposit{xv, "", "cleaning", 30, Now() - 3600, ""})).first == 200);
  x.Start();
  CHECK(Eventually([&] { return BalanceAt(h, hv) == for_hv; }));
  CHECK(Eventually([&] { return BalanceAt(x, xv) == for_xv + 30; }));
  // Every entry X acknowledged is there, on X and in H's copy of X.
  for (const auto& id : acknowledged_at_x) {
    CHECK(x.SignedGet("/v1/entries/by-id/" + id).first == 200);
  }
  // And H's copy of X converges on X's log.
  CHECK(Eventually([&] {
    auto info = x.Http().Get("/v1/info");
    return info && Peers(h)["peers"][0]["replica_size"] == json::parse(info->body)["size"];
  }));
}

TEST_CASE("convergence: random traffic across three districts; the city's audit passes") {
  NodeProcess a("510104"), b("510105"), c("510106");
  std::vector<NodeProcess*> city = {&a, &b, &c};
  const SigningKey auditor = KeyFromByte(99);
  std::map<std::string, std::vector<std::string>> people;  // district -> accounts
  for (NodeProcess* n : city) {
    n->Start();
    n->GrantOperator();
    for (int i = 0; i < 4; ++i) people[n->district()].push_back(n->Register(1950 + i));
    n->Stop();
    n->SetConfig("pull_every_seconds", "1");
    n->SetConfig("reader_keys", "[\"" + ToHex(auditor.public_key()) + "\"]");
    for (NodeProcess* p : city)
      if (p != n) n->AddPeer(*p);
  }
  for (NodeProcess* n : city) n->Start();
  std::vector<std::string> everyone;
  for (auto& [d, list] : people) everyone.insert(everyone.end(), list.begin(), list.end());
  // Random services anywhere for anyone, and gifts from home to anyone.
  std::mt19937 rng(7);
  std::map<std::string, Minutes> expected;
  for (int i = 0; i < 60; ++i) {
    NodeProcess& at = *city[rng() % city.size()];
    const std::string who = everyone[rng() % everyone.size()];
    const Minutes m = 5 + static_cast<Minutes>(rng() % 30);
    auto [status, body] = at.SubmitOne(at.Entry(Deposit{who, "", "meals", m, Now() - 3600, ""}));
    REQUIRE_MESSAGE(status == 200, body.dump());
    expected[who] += m;
  }
  for (int i = 0; i < 20; ++i) {
    NodeProcess& home = *city[rng() % city.size()];
    const std::string from = people[home.district()][rng() % 4];
    const std::string to = everyone[rng() % everyone.size()];
    if (to == from) continue;
    // Only what has reached home can be given: wait for it first.
    REQUIRE(Eventually([&] { return BalanceAt(home, from) == expected[from]; }));
    const Minutes m = std::min<Minutes>(expected[from], 1 + rng() % 10);
    if (m == 0) continue;
    auto [status, body] =
        home.SubmitOne(home.Entry(Transfer{TransferKind::kGift, from, to, m, Relation::kFriend}));
    REQUIRE_MESSAGE(status == 200, body.dump());
    expected[from] -= m;
    expected[to] += m;
  }
  // Every account's home converges on what it was given, and the city's books check out.
  for (NodeProcess* n : city)
    for (const auto& acct : people[n->district()])
      CHECK_MESSAGE(Eventually([&] { return BalanceAt(*n, acct) == expected[acct]; }), acct);
  // The clearing report is the same at every node (each reads its copies of the others),
  // and adds up: every minute issued is owed by some district.
  auto clearing = [](NodeProcess& n) {
    auto res = n.Http().Get("/v1/clearing");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json j = json::parse(res->body);
    std::map<std::string, json> by_district;
    for (auto& d : j["districts"]) {
      d.erase("entries");  // copies may be a pull behind in entries that change no figure
      d.erase("name");
      by_district[d["district"]] = d;
    }
    return std::pair{j, by_district};
  };
  Minutes served = 0;
  for (const auto& [acct, m] : expected) served += m;
  REQUIRE(Eventually([&] {
    auto [ja, da] = clearing(a);
    auto [jb, db] = clearing(b);
    auto [jc, dc] = clearing(c);
    return da == db && db == dc && ja["issued_minutes"] == served &&
           ja["liability_minutes"] == served;
  }));
  // The CLI's table, in Chinese too: every line as wide as the header, columns two spaces
  // apart at least (CJK characters take two columns).
  {
    Ran table = RunProgram({TIMEBANK_CLI_PATH, "--node", a.url(), "--lang", "zh", "clearing"},
                           {"HOME=/nonexistent"});
    REQUIRE_MESSAGE(table.exit_code == 0, table.err);
    auto width = [](const std::string& line) {
      std::size_t w = 0;
      for (unsigned char ch : line)
        if (ch < 0x80)
          ++w;
        else if (ch >= 0xE0 && ch < 0xF0)
          w += 2;  // a 3-byte sequence: CJK here
        else if (ch >= 0xC0)
          ++w;
      return w;
    };
    std::istringstream in(table.out);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 6);  // the period, the header, three districts, the legend
    for (std::size_t i = 2; i < 5; ++i) {
      CHECK_MESSAGE(width(lines[i]) == width(lines[1]), lines[1] << "\n" << lines[i]);
      std::size_t fields = 0;
      for (std::size_t at = 0; at != std::string::npos;
           at = lines[i].find_first_not_of(' ', lines[i].find("  ", at)))
        ++fields;
      CHECK_MESSAGE(fields == 7, lines[i]);  // district, entries, issued, owes, 3 columns
    }
  }
  // Bad periods are refused with the parameter named; an account no log holds has no home.
  for (const char* q : {"?from=2026-02-30", "?from=2026-11-05&to=2026-11-05", "?to=11/05/2026",
                        "?from=1969-12-31"}) {
    auto res = a.Http().Get(std::string("/v1/clearing") + q);
    REQUIRE(res);
    CHECK_MESSAGE(res->status == 400, q);
    CHECK(json::parse(res->body)["error"]["code"] == "bad_request");
  }
  auto [nowhere, nb] = a.SignedGet("/v1/accounts/510107000000011/home");
  CHECK(nowhere == 404);
  CHECK(nb["error"]["code"] == "unknown_account");
  const std::string city_file = a.dir() + "/city.toml";
  WriteCityFile(city, city_file, [](const NodeProcess& n) { return n.url(); });
  const std::string key_file = a.dir() + "/auditor.key";
  REQUIRE(auditor.SaveFile(key_file).ok());
  Ran audit = AuditCity(city_file, key_file);
  CHECK_MESSAGE(audit.exit_code == 0, audit.out << audit.err);
  const json report = json::parse(audit.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["ok"] == true);
  CHECK(report["in_transit_minutes"] == 0);
  CHECK(report["districts"].size() == 3);

  // The same audit from exported files, with every node stopped.
  auto export_dir = [&](const NodeProcess& n) { return a.dir() + "/export-" + n.district(); };
  auto size_of = [](NodeProcess& n) {
    auto res = n.Http().Get("/healthz");
    REQUIRE(res);
    return json::parse(res->body)["size"].get<std::uint64_t>();
  };
  std::map<std::string, std::uint64_t> sizes, exported_sizes;
  for (NodeProcess* n : city) {
    sizes[n->district()] = size_of(*n);
    Ran exported = RunProgram({TIMEBANK_CLI_PATH, "--node", n->url(), "--key", key_file, "--json",
                               "export-log", "--out", export_dir(*n)},
                              {"HOME=/nonexistent"});
    REQUIRE_MESSAGE(exported.exit_code == 0, exported.out << exported.err);
    exported_sizes[n->district()] = json::parse(exported.out)["size"].get<std::uint64_t>();
    CHECK(exported_sizes[n->district()] >= sizes[n->district()]);
  }
  for (NodeProcess* n : city) n->Stop();
  WriteCityFile(city, city_file, [&](const NodeProcess& n) { return "file://" + export_dir(n); });
  Ran files = AuditCity(city_file);
  CHECK_MESSAGE(files.exit_code == 0, files.out << files.err);
  const json from_files = json::parse(files.out, nullptr, false);
  REQUIRE(from_files.is_object());
  CHECK(from_files["ok"] == true);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(from_files["districts"][i]["root"] == report["districts"][i]["root"]);
  // A damaged export is caught: one byte of an entry bundle changed.
  const std::string bundle =
      a.dir() + "/export-510105/tile/entries/000.p/" + std::to_string(exported_sizes["510105"]);
  {
    std::fstream f(bundle, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekp(40);
    f.put('\x5a');
  }
  Ran damaged = AuditCity(city_file);
  CHECK(damaged.exit_code == 5);
  CHECK(json::parse(damaged.out, nullptr, false)["ok"] == false);
}

TEST_CASE("migration under traffic: an account moves home while its deposits arrive everywhere") {
  NodeProcess o("510104"), t("510105"), x("510106");
  std::vector<NodeProcess*> city = {&o, &t, &x};
  const SigningKey auditor = KeyFromByte(99);
  o.Start();
  o.GrantOperator();
  const std::string v = o.Register(1950);
  o.Stop();
  for (NodeProcess* n : city) {
    n->SetConfig("pull_every_seconds", "1");
    n->SetConfig("reader_keys", "[\"" + ToHex(auditor.public_key()) + "\"]");
    for (NodeProcess* p : city)
      if (p != n) n->AddPeer(*p);
  }
  for (NodeProcess* n : city) n->Start();
  t.GrantOperator();
  x.GrantOperator();
  // O holds a copy of T (a home moves only to a district whose log it knows).
  REQUIRE(Eventually([&] {
    const json peers = Peers(o);
    for (const json& p : peers["peers"])
      if (p["district"] == "510105" && p["replica_size"].get<std::uint64_t>() > 0) return true;
    return false;
  }));
  // Deposits for her at all three districts, while O moves her home to T.
  std::atomic<Minutes> acked{0};
  std::atomic<int> deposits_done{0}, failed{0};
  auto serve = [&](NodeProcess& at, int seed) {
    for (int i = 0; i < 25; ++i) {
      const Minutes m = 1 + (seed + i) % 5;
      auto [status, body] = at.SubmitOne(at.Entry(Deposit{v, "", "meals", m, Now() - 3600, ""}));
      if (status == 200)
        acked += m;
      else
        ++failed;
      ++deposits_done;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  std::vector<std::thread> traffic;
  for (int i = 0; i < 3; ++i) traffic.emplace_back(serve, std::ref(*city[i]), i);
  while (deposits_done < 20) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto [moved, body] = o.SubmitOne(o.Entry(Migrate{v, "510105"}));
  for (auto& th : traffic) th.join();
  REQUIRE_MESSAGE(moved == 200, body.dump());
  CHECK(failed == 0);
  // Every acknowledged minute reaches her new home, once; her old home keeps none.
  CHECK_MESSAGE(Eventually([&] { return BalanceAt(t, v) == acked; }, 40),
                BalanceAt(t, v) << " != " << acked.load());
  auto [st, at_o] = o.SignedGet("/v1/accounts/" + v);
  REQUIRE(st == 200);
  CHECK(at_o["balance_minutes"] == 0);
  CHECK(at_o["moved_to"] == "510105");
  // T debits her now — a hold served in X goes to T; one addressed to O is refused there.
  auto [held, hb] = x.SubmitOne(t.Entry(Hold{v, 10, Now() + 3600, "meals", "510106"}, &x.op()));
  CHECK_MESSAGE(held == 200, hb.dump());
  auto [old_home, ob] = x.SubmitOne(o.Entry(Hold{v, 10, Now() + 3600, "meals", "510106"}, &x.op()));
  CHECK(old_home == 422);
  CHECK(ob["error"]["code"] == "not_home_district");
  CHECK(BalanceAt(t, v) == acked - 10);
  // The CLI asks the node where she is homed now and addresses the hold there.
  REQUIRE(Eventually([&] {
    auto [where, wb] = x.SignedGet("/v1/accounts/" + v + "/home");
    return where == 200 && (wb["home"] == "510105" || wb["moving_to"] == "510105");
  }));
  Ran hold = RunProgram({TIMEBANK_CLI_PATH, "--node", x.url(), "--key", x.op_key_file(), "--json",
                         "hold", "--account", v, "--minutes", "5", "--service", "meals"},
                        {"HOME=/nonexistent"});
  CHECK_MESSAGE(hold.exit_code == 0, hold.out << hold.err);
  CHECK(json::parse(hold.out, nullptr, false).value("district", "") == "510105");
  CHECK(BalanceAt(t, v) == acked - 15);
  // And the city's books: nothing in transit once every district has synced.
  const std::string city_file = o.dir() + "/city.toml";
  WriteCityFile(city, city_file, [](const NodeProcess& n) { return n.url(); });
  const std::string key_file = o.dir() + "/auditor.key";
  REQUIRE(auditor.SaveFile(key_file).ok());
  Ran audit = AuditCity(city_file, key_file);
  CHECK_MESSAGE(audit.exit_code == 0, audit.out << audit.err);
  const json report = json::parse(audit.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["in_transit_minutes"] == 0);

  // The city office's file becomes each district's city list: the audit still passes.
  auto policy_set = [&](const NodeProcess& n, const std::string& file) {
    return RunProgram({TIMEBANK_CLI_PATH, "--node", n.url(), "--key", n.dir() + "/root.key",
                       "--lang", "en", "policy", "set", "--city", file},
                      {"HOME=/nonexistent"});
  };
  for (const NodeProcess* n : city) REQUIRE(policy_set(*n, city_file).exit_code == 0);
  CHECK(AuditCity(city_file, key_file).exit_code == 0);
  // A city file that leaves O out is not taken into O's policy.
  const std::string without_o = city_file + ".without-o";
  WriteCityFile({&t, &x}, without_o, [](const NodeProcess& n) { return n.url(); });
  Ran left_out = policy_set(o, without_o);
  CHECK(left_out.exit_code == 2);
  CHECK_MESSAGE(
      left_out.err.find("does not list this district (" + o.district() + ")") != std::string::npos,
      left_out.err);
  // O lists X under a key X does not sign with: O's node raises an alert (its syncs of X
  // would be refused), and the audit names the disagreement.
  std::string wrong = city_file + ".wrong";
  {
    std::ifstream in(city_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string xkey = x.VerifierKey();
    text.replace(text.find(xkey), xkey.size(),
                 FormatVerifierKey("timebank.test/510106", KeyFromByte(99).public_key()));
    std::ofstream(wrong) << text;
  }
  REQUIRE(policy_set(o, wrong).exit_code == 0);
  auto alerts = json::parse(o.Http().Get("/v1/alerts")->body);
  REQUIRE(alerts["alerts"].size() == 1);
  CHECK(alerts["alerts"][0]["kind"] == "peer_key_mismatch");
  Ran mismatch = AuditCity(city_file, key_file);
  CHECK(mismatch.exit_code == 5);
  CHECK_MESSAGE(mismatch.out.find("lists district 510106 under the key") != std::string::npos,
                mismatch.out);
}

TEST_CASE("offline: hours set aside for a district are spent there while the home is down") {
  NodeProcess h("510104"), x("510105");
  h.Start();
  h.GrantOperator();
  const std::string elder = h.Register(1945);
  REQUIRE(h.SubmitOne(h.Entry(Deposit{elder, "", "meals", 100, Now() - 3600, ""})).first == 200);
  h.Stop();
  for (NodeProcess* n : {&h, &x}) n->SetConfig("pull_every_seconds", "1");
  h.AddPeer(x);
  x.AddPeer(h);
  h.Start();
  x.Start();
  x.GrantOperator();
  // Her home sets 60 minutes aside for care in X for two days; X's node learns of it.
  const std::string aside = h.Entry(Hold{elder, 60, Now() + 2 * 86400, "meals", "510105"});
  auto [set, sb] = h.SubmitOne(aside);
  REQUIRE(set == 200);
  const std::uint64_t aside_index = sb["index"].get<std::uint64_t>();
  const std::string hold_id = ToHex(DecodeEntry(aside).value().body.id);
  REQUIRE(Eventually([&] {
    const json p = Peers(x)["peers"];
    return p.size() == 1 && p[0]["synced_size"].get<std::uint64_t>() > aside_index;
  }));
  // X's operator sees what was set aside for care here.
  auto [listed, lb] = x.SignedGet("/v1/set-asides?account=" + elder);
  REQUIRE(listed == 200);
  REQUIRE(lb["set_asides"].size() == 1);
  CHECK(lb["set_asides"][0]["hold_id"] == hold_id);
  CHECK(lb["set_asides"][0]["minutes"] == 60);
  CHECK(lb["set_asides"][0]["claimed_minutes"] == 0);
  // The home goes down. A redemption through it is refused; the set-aside is claimed.
  h.Stop();
  auto [refused, rb] =
      x.SubmitOne(h.Entry(Hold{elder, 10, Now() + 3600, "meals", "510105"}, &x.op()));
  CHECK(refused == 503);
  Ran claim = RunProgram({TIMEBANK_CLI_PATH, "--node", x.url(), "--key", x.op_key_file(), "--json",
                          "claim", hold_id, "--home", "510104", "--minutes", "40"},
                         {"HOME=/nonexistent"});
  CHECK_MESSAGE(claim.exit_code == 0, claim.out << claim.err);
  Ran again = RunProgram({TIMEBANK_CLI_PATH, "--node", x.url(), "--key", x.op_key_file(), "--json",
                          "claim", hold_id, "--home", "510104", "--minutes", "40"},
                         {"HOME=/nonexistent"});
  CHECK(again.exit_code != 0);
  CHECK(again.out.find("hold_closed") != std::string::npos);
  // Back up, the home syncs X and posts the hold once: 100 - 40.
  h.Start();
  CHECK(Eventually([&] { return BalanceAt(h, elder) == 60; }, 30));
  auto res = h.Http().Get("/v1/stats");
  REQUIRE(res);
  CHECK(json::parse(res->body)["redeemed_minutes"] == 40);
  CHECK(Peers(h)["peers"][0]["unpaid_claim_minutes"] == 0);
}

TEST_CASE("a copy of a peer's log that the disk refuses to write: said, and healed by a restart") {
  NodeProcess h("510104"), x("510105");
  h.SetConfig("pull_every_seconds", "1");
  h.AddPeer(x);
  x.AddPeer(h);  // (so that X lets H read its log)
  h.Start();
  x.Start();
  x.GrantOperator();
  const std::string xv = x.Register(1962);
  auto x_size = [&] { return json::parse(x.Http().Get("/v1/info")->body)["size"]; };
  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["replica_size"] == x_size(); }));
  // H may not write a file past a little more than it holds now; X's log grows past that.
  const rlimit limit{LargestFile(h.dir()) + 64 * 1024, RLIM_INFINITY};
  REQUIRE(::prlimit(h.pid(), RLIMIT_FSIZE, &limit, nullptr) == 0);
  auto failed = [&] {
    auto health = h.Http().Get("/healthz");
    return health && health->status == 503;
  };
  for (int batch = 0; batch < 200 && !failed(); ++batch) {
    std::vector<std::string> entries;
    for (int i = 0; i < 32; ++i)
      entries.push_back(x.Entry(Deposit{xv, "", "meals", 1, Now() - 60, ""}));
    REQUIRE(x.Submit(entries).first == 200);
    if (batch % 8 == 7) Eventually(failed, 2);  // (pulls come every second)
  }
  REQUIRE(Eventually(failed));
  const json why = json::parse(h.Http().Get("/healthz")->body);
  CHECK(why["error"]["code"] == "io_error");
  CHECK(why["error"]["message"].get<std::string>().find("district 510105") != std::string::npos);
  CHECK(h.Http().Get("/metrics")->body.find("timebank_peer_copy_failed{district=\"510105\"} 1") !=
        std::string::npos);
  CHECK(Peers(h)["peers"][0]["last_error"].get<std::string>().find("io_error: ") == 0);
  // H's own ledger is sound: its metric stays 0.
  CHECK(h.Http().Get("/metrics")->body.find("\ntimebank_ledger_failed 0\n") != std::string::npos);
  CHECK(Peers(h)["peers"][0]["replica_size"] < x_size());
  // Restarted (no limit now): healthy, and the copy catches up.
  h.Stop();
  h.Start();
  CHECK(Eventually([&] { return Peers(h)["peers"][0]["replica_size"] == x_size(); }));
  CHECK(h.Http().Get("/healthz")->status == 200);
}

TEST_CASE("a long copy is synced as it grows: credits count here before the copy ends") {
  NodeProcess h("510104"), x("510105");
  h.SetConfig("sync_during_copy_entries", "4096");
  // More entries than one batch of the copy (64 tiles of 256), so that H's copy, when it
  // comes back, goes in several batches.
  constexpr int kEntries = 20480;
  const std::string hv = ServedWhileHomeDown(h, x, kEntries);
  const std::uint64_t x_size = json::parse(x.Http().Get("/v1/info")->body)["size"];
  h.Start();
  REQUIRE(Eventually([&] { return BalanceAt(h, hv) == kEntries; }, 120));
  // H's log: a sync of X queued during the copy (short of X's size), then the one at the end.
  const std::uint64_t h_size = json::parse(h.Http().Get("/v1/info")->body)["size"];
  std::vector<std::uint64_t> synced;
  for (std::uint64_t i = 0; i < h_size; ++i) {
    auto [status, j] = h.SignedGet("/v1/entries/" + std::to_string(i));
    REQUIRE(status == 200);
    if (j["decoded"]["kind"] == "sync") synced.push_back(j["decoded"]["body"]["size"]);
  }
  REQUIRE(synced.size() >= 2);
  CHECK(synced.front() < x_size);
  CHECK(synced.back() == x_size);
  for (std::size_t i = 1; i < synced.size(); ++i) CHECK(synced[i] > synced[i - 1]);
}

TEST_CASE("SIGTERM during a long copy: the node stops cleanly, and the copy goes on after") {
  NodeProcess h("510104"), x("510105");
  constexpr int kEntries = 40960;  // ten batches of the copy
  const std::string hv = ServedWhileHomeDown(h, x, kEntries);
  h.Start();
  REQUIRE(Eventually([&] { return Peers(h)["peers"][0]["replica_size"] > 0; }));
  CHECK(h.Stop(SIGTERM) == 0);  // (here in the middle of the copy: the first batch is 16,384)
  h.Start();
  CHECK(Eventually([&] { return BalanceAt(h, hv) == kEntries; }, 120));
  const json peer = Peers(h)["peers"][0];
  CHECK(peer["replica_size"] == json::parse(x.Http().Get("/v1/info")->body)["size"]);
  CHECK(peer["last_error"] == "");
}
