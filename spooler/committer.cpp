#include "spooler/committer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

namespace pullprint::spooler {

SyncPool::SyncPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
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
  cv_.notify_all();
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

Committer::Committer(Store& store, SpoolDir& spool, Logger& log)
    : store_(store), spool_(spool), log_(log), sync_pool_(kSyncThreads), thread_([this] {
        run();
      }) {}

Committer::~Committer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
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

void Committer::run() {
  for (;;) {
    std::deque<Op> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
      max_batch_ = std::max(max_batch_, batch.size());
    }

    // 1. Documents first: a row must never name a file that is not on disk.
    // Every file's fdatasync() and the directory's fsync() run at the same
    // time (sync pool + this thread): each one waits for device round trips,
    // so one after the other a batch of n files costs n+1 of them; together
    // about one. The names already exist, so the directory sync need not
    // wait for the files; the transaction waits for all of them.
    std::vector<Status> sync_status(batch.size(), Status::ok());
    std::vector<std::pair<size_t, int>> files;  // (op index, fd)
    for (size_t i = 0; i < batch.size(); ++i)
      for (auto& fd : batch[i].sync_files) files.emplace_back(i, fd.get());
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
          sync_status[files[k].first] =
              Status(e == ENOSPC || e == EDQUOT ? StatusCode::kResourceExhausted
                                                : StatusCode::kUnavailable,
                     std::string("spool fdatasync: ") + std::strerror(e));
        }
      }
      if (!dir_status) {
        for (auto& st : sync_status)
          if (st) st = dir_status;
      }
      for (auto& op : batch) op.sync_files.clear();  // closes the descriptors
    }

    // 2. All rows in one transaction; an op whose file failed to sync is skipped.
    std::vector<std::function<Status(StoreWriter&)>> ops;
    std::vector<size_t> index;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (sync_status[i] && batch[i].write) {
        ops.push_back(batch[i].write);
        index.push_back(i);
      }
    }
    if (!ops.empty()) {
      std::vector<Status> results;
      store_.writeBatch(ops, &results);
      for (size_t k = 0; k < index.size(); ++k) sync_status[index[k]] = std::move(results[k]);
    }

    // 3. Tell everyone.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!sync_status[i])
        log_.error("store.commit-failed", {{"error", sync_status[i].toString()}});
      if (batch[i].done) batch[i].done(sync_status[i]);
    }
  }
}

}  // namespace pullprint::spooler
