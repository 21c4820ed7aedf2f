// api.h — what timebankd and its clients agree on: signed requests, the error envelope,
// and the JSON shapes of the HTTP API v1 (docs/api.md, docs/openapi.json).
//
// Shared by the node (node/) and the CLI (cli/); it depends only on libledger.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ledger/checkpoint.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/proof.h"
#include "ledger/status.h"

namespace timebank::api {

using nlohmann::json;

// --- Signed requests ---------------------------------------------------------------------
// Personal reads and restricted log reads carry an Ed25519 signature over the request:
//
//   timebank-request/v1 \n METHOD \n TARGET \n TIME \n NONCE \n hex(SHA-256(body))
//
// TARGET is the path with its query exactly as sent ("/v1/accounts/510104000000011?x=1"),
// TIME the signer's clock in Unix seconds, NONCE 8 to 64 characters [0-9a-zA-Z] chosen at
// random for each request (Ed25519 signatures are deterministic: without it two equal
// requests in one second would look like a replay). The four headers below carry key,
// time, nonce and signature (hex). A node accepts a TIME within its replay window of its
// own clock and each signature only once.
inline constexpr char kKeyHeader[] = "X-Timebank-Key";
inline constexpr char kTimeHeader[] = "X-Timebank-Time";
inline constexpr char kNonceHeader[] = "X-Timebank-Nonce";
inline constexpr char kSignatureHeader[] = "X-Timebank-Signature";

// Unix seconds now (the clock of signed requests and of entries clients write).
std::int64_t UnixNow();

std::string RequestSigningMessage(std::string_view method, std::string_view target,
                                  std::int64_t time, std::string_view nonce, std::string_view body);

struct RequestSignature {
  std::string key;        // hex, 64 characters
  std::string time;       // decimal Unix seconds
  std::string nonce;      // 32 hex characters, fresh each call
  std::string signature;  // hex, 128 characters
};
RequestSignature SignRequest(const ledger::SigningKey& key, std::string_view method,
                             std::string_view target, std::int64_t time, std::string_view body);

// POST /v1/entries also takes a binary batch of this media type: each entry as a
// big-endian uint16 length and its bytes (the framing of a C2SP tlog-tiles entry bundle).
inline constexpr char kEntriesMediaType[] = "application/x-timebank-entries";

// --- Errors ------------------------------------------------------------------------------
// Every error is {"error":{"code":"...","message":"..."}}. Codes are the ledger's stable
// names (status.h, CodeName) plus the node's own below.
namespace codes {
inline constexpr char kBadJson[] = "bad_json";                     // 400: body is not JSON
inline constexpr char kBadRequest[] = "bad_request";               // 400: missing/wrong field
inline constexpr char kBodyTooLarge[] = "body_too_large";          // 413
inline constexpr char kUnknownRoute[] = "unknown_route";           // 404
inline constexpr char kMethodNotAllowed[] = "method_not_allowed";  // 405
inline constexpr char kUnauthenticated[] = "unauthenticated";      // 401: no request signature
inline constexpr char kBadRequestSignature[] = "bad_request_signature";  // 401
inline constexpr char kRequestExpired[] = "request_expired";             // 401: time outside window
inline constexpr char kReplayedRequest[] = "replayed_request";  // 401: signature seen before
inline constexpr char kForbidden[] = "forbidden";               // 403: signed, not allowed
inline constexpr char kUnavailable[] = "unavailable";           // 503: shutting down / busy
inline constexpr char kHomeUnreachable[] = "home_unreachable";  // 503: a forwarded entry's
                                                                // home district did not answer
inline constexpr char kBadReceipt[] = "bad_receipt";  // 502: the home's receipt does not verify
inline constexpr char kNoAlert[] = "no_alert";        // 404: the peer has no alert to clear
}  // namespace codes

json ErrorBody(std::string_view code, std::string_view message);
// The HTTP status a ledger code is answered with.
int HttpStatusFor(ledger::Code code);

// --- JSON shapes ---------------------------------------------------------------------------
json ToJson(const ledger::AccountInfo& a);
json ToJson(const ledger::Policy& p);
json ToJson(const ledger::InclusionProof& p);
json ToJson(const ledger::ConsistencyProof& p);
json ToJson(const ledger::HistoryPage& page);
// An entry as served: its bytes (base64), leaf hash and a readable summary of its body.
json EntryJson(std::uint64_t index, const std::string& entry_bytes);
json BodyJson(const ledger::EntryBody& body);

// Reads a policy back (the shape ToJson writes; gift_scope also by name: anyone,
// relatives_and_friends, direct_relatives, none). kInvalidArgument names the field at
// fault; a field it does not know is an error, not ignored.
ledger::Result<ledger::Policy> PolicyFromJson(const json& j);
// A gift scope's name, e.g. "relatives_and_friends".
std::string_view GiftScopeName(ledger::GiftScope scope);

// Reads a proof back; kInvalidArgument with the field at fault.
ledger::Result<ledger::InclusionProof> InclusionFromJson(const json& j);
ledger::Result<ledger::ConsistencyProof> ConsistencyFromJson(const json& j);
ledger::Result<ledger::Hash> HashFromHex(std::string_view hex);

std::string_view AccountTypeName(ledger::AccountType t);

}  // namespace timebank::api
