#include "auth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "api.h"
#include "ledger/keys.h"

namespace timebank::node {

bool ReplayGuard::FirstUse(std::string_view signature, std::int64_t now, bool* full) {
  const std::string prefix(signature.substr(0, 16));
  std::lock_guard lk(mu_);
  while (!order_.empty() && order_.front().first < now - 2 * window_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
  *full = false;
  if (seen_.count(prefix)) return false;
  if (seen_.size() >= capacity_) {
    *full = true;
    return false;
  }
  seen_.insert(prefix);
  order_.emplace_back(now, prefix);
  return true;
}

std::variant<Caller, AuthError> CheckSignedRequest(const RequestView& req, std::int64_t now,
                                                   std::int64_t window, ReplayGuard* replay) {
  namespace c = api::codes;
  if (!req.key && !req.time && !req.nonce && !req.signature)
    return AuthError{401, c::kUnauthenticated,
                     "this resource needs a signed request (X-Timebank-Key, X-Timebank-Time, "
                     "X-Timebank-Nonce, X-Timebank-Signature)"};
  if (!req.key || !req.time || !req.nonce || !req.signature)
    return AuthError{401, c::kBadRequestSignature,
                     "a signed request needs all four of X-Timebank-Key, X-Timebank-Time, "
                     "X-Timebank-Nonce and X-Timebank-Signature"};
  if (req.nonce->size() < 8 || req.nonce->size() > 64 ||
      !std::all_of(req.nonce->begin(), req.nonce->end(),
                   [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); }))
    return AuthError{401, c::kBadRequestSignature,
                     "X-Timebank-Nonce must be 8 to 64 letters or digits"};
  Caller caller;
  if (req.key->size() != 64 || !ledger::FromHex(*req.key, &caller.key))
    return AuthError{401, c::kBadRequestSignature, "X-Timebank-Key must be 64 hex characters"};
  ledger::SignatureBytes sig;
  if (req.signature->size() != 128 || !ledger::FromHex(*req.signature, &sig))
    return AuthError{401, c::kBadRequestSignature,
                     "X-Timebank-Signature must be 128 hex characters"};
  std::int64_t t = 0;
  const auto* end = req.time->data() + req.time->size();
  if (auto [p, ec] = std::from_chars(req.time->data(), end, t); ec != std::errc() || p != end)
    return AuthError{401, c::kBadRequestSignature, "X-Timebank-Time must be Unix seconds"};
  if (t > now + window || t < now - window)
    return AuthError{401, c::kRequestExpired,
                     fmt::format("request time {} is {} s from the node's clock; the window is "
                                 "{} s (check the clock)",
                                 t, t - now, window)};
  const std::string msg =
      api::RequestSigningMessage(req.method, req.target, t, *req.nonce, req.body);
  if (!ledger::VerifySignature(caller.key, msg, sig))
    return AuthError{401, c::kBadRequestSignature,
                     "the request signature does not verify for this method, path, time and body"};
  bool full = false;
  if (!replay->FirstUse(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()),
                        now, &full)) {
    if (full)
      return AuthError{503, c::kUnavailable, "too many signed requests in the window; retry"};
    return AuthError{401, c::kReplayedRequest,
                     "this signed request was already used; sign each request anew"};
  }
  return caller;
}

}  // namespace timebank::node
