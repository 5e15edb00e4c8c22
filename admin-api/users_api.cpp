// Routes: users (CRUD, CSV import/export) and the cards CSV export.
// Passwords arrive in request bodies and are stored hashed (core/password);
// neither passwords nor hashes are ever returned or audited.
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "admin-api/csv.h"
#include "admin-api/routes.h"
#include "core/password.h"

namespace pullprint::api {

using nlohmann::json;

namespace {

bool validUserName(const std::string& n) {
  return !n.empty() && n.size() <= 64 &&
         n.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") ==
             std::string::npos;
}

constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;

// Applies body fields to `u`; returns an error message or "".
std::string applyUserBody(const json& body, User* u, bool* password_changed) {
  bool bad = false;
  auto role = jsonString(body, "role", &bad);
  auto dept = jsonString(body, "department", &bad);
  auto password = jsonString(body, "password", &bad);
  if (bad) return "role, department and password must be strings";
  if (role) {
    auto r = parseRole(*role);
    if (!r) return "role must be user, admin or sustainability";
    u->role = *r;
  }
  if (dept) {
    if (dept->size() > 200) return "department is at most 200 characters";
    u->department = *dept;
  }
  if (password) {
    if (password->size() < kMinPassword || password->size() > kMaxPassword)
      return "password must be 8..1024 characters";
    u->password_hash = hashPassword(*password);
    *password_changed = true;
  }
  return {};
}

ApiResponse csvReply(std::string body) {
  ApiResponse r;
  r.body = std::move(body);
  r.content_type = "text/csv; charset=utf-8";
  return r;
}

}  // namespace

void addUserRoutes(RouteTable& t, ApiDeps& d) {
  t.add("GET", "/api/v1/users", Access::kAdmin, [&d](RouteContext& c) {
    auto q = queryParams(c.req.target);
    if (auto e = rejectUnknownParams(q, {"limit", "offset"})) return *e;
    Paging pg;
    if (auto e = parsePaging(q, &pg)) return *e;
    auto all = d.store.users();
    if (!all) return statusError(all.status());
    json out = json::array();
    const auto total = static_cast<std::int64_t>(all->size());
    for (std::int64_t i = pg.offset; i < total && i < pg.offset + pg.limit; ++i)
      out.push_back(userJson((*all)[static_cast<size_t>(i)]));
    return reply(200,
                 {{"users", out}, {"total", total}, {"limit", pg.limit}, {"offset", pg.offset}});
  });

  t.add("POST", "/api/v1/users", Access::kAdmin, [&d](RouteContext& c) {
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto name = jsonString(*body, "name", &bad);
    if (bad || !name || !validUserName(*name))
      return error(400, "name is required: 1-64 of A-Z a-z 0-9 _ . @ -");
    auto old = d.store.user(*name);
    if (!old) return statusError(old.status());
    if (old->has_value()) return error(409, "a user named '" + *name + "' exists");
    User u;
    u.name = *name;
    u.created_at = d.clock.now();
    bool pw = false;
    if (std::string m = applyUserBody(*body, &u, &pw); !m.empty()) return error(400, m);
    if (Status s = d.store.write([&](StoreWriter& w) { return w.upsertUser(u); }); !s)
      return statusError(s);
    auto saved = d.store.user(u.name);
    User now = saved && saved->has_value() ? **saved : u;
    (void)d.audit.record(c.user().name, "user.create", u.name, nullptr, userJson(now));
    return reply(201, userJson(now));
  });

  t.add("GET", "/api/v1/users/{name}", Access::kAny, [&d](RouteContext& c) {
    const std::string name = c.params["name"];
    if (!c.admin() && name != c.user().name) return error(403, "you can see only yourself");
    auto u = d.store.user(name);
    if (!u) return statusError(u.status());
    if (!u->has_value()) return error(404, "no such user");
    return reply(200, userJson(**u));
  });

  t.add("PUT", "/api/v1/users/{name}", Access::kAdmin, [&d](RouteContext& c) {
    const std::string name = c.params["name"];
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    if (body->contains("name") && (*body)["name"] != name)
      return error(400, "a user cannot be renamed (name in the body differs from the path)");
    auto old = d.store.user(name);
    if (!old) return statusError(old.status());
    if (!old->has_value()) return error(404, "no such user");
    User u = **old;
    bool pw = false;
    if (std::string m = applyUserBody(*body, &u, &pw); !m.empty()) return error(400, m);
    if (Status s = d.store.write([&](StoreWriter& w) { return w.upsertUser(u); }); !s)
      return statusError(s);
    // Credentials or rights changed: cached logins and sessions end now.
    if (pw || u.role != (*old)->role) d.auth.endSessionsOf(name);
    json after = userJson(u);
    after["password_changed"] = pw;
    (void)d.audit.record(c.user().name, "user.update", name, userJson(**old), after);
    return reply(200, userJson(u));
  });

  // Self-service: any user changes their own password, proving the current
  // one (a stolen session alone cannot take the account over). Every session
  // and cached login of the user ends, this one included.
  t.add("POST", "/api/v1/users/{name}/password", Access::kAny, [&d](RouteContext& c) {
    const std::string name = c.params["name"];
    ApiResponse err;
    auto body = jsonBody(c.req, &err);
    if (!body) return err;
    bool bad = false;
    auto current = jsonString(*body, "current_password", &bad);
    auto next = jsonString(*body, "new_password", &bad);
    if (bad || !current || !next)
      return error(400, "body must be {\"current_password\": string, \"new_password\": string}");
    if (name != c.user().name)
      return error(
          403, "you can change only your own password (administrators: PUT /api/v1/users/{name})");
    if (next->size() < kMinPassword || next->size() > kMaxPassword)
      return error(400, "new_password must be 8..1024 characters");
    if (current->size() > kMaxPassword) return error(403, "the current password is wrong");
    if (Status s = d.auth.checkPassword(c.req, name, *current); !s) return statusError(s);
    auto old = d.store.user(name);
    if (!old) return statusError(old.status());
    if (!old->has_value()) return error(404, "no such user");
    User u = **old;
    u.password_hash = hashPassword(*next);
    if (Status s = d.store.write([&](StoreWriter& w) { return w.upsertUser(u); }); !s)
      return statusError(s);
    d.auth.endSessionsOf(name);
    json after = userJson(u);
    after["password_changed"] = true;
    (void)d.audit.record(name, "user.password", name, userJson(**old), after);
    ApiResponse r = noContent();
    if (c.principal->method == AuthMethod::kSession)
      r.headers.emplace_back("Set-Cookie", d.auth.clearedCookie(c.req.tls));
    return r;
  });

  t.add("DELETE", "/api/v1/users/{name}", Access::kAdmin, [&d](RouteContext& c) {
    const std::string name = c.params["name"];
    if (name == c.user().name) return error(409, "you cannot delete yourself");
    auto old = d.store.user(name);
    if (!old) return statusError(old.status());
    if (!old->has_value()) return error(404, "no such user");
    if (Status s = d.store.write([&](StoreWriter& w) { return w.deleteUser(name); }); !s)
      return statusError(s);
    d.auth.endSessionsOf(name);
    (void)d.audit.record(c.user().name, "user.delete", name, userJson(**old), nullptr);
    return noContent();
  });

  // --- CSV ---
  t.add("GET", "/api/v1/users.csv", Access::kAdmin, [&d](RouteContext&) {
    auto all = d.store.users();
    if (!all) return statusError(all.status());
    std::string out = "name,role,department,created_at\r\n";
    for (const auto& u : *all)
      out += csvField(u.name) + "," + roleName(u.role) + "," + csvField(u.department) + "," +
             std::to_string(u.created_at) + "\r\n";
    return csvReply(std::move(out));
  });

  // "name,role,department[,password]" per line; header line optional; all or
  // nothing. Existing users are updated; an empty password keeps theirs.
  t.add("POST", "/api/v1/users/import", Access::kAdmin, [&d](RouteContext& c) {
    struct Row {
      User user;
      std::optional<User> before;
    };
    std::vector<Row> rows;
    json errors = json::array();
    std::istringstream in(c.req.body);
    std::string line;
    int lineno = 0;
    std::set<std::string> seen;
    while (std::getline(in, line)) {
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
      auto cols = csvSplit(line);
      if (lineno == 1 && cols && !cols->empty() && (*cols)[0] == "name") continue;
      auto fail = [&](const std::string& m) { errors.push_back({{"line", lineno}, {"error", m}}); };
      if (!cols || cols->size() < 3 || cols->size() > 4) {
        fail("expected name,role,department[,password]");
        continue;
      }
      const auto& f = *cols;
      if (!validUserName(f[0])) {
        fail("name must be 1-64 of A-Z a-z 0-9 _ . @ -");
        continue;
      }
      if (!seen.insert(f[0]).second) {
        fail("user '" + f[0] + "' appears twice");
        continue;
      }
      auto role = parseRole(f[1]);
      if (!role) {
        fail("role must be user, admin or sustainability");
        continue;
      }
      if (f.size() == 4 && !f[3].empty() &&
          (f[3].size() < kMinPassword || f[3].size() > kMaxPassword)) {
        fail("password must be 8..1024 characters");
        continue;
      }
      auto old = d.store.user(f[0]);
      if (!old) return statusError(old.status());
      Row r;
      r.before = *old;
      r.user = old->has_value() ? **old : User{};
      r.user.name = f[0];
      r.user.role = *role;
      r.user.department = f[2];
      if (!old->has_value()) r.user.created_at = d.clock.now();
      if (f.size() == 4 && !f[3].empty()) r.user.password_hash = hashPassword(f[3]);
      rows.push_back(std::move(r));
    }
    if (!errors.empty()) return reply(400, {{"error", "nothing imported"}, {"lines", errors}});
    std::vector<AuditEntry> entries;
    for (const auto& r : rows)
      entries.push_back(d.audit.entry(c.user().name, "users.import", r.user.name,
                                      r.before ? userJson(*r.before) : json(nullptr),
                                      userJson(r.user)));
    // Users and their audit entries commit together.
    Status s = d.store.write([&](StoreWriter& w) {
      for (const auto& r : rows)
        if (Status u = w.upsertUser(r.user); !u) return u;
      for (const auto& e : entries)
        if (Status a = w.insertAudit(e); !a) return a;
      return Status::ok();
    });
    if (!s) return reply(httpStatusFor(s), {{"error", "nothing imported: " + s.message()}});
    int created = 0;
    for (const auto& r : rows) {
      if (!r.before) ++created;
      if (r.before) d.auth.endSessionsOf(r.user.name);
    }
    return reply(200, {{"imported", rows.size()},
                       {"created", created},
                       {"updated", static_cast<int>(rows.size()) - created}});
  });

  t.add("GET", "/api/v1/cards.csv", Access::kAdmin, [&d](RouteContext&) {
    auto all = d.store.allCards();
    if (!all) return statusError(all.status());
    std::string out = "uid,user,created_at,revoked_at,source\r\n";
    for (const auto& k : *all)
      out += csvField(k.uid) + "," + csvField(k.user) + "," + std::to_string(k.created_at) + "," +
             std::to_string(k.revoked_at) + "," + csvField(k.source) + "\r\n";
    return csvReply(std::move(out));
  });
}

}  // namespace pullprint::api
