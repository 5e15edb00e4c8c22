#include "spooler/committer.h"

#include "core/thread_name.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>

namespace pullprint::spooler {

SyncPool::SyncPool(int threads, const char* name) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this, name] {
      nameThisThread(name);
      work();
    });
}

SyncPool::~SyncPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void SyncPool::run(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 1 || threads_.empty()) {
    for (size_t k = 0; k < n; ++k) fn(k);
    return;
  }
  {
    std::lock_guard lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    left_ = n;
    ++generation_;
  }
  // Wake only as many helpers as there are tasks besides the caller's own:
  // every thread woken for nothing costs a futex wake and a context switch.
  const size_t helpers = std::min(n - 1, threads_.size());
  for (size_t k = 0; k < helpers; ++k) cv_.notify_one();
  drain();  // the caller works too
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return left_ == 0; });
  fn_ = nullptr;
}

// Takes indices of the current task until none is left.
void SyncPool::drain() {
  for (;;) {
    size_t k;
    const std::function<void(size_t)>* fn;
    {
      std::lock_guard lock(mu_);
      if (!fn_ || next_ >= n_) return;
      k = next_++;
      fn = fn_;
    }
    (*fn)(k);
    std::lock_guard lock(mu_);
    if (--left_ == 0) done_cv_.notify_one();
  }
}

void SyncPool::work() {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain();
  }
}

Committer::Committer(Store& store, SpoolDir& spool, Logger& log, Metrics* metrics, Options options)
    : store_(store),
      spool_(spool),
      log_(log),
      metrics_(metrics),
      sync_pool_(kSyncThreads, "pp-fsync"),
      options_(options),
      sync_thread_([this] {
        nameThisThread("pp-sync");
        syncStage();
      }),
      commit_thread_([this] {
        nameThisThread("pp-commit");
        commitStage();
      }),
      flush_thread_([this] {
        nameThisThread("pp-flush");
        flushStage();
      }) {}

Committer::~Committer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  sync_thread_.join();    // drains queue_ into synced_
  commit_thread_.join();  // drains synced_ into journaled_
  {
    std::lock_guard lock(mu_);
    flush_stop_ = true;
  }
  flush_cv_.notify_all();
  flush_thread_.join();  // syncs journaled_, frees (and empties) its journal slots
}

void Committer::submit(Op op) { (void)enqueue(op); }

bool Committer::enqueue(Op& op) {
  bool direct = false;
  {
    std::lock_guard lock(mu_);
    // The sync stage sets sync_done_ only after finding queue_ and synced_
    // empty under this lock, so an op queued before then is still run.
    if (sync_done_) return false;
    // Nothing to sync and nothing ahead of it in the sync stage: straight to
    // the commit stage, one thread hand-off fewer (every journaled document
    // and every job row). Order holds: whatever was submitted before is
    // already in synced_ or committed.
    direct = op.sync_files.empty() && queue_.empty() && !syncing_;
    if (direct) {
      if (synced_.empty()) synced_.emplace_back();
      Synced& last = synced_.back();
      last.ops.push_back(std::move(op));
      last.status.push_back(Status::ok());
      max_batch_ = std::max(max_batch_, last.ops.size());
    } else {
      queue_.push_back(std::move(op));
    }
  }
  if (direct)
    synced_cv_.notify_one();
  else
    cv_.notify_one();
  return true;
}

Status Committer::submitAndWait(std::function<Status(StoreWriter&)> write,
                                std::vector<UniqueFd> sync_files) {
  std::promise<Status> p;
  auto f = p.get_future();
  submit({std::move(write), std::move(sync_files), [&p](Status s) { p.set_value(std::move(s)); }});
  return f.get();
}

size_t Committer::maxBatch() const {
  std::lock_guard lock(mu_);
  return max_batch_;
}

void Committer::syncStage() {
  for (;;) {
    Synced batch;
    {
      std::unique_lock lock(mu_);
      // On stop, end only once the commit stage is idle too: its completions
      // may still submit ops, which must not be left behind.
      const auto drained = [&] { return stop_ && synced_.empty() && !committing_; };
      cv_.wait(lock, [&] { return !queue_.empty() || drained(); });
      if (queue_.empty()) {
        sync_done_ = true;
        lock.unlock();
        synced_cv_.notify_all();
        return;
      }
      batch.ops.swap(queue_);
      max_batch_ = std::max(max_batch_, batch.ops.size());
      syncing_ = true;
    }

    // Documents first: a row must never name a file that is not on disk.
    // All of the batch's files and the directory are synced at the same
    // time: one after the other n files would cost n+1 device round trips,
    // together about one. The names already exist, so the directory sync
    // need not wait for the files. The commit stage waits for all of them.
    batch.status.assign(batch.ops.size(), Status::ok());
    std::vector<std::pair<size_t, int>> files;  // (op index, fd)
    for (size_t i = 0; i < batch.ops.size(); ++i)
      for (auto& fd : batch.ops[i].sync_files) files.emplace_back(i, fd.get());
    if (!files.empty()) {
      std::vector<int> errors(files.size(), 0);
      Status dir_status = Status::ok();
      sync_pool_.run(files.size() + 1, [&](size_t k) {
        if (k == files.size()) {
          dir_status = spool_.syncDirectory();
        } else if (::fdatasync(files[k].second) != 0) {
          errors[k] = errno;
        }
      });
      for (size_t k = 0; k < files.size(); ++k) {
        if (int e = errors[k]) {
          batch.status[files[k].first] =
              Status(e == ENOSPC || e == EDQUOT ? StatusCode::kResourceExhausted
                                                : StatusCode::kUnavailable,
                     std::string("spool fdatasync: ") + std::strerror(e));
        }
      }
      if (!dir_status) {
        for (auto& st : batch.status)
          if (st) st = dir_status;
      }
      for (auto& op : batch.ops) op.sync_files.clear();  // closes the descriptors
      if (metrics_) {
        ++metrics_->spool_sync_rounds;
        metrics_->spool_files_synced += static_cast<std::int64_t>(files.size());
      }
    }

    {
      std::lock_guard lock(mu_);
      synced_.push_back(std::move(batch));
      syncing_ = false;
    }
    synced_cv_.notify_one();
  }
}

void Committer::commitStage() {
  for (;;) {
    std::deque<Synced> batches;
    {
      std::unique_lock lock(mu_);
      synced_cv_.wait(lock, [&] { return sync_done_ || !synced_.empty(); });
      if (synced_.empty() && sync_done_) return;
      batches.swap(synced_);
      committing_ = true;
    }

    // Journaled documents get their slots first (here, on this thread: see
    // clearJournalIfIdle).
    {
      std::lock_guard lock(mu_);
      for (Synced& b : batches) {
        for (size_t i = 0; i < b.ops.size(); ++i) {
          if (!b.status[i]) continue;
          for (JournalEntry& e : b.ops[i].journaled) {
            if (free_slots_.empty()) {
              e.slot = slots_++;
            } else {
              e.slot = free_slots_.back();
              free_slots_.pop_back();
            }
          }
        }
      }
    }

    // All rows of every synced batch in one transaction; an op whose file
    // failed to sync is skipped. A journaled document's copy is written in
    // its op's savepoint, after the op's own rows.
    std::vector<std::function<Status(StoreWriter&)>> writes;
    std::vector<Status*> targets;
    for (Synced& b : batches) {
      for (size_t i = 0; i < b.ops.size(); ++i) {
        Op& op = b.ops[i];
        if (!b.status[i] || (!op.write && op.journaled.empty())) continue;
        if (op.journaled.empty()) {
          writes.push_back(std::move(op.write));
        } else {
          writes.push_back([&op](StoreWriter& w) {
            if (op.write)
              if (Status s = op.write(w); !s) return s;
            for (const JournalEntry& e : op.journaled)
              if (Status s = w.journalDocument(e.slot, e.job, e.document, e.data); !s) return s;
            return Status::ok();
          });
        }
        targets.push_back(&b.status[i]);
      }
    }
    if (!writes.empty()) {
      std::vector<Status> results;
      store_.writeBatch(writes, &results);
      if (metrics_) {
        ++metrics_->store_transactions;
        metrics_->store_writes += static_cast<std::int64_t>(writes.size());
      }
      for (size_t k = 0; k < targets.size(); ++k) *targets[k] = std::move(results[k]);
    }

    // Journaled files of committed ops go to the flusher (their bytes are
    // in the store now); a failed op's slots are free at once.
    bool wake_flusher = false;
    {
      std::lock_guard lock(mu_);
      for (Synced& b : batches) {
        for (size_t i = 0; i < b.ops.size(); ++i) {
          for (JournalEntry& e : b.ops[i].journaled) {
            if (e.slot < 0) continue;  // never given one: its file failed to sync
            if (!b.status[i]) {
              free_slots_.push_back(e.slot);
              continue;
            }
            if (journaled_.empty()) {
              oldest_journaled_ = std::chrono::steady_clock::now();
              wake_flusher = true;  // it sleeps without a deadline while there is nothing
            }
            journaled_bytes_ += static_cast<std::int64_t>(e.data.size());
            std::string().swap(e.data);
            journaled_.push_back(std::move(e));
            if (journaled_bytes_ >= options_.journal_sync_bytes) wake_flusher = true;
            if (metrics_) ++metrics_->journaled_documents;
          }
        }
      }
    }
    if (wake_flusher) flush_cv_.notify_one();

    // Tell everyone, in submission order.
    for (Synced& b : batches) {
      for (size_t i = 0; i < b.ops.size(); ++i) {
        if (!b.status[i]) {
          log_.error("store.commit-failed", {{"error", b.status[i].toString()}});
          if (metrics_) ++metrics_->store_write_failures;
        }
        if (b.ops[i].done) b.ops[i].done(b.status[i]);
      }
    }
    bool stopping;
    {
      std::lock_guard lock(mu_);
      committing_ = false;
      stopping = stop_;
    }
    if (stopping) cv_.notify_all();  // the sync stage waits for this to end
  }
}

void Committer::flushStage() {
  for (;;) {
    std::vector<JournalEntry> entries;
    bool last;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (flush_stop_ || journaled_bytes_ >= options_.journal_sync_bytes) break;
        if (journaled_.empty()) {
          flush_cv_.wait(lock);
        } else {
          const auto due = oldest_journaled_ + options_.journal_sync_delay;
          if (std::chrono::steady_clock::now() >= due) break;
          flush_cv_.wait_until(lock, due);
        }
      }
      entries.swap(journaled_);
      journaled_bytes_ = 0;
      last = flush_stop_;
    }
    if (!entries.empty()) flush(std::move(entries));
    if (last) return;
  }
}

void Committer::flush(std::vector<JournalEntry> entries) {
  // One syncfs() makes every file written and named before it began
  // durable, however many there are: one batch of device requests instead
  // of a round per file (10-20 % of the benchmark's throughput, see
  // docs/benchmarks.md). It also writes back whatever else is dirty on that
  // file system; nobody waits for it but this thread.
  if (Status s = spool_.syncFileSystem(); !s) {
    // Which file failed is unknown: every slot stays in use, and the next
    // start rewrites those files from the journal.
    log_.error("spool.flush-failed", {{"documents", entries.size()},
                                      {"error", s.message()},
                                      {"hint", "the documents stay in the journal"}});
    if (metrics_) ++metrics_->journal_flush_failures;
    return;
  }
  bool idle;
  {
    std::lock_guard lock(mu_);
    for (const JournalEntry& e : entries) free_slots_.push_back(e.slot);
    idle = static_cast<std::int64_t>(free_slots_.size()) == slots_;
  }
  if (metrics_) {
    ++metrics_->journal_flush_rounds;
    metrics_->journal_files_synced += static_cast<std::int64_t>(entries.size());
  }
  if (!idle) return;  // the slots are reused as they are
  // Nothing waits in the journal: empty it, so that no document's bytes stay
  // in the database while the spool is quiet. Through the group commit, so
  // it rides along with whatever jobs' transaction comes next; once the
  // pipeline has stopped (the last round, at shutdown): directly.
  Op op{[this](StoreWriter& w) { return clearJournalIfIdle(w); },
        {},
        [this](Status s) {
          // Only leaves copies that the next use of their slots, or the next
          // start, replaces.
          if (!s) log_.error("spool.journal-clear-failed", {{"error", s.message()}});
        }};
  if (!enqueue(op)) op.done(store_.write(op.write));
}

Status Committer::clearJournalIfIdle(StoreWriter& w) {
  {
    std::lock_guard lock(mu_);
    // A slot taken since the flush belongs to a document committed in this
    // transaction or an earlier one: its copy must stay.
    if (static_cast<std::int64_t>(free_slots_.size()) != slots_) return Status::ok();
    free_slots_.clear();
    slots_ = 0;
  }
  // Should this fail (its savepoint rolls back), the old copies stay until
  // their slots are written again, which replaces them.
  return w.clearJournal();
}

}  // namespace pullprint::spooler
