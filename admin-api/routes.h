// RouteTable: the one list of REST routes (method, path template, access,
// handler) that Api::handle dispatches from and Api::routes() reports (the
// OpenAPI test compares it with docs/openapi.json both ways).
//
// Path templates are literal segments and `{name}` segments; a `{name}`
// matches one non-empty segment (percent-decoded into params). When several
// templates match, the one with the most literal segments wins (so
// /api/v1/jobs/expire beats /api/v1/jobs/{id}). A path that matches with
// another method gets 405.
//
// Access is checked by Api before the handler runs: kPublic and kStation
// need no principal (stations sign their requests, see stations.h); kAny is
// any authenticated user (handlers narrow further, e.g. own jobs only);
// kAdmin and kReports (admin or sustainability) are enforced here.
//
// This header is internal to admin-api (shared by api.cpp, jobs_api.cpp,
// users_api.cpp, session_api.cpp, metrics.cpp).
//
// Thread contract: built once in Api's constructor, then read-only.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin-api/api.h"
#include "admin-api/audit.h"
#include "admin-api/auth.h"
#include "admin-api/url.h"

namespace pullprint::api {

enum class Access { kPublic, kStation, kAny, kAdmin, kReports, kMetrics };
const char* accessName(Access a);

struct RouteContext {
  const ApiRequest& req;
  const Principal* principal = nullptr;  // null for kPublic/kStation (and kMetrics by address)
  std::map<std::string, std::string> params;

  const User& user() const { return principal->user; }
  bool admin() const { return principal && principal->user.role == Role::kAdmin; }
  std::string path() const { return req.target.substr(0, req.target.find('?')); }
};

using Handler = std::function<ApiResponse(RouteContext&)>;

struct Route {
  RouteInfo info;
  Access access = Access::kAny;
  Handler handler;
  std::vector<std::string> segments;  // split template
};

class RouteTable {
 public:
  void add(const std::string& method, const std::string& path, Access access, Handler handler);

  struct Match {
    const Route* route = nullptr;      // null: no route
    bool other_method = false;         // the path exists with another method (405)
    std::vector<std::string> allowed;  // those methods (Allow header)
    std::map<std::string, std::string> params;
  };
  Match match(const std::string& method, const std::string& path) const;
  std::vector<RouteInfo> infos() const;

 private:
  std::vector<Route> routes_;
};

// What route handlers share (owned by Api).
struct ApiDeps {
  const Config& config;
  spooler::JobService& jobs;
  spooler::ReleaseEngine& release;
  Store& store;
  const Clock& clock;
  AuthService& auth;
  AuditLog& audit;
  Logger& log;
};

// ---- helpers for handlers ----
ApiResponse reply(int status, const nlohmann::json& body);
ApiResponse error(int status, const std::string& message);
ApiResponse statusError(const Status& s);
ApiResponse noContent();

// Parses the body as a JSON object (empty body: {}). nullopt + *err when it is not one.
std::optional<nlohmann::json> jsonBody(const ApiRequest& req, ApiResponse* err);
// Optional string member; *bad set when present with another type.
std::optional<std::string> jsonString(const nlohmann::json& j, const char* key, bool* bad);

// Rejects parameters not in `allowed`: 400 with the list.
std::optional<ApiResponse> rejectUnknownParams(
    const std::vector<std::pair<std::string, std::string>>& params,
    const std::vector<std::string>& allowed);

// limit (default 50, 1..500, 400 beyond) and offset (>= 0).
struct Paging {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};
inline constexpr std::int64_t kDefaultLimit = 50;
inline constexpr std::int64_t kMaxLimit = 500;
std::optional<ApiResponse> parsePaging(const std::vector<std::pair<std::string, std::string>>& q,
                                       Paging* out);
std::optional<std::int64_t> parseInt(const std::string& s);

nlohmann::json jobJson(const Job& j);
nlohmann::json printerJson(const Printer& p, bool full);
nlohmann::json userJson(const User& u);

// Route groups (one file each).
void addJobRoutes(RouteTable& t, ApiDeps& d);           // jobs_api.cpp: jobs, queues, release
void addUserRoutes(RouteTable& t, ApiDeps& d);          // users_api.cpp: users, users/cards CSV
void addSessionRoutes(RouteTable& t, ApiDeps& d);       // session_api.cpp: session, tokens, audit
void addPrinterRoutes(RouteTable& t, ApiDeps& d);       // api.cpp
std::string metricsText(ApiDeps& d, const Metrics* m);  // metrics.cpp (Prometheus text)

}  // namespace pullprint::api
