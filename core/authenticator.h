// Authenticator: checks HTTP Basic credentials against the user store.
//
// PBKDF2 is deliberately slow (tens of ms), and a print client sends many
// requests per job, so a successful check is remembered for a short time
// (keyed by a keyed hash of user and password, never the password itself).
// A password change or user removal takes effect when the entry expires
// (kCacheSeconds) or at once via forget().
//
// Failed checks are counted per user name and client address: after
// `failures` of them within `window` seconds, attempt() refuses that pair
// (kLimited, even with the right password) until the oldest failure is
// older than the window. Every Basic check (IPP and REST API) and the
// browser login go through attempt(), so passwords cannot be guessed
// faster through one door than another. Limits: [api] in the config.
//
// Thread contract: thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/store.h"

namespace pullprint {

class Authenticator {
 public:
  static constexpr UnixSeconds kCacheSeconds = 120;

  Authenticator(Store& store, const Clock& clock);

  // The user if `password` is right, else nullopt. Not rate-limited: for
  // callers that have no client address (command line, tests).
  std::optional<User> authenticate(const std::string& name, const std::string& password);

  enum class Verdict { kOk, kWrong, kLimited };
  struct Attempt {
    Verdict verdict = Verdict::kWrong;
    std::optional<User> user;  // set when kOk
  };
  // authenticate() for a client at `peer`, counted and limited (see above).
  Attempt attempt(const std::string& name, const std::string& password, const std::string& peer);
  void setFailureLimit(std::int64_t failures, UnixSeconds window);

  void forget(const std::string& name);

 private:
  struct Entry {
    User user;
    UnixSeconds expires;
  };
  Store& store_;
  const Clock& clock_;
  std::string key_;  // random per process: cache keys mean nothing elsewhere
  std::mutex mu_;    // guards cache_
  std::unordered_map<std::string, Entry> cache_;

  std::mutex limit_mu_;  // guards the three below
  std::int64_t max_failures_ = 5;
  UnixSeconds window_ = 300;
  std::map<std::string, std::deque<UnixSeconds>> failures_;  // "user\0peer" -> times
};

}  // namespace pullprint
