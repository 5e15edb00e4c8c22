// Authenticator: checks HTTP Basic credentials against the user store.
//
// PBKDF2 is deliberately slow (tens of ms), and a print client sends many
// requests per job, so a successful check is remembered for a short time
// (keyed by a keyed hash of user and password, never the password itself).
// A password change or user removal takes effect when the entry expires
// (kCacheSeconds) or at once via forget().
//
// Thread contract: thread-safe.
#pragma once

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

  // The user if `password` is right, else nullopt.
  std::optional<User> authenticate(const std::string& name, const std::string& password);
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
};

}  // namespace pullprint
