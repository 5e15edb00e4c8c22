// Routes: browser sessions, API tokens, audit log (see routes.h, auth.h).
#include <nlohmann/json.hpp>

#include "admin-api/routes.h"

namespace pullprint::api {

using nlohmann::json;

namespace {

json sessionBody(const User& u, const Session& s, std::int64_t idle_seconds) {
  return {{"user", {{"name", u.name}, {"role", roleName(u.role)}, {"department", u.department}}},
          {"csrf_token", s.csrf_token},
          {"expires_at", s.expires_at},
          {"idle_expires_at", s.last_seen + idle_seconds}};
}

json tokenJson(const ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"user", t.user},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at},
          {"last_used_at", t.last_used_at},
          {"revoked_at", t.revoked_at},
          {"active", t.revoked_at == 0}};
}

// Session routes answer 401 without a Basic challenge (pages call them).
ApiResponse quiet(ApiResponse r) {
  r.challenge = false;
  return r;
}

}  // namespace

void addSessionRoutes(RouteTable& t, ApiDeps& d) {
  // --- Sessions (public routes: they authenticate themselves) ---
  t.add("POST", "/api/v1/session", Access::kPublic, [&d](RouteContext& c) {
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto name = jsonString(*body, "username", &bad);
    auto password = jsonString(*body, "password", &bad);
    if (bad || !name || !password || name->empty())
      return error(400, "body must be {\"username\": string, \"password\": string}");
    if (name->size() > 256 || password->size() > 1024)
      return quiet(error(401, "wrong user name or password"));
    auto s = d.auth.login(c.req, *name, *password);
    if (!s) return quiet(statusError(s.status()));
    ApiResponse r = reply(200, sessionBody(s->user, s->session, d.config.session_idle_seconds));
    r.headers.emplace_back("Set-Cookie", d.auth.sessionCookie(s->cookie_value, c.req.tls));
    return r;
  });
  t.add("GET", "/api/v1/session", Access::kPublic, [&d](RouteContext& c) {
    if (cookieValue(c.req.header("cookie"), kSessionCookie).empty())
      return quiet(error(401, "not logged in"));
    auto p = d.auth.authenticate(c.req);
    if (!p) return quiet(statusError(p.status()));
    if (p->method != AuthMethod::kSession) return quiet(error(401, "not logged in"));
    return reply(200, sessionBody(p->user, *p->session, d.config.session_idle_seconds));
  });
  t.add("DELETE", "/api/v1/session", Access::kPublic, [&d](RouteContext& c) {
    auto p = d.auth.authenticate(c.req);  // checks CSRF: logout cannot be forced cross-site
    if (!p) return quiet(statusError(p.status()));
    if (p->method != AuthMethod::kSession) return error(400, "not logged in with a session");
    if (Status s = d.auth.logout(*p); !s) return statusError(s);
    ApiResponse r = noContent();
    r.headers.emplace_back("Set-Cookie", d.auth.clearedCookie(c.req.tls));
    return r;
  });

  // --- API tokens ---
  t.add("POST", "/api/v1/tokens", Access::kAny, [&d](RouteContext& c) {
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto name = jsonString(*body, "name", &bad);
    auto user = jsonString(*body, "user", &bad);
    if (bad || !name || name->empty() || name->size() > 100)
      return error(400, "name (1-100 characters) is required; user must be a string");
    std::int64_t days = 0;
    if (body->contains("expires_in_days")) {
      if (!(*body)["expires_in_days"].is_number_integer())
        return error(400, "expires_in_days must be an integer");
      days = (*body)["expires_in_days"].get<std::int64_t>();
      if (days < 1) return error(400, "expires_in_days must be at least 1");
    }
    std::string owner = user.value_or(c.user().name);
    if (owner != c.user().name) {
      if (!c.admin()) return error(403, "only administrators create tokens for others");
      auto u = d.store.user(owner);
      if (!u) return statusError(u.status());
      if (!u->has_value()) return error(400, "no user named '" + owner.substr(0, 64) + "'");
    }
    auto tok = d.auth.createToken(owner, *name, days);
    if (!tok) return statusError(tok.status());
    (void)d.audit.record(c.user().name, "token.create", std::to_string(tok->record.id), nullptr,
                         tokenJson(tok->record));
    json out = tokenJson(tok->record);
    out["token"] = tok->token;
    out["note"] = "the token is shown only now; send it as Authorization: Bearer <token>";
    return reply(201, out);
  });
  t.add("GET", "/api/v1/tokens", Access::kAny, [&d](RouteContext& c) {
    auto q = queryParams(c.req.target);
    if (auto e = rejectUnknownParams(q, {"user"})) return *e;
    std::optional<std::string> who;
    if (!c.admin()) who = c.user().name;
    for (const auto& [k, v] : q)
      if (k == "user") {
        if (!c.admin() && v != c.user().name) return error(403, "you can list only your tokens");
        who = v;
      }
    auto all = d.store.apiTokens(who);
    if (!all) return statusError(all.status());
    json out = json::array();
    for (const auto& tk : *all) out.push_back(tokenJson(tk));
    return reply(200, {{"tokens", out}});
  });
  t.add("DELETE", "/api/v1/tokens/{id}", Access::kAny, [&d](RouteContext& c) {
    auto id = parseInt(c.params["id"]);
    if (!id || *id <= 0) return error(400, "token id must be a positive integer");
    auto tk = d.store.apiToken(*id);
    if (!tk) return statusError(tk.status());
    if (!tk->has_value() || (!c.admin() && (*tk)->user != c.user().name))
      return error(404, "no such token");
    Status s = d.store.write([&](StoreWriter& w) { return w.revokeApiToken(*id, d.clock.now()); });
    if (!s) return statusError(s);
    json after = tokenJson(**tk);
    after["revoked_at"] = d.clock.now();
    after["active"] = false;
    (void)d.audit.record(c.user().name, "token.revoke", std::to_string(*id), tokenJson(**tk),
                         after);
    return noContent();
  });

  // --- Audit log ---
  t.add("GET", "/api/v1/audit", Access::kAdmin, [&d](RouteContext& c) {
    auto q = queryParams(c.req.target);
    if (auto e = rejectUnknownParams(q, {"limit", "offset"})) return *e;
    Paging pg;
    if (auto e = parsePaging(q, &pg)) return *e;
    std::int64_t total = 0;
    auto entries = d.store.auditEntries(pg.limit, pg.offset, &total);
    if (!entries) return statusError(entries.status());
    json out = json::array();
    for (const auto& e : *entries) out.push_back(auditJson(e));
    return reply(200,
                 {{"entries", out}, {"total", total}, {"limit", pg.limit}, {"offset", pg.offset}});
  });
}

}  // namespace pullprint::api
