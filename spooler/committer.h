// Committer: group commit for the spooler's durable writes.
//
// Every write that must be durable before the client hears "ok" goes
// through submit(). One thread takes everything queued, fdatasync()s the
// spool files the ops name and fsync()s the spool directory once (all at the
// same time, on a small pool of sync threads), runs all the
// ops in one SQLite transaction (each op in its own savepoint), and then
// calls each op's completion. Under load, many jobs share one transaction
// and one WAL sync, so durability does not cost throughput; when idle, an
// op is committed at once (no batching delay).
//
// Order: ops commit in submission order; an op's completion runs after its
// transaction is durable.
//
// Thread contract: submit() is thread-safe. Completions run on the committer
// thread and must not block; they post work to their own executors.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/store.h"
#include "spooler/spool.h"

namespace pullprint::spooler {

// A few threads that run blocking syncs side by side for the committer.
// run() is called by one thread at a time (the committer's).
class SyncPool {
 public:
  explicit SyncPool(int threads);
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

class Committer {
 public:
  struct Op {
    std::function<Status(StoreWriter&)> write;  // may be empty (sync only)
    std::vector<UniqueFd> sync_files;           // fdatasync'ed before the transaction
    std::function<void(Status)> done;           // may be empty
  };

  Committer(Store& store, SpoolDir& spool, Logger& log);
  ~Committer();  // drains the queue, then stops
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  void submit(Op op);

  // Runs one op and waits for it (start-up, tools, tests).
  Status submitAndWait(std::function<Status(StoreWriter&)> write);

  // Largest batch seen (for /metrics and the benchmark notes).
  size_t maxBatch() const;

 private:
  void run();

  // Up to this many files (plus the directory) are synced at the same time.
  static constexpr int kSyncThreads = 8;

  Store& store_;
  SpoolDir& spool_;
  Logger& log_;
  SyncPool sync_pool_;
  mutable std::mutex mu_;  // guards queue_, stop_, max_batch_
  std::condition_variable cv_;
  std::deque<Op> queue_;
  bool stop_ = false;
  size_t max_batch_ = 0;
  std::thread thread_;
};

}  // namespace pullprint::spooler
