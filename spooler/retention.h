// Retention: blanks the personal details of jobs that ended long ago
// ([retention] job_details_days, docs/operations.md "Personal data").
//
// A job's name, its documents' names and the address it came from identify
// a person and what they printed ("sick-note-J-Peeters.pdf" from a staff
// PC); the reports need none of them. Once a job has been over for
// `days`, those three are blanked. Owner, printer, queue, counts, times and
// usage records stay, so every report gives the same figures afterwards.
// The documents themselves are gone long before: the spool keeps a file
// only while its job is active.
//
// Runs at start() and then every `interval` on its own thread, in batches
// of a few hundred jobs per transaction (the writer lock is held briefly:
// submissions keep flowing). With days == 0 it does nothing.
//
// Thread contract: sweep() may be called from any thread (the store
// serialises writers); start() once; the destructor stops and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "core/store.h"

namespace pullprint::spooler {

class Retention {
 public:
  Retention(Store& store, const Clock& clock, Logger& log, std::int64_t days,
            std::chrono::seconds interval = std::chrono::hours(1));
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  void start();
  // One sweep now: the number of jobs whose details were blanked.
  Result<std::int64_t> sweep();

 private:
  void run();

  Store& store_;
  const Clock& clock_;
  Logger& log_;
  const std::int64_t days_;
  const std::chrono::seconds interval_;
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pullprint::spooler
