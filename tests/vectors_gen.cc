// vectors_gen — writes schema/vectors/entries.txt: the entry format's test vectors.
//
//   vectors_gen <output file>
//
// Uses the public API only (ledger/*.h), so every byte is what libledger produces. The
// entries are also appended, in order, to a fresh ledger (which must accept each one),
// so the vectors form a valid v1 log and the checkpoint is the one the ledger signs.
// Ed25519 signatures are deterministic: running it again gives the same file.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "entry_text.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/proof.h"
#include "ledger/types.h"

namespace {

using namespace ledger;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "vectors_gen: " << what << "\n";
  std::exit(1);
}

std::array<std::uint8_t, 32> Seed(std::uint8_t fill) {
  std::array<std::uint8_t, 32> s;
  s.fill(fill);
  return s;
}

std::string Raw(const PublicKey& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

constexpr std::int64_t kT0 = 1795348800;  // 2026-11-22 12:00:00 UTC (20:00 in UTC+8)
constexpr char kDistrict[] = "510104";
constexpr char kOrigin[] = "timebank.example/510104";
constexpr char kCommunity[] = "510104001001";

struct NamedKey {
  std::string name;
  std::uint8_t seed_byte;
  SigningKey key;
  std::string role;
};

struct Vector {
  std::string comment;
  EntryBody body;
  std::vector<const SigningKey*> signers;
  // Filled in below.
  std::string body_bytes, entry_bytes;
  Hash leaf{};
};

EntryId Id(int index) {
  EntryId id{};
  id[15] = static_cast<std::uint8_t>(index + 1);
  return id;
}

std::string Sign(const std::string& body, const std::vector<const SigningKey*>& s) {
  switch (s.size()) {
    case 1:
      return SignEntry(body, {s[0]});
    case 2:
      return SignEntry(body, {s[0], s[1]});
    default:
      Die("1 or 2 signers expected");
  }
}

Policy PolicyV1() {
  Policy p;
  p.version = 1;
  p.services = {{"meals", 1000}, {"companionship", 800}, {"medical_escort", 1500}};
  p.balance_cap = 1500 * 60;
  p.daily_earn_cap = 8 * 60;
  p.min_age_serve = 18;
  p.min_age_redeem = 60;
  p.min_age_redeem_hardship = 55;
  p.min_served_to_redeem = 10 * 60;
  p.gift_scope = GiftScope::kRelativesAndFriends;
  p.starter_grant = 60;
  p.owner_signs_debits = true;
  p.pool_min_need = 2;
  p.utc_offset_minutes = 480;
  p.max_hold_seconds = 7 * 24 * 3600;
  p.max_entry_minutes = 8 * 60;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vectors_gen <output file>\n";
    return 2;
  }
  std::vector<NamedKey> keys;
  keys.push_back({"root", 1, SigningKey::FromSeed(Seed(1)),
                  "district root key (genesis.root_key; every role)"});
  keys.push_back(
      {"log", 2, SigningKey::FromSeed(Seed(2)), "log key (genesis.log_key; signs checkpoints)"});
  keys.push_back(
      {"operator", 3, SigningKey::FromSeed(Seed(3)), "operator: registrar, recorder, redeemer"});
  keys.push_back({"auditor", 4, SigningKey::FromSeed(Seed(4)), "auditor, granted then revoked"});
  keys.push_back({"owner", 5, SigningKey::FromSeed(Seed(5)), "owner key of account B"});
  const SigningKey& root = keys[0].key;
  const SigningKey& log = keys[1].key;
  const SigningKey& op = keys[2].key;
  const SigningKey& auditor = keys[3].key;
  const SigningKey& owner = keys[4].key;

  const std::string a = MakeAccountNumber(kDistrict, 1).value();  // a volunteer
  const std::string b = MakeAccountNumber(kDistrict, 2).value();  // an elder with a key
  const RealNameRecord record{"张伟", "510104199005200013", "13800000000"};
  std::string salt;
  for (int i = 0; i < 16; ++i) salt.push_back(static_cast<char>(0xa0 + i));
  const Hash commitment_a = RealNameCommitment(record, salt);
  const Hash commitment_b =
      RealNameCommitment({"王秀英", "510104194807070028", "13900000000"}, "salt of B");

  std::vector<Vector> v;
  auto add = [&](std::string comment, std::string community, EntryKind kind,
                 std::vector<const SigningKey*> signers) {
    const int i = static_cast<int>(v.size());
    v.push_back({std::move(comment),
                 EntryBody{Id(i), kDistrict, kT0 + 60 * i, std::move(community), std::move(kind)},
                 std::move(signers)});
  };

  add("genesis with the version 1 policy, signed by the root key", "",
      Genesis{"锦江区时间银行", "510100", root.public_key(), log.public_key(), kOrigin, PolicyV1()},
      {&root});
  add("grant: the operator key gets three roles", "",
      Grant{op.public_key(),
            {Role::kRegistrar, Role::kRecorder, Role::kRedeemer},
            "东光街道养老服务站 operator 1"},
      {&root});
  add("grant: an auditor key", "",
      Grant{auditor.public_key(), {Role::kAuditor}, "district audit office"}, {&root});
  add("revoke: the auditor key", "", Revoke{auditor.public_key(), "moved to another post"},
      {&root});
  Policy v2 = PolicyV1();
  v2.version = 2;
  v2.services.push_back({"cleaning", 1000});
  v2.daily_earn_cap = 10 * 60;
  add("policy version 2: adds a service, raises the daily cap", "", v2, {&root});
  Open open_a;
  open_a.account = a;
  open_a.birth_year = 1990;
  open_a.street = "510104001";
  open_a.community = kCommunity;
  open_a.commitment = commitment_a;
  add("open: account A, a volunteer (its commitment is the realname vector below)", kCommunity,
      open_a, {&op});
  Open open_b;
  open_b.account = b;
  open_b.birth_year = 1948;
  open_b.street = "510104001";
  open_b.community = kCommunity;
  open_b.owner_key = Raw(owner.public_key());
  open_b.commitment = commitment_b;
  open_b.hardship = true;
  open_b.need = 3;
  add("open: account B, an elder with an owner key, hardship, need 3", kCommunity, open_b, {&op});
  add("deposit: A served B 2 h of meals", kCommunity,
      Deposit{a, b, "meals", 120, kT0 + 60 * 7 - 3 * 3600, ""}, {&op});
  add("deposit: A served B 1.5 h of companionship (rate 800: 72 min credited; reversed below)",
      kCommunity, Deposit{a, b, "companionship", 90, kT0 + 60 * 8 - 2 * 3600, ""}, {&op});
  add("transfer gift: A gives B 1 h (relation friend)", kCommunity,
      Transfer{TransferKind::kGift, a, b, 60, Relation::kFriend}, {&op});
  add("transfer donation: A donates 30 min to the district pool", kCommunity,
      Transfer{TransferKind::kDonation, a, "", 30, Relation::kUnspecified}, {&op});
  add("transfer pool grant: the pool grants B 20 min (admin: the root key)", "",
      Transfer{TransferKind::kPoolGrant, "", b, 20, Relation::kUnspecified}, {&root});
  add("redeem: B redeems 30 min of meals; signed by the operator and B's owner key", kCommunity,
      Redeem{b, 30, "meals", kDistrict}, {&op, &owner});
  add("hold: 20 min of B's for companionship, for an hour", kCommunity,
      Hold{b, 20, kT0 + 60 * 13 + 3600, "companionship", ""}, {&op, &owner});
  add("post: the hold above is redeemed", kCommunity, HoldPost{Id(13)}, {&op});
  add("hold: 10 min of B's for meals", kCommunity, Hold{b, 10, kT0 + 60 * 15 + 3600, "meals", ""},
      {&op, &owner});
  add("void: the hold above is cancelled", kCommunity, HoldVoid{Id(15), "service cancelled"},
      {&op});
  add("hold: 10 min of B's, expiring 30 s later", kCommunity,
      Hold{b, 10, kT0 + 60 * 17 + 30, "meals", ""}, {&op, &owner});
  add("expire: the hold above timed out", kCommunity, HoldExpire{Id(17)}, {&op});
  add("reverse: the companionship deposit (admin: the root key)", "",
      Reverse{Id(8), "recorded by mistake"}, {&root});

  // Sign, and replay into a fresh ledger: every entry must be accepted, in order.
  std::error_code ec;
  std::string dir = (std::filesystem::temp_directory_path() / "timebank-vectors-XXXXXX").string();
  if (!mkdtemp(dir.data())) Die("mkdtemp failed");
  std::int64_t now = kT0;
  std::string note, vkey;
  Hash root_hash{};
  {
    Options o;
    o.log_key = std::make_shared<SigningKey>(SigningKey::FromSeed(Seed(2)));
    o.clock = [&now] { return now; };
    auto ledger = Ledger::Open(o, dir);
    if (!ledger.ok()) Die("open: " + ledger.status().ToString());
    std::vector<Hash> leaves;
    for (std::size_t i = 0; i < v.size(); ++i) {
      Vector& x = v[i];
      x.body_bytes = EncodeBody(x.body);
      x.entry_bytes = Sign(x.body_bytes, x.signers);
      x.leaf = LeafHash(x.entry_bytes);
      leaves.push_back(x.leaf);
      now = x.body.time;
      auto r = (*ledger)->Append(x.entry_bytes);
      if (!r.ok()) Die("entry " + std::to_string(i) + " refused: " + r.status().ToString());
      if (r->index != i || r->duplicate) Die("entry " + std::to_string(i) + " landed elsewhere");
    }
    auto audit = (*ledger)->Audit();
    if (!audit.ok()) Die("audit: " + audit.status().ToString());
    root_hash = RootFromLeafHashes(leaves);
    if ((*ledger)->CurrentCheckpoint().root != root_hash) Die("ledger root differs");
    auto n = (*ledger)->SignedCheckpoint();
    auto k = (*ledger)->VerifierKey();
    if (!n.ok() || !k.ok()) Die("checkpoint");
    note = *n;
    vkey = *k;
  }
  std::filesystem::remove_all(dir, ec);
  if (note != SignNote(FormatCheckpointBody({kOrigin, v.size(), root_hash, {}}), kOrigin, log))
    Die("the ledger's checkpoint is not the documented note");

  std::ostringstream out;
  out << R"(# timebank entry format v1: test vectors (schema/entry.proto).
#
# Generated by tests/vectors_gen.cc with libledger's public API; tests/vectors_test.cc
# checks every value against the library, so do not edit by hand: regenerate with
#   build/tests/vectors_gen schema/vectors/entries.txt
# The entries below, in order, are a valid log: a v1 ledger accepts every one of them.
#
# Format: one record per line, "<record> <fields...>" separated by single spaces (a
# quoted string may itself contain spaces). Lines starting with '#' and empty lines are
# comments. Hex is lower case.
#
#   key <name> <Ed25519 seed (RFC 8032)> <public key>
#
#   entry <index> <kind>            starts the record of log entry <index>; <kind> is the
#                                   name of the Body.kind field that is set
#   field <path> <value>            one per field of the Body and of its kind message, in
#                                   field-number order, defaults included (proto3 leaves
#                                   fields with default values out of the bytes)
#       <path>   proto field names joined by '.', a repeated field's elements as [i]:
#                id, time, genesis.policy.services[0].category, grant.roles[1], ...
#       <value>  integers in decimal; true/false; enums by proto value name (ROLE_RECORDER);
#                bytes in hex, "-" when empty; strings in double quotes, UTF-8 verbatim
#                (no string here contains '"', '\' or a line break)
#   body <hex>                      the serialized Body: the bytes that are signed
#   message <hex>                   what each signature covers:
#                                   "timebank/entry/v1" || 0x00 || body
#   signature <public key> <sig>    Ed25519 over message, one per signer, in entry order
#   bytes <hex>                     the serialized Entry {body, signatures}: the bytes the
#                                   log stores and hashes
#   leaf <hex>                      RFC 6962 leaf hash, SHA-256(0x00 || bytes)
#
#   origin <origin>                 the log's checkpoint origin (genesis.origin)
#   vkey <verifier key>             C2SP signed-note verifier key of the log key:
#                                   <origin>+<key hash, 8 hex>+<base64(0x01 || public key)>
#   checkpoint <size> <root>        the log of all entries above: size and RFC 6962 root
#   note <line>                     the signed checkpoint (C2SP tlog-checkpoint signed
#                                   note), one line per record, in order; the note is
#                                   the lines joined with '\n' plus a final '\n' ("note"
#                                   alone is the empty line before the signature)
#
#   realname <field> <value>        实名制 commitment (RealNameCommitment in entry.h):
#       name, id_number, phone      the private record (strings, quoted)
#       salt                        hex
#       preimage                    hex: "timebank/realname/v1" || lp(salt) || lp(name)
#                                   || lp(id_number) || lp(phone), where lp(s) is the
#                                   length of s as a 4-byte big-endian integer, then s
#       commitment                  SHA-256(preimage): the value of Open.commitment
#
# Entry ids are 15 zero bytes and index + 1; entry times start at 1795348800
# (2026-11-22 12:00:00 UTC) and advance by 60 s per entry.

)";
  for (const NamedKey& k : keys) {
    out << "# " << k.role << "\n";
    out << "key " << k.name << " " << ToHex(Seed(k.seed_byte)) << " " << ToHex(k.key.public_key())
        << "\n";
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Vector& x = v[i];
    auto decoded = DecodeAndVerifyEntry(x.entry_bytes);
    if (!decoded.ok()) Die("decode: " + decoded.status().ToString());
    out << "\n# " << i << ": " << x.comment << "\n";
    out << "entry " << i << " " << KindName(x.body.kind) << "\n";
    for (const auto& [path, value] : testing::BodyFields(x.body))
      out << "field " << path << " " << value << "\n";
    out << "body " << ToHex(x.body_bytes) << "\n";
    out << "message " << ToHex(EntrySigningMessage(x.body_bytes)) << "\n";
    for (const auto& s : decoded->signatures)
      out << "signature " << ToHex(s.key) << " " << ToHex(s.signature) << "\n";
    out << "bytes " << ToHex(x.entry_bytes) << "\n";
    out << "leaf " << ToHex(x.leaf) << "\n";
  }
  out << "\n# The signed checkpoint of the log of entries 0.." << v.size() - 1 << ".\n";
  out << "origin " << kOrigin << "\n";
  out << "vkey " << vkey << "\n";
  out << "checkpoint " << v.size() << " " << ToHex(root_hash) << "\n";
  std::string_view rest = note;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) Die("note does not end in a newline");
    const std::string_view line = rest.substr(0, nl);
    out << "note" << (line.empty() ? "" : " ") << line << "\n";
    rest.remove_prefix(nl + 1);
  }

  auto lp = [](std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
    return out.append(s);
  };
  const std::string preimage =
      "timebank/realname/v1" + lp(salt) + lp(record.name) + lp(record.id_number) + lp(record.phone);
  out << "\n# The real-name commitment of account A (entry 5). The record is fictitious.\n";
  out << "realname name \"" << record.name << "\"\n";
  out << "realname id_number \"" << record.id_number << "\"\n";
  out << "realname phone \"" << record.phone << "\"\n";
  out << "realname salt " << ToHex(salt) << "\n";
  out << "realname preimage " << ToHex(preimage) << "\n";
  out << "realname commitment " << ToHex(commitment_a) << "\n";

  std::ofstream f(argv[1], std::ios::binary | std::ios::trunc);
  f << out.str();
  f.close();
  if (!f) Die(std::string("cannot write ") + argv[1]);
  return 0;
}
