// AnalysisQueue: counts the pages of every job once it has arrived.
//
// A job whose last document is durable is queued here (and, at start-up,
// every active job not yet analysed). A worker thread runs the document
// analysis for each document in an isolated child process (limits on time
// and memory: a hostile document cannot hang or exhaust the server): each
// thread keeps one long-lived `pullprint-analyze --serve` process
// (analysis/worker.h) and replaces it every `documents_per_process`
// documents; with 0 (or no helper executable) every document gets a fresh
// process (analysis/runner.h). It then
// applies the job ticket (copies, page-ranges, number-up, sides) and stores
// pages, impressions and sheets with their confidence through the committer.
// Analysis runs after the client was answered: it never adds to submission
// latency, and a job is held whatever its analysis says. With
// RunnerOptions::background the analysis processes run under SCHED_IDLE, so
// they do not take CPU from the threads that answer clients either; a
// document that reaches its time limit there is analysed once more, in a
// fresh process at normal priority, and that verdict counts.
//
// A count that could not be determined stays NULL ("unknown"), never 0; the
// reason (e.g. analysis-time-limit) is kept in count_note and shown in
// job-state-reasons.
//
// Worker threads do not wait for a job's counts to commit before analysing
// the next job (the counts of consecutive jobs share a transaction);
// waitIdle() and the destructor wait for them. The committer must outlive
// the queue.
//
// Thread contract: enqueue() is thread-safe; workers are owned threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "spooler/analysis/analysis.h"
#include "spooler/analysis/runner.h"
#include "spooler/analysis/worker.h"
#include "spooler/job_service.h"

namespace pullprint::spooler {

class AnalysisQueue {
 public:
  AnalysisQueue(JobService& jobs, Logger& log, analysis::RunnerOptions runner,
                analysis::AnalysisOptions options, int workers = 1,
                int documents_per_process = 500);
  ~AnalysisQueue();
  AnalysisQueue(const AnalysisQueue&) = delete;
  AnalysisQueue& operator=(const AnalysisQueue&) = delete;

  void enqueue(JobId id);
  // The same, with the rows JobService just committed, which saves reading
  // them back (JobService::ReceivedHook); `documents` may be empty.
  void enqueue(const Job& job, const std::vector<Document>& documents);
  // Queues every active job that has no counts yet (start-up).
  void enqueueUnanalysed();
  // Analyses one job now, in the calling thread (tests, and the workers).
  Status analyzeJob(JobId id) {
    return analyzeJob(Pending{id, std::nullopt, {}}, nullptr, runner_options_);
  }
  // Counts one job now, in the calling thread, in a fresh process at normal
  // priority: for the release engine, about to send a job the queue has not
  // counted yet (once printed, its document is gone). When the queue reaches
  // the job later it counts it again (same figures) or, once it has printed,
  // skips it.
  Status countNow(JobId id);
  bool waitIdle(std::chrono::milliseconds timeout);

 private:
  struct Pending {
    JobId id;
    std::optional<Job> job;           // else read from the store
    std::vector<Document> documents;  // empty: read from the store
  };
  void run();
  // With a worker, its long-lived process analyses; else a fresh process
  // made with `runner`.
  Status analyzeJob(const Pending& pending, analysis::AnalysisWorker* worker,
                    const analysis::RunnerOptions& runner);

  JobService& jobs_;
  Logger& log_;
  analysis::RunnerOptions runner_options_;
  analysis::AnalysisOptions options_;
  int documents_per_process_;
  std::mutex mu_;  // guards queue_, busy_, committing_, stop_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  int busy_ = 0;
  int committing_ = 0;  // counts submitted by workers, not yet committed
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace pullprint::spooler
