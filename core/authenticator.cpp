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

void Authenticator::setFailureLimit(std::int64_t failures, UnixSeconds window) {
  std::lock_guard lock(limit_mu_);
  max_failures_ = failures < 1 ? 1 : failures;
  window_ = window < 1 ? 1 : window;
}

Authenticator::Attempt Authenticator::attempt(const std::string& name, const std::string& password,
                                              const std::string& peer) {
  const std::string key = name + '\0' + peer;
  const UnixSeconds now = clock_.now();
  {
    std::lock_guard lock(limit_mu_);
    if (auto it = failures_.find(key); it != failures_.end()) {
      auto& q = it->second;
      while (!q.empty() && q.front() <= now - window_) q.pop_front();
      if (q.empty())
        failures_.erase(it);
      else if (static_cast<std::int64_t>(q.size()) >= max_failures_)
        return {Verdict::kLimited, std::nullopt};
    }
  }
  auto user = authenticate(name, password);
  std::lock_guard lock(limit_mu_);
  if (!user) {
    if (failures_.size() > 100000) failures_.clear();  // bound memory under a spray of names
    auto& q = failures_[key];
    q.push_back(now);
    while (static_cast<std::int64_t>(q.size()) > max_failures_) q.pop_front();
    return {Verdict::kWrong, std::nullopt};
  }
  failures_.erase(key);
  return {Verdict::kOk, std::move(user)};
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
