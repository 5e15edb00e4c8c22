#include "admin-api/auth.h"

#include <openssl/rand.h>

#include <algorithm>

#include "core/cidr.h"
#include "core/password.h"

namespace pullprint::api {

namespace {

// A session's last_seen is written at most this often (not on every request).
constexpr UnixSeconds kTouchEverySeconds = 60;

bool unsafeMethod(const std::string& m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "https://host:port/..." -> "host:port"
std::string originHost(const std::string& origin) {
  auto p = origin.find("://");
  if (p == std::string::npos) return origin;
  std::string rest = origin.substr(p + 3);
  return rest.substr(0, rest.find('/'));
}

Status unauthenticated(const std::string& m) { return {StatusCode::kUnauthenticated, m}; }

}  // namespace

const char* authMethodName(AuthMethod m) {
  switch (m) {
    case AuthMethod::kToken:
      return "token";
    case AuthMethod::kBasic:
      return "basic";
    case AuthMethod::kSession:
      return "session";
  }
  return "basic";
}

std::string randomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return {};
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  for (unsigned char c : raw) {
    bits = (bits << 8) | c;
    nbits += 8;
    while (nbits >= 6) {
      out.push_back(kAlphabet[(bits >> (nbits - 6)) & 63]);
      nbits -= 6;
    }
  }
  if (nbits > 0) out.push_back(kAlphabet[(bits << (6 - nbits)) & 63]);
  return out;
}

std::string cookieValue(const std::string& header, const std::string& name) {
  std::string_view rest = header;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return {};
}

AuthService::AuthService(const Config& config, Store& store, Authenticator& auth,
                         const Clock& clock, Logger& log)
    : config_(config), store_(store), auth_(auth), clock_(clock), log_(log) {
  // The [api] limits hold for every password check, IPP's Basic included
  // (the Authenticator is shared with the IPP front door).
  auth_.setFailureLimit(config.login_failures_per_window, config.login_failure_window_seconds);
}

bool AuthService::hasCredentials(const ApiRequest& req) {
  return !req.header("authorization").empty() || req.basic_user.has_value() ||
         !cookieValue(req.header("cookie"), kSessionCookie).empty();
}

Result<Principal> AuthService::authenticate(const ApiRequest& req) {
  // --- Which credentials: an explicit header wins over the ambient cookie ---
  const std::string authz = req.header("authorization");
  Result<Principal> p = unauthenticated("authentication required");
  if (authz.size() > 7 && lower(authz.substr(0, 7)) == "bearer ") {
    std::string token = authz.substr(7);
    while (!token.empty() && token.front() == ' ') token.erase(0, 1);
    p = fromToken(token);
  } else if (req.basic_user) {
    p = fromBasic(req, *req.basic_user, req.basic_password.value_or(""));
  } else if (!authz.empty()) {
    return unauthenticated("unsupported or malformed Authorization header (Bearer or Basic)");
  } else if (std::string c = cookieValue(req.header("cookie"), kSessionCookie); !c.empty()) {
    p = fromCookie(c);
  }
  if (!p) return p;
  if (unsafeMethod(req.method))
    if (Status s = checkUnsafe(req, *p); !s) return s;
  return p;
}

Status AuthService::checkCrossSite(const ApiRequest& req) {
  if (req.header("sec-fetch-site") == "cross-site")
    return {StatusCode::kPermissionDenied, "cross-site request refused"};
  if (std::string origin = req.header("origin"); !origin.empty() && origin != "null") {
    std::string host = req.header("host");
    if (!host.empty() && originHost(origin) != host)
      return {StatusCode::kPermissionDenied, "cross-site request refused (Origin is not Host)"};
  }
  return Status::ok();
}

Status AuthService::checkUnsafe(const ApiRequest& req, const Principal& p) const {
  if (Status s = checkCrossSite(req); !s) return s;
  if (p.method == AuthMethod::kSession) {
    std::string sent = req.header("x-csrf-token");
    if (sent.empty() || !p.session || !constantTimeEquals(sent, p.session->csrf_token))
      return {StatusCode::kPermissionDenied, "CSRF token missing or wrong"};
  }
  return Status::ok();
}

Result<Principal> AuthService::fromToken(const std::string& token) {
  if (token.empty() || token.size() > 256) return unauthenticated("malformed bearer token");
  auto t = store_.apiTokenByHash(sha256Hex(token));
  if (!t) return t.status();
  if (!t->has_value()) return unauthenticated("unknown API token");
  const ApiToken& tok = **t;
  const UnixSeconds now = clock_.now();
  if (tok.revoked_at != 0) return unauthenticated("API token revoked");
  if (tok.expires_at <= now) return unauthenticated("API token expired");
  auto u = store_.user(tok.user);
  if (!u) return u.status();
  if (!u->has_value()) return unauthenticated("the token's user no longer exists");
  if (now - tok.last_used_at >= kTouchEverySeconds)
    (void)store_.write([&](StoreWriter& w) { return w.touchApiToken(tok.id, now); });
  Principal p;
  p.user = **u;
  p.method = AuthMethod::kToken;
  p.token_id = tok.id;
  return p;
}

Result<Principal> AuthService::fromBasic(const ApiRequest& req, const std::string& name,
                                         const std::string& password) {
  if (!req.tls && !isLoopbackAddress(req.peer_address) && !config_.allow_basic_without_tls)
    return Status(StatusCode::kPermissionDenied, "HTTP Basic needs TLS from this address");
  auto a = auth_.attempt(name, password, req.peer_address);
  if (a.verdict == Authenticator::Verdict::kLimited)
    return Status(StatusCode::kResourceExhausted, "too many failed logins; try again later");
  if (a.verdict != Authenticator::Verdict::kOk) {
    log_.warn("api.auth-failed", {{"user", name.substr(0, 64)}, {"peer", req.peer_address}});
    return unauthenticated("wrong user name or password");
  }
  Principal p;
  p.user = *a.user;
  p.method = AuthMethod::kBasic;
  return p;
}

Result<Principal> AuthService::fromCookie(const std::string& value) {
  if (value.size() > 128) return unauthenticated("malformed session cookie");
  const std::string hash = sha256Hex(value);
  auto s = store_.session(hash);
  if (!s) return s.status();
  if (!s->has_value()) return unauthenticated("no such session (log in again)");
  const Session& sess = **s;
  const UnixSeconds now = clock_.now();
  if (sess.expires_at <= now || sess.last_seen + config_.session_idle_seconds <= now) {
    (void)store_.write([&](StoreWriter& w) { return w.deleteSession(hash); });
    return unauthenticated("session expired (log in again)");
  }
  auto u = store_.user(sess.user);
  if (!u) return u.status();
  if (!u->has_value()) return unauthenticated("the session's user no longer exists");
  Principal p;
  p.user = **u;
  p.method = AuthMethod::kSession;
  p.session = sess;
  if (now - sess.last_seen >= kTouchEverySeconds) {
    (void)store_.write([&](StoreWriter& w) { return w.touchSession(hash, now); });
    p.session->last_seen = now;
  }
  return p;
}

Result<NewSession> AuthService::login(const ApiRequest& req, const std::string& name,
                                      const std::string& password) {
  if (!req.tls && !isLoopbackAddress(req.peer_address) && !config_.allow_basic_without_tls)
    return Status(StatusCode::kPermissionDenied,
                  "log in over HTTPS (plain HTTP only from loopback)");
  if (Status s = checkCrossSite(req); !s) return s;  // no login CSRF
  const UnixSeconds now = clock_.now();
  auto a = auth_.attempt(name, password, req.peer_address);
  if (a.verdict == Authenticator::Verdict::kLimited)
    return Status(StatusCode::kResourceExhausted, "too many failed logins; try again later");
  if (a.verdict != Authenticator::Verdict::kOk) {
    log_.warn("api.login-failed", {{"user", name.substr(0, 64)}, {"peer", req.peer_address}});
    return unauthenticated("wrong user name or password");
  }
  const std::optional<User>& user = a.user;
  NewSession out;
  out.cookie_value = randomToken(32);
  std::string csrf = randomToken(32);
  if (out.cookie_value.empty() || csrf.empty())
    return Status(StatusCode::kInternal, "no random bytes");
  out.user = *user;
  out.session = Session{sha256Hex(out.cookie_value),           user->name, csrf, now, now,
                        now + config_.session_lifetime_seconds};
  // Expired rows of everyone are pruned at each login (cheap: few rows).
  Status s = store_.write([&](StoreWriter& w) {
    if (Status d = w.deleteExpiredSessions(now, config_.session_idle_seconds); !d) return d;
    return w.insertSession(out.session);
  });
  if (!s) return s;
  log_.info("api.login", {{"user", user->name}, {"peer", req.peer_address}});
  return out;
}

Status AuthService::logout(const Principal& p) {
  if (p.method != AuthMethod::kSession || !p.session)
    return {StatusCode::kInvalidArgument, "not logged in with a session"};
  return store_.write([&](StoreWriter& w) { return w.deleteSession(p.session->id_hash); });
}

std::string AuthService::sessionCookie(const std::string& value, bool tls) const {
  return std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict" +
         (tls ? "; Secure" : "");
}

std::string AuthService::clearedCookie(bool tls) const {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
         (tls ? "; Secure" : "");
}

Result<NewToken> AuthService::createToken(const std::string& user, const std::string& name,
                                          std::int64_t expires_in_days) {
  if (expires_in_days < 0 || expires_in_days > config_.token_max_lifetime_days)
    return Status(StatusCode::kInvalidArgument,
                  "expires_in_days must be 1.." + std::to_string(config_.token_max_lifetime_days));
  if (expires_in_days == 0) expires_in_days = config_.token_max_lifetime_days;
  NewToken out;
  std::string random = randomToken(32);
  if (random.empty()) return Status(StatusCode::kInternal, "no random bytes");
  out.token = "ppt_" + random;
  const UnixSeconds now = clock_.now();
  out.record.name = name;
  out.record.user = user;
  out.record.token_hash = sha256Hex(out.token);
  out.record.created_at = now;
  out.record.expires_at = now + expires_in_days * 86400;
  Status s = store_.write([&](StoreWriter& w) { return w.insertApiToken(&out.record); });
  if (!s) return s;
  return out;
}

Status AuthService::checkPassword(const ApiRequest& req, const std::string& name,
                                  const std::string& password) {
  auto a = auth_.attempt(name, password, req.peer_address);
  if (a.verdict == Authenticator::Verdict::kLimited)
    return {StatusCode::kResourceExhausted, "too many failed logins; try again later"};
  if (a.verdict != Authenticator::Verdict::kOk) {
    log_.warn("api.password-check-failed",
              {{"user", name.substr(0, 64)}, {"peer", req.peer_address}});
    return {StatusCode::kPermissionDenied, "the current password is wrong"};
  }
  return Status::ok();
}

void AuthService::endSessionsOf(const std::string& user) {
  auth_.forget(user);
  (void)store_.write([&](StoreWriter& w) { return w.deleteSessionsOfUser(user); });
}

}  // namespace pullprint::api
