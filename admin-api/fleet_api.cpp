#include "admin-api/fleet_api.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "admin-api/routes.h"

namespace pullprint::api {

namespace {

using nlohmann::json;

ApiResponse error(const Status& s) { return statusError(s); }
// A body that is already serialized JSON.
ApiResponse serialized(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

json errorsJson(const std::vector<policies::PolicyError>& errors) {
  json a = json::array();
  for (const auto& e : errors)
    a.push_back({{"line", e.line}, {"column", e.column}, {"message", e.message}});
  return a;
}

json defaultsJson(const policies::Policy& p) {
  json a = json::array();
  for (const auto& d : p.printerDefaults()) a.push_back({{"name", d.name}, {"value", d.value}});
  return a;
}

json versionJson(const PolicyVersion& v, bool with_document) {
  json j = {{"version", v.version},
            {"sha256", v.sha256},
            {"actor", v.actor},
            {"source", v.source},
            {"created_at", v.created_at}};
  if (with_document) j["document"] = v.document;
  return j;
}

// Query parameters that are positive integers; anything else is an error.
Status queryInts(const std::string& target, std::initializer_list<const char*> names,
                 std::map<std::string, std::int64_t>* out) {
  for (const auto& [name, v] : queryParams(target)) {
    if (std::find_if(names.begin(), names.end(), [&](const char* n) { return name == n; }) ==
        names.end())
      return {StatusCode::kInvalidArgument, "unknown parameter '" + name.substr(0, 64) + "'"};
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < 1)
      return {StatusCode::kInvalidArgument, name + " must be a positive integer"};
    (*out)[name] = n;
  }
  return Status::ok();
}

}  // namespace

ApiResponse FleetApi::handle(const ApiRequest& req, const User& user) const {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (user.role != Role::kAdmin) return error(403, "administrators only");
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  std::map<std::string, std::int64_t> query;

  if (path == "/api/v1/policies" && get) {
    auto p = fleet_.policy();
    if (!p) return error(404, "no policy is active");
    json out = {{"version", p->version()},
                {"summary", policies::summarizePolicy(*p)},
                {"printer_defaults", defaultsJson(*p)}};
    auto rec = fleet_.activeRecord();
    if (!rec) return error(rec.status());
    if (*rec) {
      out.update(versionJson(**rec, true));
    }
    return reply(200, out);
  }
  if ((path == "/api/v1/policies" || path == "/api/v1/policies/validate") && post) {
    if (req.body.empty()) return error(400, "the body must be a policy document (TOML)");
    if (req.body.size() > kMaxPolicyBytes)
      return error(400, "the policy document is larger than 1 MiB");
    std::vector<policies::PolicyError> errors;
    if (path == "/api/v1/policies/validate") {
      auto parsed = policies::parsePolicy(req.body, "policy", &errors);
      if (!parsed)
        return reply(400, json{{"valid", false},
                               {"error", parsed.status().message()},
                               {"errors", errorsJson(errors)}});
      json out = {{"valid", true},
                  {"version", parsed->version()},
                  {"summary", policies::summarizePolicy(*parsed)},
                  {"printer_defaults", defaultsJson(*parsed)}};
      if (auto cur = fleet_.policy()) {
        Status s = policies::checkReplacement(*cur, *parsed);
        out["replaces_active"] = s.isOk();
        if (!s) out["warning"] = s.message();
      } else {
        out["replaces_active"] = true;
      }
      return reply(200, out);
    }
    auto v = fleet_.replacePolicy(req.body, user.name, &errors);
    if (!v) {
      ApiResponse r = error(v.status());
      if (!errors.empty())
        r.body = json{{"error", v.status().message()}, {"errors", errorsJson(errors)}}.dump();
      return r;
    }
    return reply(201, versionJson(*v, false));
  }
  if (path == "/api/v1/policies/history" && get) {
    if (Status s = queryInts(req.target, {"limit", "version"}, &query); !s) return error(s);
    if (auto it = query.find("version"); it != query.end()) {
      auto one = fleet_.policyDocument(it->second);
      if (!one) return error(one.status());
      if (!*one) return error(404, "no stored policy version " + std::to_string(it->second));
      return reply(200, versionJson(**one, true));
    }
    int limit =
        static_cast<int>(std::min<std::int64_t>(query.count("limit") ? query["limit"] : 50, 1000));
    auto h = fleet_.history(limit);
    if (!h) return error(h.status());
    json a = json::array();
    for (const auto& v : *h) a.push_back(versionJson(v, false));
    auto p = fleet_.policy();
    return reply(200, json{{"active", p ? json(p->version()) : json(nullptr)}, {"versions", a}});
  }
  if (path == "/api/v1/fleet/push" && post) {
    std::optional<std::string> group;
    if (!req.body.empty()) {
      auto body = json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return error(400, "body must be a JSON object");
      for (auto& [k, v] : body.items()) {
        if (k != "group") return error(400, "unknown field '" + k + "' (group)");
        if (!v.is_string() || v.get<std::string>().empty())
          return error(400, "group must be a non-empty string");
        group = v.get<std::string>();
      }
    }
    auto run = fleet_.push(group, user.name);
    if (!run) return error(run.status());
    return serialized(200, spooler::toJson(*run));
  }
  if (path == "/api/v1/fleet/pushes" && get) {
    if (Status s = queryInts(req.target, {"limit"}, &query); !s) return error(s);
    int limit =
        static_cast<int>(std::min<std::int64_t>(query.count("limit") ? query["limit"] : 10, 100));
    auto runs = fleet_.pushRunsJson(limit);
    if (!runs) return error(runs.status());
    return serialized(200, *runs);
  }
  if (path == "/api/v1/fleet/drift" && get) {
    auto last = fleet_.lastDriftJson();
    if (!last) return error(last.status());
    if (!*last) return error(404, "no drift check has run yet (POST /api/v1/fleet/check)");
    return serialized(200, **last);
  }
  if (path == "/api/v1/fleet/check" && post) {
    auto report = fleet_.check(user.name);
    if (!report) return error(report.status());
    return serialized(200, spooler::toJson(*report));
  }
  bool known = path == "/api/v1/policies" || path == "/api/v1/policies/validate" ||
               path == "/api/v1/policies/history" || path == "/api/v1/fleet/push" ||
               path == "/api/v1/fleet/pushes" || path == "/api/v1/fleet/drift" ||
               path == "/api/v1/fleet/check";
  if (known) return error(405, "method " + req.method + " is not allowed on " + path);
  return error(404, "no such route: " + req.method + " " + path);
}

}  // namespace pullprint::api
