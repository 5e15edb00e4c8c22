#include "spooler/job_service.h"

#include "core/password.h"  // sha256Hex

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <map>
#include <set>

namespace pullprint::spooler {

namespace {

// Reads the `size` bytes of a just-written spool file (from the page cache).
bool readWhole(int fd, std::int64_t size, std::string* out) {
  out->resize(static_cast<size_t>(size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::pread(fd, out->data() + done, out->size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

JobService::JobService(Store& store, Committer& committer, SpoolDir& spool, const Clock& clock,
                       Logger& log)
    : store_(store), committer_(committer), spool_(spool), clock_(clock), log_(log) {}

Result<RecoveryReport> JobService::recover() {
  RecoveryReport report;
  auto max = store_.maxJobId();
  if (!max) return max.status();
  next_id_ = *max + 1;

  auto jobs = store_.activeJobs();
  if (!jobs) return jobs.status();
  std::set<std::pair<JobId, int>> expected;  // documents of the active jobs
  UnixSeconds now = clock_.now();
  for (const Job& j : *jobs) {
    if (j.state == JobState::kReceiving) {
      // The upload never finished: nothing was acknowledged for this document.
      Status s = committer_.submitAndWait([&](StoreWriter& w) {
        if (Status e =
                w.updateJobState(j.id, JobState::kAborted, "aborted-by-system",
                                 "document upload did not complete before the server stopped", now);
            !e)
          return e;
        return w.insertEvent({j.id, now, jobStateName(j.state), "aborted", "recovery", "system"});
      });
      if (!s) return s;
      ++report.aborted;
      log_.warn("job.recovered-aborted", {{"job", j.id}, {"owner", j.owner}});
      continue;
    }
    ActiveJob a{j.state, j.owner, j.queue, j.document_count, false, j.created_at, ""};
    for (int d = 1; d <= j.document_count; ++d) expected.insert({j.id, d});
    std::lock_guard lock(mu_);
    active_[j.id] = a;
    ++report.active;
  }
  if (Status s = restoreJournal(expected, &report); !s) return s;
  // The journal's flusher needs syncfs(). Where it fails (refused by a
  // seccomp filter, say), every file is synced before its row instead.
  if (journal_max_bytes_ > 0) {
    if (Status s = spool_.syncFileSystem(); !s) {
      log_.warn("spool.journal-disabled",
                {{"error", s.message()},
                 {"hint", "every document is synced before its job is acknowledged"}});
      journal_max_bytes_ = 0;
    }
  }
  // Every file found leaves `expected`; a file no job expects is an orphan.
  for (auto [job, doc] : spool_.list()) {
    if (expected.erase({job, doc}) == 0) {
      spool_.remove(job, doc);
      ++report.orphans_removed;
    }
  }
  report.documents_missing = static_cast<int>(expected.size());
  for (const auto& [job, doc] : expected) {
    if (report.missing_jobs.size() < 20 &&
        (report.missing_jobs.empty() || report.missing_jobs.back() != job))
      report.missing_jobs.push_back(job);
  }
  return report;
}

Status JobService::restoreJournal(const std::set<std::pair<JobId, int>>& expected,
                                  RecoveryReport* report) {
  auto journal = store_.journaledDocuments();
  if (!journal) return journal.status();
  if (journal->empty()) return Status::ok();
  // The journal's copy is the one known to be durable: whatever the file
  // holds (nothing, part, all), it is written again. A slot may also still
  // hold the copy of a document whose file was synced (slots are reused,
  // not emptied, while jobs flow): such a copy is the same bytes, and is
  // written again all the same. A copy that is not the bytes the document
  // row records (its SHA-256) is never written. Documents of jobs that
  // ended need nothing.
  std::map<JobId, std::vector<Document>> documents;
  std::set<std::pair<JobId, int>> restored;
  std::vector<UniqueFd> written;
  for (const JournaledDocument& d : *journal) {
    const std::pair key{d.job_id, d.number};
    if (!expected.contains(key) || restored.contains(key)) continue;
    auto [it, added] = documents.try_emplace(d.job_id);
    if (added) {
      auto rows = store_.documents(d.job_id);
      if (!rows) return rows.status();
      it->second = std::move(*rows);
    }
    const auto row = std::find_if(it->second.begin(), it->second.end(),
                                  [&](const Document& r) { return r.number == d.number; });
    if (row == it->second.end() || (!row->sha256.empty() && row->sha256 != sha256Hex(d.data))) {
      log_.warn("spool.journal-copy-ignored",
                {{"job", d.job_id},
                 {"document", d.number},
                 {"slot", d.slot},
                 {"hint", "not the document's recorded bytes; the spool file is kept as it is"}});
      continue;
    }
    auto fd = rewriteDocument(d);
    if (!fd) return fd.status();
    written.push_back(std::move(*fd));
    restored.insert(key);
  }
  // The committer syncs the rewritten files and the directory before the
  // transaction that empties the journal, as for any document.
  if (Status s = committer_.submitAndWait([](StoreWriter& w) { return w.clearJournal(); },
                                          std::move(written));
      !s)
    return s;
  report->restored_from_journal = static_cast<int>(restored.size());
  return Status::ok();
}

Result<UniqueFd> JobService::rewriteDocument(const JournaledDocument& d) {
  spool_.remove(d.job_id, d.number);
  auto writer = spool_.create(d.job_id, d.number);
  if (!writer) return writer.status();
  if (Status s = (*writer)->write(d.data.data(), d.data.size()); !s) return s;
  return (*writer)->publish();
}

Status JobService::restoreFromJournal(JobId id, int number) {
  auto copy = store_.journaledDocument(id, number);
  if (!copy) return copy.status();
  if (!*copy)
    return {StatusCode::kNotFound, "document " + std::to_string(number) + " of job " +
                                       std::to_string(id) + " is not in the journal"};
  auto fd = rewriteDocument(**copy);
  if (!fd) return fd.status();
  // Synced (file and directory) by the committer before the copy goes.
  std::vector<UniqueFd> files;
  files.push_back(std::move(*fd));
  return committer_.submitAndWait([slot = (*copy)->slot, id, number](
                                      StoreWriter& w) { return w.dropJournal(slot, id, number); },
                                  std::move(files));
}

void JobService::createJob(const Job& job, Done done) {
  {
    std::lock_guard lock(mu_);
    active_[job.id] = ActiveJob{job.state, job.owner, job.queue, 0, false, job.created_at, ""};
  }
  committer_.submit({[copy = job](StoreWriter& w) {
                       if (Status s = w.insertJob(copy); !s) return s;
                       return w.insertEvent({copy.id, copy.created_at, "", jobStateName(copy.state),
                                             "submitted", copy.owner});
                     },
                     {},
                     [this, id = job.id, done = std::move(done)](Status s) {
                       if (!s) {
                         std::lock_guard lock(mu_);
                         active_.erase(id);
                         if (!done) keepCreationFailure(id, s);
                       }
                       if (done) done(s);
                     }});
}

void JobService::keepCreationFailure(JobId id, const Status& why) {
  constexpr size_t kKept = 256;
  if (creation_failures_.size() >= kKept) creation_failures_.erase(creation_failures_.begin());
  creation_failures_[id] = why;
}

std::optional<Status> JobService::takeCreationFailure(JobId id) {
  auto it = creation_failures_.find(id);
  if (it == creation_failures_.end()) return std::nullopt;
  Status s = std::move(it->second);
  creation_failures_.erase(it);
  return s;
}

void JobService::recordDenied(const Job& job, const std::string& message, Done done) {
  Job row = job;
  row.state = JobState::kAborted;
  row.state_reasons = "job-denied-by-policy";
  row.state_message = message;
  row.completed_at = row.created_at;
  committer_.submit({[row](StoreWriter& w) {
                       if (Status s = w.insertJob(row); !s) return s;
                       return w.insertEvent({row.id, row.created_at, "", "aborted",
                                             "job-denied-by-policy", row.owner});
                     },
                     {},
                     std::move(done)});
}

Status JobService::beginDocument(JobId id, int* document_number) {
  std::lock_guard lock(mu_);
  auto it = active_.find(id);
  if (it == active_.end()) {
    if (auto why = takeCreationFailure(id)) return *why;
  }
  if (it == active_.end() || it->second.state != JobState::kReceiving)
    return {StatusCode::kFailedPrecondition, "job is not accepting documents"};
  if (it->second.receiving)
    return {StatusCode::kFailedPrecondition, "another document is being received for this job"};
  it->second.receiving = true;
  *document_number = it->second.documents + 1;
  return Status::ok();
}

void JobService::abandonDocument(JobId id, int document_number, const std::string& why) {
  spool_.remove(id, document_number);
  std::lock_guard lock(mu_);
  if (auto it = active_.find(id); it != active_.end()) {
    it->second.receiving = false;
    if (!why.empty()) it->second.document_failed = why;
  }
  (void)takeCreationFailure(id);
}

void JobService::documentReceived(const Job& updated, const Document& doc, UniqueFd fd, bool last,
                                  JobState final_state, const std::string& final_reasons,
                                  Done done) {
  JobState from;
  {
    std::lock_guard lock(mu_);
    auto it = active_.find(updated.id);
    if (it == active_.end() || it->second.state != JobState::kReceiving) {
      // Cancelled while the document was arriving (or its row never
      // committed): drop the document.
      if (it != active_.end()) it->second.receiving = false;
      spool_.remove(doc.job_id, doc.number);
      Status why = Status(StatusCode::kFailedPrecondition, "job was cancelled during upload");
      if (it == active_.end()) {
        if (auto failed = takeCreationFailure(updated.id)) why = *failed;
      }
      if (done) done(why);
      return;
    }
    from = it->second.state;
    it->second.receiving = false;
    it->second.documents = doc.number;
    if (last) it->second.state = final_state;
  }
  Job row = updated;
  row.document_count = doc.number;
  row.size_bytes += doc.size_bytes;
  if (doc.number == 1) {
    row.format = doc.format;
    row.sha256 = doc.sha256;
  }
  row.last_document_received = last;
  if (last) {
    row.state = final_state;
    row.state_reasons = final_reasons;
  }
  UnixSeconds now = clock_.now();
  const JobId id = row.id;
  std::string queue = row.queue;
  bool became_pending = last && final_state == JobState::kPending;
  Committer::Op op;
  std::optional<Job> received;  // for the received hook
  if (last && received_hook_) received = row;
  op.write = [row = std::move(row), doc, last, from, now](StoreWriter& w) {
    if (Status s = w.insertDocument(doc); !s) return s;
    if (Status s =
            w.updateJobDocuments(row.id, row.document_count, row.size_bytes, row.format, row.sha256,
                                 row.last_document_received, row.state, row.state_reasons);
        !s)
      return s;
    if (last)
      return w.insertEvent({row.id, now, jobStateName(from), jobStateName(row.state),
                            "document received", row.owner});
    return Status::ok();
  };
  std::string journal_copy;
  if (doc.size_bytes <= journal_max_bytes_ && readWhole(fd.get(), doc.size_bytes, &journal_copy)) {
    op.journaled.push_back({id, doc.number, std::move(journal_copy)});
  } else {
    op.sync_files.push_back(std::move(fd));
  }
  op.done = [this, id, doc, from, became_pending, last, queue = std::move(queue),
             received = std::move(received), done = std::move(done)](Status s) {
    const int docno = doc.number;
    if (!s) {
      // Not durable: the client hears an error, so the document must go too.
      spool_.remove(id, docno);
      std::lock_guard lock(mu_);
      if (auto it = active_.find(id); it != active_.end()) {
        it->second.state = from;
        it->second.documents = docno - 1;
      }
      // Its job's row failed before it (same or earlier transaction): that
      // is the reason, not what the document's rows then ran into (a
      // missing job row).
      if (auto failed = takeCreationFailure(id)) s = *failed;
    }
    if (done) done(s);
    if (s && received) {
      std::vector<Document> documents;
      if (docno == 1) documents.push_back(doc);
      received_hook_(*received, documents);
    }
    if (s && became_pending && pending_hook_) pending_hook_(id, queue);
  };
  committer_.submit(std::move(op));
}

Status JobService::transitionAndWait(JobId id, JobState to, const std::string& reasons,
                                     const std::string& message, const std::string& actor,
                                     std::function<Status(StoreWriter&)> extra) {
  std::promise<Status> p;
  auto f = p.get_future();
  transition(
      id, to, reasons, message, actor, [&p](Status s) { p.set_value(std::move(s)); },
      std::move(extra));
  return f.get();
}

void JobService::transition(JobId id, JobState to, const std::string& reasons,
                            const std::string& message, const std::string& actor, Done done,
                            std::function<Status(StoreWriter&)> extra) {
  ActiveJob before;
  {
    std::lock_guard lock(mu_);
    auto it = active_.find(id);
    if (it == active_.end()) {
      if (done) done(Status(StatusCode::kFailedPrecondition, "job is already finished"));
      return;
    }
    if (!canTransition(it->second.state, to)) {
      if (done)
        done(Status(StatusCode::kFailedPrecondition, std::string("job is ") +
                                                         jobStateName(it->second.state) +
                                                         ", cannot become " + jobStateName(to)));
      return;
    }
    before = it->second;
    if (isTerminal(to))
      active_.erase(it);
    else
      it->second.state = to;
  }
  UnixSeconds now = clock_.now();
  committer_.submit({[=](StoreWriter& w) {
                       if (Status s = w.updateJobState(id, to, reasons, message, now); !s) return s;
                       if (extra) {
                         if (Status s = extra(w); !s) return s;
                       }
                       return w.insertEvent(
                           {id, now, jobStateName(before.state), jobStateName(to), reasons, actor});
                     },
                     {},
                     [this, id, to, before, done = std::move(done)](Status s) {
                       if (!s) {
                         std::lock_guard lock(mu_);
                         active_[id] = before;
                       } else if (isTerminal(to)) {
                         // Never printed or printed: either way the document is no longer needed.
                         removeDocuments(id, before.documents + (before.receiving ? 1 : 0));
                       }
                       if (done) done(s);
                     }});
}

void JobService::removeDocuments(JobId id, int count) {
  for (int d = 1; d <= count; ++d) spool_.remove(id, d);
}

size_t JobService::abortStaleIncoming(UnixSeconds timeout) {
  std::vector<std::pair<JobId, std::string>> stale;  // with the message
  UnixSeconds cutoff = clock_.now() - timeout;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, a] : active_) {
      if (a.state != JobState::kReceiving || a.receiving || a.created_at >= cutoff) continue;
      std::string message = "no document arrived within the multiple-operation-time-out";
      if (!a.document_failed.empty())
        message = "its document was not stored (" + a.document_failed +
                  ") and was not sent again within the multiple-operation-time-out";
      stale.emplace_back(id, std::move(message));
    }
  }
  size_t n = 0;
  for (const auto& [id, message] : stale) {
    if (transitionAndWait(id, JobState::kAborted, "aborted-by-system", message, "system")) {
      ++n;
      log_.warn("job.incoming-timeout", {{"job", id}});
    }
  }
  return n;
}

std::optional<ActiveJob> JobService::active(JobId id) const {
  std::lock_guard lock(mu_);
  auto it = active_.find(id);
  if (it == active_.end()) return std::nullopt;
  return it->second;
}

size_t JobService::activeCount(const std::string& queue) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, a] : active_) n += a.queue == queue;
  return n;
}

size_t JobService::activeCount() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

}  // namespace pullprint::spooler
