// Committer: group commit for the spooler's durable writes.
//
// Every write that must be durable before the client hears "ok" goes
// through submit(). One thread takes everything queued, fdatasync()s the
// spool files the ops name, fsync()s the spool directory once, runs all the
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
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/store.h"
#include "spooler/spool.h"

namespace pullprint::spooler {

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

  Store& store_;
  SpoolDir& spool_;
  Logger& log_;
  mutable std::mutex mu_;      // guards queue_, stop_, max_batch_
  std::condition_variable cv_;
  std::deque<Op> queue_;
  bool stop_ = false;
  size_t max_batch_ = 0;
  std::thread thread_;
};

}  // namespace pullprint::spooler
