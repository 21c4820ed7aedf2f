#include "district.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace ledger::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "timebank-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

std::uintmax_t LargestFile(const std::string& dir) {
  std::uintmax_t largest = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
    if (f.is_regular_file()) largest = std::max(largest, f.file_size());
  return largest;
}

TempDir::~TempDir() {
  if (std::getenv("TIMEBANK_KEEP_TEMP")) return;  // for looking at a benchmark's store
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Policy DefaultPolicy() {
  Policy p;
  p.version = 1;
  p.services = {
      {"meals", 1000}, {"cleaning", 1000}, {"medical_escort", 1500}, {"companionship", 800}};
  p.balance_cap = 1500 * 60;  // Nanjing: 1,500 h
  p.min_age_serve = 18;
  p.min_age_redeem = 60;
  p.gift_scope = GiftScope::kRelativesAndFriends;
  p.max_hold_seconds = 7 * 24 * 3600;
  p.utc_offset_minutes = 480;
  return p;
}

namespace {
void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}
}  // namespace

District::District(const std::string& dir, std::string code, Policy policy,
                   std::shared_ptr<PeerLogs> peers, std::uint8_t key_seed)
    : root(KeyFromByte(key_seed)),
      log_key(std::make_shared<SigningKey>(KeyFromByte(key_seed + 1))),
      op(KeyFromByte(key_seed + 2)),
      dir_(dir),
      code_(std::move(code)),
      peers_(std::move(peers)) {
  Reopen();
  if (ledger_->Size() > 0) return;
  Genesis g{"锦江区时间银行",         "510100",         root.public_key(), log_key->public_key(),
            "timebank.test/" + code_, std::move(policy)};
  auto r = Submit(g, &root);
  Check(r.ok(), "genesis: " + r.status().ToString());
  Grant grant{op.public_key(), {Role::kRegistrar, Role::kRecorder, Role::kRedeemer}, "station 1"};
  r = Submit(grant, &root);
  Check(r.ok(), "grant: " + r.status().ToString());
}

void District::Reopen(const std::function<void(Options&)>& tune) {
  ledger_.reset();
  Options o;
  o.log_key = log_key;
  o.clock = [this] { return now; };
  o.peers = peers_;
  if (tune) tune(o);
  auto l = Ledger::Open(o, dir_);
  Check(l.ok(), "open: " + l.status().ToString());
  ledger_ = std::move(l).value();
}

EntryBody District::Body(EntryKind kind) const {
  return EntryBody{NewEntryId(), code_, now, "", std::move(kind)};
}

std::string District::Sign(const EntryBody& body, const SigningKey* signer,
                           const SigningKey* owner) const {
  if (!signer) signer = &op;
  const std::string bytes = EncodeBody(body);
  return owner ? SignEntry(bytes, {signer, owner}) : SignEntry(bytes, {signer});
}

Result<Appended> District::Submit(EntryKind kind, const SigningKey* signer,
                                  const SigningKey* owner) {
  return ledger_->Append(Sign(Body(std::move(kind)), signer, owner));
}

std::string District::NextAccountNumber() {
  return MakeAccountNumber(code_, ++serial_).value();
}

std::string District::OpenPerson(std::uint32_t birth_year, std::uint32_t need, bool hardship,
                                 const SigningKey* owner) {
  Open o;
  o.account = NextAccountNumber();
  o.birth_year = birth_year;
  o.street = "510104001";
  o.community = "510104001001";
  o.commitment = RealNameCommitment({"name", "id", "phone"}, "salt" + o.account);
  o.hardship = hardship;
  o.need = need;
  if (owner) {
    const auto& k = owner->public_key();
    o.owner_key.assign(reinterpret_cast<const char*>(k.data()), k.size());
  }
  auto r = Submit(o);
  Check(r.ok(), "open: " + r.status().ToString());
  return o.account;
}

std::string District::OpenGroup() {
  Open o;
  o.account = NextAccountNumber();
  o.kind = AccountKind::kGroup;
  auto r = Submit(o);
  Check(r.ok(), "open group: " + r.status().ToString());
  return o.account;
}

Minutes District::BalanceOf(const std::string& account) {
  auto b = ledger_->Balance(account);
  Check(b.ok(), "balance: " + b.status().ToString());
  return *b;
}

}  // namespace ledger::testing
