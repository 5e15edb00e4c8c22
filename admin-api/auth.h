// AuthService: who is asking the REST API, and may they.
//
// One function, authenticate(), yields the principal of a request from, in
// this order:
//   1. `Authorization: Bearer <token>`   API token (scripts). Only SHA-256 of
//      the token is stored; revoked or expired tokens are refused (401).
//   2. `Authorization: Basic ...`        user name + password (core/password),
//      only over TLS or from loopback unless [ipp].allow_basic_without_tls.
//   3. `Cookie: pullprint_session=<id>`  browser session (POST /api/v1/session).
//      Only SHA-256 of the id is stored. Idle and absolute lifetimes from [api].
// An explicit Authorization header wins over a cookie, so a bad header is
// never silently replaced by a browser's ambient cookie.
//
// CSRF: cookie-authenticated unsafe requests (POST/PUT/PATCH/DELETE) must
// carry `X-CSRF-Token` equal to the session's token. Every unsafe request,
// whatever its credentials, is refused when the browser says it is
// cross-site (`Sec-Fetch-Site: cross-site`, or an `Origin` whose host is not
// the `Host`): browsers attach cached Basic credentials to such requests.
//
// Failed logins (session login and Basic) are counted per user name + peer
// address by the shared Authenticator (core/authenticator.h), so IPP Basic
// counts too; more than [api].login_failures_per_window within
// login_failure_window_seconds are refused with 429 before the password is
// checked. A success clears the count.
//
// Errors come back as Status: kUnauthenticated (401), kPermissionDenied
// (403), kResourceExhausted (429); Api maps them through httpStatusFor.
//
// Thread contract: thread-safe (the Authenticator and the store are).
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "admin-api/api.h"
#include "core/authenticator.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/store.h"

namespace pullprint::api {

inline constexpr const char* kSessionCookie = "pullprint_session";

enum class AuthMethod { kToken, kBasic, kSession };
const char* authMethodName(AuthMethod m);

// The authenticated caller. Modules receive only `user`.
struct Principal {
  User user;
  AuthMethod method = AuthMethod::kBasic;
  std::optional<Session> session;  // kSession: the session row
  std::int64_t token_id = 0;       // kToken: the token's id
};

// A new session: `cookie_value` goes into Set-Cookie, never into the store.
struct NewSession {
  Session session;
  User user;
  std::string cookie_value;
};

// A new API token: `token` is shown once.
struct NewToken {
  ApiToken record;
  std::string token;
};

class AuthService {
 public:
  AuthService(const Config& config, Store& store, Authenticator& auth, const Clock& clock,
              Logger& log);
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // The principal of `req`, or why not (see header comment). Checks CSRF
  // and cross-site for unsafe methods.
  Result<Principal> authenticate(const ApiRequest& req);

  // True when `req` carries any credentials (header or session cookie).
  static bool hasCredentials(const ApiRequest& req);
  // 403 when a browser marks the request cross-site (Sec-Fetch-Site, Origin vs Host).
  static Status checkCrossSite(const ApiRequest& req);

  // Username/password login (rate-limited); creates a session.
  Result<NewSession> login(const ApiRequest& req, const std::string& name,
                           const std::string& password);
  Status logout(const Principal& p);
  // Whether `password` is `name`'s, counted against the same failed-login
  // limit as logins (kResourceExhausted when limited, kPermissionDenied when
  // wrong: the caller is already authenticated, so no 401 challenge).
  Status checkPassword(const ApiRequest& req, const std::string& name, const std::string& password);

  // Set-Cookie values for a new session and for clearing it.
  std::string sessionCookie(const std::string& value, bool tls) const;
  std::string clearedCookie(bool tls) const;

  // Tokens: `expires_in_days` 0 means the maximum ([api].token_max_lifetime_days).
  Result<NewToken> createToken(const std::string& user, const std::string& name,
                               std::int64_t expires_in_days);

  // Sessions of a user end (password change, role change, deletion).
  void endSessionsOf(const std::string& user);

  const Config& config() const { return config_; }

 private:
  Result<Principal> fromToken(const std::string& token);
  Result<Principal> fromBasic(const ApiRequest& req, const std::string& name,
                              const std::string& password);
  Result<Principal> fromCookie(const std::string& value);
  Status checkUnsafe(const ApiRequest& req, const Principal& p) const;

  const Config& config_;
  Store& store_;
  Authenticator& auth_;
  const Clock& clock_;
  Logger& log_;
};

// Random bytes as base64url without padding (OpenSSL RAND_bytes); empty on failure.
std::string randomToken(size_t bytes);

// The value of cookie `name` in a Cookie header, or "".
std::string cookieValue(const std::string& cookie_header, const std::string& name);

}  // namespace pullprint::api
