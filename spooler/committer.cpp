#include "spooler/committer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

namespace pullprint::spooler {

Committer::Committer(Store& store, SpoolDir& spool, Logger& log)
    : store_(store), spool_(spool), log_(log), thread_([this] { run(); }) {}

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
    std::vector<Status> sync_status(batch.size(), Status::ok());
    bool any_file = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      for (auto& fd : batch[i].sync_files) {
        any_file = true;
        if (::fdatasync(fd.get()) != 0) {
          int e = errno;
          sync_status[i] = Status(e == ENOSPC || e == EDQUOT ? StatusCode::kResourceExhausted
                                                             : StatusCode::kUnavailable,
                                  std::string("spool fdatasync: ") + std::strerror(e));
        }
        fd.reset();
      }
    }
    if (any_file) {
      if (Status s = spool_.syncDirectory(); !s) {
        for (auto& st : sync_status) if (st) st = s;
      }
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
