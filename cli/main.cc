// timebank — the command-line client of a timebankd node (see cli/README.md).
#include <fmt/format.h>
#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>

#include "commands.h"

using namespace timebank::cli;

namespace {

// The global options, and which of them were given as flags (those win over the
// environment and the config file).
struct Globals {
  Settings settings;
  std::string config_file;
  CLI::Option *node = nullptr, *key = nullptr, *verifier_key = nullptr, *lang = nullptr,
              *ca_cert = nullptr;
};

void AddGlobalOptions(CLI::App& app, Globals* g) {
  Settings& s = g->settings;
  g->node = app.add_option("--node", s.node, "node URL (env TIMEBANK_NODE)");
  g->key = app.add_option("--key", s.key_file, "signing key file (env TIMEBANK_KEY)");
  g->verifier_key = app.add_option("--verifier-key", s.verifier_key,
                                   "district checkpoint verifier key (env TIMEBANK_VERIFIER_KEY)");
  g->lang = app.add_option("--lang", s.lang, "zh or en (default from LANG)")
                ->check(CLI::IsMember({"zh", "en"}));
  g->ca_cert = app.add_option("--ca-cert", s.ca_cert,
                              "https: PEM file of the CA to trust (env TIMEBANK_CA_CERT)");
  app.add_option("--config", g->config_file, "config file (env TIMEBANK_CONFIG)");
  app.add_flag("--json", s.json, "machine-readable output");
  app.add_option("--wait", s.wait_seconds, "keep trying a node that is starting, seconds");
}

// Settings not given as flags come from the environment, then from the config file
// ($TIMEBANK_CONFIG, else ~/.config/timebank/config.toml): node, key, verifier_key, lang,
// ca_cert.
// The node's URL as http(s)://host[:port], a trailing slash dropped; or why it is not one.
std::string NormalizeNodeUrl(std::string* url) {
  while (url->ends_with('/')) url->pop_back();
  const auto scheme = url->find("://");
  const std::string name = scheme == std::string::npos ? "" : url->substr(0, scheme);
  if (name != "http" && name != "https")
    return "the node URL " + *url + " must begin with http:// or https://";
  if (url->size() == scheme + 3 || url->find_first_of("/?#@", scheme + 3) != std::string::npos)
    return "the node URL " + *url + " must be scheme://host[:port], without a path or query";
  return "";
}

// A usage mistake found before any command runs: its message (empty when all is well).
// `offline`: the command contacts no node (its URL and CA certificate are not checked).
std::string FillFromEnvironment(Globals* g, bool offline) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  std::string path = g->config_file.empty() ? env("TIMEBANK_CONFIG") : g->config_file;
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.config/timebank/config.toml";
  toml::table file;
  // A config file named (--config, $TIMEBANK_CONFIG) must be there; any must be readable:
  // falling back to the defaults could send signed requests to another node.
  const bool named = !g->config_file.empty() || !env("TIMEBANK_CONFIG").empty();
  std::error_code ec;  // (a directory that cannot be searched counts as no file there)
  const bool there = std::filesystem::exists(path, ec);
  if (named && !there) return "config file " + path + ": no such file";
  if (there && !std::filesystem::is_regular_file(path, ec))
    return "config file " + path + ": not a regular file";
  if (there) {
    try {
      file = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      // (A file that cannot be read has no line to name.)
      const auto line = e.source().begin.line;
      return line > 0 ? fmt::format("config file {} line {}: {}", path, line, e.description())
                      : fmt::format("config file {}: {}", path, e.description());
    }
  }
  auto pick = [&](const CLI::Option* flag, std::string* out, const char* var, const char* key) {
    if (flag->count() > 0) return;
    if (std::string v = env(var); !v.empty()) {
      *out = v;
    } else if (auto v2 = file[key].value<std::string>()) {
      *out = *v2;
    }
  };
  Settings& s = g->settings;
  pick(g->node, &s.node, "TIMEBANK_NODE", "node");
  pick(g->key, &s.key_file, "TIMEBANK_KEY", "key");
  pick(g->verifier_key, &s.verifier_key, "TIMEBANK_VERIFIER_KEY", "verifier_key");
  pick(g->lang, &s.lang, "TIMEBANK_LANG", "lang");
  pick(g->ca_cert, &s.ca_cert, "TIMEBANK_CA_CERT", "ca_cert");
  if (offline) {  // (a URL it could not use would only stop the client being made)
    if (!NormalizeNodeUrl(&s.node).empty()) s.node = Settings().node;
    return "";
  }
  if (!s.ca_cert.empty() && !std::filesystem::exists(s.ca_cert, ec))
    return "the CA certificate " + s.ca_cert + " does not exist";
  return NormalizeNodeUrl(&s.node);
}

// The subcommands, each with what runs when it is the one given.
class Commands {
 public:
  using Action = std::function<int(Context&)>;
  explicit Commands(CLI::App& app) : app_(app) {}

  CLI::App* Add(const std::string& name, const std::string& description, Action action) {
    CLI::App* cmd = app_.add_subcommand(name, description);
    actions_.emplace_back(cmd, std::move(action));
    return cmd;
  }
  int Run(Context& c) const {
    for (const auto& [cmd, action] : actions_)
      if (*cmd) return action(c);
    return kExitUsage;
  }

 private:
  CLI::App& app_;
  std::vector<std::pair<CLI::App*, Action>> actions_;
};

void AmountOptions(CLI::App* cmd, MoveArgs* a) {
  cmd->add_option("--hours", a->hours, "amount in hours (e.g. 1.5)");
  cmd->add_option("--minutes", a->minutes, "amount in minutes");
}

// The node and its district: keys, facts, checks of what it serves, alerts, audits.
void AddNodeCommands(Commands& cmds) {
  struct Args {
    std::string out = "timebank.key", alert_action = "list", alert_district, id, city_file,
                keep_dir, export_dir;
    std::optional<std::uint64_t> index;
  };
  auto a = std::make_shared<Args>();
  cmds.Add("keygen", "create a signing key (file mode 0600)",
           [a](Context& c) { return Keygen(c, a->out); })
      ->add_option("--out", a->out, "key file to create")
      ->capture_default_str();
  cmds.Add("info", "the district: name, log size, verifier key", Info);
  cmds.Add("status", "the node's health and the district's figures", StatusCmd);
  cmds.Add("checkpoint", "the signed checkpoint (verified with --verifier-key)", CheckpointCmd);

  auto* verify =
      cmds.Add("verify", "check an entry, its proof and the checkpoint", [a](Context& c) -> int {
        if (!a->index && a->id.empty()) {
          std::fprintf(stderr, "timebank verify: give an entry index or --id\n");
          return kExitUsage;
        }
        return VerifyCmd(c, a->index, a->id);
      });
  verify->add_option("index", a->index, "entry index")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.starts_with('-') ? std::string("an entry index is a whole number >= 0")
                                      : std::string();
          },
          "INDEX"));
  verify->add_option("--id", a->id, "or the entry id");

  auto* alerts = cmds.Add(
      "alerts", "alerts an operator must act on: list them, or clear one (district office)",
      [a](Context& c) { return AlertsCmd(c, a->alert_action, a->alert_district); });
  alerts->add_option("action", a->alert_action, "list (default) or clear")
      ->check(CLI::IsMember({"list", "clear"}));
  alerts->add_option("district", a->alert_district, "the peer whose alert to clear (clear)");

  cmds.Add("export-log", "the node's log as static tlog-tiles files (for audits)",
           [a](Context& c) { return ExportLogCmd(c, a->export_dir); })
      ->add_option("--out", a->export_dir, "directory to write")
      ->required();

  auto* audit =
      cmds.Add("audit", "fetch every district's log and check the city's books from nothing",
               [a](Context& c) { return AuditCmd(c, a->city_file, a->keep_dir); });
  audit
      ->add_option("--city", a->city_file,
                   "TOML file: [[districts]] code, name, verifier_key, urls")
      ->required();
  audit->add_option("--keep", a->keep_dir, "keep the copies in this directory");
}

// The district's rules: shown as TOML, changed by the district office as a new version.
void AddPolicyCommand(Commands& cmds) {
  struct Args {
    std::string action, file, city_file;
  };
  auto a = std::make_shared<Args>();
  auto* policy =
      cmds.Add("policy", "the policy in force (show), or its next version (set FILE, --city CITY)",
               [a](Context& c) { return PolicyCmd(c, a->action, a->file, a->city_file); });
  policy->add_option("action", a->action, "show or set")
      ->required()
      ->check(CLI::IsMember({"show", "set"}));
  policy->add_option("file", a->file, "TOML with the fields to change (set)");
  policy->add_option("--city", a->city_file,
                     "the city file ([[districts]] code, name, verifier_key, urls): its districts "
                     "become the policy's city list (set)");
}

// What the root key and registrars sign: operator keys, registrations, private records.
void AddOperatorCommands(Commands& cmds) {
  struct Args {
    std::string op_key, roles = "registrar,recorder,redeemer", label, reason;
    RegisterArgs reg, rn;
    std::string rn_action, rn_account, rn_salt;
  };
  auto a = std::make_shared<Args>();
  auto* grant = cmds.Add("grant", "grant an operator key roles (root key signs)",
                         [a](Context& c) { return Grant(c, a->op_key, a->roles, a->label); });
  grant->add_option("--operator", a->op_key, "operator public key (hex)")->required();
  grant->add_option("--roles", a->roles, "registrar,recorder,redeemer,admin,auditor")
      ->capture_default_str();
  grant->add_option("--label", a->label, "who holds the key, e.g. 东光街道养老服务站");

  auto* revoke = cmds.Add("revoke", "revoke an operator key (root key signs)",
                          [a](Context& c) { return Revoke(c, a->op_key, a->reason); });
  revoke->add_option("--operator", a->op_key, "operator public key (hex)")->required();
  revoke->add_option("--reason", a->reason, "why, e.g. the laptop was lost")->required();

  RegisterArgs& reg = a->reg;
  auto* registr = cmds.Add("register", "register a volunteer, elder or group (实名)",
                           [a](Context& c) { return Register(c, a->reg); });
  registr->add_option("--name", reg.name, "real name (kept private on the node)")->required();
  registr->add_option("--id-number", reg.id_number, "ID card number (private)")->required();
  registr->add_option("--phone", reg.phone, "phone number (private)")->required();
  registr->add_option("--birth-year", reg.birth_year, "year of birth")->required();
  registr->add_option("--need", reg.need, "care need level 0..3 (pool priority)");
  registr->add_flag("--hardship", reg.hardship, "hardship (特困) flag");
  registr->add_flag("--group", reg.group, "a volunteer group, not a person");
  registr->add_option("--street", reg.street, "street (街道) code");
  registr->add_option("--community", reg.community, "community (社区) code");
  registr->add_option("--owner-key", reg.owner_key, "the person's own public key (hex)");

  auto* realname = cmds.Add(
      "realname", "a person's private record (实名): put, get, erase",
      [a](Context& c) { return RealNameCmd(c, a->rn_action, a->rn_account, a->rn, a->rn_salt); });
  realname->add_option("action", a->rn_action, "put, get or erase")
      ->required()
      ->check(CLI::IsMember({"put", "get", "erase"}));
  realname->add_option("account", a->rn_account, "account number")->required();
  realname->add_option("--name", a->rn.name, "real name (put)");
  realname->add_option("--id-number", a->rn.id_number, "ID card number (put)");
  realname->add_option("--phone", a->rn.phone, "phone number (put)");
  realname->add_option("--salt", a->rn_salt, "the salt printed when the account was opened (put)");
}

// Hours coming in: services recorded, gifts, donations, pool requests and grants, moves.
void AddDepositCommands(Commands& cmds, const std::shared_ptr<MoveArgs>& mv) {
  auto* deposit = cmds.Add("deposit", "record a service (存入)",
                           [mv](Context& c) { return DepositCmd(c, *mv); });
  deposit->add_option("--volunteer", mv->account, "volunteer account")->required();
  deposit->add_option("--beneficiary", mv->to, "elder served (account)");
  deposit->add_option("--service", mv->service, "service category, e.g. meals")->required();
  deposit->add_option("--served-ago", mv->served_ago_minutes, "service started N minutes ago")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{366} * 24 * 60));  // (the ledger's limit)
  AmountOptions(deposit, mv.get());

  auto* give = cmds.Add("give", "family gift (转赠), pool donation (捐赠) or pool grant",
                        [mv](Context& c) { return GiveCmd(c, *mv); });
  give->add_option("--kind", mv->kind, "gift, donation or grant")
      ->check(CLI::IsMember({"gift", "donation", "grant"}));
  give->add_option("--from", mv->from, "giving account");
  give->add_option("--to", mv->to, "receiving account");
  give->add_option("--relation", mv->relation,
                   "parent, child, spouse, grandparent, grandchild, sibling, relative, friend");
  give->add_option("--request", mv->request, "pool request answered (grant)");
  AmountOptions(give, mv.get());

  auto* poolreq = cmds.Add("pool-request", "an elder applies to the public pool",
                           [mv](Context& c) { return PoolRequestCmd(c, *mv); });
  poolreq->add_option("--account", mv->account, "elder's account")->required();
  poolreq->add_option("--reason", mv->reason, "why");
  AmountOptions(poolreq, mv.get());

  auto* migrate = cmds.Add("migrate", "move an account's home to another district",
                           [mv](Context& c) { return MigrateCmd(c, *mv); });
  migrate->add_option("--account", mv->account, "account")->required();
  migrate->add_option("--to", mv->to, "the new home district (6-digit code)")->required();
}

// Hours going out: redemptions, immediate or in two phases, here or away from home.
void AddRedeemCommands(Commands& cmds, const std::shared_ptr<MoveArgs>& mv) {
  struct Args {
    std::string hold_id, reason, home;
  };
  auto a = std::make_shared<Args>();
  auto* redeem = cmds.Add("redeem", "redeem hours for care (兑换)",
                          [mv](Context& c) { return RedeemCmd(c, *mv); });
  redeem->add_option("--account", mv->account, "account")->required();
  redeem->add_option("--service", mv->service, "service category");
  redeem->add_option("--serving-district", mv->serving_district, "district giving the care");
  AmountOptions(redeem, mv.get());

  auto* hold = cmds.Add("hold", "set hours aside for a redemption (phase 1)",
                        [mv](Context& c) { return HoldCmd(c, *mv); });
  hold->add_option("--account", mv->account, "account")->required();
  hold->add_option("--service", mv->service, "service category");
  hold->add_option("--serving-district", mv->serving_district, "district giving the care");
  hold->add_option("--expires-in", mv->expires_in, "seconds until the hold expires")
      ->capture_default_str();
  hold->add_option("--home", mv->home,
                   "the account's home district, when it moved from the one in its number");
  AmountOptions(hold, mv.get());

  const std::string home_help = "the account's home district, when it is not this node's";
  auto* post = cmds.Add("post", "complete a hold: the care was given (phase 2)",
                        [a](Context& c) { return PostCmd(c, a->hold_id, a->home); });
  post->add_option("hold_id", a->hold_id, "the hold's entry id")->required();
  post->add_option("--home", a->home, home_help);

  auto* voidc = cmds.Add("void", "cancel a hold: the hours return",
                         [a](Context& c) { return VoidCmd(c, a->hold_id, a->reason, a->home); });
  voidc->add_option("hold_id", a->hold_id, "the hold's entry id")->required();
  voidc->add_option("--reason", a->reason, "why");
  voidc->add_option("--home", a->home, home_help);

  auto* claim = cmds.Add(
      "claim", "care given while the home was unreachable, against hours it set aside here",
      [a, mv](Context& c) { return ClaimCmd(c, a->hold_id, a->home, *mv); });
  claim->add_option("hold_id", a->hold_id, "the set-aside hold's entry id")->required();
  claim->add_option("--home", a->home, "the account's home district")->required();
  AmountOptions(claim, mv.get());
}

// What accounts hold and what the city owes: balances, histories, the clearing report.
void AddReadCommands(Commands& cmds) {
  struct Args {
    std::string account, csv_out, clear_from, clear_to;
    std::optional<std::uint64_t> from;
    std::size_t limit = 20;
  };
  auto a = std::make_shared<Args>();
  cmds.Add("balance", "an account's balance (signed request)",
           [a](Context& c) { return BalanceCmd(c, a->account); })
      ->add_option("account", a->account, "account number")
      ->required();

  auto* history = cmds.Add("history", "an account's entries, newest first", [a](Context& c) {
    return HistoryCmd(c, a->account, a->from, a->limit);
  });
  history->add_option("account", a->account, "account number")->required();
  history->add_option("--from", a->from, "continue from an earlier page's 'more'");
  history->add_option("--limit", a->limit, "entries per page (1..1000)")->capture_default_str();

  auto* exp = cmds.Add("export", "an account's history as CSV",
                       [a](Context& c) { return ExportCmd(c, a->account, a->csv_out); });
  exp->add_option("account", a->account, "account number")->required();
  exp->add_option("--out", a->csv_out, "CSV file (default: stdout)");

  auto* clearing = cmds.Add("clearing", "the city's clearing report for a period",
                            [a](Context& c) { return ClearingCmd(c, a->clear_from, a->clear_to); });
  clearing->add_option("--from", a->clear_from,
                       "first local day, YYYY-MM-DD (default: 1st of month)");
  clearing->add_option("--to", a->clear_to, "day after the last, YYYY-MM-DD (default: tomorrow)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"timebank — 时间银行 command-line client"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command: timebank balance A --json
  Globals globals;
  AddGlobalOptions(app, &globals);
  Commands cmds(app);
  auto moves = std::make_shared<MoveArgs>();
  AddNodeCommands(cmds);
  AddOperatorCommands(cmds);
  AddPolicyCommand(cmds);
  AddDepositCommands(cmds, moves);
  AddRedeemCommands(cmds, moves);
  AddReadCommands(cmds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  // (audit reads the city file's URLs, not the node's.)
  const bool offline = app.got_subcommand("keygen") || app.got_subcommand("audit");
  if (std::string mistake = FillFromEnvironment(&globals, offline); !mistake.empty()) {
    if (globals.settings.json)
      std::printf("%s\n", timebank::api::ErrorBody("usage", mistake).dump().c_str());
    else
      std::fprintf(stderr, "timebank: error: usage: %s\n", mistake.c_str());
    return kExitUsage;
  }
  Context c(globals.settings);
  return cmds.Run(c);
}
