// timebankd — a district's time-bank node.
//
//   timebankd init --dir DIR --district 510104 --name 锦江区时间银行 --origin ORIGIN [--city C]
//   timebankd --config DIR/timebankd.toml
//   timebankd openapi            (prints the API reference generated from the route table)
#include <pthread.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "config.h"
#include "node.h"

using namespace timebank::node;

namespace {

// %* in a pattern: the message as the inside of a JSON string (quotes, backslashes and
// control characters escaped), so that every JSON log line parses.
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char ch : std::string_view(msg.payload.data(), msg.payload.size())) {
      if (ch == '"' || ch == '\\') {
        dest.push_back('\\');
        dest.push_back(ch);
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        const std::string u = fmt::format("\\u{:04x}", static_cast<int>(ch));
        dest.append(u.data(), u.data() + u.size());
      } else {
        dest.push_back(ch);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

// Logs go to stderr, as text or one JSON object per line.
void SetUpLogging(const NodeConfig& c) {
  auto logger = spdlog::stderr_logger_mt("timebankd");
  if (c.log_format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<JsonMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","pid":%P,"msg":"%*"})");
    logger->set_formatter(std::move(f));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  }
  logger->set_level(spdlog::level::from_str(c.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

int Run(const std::string& config_path) {
  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "timebankd: %s\n", config.status().ToString().c_str());
    return 2;
  }
  SetUpLogging(*config);
  // Signals are taken by a sigwait below, never by a handler: block them in every thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f) fails a write like a full disk (EFBIG instead of ENOSPC)
  // rather than killing the node: the ledger refuses entries and /healthz says why.
  signal(SIGXFSZ, SIG_IGN);

  auto node = Node::Start(*config);
  if (!node.ok()) {
    spdlog::error("cannot start: {}", node.status().ToString());
    // (Said on standard error too when the log level keeps errors out of the log.)
    if (!spdlog::default_logger()->should_log(spdlog::level::err))
      std::fprintf(stderr, "timebankd: cannot start: %s\n", node.status().ToString().c_str());
    return 1;
  }
  spdlog::info("district {} serving on {}:{} (data {})", config->district.code, config->listen_host,
               (*node)->port(), config->data_dir);
  std::thread server([&] {
    if (!(*node)->Serve()) spdlog::error("the listener failed");
  });
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: finishing requests in flight", sig);
  (*node)->Stop();
  server.join();
  node->reset();  // closes the ledger after its last commit
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"timebankd — a district's time-bank node (时间银行节点)"};
  app.require_subcommand(0, 1);
  std::string config_path = "timebankd.toml";
  app.add_option("-c,--config", config_path, "config file")->capture_default_str();

  auto* init = app.add_subcommand("init", "create a district: keys, genesis and config");
  std::string dir, listen = "127.0.0.1:8420";
  DistrictConfig d;
  init->add_option("--dir", dir, "directory for the node (created)")->required();
  init->add_option("--district", d.code, "6-digit district code, e.g. 510104")->required();
  init->add_option("--name", d.name, "the bank's name, e.g. 锦江区时间银行")->required();
  init->add_option("--city", d.city, "6-digit city code, e.g. 510100");
  init->add_option("--origin", d.origin, "checkpoint origin (default timebank.<city>/<district>)");
  init->add_option("--listen", listen, "host:port")->capture_default_str();

  auto* openapi = app.add_subcommand("openapi", "print the OpenAPI reference of the HTTP API");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*openapi) {
    std::fputs(OpenApiDocument().c_str(), stdout);
    return 0;
  }
  if (*init) {
    if (d.origin.empty())
      d.origin = "timebank." + (d.city.empty() ? "city" : d.city) + "/" + d.code;
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "timebankd init: --listen must be host:port\n");
      return 2;
    }
    std::string out;
    auto s =
        InitDistrict(dir, d, listen.substr(0, colon), std::atoi(listen.c_str() + colon + 1), &out);
    if (!s.ok()) {
      std::fprintf(stderr, "timebankd init: %s\n", s.ToString().c_str());
      return 1;
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  return Run(config_path);
}
