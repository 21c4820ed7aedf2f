// commands.h — the CLI's commands over a Context of resolved settings.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "client.h"
#include "ledger/entry.h"
#include "text.h"

namespace timebank::cli {

// Settings from flags, else environment, else the config file (cli/README.md).
struct Settings {
  std::string node = "http://127.0.0.1:8420";
  std::string key_file;      // the signer: an operator's key, or an account owner's
  std::string verifier_key;  // the district's checkpoint verifier key (for verify)
  std::string ca_cert;       // PEM file of the CA that signed the node's certificate (https)
  std::string lang;          // "", "zh" or "en"
  bool json = false;
  int wait_seconds = 0;
};

class Context {
 public:
  explicit Context(Settings s);
  Lang lang() const { return lang_; }
  bool json_output() const { return settings_.json; }
  const Settings& settings() const { return settings_; }
  Client& client() { return client_; }

  // The signing key (--key); a usage failure when none is set or it does not load.
  Answer<const ledger::SigningKey*> Key();
  // The node's district code (GET /v1/info, once).
  Answer<std::string> District();

  // Signs `kind` as a new entry of the node's district with Key() and submits it. On
  // success prints what was recorded (or JSON) and returns kExitOk.
  // Signs `kind` as an entry of the node's district — or of `home`, an account's home
  // district, which the node forwards it to (redeeming away) — and submits it.
  int SubmitEntry(ledger::EntryKind kind, const std::string& what, ledger::EntryId* id = nullptr,
                  const std::string& home = "");

  // GETs `target` (signed by `signer` when given). A failure is reported and its exit code
  // returned; with --json the answer is printed and kExitOk returned. Otherwise nullopt,
  // and the answer is in *out for the command's own human output.
  std::optional<int> Fetch(const std::string& target, const ledger::SigningKey* signer,
                           api::json* out);

  // Prints a failure (text or JSON) to stderr/stdout and returns its exit code.
  int Report(const Failure& f);
  void Print(const std::string& text);
  void PrintJson(const api::json& j);

 private:
  Settings settings_;
  Lang lang_;
  Client client_;
  std::optional<ledger::SigningKey> key_;
  std::string district_;
};

struct RegisterArgs {
  std::string name, id_number, phone, street, community, owner_key;
  std::uint32_t birth_year = 0, need = 0;
  bool hardship = false, group = false;
};
struct MoveArgs {
  std::string account, from, to, service, serving_district, reason, relation, kind, request, home;
  std::optional<double> hours;
  std::optional<std::int64_t> minutes;
  std::int64_t served_ago_minutes = 0;
  std::int64_t expires_in = 3600;
};

// A district of a city file (TOML: [[districts]] code, name, verifier_key, urls), the file
// the city office publishes: `audit` reads every log it lists, `policy set --city` writes
// its districts and keys into the policy.
struct CityEntry {
  std::string code, name, verifier_key;
  std::vector<std::string> urls;
};
Answer<std::vector<CityEntry>> LoadCityFile(const std::string& path);

int Keygen(Context& c, const std::string& out);
// Every district of the city file, copied and checked from nothing (audit.cc).
int AuditCmd(Context& c, const std::string& city_file, const std::string& keep_dir);
// The node's log as static C2SP tlog-tiles files (audit.cc), for `audit` to read offline
// (a district's urls may name such a directory) or for a plain web server to publish.
int ExportLogCmd(Context& c, const std::string& out_dir);
int Info(Context& c);
// Health, log size and the district's aggregate figures (public).
int StatusCmd(Context& c);
int Grant(Context& c, const std::string& key_hex, const std::string& roles,
          const std::string& label);
int Revoke(Context& c, const std::string& key_hex, const std::string& reason);
int Register(Context& c, const RegisterArgs& a);
// put (needs the salt printed at registration), get, or erase (PIPL) the private record.
// Lists the node's alerts, or clears a peer's (POST /v1/alerts/{district}/clear).
int AlertsCmd(Context& c, const std::string& action, const std::string& district);
int RealNameCmd(Context& c, const std::string& action, const std::string& account,
                const RegisterArgs& a, const std::string& salt);
int DepositCmd(Context& c, const MoveArgs& a);
int RedeemCmd(Context& c, const MoveArgs& a);
int HoldCmd(Context& c, const MoveArgs& a);
// The city's clearing report for local days [from, to) (docs/federation.md §8).
int ClearingCmd(Context& c, const std::string& from, const std::string& to);
// Care given offline against a hold the account's home set aside for this district.
int ClaimCmd(Context& c, const std::string& hold_id, const std::string& home, const MoveArgs& a);
// Moves an account's home (docs/federation.md §7): written at its present home.
int MigrateCmd(Context& c, const MoveArgs& a);
int PostCmd(Context& c, const std::string& hold_id, const std::string& home);
int VoidCmd(Context& c, const std::string& hold_id, const std::string& reason,
            const std::string& home);
int GiveCmd(Context& c, const MoveArgs& a);
int PoolRequestCmd(Context& c, const MoveArgs& a);
int BalanceCmd(Context& c, const std::string& account);
int HistoryCmd(Context& c, const std::string& account, std::optional<std::uint64_t> from,
               std::size_t limit);
int ExportCmd(Context& c, const std::string& account, const std::string& out);
int VerifyCmd(Context& c, std::optional<std::uint64_t> index, const std::string& id);
int CheckpointCmd(Context& c);
// The policy in force (show: TOML to edit, or --json), or a new version of it (set): the
// current policy with what `file` (TOML, same fields) changes, and with --city the city
// file's districts as its city list. Signed by the district office (admin) or the root.
int PolicyCmd(Context& c, const std::string& action, const std::string& file,
              const std::string& city_file);

}  // namespace timebank::cli
