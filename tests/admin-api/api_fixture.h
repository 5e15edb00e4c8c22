// A real Api over a real SQLite file for the admin-api tests: users root
// (admin), alice and bob (user), eco (sustainability), all with password
// "password-<name>"; a ManualClock; the station/card API attached.
// Requests go through Api::handle exactly as the HTTP server passes them.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "admin-api/api.h"
#include "admin-api/stations.h"
#include "core/password.h"
#include "spooler/committer.h"
#include "spooler/job_service.h"
#include "spooler/printer_client.h"
#include "spooler/release_engine.h"
#include "spooler/spool.h"
#include "tests/support/temp_dir.h"

namespace pullprint::apitest {

inline constexpr UnixSeconds kStart = 1'767'225'600;  // 2026-01-01

// How a request authenticates.
struct As {
  enum Kind { kNone, kBasic, kBearer, kCookie } kind = kNone;
  std::string user;    // kBasic
  std::string secret;  // kBasic password / kBearer token / kCookie value
  std::string csrf;    // kCookie: X-CSRF-Token ("" = none)
  static As none() { return {}; }
  static As basic(const std::string& u) { return {kBasic, u, "password-" + u, ""}; }
  static As bearer(const std::string& t) { return {kBearer, "", t, ""}; }
  static As cookie(const std::string& c, const std::string& csrf = "") {
    return {kCookie, "", c, csrf};
  }
};

struct Reply {
  int status = 0;
  std::string body;
  nlohmann::json json;  // discarded when the body is not JSON
  api::ApiResponse raw;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : raw.headers)
      if (k == name) return v;
    return {};
  }
  std::string error() const {
    return json.is_object() && json.contains("error") ? json["error"].get<std::string>() : "";
  }
};

class ApiFixture {
 public:
  ApiFixture() : clock(kStart) {
    db = (dir / "pullprint.db").string();
    auto s = openSqliteStore(db, {2, false});
    if (!s) throw std::runtime_error(s.status().message());
    store = std::move(*s);
    for (auto [name, role] :
         {std::pair{"root", Role::kAdmin}, std::pair{"alice", Role::kUser},
          std::pair{"bob", Role::kUser}, std::pair{"eco", Role::kSustainability}}) {
      User u;
      u.name = name;
      u.role = role;
      u.department = "Dept";
      u.password_hash = hashPassword("password-" + std::string(name), 1000);
      u.created_at = kStart;
      if (!store->write([&](StoreWriter& w) { return w.upsertUser(u); }))
        throw std::runtime_error("seed users");
    }
    config.database = db;
    auto sp = spooler::SpoolDir::open((dir / "spool").string());
    if (!sp) throw std::runtime_error(sp.status().message());
    spool = std::move(*sp);
    committer = std::make_unique<spooler::Committer>(*store, *spool, log);
    jobs = std::make_unique<spooler::JobService>(*store, *committer, *spool, clock, log);
    release = std::make_unique<spooler::ReleaseEngine>(config, *jobs, client, clock, log);
    auth = std::make_unique<Authenticator>(*store, clock);
    api = std::make_unique<api::Api>(config, *jobs, *release, *auth, log);
    stations = std::make_unique<api::StationApi>(config, *store, *release, *auth, clock, log);
    api->setStationApi(stations.get());
  }

  // Seeds a job row (state, owner) and makes JobService aware of it.
  JobId addJob(const std::string& owner, JobState state, UnixSeconds created_at,
               const std::string& printer = "") {
    Job j;
    j.id = ++last_job_;
    j.queue = "followme";
    j.owner = owner;
    j.name = "doc" + std::to_string(j.id);
    j.state = state;
    j.created_at = created_at;
    j.printer = printer;
    j.document_count = 1;
    if (!store->write([&](StoreWriter& w) { return w.insertJob(j); }))
      throw std::runtime_error("seed job");
    return j.id;
  }
  void recover() {
    if (!jobs->recover()) throw std::runtime_error("recover");
  }

  Reply call(const std::string& method, const std::string& target, const As& as,
             const std::string& body = "", bool tls = false, const std::string& peer = "127.0.0.1",
             std::map<std::string, std::string> headers = {}) {
    api::ApiRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.tls = tls;
    r.peer_address = peer;
    r.headers = std::move(headers);
    switch (as.kind) {
      case As::kNone:
        break;
      case As::kBasic:
        r.basic_user = as.user;
        r.basic_password = as.secret;
        r.headers["authorization"] = "Basic (decoded by the server)";
        break;
      case As::kBearer:
        r.headers["authorization"] = "Bearer " + as.secret;
        break;
      case As::kCookie:
        r.headers["cookie"] = "theme=dark; pullprint_session=" + as.secret;
        if (!as.csrf.empty()) r.headers["x-csrf-token"] = as.csrf;
        break;
    }
    Reply out;
    out.raw = api->handle(r);
    out.status = out.raw.status;
    out.body = out.raw.body;
    out.json = nlohmann::json::parse(out.body, nullptr, false);
    return out;
  }

  // Logs in; returns {cookie value, csrf token}.
  std::pair<std::string, std::string> login(const std::string& user) {
    Reply r = call("POST", "/api/v1/session", As::none(),
                   nlohmann::json{{"username", user}, {"password", "password-" + user}}.dump());
    if (r.status != 200) throw std::runtime_error("login failed: " + r.body);
    std::string c = r.header("Set-Cookie");
    auto b = c.find('=') + 1;
    return {c.substr(b, c.find(';') - b), r.json["csrf_token"].get<std::string>()};
  }

  // Audit entries, newest first.
  nlohmann::json audit() {
    Reply r = call("GET", "/api/v1/audit?limit=500", As::basic("root"));
    return r.json["entries"];
  }

  testing::TempDir dir{"pullprint-api"};
  std::string db;
  Logger log{LogLevel::kError};
  ManualClock clock;
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<spooler::SpoolDir> spool;
  std::unique_ptr<spooler::Committer> committer;
  std::unique_ptr<spooler::JobService> jobs;
  spooler::PrinterClient client;
  std::unique_ptr<spooler::ReleaseEngine> release;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<api::Api> api;
  std::unique_ptr<api::StationApi> stations;

 private:
  JobId last_job_ = 0;
};

}  // namespace pullprint::apitest
