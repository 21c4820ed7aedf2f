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

}  // namespace

int VerifyCmd(Context& c, std::optional<std::uint64_t> index, const std::string& id) {
  const Lang l = c.lang();
  // 1. Whom to trust: the verifier key the city published, else the node's own (weaker).
  std::string vkey = c.settings().verifier_key;
  bool pinned = !vkey.empty();
  if (!pinned) {
    auto info = c.client().GetJson("/v1/info");
    if (auto* f = std::get_if<Failure>(&info)) return c.Report(*f);
    vkey = std::get<json>(info).value("verifier_key", "");
  }
  auto verifier = ParseVerifierKey(vkey);
  if (!verifier.ok()) return c.Report(Broken("verifier key", verifier.status()));

  // 2. The entry (an owner signs the request to read entries naming their account).
  const SigningKey* signer = nullptr;
  if (!c.settings().key_file.empty()) {
    auto key = c.Key();
    if (auto* f = std::get_if<Failure>(&key)) return c.Report(*f);
    signer = std::get<const SigningKey*>(key);
  }
  const std::string target =
      index ? fmt::format("/v1/entries/{}", *index) : "/v1/entries/by-id/" + id;
  auto served = c.client().GetJson(target, signer);
  if (auto* f = std::get_if<Failure>(&served)) return c.Report(*f);
  const json& e = std::get<json>(served);
  std::string bytes;
  if (!e.contains("entry") || !e["entry"].is_string() ||
      !Base64Decode(e["entry"].get<std::string>(), &bytes))
    return c.Report({kExitVerifyFailed, "bad_response", "the node sent no entry bytes"});
  const std::uint64_t at = e.value("index", 0ull);
  auto decoded = DecodeAndVerifyEntry(bytes);
  if (!decoded.ok()) return c.Report(Broken("entry signature", decoded.status()));
  const Hash leaf = LeafHash(bytes);

  // 3. The checkpoint, signed by the district's log key.
  auto note = c.client().GetText("/v1/checkpoint");
  if (auto* f = std::get_if<Failure>(&note)) return c.Report(*f);
  auto cp = OpenCheckpoint(std::get<std::string>(note), *verifier);
  if (!cp.ok()) return c.Report(Broken("checkpoint signature", cp.status()));
  if (at >= cp->size)
    return c.Report({kExitVerifyFailed, "not_in_checkpoint",
                     fmt::format("entry {} is beyond the checkpoint's {} entries", at, cp->size)});

  // 4. The entry's leaf is in that tree.
  auto proof_json =
      c.client().GetJson(fmt::format("/v1/proofs/inclusion?index={}&tree_size={}", at, cp->size));
  if (auto* f = std::get_if<Failure>(&proof_json)) return c.Report(*f);
  auto proof = api::InclusionFromJson(std::get<json>(proof_json));
  if (!proof.ok()) return c.Report(Broken("inclusion proof", proof.status()));
  if (proof->index != at || proof->tree_size != cp->size)
    return c.Report({kExitVerifyFailed, "bad_response", "the proof is for another leaf or tree"});
  if (Status s = VerifyInclusion(leaf, *proof, cp->root); !s.ok())
    return c.Report(Broken("inclusion proof", s));

  if (c.json_output()) {
    c.PrintJson({{"verified", true},
                 {"index", at},
                 {"id", ToHex(decoded->body.id)},
                 {"kind", KindName(decoded->body.kind)},
                 {"leaf_hash", ToHex(leaf)},
                 {"tree_size", cp->size},
                 {"root_hash", ToHex(cp->root)},
                 {"verifier_key_pinned", pinned},
                 {"proof_length", proof->path.size()}});
    return kExitOk;
  }
  const std::string ok = std::string("✓ ") + std::string(T(l, "verified"));
  c.Print(
      Rows({{std::string(T(l, "entry")),
             fmt::format("#{} {} ({})", at, KindName(decoded->body.kind), ToHex(decoded->body.id))},
            {std::string(T(l, "signature")), ok},
            {std::string(T(l, "leaf_hash")), ToHex(leaf)},
            {std::string(T(l, "inclusion")), ok + fmt::format(" ({} hashes)", proof->path.size())},
            {std::string(T(l, "checkpoint")),
             fmt::format("{} / {} {}", cp->origin, T(l, "tree_size"), cp->size)},
            {std::string(T(l, "root_hash")), ToHex(cp->root)},
            {std::string(T(l, "cp_signature")), ok}}));
  if (!pinned)
    std::fprintf(stderr,
                 "note: the verifier key came from the node itself; pin the district's "
                 "published key with --verifier-key for an independent check\n");
  return kExitOk;
}

}  // namespace timebank::cli
