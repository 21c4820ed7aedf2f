// The OpenAPI 3 document of the HTTP API (timebankd openapi; docs/openapi.json), made from
// the route table so that it cannot drift from what the node serves.
#include <algorithm>

#include "node_impl.h"

namespace timebank::node {

using api::json;

namespace {

// One route as an OpenAPI operation: its path parameters, whether it is signed, its
// examples, and the error envelope every route shares.
json OpenApiOperation(const Route& r) {
  json op = {{"operationId", r.name}, {"summary", r.summary}, {"x-access", AccessName(r.access)}};
  json params = json::array();
  std::string_view path = r.path;
  for (std::size_t at = path.find('{'); at != std::string_view::npos; at = path.find('{', at + 1)) {
    const auto end = path.find('}', at);
    params.push_back({{"name", std::string(path.substr(at + 1, end - at - 1))},
                      {"in", "path"},
                      {"required", true},
                      {"schema", {{"type", "string"}}}});
  }
  if (!params.empty()) op["parameters"] = params;
  if (r.access != Access::kPublic)
    op["security"] = json::array({{{"timebankSignature", json::array()}}});
  if (*r.request_example)
    op["requestBody"] = {
        {"required", true},
        {"content", {{"application/json", {{"example", json::parse(r.request_example)}}}}}};
  json ok = {{"description", "success"}};
  auto example = json::parse(r.response_example, nullptr, false);
  if (!example.is_discarded())
    ok["content"] = {{"application/json", {{"example", example}}}};
  else
    ok["content"] = {{"text/plain", {{"example", r.response_example}}}};
  op["responses"] = {
      {"200", ok},
      {"default",
       {{"description", "error envelope"},
        {"content",
         {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
  return op;
}

}  // namespace

std::string OpenApiDocument() {
  json paths = json::object();
  for (const Route& r : Routes()) {
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    paths[r.path][method] = OpenApiOperation(r);
  }
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "timebankd HTTP API"},
        {"version", "v1"},
        {"description",
         "Generated from the route table in node/routes.cc (timebankd openapi). "
         "See docs/api.md for signed requests, error codes and limits."}}},
      {"paths", paths},
      {"components",
       {{"securitySchemes",
         {{"timebankSignature",
           {{"type", "apiKey"},
            {"in", "header"},
            {"name", "X-Timebank-Signature"},
            {"description",
             "Ed25519 over "
             "'timebank-request/v1\\nMETHOD\\nTARGET\\nTIME\\nNONCE\\nhex(sha256(body))' "
             "with X-Timebank-Key, X-Timebank-Time and X-Timebank-Nonce"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", {"code", "message"}},
                {"properties",
                 {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}}}}};
  return doc.dump(2) + "\n";
}

}  // namespace timebank::node
