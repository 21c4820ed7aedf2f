// auth.h — checking signed requests (api.h) and remembering signatures already used.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>

#include "ledger/types.h"

namespace timebank::node {

// Who signed a request, once its signature, time and freshness are checked.
struct Caller {
  ledger::PublicKey key{};
};

struct AuthError {
  int http_status;
  std::string code;
  std::string message;
};

// Remembers each accepted request signature for twice the replay window; a second use is
// refused. Memory is bounded: at most `capacity` signatures are remembered, and when full
// new requests are refused (503) rather than forgetting ones still inside the window.
class ReplayGuard {
 public:
  ReplayGuard(std::int64_t window_seconds, std::size_t capacity = 4'000'000)
      : window_(window_seconds), capacity_(capacity) {}
  // True when `signature` (its first 16 bytes suffice) was not seen; records it.
  // *full is set when the guard cannot take more.
  bool FirstUse(std::string_view signature, std::int64_t now, bool* full);

 private:
  std::int64_t window_;
  std::size_t capacity_;
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<std::int64_t, std::string>> order_;  // (time seen, signature prefix)
};

// Checks the three signature headers of a request. `headers` gives a header's value or
// nullopt. On success the caller's key; else the error to answer with.
struct RequestView {
  std::string method;
  std::string target;  // path and query as sent
  std::string_view body;
  std::optional<std::string> key, time, nonce, signature;
};
std::variant<Caller, AuthError> CheckSignedRequest(const RequestView& req, std::int64_t now,
                                                   std::int64_t window, ReplayGuard* replay);

}  // namespace timebank::node
