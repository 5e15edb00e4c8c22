#include "admin-api/api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "admin-api/fleet_api.h"
#include "admin-api/reports.h"
#include "admin-api/routes.h"
#include "admin-api/stations.h"
#include "core/cidr.h"
#include "core/names.h"

namespace pullprint::api {

using nlohmann::json;

// ---------------------------------------------------------------------------
// Helpers shared by the route files (declared in routes.h)

ApiResponse reply(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

ApiResponse error(int status, const std::string& message) {
  ApiResponse r = reply(status, json{{"error", message}});
  r.challenge = status == 401;
  return r;
}

ApiResponse statusError(const Status& s) { return error(httpStatusFor(s), s.message()); }

ApiResponse noContent() {
  ApiResponse r;
  r.status = 204;
  return r;
}

std::optional<json> jsonBody(const ApiRequest& req, ApiResponse* err) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    *err = error(400, "body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> jsonString(const json& j, const char* key, bool* bad) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_string()) {
    *bad = true;
    return std::nullopt;
  }
  return j[key].get<std::string>();
}

bool validPercentEncoding(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return false;
    i += 2;
  }
  return true;
}

std::string urlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> queryParams(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    if (!kv.empty()) {
      auto eq = kv.find('=');
      out.emplace_back(urlDecode(kv.substr(0, eq)),
                       eq == std::string_view::npos ? "" : urlDecode(kv.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<ApiResponse> rejectUnknownParams(
    const std::vector<std::pair<std::string, std::string>>& params,
    const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : params) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return error(400, "unknown parameter '" + k.substr(0, 64) +
                            "' (allowed: " + (list.empty() ? "none" : list) + ")");
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> parseInt(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<ApiResponse> parsePaging(const std::vector<std::pair<std::string, std::string>>& q,
                                       Paging* out) {
  out->limit = kDefaultLimit;
  out->offset = 0;
  for (const auto& [k, v] : q) {
    if (k == "limit") {
      auto n = parseInt(v);
      if (!n || *n < 1 || *n > kMaxLimit)
        return error(400, "limit must be an integer 1.." + std::to_string(kMaxLimit));
      out->limit = *n;
    } else if (k == "offset") {
      auto n = parseInt(v);
      if (!n || *n < 0) return error(400, "offset must be a non-negative integer");
      out->offset = *n;
    }
  }
  return std::nullopt;
}

json jobJson(const Job& j) {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); };
  return {{"id", j.id},
          {"queue", j.queue},
          {"owner", j.owner},
          {"name", j.name},
          {"state", jobStateName(j.state)},
          {"state_reasons", j.state_reasons},
          {"state_message", j.state_message},
          {"format", j.format},
          {"size_bytes", j.size_bytes},
          {"sha256", j.sha256},
          {"documents", j.document_count},
          {"copies", j.copies},
          {"sides", j.sides},
          {"color_mode", j.color_mode},
          {"created_at", j.created_at},
          {"completed_at", j.completed_at},
          {"hold_expires_at", j.hold_expires_at},
          {"pages", opt(j.pages)},
          {"impressions", opt(j.impressions)},
          {"impressions_total", opt(j.impressions_total)},
          {"sheets", opt(j.sheets)},
          {"count_confidence", j.count_confidence},
          {"printer", j.printer},
          {"printer_job_id", j.printer_job_id},
          {"released_by", j.released_by}};
}

json printerJson(const Printer& p, bool full) {
  json out = {{"name", p.name},          {"location", p.location},
              {"group", p.group},        {"info", p.info},
              {"state", p.state},        {"state_message", p.state_message},
              {"last_seen", p.last_seen}};
  if (full) {
    out["uri"] = p.uri;
    out["updated_at"] = p.updated_at;
    out["capabilities"] = json::parse(p.capabilities_json, nullptr, false);
    if (out["capabilities"].is_discarded()) out["capabilities"] = json::object();
  }
  return out;
}

json userJson(const User& u) {
  return {{"name", u.name},
          {"role", roleName(u.role)},
          {"department", u.department},
          {"created_at", u.created_at},
          {"has_password", !u.password_hash.empty()}};
}

const char* accessName(Access a) {
  switch (a) {
    case Access::kPublic:
      return "public";
    case Access::kStation:
      return "station";
    case Access::kAny:
      return "any";
    case Access::kAdmin:
      return "admin";
    case Access::kReports:
      return "admin,sustainability";
    case Access::kMetrics:
      return "metrics";
  }
  return "any";
}

// ---------------------------------------------------------------------------
// RouteTable

namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool isParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void RouteTable::add(const std::string& method, const std::string& path, Access access,
                     Handler handler) {
  Route r;
  r.info = {method, path, accessName(access)};
  r.access = access;
  r.handler = std::move(handler);
  r.segments = splitPath(path);
  routes_.push_back(std::move(r));
}

RouteTable::Match RouteTable::match(const std::string& method, const std::string& path) const {
  Match best;
  int best_literals = -1;
  if (path.find("//") != std::string::npos) return best;
  auto segs = splitPath(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    int literals = 0;
    bool ok = true;
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (isParam(r.segments[i])) {
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = urlDecode(segs[i]);
      } else if (r.segments[i] == segs[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (r.info.method != method) {
      best.other_method = true;
      best.allowed.push_back(r.info.method);
      continue;
    }
    if (literals > best_literals) {
      best.route = &r;
      best.params = std::move(params);
      best_literals = literals;
    }
  }
  return best;
}

std::vector<RouteInfo> RouteTable::infos() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back(r.info);
  return out;
}

// ---------------------------------------------------------------------------
// Errors -> HTTP

// The one mapping from pullprint errors to HTTP status codes.
int httpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

// ---------------------------------------------------------------------------
// Api

Api::Api(const Config& config, spooler::JobService& jobs, spooler::ReleaseEngine& release,
         Authenticator& auth, Logger& log)
    : config_(config),
      jobs_(jobs),
      release_(release),
      log_(log),
      reports_(
          std::make_unique<ReportService>(config.database.string(), environmentFactors(config))),
      authn_(std::make_unique<AuthService>(config, jobs.store(), auth, jobs.clock(), log)),
      audit_(std::make_unique<AuditLog>(jobs.store(), jobs.clock(), log)),
      deps_(std::make_unique<ApiDeps>(
          ApiDeps{config, jobs, release, jobs.store(), jobs.clock(), *authn_, *audit_, log})),
      table_(std::make_unique<RouteTable>()) {
  buildRoutes();
}

Api::~Api() = default;

void Api::setStationApi(StationApi* stations) {
  stations_ = stations;
  if (stations_) stations_->setAudit(audit_.get());
}

std::vector<RouteInfo> Api::routes() const { return table_->infos(); }

Status Api::addRoute(const std::string& method, const std::string& path_template,
                     const std::string& access, UserHandler handler) {
  Access a;
  if (access == "any")
    a = Access::kAny;
  else if (access == "admin")
    a = Access::kAdmin;
  else if (access == "admin,sustainability")
    a = Access::kReports;
  else
    return {StatusCode::kInvalidArgument, "access must be any, admin or admin,sustainability"};
  if (!path_template.starts_with("/api/v1/") || !handler)
    return {StatusCode::kInvalidArgument, "routes live under /api/v1/ and need a handler"};
  for (const auto& r : table_->infos())
    if (r.method == method && r.path == path_template)
      return {StatusCode::kAlreadyExists, method + " " + path_template + " exists"};
  table_->add(method, path_template, a,
              [h = std::move(handler)](RouteContext& c) { return h(c.req, c.user()); });
  return Status::ok();
}

bool Api::serves(std::string_view target) {
  return target.starts_with("/api/") || target == "/metrics" || target.starts_with("/metrics?");
}

ApiResponse Api::handle(const ApiRequest& req) {
  if (!validPercentEncoding(req.target))
    return error(400,
                 "bad percent-encoding in the request target ('%' must be followed by two "
                 "hex digits)");
  const std::string path = req.target.substr(0, req.target.find('?'));
  auto m = table_->match(req.method, path);
  if (!m.route) {
    if (m.other_method) {
      ApiResponse r = error(405, "method " + req.method.substr(0, 16) + " not allowed on " + path);
      std::string allow;
      for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    return error(404, "no such route: " + req.method + " " + path.substr(0, 200));
  }
  RouteContext ctx{req, nullptr, std::move(m.params)};
  const Access access = m.route->access;
  if (access == Access::kPublic || access == Access::kStation) return m.route->handler(ctx);

  // /metrics: scrape addresses need no credentials.
  if (access == Access::kMetrics && !AuthService::hasCredentials(req)) {
    auto allow = CidrSet::parse(config_.metrics_allow);
    if (allow && allow->contains(req.peer_address)) return m.route->handler(ctx);
  }

  // --- Authentication, then the route's access ---
  auto principal = authn_->authenticate(req);
  if (!principal) {
    ApiResponse r = statusError(principal.status());
    // No Basic dialog for browsers that use sessions or for token scripts.
    r.challenge = r.status == 401 && req.header("cookie").empty() &&
                  req.header("authorization").rfind("Bearer", 0) != 0 &&
                  req.header("x-requested-with").empty();
    return r;
  }
  ctx.principal = &*principal;
  const Role role = principal->user.role;
  if ((access == Access::kAdmin || access == Access::kMetrics) && role != Role::kAdmin)
    return error(403, "administrators only");
  if (access == Access::kReports && role != Role::kAdmin && role != Role::kSustainability)
    return error(403, "administrators and sustainability viewers only");
  return m.route->handler(ctx);
}

// ---------------------------------------------------------------------------
// The route table

void Api::buildRoutes() {
  RouteTable& t = *table_;
  ApiDeps& d = *deps_;

  t.add("GET", "/api/v1/health", Access::kPublic, [](RouteContext&) {
    return reply(200, {{"status", "ok"}});
  });

  addSessionRoutes(t, d);
  addPrinterRoutes(t, d);
  addJobRoutes(t, d);
  addUserRoutes(t, d);

  // Stations and cards (admin-api/stations.h) get the authenticated user.
  auto stations = [this](RouteContext& c) {
    if (!stations_) return error(503, "card release is not configured");
    return c.principal ? stations_->handleUser(c.req, c.user()) : stations_->handle(c.req);
  };
  t.add("POST", "/api/v1/stations/release", Access::kStation, stations);
  t.add("POST", "/api/v1/stations", Access::kAdmin, stations);
  t.add("GET", "/api/v1/stations", Access::kAdmin, stations);
  t.add("POST", "/api/v1/stations/{name}/revoke", Access::kAdmin, stations);
  t.add("POST", "/api/v1/cards", Access::kAdmin, stations);
  t.add("GET", "/api/v1/cards", Access::kAny, stations);
  t.add("POST", "/api/v1/cards/import", Access::kAdmin, stations);
  t.add("POST", "/api/v1/cards/register-intent", Access::kAny, stations);
  t.add("DELETE", "/api/v1/cards/{uid}", Access::kAny, stations);
  t.add("POST", "/api/v1/cards/{uid}/revoke", Access::kAny, stations);

  // Policies and fleet push (admin-api/fleet_api.h); changes are audited.
  auto fleet = [this](RouteContext& c) {
    if (c.req.target.starts_with("/api/v1/fleet/push")) {  // the one JSON body among them
      ApiResponse bad;
      if (!jsonBody(c.req, &bad)) return bad;
    }
    if (!fleet_) return error(503, "fleet push is not configured");
    ApiResponse r = fleet_->handle(c.req, c.user());
    if (c.req.method == "POST" && r.status < 300 &&
        !c.req.target.starts_with("/api/v1/policies/validate")) {
      const std::string path = c.req.target.substr(0, c.req.target.find('?'));
      auto after = json::parse(r.body, nullptr, false);
      if (after.is_object()) after.erase("document");  // the TOML is kept in policy_versions
      (void)audit_->record(c.user().name, "POST " + path, path, nullptr,
                           after.is_discarded() ? json(nullptr) : after);
    }
    return r;
  };
  t.add("GET", "/api/v1/policies", Access::kAdmin, fleet);
  t.add("POST", "/api/v1/policies", Access::kAdmin, fleet);
  t.add("POST", "/api/v1/policies/validate", Access::kAdmin, fleet);
  t.add("GET", "/api/v1/policies/history", Access::kAdmin, fleet);
  t.add("POST", "/api/v1/fleet/push", Access::kAdmin, fleet);
  t.add("GET", "/api/v1/fleet/pushes", Access::kAdmin, fleet);
  t.add("GET", "/api/v1/fleet/drift", Access::kAdmin, fleet);
  t.add("POST", "/api/v1/fleet/check", Access::kAdmin, fleet);

  // Reports (admin-api/reports.h): one template, the service names the report.
  t.add("GET", "/api/v1/reports/{report}", Access::kReports,
        [this](RouteContext& c) { return reports_->handle(c.req, c.user()); });

  t.add("GET", "/metrics", Access::kMetrics, [this](RouteContext&) {
    ApiResponse r;
    r.body = metricsText(*deps_, metrics_);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
}

// ---------------------------------------------------------------------------
// Printers

void addPrinterRoutes(RouteTable& t, ApiDeps& d) {
  // Body {"uri","location"?,"group"?,"info"?} -> a Printer; error in *err.
  auto fromBody = [](const std::string& name, const json& body, const Printer* old,
                     ApiResponse* err) -> std::optional<Printer> {
    bool bad = false;
    auto uri = jsonString(body, "uri", &bad);
    auto location = jsonString(body, "location", &bad);
    auto group = jsonString(body, "group", &bad);
    auto info = jsonString(body, "info", &bad);
    if (bad) {
      *err = error(400, "uri, location, group and info must be strings");
      return std::nullopt;
    }
    if (!isSafeName(name, kMaxPrinterName)) {
      *err = error(400, "name must be 1-127 of A-Z a-z 0-9 _ -");
      return std::nullopt;
    }
    Printer p = old ? *old : Printer{};
    p.name = name;
    if (uri) p.uri = *uri;
    if (location) p.location = *location;
    if (group) p.group = *group;
    if (info) p.info = *info;
    if (!isIppUri(p.uri)) {
      *err = error(400, "uri is required and must start with ipp:// or ipps://");
      return std::nullopt;
    }
    return p;
  };
  auto load = [&d](const std::string& name) { return d.store.printer(name); };

  t.add("GET", "/api/v1/printers", Access::kAny, [&d](RouteContext& c) {
    if (auto e = rejectUnknownParams(queryParams(c.req.target), {})) return *e;
    auto ps = d.store.printers();
    if (!ps) return statusError(ps.status());
    json out = json::array();
    for (const auto& p : *ps) out.push_back(printerJson(p, c.admin()));
    return reply(200, {{"printers", out}});
  });
  t.add("GET", "/api/v1/printers/{name}", Access::kAny, [load](RouteContext& c) {
    auto p = load(c.params["name"]);
    if (!p) return statusError(p.status());
    if (!p->has_value()) return error(404, "no such printer");
    return reply(200, printerJson(**p, c.admin()));
  });
  // Create (POST, 409 when it exists) and create-or-update (PUT).
  auto save = [&d, fromBody, load](RouteContext& c, const std::string& name,
                                   bool create_only) -> ApiResponse {
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    auto old = load(name);
    if (!old) return statusError(old.status());
    if (create_only && old->has_value()) return error(409, "a printer named '" + name + "' exists");
    auto p = fromBody(name, *body, old->has_value() ? &**old : nullptr, &err);
    if (!p) return err;
    if (Status s = d.release.addPrinter(*p); !s) return statusError(s);
    auto saved = load(name);
    Printer now = saved && saved->has_value() ? **saved : *p;
    (void)d.audit.record(c.user().name, old->has_value() ? "printer.update" : "printer.create",
                         name, old->has_value() ? printerJson(**old, true) : json(nullptr),
                         printerJson(now, true));
    return reply(old->has_value() ? 200 : 201, printerJson(now, true));
  };
  t.add("POST", "/api/v1/printers", Access::kAdmin, [save](RouteContext& c) {
    json body = json::parse(c.req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("name") ||
        !body["name"].is_string())
      return error(400, "body must be a JSON object with a string name");
    return save(c, body["name"].get<std::string>(), true);
  });
  t.add("PUT", "/api/v1/printers/{name}", Access::kAdmin,
        [save](RouteContext& c) { return save(c, c.params["name"], false); });
  t.add("DELETE", "/api/v1/printers/{name}", Access::kAdmin, [&d, load](RouteContext& c) {
    const std::string name = c.params["name"];
    auto old = load(name);
    if (!old) return statusError(old.status());
    if (!old->has_value()) return error(404, "no such printer");
    Status s = d.store.write([&](StoreWriter& w) { return w.deletePrinter(name); });
    if (!s) return statusError(s);
    (void)d.audit.record(c.user().name, "printer.delete", name, printerJson(**old, true), nullptr);
    return noContent();
  });
  t.add("POST", "/api/v1/printers/{name}/refresh", Access::kAdmin, [&d, load](RouteContext& c) {
    const std::string name = c.params["name"];
    Status s = d.release.refreshPrinter(name);
    if (!s) return statusError(s);
    auto p = load(name);
    if (!p || !p->has_value()) return error(404, "no such printer");
    return reply(200, printerJson(**p, true));
  });
}

}  // namespace pullprint::api
