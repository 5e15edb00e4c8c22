#include "spooler/committer.h"

#include "core/thread_name.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>

namespace pullprint::spooler {

SyncPool::SyncPool(int threads) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      nameThisThread("pp-fsync");
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

Committer::Committer(Store& store, SpoolDir& spool, Logger& log, Metrics* metrics)
    : store_(store),
      spool_(spool),
      log_(log),
      metrics_(metrics),
      sync_pool_(kSyncThreads),
      sync_thread_([this] {
        nameThisThread("pp-sync");
        syncStage();
      }),
      commit_thread_([this] {
        nameThisThread("pp-commit");
        commitStage();
      }) {}

Committer::~Committer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  sync_thread_.join();    // drains queue_ into synced_
  commit_thread_.join();  // drains synced_
}

void Committer::submit(Op op) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(op));
  }
  cv_.notify_one();
}

Status Committer::submitAndWait(std::function<Status(StoreWriter&)> write) {
  std::promise<Status> p;
  auto f = p.get_future();
  submit({std::move(write), {}, [&p](Status s) { p.set_value(std::move(s)); }});
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
    }

    // Documents first: a row must never name a file that is not on disk.
    // Every file's fdatasync() and the directory's fsync() run at the same
    // time (sync pool + this thread): each one waits for device round trips,
    // so one after the other a batch of n files costs n+1 of them; together
    // about one. The names already exist, so the directory sync need not
    // wait for the files; the commit stage waits for all of them.
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

    // All rows of every synced batch in one transaction; an op whose file
    // failed to sync is skipped.
    std::vector<std::function<Status(StoreWriter&)>> writes;
    std::vector<Status*> targets;
    for (Synced& b : batches) {
      for (size_t i = 0; i < b.ops.size(); ++i) {
        if (b.status[i] && b.ops[i].write) {
          writes.push_back(std::move(b.ops[i].write));
          targets.push_back(&b.status[i]);
        }
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

    // Tell everyone, in submission order.
    for (Synced& b : batches) {
      for (size_t i = 0; i < b.ops.size(); ++i) {
        if (!b.status[i]) log_.error("store.commit-failed", {{"error", b.status[i].toString()}});
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

}  // namespace pullprint::spooler
