// timebank verify: an entry, its inclusion proof and the signed checkpoint, all checked
// here against the district's verifier key — nothing taken on the node's word.
#include <fmt/format.h>

#include "commands.h"
#include "ledger/checkpoint.h"
#include "ledger/proof.h"

namespace timebank::cli {

using namespace ledger;
using api::json;

namespace {

Failure Broken(const std::string& what, const Status& s) {
  return Failure{kExitVerifyFailed, std::string(CodeName(s.code())),
                 fmt::format("{}: {}", what, s.message())};
}

// The key to check the checkpoint with: the one the city published (--verifier-key), else
// the node's own (a weaker check: *pinned says which).
Answer<NoteVerifier> TrustedVerifier(Context& c, bool* pinned) {
  std::string vkey = c.settings().verifier_key;
  *pinned = !vkey.empty();
  if (!*pinned) {
    auto info = c.client().GetJson("/v1/info");
    if (auto* f = std::get_if<Failure>(&info)) return *f;
    vkey = std::get<json>(info).value("verifier_key", "");
  }
  auto verifier = ParseVerifierKey(vkey);
  if (!verifier.ok()) return Broken("verifier key", verifier.status());
  return *std::move(verifier);
}

struct CheckedEntry {
  std::uint64_t index = 0;
  DecodedEntry decoded;
  Hash leaf;
};

// The entry, by index or id, its signatures checked here. An owner signs the request to
// read entries naming their account.
Answer<CheckedEntry> FetchEntry(Context& c, std::optional<std::uint64_t> index,
                                const std::string& id) {
  const SigningKey* signer = nullptr;
  if (!c.settings().key_file.empty()) {
    auto key = c.Key();
    if (auto* f = std::get_if<Failure>(&key)) return *f;
    signer = std::get<const SigningKey*>(key);
  }
  const std::string target =
      index ? fmt::format("/v1/entries/{}", *index) : "/v1/entries/by-id/" + id;
  auto served = c.client().GetJson(target, signer);
  if (auto* f = std::get_if<Failure>(&served)) return *f;
  const json& e = std::get<json>(served);
  std::string bytes;
  if (!e.contains("entry") || !e["entry"].is_string() ||
      !Base64Decode(e["entry"].get<std::string>(), &bytes))
    return Failure{kExitVerifyFailed, "bad_response", "the node sent no entry bytes"};
  auto decoded = DecodeAndVerifyEntry(bytes);
  if (!decoded.ok()) return Broken("entry signature", decoded.status());
  return CheckedEntry{e.value("index", 0ull), *std::move(decoded), LeafHash(bytes)};
}

// The checkpoint, signed by the district's log key, and covering entry `at`.
Answer<Checkpoint> FetchCheckpoint(Context& c, const NoteVerifier& verifier, std::uint64_t at) {
  auto note = c.client().GetText("/v1/checkpoint");
  if (auto* f = std::get_if<Failure>(&note)) return *f;
  auto cp = OpenCheckpoint(std::get<std::string>(note), verifier);
  if (!cp.ok()) return Broken("checkpoint signature", cp.status());
  if (at >= cp->size)
    return Failure{kExitVerifyFailed, "not_in_checkpoint",
                   fmt::format("entry {} is beyond the checkpoint's {} entries", at, cp->size)};
  return *std::move(cp);
}

// The entry's leaf is in the checkpoint's tree.
Answer<InclusionProof> ProveInclusion(Context& c, const CheckedEntry& e, const Checkpoint& cp) {
  auto proof_json = c.client().GetJson(
      fmt::format("/v1/proofs/inclusion?index={}&tree_size={}", e.index, cp.size));
  if (auto* f = std::get_if<Failure>(&proof_json)) return *f;
  auto proof = api::InclusionFromJson(std::get<json>(proof_json));
  if (!proof.ok()) return Broken("inclusion proof", proof.status());
  if (proof->index != e.index || proof->tree_size != cp.size)
    return Failure{kExitVerifyFailed, "bad_response", "the proof is for another leaf or tree"};
  if (Status s = VerifyInclusion(e.leaf, *proof, cp.root); !s.ok())
    return Broken("inclusion proof", s);
  return *std::move(proof);
}

void PrintVerified(Context& c, const CheckedEntry& e, const Checkpoint& cp,
                   const InclusionProof& proof, bool pinned) {
  const Lang l = c.lang();
  const std::string kind(KindName(e.decoded.body.kind));
  if (c.json_output()) {
    c.PrintJson({{"verified", true},
                 {"index", e.index},
                 {"id", ToHex(e.decoded.body.id)},
                 {"kind", kind},
                 {"leaf_hash", ToHex(e.leaf)},
                 {"tree_size", cp.size},
                 {"root_hash", ToHex(cp.root)},
                 {"verifier_key_pinned", pinned},
                 {"proof_length", proof.path.size()}});
    return;
  }
  const std::string ok = std::string("✓ ") + std::string(T(l, "verified"));
  c.Print(
      Rows({{std::string(T(l, "entry")),
             fmt::format("#{} {} ({})", e.index, kind, ToHex(e.decoded.body.id))},
            {std::string(T(l, "signature")), ok},
            {std::string(T(l, "leaf_hash")), ToHex(e.leaf)},
            {std::string(T(l, "inclusion")), ok + fmt::format(" ({} hashes)", proof.path.size())},
            {std::string(T(l, "checkpoint")),
             fmt::format("{} / {} {}", cp.origin, T(l, "tree_size"), cp.size)},
            {std::string(T(l, "root_hash")), ToHex(cp.root)},
            {std::string(T(l, "cp_signature")), ok}}));
  if (!pinned)
    std::fprintf(stderr,
                 "note: the verifier key came from the node itself; pin the district's "
                 "published key with --verifier-key for an independent check\n");
}

}  // namespace

int VerifyCmd(Context& c, std::optional<std::uint64_t> index, const std::string& id) {
  bool pinned = false;
  auto verifier = TrustedVerifier(c, &pinned);
  if (auto* f = std::get_if<Failure>(&verifier)) return c.Report(*f);
  auto entry = FetchEntry(c, index, id);
  if (auto* f = std::get_if<Failure>(&entry)) return c.Report(*f);
  const CheckedEntry& e = std::get<CheckedEntry>(entry);
  auto cp = FetchCheckpoint(c, std::get<NoteVerifier>(verifier), e.index);
  if (auto* f = std::get_if<Failure>(&cp)) return c.Report(*f);
  auto proof = ProveInclusion(c, e, std::get<Checkpoint>(cp));
  if (auto* f = std::get_if<Failure>(&proof)) return c.Report(*f);
  PrintVerified(c, e, std::get<Checkpoint>(cp), std::get<InclusionProof>(proof), pinned);
  return kExitOk;
}

}  // namespace timebank::cli
