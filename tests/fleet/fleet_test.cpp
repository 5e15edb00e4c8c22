// Fleet push and drift end to end, with real components only:
//  - a PAPPL printer application (tests/fleet/pappl_printer.c) serving three
//    printers: defaults set with IPP Set-Printer-Attributes and read back;
//  - a queue of a private cupsd in front of an ippeveprinter: defaults set with
//    CUPS-Add-Modify-Printer (as lpadmin -o sides=... does), proven by printing
//    through the queue with no sides option: the job arrives two-sided;
//  - a printer nobody listens for: reported unreachable after every attempt;
//  - drift: defaults changed behind pullprintd's back (Set-Printer-Attributes
//    straight to PAPPL, lpadmin to cupsd) show up with expected and actual
//    values; a second push repairs them;
//  - the routes: 401 / 403 / 400 / 409, validation, history, runtime swap.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;
using nlohmann::json;

namespace {

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

HttpResponse api(std::uint16_t port, const std::string& method, const std::string& path,
                 const std::string& body = "", const std::string& userpass = "admin:secret",
                 const std::string& type = "application/json") {
  RawConn c(port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!userpass.empty()) req += "Authorization: Basic " + base64(userpass) + "\r\n";
  req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
  REQUIRE(c.send(req));
  return c.readResponse(120s);
}

json parse(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  INFO(r.body);
  REQUIRE(!j.is_discarded());
  return j;
}

const json& resultOf(const json& run, const std::string& printer) {
  for (const auto& r : run["results"])
    if (r["printer"] == printer) return r;
  FAIL("no result for " << printer << " in " << run.dump());
  static json none;
  return none;
}

const json* settingOf(const json& result, const std::string& name) {
  for (const auto& s : result["settings"])
    if (s["name"] == name) return &s;
  return nullptr;
}

// One attribute of a printer, read with ipptool (not with pullprint's code).
std::string readDefault(const fs::path& dir, const std::string& uri, const std::string& name) {
  fs::path test = dir / "get-default.test";
  writeFile(test, R"({
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes $name
  STATUS successful-ok
  DISPLAY $name
})");
  auto r = runIppTool({"-tv", "-d", "name=" + name, uri, test.string()}, 20s);
  INFO(r.describe());
  REQUIRE(r.ok());
  std::string key = name + " (";
  auto at = r.out.find(key);
  if (at == std::string::npos) return "";
  auto eq = r.out.find("= ", at);
  auto end = r.out.find('\n', eq);
  return r.out.substr(eq + 2, end - eq - 2);
}

void setDefaultBehindTheBack(const fs::path& dir, const std::string& uri, const std::string& name,
                             const std::string& value) {
  fs::path test = dir / "set-default.test";
  // ipptool expands variables in values only, so the name is written in.
  writeFile(test, R"({
  OPERATION Set-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  GROUP printer-attributes-tag
  ATTR keyword )" + name +
                      R"( $value
  STATUS successful-ok
})");
  auto r = runIppTool({"-t", "-d", "value=" + value, uri, test.string()}, 20s);
  INFO(r.describe());
  REQUIRE(r.ok());
}

constexpr const char* kPolicyV1 = R"(version = 1
[defaults]
sides = "two-sided-long-edge"

[printer_defaults]
sides-default = "two-sided-long-edge"
print-color-mode-default = "monochrome"
)";

}  // namespace

TEST_CASE("fleet push over IPP and CUPS, unreachable printers, drift, and the routes") {
  TempDir work("fleet-test");

  // --- Real printers ---
  const std::uint16_t pappl_port = pickFreePort();
  fs::create_directories(work.path() / "pappl");
  ProcessOptions po;
  po.argv = {PAPPL_PRINTER_PATH, std::to_string(pappl_port), "3", (work.path() / "pappl").string()};
  po.logDir = work.path();
  Process pappl(po);
  REQUIRE(waitForTcpPort(pappl_port, 15s));
  auto papplUri = [&](int n) {
    return "ipp://127.0.0.1:" + std::to_string(pappl_port) + "/ipp/print/fleet-" +
           std::to_string(n);
  };

  IppEvePrinter duplex;  // two-sided capable, keeps what it receives
  PrivateCupsd cups;
  cups.addQueue("q1", duplex.uri());
  const std::uint16_t dead_port = pickFreePort();  // nobody listens here

  // --- pullprintd with the printers registered ---
  std::string toml = R"(
[fleet]
concurrency = 4
timeout_ms = 3000
attempts = 3
backoff_ms = 200
drift_interval_seconds = 0
)";
  for (int n = 1; n <= 3; ++n)
    toml += "[[printer]]\nname = \"pappl-" + std::to_string(n) + "\"\nuri = \"" + papplUri(n) +
            "\"\ngroup = \"lab\"\n";
  toml += "[[printer]]\nname = \"cups-q1\"\nuri = \"" + cups.queueUri("q1") +
          "\"\ngroup = \"office\"\n";
  toml += "[[printer]]\nname = \"gone\"\nuri = \"ipp://127.0.0.1:" + std::to_string(dead_port) +
          "/ipp/print\"\ngroup = \"lab\"\n";
  ServerOptions options;
  options.toml = toml;
  PullprintServer server(options);
  server.addUser("admin", "secret", "admin");
  server.addUser("alice", "alicepw", "user");
  server.start();
  const auto port = server.port();

  SECTION("routes refuse without authentication, to non-admins, and bad input") {
    CHECK(api(port, "GET", "/api/v1/policies", "", "").status == 401);
    CHECK(api(port, "POST", "/api/v1/fleet/push", "{}", "").status == 401);
    CHECK(api(port, "GET", "/api/v1/fleet/drift", "", "admin:wrong").status == 401);
    for (auto [m, p] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v1/policies"},
                                                          {"POST", "/api/v1/policies"},
                                                          {"POST", "/api/v1/policies/validate"},
                                                          {"GET", "/api/v1/policies/history"},
                                                          {"POST", "/api/v1/fleet/push"},
                                                          {"GET", "/api/v1/fleet/drift"},
                                                          {"POST", "/api/v1/fleet/check"}}) {
      INFO(m << " " << p);
      auto r = api(port, m, p, "version = 9\n", "alice:alicepw", "text/plain");
      CHECK(r.status == 403);
      CHECK(parse(r).contains("error"));
    }
    // No policy yet.
    CHECK(api(port, "GET", "/api/v1/policies").status == 404);
    CHECK(api(port, "POST", "/api/v1/fleet/push", "{}").status == 409);
    CHECK(api(port, "GET", "/api/v1/fleet/drift").status == 404);

    // Invalid policy: 400 with every error and its line; nothing stored.
    auto bad = api(port, "POST", "/api/v1/policies",
                   "version = 1\n[printer_defaults]\nsides-default = \"duplex\"\n", "admin:secret",
                   "text/plain");
    CHECK(bad.status == 400);
    auto bj = parse(bad);
    REQUIRE(bj["errors"].size() == 1);
    CHECK(bj["errors"][0]["line"] == 3);
    CHECK_THAT(bj["error"].get<std::string>(), Catch::Contains("policy:3:17: [printer_defaults]"));
    auto v = api(port, "POST", "/api/v1/policies/validate", "version = 0\n", "admin:secret",
                 "text/plain");
    CHECK(v.status == 400);
    CHECK(parse(v)["valid"] == false);
    CHECK(api(port, "POST", "/api/v1/policies", "").status == 400);
    CHECK(parse(api(port, "GET", "/api/v1/policies/history"))["versions"].empty());

    REQUIRE(api(port, "POST", "/api/v1/policies", kPolicyV1, "admin:secret", "text/plain").status ==
            201);
    CHECK(api(port, "POST", "/api/v1/fleet/push", "[1]").status == 400);
    CHECK(api(port, "POST", "/api/v1/fleet/push", R"({"group": 3})").status == 400);
    CHECK(api(port, "POST", "/api/v1/fleet/push", R"({"grup": "lab"})").status == 400);
    CHECK(api(port, "POST", "/api/v1/fleet/push", R"({"group": "nowhere"})").status == 404);
    CHECK(api(port, "GET", "/api/v1/policies/history?limit=x").status == 400);
    CHECK(api(port, "DELETE", "/api/v1/policies").status == 405);
    // Same version again: refused (409), the active policy stays.
    CHECK(api(port, "POST", "/api/v1/policies", kPolicyV1, "admin:secret", "text/plain").status ==
          409);
    CHECK(parse(api(port, "GET", "/api/v1/policies"))["version"] == 1);

    // A value the printer does not list in print-color-mode-supported is not
    // sent: unsupported, with the values it has.
    std::string v2 = "version = 2\n[printer_defaults]\nprint-color-mode-default = \"highlight\"\n";
    REQUIRE(api(port, "POST", "/api/v1/policies", v2, "admin:secret", "text/plain").status == 201);
    auto lab = parse(api(port, "POST", "/api/v1/fleet/push", R"({"group":"lab"})"));
    INFO(lab.dump());
    const auto& p1 = resultOf(lab, "pappl-1");
    CHECK(p1["status"] == "unsupported");
    CHECK(p1["settings"][0]["status"] == "unsupported");
    CHECK_THAT(p1["settings"][0]["message"].get<std::string>(),
               Catch::Contains("does not support highlight (print-color-mode-supported: auto"));
    CHECK(readDefault(work.path(), papplUri(1), "print-color-mode-default") == "color");
    // Refused: the printer answers with an error; its IPP status and message
    // are in the result (here: a printer the PAPPL server does not have).
    auto add = api(port, "POST", "/api/v1/printers",
                   R"({"name":"ghost","group":"ghosts","uri":"ipp://127.0.0.1:)" +
                       std::to_string(pappl_port) + R"(/ipp/print/nope"})");
    INFO(add.body);
    REQUIRE(add.status == 201);
    auto ghosts = parse(api(port, "POST", "/api/v1/fleet/push", R"({"group":"ghosts"})"));
    INFO(ghosts.dump());
    CHECK(resultOf(ghosts, "ghost")["status"] == "refused");
    CHECK_THAT(resultOf(ghosts, "ghost")["message"].get<std::string>(),
               Catch::Contains("Get-Printer-Attributes: client-error-not-found"));
    CHECK(resultOf(ghosts, "ghost")["attempts"] == 1);  // an answer is not retried
  }

  SECTION("push, read back, print through CUPS, unreachable, drift, repair, runtime swap") {
    // Validate, then upload: stored with version, sha256 and actor.
    auto val =
        api(port, "POST", "/api/v1/policies/validate", kPolicyV1, "admin:secret", "text/plain");
    REQUIRE(val.status == 200);
    CHECK(parse(val)["printer_defaults"].size() == 2);
    auto up = api(port, "POST", "/api/v1/policies", kPolicyV1, "admin:secret", "text/plain");
    REQUIRE(up.status == 201);
    auto upj = parse(up);
    CHECK(upj["version"] == 1);
    CHECK(upj["actor"] == "admin");
    CHECK(upj["sha256"].get<std::string>().size() == 64);

    // Before: PAPPL one-sided/colour, the CUPS queue one-sided.
    CHECK(readDefault(work.path(), papplUri(1), "print-color-mode-default") == "color");

    // --- Push to everything ---
    auto push = api(port, "POST", "/api/v1/fleet/push", "{}");
    INFO(push.body);
    REQUIRE(push.status == 200);
    auto run = parse(push);
    CHECK(run["printers"] == 5);
    CHECK(run["id"].get<int>() > 0);

    // (a) PAPPL over Set-Printer-Attributes: colour applied and read back;
    // PAPPL 1.3 does not list sides-default as settable: unsupported.
    for (int n = 1; n <= 3; ++n) {
      const auto& r = resultOf(run, "pappl-" + std::to_string(n));
      INFO(r.dump());
      CHECK(r["transport"] == "ipp");
      CHECK(r["status"] == "partial");
      const json* color = settingOf(r, "print-color-mode-default");
      REQUIRE(color);
      CHECK((*color)["status"] == "ok");
      CHECK((*color)["before"] == json::array({"color"}));
      CHECK((*color)["after"] == json::array({"monochrome"}));
      const json* sides = settingOf(r, "sides-default");
      REQUIRE(sides);
      CHECK((*sides)["status"] == "unsupported");
      CHECK(readDefault(work.path(), papplUri(n), "print-color-mode-default") == "monochrome");
    }

    // (b) The CUPS queue over CUPS-Add-Modify-Printer.
    const auto& q = resultOf(run, "cups-q1");
    INFO(q.dump());
    CHECK(q["transport"] == "cups");
    CHECK(q["status"] == "ok");
    CHECK(readDefault(work.path(), cups.queueUri("q1"), "sides-default") == "two-sided-long-edge");
    // Proven by output: a job with no sides option arrives two-sided.
    std::string pdf = smallPdf(work.path(), "fleet push", 2);
    writeFile(work.path() / "plain.pdf", pdf);
    int job = cups.lp("q1", work.path() / "plain.pdf");
    REQUIRE(job > 0);
    REQUIRE(duplex.waitForJobs(1, 60s));
    auto got = duplex.receivedJobs().at(0);
    INFO(duplex.describe());
    CHECK(got.sides == "two-sided-long-edge");

    // (c) Unreachable: every attempt made, then reported apart.
    const auto& gone = resultOf(run, "gone");
    CHECK(gone["status"] == "unreachable");
    CHECK(gone["attempts"] == 3);
    CHECK(gone["duration_ms"].get<int>() >= 600);  // 200 + 400 ms of backoff
    CHECK(run["ok"] == 1);
    CHECK(run["failed"] == 4);

    // Stored: the run is listed with its results.
    auto runs = parse(api(port, "GET", "/api/v1/fleet/pushes?limit=5"));
    REQUIRE(runs["runs"].size() == 1);
    CHECK(runs["runs"][0]["results"].size() == 5);

    // A group push touches only that group.
    auto office = parse(api(port, "POST", "/api/v1/fleet/push", R"({"group":"office"})"));
    CHECK(office["printers"] == 1);
    CHECK(office["results"][0]["printer"] == "cups-q1");

    // --- Drift: changed behind pullprintd's back ---
    setDefaultBehindTheBack(work.path(), papplUri(2), "print-color-mode-default", "color");
    auto lp = cups.runTool({"lpadmin", "-p", "q1", "-o", "sides=one-sided"});
    INFO(lp.describe());
    REQUIRE(lp.ok());
    auto check = api(port, "POST", "/api/v1/fleet/check");
    INFO(check.body);
    REQUIRE(check.status == 200);
    auto drift = parse(api(port, "GET", "/api/v1/fleet/drift"));
    INFO(drift.dump());
    CHECK(drift == parse(check));  // the stored report is the one returned
    auto driftOf = [&](const std::string& printer) -> json {
      for (const auto& d : drift["drifted"])
        if (d["printer"] == printer) return d;
      return json();
    };
    json p2 = driftOf("pappl-2");
    REQUIRE(p2.is_object());
    bool color_found = false;
    for (const auto& d : p2["differences"])
      if (d["name"] == "print-color-mode-default") {
        color_found = true;
        CHECK(d["expected"] == "monochrome");
        CHECK(d["actual"] == json::array({"color"}));
        CHECK(d["settable"] == true);
      }
    CHECK(color_found);
    json q1 = driftOf("cups-q1");
    REQUIRE(q1.is_object());
    REQUIRE(q1["differences"].size() == 1);
    CHECK(q1["differences"][0]["name"] == "sides-default");
    CHECK(q1["differences"][0]["expected"] == "two-sided-long-edge");
    CHECK(q1["differences"][0]["actual"] == json::array({"one-sided"}));
    // pappl-1 still has the pushed colour; only its unsettable sides differ.
    json p1 = driftOf("pappl-1");
    REQUIRE(p1["differences"].size() == 1);
    CHECK(p1["differences"][0]["settable"] == false);
    REQUIRE(drift["unreachable"].size() == 1);
    CHECK(drift["unreachable"][0]["printer"] == "gone");

    // A second push repairs what can be repaired.
    auto again = parse(api(port, "POST", "/api/v1/fleet/push", "{}"));
    CHECK(resultOf(again, "cups-q1")["status"] == "ok");
    CHECK(readDefault(work.path(), papplUri(2), "print-color-mode-default") == "monochrome");
    auto after = parse(api(port, "POST", "/api/v1/fleet/check"));
    CHECK(after["compliant"] == json::array({"cups-q1"}));

    // The DESIGN.md pitfall done by hand (lpadmin -o sides-default=...): cupsd
    // then reports two values; drift shows both and a push removes the stray one.
    auto stray = cups.runTool({"lpadmin", "-p", "q1", "-o", "sides-default=one-sided"});
    REQUIRE(stray.ok());
    auto two = parse(api(port, "POST", "/api/v1/fleet/check"));
    bool two_values = false;
    for (const auto& d : two["drifted"])
      if (d["printer"] == "cups-q1") two_values = d["differences"][0]["actual"].size() == 2;
    CHECK(two_values);
    CHECK(resultOf(parse(api(port, "POST", "/api/v1/fleet/push", R"({"group":"office"})")),
                   "cups-q1")["status"] == "ok");
    CHECK(parse(api(port, "POST", "/api/v1/fleet/check"))["compliant"] == json::array({"cups-q1"}));

    // --- Runtime swap: version 2 denies everything at submit ---
    std::string v2 = std::string(kPolicyV1).replace(0, 11, "version = 2") +
                     "\n[[rule]]\nname = \"closed\"\ndeny = \"printing is closed today\"\n";
    auto up2 = api(port, "POST", "/api/v1/policies", v2, "admin:secret", "text/plain");
    INFO(up2.body);
    REQUIRE(up2.status == 201);
    auto denied = printJob(port, "alice", pdf);
    CHECK(denied.jobId == 0);
    CHECK_THAT(denied.reply.ipp.string("status-message").value_or(""),
               Catch::Contains("printing is closed today"));
    auto hist = parse(api(port, "GET", "/api/v1/policies/history"));
    REQUIRE(hist["versions"].size() == 2);
    CHECK(hist["active"] == 2);
    CHECK(hist["versions"][0]["version"] == 2);
    CHECK(hist["versions"][1]["actor"] == "admin");
    auto one = parse(api(port, "GET", "/api/v1/policies/history?version=1"));
    CHECK(one["document"] == kPolicyV1);

    // A restart keeps the uploaded version active (the store wins over no file).
    server.stop();
    server.start();
    CHECK(parse(api(server.port(), "GET", "/api/v1/policies"))["version"] == 2);
    CHECK(printJob(server.port(), "alice", pdf).jobId == 0);
  }
}
