#include "client.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace timebank::cli {

using api::json;

struct Client::Conn {
  httplib::Client http;
  explicit Conn(const std::string& url) : http(url) {}
};

Client::Client(std::string url, int wait_seconds, const std::string& ca_cert)
    : url_(std::move(url)), wait_seconds_(wait_seconds), conn_(std::make_unique<Conn>(url_)) {
  if (!ca_cert.empty()) conn_->http.set_ca_cert_path(ca_cert.c_str());
  conn_->http.set_connection_timeout(3, 0);
  conn_->http.set_read_timeout(30, 0);
  conn_->http.set_write_timeout(30, 0);
  conn_->http.set_keep_alive(true);
  conn_->http.set_tcp_nodelay(true);
}

Client::~Client() = default;

Answer<json> Client::Request(const std::string& method, const std::string& target,
                             const std::string& body, const ledger::SigningKey* signer,
                             std::string* raw) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds_);
  for (;;) {
    httplib::Headers headers;
    if (signer) {
      auto sig = api::SignRequest(*signer, method, target, api::UnixNow(), body);
      headers = {{api::kKeyHeader, sig.key},
                 {api::kTimeHeader, sig.time},
                 {api::kNonceHeader, sig.nonce},
                 {api::kSignatureHeader, sig.signature}};
    }
    httplib::Result r =
        method == "GET"    ? conn_->http.Get(target, headers)
        : method == "POST" ? conn_->http.Post(target, headers, body, "application/json")
        : method == "PUT"  ? conn_->http.Put(target, headers, body, "application/json")
                           : conn_->http.Delete(target, headers, body, "application/json");
    if (!r) {
      if (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      return Failure{kExitUnreachable, "unreachable",
                     fmt::format("no answer from {} ({})", url_, httplib::to_string(r.error()))};
    }
    if (raw && r->status == 200) {
      *raw = r->body;
      return json();
    }
    json j = json::parse(r->body, nullptr, false);
    if (r->status == 200 && !j.is_discarded()) return j;
    if (!j.is_discarded() && j.contains("error") && j["error"].is_object())
      return Failure{kExitRejected, j["error"].value("code", "unknown"),
                     j["error"].value("message", "")};
    return Failure{kExitError, "bad_response",
                   fmt::format("{} answered HTTP {} without an error body", url_, r->status)};
  }
}

Answer<json> Client::GetJson(const std::string& target, const ledger::SigningKey* signer) {
  return Request("GET", target, "", signer);
}

Answer<std::string> Client::GetText(const std::string& target) {
  std::string raw;
  auto r = Request("GET", target, "", nullptr, &raw);
  if (auto* f = std::get_if<Failure>(&r)) return *f;
  return raw;
}

Answer<json> Client::Send(const std::string& method, const std::string& target, const json& body,
                          const ledger::SigningKey* signer) {
  return Request(method, target, body.dump(), signer);
}

Answer<json> Client::Submit(const std::string& entry_bytes) {
  return Send("POST", "/v1/entries", json{{"entry", ledger::Base64Encode(entry_bytes)}});
}

}  // namespace timebank::cli
