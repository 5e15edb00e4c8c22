// Routes: jobs (list, show, cancel, release), release by user, queues,
// hold-timeout sweep. State changes go through spooler::JobService and the
// release engine only (the one place job state changes).
#include <nlohmann/json.hpp>

#include <time.h>

#include "admin-api/routes.h"
#include "spooler/ipp_attributes.h"

namespace pullprint::api {

using nlohmann::json;

namespace {

// "YYYY-MM-DD" (UTC midnight) or Unix seconds.
std::optional<UnixSeconds> parseTime(const std::string& v, bool* is_date) {
  *is_date = false;
  if (auto n = parseInt(v); n && *n >= 0) return *n;
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return std::nullopt;
  struct tm tm {};
  const char* end = strptime(v.c_str(), "%Y-%m-%d", &tm);
  if (!end || *end) return std::nullopt;
  *is_date = true;
  return static_cast<UnixSeconds>(timegm(&tm));
}

// state=held|active|completed|all or one state name.
std::optional<std::vector<JobState>> parseStates(const std::string& v) {
  using S = JobState;
  if (v == "all") return std::vector<JobState>{};
  if (v == "active")
    return std::vector<JobState>{S::kReceiving, S::kHeld, S::kPending, S::kSending, S::kPrinting};
  if (v == "completed")  // terminal, as IPP which-jobs=completed
    return std::vector<JobState>{S::kCompleted, S::kCanceled, S::kAborted, S::kExpired};
  if (auto s = parseJobState(v)) return std::vector<JobState>{*s};
  return std::nullopt;
}

std::optional<JobId> jobIdParam(RouteContext& c, ApiResponse* err) {
  auto id = parseInt(c.params["id"]);
  if (!id || *id <= 0) {
    *err = error(400, "job id must be a positive integer");
    return std::nullopt;
  }
  return *id;
}

// The job if the caller may see it (owner or admin); 404 otherwise, so
// others' jobs are not even confirmed to exist.
std::optional<Job> visibleJob(ApiDeps& d, RouteContext& c, JobId id, ApiResponse* err) {
  auto j = d.store.job(id);
  if (!j) {
    *err = statusError(j.status());
    return std::nullopt;
  }
  if (!j->has_value() || (!c.admin() && (*j)->owner != c.user().name)) {
    *err = error(404, "no such job");
    return std::nullopt;
  }
  return **j;
}

json usageJson(const UsageRecord& u) {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); };
  return {{"printer", u.printer},     {"at", u.at},
          {"pages", opt(u.pages)},    {"impressions", opt(u.impressions)},
          {"sheets", opt(u.sheets)},  {"copies", u.copies},
          {"two_sided", u.two_sided}, {"color_mode", u.color_mode},
          {"source", u.source}};
}

json summaryJson(const spooler::ReleaseSummary& r, const std::string& printer,
                 const std::string& owner) {
  return {{"printer", printer},
          {"user", owner},
          {"jobs", r.jobs},
          {"pages", r.pages ? json(*r.pages) : json(nullptr)},
          {"sheets", r.sheets ? json(*r.sheets) : json(nullptr)}};
}

}  // namespace

void addJobRoutes(RouteTable& t, ApiDeps& d) {
  // --- List with filters and paging ---
  t.add("GET", "/api/v1/jobs", Access::kAny, [&d](RouteContext& c) {
    auto q = queryParams(c.req.target);
    if (auto e = rejectUnknownParams(
            q, {"state", "owner", "queue", "printer", "from", "to", "limit", "offset"}))
      return *e;
    Paging pg;
    if (auto e = parsePaging(q, &pg)) return *e;
    JobQuery jq;
    jq.limit = pg.limit;
    jq.offset = pg.offset;
    for (const auto& [k, v] : q) {
      if (k == "state") {
        auto s = parseStates(v);
        if (!s)
          return error(400,
                       "state must be held, active, completed, all or a job state "
                       "(receiving, pending, sending, printing, canceled, aborted, expired)");
        jq.states = *s;
      } else if (k == "owner") {
        if (v.empty()) return error(400, "owner must not be empty");
        jq.owner = v;
      } else if (k == "queue") {
        jq.queue = v;
      } else if (k == "printer") {
        jq.printer = v;
      } else if (k == "from" || k == "to") {
        bool date = false;
        auto tm = parseTime(v, &date);
        if (!tm) return error(400, k + " must be YYYY-MM-DD or Unix seconds");
        if (k == "from")
          jq.created_from = *tm;
        else
          jq.created_to = date ? *tm + 86400 : *tm;  // a date is inclusive
      }
    }
    if (!c.admin()) {
      if (jq.owner && *jq.owner != c.user().name)
        return error(403, "you can list only your own jobs");
      jq.owner = c.user().name;
    }
    auto page = d.store.jobPage(jq);
    if (!page) return statusError(page.status());
    json jobs = json::array();
    for (const auto& j : page->jobs) jobs.push_back(jobJson(j));
    return reply(
        200, {{"jobs", jobs}, {"total", page->total}, {"limit", pg.limit}, {"offset", pg.offset}});
  });

  t.add("GET", "/api/v1/jobs/{id}", Access::kAny, [&d](RouteContext& c) {
    ApiResponse err;
    auto id = jobIdParam(c, &err);
    if (!id) return err;
    auto job = visibleJob(d, c, *id, &err);
    if (!job) return err;
    json out = jobJson(*job);
    json usage = json::array();
    if (auto us = d.store.usage(*id))
      for (const auto& u : *us) usage.push_back(usageJson(u));
    out["usage"] = usage;
    return reply(200, out);
  });

  // --- Cancel: owner or admin, through JobService::transition ---
  t.add("POST", "/api/v1/jobs/{id}/cancel", Access::kAny, [&d](RouteContext& c) {
    ApiResponse err;
    auto id = jobIdParam(c, &err);
    if (!id) return err;
    auto job = visibleJob(d, c, *id, &err);
    if (!job) return err;
    if (isTerminal(job->state))
      return error(409, std::string("job is already ") + jobStateName(job->state));
    const bool by_owner = job->owner == c.user().name;
    Status s = d.jobs.transitionAndWait(
        *id, JobState::kCanceled, by_owner ? "job-canceled-by-user" : "job-canceled-by-operator",
        by_owner ? "cancelled by its owner" : "cancelled by " + c.user().name, c.user().name);
    if (!s) return statusError(s);
    auto now = d.store.job(*id);
    json after = now && now->has_value() ? jobJson(**now) : json(nullptr);
    d.log.info("job.canceled", {{"job", *id}, {"by", c.user().name}, {"via", "api"}});
    if (c.admin())
      (void)d.audit.record(c.user().name, "job.cancel", std::to_string(*id), jobJson(*job), after);
    return reply(200, after);
  });

  // --- Release one job at a printer ---
  t.add("POST", "/api/v1/jobs/{id}/release", Access::kAny, [&d](RouteContext& c) {
    ApiResponse err;
    auto id = jobIdParam(c, &err);
    if (!id) return err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto printer = jsonString(*body, "printer", &bad);
    if (bad || !printer || printer->empty()) return error(400, "printer is required (a string)");
    auto job = visibleJob(d, c, *id, &err);
    if (!job) return err;
    if (job->state != JobState::kHeld)
      return error(409, std::string("job is ") + jobStateName(job->state) + ", not held");
    auto r = d.release.release(job->owner, *printer, {*id}, c.user().name);
    if (!r) return statusError(r.status());
    json out = summaryJson(*r, *printer, job->owner);
    if (c.admin())
      (void)d.audit.record(c.user().name, "job.release", std::to_string(*id), jobJson(*job), out);
    return reply(200, out);
  });

  // --- Release a user's held jobs (all, or some) ---
  t.add("POST", "/api/v1/release", Access::kAny, [&d](RouteContext& c) {
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto printer = jsonString(*body, "printer", &bad);
    auto user = jsonString(*body, "user", &bad);
    if (bad || !printer) return error(400, "printer is required (a string); user must be a string");
    std::string owner = user.value_or(c.user().name);
    if (owner != c.user().name && !c.admin())
      return error(403, "you can release only your own jobs");
    std::vector<JobId> which;
    if (body->contains("jobs")) {
      if (!(*body)["jobs"].is_array()) return error(400, "jobs must be an array of job ids");
      for (auto& v : (*body)["jobs"]) {
        if (!v.is_number_integer()) return error(400, "jobs must be an array of job ids");
        which.push_back(v.get<JobId>());
      }
    }
    auto r = d.release.release(owner, *printer, which, c.user().name);
    if (!r) return statusError(r.status());
    json out = summaryJson(*r, *printer, owner);
    if (c.admin()) (void)d.audit.record(c.user().name, "jobs.release", owner, nullptr, out);
    return reply(200, out);
  });

  t.add("POST", "/api/v1/jobs/expire", Access::kAdmin, [&d](RouteContext& c) {
    size_t n = d.release.expireDue();
    (void)d.audit.record(c.user().name, "jobs.expire", "", nullptr, {{"expired", n}});
    return reply(200, {{"expired", n}});
  });

  // --- Queues (from the configuration) ---
  t.add("GET", "/api/v1/queues", Access::kAny, [&d](RouteContext& c) {
    if (auto e = rejectUnknownParams(queryParams(c.req.target), {})) return *e;
    json out = json::array();
    for (const auto& q : spooler::queuesFromConfig(d.config)) {
      json j = {{"name", q.name},           {"hold", q.hold},
                {"follow_me", q.follow_me}, {"info", q.info},
                {"location", q.location},   {"active_jobs", d.jobs.activeCount(q.name)}};
      if (c.admin()) j["printer_uri"] = q.printer_uri;
      out.push_back(j);
    }
    return reply(200, {{"queues", out}});
  });
}

}  // namespace pullprint::api
