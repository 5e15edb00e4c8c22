// Resource routes through Api::handle over a real SQLite store: printers,
// queues, jobs (filters, paging, cancel, release), users (CRUD, CSV), cards
// CSV, stations, audit log, /metrics. Each route: happy path, 401, 403,
// 400 with a message, and the audit entries admin changes leave.
#include <catch2/catch.hpp>

#include <set>

#include "tests/admin-api/api_fixture.h"

using namespace pullprint;
using namespace pullprint::apitest;
using nlohmann::json;

namespace {

// The newest audit entry with `action`, or null.
json lastAudit(ApiFixture& fx, const std::string& action) {
  for (const auto& e : fx.audit())
    if (e["action"] == action) return e;
  return nullptr;
}

}  // namespace

TEST_CASE("printers: any user reads a reduced view; admin CRUD with audit", "[api][printers]") {
  ApiFixture fx;
  const std::string uri = "ipp://127.0.0.1:1/ipp/print";
  CHECK(fx.call("GET", "/api/v1/printers", As::none()).status == 401);
  CHECK(fx.call("PUT", "/api/v1/printers/lib-1", As::basic("alice"), json{{"uri", uri}}.dump())
            .status == 403);
  CHECK(fx.call("PUT", "/api/v1/printers/lib-1", As::none(), json{{"uri", uri}}.dump()).status ==
        401);

  Reply created = fx.call("PUT", "/api/v1/printers/lib-1", As::basic("root"),
                          json{{"uri", uri}, {"location", "Library"}, {"group", "north"}}.dump());
  REQUIRE(created.status == 201);
  CHECK(created.json["uri"] == uri);
  json a = lastAudit(fx, "printer.create");
  REQUIRE(a.is_object());
  CHECK(a["actor"] == "root");
  CHECK(a["target"] == "lib-1");
  CHECK(a["before"].is_null());
  CHECK(a["after"]["location"] == "Library");
  CHECK(a["at"] == kStart);

  Reply updated = fx.call("PUT", "/api/v1/printers/lib-1", As::basic("root"),
                          json{{"location", "Library, floor 2"}}.dump());
  REQUIRE(updated.status == 200);
  CHECK(updated.json["uri"] == uri);  // kept
  CHECK(updated.json["group"] == "north");
  json u = lastAudit(fx, "printer.update");
  CHECK(u["before"]["location"] == "Library");
  CHECK(u["after"]["location"] == "Library, floor 2");

  // Reduced view for users, full for admin.
  Reply asUser = fx.call("GET", "/api/v1/printers", As::basic("alice"));
  REQUIRE(asUser.status == 200);
  REQUIRE(asUser.json["printers"].size() == 1);
  json p = asUser.json["printers"][0];
  CHECK(p["name"] == "lib-1");
  CHECK(p["location"] == "Library, floor 2");
  CHECK(p["group"] == "north");
  CHECK(p.contains("state"));
  CHECK_FALSE(p.contains("uri"));
  CHECK_FALSE(p.contains("capabilities"));
  json full = fx.call("GET", "/api/v1/printers", As::basic("root")).json["printers"][0];
  CHECK(full["uri"] == uri);
  CHECK(full.contains("capabilities"));
  CHECK(fx.call("GET", "/api/v1/printers/lib-1", As::basic("eco")).json.contains("uri") == false);
  CHECK(fx.call("GET", "/api/v1/printers/none", As::basic("eco")).status == 404);
  CHECK(fx.call("GET", "/api/v1/printers?x=1", As::basic("eco")).status == 400);

  // POST creates only.
  CHECK(fx.call("POST", "/api/v1/printers", As::basic("root"),
                json{{"name", "lib-1"}, {"uri", uri}}.dump())
            .status == 409);
  CHECK(fx.call("POST", "/api/v1/printers", As::basic("root"),
                json{{"name", "lib-2"}, {"uri", uri}}.dump())
            .status == 201);

  // Bad input.
  for (auto [target, body] :
       {std::pair{"/api/v1/printers/lib-3", std::string("{")},
        std::pair{"/api/v1/printers/lib-3", json{{"uri", "http://x"}}.dump()},
        std::pair{"/api/v1/printers/lib-3", json{{"location", "no uri"}}.dump()},
        std::pair{"/api/v1/printers/lib-3", json{{"uri", 5}}.dump()},
        std::pair{"/api/v1/printers/bad%20name", json{{"uri", uri}}.dump()}}) {
    INFO(target << " " << body);
    Reply b = fx.call("PUT", target, As::basic("root"), body);
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }
  CHECK(fx.call("POST", "/api/v1/printers", As::basic("root"), "{}").status == 400);

  // Delete.
  CHECK(fx.call("DELETE", "/api/v1/printers/lib-2", As::basic("alice")).status == 403);
  CHECK(fx.call("DELETE", "/api/v1/printers/lib-2", As::basic("root")).status == 204);
  CHECK(fx.call("DELETE", "/api/v1/printers/lib-2", As::basic("root")).status == 404);
  json d = lastAudit(fx, "printer.delete");
  CHECK(d["before"]["name"] == "lib-2");
  CHECK(d["after"].is_null());
  CHECK(fx.call("POST", "/api/v1/printers/lib-1/refresh", As::basic("alice")).status == 403);
}

TEST_CASE("queues: any user; admin sees the printer URI", "[api][queues]") {
  ApiFixture fx;
  fx.config.queues.push_back({"lab", "ipp://127.0.0.1:1/ipp/print", true, -1, "Lab", "Room 1"});
  CHECK(fx.call("GET", "/api/v1/queues", As::none()).status == 401);
  Reply u = fx.call("GET", "/api/v1/queues", As::basic("alice"));
  REQUIRE(u.status == 200);
  std::set<std::string> names;
  for (const auto& q : u.json["queues"]) {
    names.insert(q["name"]);
    CHECK_FALSE(q.contains("printer_uri"));
  }
  CHECK(names == std::set<std::string>{"followme", "direct", "lab"});
  Reply a = fx.call("GET", "/api/v1/queues", As::basic("root"));
  CHECK(a.json["queues"][2]["printer_uri"] == "ipp://127.0.0.1:1/ipp/print");
  CHECK(fx.call("GET", "/api/v1/queues?limit=1", As::basic("root")).status == 400);
}

TEST_CASE("jobs list: own jobs only, filters, paging limits", "[api][jobs]") {
  ApiFixture fx;
  // alice: 60 held (one per hour), 3 completed at p1; bob: 2 held, 1 canceled.
  for (int i = 0; i < 60; ++i) fx.addJob("alice", JobState::kHeld, kStart + i * 3600);
  for (int i = 0; i < 3; ++i) fx.addJob("alice", JobState::kCompleted, kStart + 86400 * 3, "p1");
  fx.addJob("bob", JobState::kHeld, kStart);
  fx.addJob("bob", JobState::kHeld, kStart);
  fx.addJob("bob", JobState::kCanceled, kStart);
  fx.recover();

  CHECK(fx.call("GET", "/api/v1/jobs", As::none()).status == 401);
  Reply mine = fx.call("GET", "/api/v1/jobs", As::basic("alice"));
  REQUIRE(mine.status == 200);
  CHECK(mine.json["total"] == 63);
  CHECK(mine.json["limit"] == 50);  // default
  CHECK(mine.json["offset"] == 0);
  CHECK(mine.json["jobs"].size() == 50);
  for (const auto& j : mine.json["jobs"]) CHECK(j["owner"] == "alice");
  CHECK(mine.json["jobs"][0]["id"] > mine.json["jobs"][1]["id"]);  // newest first

  // Paging.
  Reply last = fx.call("GET", "/api/v1/jobs?limit=50&offset=50", As::basic("alice"));
  CHECK(last.json["jobs"].size() == 13);
  CHECK(fx.call("GET", "/api/v1/jobs?limit=500", As::basic("alice")).json["jobs"].size() == 63);
  for (const char* bad :
       {"limit=501", "limit=0", "limit=-1", "limit=x", "offset=-1", "offset=1.5", "state=nonsense",
        "from=2026-13-01", "to=yesterday", "owner=", "colour=red"}) {
    INFO(bad);
    Reply b = fx.call("GET", std::string("/api/v1/jobs?") + bad, As::basic("alice"));
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }

  // Filters.
  CHECK(fx.call("GET", "/api/v1/jobs?state=held", As::basic("alice")).json["total"] == 60);
  CHECK(fx.call("GET", "/api/v1/jobs?state=completed", As::basic("alice")).json["total"] == 3);
  CHECK(fx.call("GET", "/api/v1/jobs?state=active", As::basic("alice")).json["total"] == 60);
  CHECK(fx.call("GET", "/api/v1/jobs?printer=p1", As::basic("alice")).json["total"] == 3);
  CHECK(fx.call("GET", "/api/v1/jobs?queue=direct", As::basic("alice")).json["total"] == 0);
  // Dates: from inclusive, to inclusive of the whole day; Unix seconds exact.
  CHECK(fx.call("GET", "/api/v1/jobs?from=2026-01-02&to=2026-01-02", As::basic("alice"))
            .json["total"] == 24);  // hours 24..47
  CHECK(fx.call("GET", "/api/v1/jobs?to=2026-01-01", As::basic("alice")).json["total"] == 24);
  CHECK(fx.call("GET", "/api/v1/jobs?from=" + std::to_string(kStart + 3600 * 59),
                As::basic("alice"))
            .json["total"] == 4);  // the last held one and the three completed

  // Others' jobs: users cannot ask; admin can.
  CHECK(fx.call("GET", "/api/v1/jobs?owner=bob", As::basic("alice")).status == 403);
  CHECK(fx.call("GET", "/api/v1/jobs?owner=alice", As::basic("alice")).json["total"] == 63);
  CHECK(fx.call("GET", "/api/v1/jobs?owner=bob", As::basic("root")).json["total"] == 3);
  CHECK(fx.call("GET", "/api/v1/jobs?state=held", As::basic("root")).json["total"] == 62);
  CHECK(fx.call("GET", "/api/v1/jobs?state=all", As::basic("root")).json["total"] == 66);
  CHECK(fx.call("GET", "/api/v1/jobs?state=canceled&owner=bob", As::basic("root")).json["total"] ==
        1);
}

TEST_CASE("jobs: show, cancel through JobService, release checks, audit of admin actions",
          "[api][jobs]") {
  ApiFixture fx;
  JobId a1 = fx.addJob("alice", JobState::kHeld, kStart);
  JobId a2 = fx.addJob("alice", JobState::kHeld, kStart);
  JobId b1 = fx.addJob("bob", JobState::kHeld, kStart);
  JobId done = fx.addJob("alice", JobState::kCompleted, kStart);
  fx.recover();
  auto path = [](JobId id, const char* tail = "") {
    return "/api/v1/jobs/" + std::to_string(id) + tail;
  };

  // Show.
  Reply s = fx.call("GET", path(a1), As::basic("alice"));
  REQUIRE(s.status == 200);
  CHECK(s.json["state"] == "held");
  CHECK(s.json["usage"].is_array());
  CHECK(fx.call("GET", path(b1), As::basic("alice")).status == 404);  // not even confirmed
  CHECK(fx.call("GET", path(b1), As::basic("root")).status == 200);
  CHECK(fx.call("GET", "/api/v1/jobs/x1", As::basic("alice")).status == 400);
  CHECK(fx.call("GET", path(a1), As::none()).status == 401);

  // Cancel: owner.
  CHECK(fx.call("POST", path(a1, "/cancel"), As::none()).status == 401);
  CHECK(fx.call("POST", path(b1, "/cancel"), As::basic("alice")).status == 404);
  Reply c = fx.call("POST", path(a1, "/cancel"), As::basic("alice"));
  REQUIRE(c.status == 200);
  CHECK(c.json["state"] == "canceled");
  CHECK(c.json["state_reasons"] == "job-canceled-by-user");
  auto events = fx.store->events(a1);
  REQUIRE(events);
  REQUIRE_FALSE(events->empty());
  CHECK(events->back().to == "canceled");
  CHECK(events->back().actor == "alice");
  Reply again = fx.call("POST", path(a1, "/cancel"), As::basic("alice"));
  CHECK(again.status == 409);
  CHECK(fx.call("POST", path(done, "/cancel"), As::basic("alice")).status == 409);
  CHECK(lastAudit(fx, "job.cancel").is_null());  // users' own actions are not admin changes

  // Cancel: admin, audited with before/after.
  Reply ac = fx.call("POST", path(b1, "/cancel"), As::basic("root"));
  REQUIRE(ac.status == 200);
  CHECK(ac.json["state_reasons"] == "job-canceled-by-operator");
  json au = lastAudit(fx, "job.cancel");
  REQUIRE(au.is_object());
  CHECK(au["actor"] == "root");
  CHECK(au["target"] == std::to_string(b1));
  CHECK(au["before"]["state"] == "held");
  CHECK(au["after"]["state"] == "canceled");

  // Release: body checks, state checks, unknown printer.
  CHECK(fx.call("POST", path(a2, "/release"), As::basic("alice"), "{}").status == 400);
  CHECK(fx.call("POST", path(a2, "/release"), As::basic("alice"), R"({"printer":7})").status ==
        400);
  CHECK(fx.call("POST", path(a2, "/release"), As::basic("alice"), "[").status == 400);
  CHECK(fx.call("POST", path(a1, "/release"), As::basic("alice"), R"({"printer":"p"})").status ==
        409);  // canceled
  CHECK(fx.call("POST", path(b1, "/release"), As::basic("alice"), R"({"printer":"p"})").status ==
        404);
  Reply nop = fx.call("POST", path(a2, "/release"), As::basic("alice"), R"({"printer":"nope"})");
  CHECK(nop.status == 404);
  CHECK_FALSE(nop.error().empty());
  // POST /release: others' jobs only for admin.
  CHECK(fx.call("POST", "/api/v1/release", As::basic("alice"), R"({"printer":"p","user":"bob"})")
            .status == 403);
  CHECK(fx.call("POST", "/api/v1/release", As::basic("alice"), R"({"jobs":[1]})").status == 400);
  CHECK(fx.call("POST", "/api/v1/release", As::basic("alice"), R"({"printer":"p","jobs":"1"})")
            .status == 400);

  // Expire sweep: admin only, audited.
  CHECK(fx.call("POST", "/api/v1/jobs/expire", As::basic("alice")).status == 403);
  Reply ex = fx.call("POST", "/api/v1/jobs/expire", As::basic("root"));
  CHECK(ex.status == 200);
  CHECK(lastAudit(fx, "jobs.expire")["after"]["expired"] == 0);
}

TEST_CASE("users: CRUD with hashed passwords, roles, audit without secrets", "[api][users]") {
  ApiFixture fx;
  CHECK(fx.call("GET", "/api/v1/users", As::none()).status == 401);
  CHECK(fx.call("GET", "/api/v1/users", As::basic("alice")).status == 403);
  CHECK(fx.call("GET", "/api/v1/users", As::basic("eco")).status == 403);
  Reply list = fx.call("GET", "/api/v1/users", As::basic("root"));
  REQUIRE(list.status == 200);
  CHECK(list.json["total"] == 4);
  CHECK(list.body.find("pbkdf2") == std::string::npos);
  CHECK(fx.call("GET", "/api/v1/users?limit=2&offset=3", As::basic("root")).json["users"].size() ==
        1);
  CHECK(fx.call("GET", "/api/v1/users?limit=1000", As::basic("root")).status == 400);

  // Create.
  Reply c = fx.call("POST", "/api/v1/users", As::basic("root"),
                    R"({"name":"carol","password":"carol-secret-1","role":"sustainability",
                        "department":"Green Office"})");
  REQUIRE(c.status == 201);
  CHECK(c.json["role"] == "sustainability");
  CHECK(c.json["has_password"] == true);
  auto stored = fx.store->user("carol");
  REQUIRE(stored);
  REQUIRE(stored->has_value());
  CHECK((*stored)->password_hash.rfind("pbkdf2-sha256$", 0) == 0);
  CHECK(fx.call("GET", "/api/v1/reports/summary?from=2026-01-01&to=2026-01-31",
                As{As::kBasic, "carol", "carol-secret-1", ""})
            .status == 200);
  CHECK(fx.call("POST", "/api/v1/users", As::basic("root"), R"({"name":"carol"})").status == 409);
  CHECK(fx.call("POST", "/api/v1/users", As::basic("alice"), R"({"name":"dave"})").status == 403);
  for (const char* bad :
       {R"({"name":"bad name"})", R"({"name":"x","role":"god"})",
        R"({"name":"x","password":"short"})", R"({"name":"x","department":7})", R"({})", "nope"}) {
    INFO(bad);
    Reply b = fx.call("POST", "/api/v1/users", As::basic("root"), bad);
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }

  // Read: self or admin.
  CHECK(fx.call("GET", "/api/v1/users/alice", As::basic("alice")).status == 200);
  CHECK(fx.call("GET", "/api/v1/users/bob", As::basic("alice")).status == 403);
  CHECK(fx.call("GET", "/api/v1/users/zed", As::basic("root")).status == 404);

  // Update: password and role; the old password and old sessions stop working.
  auto [cookie, csrf] = fx.login("alice");
  Reply up = fx.call("PUT", "/api/v1/users/alice", As::basic("root"),
                     R"({"password":"alice-new-password","role":"admin"})");
  REQUIRE(up.status == 200);
  CHECK(up.json["role"] == "admin");
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("alice")).status == 401);
  CHECK(fx.call("GET", "/api/v1/jobs", As{As::kBasic, "alice", "alice-new-password", ""}).status ==
        200);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(cookie)).status == 401);
  json au = lastAudit(fx, "user.update");
  CHECK(au["before"]["role"] == "user");
  CHECK(au["after"]["role"] == "admin");
  CHECK(au["after"]["password_changed"] == true);
  CHECK(au.dump().find("alice-new-password") == std::string::npos);
  CHECK(au.dump().find("pbkdf2") == std::string::npos);
  CHECK(fx.call("PUT", "/api/v1/users/zed", As::basic("root"), "{}").status == 404);
  CHECK(fx.call("PUT", "/api/v1/users/bob", As::basic("root"), R"({"name":"bobby"})").status ==
        400);
  CHECK(fx.call("PUT", "/api/v1/users/bob", As::basic("bob"), R"({"role":"admin"})").status == 403);

  // Delete.
  CHECK(fx.call("DELETE", "/api/v1/users/root", As::basic("root")).status == 409);
  CHECK(fx.call("DELETE", "/api/v1/users/carol", As::basic("root")).status == 204);
  CHECK(fx.call("DELETE", "/api/v1/users/carol", As::basic("root")).status == 404);
  json del = lastAudit(fx, "user.delete");
  CHECK(del["before"]["name"] == "carol");
  CHECK(del["after"].is_null());
  CHECK(lastAudit(fx, "user.create")["after"]["department"] == "Green Office");
}

TEST_CASE("users change their own password; sessions end; guesses are limited",
          "[api][users][password]") {
  ApiFixture fx;
  const std::string path = "/api/v1/users/alice/password";
  const std::string good =
      R"({"current_password":"password-alice","new_password":"alice-2nd-secret"})";
  CHECK(fx.call("POST", path, As::none(), good).status == 401);
  // Only your own account, even as an administrator (who has PUT for that).
  Reply other = fx.call("POST", path, As::basic("bob"), good);
  CHECK(other.status == 403);
  CHECK_FALSE(other.error().empty());
  CHECK(fx.call("POST", path, As::basic("root"), good).status == 403);
  // Bad bodies: 400 with a message, nothing changed.
  for (const char* bad : {R"({"new_password":"alice-2nd-secret"})",
                          R"({"current_password":"password-alice","new_password":"short"})",
                          R"({"current_password":7,"new_password":"alice-2nd-secret"})", "nope"}) {
    INFO(bad);
    Reply b = fx.call("POST", path, As::basic("alice"), bad);
    CHECK(b.status == 400);
    CHECK_FALSE(b.error().empty());
  }
  // A wrong current password: 403, and the password is unchanged.
  Reply wrong = fx.call("POST", path, As::basic("alice"),
                        R"({"current_password":"not-it","new_password":"alice-2nd-secret"})");
  CHECK(wrong.status == 403);
  CHECK(wrong.error().find("current password") != std::string::npos);
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("alice")).status == 200);

  // From a browser session (CSRF token required): changed, every session ends.
  auto [cookie, csrf] = fx.login("alice");
  auto [cookie2, csrf2] = fx.login("alice");
  CHECK(fx.call("POST", path, As::cookie(cookie), good).status == 403);  // no CSRF token
  Reply ok = fx.call("POST", path, As::cookie(cookie, csrf), good);
  REQUIRE(ok.status == 204);
  CHECK(ok.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(cookie)).status == 401);
  CHECK(fx.call("GET", "/api/v1/session", As::cookie(cookie2)).status == 401);
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("alice")).status == 401);  // old password
  CHECK(fx.call("GET", "/api/v1/jobs", As{As::kBasic, "alice", "alice-2nd-secret", ""}).status ==
        200);
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("bob")).status == 200);  // others unaffected
  json au = lastAudit(fx, "user.password");
  CHECK(au["actor"] == "alice");
  CHECK(au["after"]["password_changed"] == true);
  CHECK(au.dump().find("alice-2nd-secret") == std::string::npos);
  CHECK(au.dump().find("pbkdf2") == std::string::npos);

  // Someone holding only a session (say, a stolen cookie) who guesses the
  // current password: the guesses count against the failed-login limit.
  Reply s = fx.call("POST", "/api/v1/session", As::none(),
                    R"({"username":"alice","password":"alice-2nd-secret"})");
  REQUIRE(s.status == 200);
  std::string c = s.header("Set-Cookie");
  const As session = As::cookie(c.substr(c.find('=') + 1, c.find(';') - c.find('=') - 1),
                                s.json["csrf_token"].get<std::string>());
  int limited = 0;
  for (int i = 0; i < 12 && limited == 0; ++i) {
    Reply g = fx.call("POST", path, session,
                      R"({"current_password":"guess","new_password":"alice-3rd-secret"})");
    if (g.status == 429)
      ++limited;
    else
      CHECK(g.status == 403);
  }
  CHECK(limited == 1);
  CHECK(fx.call("GET", "/api/v1/jobs", As{As::kBasic, "alice", "alice-2nd-secret", ""}).status ==
        429);  // limited for Basic from that address too, until the window passes
}

TEST_CASE("users and cards CSV: export, all-or-nothing import", "[api][users][csv]") {
  ApiFixture fx;
  Reply ex = fx.call("GET", "/api/v1/users.csv", As::basic("root"));
  REQUIRE(ex.status == 200);
  CHECK(ex.raw.content_type.rfind("text/csv", 0) == 0);
  CHECK(ex.body.rfind("name,role,department,created_at\r\n", 0) == 0);
  CHECK(ex.body.find("alice,user,Dept,") != std::string::npos);
  CHECK(fx.call("GET", "/api/v1/users.csv", As::basic("alice")).status == 403);

  // A bad line: nothing imported, every bad line named.
  Reply bad = fx.call("POST", "/api/v1/users/import", As::basic("root"),
                      "name,role,department,password\n"
                      "dan,user,Physics,dan-password-1\n"
                      "eve,wizard,Physics\n"
                      "bad name,user,X\n"
                      "fay,user\n");
  CHECK(bad.status == 400);
  REQUIRE(bad.json["lines"].size() == 3);
  CHECK(bad.json["lines"][0]["line"] == 3);
  auto dan = fx.store->user("dan");
  REQUIRE(dan);
  CHECK_FALSE(dan->has_value());

  Reply ok = fx.call("POST", "/api/v1/users/import", As::basic("root"),
                     "name,role,department,password\r\n"
                     "dan,user,\"Physics, Lab 2\",dan-password-1\r\n"
                     "bob,sustainability,Green\r\n");
  REQUIRE(ok.status == 200);
  CHECK(ok.json["created"] == 1);
  CHECK(ok.json["updated"] == 1);
  CHECK(fx.call("GET", "/api/v1/jobs", As{As::kBasic, "dan", "dan-password-1", ""}).status == 200);
  CHECK(fx.call("GET", "/api/v1/jobs", As::basic("bob")).status == 200);  // password kept
  auto bob = fx.store->user("bob");
  CHECK((*bob)->role == Role::kSustainability);
  CHECK(fx.call("GET", "/api/v1/users.csv", As::basic("root"))
            .body.find("dan,user,\"Physics, Lab 2\"") != std::string::npos);
  json imp = lastAudit(fx, "users.import");
  CHECK(imp["actor"] == "root");
  int entries = 0;
  for (const auto& e : fx.audit())
    if (e["action"] == "users.import") {
      ++entries;
      if (e["target"] == "bob") {
        CHECK(e["before"]["role"] == "user");
        CHECK(e["after"]["role"] == "sustainability");
      }
    }
  CHECK(entries == 2);
  CHECK(fx.call("POST", "/api/v1/users/import", As::basic("alice"), "x,user,y\n").status == 403);

  // Cards: import (existing route) then export.
  Reply ci = fx.call("POST", "/api/v1/cards/import", As::basic("root"),
                     "uid,username\n04A1B2C3,alice\n04A1B2C4,bob\n");
  REQUIRE(ci.status == 200);
  Reply ce = fx.call("GET", "/api/v1/cards.csv", As::basic("root"));
  REQUIRE(ce.status == 200);
  CHECK(ce.body.rfind("uid,user,created_at,revoked_at,source\r\n", 0) == 0);
  CHECK(ce.body.find(",alice,") != std::string::npos);
  CHECK(ce.body.find(",bob,") != std::string::npos);
  CHECK(fx.call("GET", "/api/v1/cards.csv", As::basic("alice")).status == 403);
  CHECK(lastAudit(fx, "cards.import")["after"].size() == 2);

  // The export imports as it is (e.g. into another server): active cards come
  // back, revoked ones are skipped rather than brought back.
  REQUIRE(fx.call("POST", "/api/v1/cards/04A1B2C4/revoke", As::basic("root")).status == 200);
  Reply exported = fx.call("GET", "/api/v1/cards.csv", As::basic("root"));
  REQUIRE(exported.status == 200);
  ApiFixture other;
  Reply back = other.call("POST", "/api/v1/cards/import", As::basic("root"), exported.body);
  REQUIRE(back.status == 200);
  CHECK(back.json["imported"] == 1);
  CHECK(back.json["skipped_revoked"] == 1);
  Reply there = other.call("GET", "/api/v1/cards.csv", As::basic("root"));
  CHECK(there.body.find("04A1B2C3,alice,") != std::string::npos);
  CHECK(there.body.find(",bob,") == std::string::npos);
  // Export layout, broken lines: all or nothing, every bad line named.
  Reply broken = other.call("POST", "/api/v1/cards/import", As::basic("root"),
                            "uid,user,created_at,revoked_at,source\r\n"
                            "04A1B2C5,alice,1,0,import\r\n"
                            "04A1B2C6,alice,1,yesterday,import\r\n"
                            "\"04A1B2C7,alice,1,0,import\r\n"
                            "04A1B2C8,alice\r\n");
  REQUIRE(broken.status == 400);
  REQUIRE(broken.json["lines"].size() == 3);
  CHECK(broken.json["lines"][0]["line"] == 3);
  CHECK(broken.json["lines"][1]["line"] == 4);
  CHECK(broken.json["lines"][2]["line"] == 5);
  CHECK(other.call("GET", "/api/v1/cards.csv", As::basic("root")).body.find("04A1B2C5") ==
        std::string::npos);
}

TEST_CASE("stations and cards: roles through the route table, audit", "[api][stations]") {
  ApiFixture fx;
  REQUIRE(fx.call("PUT", "/api/v1/printers/p1", As::basic("root"),
                  R"({"uri":"ipp://127.0.0.1:1/ipp/print"})")
              .status == 201);
  CHECK(
      fx.call("POST", "/api/v1/stations", As::basic("alice"), R"({"name":"s1","printers":["p1"]})")
          .status == 403);
  CHECK(fx.call("POST", "/api/v1/stations", As::none(), R"({"name":"s1","printers":["p1"]})")
            .status == 401);
  Reply s =
      fx.call("POST", "/api/v1/stations", As::basic("root"), R"({"name":"s1","printers":["p1"]})");
  REQUIRE(s.status == 201);
  json a = lastAudit(fx, "station.create");
  CHECK(a["after"]["name"] == "s1");
  CHECK(a.dump().find(s.json["secret"].get<std::string>()) == std::string::npos);
  CHECK(fx.call("GET", "/api/v1/stations", As::basic("eco")).status == 403);
  CHECK(fx.call("POST", "/api/v1/stations/s1/revoke", As::basic("root")).status == 200);
  CHECK(lastAudit(fx, "station.revoke")["after"]["active"] == false);
  // The signed route needs no user but a signature.
  Reply unsigned_ = fx.call("POST", "/api/v1/stations/release", As::none(), "{}");
  CHECK(unsigned_.status == 401);
  // Cards: users see their own; admin saves, audited.
  CHECK(fx.call("POST", "/api/v1/cards", As::basic("root"), R"({"uid":"04AABBCC","user":"bob"})")
            .status == 201);
  CHECK(lastAudit(fx, "card.save")["after"]["user"] == "bob");
  CHECK(fx.call("GET", "/api/v1/cards", As::basic("bob")).json["cards"].size() == 1);
  CHECK(fx.call("GET", "/api/v1/cards?user=bob", As::basic("alice")).status == 403);
  CHECK(fx.call("DELETE", "/api/v1/cards/04AABBCC", As::basic("alice")).status == 404);
  CHECK(fx.call("DELETE", "/api/v1/cards/04AABBCC", As::basic("root")).status == 200);
  CHECK(lastAudit(fx, "card.revoke")["after"]["active"] == false);
}

TEST_CASE("audit log: admin only, paged, newest first", "[api][audit]") {
  ApiFixture fx;
  for (int i = 0; i < 7; ++i) {
    fx.clock.advance(10);
    REQUIRE(fx.call("POST", "/api/v1/users", As::basic("root"),
                    json{{"name", "u" + std::to_string(i)}}.dump())
                .status == 201);
  }
  CHECK(fx.call("GET", "/api/v1/audit", As::none()).status == 401);
  CHECK(fx.call("GET", "/api/v1/audit", As::basic("alice")).status == 403);
  CHECK(fx.call("GET", "/api/v1/audit", As::basic("eco")).status == 403);
  Reply p = fx.call("GET", "/api/v1/audit?limit=3&offset=2", As::basic("root"));
  REQUIRE(p.status == 200);
  CHECK(p.json["total"] == 7);
  REQUIRE(p.json["entries"].size() == 3);
  CHECK(p.json["entries"][0]["target"] == "u4");
  CHECK(p.json["entries"][0]["at"] == kStart + 50);
  CHECK(p.json["entries"][0]["before"].is_null());
  CHECK(p.json["entries"][0]["after"]["name"] == "u4");
  for (const char* bad : {"limit=501", "limit=0", "offset=-3", "page=2"}) {
    INFO(bad);
    CHECK(fx.call("GET", std::string("/api/v1/audit?") + bad, As::basic("root")).status == 400);
  }
}

TEST_CASE("metrics: scrape allow-list, admin otherwise, Prometheus text", "[api][metrics]") {
  ApiFixture fx;
  fx.addJob("alice", JobState::kHeld, kStart);
  fx.addJob("alice", JobState::kHeld, kStart);
  fx.addJob("bob", JobState::kCompleted, kStart);
  fx.recover();
  Metrics m;
  m.releases = 5;
  m.release_failures = 1;
  m.pages_printed = 40;
  m.store_transactions = 3;
  m.store_writes = 7;
  m.spool_sync_rounds = 2;
  m.spool_files_synced = 4;
  m.ipp_request_seconds.observe(0.002);
  m.ipp_request_seconds.observe(0.3);
  fx.api->setMetrics(&m);

  Reply local = fx.call("GET", "/metrics", As::none());
  REQUIRE(local.status == 200);
  CHECK(local.raw.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(local.body.find("pullprint_jobs_held 2\n") != std::string::npos);
  CHECK(local.body.find("pullprint_jobs{state=\"completed\"} 1\n") != std::string::npos);
  CHECK(local.body.find("pullprint_releases_total 5\n") != std::string::npos);
  CHECK(local.body.find("pullprint_release_failures_total 1\n") != std::string::npos);
  CHECK(local.body.find("pullprint_pages_printed_total 40\n") != std::string::npos);
  CHECK(local.body.find("pullprint_store_transactions_total 3\n") != std::string::npos);
  CHECK(local.body.find("pullprint_store_writes_total 7\n") != std::string::npos);
  CHECK(local.body.find("pullprint_spool_sync_rounds_total 2\n") != std::string::npos);
  CHECK(local.body.find("pullprint_spool_files_synced_total 4\n") != std::string::npos);
  CHECK(local.body.find("pullprint_ipp_request_duration_seconds_bucket{le=\"0.0025\"} 1\n") !=
        std::string::npos);
  CHECK(local.body.find("pullprint_ipp_request_duration_seconds_bucket{le=\"+Inf\"} 2\n") !=
        std::string::npos);
  CHECK(local.body.find("pullprint_ipp_request_duration_seconds_count 2\n") != std::string::npos);

  // From elsewhere: credentials, admin only.
  CHECK(fx.call("GET", "/metrics", As::none(), "", true, "192.0.2.5").status == 401);
  CHECK(fx.call("GET", "/metrics", As::basic("alice"), "", true, "192.0.2.5").status == 403);
  CHECK(fx.call("GET", "/metrics", As::basic("root"), "", true, "192.0.2.5").status == 200);
  // An empty allow-list: always authenticate.
  fx.config.metrics_allow.clear();
  CHECK(fx.call("GET", "/metrics", As::none()).status == 401);
  CHECK(fx.call("POST", "/metrics", As::basic("root")).status == 405);
}

TEST_CASE("a malformed percent-escape in the target is a 400 for every route", "[api]") {
  ApiFixture fx;
  for (const char* target :
       {"/api/v1/jobs?owner=%zz", "/api/v1/jobs?owner=alice%2", "/api/v1/users/al%ice",
        "/api/v1/reports/summary?from=2025-01-01&to=2025-01-31&group_by=%G0", "/metrics?x=%"}) {
    INFO(target);
    Reply r = fx.call("GET", target, As::basic("root"));
    CHECK(r.status == 400);
    CHECK(r.json.value("error", "").find("percent-encoding") != std::string::npos);
  }
  // Well-formed escapes still decode: %61 is 'a', '+' a space.
  Reply ok = fx.call("GET", "/api/v1/users/%61lice", As::basic("root"));
  CHECK(ok.status == 200);
  CHECK(ok.json["name"] == "alice");
  Reply unknown = fx.call("GET", "/api/v1/jobs?owner=no+one", As::basic("root"));
  CHECK(unknown.status == 200);
}
