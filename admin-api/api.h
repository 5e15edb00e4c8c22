// Api: the JSON REST API under /api/v1 (first routes; the admin-API issue
// completes it with OpenAPI, sessions, tokens and the web pages).
//
// Routes so far
//   GET  /api/v1/health                     anyone        {"status":"ok"}
//   GET  /api/v1/printers                   admin         registry with state
//   POST /api/v1/printers                   admin         {"name","uri","location","group"}
//   POST /api/v1/printers/{name}/refresh    admin         re-read capabilities
//   POST /api/v1/release                    user, admin   {"printer", "user"?, "jobs"?: [ids]}
//   GET  /api/v1/jobs/{id}                  owner, admin  the job with its usage records
//   POST /api/v1/jobs/expire                admin         run the hold-timeout sweep now
//   GET  /api/v1/reports/summary[.csv|.html] admin, sustainability  (admin-api/reports.h)
//   GET  /api/v1/reports/{jobs,usage}.csv   admin, sustainability  streamed (next_chunk)
//
// Authentication: HTTP Basic against the user store (over TLS, or loopback
// unless [ipp].allow_basic_without_tls). Users act on their own jobs only.
// Errors are JSON {"error": "..."} with 400/401/403/404/409/503.
//
// Thread contract: handle() blocks (store, printers); call it from a worker
// pool, never from a network thread. Safe to call concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/authenticator.h"
#include "core/config.h"
#include "core/log.h"
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
  // Streamed body (large exports), optional. When set, `body` is ignored and
  // the server sends chunked transfer encoding: it calls next_chunk(out) on a
  // worker thread, writes `out` (the next piece; may be empty), and calls again
  // only after the write completed, so at most one piece is in memory. kMore:
  // call again; kDone: `out` was the last piece; kFailed: the body cannot be
  // finished, the connection is closed without the final chunk (the client
  // sees a truncated transfer, never a short but complete-looking file).
  std::function<StreamStep(std::string& out)> next_chunk = nullptr;
};

// The one mapping from pullprint errors to HTTP status codes (every route).
int httpStatusFor(const Status& status);

class StationApi;     // admin-api/stations.h: /api/v1/stations..., /api/v1/cards...
class ReportService;  // admin-api/reports.h: /api/v1/reports/...

class Api {
 public:
  Api(const Config& config, spooler::JobService& jobs, spooler::ReleaseEngine& release,
      Authenticator& auth, Logger& log);
  ~Api();
  ApiResponse handle(const ApiRequest& request);
  // Card release routes are served by `stations` (owned by main; may be null).
  void setStationApi(StationApi* stations) { stations_ = stations; }

 private:
  const Config& config_;
  spooler::JobService& jobs_;
  spooler::ReleaseEngine& release_;
  Authenticator& auth_;
  Logger& log_;
  StationApi* stations_ = nullptr;
  std::unique_ptr<ReportService> reports_;  // read-only, on config.database
};

}  // namespace pullprint::api
