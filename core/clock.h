// Clock: the one source of "now" for the server.
//
// Hold timeouts, job times and audit records all read time through a Clock
// passed in by main, so tests can drive expiry with ManualClock instead of
// waiting (PAPPL reads time() directly; we do not).
//
// Thread contract: now() is safe from any thread for both implementations.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace pullprint {

// Seconds since the Unix epoch (what IPP's time-at-xxx and SQLite store).
using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start) : now_(start) {}
  UnixSeconds now() const override { return now_.load(); }
  void set(UnixSeconds t) { now_.store(t); }
  void advance(std::int64_t seconds) { now_.fetch_add(seconds); }

 private:
  std::atomic<UnixSeconds> now_;
};

}  // namespace pullprint
