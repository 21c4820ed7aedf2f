#include "node_process.h"

#include "ledger/checkpoint.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace ledger::testing {

using timebank::api::json;

int FreePort() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  return out;
}

}  // namespace

Ran RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int out[2], err[2];
  REQUIRE(::pipe(out) == 0);
  REQUIRE(::pipe(err) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::close(out[0]);
    ::close(err[0]);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  Ran r;
  std::thread t([&] { r.err = ReadAll(err[0]); });
  r.out = ReadAll(out[0]);
  t.join();
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

NodeProcess::NodeProcess(std::string district)
    : district_(std::move(district)),
      op_(KeyFromByte(static_cast<std::uint8_t>(33 + std::stoul(district_) % 100))) {
  port_ = FreePort();
  Ran init = RunProgram({TIMEBANKD_PATH, "init", "--dir", dir(), "--district", district_, "--name",
                         "测试区时间银行", "--city", "510100", "--listen",
                         "127.0.0.1:" + std::to_string(port_)});
  REQUIRE_MESSAGE(init.exit_code == 0, init.err);
  auto root = SigningKey::LoadFile(dir() + "/root.key");
  REQUIRE(root.ok());
  root_ = std::make_unique<SigningKey>(std::move(root).value());
  // The test's operator key, as a key file the CLI can use.
  REQUIRE(op_.SaveFile(op_key_file()).ok());
  SetConfig("level", "\"warn\"");
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) Stop(9);
}

void NodeProcess::SetConfig(const std::string& key, const std::string& value) {
  const std::string path = dir() + "/timebankd.toml";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str(), out;
  std::istringstream lines(text);
  bool done = false;
  for (std::string line; std::getline(lines, line);) {
    if (!done && line.rfind(key + " =", 0) == 0) {
      line = key + " = " + value;
      done = true;
    }
    out += line + "\n";
  }
  REQUIRE_MESSAGE(done, "no setting " << key);
  std::ofstream(path, std::ios::trunc) << out;
}

void NodeProcess::AppendConfig(const std::string& text) {
  std::ofstream(dir() + "/timebankd.toml", std::ios::app) << "\n" << text << "\n";
}

std::string NodeProcess::VerifierKey() const {
  auto key = SigningKey::LoadFile(dir() + "/log.key");
  REQUIRE(key.ok());
  std::ifstream in(dir() + "/timebankd.toml");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("origin = \"", 0) == 0) {
      const std::string origin = line.substr(10, line.find('"', 10) - 10);
      return FormatVerifierKey(origin, key->public_key());
    }
  FAIL("no origin in the config");
  return "";
}

void NodeProcess::AddPeer(const NodeProcess& other, std::vector<std::string> urls) {
  if (urls.empty()) urls.push_back(other.url());
  std::string list;
  for (const auto& u : urls) list += (list.empty() ? "\"" : ", \"") + u + "\"";
  AppendConfig("[[peers]]\ncode = \"" + other.district() +
               "\"\nname = \"peer\"\nverifier_key = \"" + other.VerifierKey() + "\"\nurls = [" +
               list + "]");
}

void NodeProcess::Start(bool tls) {
  REQUIRE(pid_ <= 0);
  const std::string config = dir() + "/timebankd.toml";
  const std::string log = dir() + "/node.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    ::execl(TIMEBANKD_PATH, TIMEBANKD_PATH, "--config", config.c_str(), nullptr);
    ::_exit(127);
  }
  httplib::SSLClient https("127.0.0.1", port_);
  https.enable_server_certificate_verification(false);
  auto http = Http();
  for (int i = 0; i < 200; ++i) {
    if (auto r = tls ? https.Get("/healthz") : http.Get("/healthz"); r && r->status == 200) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("timebankd exited at start; see " << log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("timebankd did not answer /healthz in 5 s");
}

int NodeProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

httplib::Client NodeProcess::Http() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(30, 0);
  c.set_tcp_nodelay(true);
  return c;
}

void NodeProcess::GrantOperator() {
  auto [status, j] = SubmitOne(Entry(
      Grant{op_.public_key(), {Role::kRegistrar, Role::kRecorder, Role::kRedeemer}, "test desk"},
      root_.get()));
  REQUIRE_MESSAGE(status == 200, j.dump());
}

std::string NodeProcess::Entry(EntryKind kind, const SigningKey* signer) const {
  EntryBody body{NewEntryId(), district_, Now(), "", std::move(kind)};
  return MakeEntry(body, {signer ? signer : &op_});
}

std::pair<int, json> NodeProcess::Submit(const std::vector<std::string>& entries) const {
  json list = json::array();
  for (const auto& e : entries) list.push_back(Base64Encode(e));
  auto r = Http().Post("/v1/entries", json{{"entries", list}}.dump(), "application/json");
  REQUIRE(r);
  return {r->status, json::parse(r->body, nullptr, false)};
}

std::pair<int, json> NodeProcess::SubmitOne(const std::string& entry) const {
  auto r =
      Http().Post("/v1/entries", json{{"entry", Base64Encode(entry)}}.dump(), "application/json");
  REQUIRE(r);
  return {r->status, json::parse(r->body, nullptr, false)};
}

std::string NodeProcess::Register(std::uint32_t birth_year, const SigningKey* owner) {
  const std::string account = MakeAccountNumber(district_, ++serial_).value();
  std::string owner_key;
  if (owner) owner_key.assign(reinterpret_cast<const char*>(owner->public_key().data()), 32);
  Open open{account, AccountKind::kPerson, birth_year, "", "", owner_key, {}, false, 0};
  open.commitment = RealNameCommitment({"测试", "000", "000"}, "salt");
  auto [status, j] = SubmitOne(Entry(open));
  REQUIRE_MESSAGE(status == 200, j.dump());
  return account;
}

std::pair<int, json> NodeProcess::SignedGet(const std::string& target,
                                            const SigningKey* key) const {
  auto sig = api::SignRequest(key ? *key : op_, "GET", target, Now(), "");
  auto r = Http().Get(target, {{api::kKeyHeader, sig.key},
                               {api::kTimeHeader, sig.time},
                               {api::kNonceHeader, sig.nonce},
                               {api::kSignatureHeader, sig.signature}});
  REQUIRE(r);
  return {r->status, json::parse(r->body, nullptr, false)};
}

std::string NodeProcess::CheckpointRoot() const {
  auto r = Http().Get("/v1/checkpoint");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  // origin \n size \n root \n
  std::istringstream lines(r->body);
  std::string origin, size, root;
  std::getline(lines, origin);
  std::getline(lines, size);
  std::getline(lines, root);
  return size + "/" + root;
}

}  // namespace ledger::testing
