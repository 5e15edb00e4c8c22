// Authentication through Api::handle over a real SQLite store: sessions
// (cookie, CSRF, idle and absolute expiry, logout), API tokens (creation,
// use, revocation, expiry), HTTP Basic rules, failed-login rate limit,
// cross-site refusal, 401/403 shapes.
#include <catch2/catch.hpp>

#include "tests/admin-api/api_fixture.h"

using namespace pullprint;
using namespace pullprint::apitest;
using nlohmann::json;

TEST_CASE("session login sets a secure cookie and returns the CSRF token", "[api][session]") {
  ApiFixture fx;
  Reply r = fx.call("POST", "/api/v1/session", As::none(),
                    R"({"username":"alice","password":"password-alice"})");
  REQUIRE(r.status == 200);
  CHECK(r.json["user"]["name"] == "alice");
  CHECK(r.json["user"]["role"] == "user");
  CHECK(r.json["user"]["department"] == "Dept");
  CHECK(r.json["expires_at"] == kStart + fx.config.session_lifetime_seconds);
  std::string csrf = r.json["csrf_token"];
  CHECK(csrf.size() >= 40);
  std::string cookie = r.header("Set-Cookie");
  CHECK(cookie.rfind("pullprint_session=", 0) == 0);
  CHECK(cookie.find("; Path=/; HttpOnly; SameSite=Strict") != std::string::npos);
  CHECK(cookie.find("Secure") == std::string::npos);  // plain HTTP (loopback)

  // Over TLS the cookie is Secure.
  Reply t =
      fx.call("POST", "/api/v1/session", As::none(),
              R"({"username":"alice","password":"password-alice"})", /*tls=*/true, "192.0.2.7");
  REQUIRE(t.status == 200);
  CHECK(t.header("Set-Cookie").find("; Secure") != std::string::npos);

  // Only the hash of the cookie value is stored.
  auto [value, token] = fx.login("bob");
  auto direct = fx.store->session(value);
  REQUIRE(direct);
  CHECK_FALSE(direct->has_value());
  auto hashed = fx.store->session(sha256Hex(value));
  REQUIRE(hashed);
  CHECK(hashed->has_value());

  // GET /session returns the same body without a new cookie.
  Reply g = fx.call("GET", "/api/v1/session", As::cookie(value));
  REQUIRE(g.status == 200);
  CHECK(g.json["user"]["name"] == "bob");
  CHECK(g.json["csrf_token"] == token);
  CHECK(g.header("Set-Cookie").empty());
}

TEST_CASE("session login errors: 401 without enumeration, 400, rate limit, TLS rule",
          "[api][session]") {
  ApiFixture fx;
  Reply wrong =
      fx.call("POST", "/api/v1/session", As::none(), R"({"username":"alice","password":"nope"})");
  Reply nobody =
      fx.call("POST", "/api/v1/session", As::none(), R"({"username":"mallory","password":"nope"})");
  CHECK(wrong.status == 401);
  CHECK(nobody.status == 401);
  CHECK(wrong.error() == nobody.error());  // no user enumeration
  CHECK_FALSE(wrong.raw.challenge);        // no Basic dialog for the login page

  for (const char* bad :
       {"", "[]", "{", R"({"username":"alice"})", R"({"username":1,"password":"x"})",
        R"({"username":"","password":"x"})"}) {
    INFO(bad);
    Reply b = fx.call("POST", "/api/v1/session", As::none(), bad);
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }

  // A cross-site login (login CSRF) is refused.
  CHECK(fx.call("POST", "/api/v1/session", As::none(),
                R"({"username":"alice","password":"password-alice"})", false, "127.0.0.1",
                {{"origin", "https://evil.example"}, {"host", "127.0.0.1:8631"}})
            .status == 403);
  // Plain HTTP from a non-loopback peer: refused before the password is checked.
  Reply remote = fx.call("POST", "/api/v1/session", As::none(),
                         R"({"username":"alice","password":"password-alice"})", false, "192.0.2.9");
  CHECK(remote.status == 403);

  // Rate limit per user + peer: after 5 failures even the right password gets 429.
  ApiFixture fy;
  for (int i = 0; i < 5; ++i)
    CHECK(fy.call("POST", "/api/v1/session", As::none(), R"({"username":"bob","password":"x"})")
              .status == 401);
  Reply limited = fy.call("POST", "/api/v1/session", As::none(),
                          R"({"username":"bob","password":"password-bob"})");
  CHECK(limited.status == 429);
  // Basic for the same user and peer is limited too; another peer or user is not.
  CHECK(fy.call("GET", "/api/v1/jobs", As::basic("bob")).status == 429);
  CHECK(fy.call("GET", "/api/v1/jobs", As::basic("alice")).status == 200);
  CHECK(fy.call("POST", "/api/v1/session", As::none(),
                R"({"username":"bob","password":"password-bob"})", false, "::1")
            .status == 200);
  // The window passes.
  fy.clock.advance(fy.config.login_failure_window_seconds + 1);
  CHECK(fy.call("POST", "/api/v1/session", As::none(),
                R"({"username":"bob","password":"password-bob"})")
            .status == 200);
}

TEST_CASE("cookie requests: CSRF on unsafe methods, idle and absolute expiry, logout",
          "[api][session][csrf]") {
  ApiFixture fx;
  auto [cookie, csrf] = fx.login("root");
  const std::string body = R"({"uri":"ipp://127.0.0.1:1/ipp/print"})";

  // GET needs no CSRF token.
  CHECK(fx.call("GET", "/api/v1/printers", As::cookie(cookie)).status == 200);
  // Unsafe without / with a wrong token: 403 with the contract's message.
  Reply missing = fx.call("PUT", "/api/v1/printers/p1", As::cookie(cookie), body);
  CHECK(missing.status == 403);
  CHECK(missing.error() == "CSRF token missing or wrong");
  Reply wrong = fx.call("PUT", "/api/v1/printers/p1", As::cookie(cookie, csrf + "x"), body);
  CHECK(wrong.status == 403);
  CHECK(wrong.error() == "CSRF token missing or wrong");
  auto p = fx.store->printer("p1");
  REQUIRE(p);
  CHECK_FALSE(p->has_value());  // nothing happened
  // Another session's token is wrong too.
  auto [cookie2, csrf2] = fx.login("root");
  CHECK(fx.call("PUT", "/api/v1/printers/p1", As::cookie(cookie, csrf2), body).status == 403);
  // The right token works.
  CHECK(fx.call("PUT", "/api/v1/printers/p1", As::cookie(cookie, csrf), body).status == 201);

  // Cross-site browser requests are refused whatever the credentials.
  CHECK(fx.call("DELETE", "/api/v1/printers/p1", As::cookie(cookie, csrf), "", false, "127.0.0.1",
                {{"sec-fetch-site", "cross-site"}})
            .status == 403);
  CHECK(fx.call("DELETE", "/api/v1/printers/p1", As::basic("root"), "", false, "127.0.0.1",
                {{"origin", "https://evil.example"}, {"host", "print.example:8631"}})
            .status == 403);
  CHECK(fx.call("DELETE", "/api/v1/printers/p1", As::basic("root"), "", false, "127.0.0.1",
                {{"origin", "https://print.example:8631"}, {"host", "print.example:8631"}})
            .status == 204);

  // Idle expiry: used within the idle time it lives on, then it ends.
  fx.clock.advance(fx.config.session_idle_seconds - 10);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(cookie)).status == 200);  // touches it
  fx.clock.advance(fx.config.session_idle_seconds - 10);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(cookie)).status == 200);
  fx.clock.advance(fx.config.session_idle_seconds + 1);
  Reply idle = fx.call("GET", "/api/v1/jobs", As::cookie(cookie));
  CHECK(idle.status == 401);
  CHECK(idle.error().find("expired") != std::string::npos);
  CHECK_FALSE(idle.raw.challenge);  // a browser with a cookie gets no Basic dialog

  // Absolute expiry even when used continuously.
  auto [c3, t3] = fx.login("alice");
  for (UnixSeconds used = 0; used < fx.config.session_lifetime_seconds;
       used += fx.config.session_idle_seconds / 2) {
    fx.clock.advance(fx.config.session_idle_seconds / 2);
    if (used + fx.config.session_idle_seconds / 2 < fx.config.session_lifetime_seconds)
      REQUIRE(fx.call("GET", "/api/v1/jobs", As::cookie(c3)).status == 200);
  }
  CHECK(fx.call("GET", "/api/v1/jobs", As::cookie(c3)).status == 401);

  // Logout: CSRF needed, 204, cookie cleared, session gone server-side.
  auto [c4, t4] = fx.login("alice");
  CHECK(fx.call("DELETE", "/api/v1/session", As::cookie(c4)).status == 403);
  Reply out = fx.call("DELETE", "/api/v1/session", As::cookie(c4, t4));
  CHECK(out.status == 204);
  CHECK(out.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(c4)).status == 401);
  CHECK(fx.call("GET", "/api/v1/jobs", As::cookie(c4)).status == 401);
  CHECK(fx.call("GET", "/api/v1/session", As::none()).status == 401);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie("garbage")).status == 401);
}

TEST_CASE("API tokens: create, use, list, revoke, expire", "[api][tokens]") {
  ApiFixture fx;
  Reply c = fx.call("POST", "/api/v1/tokens", As::basic("alice"), R"({"name":"laptop script"})");
  REQUIRE(c.status == 201);
  std::string token = c.json["token"];
  const std::int64_t id = c.json["id"];
  CHECK(token.rfind("ppt_", 0) == 0);
  CHECK(c.json["user"] == "alice");
  CHECK(c.json["expires_at"] == kStart + fx.config.token_max_lifetime_days * 86400);

  // Stored hashed: the token itself is nowhere in the store.
  auto byHash = fx.store->apiTokenByHash(sha256Hex(token));
  REQUIRE(byHash);
  REQUIRE(byHash->has_value());
  CHECK((*byHash)->token_hash != token);

  // Bearer works, needs no CSRF, and acts as the token's user.
  Reply jobs = fx.call("GET", "/api/v1/jobs?owner=alice", As::bearer(token));
  CHECK(jobs.status == 200);
  CHECK(fx.call("GET", "/api/v1/users", As::bearer(token)).status == 403);
  CHECK(fx.call("POST", "/api/v1/cards/register-intent", As::bearer(token), "{}").status == 201);
  Reply unknown = fx.call("GET", "/api/v1/jobs", As::bearer("ppt_not-a-token"));
  CHECK(unknown.status == 401);
  CHECK_FALSE(unknown.raw.challenge);

  // Listing: own only for users; admin sees all.
  fx.call("POST", "/api/v1/tokens", As::basic("bob"), R"({"name":"b"})");
  Reply mine = fx.call("GET", "/api/v1/tokens", As::basic("alice"));
  REQUIRE(mine.status == 200);
  CHECK(mine.json["tokens"].size() == 1);
  CHECK_FALSE(mine.json["tokens"][0].contains("token"));
  CHECK_FALSE(mine.json["tokens"][0].contains("token_hash"));
  CHECK(fx.call("GET", "/api/v1/tokens?user=bob", As::basic("alice")).status == 403);
  CHECK(fx.call("GET", "/api/v1/tokens", As::basic("root")).json["tokens"].size() == 2);

  // Creating for someone else: admin only.
  CHECK(fx.call("POST", "/api/v1/tokens", As::basic("alice"), R"({"name":"x","user":"bob"})")
            .status == 403);
  Reply forBob =
      fx.call("POST", "/api/v1/tokens", As::basic("root"), R"({"name":"x","user":"bob"})");
  CHECK(forBob.status == 201);
  CHECK(forBob.json["user"] == "bob");
  CHECK(fx.call("POST", "/api/v1/tokens", As::basic("root"), R"({"name":"x","user":"nobody"})")
            .status == 400);

  // Bad parameters.
  for (const char* bad :
       {R"({})", R"({"name":""})", R"({"name":5})", R"({"name":"x","expires_in_days":"7"})",
        R"({"name":"x","expires_in_days":0})", R"({"name":"x","expires_in_days":100000})",
        "not json"}) {
    INFO(bad);
    Reply b = fx.call("POST", "/api/v1/tokens", As::basic("alice"), bad);
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }

  // Revoke: another user's token is "not found"; the owner's revocation sticks.
  CHECK(fx.call("DELETE", "/api/v1/tokens/" + std::to_string(id), As::basic("bob")).status == 404);
  CHECK(fx.call("DELETE", "/api/v1/tokens/abc", As::basic("alice")).status == 400);
  CHECK(fx.call("DELETE", "/api/v1/tokens/" + std::to_string(id), As::bearer(token)).status == 204);
  Reply revoked = fx.call("GET", "/api/v1/jobs", As::bearer(token));
  CHECK(revoked.status == 401);
  CHECK(revoked.error() == "API token revoked");
  CHECK(fx.call("DELETE", "/api/v1/tokens/" + std::to_string(id), As::basic("alice")).status ==
        404);

  // Expiry.
  Reply shortLived =
      fx.call("POST", "/api/v1/tokens", As::basic("alice"), R"({"name":"s","expires_in_days":1})");
  REQUIRE(shortLived.status == 201);
  std::string t2 = shortLived.json["token"];
  CHECK(fx.call("GET", "/api/v1/jobs", As::bearer(t2)).status == 200);
  fx.clock.advance(86400);
  Reply expired = fx.call("GET", "/api/v1/jobs", As::bearer(t2));
  CHECK(expired.status == 401);
  CHECK(expired.error() == "API token expired");

  // A deleted user's token stops working.
  std::string bobToken = forBob.json["token"];
  CHECK(fx.call("GET", "/api/v1/jobs", As::bearer(bobToken)).status == 200);
  CHECK(fx.call("DELETE", "/api/v1/users/bob", As::basic("root")).status == 204);
  CHECK(fx.call("GET", "/api/v1/jobs", As::bearer(bobToken)).status == 401);

  // Audit: creation and revocation, never the token.
  json audit = fx.audit();
  int creates = 0, revokes = 0;
  for (const auto& e : audit) {
    CHECK(e.dump().find(token) == std::string::npos);
    if (e["action"] == "token.create") ++creates;
    if (e["action"] == "token.revoke") {
      ++revokes;
      CHECK(e["actor"] == "alice");
      CHECK(e["before"]["active"] == true);
      CHECK(e["after"]["active"] == false);
    }
  }
  CHECK(creates == 4);
  CHECK(revokes == 1);
}

TEST_CASE("HTTP Basic keeps its rules; 401 challenges; malformed Authorization", "[api][basic]") {
  ApiFixture fx;
  Reply none = fx.call("GET", "/api/v1/jobs", As::none());
  CHECK(none.status == 401);
  CHECK(none.raw.challenge);
  CHECK(none.error() == "authentication required");
  Reply bad = fx.call("GET", "/api/v1/jobs", As{As::kBasic, "alice", "wrong", ""});
  CHECK(bad.status == 401);
  CHECK(bad.raw.challenge);
  // Basic over plain HTTP from a remote peer: 403 (TLS needed); over TLS fine.
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("alice"), "", false, "192.0.2.1").status == 403);
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("alice"), "", true, "192.0.2.1").status == 200);
  // An Authorization header that is neither Bearer nor parseable Basic.
  Reply odd = fx.call("GET", "/api/v1/jobs", As::none(), "", false, "127.0.0.1",
                      {{"authorization", "Digest username=x"}});
  CHECK(odd.status == 401);
  CHECK(odd.error().find("Authorization") != std::string::npos);
  // An explicit header wins over a cookie: a bad token is not rescued by a session.
  auto [cookie, csrf] = fx.login("alice");
  CHECK(fx.call("GET", "/api/v1/jobs", As::none(), "", false, "127.0.0.1",
                {{"authorization", "Bearer nope"}, {"cookie", "pullprint_session=" + cookie}})
            .status == 401);
  // Health is public; unknown routes 404; wrong method 405.
  CHECK(fx.call("GET", "/api/v1/health", As::none()).status == 200);
  CHECK(fx.call("GET", "/api/v1/nothing", As::basic("alice")).status == 404);
  Reply patch = fx.call("PATCH", "/api/v1/jobs", As::basic("alice"));
  CHECK(patch.status == 405);
  CHECK(patch.header("Allow") == "GET");
  CHECK(fx.call("GET", "/api/v1//jobs", As::basic("alice")).status == 404);
}

TEST_CASE("Api::addRoute: another module's route gets auth, access and dispatch", "[api][routes]") {
  ApiFixture fx;
  std::string seen;
  REQUIRE(fx.api
              ->addRoute("POST", "/api/v1/plugin/push", "admin",
                         [&](const api::ApiRequest& r, const User& u) {
                           seen = u.name + " " + r.body;
                           api::ApiResponse out;
                           out.body = R"({"pushed":true})";
                           return out;
                         })
              .isOk());
  CHECK_FALSE(fx.api
                  ->addRoute("POST", "/api/v1/plugin/push", "admin",
                             [](auto&, auto&) { return api::ApiResponse{}; })
                  .isOk());
  CHECK_FALSE(
      fx.api->addRoute("GET", "/elsewhere", "any", [](auto&, auto&) { return api::ApiResponse{}; })
          .isOk());
  CHECK_FALSE(
      fx.api->addRoute("GET", "/api/v1/x", "root", [](auto&, auto&) { return api::ApiResponse{}; })
          .isOk());
  CHECK(fx.call("POST", "/api/v1/plugin/push", As::none(), "{}").status == 401);
  CHECK(fx.call("POST", "/api/v1/plugin/push", As::basic("alice"), "{}").status == 403);
  auto [cookie, csrf] = fx.login("root");
  CHECK(fx.call("POST", "/api/v1/plugin/push", As::cookie(cookie), "{}").status == 403);  // CSRF
  Reply ok = fx.call("POST", "/api/v1/plugin/push", As::cookie(cookie, csrf), R"({"group":"a"})");
  CHECK(ok.status == 200);
  CHECK(seen == R"(root {"group":"a"})");
  bool listed = false;
  for (const auto& r : fx.api->routes())
    listed |= r.method == "POST" && r.path == "/api/v1/plugin/push" && r.access == "admin";
  CHECK(listed);
}
