// CardWatcher: waits for cards on every PC/SC-lite reader and reads their UID.
//
// One thread runs run(): SCardGetStatusChange over all readers plus
// "\\?PnP?\Notification", so readers plugged in or removed at run time are
// picked up without a restart. On an EMPTY -> PRESENT change the watcher
// connects, sends GET DATA (`FF CA 00 00 00`) and reports the UID (or why
// it could not be read: 6A 81, 6D 00, other status words) to the callback.
//
// Design notes: per reader
//   event                         | action
//   ------------------------------+------------------------------------------
//   first sighting, card present  | remembered, not read (it was there before us)
//   EMPTY -> PRESENT              | read UID; debounce: same UID on this reader
//                                 | within debounce after its removal is ignored
//   PRESENT, stays                | nothing (a card left on the reader = one tap)
//   PRESENT -> EMPTY              | removal time noted (debounce)
//   pcscd gone (NO_SERVICE, ...)  | context dropped; reconnect with backoff
//                                 | 50 ms doubling to 2 s; readers re-learned
//
// Thread contract: run() on one thread; stop() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace pullprint::badge {

struct CardRead {
  std::string reader;
  std::string uid;                           // canonical hex; empty when the read failed
  std::string error;                         // human text when the read failed
  std::chrono::steady_clock::time_point at;  // when the insertion was seen
};

struct WatcherOptions {
  std::chrono::milliseconds debounce{800};
  std::chrono::milliseconds max_backoff{2000};
};

class CardWatcher {
 public:
  using OnCard = std::function<void(const CardRead&)>;
  // Diagnostics (not per-tap output): "pcscd unreachable", "reader added"...
  using OnLog = std::function<void(const std::string&)>;

  CardWatcher(WatcherOptions options, OnCard on_card, OnLog on_log);
  CardWatcher(const CardWatcher&) = delete;
  CardWatcher& operator=(const CardWatcher&) = delete;

  // Blocks until stop().
  void run();
  void stop();

 private:
  struct Reader {
    unsigned long state = 0;  // last dwEventState (SCARD_STATE_UNAWARE at first)
    bool present = false;
    bool seen = false;  // state known at least once
    std::string last_uid;
    std::chrono::steady_clock::time_point removed_at{};
  };

  // One session with pcscd; returns when it is lost or on stop().
  void session(long context);
  void onInsert(long context, const std::string& name, Reader& r);

  WatcherOptions options_;
  OnCard on_card_;
  OnLog on_log_;
  std::atomic<bool> stop_{false};
  std::atomic<long> context_{0};  // to cancel a blocking SCardGetStatusChange
};

// "6A 81: function not supported (...)": what a GET DATA status word means.
std::string describeStatusWord(unsigned sw1, unsigned sw2);

}  // namespace pullprint::badge
