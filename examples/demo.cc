// demo — one district's time bank, told through libledger's public API.
//
// Creates a ledger for 锦江区 (510104) in a temporary directory, grants an operator,
// registers two volunteers and an elder, records services, a family gift (转赠), a
// donation (捐赠) to the pool and a pool grant, a two-phase redemption (兑换), a refused
// overdraft, then prints balances, a signed checkpoint and a verified inclusion proof.
#include <ledger/checkpoint.h>
#include <ledger/entry.h>
#include <ledger/ledger.h>
#include <ledger/proof.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace ledger;

namespace {

struct Story {
  std::unique_ptr<Ledger> ledger;
  std::string district = "510104";
  SigningKey admin = SigningKey::Generate();      // 民政局 root key
  SigningKey operator_ = SigningKey::Generate();  // 养老服务站 operator
  std::int64_t now = 0;
  int step = 0;

  // Signs and appends; prints the outcome. Returns the entry id.
  EntryId Do(const char* what, EntryKind kind, const SigningKey& signer) {
    EntryBody body{NewEntryId(), district, now, "510104001001", std::move(kind)};
    auto r = ledger->Append(MakeEntry(body, {&signer}));
    if (r.ok())
      std::printf("%2d. %-46s -> entry #%llu\n", ++step, what, (unsigned long long)r->index);
    else
      std::printf("%2d. %-46s -> REFUSED %s\n", ++step, what, r.status().ToString().c_str());
    return body.id;
  }

  std::string Register(const char* who, std::uint32_t birth_year, std::uint64_t serial,
                       std::uint32_t need = 0) {
    const std::string account = MakeAccountNumber(district, serial).value();
    // 实名制: the name, ID number and phone stay in the node's private store; the log only
    // carries a salted commitment to them.
    RealNameRecord record{who, "51010419xx0101xxxx", "138xxxx0000"};
    const std::string salt = "salt-" + account;
    Open open{account,
              AccountKind::kPerson,
              birth_year,
              "510104001",
              "510104001001",
              "",
              RealNameCommitment(record, salt),
              false,
              need};
    Do(("register " + std::string(who) + " " + account).c_str(), open, operator_);
    if (Status s = ledger->PutRealName(account, record, salt); !s.ok())
      std::printf("    private record refused: %s\n", s.ToString().c_str());
    return account;
  }
};

}  // namespace

int main() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("timebank-demo-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  auto log_key = std::make_shared<SigningKey>(SigningKey::Generate());
  Options options;
  options.log_key = log_key;
  auto opened = Ledger::Open(options, dir.string());
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open ledger: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Story s;
  s.ledger = std::move(opened).value();
  s.now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  std::printf("timebank demo: district 510104 锦江区, ledger in %s\n\n", dir.c_str());

  Policy policy;
  policy.services = {
      {"meals", 1000}, {"cleaning", 1000}, {"medical_escort", 1500}, {"companionship", 1000}};
  policy.balance_cap = 1500 * 60;
  policy.min_age_serve = 18;
  policy.min_age_redeem = 60;
  policy.gift_scope = GiftScope::kRelativesAndFriends;
  policy.max_hold_seconds = 7 * 86400;
  policy.pool_min_need = 2;
  policy.pool_in_order = true;  // the pool serves the neediest elders first
  s.Do("genesis: 锦江区时间银行 (policy v1)",
       Genesis{"锦江区时间银行", "510100", s.admin.public_key(), log_key->public_key(),
               "timebank.chengdu/510104", policy},
       s.admin);
  s.Do("grant operator: registrar+recorder+redeemer",
       Grant{s.operator_.public_key(),
             {Role::kRegistrar, Role::kRecorder, Role::kRedeemer},
             "东光街道养老服务站"},
       s.admin);
  const auto li = s.Register("李娜 (volunteer)", 1992, 1);
  const auto wang = s.Register("王强 (volunteer)", 1988, 2);
  const auto mother = s.Register("李母 (Li's mother)", 1956, 3);
  const auto zhang = s.Register("张奶奶 (elder, lives alone)", 1940, 4, /*need=*/3);

  s.Do("Li serves 2 h meals (助餐)", Deposit{li, zhang, "meals", 120, s.now - 7200, ""},
       s.operator_);
  s.Do("Li serves 1 h medical escort (助医, x1.5)",
       Deposit{li, zhang, "medical_escort", 60, s.now - 3600, ""}, s.operator_);
  s.Do("Wang serves 3 h cleaning (助洁)", Deposit{wang, zhang, "cleaning", 180, s.now - 3600, ""},
       s.operator_);
  s.Do("Li gives 2 h to her mother (转赠)",
       Transfer{TransferKind::kGift, li, mother, 120, Relation::kParent}, s.operator_);
  s.Do("Wang donates 1 h to the pool (捐赠)", Transfer{TransferKind::kDonation, wang, "", 60},
       s.operator_);
  const EntryId request = s.Do("Zhang (86, alone) applies to the pool for 1 h",
                               PoolRequest{zhang, 60, "80+, lives alone"}, s.operator_);
  Transfer grant{TransferKind::kPoolGrant, "", zhang, 60};
  grant.request_id = request;
  s.Do("pool grants 1 h to Zhang (公益池)", grant, s.admin);
  const EntryId hold = s.Do("mother: hold 1.5 h for cleaning (兑换, phase 1)",
                            Hold{mother, 90, s.now + 86400, "cleaning", ""}, s.operator_);
  s.Do("cleaning delivered: post the hold (phase 2)", HoldPost{hold}, s.operator_);
  s.Do("mother redeems 1 h more (overdraft)", Redeem{mother, 60, "meals", ""}, s.operator_);
  s.Do("Li (34) redeems (below age 60)", Redeem{li, 30, "meals", ""}, s.operator_);

  std::printf("\nbalances:\n");
  for (const auto& [name, acct] : std::initializer_list<std::pair<const char*, std::string>>{
           {"李娜 Li", li},
           {"王强 Wang", wang},
           {"李母 mother", mother},
           {"张奶奶 Zhang", zhang},
           {"pool 公益池", SystemAccountId(s.district, SystemAccount::kPool)},
           {"redeemed 已兑换", SystemAccountId(s.district, SystemAccount::kRedeemed)},
           {"issuance 发行", SystemAccountId(s.district, SystemAccount::kIssuance)}}) {
    auto b = s.ledger->Balance(acct);
    std::printf("  %-18s %-22s %10s\n", name, acct.c_str(), b.ok() ? FormatHours(*b).c_str() : "?");
  }

  auto note = s.ledger->SignedCheckpoint();
  auto vkey = s.ledger->VerifierKey();
  if (!note.ok() || !vkey.ok()) return 1;
  std::printf("\nsigned checkpoint (C2SP tlog-checkpoint):\n%s\nverifier key: %s\n", note->c_str(),
              vkey->c_str());

  // An auditor's view: only the note, the verifier key, the entry and its proof.
  auto verifier = ParseVerifierKey(*vkey);
  auto cp = OpenCheckpoint(*note, *verifier);
  const std::uint64_t index = 7;  // Li's medical escort
  auto entry = s.ledger->GetEntry(index);
  auto proof = s.ledger->ProveInclusion(index, cp->size);
  Status ok = VerifyInclusion(LeafHash(*entry), *proof, cp->root);
  auto decoded = DecodeAndVerifyEntry(*entry);
  std::printf("\ninclusion proof of entry #%llu (%s, %zu hashes) against the checkpoint: %s\n",
              (unsigned long long)index,
              decoded.ok() ? std::string(KindName(decoded->body.kind)).c_str() : "?",
              proof->path.size(), ok.ok() ? "VERIFIED" : ok.ToString().c_str());
  auto audit = s.ledger->Audit();
  std::printf(
      "audit (replay from the log alone): %s\n",
      audit.ok()
          ? ("ok, " + std::to_string(audit->entries) + " entries, balances sum to zero").c_str()
          : audit.status().ToString().c_str());
  s.ledger.reset();
  std::filesystem::remove_all(dir);
  return ok.ok() && audit.ok() ? 0 : 1;
}
