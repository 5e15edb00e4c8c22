// The REST API on the wire, against a real pullprintd (tests/integration
// harness): Set-Cookie and other response headers reach the client, a
// browser-style session works end to end (login, cookie, CSRF, cancel a
// held job that was printed over IPP, logout), 204 has no body, and
// /metrics counts the held job and the IPP requests.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"

using namespace pullprint::itest;
using nlohmann::json;

namespace {

// One request on a new connection; `headers` are extra "Name: value\r\n" lines.
HttpResponse request(std::uint16_t port, const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& headers = "") {
  RawConn c(port);
  std::string head = method + " " + target +
                     " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nConnection: close\r\n" + headers;
  if (!body.empty() || method == "POST" || method == "PUT")
    head +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  REQUIRE(c.send(head + "\r\n" + body));
  return c.readResponse(10s);
}

}  // namespace

TEST_CASE("browser session over HTTP: cookie, CSRF, cancel, logout, metrics", "[api][http]") {
  PullprintServer srv;
  srv.addUser("root", "root-password", "admin");
  srv.addUser("alice", "alice-password");
  srv.start();
  INFO(srv.describe());

  // A held job, printed over IPP by alice (trusted loopback).
  PrintResult job = printJob(srv.port(), "alice", "hello\n", "followme", "text/plain");
  REQUIRE(job.jobId > 0);

  // --- Login: the cookie arrives as a real Set-Cookie header ---
  HttpResponse login = request(srv.port(), "POST", "/api/v1/session",
                               R"({"username":"alice","password":"alice-password"})");
  REQUIRE(login.status == 200);
  const std::string setCookie = login.header("set-cookie");
  CHECK(setCookie.find("HttpOnly") != std::string::npos);
  CHECK(setCookie.find("SameSite=Strict") != std::string::npos);
  CHECK(login.header("www-authenticate").empty());
  const std::string cookie = setCookie.substr(0, setCookie.find(';'));
  const std::string csrf = json::parse(login.body)["csrf_token"];

  HttpResponse me = request(srv.port(), "GET", "/api/v1/session", "", "Cookie: " + cookie + "\r\n");
  REQUIRE(me.status == 200);
  CHECK(json::parse(me.body)["user"]["name"] == "alice");

  HttpResponse held =
      request(srv.port(), "GET", "/api/v1/jobs?state=held", "", "Cookie: " + cookie + "\r\n");
  REQUIRE(held.status == 200);
  json page = json::parse(held.body);
  REQUIRE(page["total"] == 1);
  CHECK(page["jobs"][0]["id"] == job.jobId);

  // --- Metrics from loopback: the held job and the IPP request are counted ---
  HttpResponse m = request(srv.port(), "GET", "/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(m.body.find("pullprint_jobs_held 1\n") != std::string::npos);
  CHECK(m.body.find("pullprint_ipp_request_duration_seconds_count 0\n") == std::string::npos);

  // --- Cancel: without the CSRF header refused, with it done ---
  const std::string cancel = "/api/v1/jobs/" + std::to_string(job.jobId) + "/cancel";
  HttpResponse noCsrf = request(srv.port(), "POST", cancel, "", "Cookie: " + cookie + "\r\n");
  CHECK(noCsrf.status == 403);
  CHECK(json::parse(noCsrf.body)["error"] == "CSRF token missing or wrong");
  CHECK(jobRow(srv.database(), job.jobId)->state == "held");
  HttpResponse ok = request(srv.port(), "POST", cancel, "",
                            "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n");
  REQUIRE(ok.status == 200);
  CHECK(json::parse(ok.body)["state"] == "canceled");
  CHECK(jobRow(srv.database(), job.jobId)->state == "canceled");
  // IPP sees the same job state (one state machine).
  IppReply g = getJob(srv.port(), job.jobId, "alice");
  CHECK(g.ipp.integer("job-state").value_or(0) == 7);

  // --- Logout: 204 without a body, cookie cleared, session gone ---
  HttpResponse out = request(srv.port(), "DELETE", "/api/v1/session", "",
                             "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n");
  CHECK(out.status == 204);
  CHECK(out.body.empty());
  CHECK(out.header("set-cookie").find("Max-Age=0") != std::string::npos);
  CHECK(request(srv.port(), "GET", "/api/v1/session", "", "Cookie: " + cookie + "\r\n").status ==
        401);

  // --- Bearer token on the wire ---
  HttpResponse tok =
      request(srv.port(), "POST", "/api/v1/tokens", R"({"name":"ci"})",
              "Authorization: Basic cm9vdDpyb290LXBhc3N3b3Jk\r\n");  // root:root-password
  REQUIRE(tok.status == 201);
  const std::string token = json::parse(tok.body)["token"];
  HttpResponse audit = request(srv.port(), "GET", "/api/v1/audit?limit=10", "",
                               "Authorization: Bearer " + token + "\r\n");
  REQUIRE(audit.status == 200);
  CHECK(json::parse(audit.body)["entries"][0]["action"] == "token.create");
  HttpResponse noAuth = request(srv.port(), "GET", "/api/v1/audit");
  CHECK(noAuth.status == 401);
  CHECK(noAuth.header("www-authenticate").rfind("Basic", 0) == 0);
}
