#include "spooler/release_engine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <optional>

#include "core/thread_name.h"
#include "policies/evaluate.h"
#include "spooler/job_counts.h"

namespace pullprint::spooler {

namespace {

constexpr int kIppJobCompleted = 9;  // RFC 8011 job-state completed

bool isBusy(const Status& s) {
  return s.code() == StatusCode::kUnavailable &&
         s.message().find("server-error-busy") != std::string::npos;
}

std::string ticketString(const Job& j, const char* key) {
  auto t = nlohmann::json::parse(j.ticket_json, nullptr, false);
  if (t.is_object() && t.contains(key) && t[key].is_string()) return t[key].get<std::string>();
  return "";
}

}  // namespace

ReleaseEngine::ReleaseEngine(const Config& config, JobService& jobs, const PrinterClient& client,
                             const Clock& clock, Logger& log, ReleaseOptions options)
    : config_(config), jobs_(jobs), client_(client), clock_(clock), log_(log), options_(options) {}

ReleaseEngine::~ReleaseEngine() { stop(); }

std::string ReleaseEngine::printerForQueue(const std::string& queue) const {
  if (queue == "direct") return config_.direct_printer;
  for (const auto& q : config_.queues)
    if (q.name == queue) return q.name;  // each queue registers a printer of its name
  return "";
}

Status ReleaseEngine::start(bool threads) {
  // Registry: configured printers, and a printer for each per-printer queue.
  for (const auto& p : config_.printers) {
    Printer pr;
    pr.name = p.name;
    pr.uri = p.uri;
    pr.location = p.location;
    pr.group = p.group;
    pr.info = p.info;
    if (Status s = addPrinter(pr); !s) return s;
  }
  for (const auto& q : config_.queues) {
    Printer pr;
    pr.name = q.name;
    pr.uri = q.printer_uri;
    pr.location = q.location;
    pr.info = q.info;
    if (Status s = addPrinter(pr); !s) return s;
  }
  jobs_.setPendingHook([this](JobId id, const std::string& queue) {
    std::string printer = printerForQueue(queue);
    if (printer.empty()) {
      log_.warn("release.no-printer", {{"job", id}, {"queue", queue}});
      return;
    }
    enqueue(id, printer);
  });
  if (Status s = reconcile(); !s) return s;
  if (threads) {
    for (int i = 0; i < std::max(1, options_.workers); ++i)
      threads_.emplace_back([this] {
        nameThisThread("pp-release");
        workerLoop();
      });
    threads_.emplace_back([this] {
      nameThisThread("pp-tracker");
      trackerLoop();
    });
    threads_.emplace_back([this] {
      nameThisThread("pp-timer");
      timerLoop();
    });
  }
  return Status::ok();
}

void ReleaseEngine::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Status ReleaseEngine::addPrinter(const Printer& printer) {
  Printer p = printer;
  p.updated_at = clock_.now();
  Status s = jobs_.committer().submitAndWait([p](StoreWriter& w) { return w.upsertPrinter(p); });
  if (!s) return s;
  // Capabilities now if the printer answers; an unreachable printer is
  // registered anyway and refreshed later.
  (void)refreshPrinter(p.name);
  return Status::ok();
}

Status ReleaseEngine::refreshPrinter(const std::string& name) {
  auto p = jobs_.store().printer(name);
  if (!p) return p.status();
  if (!p->has_value()) return {StatusCode::kNotFound, "no printer '" + name + "'"};
  auto caps = client_.capabilities((*p)->uri);
  UnixSeconds now = clock_.now();
  if (!caps) {
    std::string msg = caps.status().message();
    (void)jobs_.committer().submitAndWait(
        [=](StoreWriter& w) { return w.updatePrinterState(name, "unreachable", msg, 0, now); });
    return caps.status();
  }
  std::string json = caps->toJson();
  std::string state = caps->state;
  std::string message = caps->state_message;
  return jobs_.committer().submitAndWait([=](StoreWriter& w) {
    if (Status s = w.setPrinterCapabilities(name, json); !s) return s;
    return w.updatePrinterState(name, state, message, now, now);
  });
}

Result<ReleaseSummary> ReleaseEngine::release(const std::string& user, const std::string& printer,
                                              const std::vector<JobId>& which,
                                              const std::string& actor) {
  auto p = jobs_.store().printer(printer);
  if (!p) return p.status();
  if (!p->has_value()) return Status(StatusCode::kNotFound, "no printer named '" + printer + "'");
  JobFilter f;
  f.owner = user;
  auto jobs = jobs_.store().jobs(f);
  if (!jobs) return jobs.status();
  ReleaseSummary summary;
  summary.pages = 0;
  summary.sheets = 0;
  for (const Job& j : *jobs) {  // ordered by id: oldest first
    if (j.state != JobState::kHeld) continue;
    if (!which.empty() && std::find(which.begin(), which.end(), j.id) == which.end()) continue;
    // A per-printer queue's jobs print only on its printer.
    std::string fixed = printerForQueue(j.queue);
    if (j.queue != "followme" && !fixed.empty() && fixed != printer) continue;
    Status s = jobs_.transitionAndWait(
        j.id, JobState::kPending, "", "released at " + printer, actor,
        [id = j.id, printer, attempt = j.release_attempt, actor](StoreWriter& w) {
          return w.setJobRelease(id, printer, 0, attempt, actor);
        });
    if (!s) {
      log_.warn("release.skip", {{"job", j.id}, {"error", s.toString()}});
      continue;
    }
    summary.jobs.push_back(j.id);
    if (summary.pages && j.pages)
      *summary.pages += *j.pages * j.copies;
    else
      summary.pages.reset();
    if (summary.sheets && j.sheets)
      *summary.sheets += *j.sheets;
    else
      summary.sheets.reset();
    enqueue(j.id, printer);
  }
  if (summary.jobs.empty())
    return Status(StatusCode::kNotFound, which.empty() ? "no held jobs for " + user
                                                       : "none of those jobs can be released here");
  log_.info("release.requested", {{"user", user},
                                  {"printer", printer},
                                  {"actor", actor},
                                  {"jobs", static_cast<int>(summary.jobs.size())}});
  return summary;
}

void ReleaseEngine::releaseJobAsync(JobId id, const std::string& printer, const std::string& actor,
                                    std::function<void(Status)> done) {
  // Keep the attempt count (as release() does): the printer-side job name
  // "(pullprint <job>.<attempt>)" must never repeat an earlier attempt's.
  int attempt = 0;
  if (auto j = jobs_.store().job(id); j && j->has_value()) attempt = (*j)->release_attempt;
  jobs_.transition(
      id, JobState::kPending, "", "released at " + printer + " by " + actor, actor,
      [this, id, printer, done = std::move(done)](Status s) {
        if (s) enqueue(id, printer);
        if (done) done(s);
      },
      [id, printer, attempt, actor](StoreWriter& w) {
        return w.setJobRelease(id, printer, 0, attempt, actor);
      });
}

void ReleaseEngine::setPolicy(std::shared_ptr<const policies::Policy> policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
}

void ReleaseEngine::enqueue(JobId job, const std::string& printer) {
  {
    std::lock_guard lock(mu_);
    queues_[printer].push_back(job);
  }
  cv_.notify_all();
}

void ReleaseEngine::workerLoop() {
  for (;;) {
    JobId id = 0;
    std::string printer;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        if (stopping_) return true;
        for (auto& [p, q] : queues_)
          if (!q.empty() && !busy_.count(p)) return true;
        return false;
      });
      if (stopping_) return;
      for (auto& [p, q] : queues_) {
        if (!q.empty() && !busy_.count(p)) {
          printer = p;
          id = q.front();
          q.pop_front();
          busy_.insert(p);
          break;
        }
      }
    }
    sendOne(id, printer);
  }
}

std::string ReleaseEngine::printerJobName(const Job& job, int attempt) const {
  std::string name = job.name.substr(0, 180);
  return name + " (pullprint " + std::to_string(job.id) + "." + std::to_string(attempt) + ")";
}

void ReleaseEngine::backToHold(JobId id, JobState from, const std::string& reason,
                               const std::string& message) {
  (void)from;
  if (metrics_) metrics_->release_failures.fetch_add(1);
  Status s = jobs_.transitionAndWait(id, JobState::kHeld, "job-hold-until-specified," + reason,
                                     message, "system");
  if (!s) {
    // Cancelled (or expired) while it was being sent: it stays as it is.
    auto j = jobs_.store().job(id);
    if (j && j->has_value() && isTerminal((*j)->state)) {
      log_.info("release.stopped",
                {{"job", id}, {"state", jobStateName((*j)->state)}, {"reason", reason}});
      return;
    }
    log_.error("release.hold-failed", {{"job", id}, {"error", s.toString()}});
  }
  log_.warn("release.back-on-hold", {{"job", id}, {"reason", reason}, {"message", message}});
}

void ReleaseEngine::printerDone(const std::string& printer) {
  {
    std::lock_guard lock(mu_);
    busy_.erase(printer);
  }
  cv_.notify_all();
}

void ReleaseEngine::sendOne(JobId id, const std::string& printer_name) {
  auto pr = jobs_.store().printer(printer_name);
  // The job as stored now, if it is still pending (else: cancelled
  // meanwhile, or lost).
  const auto pendingJob = [&]() -> std::optional<Job> {
    auto jr = jobs_.store().job(id);
    if (!jr || !jr->has_value() || !pr || !pr->has_value()) {
      log_.error("release.lost-job", {{"job", id}, {"printer", printer_name}});
      return std::nullopt;
    }
    if ((**jr).state != JobState::kPending) return std::nullopt;
    return **jr;
  };
  std::optional<Job> pending = pendingJob();
  if (!pending) return printerDone(printer_name);
  if (metrics_) metrics_->releases.fetch_add(1);

  // Not counted yet (a direct job just arrived, or counting waits for CPU
  // behind busier work): count it first. The policy needs its pages, and
  // once it has printed its document is gone and it could never be counted.
  if (pending->count_confidence.empty() && count_now_) {
    if (Status s = count_now_(id); !s)
      log_.warn("release.count-failed", {{"job", id}, {"error", s.toString()}});
    pending = pendingJob();
    if (!pending) return printerDone(printer_name);
  }
  Job job = std::move(*pending);
  Printer printer = **pr;

  // Refuse before sending what the printer cannot print.
  PrinterCapabilities caps = PrinterCapabilities::fromJson(printer.capabilities_json);
  if (caps.formats.empty()) {
    if (auto fresh = client_.capabilities(printer.uri)) caps = *fresh;
  }
  if (!caps.formats.empty() && !caps.supportsFormat(job.format)) {
    backToHold(id, JobState::kPending, "document-format-not-supported",
               "printer " + printer_name + " cannot print " + job.format +
                   "; release the job at another printer");
    return printerDone(printer_name);
  }

  // Policy at release: the chosen printer's capabilities and group decide.
  std::shared_ptr<const policies::Policy> policy;
  {
    std::lock_guard lock(mu_);
    policy = policy_;
  }
  if (policy) {
    policies::JobFacts f;
    f.queue = job.queue;
    f.user = job.owner;
    f.source_address = job.source_address;
    f.pages = job.pages;
    f.copies = job.copies;
    f.format = job.format;
    f.color_mode = policies::parseColorMode(job.color_mode);
    f.sides = policies::parseSides(job.sides);
    f.document_name = job.name;
    policies::PrinterFacts pf;
    pf.name = printer.name;
    pf.group = printer.group;
    pf.supports_duplex = caps.sides.empty() || caps.supportsDuplex();
    pf.supports_color = caps.color_modes.empty() || caps.color ||
                        std::find(caps.color_modes.begin(), caps.color_modes.end(), "color") !=
                            caps.color_modes.end();
    policies::Decision d = policies::evaluate(f, &pf, *policy, clock_.now());
    if (d.denied) {
      backToHold(id, JobState::kPending, "job-denied-by-policy",
                 d.deny_message.empty()
                     ? "the print policy does not allow this job on " + printer_name
                     : d.deny_message);
      return printerDone(printer_name);
    }
    job.sides = std::string(policies::toKeyword(d.sides.value));
    job.color_mode = std::string(policies::toKeyword(d.color_mode.value));
    job.copies = static_cast<int>(d.copies.value);
    log_.info(
        "policy.release",
        {{"job", id}, {"printer", printer_name}, {"decision", policies::describeDecision(d)}});
  }

  int attempt = job.release_attempt + 1;
  std::string released_by = job.released_by;
  Status s = jobs_.transitionAndWait(
      id, JobState::kSending, "job-printing", "sending to " + printer_name, "system",
      [=](StoreWriter& w) { return w.setJobRelease(id, printer_name, 0, attempt, released_by); });
  if (!s) return printerDone(printer_name);

  SendTicket t;
  t.job_name = printerJobName(job, attempt);
  t.user = job.owner;
  t.format = job.format.empty() ? "application/octet-stream" : job.format;
  t.copies = job.copies;
  // Never ask a simplex printer for duplex.
  t.sides = (job.sides != "one-sided" && !caps.sides.empty() && !caps.supportsDuplex())
                ? "one-sided"
                : job.sides;
  t.color_mode = job.color_mode;
  t.media = ticketString(job, "media");

  // Every document must be on disk before the printer gets a job: a file
  // lost from the spool (a restore without it, an unmounted directory) keeps
  // the job held with a reason that says so, and nothing reaches the printer.
  auto docs = jobs_.store().documents(id);
  auto firstMissing = [&]() -> std::optional<int> {
    if (docs)
      for (const Document& d : *docs) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(jobs_.spool().documentPath(id, d.number), ec))
          return d.number;
      }
    return std::nullopt;
  };
  auto holdForMissing = [&](int number) {
    log_.error("release.document-missing",
               {{"job", id}, {"document", number}, {"spool_dir", jobs_.spool().path().string()}});
    backToHold(id, JobState::kSending, "document-access-error",
               "document " + std::to_string(number) +
                   " of this job is missing from the print server's spool; it can print "
                   "once the file is restored (ask the print service)");
  };
  if (auto missing = firstMissing()) {
    holdForMissing(*missing);
    return printerDone(printer_name);
  }
  // ... and must hold the bytes that were received (their SHA-256). A file
  // damaged in the spool (a failed background sync, a bad disk) is written
  // again from the document journal while its copy is still there; if it is
  // not, the job stays held rather than print something else.
  if (docs) {
    for (const Document& d : *docs) {
      if (d.sha256.empty()) continue;
      auto sha = jobs_.spool().documentSha256(id, d.number);
      if (!sha || *sha == d.sha256) continue;  // a vanished file fails the send, below
      if (metrics_) metrics_->documents_damaged.fetch_add(1);
      Status restored = jobs_.restoreFromJournal(id, d.number);
      if (restored) sha = jobs_.spool().documentSha256(id, d.number);
      if (restored && sha && *sha == d.sha256) {
        if (metrics_) metrics_->documents_restored.fetch_add(1);
        log_.warn("release.document-restored", {{"job", id}, {"document", d.number}});
        continue;
      }
      log_.error("release.document-damaged",
                 {{"job", id},
                  {"document", d.number},
                  {"journal", restored ? "restored, still different" : restored.message()}});
      backToHold(id, JobState::kSending, "document-access-error",
                 "document " + std::to_string(d.number) +
                     " of this job is damaged in the print server's spool (it is not what was "
                     "received); ask the print service");
      return printerDone(printer_name);
    }
  }

  // Create-Job, retrying while the printer says it is busy.
  auto deadline = std::chrono::steady_clock::now() + options_.busy_retry_for;
  auto delay = std::chrono::milliseconds(100);
  Result<std::int64_t> created = Status(StatusCode::kUnavailable, "not tried");
  for (;;) {
    created = client_.createJob(printer.uri, t);
    if (created || !isBusy(created.status()) || std::chrono::steady_clock::now() > deadline) break;
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, delay, [&] { return stopping_; })) break;
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
  if (!created) {
    bool refused = created.status().code() == StatusCode::kFailedPrecondition;
    backToHold(id, JobState::kSending, refused ? "job-refused-by-printer" : "printer-unreachable",
               "printer " + printer_name + ": " + created.status().message() +
                   "; release the job again here or at another printer");
    return printerDone(printer_name);
  }
  std::int64_t pjid = *created;
  // The printer's job id is durable before any byte of the document leaves.
  s = jobs_.committer().submitAndWait([=](StoreWriter& w) {
    return w.setJobRelease(id, printer_name, pjid, attempt, released_by);
  });
  if (!s) {
    (void)client_.cancelJob(printer.uri, pjid, job.owner);
    backToHold(id, JobState::kSending, "aborted-by-system", "could not record the printer job");
    return printerDone(printer_name);
  }

  Status sent = docs ? Status::ok() : docs.status();
  if (sent && docs->empty()) sent = Status(StatusCode::kNotFound, "job has no documents");
  for (size_t i = 0; sent && i < docs->size(); ++i) {
    const Document& d = (*docs)[i];
    sent =
        client_.sendDocument(printer.uri, pjid, job.owner, jobs_.spool().documentPath(id, d.number),
                             d.format.empty() ? t.format : d.format, i + 1 == docs->size());
  }
  if (!sent) {
    (void)client_.cancelJob(printer.uri, pjid, job.owner);
    // A document that left the spool after the check above, or could not be
    // read, is our fault, not the printer's: say so.
    if (auto missing = firstMissing()) {
      holdForMissing(*missing);
      return printerDone(printer_name);
    }
    if (!docs || docs->empty() || sent.code() == StatusCode::kInternal) {
      log_.error("release.document-unreadable", {{"job", id}, {"error", sent.message()}});
      backToHold(id, JobState::kSending, "document-access-error",
                 "a document of this job could not be read from the print server's spool (" +
                     sent.message() + "); ask the print service");
      return printerDone(printer_name);
    }
    // An IPP error answer (e.g. document-format-not-supported) is a refusal,
    // not a vanished printer: say which, as for Create-Job.
    bool refused = sent.code() == StatusCode::kFailedPrecondition;
    backToHold(id, JobState::kSending, refused ? "job-refused-by-printer" : "printer-unreachable",
               "printer " + printer_name +
                   (refused ? " refused the document: " : " failed while receiving the job: ") +
                   sent.message() + "; release the job again");
    return printerDone(printer_name);
  }
  s = jobs_.transitionAndWait(id, JobState::kPrinting, "job-printing",
                              "printing on " + printer_name, "system");
  if (!s) return printerDone(printer_name);
  log_.info("release.sent",
            {{"job", id}, {"printer", printer_name}, {"printer_job", pjid}, {"attempt", attempt}});
  {
    std::lock_guard lock(mu_);
    tracked_.push_back({id, printer_name, printer.uri, pjid, job.owner, t.sides, t.copies,
                        t.color_mode, t.job_name});
  }
  cv_.notify_all();
}

void ReleaseEngine::trackerLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_; });
      if (stopping_) return;
    }
    pollTracked();
  }
}

void ReleaseEngine::abandonTracked(const Tracked& t) {
  {
    std::lock_guard lock(mu_);
    tracked_.erase(std::remove_if(tracked_.begin(), tracked_.end(),
                                  [&](const Tracked& x) { return x.job == t.job; }),
                   tracked_.end());
  }
  backToHold(t.job, JobState::kSending, "job-hold-until-specified",
             "the release was interrupted by a server restart; release the job again");
  printerDone(t.printer);
}

void ReleaseEngine::pollTracked() {
  std::vector<Tracked> now;
  {
    std::lock_guard lock(mu_);
    now = tracked_;
  }
  for (Tracked t : now) {
    // Cancelled here while the printer prints it (no longer in the active
    // index: no store read per poll): cancel it there too.
    if (!jobs_.active(t.job)) {
      Status c =
          t.printer_job_id ? client_.cancelJob(t.uri, t.printer_job_id, t.user) : Status::ok();
      {
        std::lock_guard lock(mu_);
        tracked_.erase(std::remove_if(tracked_.begin(), tracked_.end(),
                                      [&](const Tracked& x) { return x.job == t.job; }),
                       tracked_.end());
      }
      log_.info("release.cancelled-at-printer", {{"job", t.job},
                                                 {"printer", t.printer},
                                                 {"printer_job", t.printer_job_id},
                                                 {"result", c ? std::string("ok") : c.toString()}});
      printerDone(t.printer);
      continue;
    }
    if (t.printer_job_id == 0) {
      // Left by reconcile(): the printer was unreachable; find the job by name.
      auto found = client_.findJobByName(t.uri, t.printer_job_name, t.user);
      if (!found) continue;  // still unreachable
      if (!found->has_value()) {
        abandonTracked(t);
        continue;
      }
      t.printer_job_id = **found;
      {
        std::lock_guard lock(mu_);
        for (auto& x : tracked_)
          if (x.job == t.job) x.printer_job_id = t.printer_job_id;
      }
      auto first = client_.jobStatus(t.uri, t.printer_job_id, t.user);
      auto has = [&](const char* r) {
        return first &&
               std::find(first->reasons.begin(), first->reasons.end(), r) != first->reasons.end();
      };
      if (first && !first->terminal() && (has("job-incoming") || has("job-data-insufficient"))) {
        (void)client_.cancelJob(t.uri, t.printer_job_id, t.user);
        abandonTracked(t);
        continue;
      }
      (void)jobs_.transitionAndWait(t.job, JobState::kPrinting, "job-printing",
                                    "printing on " + t.printer, "recovery");
    }
    auto st = client_.jobStatus(t.uri, t.printer_job_id, t.user);
    if (!st) {
      if (st.status().code() == StatusCode::kNotFound) {
        PrinterJobStatus gone;
        gone.state = 0;
        finish(t, gone);
      }
      continue;  // unreachable: keep asking
    }
    if (st->terminal()) finish(t, *st);
  }
}

void ReleaseEngine::finish(const Tracked& t, const PrinterJobStatus& st) {
  {
    std::lock_guard lock(mu_);
    tracked_.erase(std::remove_if(tracked_.begin(), tracked_.end(),
                                  [&](const Tracked& x) { return x.job == t.job; }),
                   tracked_.end());
  }
  auto jr = jobs_.store().job(t.job);
  if (!jr || !jr->has_value()) return printerDone(t.printer);
  Job job = **jr;
  if (st.state == kIppJobCompleted) {
    UsageRecord u;
    u.job_id = job.id;
    u.user = job.owner;
    u.printer = t.printer;
    u.queue = job.queue;
    u.at = clock_.now();
    u.pages = job.pages;
    u.copies = t.copies > 0 ? t.copies : job.copies;
    std::string sides = t.sides.empty() ? job.sides : t.sides;
    u.two_sided = sides != "one-sided";
    u.color_mode = t.color_mode.empty() ? job.color_mode : t.color_mode;
    // Counts as printed: the analysed pages with the ticket actually sent
    // (a simplex printer prints a duplex request one-sided).
    std::optional<std::int64_t> impressions = job.impressions_total, sheets = job.sheets;
    if (auto docs = jobs_.store().documents(job.id); docs && !docs->empty()) {
      std::vector<std::optional<std::int64_t>> pages;
      for (const auto& d : *docs) pages.push_back(d.pages);
      analysis::Ticket sent = ticketForJob(job, sides);
      sent.copies = u.copies;
      auto c = analysis::applyTicket(pages, sent);
      impressions = c.impressions_total;
      sheets = c.sheets_total;
    }
    if (st.impressions_completed && *st.impressions_completed > 0) {
      u.impressions = st.impressions_completed;
      u.sheets = st.sheets_completed && *st.sheets_completed > 0 ? st.sheets_completed : sheets;
      u.source = "printer";
    } else {
      u.impressions = impressions;
      u.sheets = sheets;
      u.source = sheets ? "analysis" : "unknown";
    }
    Status s = jobs_.transitionAndWait(job.id, JobState::kCompleted, "job-completed-successfully",
                                       "printed on " + t.printer, "system",
                                       [u](StoreWriter& w) { return w.insertUsage(u); });
    if (s)
      log_.info("job.completed", {{"job", job.id}, {"printer", t.printer}, {"source", u.source}});
    if (s && metrics_) {
      metrics_->jobs_printed.fetch_add(1);
      metrics_->pages_printed.fetch_add(u.impressions.value_or(0));
      metrics_->sheets_printed.fetch_add(u.sheets.value_or(0));
    }
  } else if (st.state == 0) {
    backToHold(job.id, JobState::kPrinting, "printer-lost-job",
               "printer " + t.printer + " no longer knows the job; release it again");
  } else {
    backToHold(job.id, JobState::kPrinting, "aborted-by-printer",
               "printer " + t.printer + " " + (st.state == 7 ? "cancelled" : "aborted") +
                   " the job" + (st.message.empty() ? "" : ": " + st.message) +
                   "; release it again");
  }
  printerDone(t.printer);
}

Status ReleaseEngine::reconcile() {
  auto active = jobs_.store().activeJobs();
  if (!active) return active.status();
  for (const Job& j : *active) {
    if (j.state == JobState::kPending) {
      std::string printer = !j.printer.empty() ? j.printer : printerForQueue(j.queue);
      if (printer.empty()) {
        backToHold(j.id, j.state, "job-hold-until-specified", "waiting for release at a printer");
      } else {
        enqueue(j.id, printer);
      }
      continue;
    }
    if (j.state != JobState::kSending && j.state != JobState::kPrinting) continue;
    auto pr = jobs_.store().printer(j.printer);
    if (!pr || !pr->has_value()) {
      backToHold(j.id, j.state, "printer-lost-job",
                 "printer " + j.printer + " is no longer registered");
      continue;
    }
    std::string uri = (*pr)->uri;
    std::int64_t pjid = j.printer_job_id;
    if (pjid == 0) {
      // Crashed between Create-Job and storing its id: look for our name.
      auto found = client_.findJobByName(uri, printerJobName(j, j.release_attempt), j.owner);
      if (found && found->has_value()) pjid = **found;
      if (found && !found->has_value()) {
        backToHold(j.id, j.state, "job-hold-until-specified",
                   "the release was interrupted by a server restart; release the job again");
        continue;
      }
      if (!found) {
        log_.warn("release.reconcile-unreachable", {{"job", j.id}, {"printer", j.printer}});
        // Keep the job out of reach of a second send; the tracker keeps
        // looking for it by name until the printer answers.
        std::lock_guard lock(mu_);
        busy_.insert(j.printer);
        tracked_.push_back({j.id, j.printer, uri, 0, j.owner, j.sides, j.copies, j.color_mode,
                            printerJobName(j, j.release_attempt)});
        continue;
      }
      (void)jobs_.committer().submitAndWait([&](StoreWriter& w) {
        return w.setJobRelease(j.id, j.printer, pjid, j.release_attempt, j.released_by);
      });
    }
    auto st = client_.jobStatus(uri, pjid, j.owner);
    bool incomplete_upload =
        j.state == JobState::kSending && st && !st->terminal() &&
        (std::find(st->reasons.begin(), st->reasons.end(), "job-incoming") != st->reasons.end() ||
         std::find(st->reasons.begin(), st->reasons.end(), "job-data-insufficient") !=
             st->reasons.end());
    if (incomplete_upload) {
      (void)client_.cancelJob(uri, pjid, j.owner);
      backToHold(j.id, j.state, "job-hold-until-specified",
                 "the release was interrupted by a server restart; release the job again");
      continue;
    }
    if (j.state == JobState::kSending && st && !st->terminal()) {
      (void)jobs_.transitionAndWait(j.id, JobState::kPrinting, "job-printing",
                                    "printing on " + j.printer, "recovery");
    }
    Tracked t{j.id,     j.printer,    uri,
              pjid,     j.owner,      j.sides,
              j.copies, j.color_mode, printerJobName(j, j.release_attempt)};
    {
      std::lock_guard lock(mu_);
      busy_.insert(j.printer);
    }
    if (st && st->terminal()) {
      if (j.state == JobState::kSending && st->state == kIppJobCompleted) {
        (void)jobs_.transitionAndWait(j.id, JobState::kPrinting, "job-printing", "", "recovery");
      }
      finish(t, *st);
    } else if (!st && st.status().code() == StatusCode::kNotFound) {
      PrinterJobStatus gone;
      finish(t, gone);
    } else {
      std::lock_guard lock(mu_);
      tracked_.push_back(t);
    }
  }
  return Status::ok();
}

size_t ReleaseEngine::expireDue() {
  size_t n = 0;
  for (;;) {
    auto due = jobs_.store().expiredHeldJobs(clock_.now(), 500);
    if (!due || due->empty()) break;
    size_t before = n;
    // All transitions of a page go to the committer at once, so they share
    // its group commits instead of one transaction (and fsync) each.
    std::mutex m;
    std::condition_variable done_cv;
    size_t left = due->size();
    std::vector<char> moved(due->size(), 0);
    for (size_t i = 0; i < due->size(); ++i) {
      jobs_.transition((*due)[i].id, JobState::kExpired, "job-hold-expired",
                       "not released before the hold timeout; never printed", "system",
                       [&, i](Status s) {
                         std::lock_guard lock(m);
                         moved[i] = s ? 1 : 0;
                         if (--left == 0) done_cv.notify_all();
                       });
    }
    {
      std::unique_lock lock(m);
      done_cv.wait(lock, [&] { return left == 0; });
    }
    for (size_t i = 0; i < due->size(); ++i) {
      if (!moved[i]) continue;
      ++n;
      log_.info("job.expired", {{"job", (*due)[i].id}, {"owner", (*due)[i].owner}});
    }
    if (n == before) break;  // nothing moved: do not spin
  }
  return n;
}

void ReleaseEngine::timerLoop() {
  auto next_expiry = std::chrono::steady_clock::now();
  auto next_refresh = std::chrono::steady_clock::now() + options_.refresh_interval;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, std::min(next_expiry, next_refresh), [&] { return stopping_; });
      if (stopping_) return;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_expiry) {
      expireDue();
      jobs_.abortStaleIncoming(300);  // multiple-operation-time-out (ipp_attributes.cpp)
      next_expiry = now + options_.expiry_interval;
    }
    if (now >= next_refresh) {
      if (auto ps = jobs_.store().printers())
        for (const auto& p : *ps) (void)refreshPrinter(p.name);
      next_refresh = now + options_.refresh_interval;
    }
  }
}

bool ReleaseEngine::waitIdle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (true) {
    bool idle = busy_.empty() && tracked_.empty();
    for (auto& [p, q] : queues_) idle = idle && q.empty();
    if (idle) return true;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) return false;
  }
}

}  // namespace pullprint::spooler
