// timebank — the command-line client of a timebankd node (see cli/README.md).
#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>

#include "commands.h"

using namespace timebank::cli;

namespace {

// Settings not given as flags come from the environment, then from the config file
// ($TIMEBANK_CONFIG, else ~/.config/timebank/config.toml): node, key, verifier_key, lang,
// ca_cert.
void FillFromEnvironment(Settings* s, const std::string& config_flag, bool node_set, bool key_set,
                         bool vkey_set, bool lang_set, bool ca_set) {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  std::string path = config_flag.empty() ? env("TIMEBANK_CONFIG") : config_flag;
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.config/timebank/config.toml";
  toml::table file;
  if (std::filesystem::exists(path)) {
    try {
      file = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      std::fprintf(stderr, "timebank: ignoring %s: %s\n", path.c_str(),
                   std::string(e.description()).c_str());
    }
  }
  auto pick = [&](bool set, std::string* out, const char* var, const char* key) {
    if (set) return;
    if (std::string v = env(var); !v.empty()) {
      *out = v;
    } else if (auto v2 = file[key].value<std::string>()) {
      *out = *v2;
    }
  };
  pick(node_set, &s->node, "TIMEBANK_NODE", "node");
  pick(key_set, &s->key_file, "TIMEBANK_KEY", "key");
  pick(vkey_set, &s->verifier_key, "TIMEBANK_VERIFIER_KEY", "verifier_key");
  pick(lang_set, &s->lang, "TIMEBANK_LANG", "lang");
  pick(ca_set, &s->ca_cert, "TIMEBANK_CA_CERT", "ca_cert");
}

void AmountOptions(CLI::App* cmd, MoveArgs* a) {
  cmd->add_option("--hours", a->hours, "amount in hours (e.g. 1.5)");
  cmd->add_option("--minutes", a->minutes, "amount in minutes");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"timebank — 时间银行 command-line client"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command: timebank balance A --json
  Settings s;
  std::string config_flag;
  auto* node_opt = app.add_option("--node", s.node, "node URL (env TIMEBANK_NODE)");
  auto* key_opt = app.add_option("--key", s.key_file, "signing key file (env TIMEBANK_KEY)");
  auto* vkey_opt = app.add_option("--verifier-key", s.verifier_key,
                                  "district checkpoint verifier key (env TIMEBANK_VERIFIER_KEY)");
  auto* lang_opt = app.add_option("--lang", s.lang, "zh or en (default from LANG)")
                       ->check(CLI::IsMember({"zh", "en"}));
  auto* ca_opt = app.add_option("--ca-cert", s.ca_cert,
                                "https: PEM file of the CA to trust (env TIMEBANK_CA_CERT)");
  app.add_option("--config", config_flag, "config file (env TIMEBANK_CONFIG)");
  app.add_flag("--json", s.json, "machine-readable output");
  app.add_option("--wait", s.wait_seconds, "keep trying a node that is starting, seconds");

  std::string out = "timebank.key";
  auto* keygen = app.add_subcommand("keygen", "create a signing key (file mode 0600)");
  keygen->add_option("--out", out, "key file to create")->capture_default_str();

  auto* info = app.add_subcommand("info", "the district: name, log size, verifier key");
  auto* status = app.add_subcommand("status", "the node's health and the district's figures");

  std::string op_key, roles = "registrar,recorder,redeemer", label;
  auto* grant = app.add_subcommand("grant", "grant an operator key roles (root key signs)");
  grant->add_option("--operator", op_key, "operator public key (hex)")->required();
  grant->add_option("--roles", roles, "registrar,recorder,redeemer,admin,auditor")
      ->capture_default_str();
  grant->add_option("--label", label, "who holds the key, e.g. 东光街道养老服务站");

  std::string revoke_reason;
  auto* revoke = app.add_subcommand("revoke", "revoke an operator key (root key signs)");
  revoke->add_option("--operator", op_key, "operator public key (hex)")->required();
  revoke->add_option("--reason", revoke_reason, "why, e.g. the laptop was lost")->required();

  RegisterArgs reg;
  auto* registr = app.add_subcommand("register", "register a volunteer, elder or group (实名)");
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

  std::string rn_action, rn_account, rn_salt;
  RegisterArgs rn;
  auto* realname =
      app.add_subcommand("realname", "a person's private record (实名): put, get, erase");
  realname->add_option("action", rn_action, "put, get or erase")
      ->required()
      ->check(CLI::IsMember({"put", "get", "erase"}));
  realname->add_option("account", rn_account, "account number")->required();
  realname->add_option("--name", rn.name, "real name (put)");
  realname->add_option("--id-number", rn.id_number, "ID card number (put)");
  realname->add_option("--phone", rn.phone, "phone number (put)");
  realname->add_option("--salt", rn_salt, "the salt printed when the account was opened (put)");

  std::string alert_action = "list", alert_district;
  auto* alerts = app.add_subcommand(
      "alerts", "alerts an operator must act on: list them, or clear one (district office)");
  alerts->add_option("action", alert_action, "list (default) or clear")
      ->check(CLI::IsMember({"list", "clear"}));
  alerts->add_option("district", alert_district, "the peer whose alert to clear (clear)");

  MoveArgs mv;
  auto* deposit = app.add_subcommand("deposit", "record a service (存入)");
  deposit->add_option("--volunteer", mv.account, "volunteer account")->required();
  deposit->add_option("--beneficiary", mv.to, "elder served (account)");
  deposit->add_option("--service", mv.service, "service category, e.g. meals")->required();
  deposit->add_option("--served-ago", mv.served_ago_minutes, "service started N minutes ago");
  AmountOptions(deposit, &mv);

  auto* redeem = app.add_subcommand("redeem", "redeem hours for care (兑换)");
  redeem->add_option("--account", mv.account, "account")->required();
  redeem->add_option("--service", mv.service, "service category");
  redeem->add_option("--serving-district", mv.serving_district, "district giving the care");
  AmountOptions(redeem, &mv);

  auto* hold = app.add_subcommand("hold", "set hours aside for a redemption (phase 1)");
  hold->add_option("--account", mv.account, "account")->required();
  hold->add_option("--service", mv.service, "service category");
  hold->add_option("--serving-district", mv.serving_district, "district giving the care");
  hold->add_option("--expires-in", mv.expires_in, "seconds until the hold expires")
      ->capture_default_str();
  hold->add_option("--home", mv.home,
                   "the account's home district, when it moved from the one in its number");
  AmountOptions(hold, &mv);

  std::string clear_from, clear_to;
  auto* clearing = app.add_subcommand("clearing", "the city's clearing report for a period");
  clearing->add_option("--from", clear_from, "first local day, YYYY-MM-DD (default: 1st of month)");
  clearing->add_option("--to", clear_to, "day after the last, YYYY-MM-DD (default: tomorrow)");
  auto* migrate = app.add_subcommand("migrate", "move an account's home to another district");
  migrate->add_option("--account", mv.account, "account")->required();
  migrate->add_option("--to", mv.to, "the new home district (6-digit code)")->required();

  std::string hold_id, reason, home;
  auto* post = app.add_subcommand("post", "complete a hold: the care was given (phase 2)");
  post->add_option("hold_id", hold_id, "the hold's entry id")->required();
  post->add_option("--home", home, "the account's home district, when it is not this node's");
  auto* voidc = app.add_subcommand("void", "cancel a hold: the hours return");
  voidc->add_option("hold_id", hold_id, "the hold's entry id")->required();
  voidc->add_option("--reason", reason, "why");
  voidc->add_option("--home", home, "the account's home district, when it is not this node's");

  auto* claim = app.add_subcommand(
      "claim", "care given while the home was unreachable, against hours it set aside here");
  claim->add_option("hold_id", hold_id, "the set-aside hold's entry id")->required();
  claim->add_option("--home", home, "the account's home district")->required();
  AmountOptions(claim, &mv);

  auto* give = app.add_subcommand("give", "family gift (转赠), pool donation (捐赠) or pool grant");
  give->add_option("--kind", mv.kind, "gift, donation or grant")
      ->check(CLI::IsMember({"gift", "donation", "grant"}));
  give->add_option("--from", mv.from, "giving account");
  give->add_option("--to", mv.to, "receiving account");
  give->add_option("--relation", mv.relation,
                   "parent, child, spouse, grandparent, grandchild, sibling, relative, friend");
  give->add_option("--request", mv.request, "pool request answered (grant)");
  AmountOptions(give, &mv);

  auto* poolreq = app.add_subcommand("pool-request", "an elder applies to the public pool");
  poolreq->add_option("--account", mv.account, "elder's account")->required();
  poolreq->add_option("--reason", mv.reason, "why");
  AmountOptions(poolreq, &mv);

  std::string account;
  auto* balance = app.add_subcommand("balance", "an account's balance (signed request)");
  balance->add_option("account", account, "account number")->required();

  std::optional<std::uint64_t> from;
  std::size_t limit = 20;
  auto* history = app.add_subcommand("history", "an account's entries, newest first");
  history->add_option("account", account, "account number")->required();
  history->add_option("--from", from, "continue from an earlier page's 'more'");
  history->add_option("--limit", limit, "entries per page (1..1000)")->capture_default_str();

  std::string csv_out;
  std::string export_dir;
  auto* export_log =
      app.add_subcommand("export-log", "the node's log as static tlog-tiles files (for audits)");
  export_log->add_option("--out", export_dir, "directory to write")->required();
  auto* exp = app.add_subcommand("export", "an account's history as CSV");
  exp->add_option("account", account, "account number")->required();
  exp->add_option("--out", csv_out, "CSV file (default: stdout)");

  std::optional<std::uint64_t> index;
  std::string id;
  auto* verify = app.add_subcommand("verify", "check an entry, its proof and the checkpoint");
  verify->add_option("index", index, "entry index");
  verify->add_option("--id", id, "or the entry id");

  std::string city_file, keep_dir;
  auto* audit = app.add_subcommand("audit",
                                   "fetch every district's log and check the city's books from "
                                   "nothing");
  audit->add_option("--city", city_file, "TOML file: [[districts]] code, name, verifier_key, urls")
      ->required();
  audit->add_option("--keep", keep_dir, "keep the copies in this directory");

  auto* checkpoint = app.add_subcommand("checkpoint",
                                        "the signed checkpoint (verified with "
                                        "--verifier-key)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  FillFromEnvironment(&s, config_flag, node_opt->count() > 0, key_opt->count() > 0,
                      vkey_opt->count() > 0, lang_opt->count() > 0, ca_opt->count() > 0);
  Context c(s);
  if (*keygen) return Keygen(c, out);
  if (*info) return Info(c);
  if (*status) return StatusCmd(c);
  if (*grant) return Grant(c, op_key, roles, label);
  if (*revoke) return Revoke(c, op_key, revoke_reason);
  if (*registr) return Register(c, reg);
  if (*realname) return RealNameCmd(c, rn_action, rn_account, rn, rn_salt);
  if (*alerts) return AlertsCmd(c, alert_action, alert_district);
  if (*deposit) return DepositCmd(c, mv);
  if (*redeem) return RedeemCmd(c, mv);
  if (*hold) return HoldCmd(c, mv);
  if (*post) return PostCmd(c, hold_id, home);
  if (*voidc) return VoidCmd(c, hold_id, reason, home);
  if (*migrate) return MigrateCmd(c, mv);
  if (*claim) return ClaimCmd(c, hold_id, home, mv);
  if (*clearing) return ClearingCmd(c, clear_from, clear_to);
  if (*give) return GiveCmd(c, mv);
  if (*poolreq) return PoolRequestCmd(c, mv);
  if (*balance) return BalanceCmd(c, account);
  if (*history) return HistoryCmd(c, account, from, limit);
  if (*exp) return ExportCmd(c, account, csv_out);
  if (*verify) {
    if (!index && id.empty()) {
      std::fprintf(stderr, "timebank verify: give an entry index or --id\n");
      return kExitUsage;
    }
    return VerifyCmd(c, index, id);
  }
  if (*checkpoint) return CheckpointCmd(c);
  if (*audit) return AuditCmd(c, city_file, keep_dir);
  if (*export_log) return ExportLogCmd(c, export_dir);
  return kExitUsage;
}
