// The node's life: init steps, the HTTP server around the route table, shutdown.
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "node_impl.h"

namespace timebank::node {

using namespace ledger;
using api::json;
namespace codes = api::codes;
namespace fs = std::filesystem;

void RateWindow::Add(std::uint64_t n) {
  const std::int64_t now = UnixNow();
  std::lock_guard lk(mu_);
  if (buckets_.empty() || buckets_.back().first != now) buckets_.emplace_back(now, 0);
  buckets_.back().second += n;
  while (buckets_.size() > 1 && buckets_.front().first < now - 10) buckets_.erase(buckets_.begin());
}

double RateWindow::PerSecond() {
  const std::int64_t now = UnixNow();
  std::lock_guard lk(mu_);
  std::uint64_t total = 0;
  for (const auto& [t, n] : buckets_)
    if (t >= now - 10 && t < now) total += n;
  return total / 10.0;
}

namespace {

// Counts connections: httplib hands each accepted connection to the task queue as one task.
class CountingPool : public httplib::TaskQueue {
 public:
  CountingPool(std::size_t threads, Metrics* m) : pool_(threads), m_(m) {}
  void enqueue(std::function<void()> fn) override {
    ++m_->connections_total;
    ++m_->open_connections;
    pool_.enqueue([fn = std::move(fn), m = m_] {
      fn();
      --m->open_connections;
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  Metrics* m_;
};

Status Fail(Code code, std::string msg) {
  return Status(code, std::move(msg));
}

// Step 1: one node per data directory. The lock lives as long as the process (or the Node).
Result<int> LockDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(Code::kIoError, fmt::format("cannot create {}: {}", dir, ec.message()));
  const std::string path = dir + "/timebankd.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Code::kIoError, fmt::format("cannot open {}", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    [[maybe_unused]] auto n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    return Fail(Code::kIoError,
                fmt::format("{} is in use by another timebankd (pid {})", dir,
                            std::string(pid).substr(0, std::string(pid).find('\n'))));
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] auto t = ::ftruncate(fd, 0);
  [[maybe_unused]] auto w = ::pwrite(fd, me.data(), me.size(), 0);
  return fd;
}

}  // namespace

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status(Code::kIoError, fmt::format("cannot create {}", path));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status(Code::kIoError, fmt::format("cannot write {}", path));
}

void Node::Impl::ExpireLoop() {
  const auto every = std::chrono::seconds(config.expire_holds_every_seconds);
  std::unique_lock lk(expirer_mu);
  while (!expirer_cv.wait_for(lk, every, [&] { return expirer_stop; })) {
    lk.unlock();
    const std::int64_t now = UnixNow();
    auto due = ledger->ExpiredHolds(now, 1000);
    if (!due.ok()) {
      spdlog::error("listing expired holds: {}", due.status().ToString());
    } else if (!due->empty()) {
      std::vector<std::string> entries;
      for (const EntryId& id : *due) {
        EntryBody body{NewEntryId(), config.district.code, now, "", HoldExpire{id}};
        entries.push_back(MakeEntry(body, {log_key.get()}));
      }
      std::size_t released = 0;
      for (const auto& r : ledger->Append(entries)) {
        if (r.ok()) {
          ++released;
        } else {
          spdlog::warn("expiring a hold: {}", r.status().ToString());
        }
      }
      metrics.entries_appended += released;
      rate.Add(released);
      spdlog::info("released {} expired hold(s)", released);
    }
    lk.lock();
  }
}

Status Node::Impl::LedgerHealth() {
  Status first;  // the ledger's failure, else the first copy's; each is logged once
  if (Status own = ledger->Health(); !own.ok()) {
    if (!ledger_failure_logged.exchange(true))
      spdlog::error(
          "the ledger takes no entries since a failure: {}. Reads go on; restart timebankd "
          "once the cause (disk space, disk errors) is fixed, and clients send the refused "
          "entries again",
          own.ToString());
    first =
        Status(own.code(), "the ledger takes no entries since a failure (" + own.message() + ")");
  }
  for (auto& p : peers) {
    Status copy = p->replica->Health();
    if (copy.ok()) continue;
    if (!p->copy_failure_logged.exchange(true))
      spdlog::error(
          "the copy of district {}'s log takes no entries since a failure: {}. It is served as "
          "far as it goes; restart timebankd once the cause (disk space, disk errors) is fixed",
          p->config.code, copy.ToString());
    if (first.ok())
      first = Status(copy.code(), fmt::format("the copy of district {}'s log takes no entries "
                                              "since a failure ({})",
                                              p->config.code, copy.message()));
  }
  return first;
}

void Node::Impl::StopExpirer() {
  {
    std::lock_guard lk(expirer_mu);
    expirer_stop = true;
  }
  expirer_cv.notify_all();
  if (expirer.joinable()) expirer.join();
}

Node::Impl::~Impl() {
  StopPuller();
  StopExpirer();
  server.reset();
  peers.clear();
  ledger.reset();  // drains commits in flight
  if (lock_fd >= 0) ::close(lock_fd);
}

// One request: access check, the route's handler, metrics and a debug log line.
void Node::Impl::Answer(const Route& route, const httplib::Request& req, httplib::Response& res) {
  const auto start = std::chrono::steady_clock::now();
  Call call{req, res, route, std::nullopt};
  if (Authorize(call)) route.handler(*this, call);
  const auto status = res.status;
  metrics.CountRequest(route.name, status);
  if (!call.error_code.empty()) metrics.CountError(call.error_code);
  metrics.request_latency.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  spdlog::debug("{} {} -> {}", req.method, req.target, status);
}

void Node::Impl::RegisterRoutes() {
  server->new_task_queue = [this] {
    return new CountingPool(static_cast<std::size_t>(config.http_threads), &metrics);
  };
  server->set_payload_max_length(config.max_body_bytes);
  server->set_read_timeout(config.read_timeout_seconds, 0);
  server->set_write_timeout(config.write_timeout_seconds, 0);
  server->set_keep_alive_timeout(config.keep_alive_seconds);
  server->set_keep_alive_max_count(100000);
  // Answers go out at once (no Nagle wait for a delayed ACK: 40 ms a request otherwise).
  server->set_tcp_nodelay(true);

  std::map<std::string, std::vector<std::string>> methods_of;  // pattern -> methods
  for (const Route& r : Routes()) methods_of[r.pattern].push_back(r.method);

  for (const Route& route : Routes()) {
    auto handler = [this, &route](const httplib::Request& req, httplib::Response& res) {
      Answer(route, req, res);
    };
    const std::string m = route.method;
    if (m == "GET")
      server->Get(route.pattern, handler);
    else if (m == "POST")
      server->Post(route.pattern, handler);
    else if (m == "PUT")
      server->Put(route.pattern, handler);
    else if (m == "DELETE")
      server->Delete(route.pattern, handler);
  }
  RegisterMethodNotAllowed(methods_of);
  RegisterErrorHandlers();
}

// A known path with another method: 405 and the methods it has.
void Node::Impl::RegisterMethodNotAllowed(
    const std::map<std::string, std::vector<std::string>>& methods_of) {
  for (const auto& [pattern, methods] : methods_of) {
    std::string allow;
    for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    auto not_allowed = [allow](const httplib::Request& req, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", allow);
      res.set_content(
          api::ErrorBody(codes::kMethodNotAllowed,
                         fmt::format("{} is not allowed here; use {}", req.method, allow))
              .dump(),
          "application/json");
    };
    for (const char* m : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
      if (std::find(methods.begin(), methods.end(), m) != methods.end()) continue;
      const std::string mm = m;
      if (mm == "GET") server->Get(pattern, not_allowed);
      if (mm == "POST") server->Post(pattern, not_allowed);
      if (mm == "PUT") server->Put(pattern, not_allowed);
      if (mm == "DELETE") server->Delete(pattern, not_allowed);
      if (mm == "PATCH") server->Patch(pattern, not_allowed);
    }
  }
}

namespace {

// The segment after /v1/accounts/ (empty for other paths).
std::string_view AccountInPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/v1/accounts/";
  if (!path.starts_with(kPrefix)) return {};
  path.remove_prefix(kPrefix.size());
  return path.substr(0, path.find('/'));
}

// Whether `a` is what the account routes take (kAccountPattern).
bool LooksLikeAccount(std::string_view a) {
  static const std::regex account(kAccountPattern);
  return std::regex_match(a.begin(), a.end(), account);
}

}  // namespace

// Whatever httplib answers on its own (no route, body too large, bad request line) gets
// the error envelope too; a handler that throws answers 500 and is logged.
void Node::Impl::RegisterErrorHandlers() {
  server->set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string code = codes::kBadRequest, message = "the request could not be read";
        const std::string_view account = AccountInPath(req.path);
        if (res.status == 404 && !account.empty() && !LooksLikeAccount(account)) {
          // The account routes take only account numbers: anything else there is a bad
          // account number (as in an entry), not a missing route.
          res.status = 400;
          code = std::string(ledger::CodeName(Code::kBadAccountNumber));
          message = fmt::format(
              "{} is not an account number (15 digits, or <district>.<name> for a district's own "
              "accounts)",
              account);
        } else if (res.status == 404) {
          code = codes::kUnknownRoute;
          message = fmt::format("no route {} {} (see docs/api.md)", req.method, req.path);
        } else if (res.status == 413) {
          code = codes::kBodyTooLarge;
          message = fmt::format("request bodies are limited to {} bytes", config.max_body_bytes);
        }
        metrics.CountError(code);
        metrics.CountRequest("none", res.status);
        res.set_content(api::ErrorBody(code, message).dump(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  server->set_exception_handler(
      [this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("handler failed: {}", what);
        metrics.CountError("internal");
        res.status = 500;
        res.set_content(api::ErrorBody("internal", "the node failed to answer").dump(),
                        "application/json");
      });
}

ledger::Result<std::unique_ptr<Node>> Node::Start(const NodeConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  // 1. Lock the data directory.
  auto fd = LockDataDir(config.data_dir);
  if (!fd.ok()) return fd.status();
  impl->lock_fd = *fd;
  // 2. The log key.
  auto key = SigningKey::LoadFile(config.log_key_file);
  if (!key.ok())
    return Fail(key.code(),
                fmt::format("log key {}: {}", config.log_key_file, key.status().message()));
  // 3. The ledger.
  Options options;
  options.create_if_missing = false;
  impl->log_key = std::make_shared<const SigningKey>(std::move(key).value());
  options.log_key = impl->log_key;
  options.max_clock_skew_seconds = config.max_clock_skew_seconds;
  options.peers = impl->peer_logs;
  auto opened = Ledger::Open(options, config.data_dir + "/ledger");
  if (!opened.ok()) return opened.status();
  impl->ledger = std::move(opened).value();
  // 3b. Copies of the other districts' logs.
  if (Status s = impl->OpenPeers(); !s.ok()) return s;
  auto facts = impl->ledger->GetDistrictInfo();
  if (!facts.ok()) return facts.status();
  if (facts->district != config.district.code)
    return Fail(Code::kInvalidArgument,
                fmt::format("config names district {}, the ledger in {} is district {}",
                            config.district.code, config.data_dir, facts->district));
  for (const auto& hex : config.reader_keys) {
    PublicKey k;
    FromHex(hex, &k);
    impl->reader_keys.insert(k);
  }
  impl->replay = std::make_unique<ReplayGuard>(config.replay_window_seconds);
  // 4. The listener.
  if (!config.tls_cert_file.empty())
    impl->server = std::make_unique<httplib::SSLServer>(config.tls_cert_file.c_str(),
                                                        config.tls_key_file.c_str());
  else
    impl->server = std::make_unique<httplib::Server>();
  if (!impl->server->is_valid())
    return Fail(Code::kInvalidArgument, "TLS certificate or key could not be loaded");
  impl->RegisterRoutes();
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which lets a second node
  // listen on the same port and take part of this one's requests.
  impl->server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // The port first: the puller's outgoing connections take ephemeral ports, and one of
  // them could otherwise be the port this node is about to listen on.
  errno = 0;
  if (config.listen_port == 0) {
    impl->port = impl->server->bind_to_any_port(config.listen_host);
  } else {
    if (impl->server->bind_to_port(config.listen_host, config.listen_port))
      impl->port = config.listen_port;
  }
  if (impl->port <= 0)
    return Fail(Code::kIoError,
                fmt::format("cannot listen on {}:{}{}", config.listen_host, config.listen_port,
                            errno == EADDRINUSE ? ": the address is in use (another node?)"
                            : errno != 0        ? std::string(": ") + std::strerror(errno)
                                                : std::string()));
  if (config.expire_holds_every_seconds > 0)
    impl->expirer = std::thread([p = impl.get()] { p->ExpireLoop(); });
  for (const auto& a : impl->CityAlerts()) spdlog::error("city list: {}", a.value("message", ""));
  if (!impl->peers.empty()) impl->puller = std::thread([p = impl.get()] { p->PullLoop(); });
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

bool Node::Serve() {
  return impl_->server->listen_after_bind();
}

void Node::Stop() {
  impl_->stopping = true;
  impl_->StopExpirer();
  impl_->server->stop();
}

int Node::port() const {
  return impl_->port;
}

Status InitDistrict(const std::string& dir, const DistrictConfig& d, const std::string& host,
                    int port, std::string* out) {
  const std::string config_path = dir + "/timebankd.toml";
  if (fs::exists(config_path))
    return Fail(Code::kInvalidArgument, fmt::format("{} already holds a node", dir));
  if (!IsDistrictCode(d.code) || (!d.city.empty() && !IsDistrictCode(d.city)))
    return Fail(Code::kInvalidArgument, "district and city codes are 6 digits");
  for (const std::string* s : {&d.name, &d.origin})
    if (s->find_first_of("\"\\\n") != std::string::npos)
      return Fail(Code::kInvalidArgument, "names may not contain quotes, backslashes or newlines");
  // A failed init takes away exactly what it made — the key files, the new store, and the
  // directories it created if they are empty again — so that it can be run again as it is
  // once the mistake is corrected. (Nothing that was there before is touched.)
  struct Undo {
    std::vector<fs::path> files, stores, dirs;  // dirs: deepest first
    bool keep = false;
    ~Undo() {
      if (keep) return;
      std::error_code ignored;
      for (const auto& f : files) fs::remove(f, ignored);
      for (const auto& s : stores) fs::remove_all(s, ignored);
      for (const auto& d : dirs) fs::remove(d, ignored);  // only if empty
    }
  } undo;
  auto missing = [](fs::path p, std::vector<fs::path>* out) {  // p and its missing parents
    std::error_code ec;
    for (; !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path())
      out->push_back(p);
  };
  std::error_code ec;
  const fs::path data = (fs::absolute(dir, ec) / "data").lexically_normal();  // (no "x/..")
  missing(data, &undo.dirs);
  fs::create_directories(dir, ec);
  if (ec) return Fail(Code::kIoError, fmt::format("cannot create {}", dir));
  const SigningKey root = SigningKey::Generate();
  const auto log = std::make_shared<const SigningKey>(SigningKey::Generate());
  if (Status s = root.SaveFile(dir + "/root.key"); !s.ok()) return s;
  undo.files.push_back(dir + "/root.key");
  if (Status s = log->SaveFile(dir + "/log.key"); !s.ok()) return s;
  undo.files.push_back(dir + "/log.key");
  auto fd = LockDataDir(dir + "/data");
  if (!fd.ok()) return fd.status();
  struct Closer {  // (closed before the undo runs, on every path)
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } lock{*fd};
  // The lock file is this init's only when it made the directory that holds it.
  if (std::find(undo.dirs.begin(), undo.dirs.end(), data) != undo.dirs.end())
    undo.files.push_back(data / "timebankd.lock");
  if (!fs::exists(data / "ledger")) undo.stores.push_back(data / "ledger");
  Status result;
  {
    Options options;
    options.log_key = log;
    auto ledger = Ledger::Open(options, dir + "/data/ledger");
    if (!ledger.ok()) return ledger.status();
    Policy policy;  // the city's defaults; changed later by policy entries
    policy.services = {{"meals", 1000},         {"cleaning", 1000},   {"medical_escort", 1500},
                       {"companionship", 1000}, {"daily_care", 1000}, {"emotional_support", 1000}};
    policy.balance_cap = 1500 * 60;
    policy.min_age_serve = 18;
    policy.min_age_redeem = 60;
    policy.gift_scope = GiftScope::kRelativesAndFriends;
    policy.max_hold_seconds = 7 * 86400;
    policy.pool_min_need = 2;
    EntryBody body{NewEntryId(), d.code, UnixNow(), "",
                   Genesis{d.name, d.city, root.public_key(), log->public_key(), d.origin, policy}};
    auto r = (*ledger)->Append(MakeEntry(body, {&root}));
    if (!r.ok()) result = r.status();
  }
  ::close(lock.fd);
  lock.fd = -1;
  if (!result.ok()) return result;
  if (Status s = WriteNewFile(config_path, DefaultConfigText(d, host, port), 0644); !s.ok())
    return s;
  undo.keep = true;
  *out = fmt::format(
      "created district {} ({}) in {}\n"
      "  config    {}\n"
      "  log key   {}/log.key   (signs checkpoints; the node needs it; mode 0600)\n"
      "  root key  {}/root.key  (民政局 root: grants operators, changes policy — move it "
      "offline)\n"
      "  root public key {}\n"
      "  verifier key    {}\n"
      "                  (checks this district's checkpoints: give it to the city's other\n"
      "                   districts for their [[peers]], and to auditors)\n"
      "start it with: timebankd --config {}\n",
      d.code, d.name, dir, config_path, dir, dir, ToHex(root.public_key()),
      FormatVerifierKey(d.origin, log->public_key()), config_path);
  return Status::Ok();
}

}  // namespace timebank::node
