// ReleaseEngine: held jobs go to a real printer, exactly once, and are accounted.
//
// Design notes
//
//   step                       | state after        | durable before the next step
//   ---------------------------+--------------------+------------------------------------------
//   release(user, printer)     | pending            | printer + released_by stored
//   worker picks the job       | sending            | attempt number stored
//   Create-Job at the printer  | sending            | printer job id stored (before any byte)
//   Send-Document(s)           | printing           |
//   tracker sees completed     | completed          | usage record, same transaction
//   printer refuses / vanishes | held (with reason) | nothing lost: release again anywhere
//
// The printer-side job name carries "(pullprint <job>.<attempt>)", so after
// a crash between Create-Job and storing its id the job can still be found
// on the printer (Get-Jobs) instead of being sent twice. On start,
// reconcile() asks the printer about every job left in sending/printing
// before anything else is sent.
//
// One job at a time per printer (like cupsd): the next job for a printer is
// sent when the previous one has finished there. Workers and the tracker are
// threads of their own (blocking libcups calls never run on network
// threads).
//
// Hold timeout: expireDue() moves held jobs past their hold_expires_at to
// expired (document deleted, job kept as a record). It runs on a timer and
// reads time only from the injected Clock, so tests drive it directly.
//
// Thread contract: public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "policies/policy.h"
#include "spooler/job_service.h"
#include "spooler/printer_client.h"

namespace pullprint::spooler {

struct ReleaseOptions {
  std::chrono::milliseconds poll_interval{500};        // Get-Job-Attributes while printing
  std::chrono::milliseconds busy_retry_for{30000};     // keep retrying a busy printer this long
  std::chrono::milliseconds expiry_interval{30000};    // hold-timeout sweep
  std::chrono::milliseconds refresh_interval{300000};  // capabilities and state refresh
  int workers = 2;
};

struct ReleaseSummary {
  std::vector<JobId> jobs;            // released, oldest first
  std::optional<std::int64_t> pages;  // known pages (nullopt if any unknown)
  std::optional<std::int64_t> sheets;
};

class ReleaseEngine {
 public:
  ReleaseEngine(const Config& config, JobService& jobs, const PrinterClient& client,
                const Clock& clock, Logger& log, ReleaseOptions options = {});
  ~ReleaseEngine();
  ReleaseEngine(const ReleaseEngine&) = delete;
  ReleaseEngine& operator=(const ReleaseEngine&) = delete;

  // Registers the configured printers, reconciles jobs left mid-release,
  // then starts workers, tracker and timers. `threads=false`: no background
  // threads (tests call the steps themselves).
  Status start(bool threads = true);
  void stop();

  // Releases `user`'s held jobs (all when `which` is empty) at `printer`,
  // oldest first. Fails when the printer is unknown or no job qualifies.
  Result<ReleaseSummary> release(const std::string& user, const std::string& printer,
                                 const std::vector<JobId>& which, const std::string& actor);

  // Releases one held job at `printer` without blocking (IPP Release-Job).
  void releaseJobAsync(JobId id, const std::string& printer, const std::string& actor,
                       std::function<void(Status)> done);

  // The policy applied at release, with the chosen printer's capabilities
  // (null: none; then a simplex printer still never gets a duplex request).
  void setPolicy(std::shared_ptr<const policies::Policy> policy);

  // Release counters for GET /metrics (call before start(); may be null).
  void setMetrics(Metrics* metrics) { metrics_ = metrics; }

  // Counts a job's pages now (AnalysisQueue::countNow). Called, blocking, for
  // a job about to be sent that has not been counted yet, so that the policy
  // sees its pages and its usage record gets them. Call before start().
  void setCountNow(std::function<Status(JobId)> count_now) { count_now_ = std::move(count_now); }

  // Registers (or updates) a printer and reads its capabilities.
  Status addPrinter(const Printer& printer);
  Status refreshPrinter(const std::string& name);

  // One sweep of the hold timeout; returns how many jobs expired.
  size_t expireDue();

  // Exactly-once recovery; called by start().
  Status reconcile();

  // The printer a job of `queue` prints on without a release step, if any.
  std::string printerForQueue(const std::string& queue) const;

  // Blocks until no job is pending or being sent/printed (tests).
  bool waitIdle(std::chrono::milliseconds timeout);

 private:
  struct Tracked {
    JobId job;
    std::string printer;
    std::string uri;
    std::int64_t printer_job_id;
    std::string user;
    std::string sides;             // as sent: accounting follows what was printed
    int copies = 1;                // as sent
    std::string color_mode;        // as sent
    std::string printer_job_name;  // to find the job when its id was never stored
  };

  void enqueue(JobId job, const std::string& printer);
  void workerLoop();
  void trackerLoop();
  void timerLoop();
  void sendOne(JobId id, const std::string& printer);
  void pollTracked();
  // A job recovered after a restart that cannot have reached the printer
  // whole: stop tracking it and put it back on hold.
  void abandonTracked(const Tracked& t);
  void finish(const Tracked& t, const PrinterJobStatus& st);
  void backToHold(JobId id, JobState from, const std::string& reason, const std::string& message);
  void printerDone(const std::string& printer);
  std::string printerJobName(const Job& job, int attempt) const;

  const Config& config_;
  JobService& jobs_;
  const PrinterClient& client_;
  const Clock& clock_;
  Logger& log_;
  ReleaseOptions options_;
  Metrics* metrics_ = nullptr;
  std::function<Status(JobId)> count_now_;  // may be empty

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::deque<JobId>> queues_;  // per printer, FIFO
  std::set<std::string> busy_;                       // printers with a job being sent or printed
  std::vector<Tracked> tracked_;
  std::vector<std::thread> threads_;
  std::shared_ptr<const policies::Policy> policy_;  // guarded by mu_
};

}  // namespace pullprint::spooler
