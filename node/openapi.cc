// The OpenAPI 3 document of the HTTP API (timebankd openapi; docs/openapi.json), made from
// the route table so that it cannot drift from what the node serves.
#include <algorithm>
#include <map>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "node_impl.h"

namespace timebank::node {

using api::json;

namespace {

// One route as an OpenAPI operation: its path parameters, whether it is signed, its
// examples, and the error envelope every route shares.
// The query parameters each operation reads (its handler in routes.cc, federation.cc or
// clearing.cc); the route table itself carries only the path.
struct QueryParam {
  const char* name;
  const char* type;  // "integer" or "string"
  bool required;
  const char* description;
};
const std::map<std::string_view, std::vector<QueryParam>>& QueryParams() {
  static const std::map<std::string_view, std::vector<QueryParam>> params = {
      {"get_history",
       {{"limit", "integer", false, "entries a page, 1..1000 (default 100)"},
        {"from", "integer", false, "the previous page's `next`"},
        {"detail", "integer", false, "1: each entry's kind and time too"}}},
      {"get_inclusion_proof",
       {{"index", "integer", true, "the entry's index"},
        {"tree_size", "integer", false, "the tree the proof is for (default: the current size)"}}},
      {"get_consistency_proof",
       {{"old", "integer", true, "the smaller tree's size"},
        {"new", "integer", false, "the larger tree's size (default: the current size)"}}},
      {"get_set_asides", {{"account", "string", false, "one person's set-asides only"}}},
      {"get_clearing",
       {{"from", "string", false, "first local day, YYYY-MM-DD (default: the 1st of this month)"},
        {"to", "string", false, "the day after the last, YYYY-MM-DD (default: tomorrow)"}}},
  };
  return params;
}

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
  if (auto q = QueryParams().find(r.name); q != QueryParams().end())
    for (const QueryParam& p : q->second)
      params.push_back({{"name", p.name},
                        {"in", "query"},
                        {"required", p.required},
                        {"description", p.description},
                        {"schema", {{"type", p.type}}}});
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
  for (const auto& [name, params] : QueryParams())
    if (std::none_of(Routes().begin(), Routes().end(),
                     [&](const Route& r) { return r.name == name; }))
      throw std::logic_error("openapi: query parameters for " + std::string(name) +
                             ", which is no route");
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
