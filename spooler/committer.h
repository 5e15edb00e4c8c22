// Committer: group commit for the spooler's durable writes.
//
// Every write that must be durable before the client hears "ok" goes
// through submit(). Two stages, each on its own thread, form a pipeline:
//
//   sync stage:   takes everything queued (a batch), fdatasync()s the spool
//                 files its ops name and fsync()s the spool directory once
//                 (all at the same time, on a small pool of sync threads),
//                 then hands the batch to the commit stage;
//   commit stage: takes every batch handed over so far, runs all their ops
//                 in one SQLite transaction (each op in its own savepoint),
//                 then calls each op's completion.
//
// An op with no file to sync, submitted while the sync stage holds nothing,
// goes straight to the commit stage (the common case: a job row, a
// journaled document).
//
// So batch N+1's file syncs overlap batch N's SQLite commit (WAL sync):
// under load a batch waits for about one device round trip per stage
// instead of two in a row, and many jobs share one transaction and one WAL
// sync. When idle, an op goes through at once (no batching delay).
//
// The document journal: a small document need not wait for its file sync
// at all. Its op hands the document's bytes over in `journaled` instead of
// its file in `sync_files`, and the commit stage writes them into the store
// (StoreWriter::journalDocument) in the same transaction as the op's rows:
// the WAL sync that makes the rows durable makes the bytes durable too, so
// the job waits for one device round trip, not two. After the commit, a
// third thread (the flusher) makes such files durable in the background,
// all of them with one syncfs() of the spool's file system
// (SpoolDir::syncFileSystem). On start-up, recovery rewrites every journaled
// document of an active job from the journal (spooler/job_service.h), so a
// power cut that loses an unsynced file loses nothing acknowledged.
//
// The journal is a set of numbered slots, not a row per document: a copy
// goes into a free slot, overwriting what the slot held, and the slot is
// free again once its file has been synced. Nothing is deleted while jobs
// flow (a delete per document cost free-list and interior pages in every
// transaction, and each flush a burst of deletes that stalled the commits
// behind it; docs/benchmarks.md). When a flush leaves every slot free, the
// slots are emptied, so no document's bytes stay in the database once the
// spool is quiet.
//
// Guarantees (unchanged by the pipeline): an op's row commits only after
// its files and the directory entry are on disk, or with its document's
// bytes in the journal; its completion runs only after its transaction is
// durable; ops commit, and completions run, in submission order (both
// stages are FIFO and the commit stage takes batches in the order the sync
// stage finished them). A journal slot is reused or emptied only after a
// syncfs() that began after its file was written and named has succeeded.
//
// Thread contract: submit() is thread-safe. Completions run on the commit
// thread and must not block; they post work to their own executors.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "spooler/spool.h"

namespace pullprint::spooler {

// A few threads that run blocking syncs side by side for the committer.
// run() is called by one thread at a time (the committer's).
class SyncPool {
 public:
  // `name`: the threads' name (ps, top, the benchmark's CPU table).
  SyncPool(int threads, const char* name);
  ~SyncPool();
  SyncPool(const SyncPool&) = delete;
  SyncPool& operator=(const SyncPool&) = delete;

  // Calls fn(0) ... fn(n-1) on the pool and the calling thread; returns when
  // all have returned.
  void run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void work();
  void drain();

  std::mutex mu_;                    // guards everything below
  std::condition_variable cv_;       // new task or stop
  std::condition_variable done_cv_;  // left_ reached 0
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0, next_ = 0, left_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct CommitterOptions {
  // A journaled file waits at most this long for its sync (and its journal
  // row to be dropped) ...
  std::chrono::milliseconds journal_sync_delay{100};
  // ... or until this many bytes of files wait, whichever comes first.
  std::int64_t journal_sync_bytes = 32LL << 20;
};

class Committer {
 public:
  // A document whose bytes go into the journal with an op's rows. Its file
  // is complete and named when the op is submitted; no descriptor is kept
  // (the flusher syncs the whole file system).
  struct JournalEntry {
    JobId job = 0;
    int document = 0;
    std::string data;        // the file's bytes; the commit stage frees them once written
    std::int64_t slot = -1;  // set by the commit stage
  };
  struct Op {
    std::function<Status(StoreWriter&)> write;  // may be empty (sync only)
    std::vector<UniqueFd> sync_files;           // fdatasync'ed before the transaction
    std::function<void(Status)> done;           // may be empty
    // Documents whose bytes are journaled after `write`, in the op's own
    // savepoint: their files are synced after the commit, then their slots
    // are free again. Nothing is kept if the op fails.
    std::vector<JournalEntry> journaled = {};
  };
  using Options = CommitterOptions;

  // `metrics` (may be null) gets the group-commit counters; it must outlive
  // the committer.
  Committer(Store& store, SpoolDir& spool, Logger& log, Metrics* metrics = nullptr,
            Options options = {});
  ~Committer();  // drains the queue and the journaled files, then stops
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void submit(Op op);

  // Runs one op and waits for it (start-up, tools, tests).
  Status submitAndWait(std::function<Status(StoreWriter&)> write,
                       std::vector<UniqueFd> sync_files = {});

  // Largest batch seen (for /metrics and the benchmark notes).
  size_t maxBatch() const;

 private:
  // A batch that went through the sync stage: ops and, per op, whether its
  // files synced.
  struct Synced {
    std::deque<Op> ops;
    std::vector<Status> status;
  };

  // Queues `op` (straight into synced_ when it has nothing to sync and
  // nothing is ahead of it in the sync stage). False, with `op` untouched,
  // once the pipeline has stopped.
  bool enqueue(Op& op);
  void syncStage();
  void commitStage();
  void flushStage();
  // Syncs the spool's file system, then frees the journal slots of
  // `entries`; if no slot is then in use, empties them all (through the
  // queue, or directly once the pipeline stopped). On failure every slot
  // stays in use: the next start rewrites those files.
  void flush(std::vector<JournalEntry> entries);
  // The write of an op that empties the journal if no slot is in use when
  // it runs (its own check: slots are taken on the commit thread, before
  // their batch's transaction).
  Status clearJournalIfIdle(StoreWriter& w);

  // Up to this many files (plus the directory) are synced at the same time.
  static constexpr int kSyncThreads = 8;

  Store& store_;
  SpoolDir& spool_;
  Logger& log_;
  Metrics* metrics_;
  SyncPool sync_pool_;
  mutable std::mutex mu_;              // guards everything below up to the threads
  std::condition_variable cv_;         // queue_ gained an op, or stop_
  std::condition_variable synced_cv_;  // synced_ gained a batch, or sync_done_
  std::deque<Op> queue_;               // submitted, not yet synced
  std::deque<Synced> synced_;          // synced, not yet committed
  bool stop_ = false;                  // destructor: drain, then stop
  bool committing_ = false;            // the commit stage is working on batches
  bool syncing_ = false;               // the sync stage holds a batch taken from queue_
  bool sync_done_ = false;             // the sync stage has drained and ended
  size_t max_batch_ = 0;

  const Options options_;
  std::condition_variable flush_cv_;      // journaled_ grew, or flush_stop_
  std::vector<JournalEntry> journaled_;   // committed, file not yet synced (guarded by mu_)
  std::int64_t journaled_bytes_ = 0;      // their sizes (guarded by mu_)
  std::vector<std::int64_t> free_slots_;  // journal slots free to reuse (guarded by mu_)
  std::int64_t slots_ = 0;                // slots 0 .. slots_-1 exist (guarded by mu_)
  std::chrono::steady_clock::time_point oldest_journaled_;  // guarded by mu_
  bool flush_stop_ = false;  // the commit stage has ended: flush the rest, then stop

  std::thread sync_thread_;
  std::thread commit_thread_;
  std::thread flush_thread_;
};

}  // namespace pullprint::spooler
