// Api: the JSON REST API under /api/v1, plus GET /metrics (Prometheus).
//
// Every route is one row of a route table (admin-api/routes.h): method,
// path template, access, handler. handle() matches the row, authenticates
// (admin-api/auth.h: Bearer token, HTTP Basic, or session cookie + CSRF),
// checks the row's access, then runs the handler; routes() reports the same
// table (docs/openapi.json is checked against it). The full list with bodies
// and errors is in docs/api.md.
//
// Route groups: printers (api.cpp), jobs/queues/release (jobs_api.cpp),
// users and CSV (users_api.cpp), session/tokens/audit (session_api.cpp),
// stations and cards (stations.h), reports (reports.h), /metrics (metrics.cpp).
// Modules receive the authenticated `const User&`, never credentials.
//
// Errors are JSON {"error": "..."}; Status codes map to HTTP through
// httpStatusFor. 401 carries a Basic challenge unless the request came with
// a session cookie or a Bearer token, or is a session route (browsers would
// otherwise pop up a login dialog).
//
// Thread contract: handle() blocks (store, printers); call it from a worker
// pool, never from a network thread. Safe to call concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/authenticator.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "spooler/job_service.h"
#include "spooler/release_engine.h"

namespace pullprint::api {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string body;
  std::string peer_address;
  bool tls = false;
  std::optional<std::string> basic_user;
  std::optional<std::string> basic_password;
  // Request headers, names in lower case (station signatures read X-Pullprint-*).
  std::map<std::string, std::string> headers;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One step of a streamed response body (ApiResponse::next_chunk).
enum class StreamStep { kMore, kDone, kFailed };

struct ApiResponse {
  int status = 200;
  std::string body;                               // JSON unless content_type says otherwise
  bool challenge = false;                         // add WWW-Authenticate: Basic
  std::string content_type = "application/json";  // last: {status, body, challenge} still works
  // Extra response headers (Set-Cookie, Allow, ...), emitted as given.
  std::vector<std::pair<std::string, std::string>> headers{};
  // Streamed body (large exports), optional. When set, `body` is ignored and
  // the server sends chunked transfer encoding: it calls next_chunk(out) on a
  // worker thread, writes `out` (the next piece; may be empty), and calls again
  // only after the write completed, so at most one piece is in memory. kMore:
  // call again; kDone: `out` was the last piece; kFailed: the body cannot be
  // finished, the connection is closed without the final chunk (the client
  // sees a truncated transfer, never a short but complete-looking file).
  std::function<StreamStep(std::string& out)> next_chunk = nullptr;
};

// One row of the route table, as reported by Api::routes().
struct RouteInfo {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // template, e.g. "/api/v1/jobs/{id}/cancel"
  std::string access;  // public | station | any | admin | admin,sustainability | metrics
};

// The one mapping from pullprint errors to HTTP status codes (every route).
int httpStatusFor(const Status& status);

class StationApi;     // admin-api/stations.h: /api/v1/stations..., /api/v1/cards...
class ReportService;  // admin-api/reports.h: /api/v1/reports/...
class FleetApi;       // admin-api/fleet_api.h: /api/v1/policies..., /api/v1/fleet/...
class AuthService;    // admin-api/auth.h
class AuditLog;       // admin-api/audit.h
class RouteTable;     // admin-api/routes.h
struct ApiDeps;

class Api {
 public:
  Api(const Config& config, spooler::JobService& jobs, spooler::ReleaseEngine& release,
      Authenticator& auth, Logger& log);
  ~Api();
  ApiResponse handle(const ApiRequest& request);
  // Card release routes are served by `stations` (owned by main; may be null).
  void setStationApi(StationApi* stations);
  // Policy and fleet routes are served by `fleet` (owned by main; may be null).
  void setFleetApi(FleetApi* fleet) { fleet_ = fleet; }
  // Counters for GET /metrics (owned by main; may be null: only store figures).
  void setMetrics(const Metrics* metrics) { metrics_ = metrics; }

  // Adds a route served by another module (e.g. fleet and policy routes):
  // `access` is "any", "admin" or "admin,sustainability"; Api authenticates
  // and checks it, then calls `handler` with the user. Call before serving.
  // Document the route in docs/openapi.json (the OpenAPI test checks it).
  using UserHandler = std::function<ApiResponse(const ApiRequest&, const User&)>;
  Status addRoute(const std::string& method, const std::string& path_template,
                  const std::string& access, UserHandler handler);

  // The route table the dispatcher uses (method, template, access).
  std::vector<RouteInfo> routes() const;
  // True for targets Api serves (/api/... and /metrics): the HTTP server asks.
  static bool serves(std::string_view target);

  AuthService& auth() { return *authn_; }
  AuditLog& audit() { return *audit_; }

 private:
  void buildRoutes();

  const Config& config_;
  spooler::JobService& jobs_;
  spooler::ReleaseEngine& release_;
  Logger& log_;
  StationApi* stations_ = nullptr;
  FleetApi* fleet_ = nullptr;
  const Metrics* metrics_ = nullptr;
  std::unique_ptr<ReportService> reports_;  // read-only, on config.database
  std::unique_ptr<AuthService> authn_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ApiDeps> deps_;
  std::unique_ptr<RouteTable> table_;
};

}  // namespace pullprint::api
