#include "core/authenticator.h"

#include <openssl/rand.h>

#include "core/password.h"

namespace pullprint {

Authenticator::Authenticator(Store& store, const Clock& clock) : store_(store), clock_(clock) {
  unsigned char k[32];
  RAND_bytes(k, sizeof k);
  key_.assign(reinterpret_cast<char*>(k), sizeof k);
}

std::optional<User> Authenticator::authenticate(const std::string& name,
                                                const std::string& password) {
  std::string cache_key = sha256Hex(key_ + '\0' + name + '\0' + password);
  UnixSeconds now = clock_.now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) {
      if (it->second.expires > now) return it->second.user;
      cache_.erase(it);
    }
  }
  auto u = store_.user(name);
  if (!u || !u->has_value()) return std::nullopt;
  const User& user = **u;
  if (user.password_hash.empty() || !verifyPassword(password, user.password_hash))
    return std::nullopt;
  std::lock_guard lock(mu_);
  if (cache_.size() > 10000) cache_.clear();  // bound memory under credential stuffing
  cache_[cache_key] = {user, now + kCacheSeconds};
  return user;
}

void Authenticator::forget(const std::string& name) {
  std::lock_guard lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.user.name == name)
      it = cache_.erase(it);
    else
      ++it;
  }
}

}  // namespace pullprint
