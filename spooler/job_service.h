// JobService: owns the job lifecycle. The one place that changes job state.
//
// transition() checks every change against core/job.h's table, applies it
// to the in-memory index of active (non-terminal) jobs at once (so two
// concurrent requests cannot both act on the same state), persists it with
// an audit event through the Committer, and reports when it is durable. A
// failed commit restores the previous in-memory state.
//
// The in-memory index holds only what concurrent checks need (state, owner,
// queue, document count): the rest of a job is read from the store.
//
// Thread contract: every public method is thread-safe. Completions run on
// the committer thread (see committer.h).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/store.h"
#include "spooler/committer.h"
#include "spooler/spool.h"

namespace pullprint::spooler {

struct ActiveJob {
  JobState state = JobState::kReceiving;
  std::string owner;
  std::string queue;
  int documents = 0;       // documents stored so far
  bool receiving = false;  // a document upload is in progress
  UnixSeconds created_at = 0;
  std::string document_failed;  // why its last document was not stored, if it was not
};

struct RecoveryReport {
  int active = 0;           // held/pending/sending/printing jobs recovered
  int aborted = 0;          // half-received jobs marked aborted
  int orphans_removed = 0;  // spool files no job claims
  // Documents of active jobs rewritten from the document journal (their
  // files may not have reached the disk before the server stopped).
  int restored_from_journal = 0;
  // Active jobs with a document missing from the spool (first 20 ids in
  // missing_jobs). Kept as they are: the files may come back (a spool
  // directory not mounted yet, a restore in progress); a release keeps such
  // a job held with reason document-access-error until they do.
  int documents_missing = 0;
  std::vector<JobId> missing_jobs;
};

class JobService {
 public:
  using Done = std::function<void(Status)>;

  JobService(Store& store, Committer& committer, SpoolDir& spool, const Clock& clock, Logger& log);

  // Start-up: rebuilds the index from the store, aborts half-received jobs,
  // rewrites active jobs' documents from the document journal (then empties
  // it), removes orphan spool files. Call before serving.
  Result<RecoveryReport> recover();

  JobId allocateId() { return next_id_.fetch_add(1); }

  // Creates the job row (state must be kReceiving). `done` may be empty
  // (Print-Job: the document follows at once); then, if the row cannot be
  // committed (a full disk), the document calls below fail with that
  // reason instead of "not accepting documents".
  void createJob(const Job& job, Done done);

  // Records a job refused by policy at submission: a row in state aborted
  // with reason job-denied-by-policy, never active, counted apart in reports.
  void recordDenied(const Job& job, const std::string& message, Done done);

  // Marks that a document upload for `id` starts; fails if the job is not
  // receiving documents or another upload is in progress.
  Status beginDocument(JobId id, int* document_number);
  // Writes a document's spool file again from its journal copy (the bytes
  // committed with the job) and syncs it, then drops the copy: for a file
  // found damaged while its copy is still there (a failed background sync,
  // say). kNotFound when there is no copy any more. Blocks until durable.
  Status restoreFromJournal(JobId id, int number);

  // Ends an upload that will not be committed (error, disconnect); `why`
  // is kept for the job's message should it then time out waiting for a
  // document (abortStaleIncoming).
  void abandonDocument(JobId id, int document_number, const std::string& why = "");

  // Documents of at most this many bytes go through the document journal
  // (committer.h): their bytes commit with their rows and their files are
  // synced afterwards. 0 (the default here): every file is synced first.
  // Call before recover(), which turns the journal off if the spool's file
  // system cannot be synced as a whole (SpoolDir::syncFileSystem).
  void setJournalMaxBytes(std::int64_t bytes) { journal_max_bytes_ = bytes; }

  // A document arrived completely: its file (fd) is synced, or its bytes go
  // into the journal, and its row, the updated job row and, if `last`, the
  // move to `final_state` commit together.
  // `updated` is the job as before this document; size, format and sha256
  // are accumulated here from `doc`.
  void documentReceived(const Job& updated, const Document& doc, UniqueFd fd, bool last,
                        JobState final_state, const std::string& final_reasons, Done done);

  // `extra` (may be empty) runs in the same transaction, e.g. release
  // bookkeeping or the usage record written with the move to completed.
  void transition(JobId id, JobState to, const std::string& reasons, const std::string& message,
                  const std::string& actor, Done done,
                  std::function<Status(StoreWriter&)> extra = nullptr);
  // The same, waiting until durable (release engine workers, start-up).
  Status transitionAndWait(JobId id, JobState to, const std::string& reasons,
                           const std::string& message, const std::string& actor,
                           std::function<Status(StoreWriter&)> extra = nullptr);

  // Called (on the committer thread) after a job became kPending on its own,
  // i.e. a job of a queue that prints without release finished arriving.
  void setPendingHook(std::function<void(JobId, const std::string& queue)> hook) {
    pending_hook_ = std::move(hook);
  }

  // Called (on the committer thread) after a job's last document is durable,
  // with the job's row as committed and its documents' rows when they are
  // all known here (a one-document job), else with no documents.
  using ReceivedHook = std::function<void(const Job& job, const std::vector<Document>& documents)>;
  void setReceivedHook(ReceivedHook hook) { received_hook_ = std::move(hook); }

  Committer& committer() { return committer_; }

  // Aborts jobs created with Create-Job that received no document (and have
  // no upload in progress) for `timeout` seconds (multiple-operation-time-out).
  size_t abortStaleIncoming(UnixSeconds timeout);

  std::optional<ActiveJob> active(JobId id) const;
  size_t activeCount() const;
  size_t activeCount(const std::string& queue) const;  // in one queue

  Store& store() { return store_; }
  SpoolDir& spool() { return spool_; }
  const Clock& clock() const { return clock_; }

 private:
  void removeDocuments(JobId id, int count);
  // Replaces the spool file of `d` with its bytes; the file is not synced.
  Result<UniqueFd> rewriteDocument(const JournaledDocument& d);
  // A job created without `done` whose row failed to commit: why, for the
  // document that follows (it takes it; a few hundred at most are kept).
  // The caller holds mu_.
  void keepCreationFailure(JobId id, const Status& why);
  std::optional<Status> takeCreationFailure(JobId id);
  Status restoreJournal(const std::set<std::pair<JobId, int>>& expected, RecoveryReport* report);

  Store& store_;
  Committer& committer_;
  SpoolDir& spool_;
  const Clock& clock_;
  Logger& log_;
  std::atomic<JobId> next_id_{1};
  std::int64_t journal_max_bytes_ = 0;                           // set before serving
  std::function<void(JobId, const std::string&)> pending_hook_;  // set before serving
  ReceivedHook received_hook_;                                   // set before serving
  mutable std::mutex mu_;                                        // guards the two below
  std::unordered_map<JobId, ActiveJob> active_;
  std::map<JobId, Status> creation_failures_;
};

}  // namespace pullprint::spooler
