#include "admin-api/api.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "admin-api/reports.h"
#include "admin-api/stations.h"
#include "core/cidr.h"

namespace pullprint::api {

namespace {

using nlohmann::json;

ApiResponse reply(int status, const json& body) { return {status, body.dump(), false}; }
ApiResponse error(int status, const std::string& message) {
  ApiResponse r = reply(status, json{{"error", message}});
  r.challenge = status == 401;
  return r;
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

json printerJson(const Printer& p) {
  return {{"name", p.name},
          {"uri", p.uri},
          {"location", p.location},
          {"group", p.group},
          {"state", p.state},
          {"state_message", p.state_message},
          {"last_seen", p.last_seen},
          {"capabilities", json::parse(p.capabilities_json, nullptr, false)}};
}

}  // namespace

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

Api::Api(const Config& config, spooler::JobService& jobs, spooler::ReleaseEngine& release,
         Authenticator& auth, Logger& log)
    : config_(config),
      jobs_(jobs),
      release_(release),
      auth_(auth),
      log_(log),
      reports_(
          std::make_unique<ReportService>(config.database.string(), environmentFactors(config))) {}

Api::~Api() = default;

ApiResponse Api::handle(const ApiRequest& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "GET" && path == "/api/v1/health") return reply(200, {{"status", "ok"}});
  if (stations_ && StationApi::serves(path)) return stations_->handle(req);  // card release

  // --- Authentication ---
  if (!req.basic_user) return error(401, "authentication required");
  if (!req.tls && !isLoopbackAddress(req.peer_address) && !config_.allow_basic_without_tls)
    return error(403, "HTTP Basic needs TLS from this address");
  auto user = auth_.authenticate(*req.basic_user, req.basic_password.value_or(""));
  if (!user) {
    log_.warn("api.auth-failed", {{"user", *req.basic_user}, {"peer", req.peer_address}});
    return error(401, "wrong user name or password");
  }
  bool admin = user->role == Role::kAdmin;
  if (ReportService::serves(path)) return reports_->handle(req, *user);  // reports (read-only)

  json body;
  if (req.method == "POST" && !req.body.empty()) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return error(400, "body must be a JSON object");
  }
  auto str = [&](const char* key) -> std::optional<std::string> {
    if (body.contains(key) && body[key].is_string()) return body[key].get<std::string>();
    return std::nullopt;
  };

  // --- Routes ---
  if (path == "/api/v1/printers" && req.method == "GET") {
    if (!admin) return error(403, "administrators only");
    auto ps = jobs_.store().printers();
    if (!ps) return error(httpStatusFor(ps.status()), ps.status().message());
    json out = json::array();
    for (const auto& p : *ps) out.push_back(printerJson(p));
    return reply(200, {{"printers", out}});
  }
  if (path == "/api/v1/printers" && req.method == "POST") {
    if (!admin) return error(403, "administrators only");
    auto name = str("name");
    auto uri = str("uri");
    if (!name || !uri) return error(400, "name and uri are required strings");
    if (name->empty() || name->size() > 127 ||
        name->find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string::npos)
      return error(400, "name must be 1-127 of A-Z a-z 0-9 _ -");
    if (uri->rfind("ipp://", 0) != 0 && uri->rfind("ipps://", 0) != 0)
      return error(400, "uri must start with ipp:// or ipps://");
    Printer p;
    p.name = *name;
    p.uri = *uri;
    p.location = str("location").value_or("");
    p.group = str("group").value_or("");
    if (Status s = release_.addPrinter(p); !s) return error(httpStatusFor(s), s.message());
    log_.info("audit.printer-saved", {{"actor", user->name}, {"printer", p.name}, {"uri", p.uri}});
    auto saved = jobs_.store().printer(p.name);
    return reply(201, printerJson(saved && saved->has_value() ? **saved : p));
  }
  constexpr std::string_view kPrinters = "/api/v1/printers/";
  if (req.method == "POST" && path.rfind(kPrinters, 0) == 0 && path.size() > kPrinters.size() &&
      path.ends_with("/refresh")) {
    if (!admin) return error(403, "administrators only");
    std::string name = path.substr(kPrinters.size(), path.size() - kPrinters.size() - 8);
    Status s = release_.refreshPrinter(name);
    if (!s) return error(httpStatusFor(s), s.message());
    auto p = jobs_.store().printer(name);
    return reply(200, printerJson(**p));
  }
  if (path == "/api/v1/release" && req.method == "POST") {
    auto printer = str("printer");
    if (!printer) return error(400, "printer is required");
    std::string owner = str("user").value_or(user->name);
    if (owner != user->name && !admin) return error(403, "you can release only your own jobs");
    std::vector<JobId> which;
    if (body.contains("jobs")) {
      if (!body["jobs"].is_array()) return error(400, "jobs must be an array of job ids");
      for (auto& v : body["jobs"]) {
        if (!v.is_number_integer()) return error(400, "jobs must be an array of job ids");
        which.push_back(v.get<JobId>());
      }
    }
    auto r = release_.release(owner, *printer, which, user->name);
    if (!r) return error(httpStatusFor(r.status()), r.status().message());
    json out = {{"printer", *printer},
                {"user", owner},
                {"jobs", r->jobs},
                {"pages", r->pages ? json(*r->pages) : json(nullptr)},
                {"sheets", r->sheets ? json(*r->sheets) : json(nullptr)}};
    return reply(200, out);
  }
  if (path == "/api/v1/jobs/expire" && req.method == "POST") {
    if (!admin) return error(403, "administrators only");
    return reply(200, {{"expired", release_.expireDue()}});
  }
  constexpr std::string_view kJobs = "/api/v1/jobs/";
  if (req.method == "GET" && path.rfind(kJobs, 0) == 0) {
    JobId id = 0;
    auto digits = std::string_view(path).substr(kJobs.size());
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || id <= 0)
      return error(400, "job id must be a positive integer");
    auto j = jobs_.store().job(id);
    if (!j) return error(httpStatusFor(j.status()), j.status().message());
    if (!j->has_value() || (!admin && (*j)->owner != user->name))
      return error(404, "no such job");  // others' jobs are not even confirmed to exist
    json out = jobJson(**j);
    json usage = json::array();
    if (auto us = jobs_.store().usage(id)) {
      for (const auto& u : *us) {
        auto opt = [](const std::optional<std::int64_t>& v) {
          return v ? json(*v) : json(nullptr);
        };
        usage.push_back({{"printer", u.printer},
                         {"at", u.at},
                         {"pages", opt(u.pages)},
                         {"impressions", opt(u.impressions)},
                         {"sheets", opt(u.sheets)},
                         {"copies", u.copies},
                         {"two_sided", u.two_sided},
                         {"color_mode", u.color_mode},
                         {"source", u.source}});
      }
    }
    out["usage"] = usage;
    return reply(200, out);
  }
  return error(404, "no such route: " + req.method + " " + path);
}

}  // namespace pullprint::api
