// The web pages in a real headless Chromium (chromedriver, WebDriver) against
// the real pullprintd, with jobs submitted by ipptool and printed by a real
// ippeveprinter. Screenshots go to build/tests/web/artifacts/ (docs/testing.md).
//
// Every wait is for a condition with a deadline; nothing sleeps a fixed time.
#include <catch2/catch.hpp>

#include <numeric>

#include "tests/release/release_support.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/wait.h"
#include "tests/support/webdriver.h"

#ifndef PULLPRINT_WEB_ARTIFACTS_DIR
#error "PULLPRINT_WEB_ARTIFACTS_DIR must name the screenshot directory"
#endif

using namespace pullprint;
using namespace pullprint::rtest;
using testing::Browser;
using testing::IppEvePrinter;
using testing::TempDir;

namespace {

const std::string kAdmin = "admin:admin-password";

// pullprintd with one printer ("eve", an ippeveprinter) and four people:
// alice and bob (users, different departments), admin, and susan
// (sustainability office).
struct Site {
  IppEvePrinter printer;
  ReleaseServer server;
  TempDir work{"pullprint-web-test"};

  Site() : server(options(printer.uri())) {
    addUser("alice", "alice-password", "user", "Chemistry");
    addUser("bob", "bob-password", "user", "Physics");
    addUser("admin", "admin-password", "admin", "IT");
    addUser("susan", "susan-password", "sustainability", "Estates");
    server.start();
  }

  static ReleaseServerOptions options(const std::string& printerUri) {
    ReleaseServerOptions o;
    o.logLevel = "info";
    o.toml = "[release]\npoll_interval_ms = 50\n\n[[printer]]\nname = \"eve\"\nuri = \"" +
             printerUri + "\"\nlocation = \"Library, 2nd floor\"\n";
    return o;
  }

  void addUser(const std::string& name, const std::string& password, const std::string& role,
               const std::string& department) {
    testing::RunOptions ro;
    ro.stdinData = password + "\n";
    auto r = testing::runCommand({PULLPRINTD_PATH, "--state-dir", server.stateDir().string(),
                                  "--config", server.configPath().string(), "--add-user", name,
                                  "--role", role, "--department", department},
                                 30s, ro);
    if (!r.ok()) throw std::runtime_error("--add-user failed: " + r.describe());
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  // Print-Job through ipptool as `owner`; returns the job id once the job is
  // held and its counts are known.
  std::int64_t submit(const std::string& owner, const std::string& name, int pages,
                      const std::string& sides = "one-sided", int copies = 1) {
    fs::path pdf = work / (name + ".pdf");
    testing::makePdf(pdf, pages, name);
    fs::path test = work / "print-job.test";
    testing::writeFile(test, R"({
  NAME "Print-Job to the follow-me queue"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $owner
  ATTR name job-name $jobname
  ATTR mimeMediaType document-format application/pdf
  GROUP job-attributes-tag
  ATTR keyword sides $sides
  ATTR integer copies $copies
  FILE $filename
  STATUS successful-ok
  DISPLAY job-id
})");
    auto r = testing::runIppTool({"-t", "-d", "owner=" + owner, "-d", "jobname=" + name, "-d",
                                  "sides=" + sides, "-d", "copies=" + std::to_string(copies), "-f",
                                  pdf.string(), server.uri("followme"), test.string()},
                                 30s);
    INFO(r.describe());
    REQUIRE(r.ok());
    auto ids = testing::ippToolValues(r.out, "job-id");
    REQUIRE(!ids.empty());
    std::int64_t id = std::stoll(ids.front());
    json held = waitJob(server.port(), kAdmin, id,
                        [](const json& j) { return j["state"] == "held" && analysed()(j); });
    INFO(held.dump());
    REQUIRE(held["state"] == "held");
    return id;
  }
};

std::filesystem::path artifacts() { return testing::webArtifactDir(PULLPRINT_WEB_ARTIFACTS_DIR); }

void login(Browser& b, const Site& site, const std::string& user, const std::string& password) {
  b.navigate(site.base() + "/login");
  REQUIRE(b.waitForScript("return !document.getElementById('login-submit').disabled;", 10s));
  b.type(b.find("#username"), user);
  b.type(b.find("#password"), password);
  b.click(b.find("#login-submit"));
}

bool pageReady(Browser& b) {
  return b.waitForScript("return document.body.dataset.ready === 'true';", 15s);
}

// Console entries at level SEVERE (script errors, CSP violations, failed
// loads), except the expected 401 of "am I signed in?" on the login page.
std::vector<std::string> severe(Browser& b) {
  std::vector<std::string> out;
  for (const auto& e : b.consoleLog()) {
    std::string m = e.value("message", "");
    if (e.value("level", "") != "SEVERE") continue;
    if (m.find("/api/v1/session - Failed to load resource") != std::string::npos &&
        m.find("status of 401") != std::string::npos)
      continue;
    out.push_back(m);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("the login page renders under the Content-Security-Policy, which blocks inline script",
          "[web][browser]") {
  Site site;
  Browser b;
  INFO(site.server.describe() << b.describe());
  b.navigate(site.base() + "/");
  REQUIRE(b.waitForScript("return !document.getElementById('login-submit').disabled;", 10s));
  CHECK(b.title() == "Sign in · pullprint");
  CHECK(b.displayed(b.find("#username")));
  CHECK(b.execute("return getComputedStyle(document.body).margin;") == "0px");  // app.css loaded
  CHECK(joined(severe(b)) == "");

  // An injected inline script does not run: the policy is enforced.
  json ran = b.execute(
      "const s = document.createElement('script'); s.textContent = 'window.__inline = 1;';"
      "document.head.append(s); return window.__inline === 1;");
  CHECK(ran == false);
  CHECK(joined(severe(b)).find("Content Security Policy") != std::string::npos);

  // The headers arrive on the wire (same-origin: every header is readable).
  json h = b.execute(
      "const r = new XMLHttpRequest(); r.open('GET', '/static/chart.min.js', false); r.send();"
      "const g = (n) => r.getResponseHeader(n);"
      "return {status: r.status, type: g('Content-Type'), frame: g('X-Frame-Options'),"
      " nosniff: g('X-Content-Type-Options'), referrer: g('Referrer-Policy'),"
      " csp: g('Content-Security-Policy'), cache: g('Cache-Control'), etag: g('ETag'),"
      " chart: typeof window.Chart};");
  INFO(h.dump());
  CHECK(h["status"] == 200);
  CHECK(h["type"] == "text/javascript; charset=utf-8");
  CHECK(h["frame"] == "DENY");
  CHECK(h["nosniff"] == "nosniff");
  CHECK(h["referrer"] == "no-referrer");
  CHECK(h["csp"].get<std::string>().find("frame-ancestors 'none'") != std::string::npos);
  CHECK(h["cache"] == "no-cache");
  CHECK(h["etag"].get<std::string>().size() == 34);
  CHECK(h["chart"] == "undefined");  // the login page does not load Chart.js

  b.setWindowSize(390, 844);  // a phone
  b.screenshot(artifacts() / "login-phone.png");
}

// [sessions]: needs GET /api/v1/session to answer 401 without a Basic
// challenge (a challenge makes Chromium hold the request for a password).
TEST_CASE("without a session every page sends the browser to the login page, scripts load cleanly",
          "[web][browser][sessions]") {
  Site site;
  Browser b;
  INFO(site.server.describe() << b.describe());
  for (const char* page : {"/portal", "/dashboard", "/admin"}) {
    INFO(page);
    b.navigate(site.base() + page);
    CHECK(b.waitForPath("/login", 10s));
    // Each page's module graph parsed and ran (a syntax error or a refused
    // script would be a SEVERE console entry).
    std::string errors = joined(severe(b));
    CHECK(errors.find("SyntaxError") == std::string::npos);
    CHECK(errors.find("Refused") == std::string::npos);
  }
  // Unknown static files are 404 from the table.
  json status = b.execute(
      "const r = new XMLHttpRequest(); r.open('GET', '/static/../../etc/passwd', false); r.send();"
      "const s = new XMLHttpRequest(); s.open('GET', '/static/nope.js', false); s.send();"
      "return [r.status, s.status];");
  CHECK(status == json::array({404, 404}));
}

TEST_CASE("a user logs in, sees a held job, releases it, and it arrives at the printer",
          "[web][browser][sessions]") {
  Site site;
  const auto id = site.submit("alice", "thesis-draft", 3, "two-sided-long-edge", 1);
  Browser b;
  INFO(site.server.describe() << site.printer.describe() << b.describe());

  login(b, site, "alice", "alice-password");
  REQUIRE(b.waitForPath("/portal", 10s));
  REQUIRE(pageReady(b));
  const std::string row = "#held tr[data-job-id='" + std::to_string(id) + "']";
  REQUIRE(b.waitForVisible(row, 10s));
  std::string text = b.text(b.find(row));
  CHECK(text.find("thesis-draft") != std::string::npos);
  CHECK(b.property(b.find("#printer"), "value") == "eve");
  CHECK(b.text(b.find("#who")).find("alice") != std::string::npos);
  b.screenshot(artifacts() / "portal-held.png");
  REQUIRE(site.printer.receivedJobCount() == 0);

  b.click(b.find(row + " button.release-one"));
  REQUIRE(site.printer.waitForJobs(1, 20s));
  auto got = site.printer.receivedJobs().at(0);
  CHECK(got.user == "alice");
  CHECK(got.jobName.find("thesis-draft") != std::string::npos);

  // The job leaves the held list and shows in the history.
  CHECK(b.waitUntil([&] { return !b.tryFind(row); }, 10s));
  CHECK(b.text(b.find("#status")).find("Sent 1 job to eve") != std::string::npos);
  json done = waitJob(site.server.port(), kAdmin, id, stateIs("completed"));
  CHECK(done["state"] == "completed");
  b.click(b.find("#refresh"));
  CHECK(b.waitForScript("return [...document.querySelectorAll('#history tr[data-job-id=\"" +
                            std::to_string(id) +
                            "\"]')].some(r => r.textContent.includes('completed'));",
                        10s));
  // Own savings now count the printed job: 3 pages two-sided = 2 sheets.
  CHECK(
      b.waitForScript("return document.getElementById('saved-printed').textContent === '2';", 10s));

  // Card registration: the 2-minute instructions.
  b.click(b.find("#register-card"));
  REQUIRE(b.waitForVisible("#card-instructions", 10s));
  CHECK(b.text(b.find("#card-instructions")).find("Within the next 2 minutes") !=
        std::string::npos);
  b.screenshotFullPage(artifacts() / "portal-released.png");
  b.setWindowSize(390, 844);
  b.screenshot(artifacts() / "portal-phone.png");
  CHECK(joined(severe(b)) == "");
}

TEST_CASE("wrong password is refused, logout ends the session, users see only their own jobs",
          "[web][browser][sessions]") {
  Site site;
  const auto alices = site.submit("alice", "alice-private", 1);
  const auto bobs = site.submit("bob", "bob-report", 2);
  Browser b;
  INFO(site.server.describe() << b.describe());

  // Wrong password: an error, no navigation, no session.
  login(b, site, "bob", "not-his-password");
  REQUIRE(b.waitForVisible("#login-error", 10s));
  CHECK(b.text(b.find("#login-error")) == "Wrong user name or password.");
  CHECK(b.execute("return location.pathname;") == "/login");
  b.screenshot(artifacts() / "login-wrong-password.png");

  // Right password: bob's portal shows his job and not alice's.
  b.clear(b.find("#username"));
  login(b, site, "bob", "bob-password");
  REQUIRE(b.waitForPath("/portal", 10s));
  REQUIRE(pageReady(b));
  REQUIRE(b.waitForVisible("#held tr[data-job-id='" + std::to_string(bobs) + "']", 10s));
  CHECK_FALSE(b.tryFind("tr[data-job-id='" + std::to_string(alices) + "']"));
  CHECK(b.execute("return document.body.textContent.includes('alice-private');") == false);
  // Asking the API directly from bob's session does not reveal alice's job.
  json probe = b.execute(
      "const r = new XMLHttpRequest(); r.open('GET', '/api/v1/jobs/' + arguments[0], false);"
      "r.send(); return r.status;",
      json::array({alices}));
  CHECK(probe == 404);
  // An unsafe request without the CSRF token is refused, with it accepted.
  json csrf = b.execute(
      "const post = (token) => { const r = new XMLHttpRequest();"
      " r.open('POST', '/api/v1/cards/register-intent', false);"
      " r.setRequestHeader('Content-Type', 'application/json');"
      " if (token) r.setRequestHeader('X-CSRF-Token', token); r.send('{}'); return r.status; };"
      "const s = new XMLHttpRequest(); s.open('GET', '/api/v1/session', false); s.send();"
      "return [post(null), post(JSON.parse(s.responseText).csrf_token)];");
  CHECK(csrf == json::array({403, 201}));
  // Pages an ordinary user may not use send him home.
  b.navigate(site.base() + "/admin");
  CHECK(b.waitForPath("/portal", 10s));

  // Logout: back to the login page; the session is gone server-side.
  REQUIRE(pageReady(b));
  b.click(b.find("#logout"));
  REQUIRE(b.waitForPath("/login", 10s));
  json after = b.execute(
      "const r = new XMLHttpRequest(); r.open('GET', '/api/v1/session', false); r.send();"
      "return r.status;");
  CHECK(after == 401);
  b.navigate(site.base() + "/portal");
  CHECK(b.waitForPath("/login", 10s));
  CHECK(joined(severe(b)).find("Content Security Policy") == std::string::npos);
}

TEST_CASE("a user changes their password in the portal; the old one stops working",
          "[web][browser][sessions]") {
  Site site;
  Browser b;
  INFO(site.server.describe() << b.describe());
  login(b, site, "bob", "bob-password");
  REQUIRE(b.waitForPath("/portal", 10s));
  REQUIRE(pageReady(b));

  // A wrong current password: a clear message, nothing changed, still signed in.
  b.type(b.find("#current-password"), "not-his-password");
  b.type(b.find("#new-password"), "bob-new-password");
  b.click(b.find("#change-password"));
  REQUIRE(b.waitForVisible("#password-status", 10s));
  CHECK(b.text(b.find("#password-status")) ==
        "Password not changed: the current password is wrong");
  CHECK(b.execute("return location.pathname;") == "/portal");
  b.execute("document.getElementById('password-h').scrollIntoView();");
  b.screenshot(artifacts() / "portal-password-wrong.png");

  // The right one: changed, and back to the sign-in page.
  b.clear(b.find("#current-password"));
  b.clear(b.find("#new-password"));
  b.type(b.find("#current-password"), "bob-password");
  b.type(b.find("#new-password"), "bob-new-password");
  b.click(b.find("#change-password"));
  REQUIRE(b.waitForPath("/login", 10s));
  b.screenshot(artifacts() / "password-changed.png");

  login(b, site, "bob", "bob-password");
  REQUIRE(b.waitForVisible("#login-error", 10s));
  CHECK(b.execute("return location.pathname;") == "/login");
  b.clear(b.find("#username"));
  login(b, site, "bob", "bob-new-password");
  CHECK(b.waitForPath("/portal", 10s));
  CHECK(joined(severe(b)).find("Content Security Policy") == std::string::npos);
}

TEST_CASE("the dashboard draws charts whose totals equal the summary report",
          "[web][browser][sessions]") {
  Site site;
  // Seed: alice prints a 2-page two-sided job twice (2 copies: 4 sides on 2
  // sheets), cancels a 3-page job, leaves a 1-page job held; bob prints 4
  // pages one-sided.
  const auto a1 = site.submit("alice", "duplex-copies", 2, "two-sided-long-edge", 2);
  const auto a2 = site.submit("alice", "cancelled", 3);
  site.submit("alice", "still-held", 1);
  const auto b1 = site.submit("bob", "one-sided", 4);
  const int port = site.server.port();
  REQUIRE(httpRequest(port, "POST", "/api/v1/release",
                      R"({"printer":"eve","user":"alice","jobs":[)" + std::to_string(a1) + "]}",
                      kAdmin)
              .status == 200);
  REQUIRE(waitJob(port, kAdmin, a1, stateIs("completed"))["state"] == "completed");
  REQUIRE(httpRequest(port, "POST", "/api/v1/release",
                      R"({"printer":"eve","user":"bob","jobs":[)" + std::to_string(b1) + "]}",
                      kAdmin)
              .status == 200);
  REQUIRE(waitJob(port, kAdmin, b1, stateIs("completed"))["state"] == "completed");
  REQUIRE(httpRequest(port, "POST", "/api/v1/jobs/" + std::to_string(a2) + "/cancel", "",
                      "alice:alice-password")
              .status == 200);

  Browser b;
  INFO(site.server.describe() << b.describe());
  login(b, site, "susan", "susan-password");
  REQUIRE(b.waitForPath("/dashboard", 10s));
  REQUIRE(pageReady(b));
  const std::string from = b.property(b.find("#from"), "value");
  const std::string to = b.property(b.find("#to"), "value");

  // What the API says for the same range.
  auto api = httpRequest(port, "GET",
                         "/api/v1/reports/summary?from=" + from + "&to=" + to + "&group_by=month",
                         "", kAdmin);
  REQUIRE(api.status == 200);
  json report = api.parsed();
  const json& t = report["total"];
  INFO(report.dump());
  // Independently: 2 + 4 sheets printed, 2 saved by two-sided, 3 never printed.
  CHECK(t["sheets_printed"]["known"] == 6);
  CHECK(t["sheets_saved_by_duplex"]["known"] == 2);
  CHECK(t["paper_saved_sheets"]["known"] == 3);

  auto cell = [&](const std::string& key) {
    return b.execute("return document.querySelector('#totals tr[data-key=\"" + key +
                     "\"] td.num').dataset.value;");
  };
  CHECK(cell("jobs_submitted") == std::to_string(t["jobs_submitted"].get<int>()));
  for (const char* key : {"pages_submitted", "pages_printed", "sheets_printed",
                          "sheets_saved_by_duplex", "paper_saved_sheets", "paper_saved_pages",
                          "pages_printed_colour", "pages_printed_monochrome"}) {
    INFO(key);
    CHECK(cell(key) == std::to_string(t[key]["known"].get<std::int64_t>()));
  }
  CHECK(cell("cancelled_by_owner") ==
        std::to_string(t["never_printed"]["cancelled_by_owner"]["sheets"]["known"].get<int>()));

  // Charts: Chart.js instances on real canvases, data equal to the report.
  json time = b.execute(
      "const c = Chart.getChart('chart-time'); if (!c) return null;"
      "return {w: c.canvas.width, h: c.canvas.height, labels: c.data.labels,"
      " sets: c.data.datasets.map(d => ({label: d.label, data: d.data}))};");
  REQUIRE(time.is_object());
  CHECK(time["w"].get<int>() > 100);
  CHECK(time["h"].get<int>() > 100);
  auto sum = [](const json& arr) {
    std::int64_t s = 0;
    for (const auto& v : arr) s += v.get<std::int64_t>();
    return s;
  };
  REQUIRE(time["sets"].size() == 3);
  CHECK(sum(time["sets"][0]["data"]) == t["sheets_printed"]["known"].get<std::int64_t>());
  CHECK(sum(time["sets"][1]["data"]) == t["paper_saved_sheets"]["known"].get<std::int64_t>());
  CHECK(sum(time["sets"][2]["data"]) == t["sheets_saved_by_duplex"]["known"].get<std::int64_t>());
  CHECK(time["labels"].size() == report["groups"].size());

  json breakdown = b.execute(
      "const c = Chart.getChart('chart-breakdown');"
      "return c ? {labels: c.data.labels, printed: c.data.datasets[0].data} : null;");
  REQUIRE(breakdown.is_object());
  auto labels = breakdown["labels"].get<std::vector<std::string>>();
  CHECK(std::find(labels.begin(), labels.end(), "Chemistry") != labels.end());
  CHECK(std::find(labels.begin(), labels.end(), "Physics") != labels.end());
  CHECK(sum(breakdown["printed"]) == t["sheets_printed"]["known"].get<std::int64_t>());

  // Environmental equivalents with their sources; the CSV link for the range.
  CHECK(b.findAll("#environment tbody tr").size() == report["factors"].size());
  CHECK(b.text(b.find("#environment")).find("PaperCut") != std::string::npos);
  std::string csv = b.property(b.find("#csv"), "href");
  CHECK(csv.find("/api/v1/reports/summary.csv?from=" + from + "&to=" + to) != std::string::npos);
  b.screenshot(artifacts() / "dashboard.png");
  b.screenshotFullPage(artifacts() / "dashboard-full.png");
  b.setWindowSize(390, 844);
  b.screenshot(artifacts() / "dashboard-phone.png");
  CHECK(joined(severe(b)) == "");
}

TEST_CASE("the admin console lists printers and jobs, adds a printer, cancels a job",
          "[web][browser][sessions]") {
  Site site;
  const auto id = site.submit("alice", "admin-cancels-this", 1);
  Browser b;
  INFO(site.server.describe() << b.describe());
  login(b, site, "admin", "admin-password");
  REQUIRE(b.waitForPath("/admin", 10s));
  REQUIRE(pageReady(b));
  REQUIRE(b.waitForVisible("#printers tr[data-printer='eve']", 10s));
  std::string text = b.text(b.find("#printers tr[data-printer='eve']"));
  CHECK(text.find("Library, 2nd floor") != std::string::npos);
  CHECK(text.find(site.printer.uri()) != std::string::npos);
  b.screenshot(artifacts() / "admin.png");

  // Add a printer through the form (POST with the CSRF token).
  b.type(b.find("#p-name"), "eve-annex");
  b.type(b.find("#p-uri"), site.printer.uri());
  b.type(b.find("#p-location"), "Annex");
  b.click(b.find("#printer-form button[type=submit]"));
  CHECK(b.waitForVisible("#printers tr[data-printer='eve-annex']", 15s));

  // The held job is listed with its owner; Cancel (after confirm()) cancels it.
  const std::string row = "#jobs tr[data-job-id='" + std::to_string(id) + "']";
  REQUIRE(b.waitForVisible(row, 10s));
  CHECK(b.text(b.find(row)).find("alice") != std::string::npos);
  b.click(b.find(row + " button.danger"));
  b.acceptAlert();
  json cancelled = waitJob(site.server.port(), kAdmin, id, stateIs("canceled"), 10s);
  CHECK(cancelled["state"] == "canceled");
  CHECK(b.waitForScript("const r = document.querySelector(\"" + row +
                            "\"); return r && r.textContent.includes('canceled');",
                        10s));

  // Sections whose routes this server lacks (or that have nothing yet, e.g.
  // no active policy) say so in their message region instead of staying blank.
  for (const char* sec : {"#fleet-section", "#policies-section"}) {
    INFO(sec);
    auto message = b.find(std::string(sec) + " .message");
    bool data = !b.findAll(std::string(sec) + " .data table, " + sec + " .data dl").empty();
    CHECK((data || (b.displayed(message) && !b.text(message).empty())));
  }
  // Without the fleet routes the message names the missing route.
  if (auto m = b.text(b.find("#fleet-section .message"));
      m.find("does not offer") != std::string::npos)
    CHECK(m.find("GET /api/v1/fleet/drift (404)") != std::string::npos);
  CHECK(joined(severe(b)).find("Content Security Policy") == std::string::npos);
  b.screenshotFullPage(artifacts() / "admin-full.png");
}
