#include "spooler/analysis_queue.h"

#include <optional>

#include "core/thread_name.h"
#include "spooler/job_counts.h"

namespace pullprint::spooler {

AnalysisQueue::AnalysisQueue(JobService& jobs, Logger& log, analysis::RunnerOptions runner,
                             analysis::AnalysisOptions options, int workers,
                             int documents_per_process)
    : jobs_(jobs),
      log_(log),
      runner_options_(std::move(runner)),
      options_(std::move(options)),
      documents_per_process_(documents_per_process) {
  for (int i = 0; i < std::max(1, workers); ++i)
    threads_.emplace_back([this] {
      nameThisThread("pp-analysis");
      run();
    });
}

AnalysisQueue::~AnalysisQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  // Completions of counts still committing refer to this queue.
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return committing_ == 0; });
}

void AnalysisQueue::enqueue(JobId id) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{id, std::nullopt, {}});
  }
  cv_.notify_one();
}

void AnalysisQueue::enqueue(const Job& job, const std::vector<Document>& documents) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{job.id, job, documents});
  }
  cv_.notify_one();
}

void AnalysisQueue::enqueueUnanalysed() {
  auto active = jobs_.store().activeJobs();
  if (!active) return;
  for (const Job& j : *active)
    if (j.count_confidence.empty() && j.last_document_received) enqueue(j.id);
}

bool AnalysisQueue::waitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [&] { return queue_.empty() && busy_ == 0 && committing_ == 0; });
}

void AnalysisQueue::run() {
  std::optional<analysis::AnalysisWorker> worker;
  if (!runner_options_.helper.empty() && documents_per_process_ > 0)
    worker.emplace(analysis::WorkerOptions{runner_options_.helper, runner_options_.grace,
                                           documents_per_process_, runner_options_.background});
  for (;;) {
    Pending next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Status s = analyzeJob(next, worker ? &*worker : nullptr, runner_options_);
    if (!s) log_.warn("analysis.failed", {{"job", next.id}, {"error", s.toString()}});
    {
      std::lock_guard lock(mu_);
      --busy_;
    }
    cv_.notify_all();
  }
}

Status AnalysisQueue::countNow(JobId id) {
  log_.info("analysis.count-now",
            {{"job", id}, {"why", "released before it was counted; counting it first"}});
  analysis::RunnerOptions normal = runner_options_;
  normal.background = false;
  return analyzeJob(Pending{id, std::nullopt, {}}, nullptr, normal);
}

Status AnalysisQueue::analyzeJob(const Pending& pending, analysis::AnalysisWorker* worker,
                                 const analysis::RunnerOptions& runner) {
  const JobId id = pending.id;
  Job job;
  if (pending.job) {
    // Finished since it was queued: its document is already gone.
    if (!jobs_.active(id)) return Status::ok();
    job = *pending.job;
  } else {
    auto jr = jobs_.store().job(id);
    if (!jr) return jr.status();
    if (!jr->has_value()) return {StatusCode::kNotFound, "no job " + std::to_string(id)};
    job = **jr;
    if (isTerminal(job.state)) return Status::ok();  // document already gone
  }
  Result<std::vector<Document>> docs = pending.documents;
  if (pending.documents.empty()) docs = jobs_.store().documents(id);
  if (!docs) return docs.status();

  std::vector<std::optional<std::int64_t>> pages;
  std::string confidence = "exact";
  std::string note;
  for (const Document& d : *docs) {
    const auto path = jobs_.spool().documentPath(id, d.number);
    auto a = worker ? worker->analyze(path, d.format, options_)
                    : analysis::AnalysisRunner(runner).analyze(path, d.format, options_);
    if (runner.background && a.reason == analysis::reason::kTimeLimit) {
      // At background priority the time limit also runs while the process
      // waits for CPU that busier work took (a burst of submissions, or
      // anything else on the host). So a document is cut off for being slow
      // only at normal priority: once more, in a fresh process.
      log_.info(
          "analysis.retry",
          {{"job", id},
           {"document", d.number},
           {"why", "time limit reached at background priority; once more at normal priority"}});
      analysis::RunnerOptions normal = runner;
      normal.background = false;
      a = analysis::AnalysisRunner(normal).analyze(path, d.format, options_);
    }
    pages.push_back(a.pages);
    if (a.confidence == analysis::Confidence::kUnknown)
      confidence = "unknown";
    else if (a.confidence == analysis::Confidence::kEstimated && confidence == "exact")
      confidence = "estimated";
    std::string part = a.reason.empty() ? a.method : a.reason;
    if (!a.note.empty()) part += ": " + a.note;
    if (!note.empty()) note += "; ";
    note += "document " + std::to_string(d.number) + " " + part;
    log_.info("analysis.done", {{"job", id},
                                {"document", d.number},
                                {"pages", a.pages ? std::to_string(*a.pages) : "unknown"},
                                {"method", a.method},
                                {"reason", a.reason}});
  }
  if (docs->empty()) confidence = "unknown";
  analysis::Counts c = analysis::applyTicket(pages, ticketForJob(job));
  std::optional<std::int64_t> total_pages = 0;
  for (const auto& p : pages) {
    if (p && total_pages)
      *total_pages += *p;
    else
      total_pages.reset();
  }
  if (!c.known()) confidence = "unknown";
  if (!c.note.empty()) note += "; " + c.note;
  if (note.size() > 1000) note.resize(1000);
  std::vector<Document> doc_rows = *docs;
  auto write = [=](StoreWriter& w) {
    for (size_t i = 0; i < doc_rows.size(); ++i)
      if (Status s = w.setDocumentPages(id, doc_rows[i].number, pages[i]); !s) return s;
    return w.setJobCounts(id, total_pages, c.impressions_per_copy, c.impressions_total,
                          c.sheets_total, confidence, note);
  };
  if (!worker) return jobs_.committer().submitAndWait(write);
  // A worker thread goes on with the next job while the counts commit, so
  // the counts of consecutive jobs share one transaction.
  {
    std::lock_guard lock(mu_);
    ++committing_;
  }
  jobs_.committer().submit(
      {write, {}, [this, id](Status s) {
         if (!s) log_.warn("analysis.failed", {{"job", id}, {"error", s.toString()}});
         {
           std::lock_guard lock(mu_);
           --committing_;
         }
         cv_.notify_all();
       }});
  return Status::ok();
}

}  // namespace pullprint::spooler
