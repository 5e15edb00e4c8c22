// Release engine end to end: a held job goes from pullprintd to a real printer
// (ippeveprinter directly, or a private cupsd queue in front of one) and is
// accounted. Also the direct queue and IPP Release-Job on a per-printer queue.
//
// Everything runs on 127.0.0.1 with picked ports; no fixed sleeps (every wait
// is for a condition, with a deadline).
#include <cups/ipp.h>
#include <catch2/catch.hpp>

#include "tests/release/release_support.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::rtest;
using testing::IppEvePrinter;
using testing::IppEvePrinterOptions;
using testing::PrivateCupsd;
using testing::TempDir;

namespace {

const std::string kAlice = "alice:alice-password";
const std::string kAdmin = "admin:admin-password";

std::string printerToml(const std::string& name, const std::string& uri) {
  return "[[printer]]\nname = \"" + name + "\"\nuri = \"" + uri + "\"\nlocation = \"test\"\n\n";
}

// A server with alice (user) and admin (admin) in its store, started.
void startWithUsers(ReleaseServer& server) {
  server.addUser("alice", "alice-password");
  server.addUser("admin", "admin-password", "admin");
  server.start();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a released job reaches ippeveprinter byte-identical with its ticket and is accounted",
          "[release][ippeveprinter]") {
  IppEvePrinter printer;  // -2 duplex, colour, keeps files, records IPP_* per job
  ReleaseServerOptions so;
  so.toml = "[release]\npoll_interval_ms = 50\n\n" + printerToml("eve", printer.uri());
  ReleaseServer server(so);
  startWithUsers(server);
  INFO(server.describe() << printer.describe());

  TempDir work("release-e2e");
  const auto pdf = work / "three-pages.pdf";
  testing::makePdf(pdf, 3);
  IppJobOptions o;
  o.sides = "two-sided-long-edge";
  o.colorMode = "monochrome";
  o.copies = 2;
  IppResult submitted = ippPrintJob(server.port(), pdf, o);
  INFO("Print-Job: " << submitted.status << " " << submitted.message);
  REQUIRE(submitted.ok());
  REQUIRE(submitted.jobId > 0);
  const auto id = submitted.jobId;

  // Held, and analysed: 3 pages, two-sided, 2 copies = 6 impressions on 4 sheets.
  json held = waitJob(server.port(), kAlice, id,
                      [](const json& j) { return j["state"] == "held" && analysed()(j); });
  INFO("held job: " << held.dump());
  REQUIRE(held["state"] == "held");
  CHECK(held["pages"] == 3);
  CHECK(held["impressions_total"] == 6);
  CHECK(held["sheets"] == 4);
  CHECK(printer.receivedJobCount() == 0);  // nothing printed without a release

  HttpResult rel = releaseJobs(server.port(), kAlice, "eve", "alice", {id});
  INFO("release: " << rel.status << " " << rel.body);
  REQUIRE(rel.status == 200);
  CHECK(rel.parsed()["jobs"] == json::array({id}));

  REQUIRE(printer.waitForJobs(1, 20s));
  auto got = printer.receivedJobs().at(0);
  CHECK(sha256File(got.file) == sha256File(pdf));
  CHECK(sha256File(got.file) == held["sha256"].get<std::string>());
  CHECK(got.sides == "two-sided-long-edge");
  CHECK(got.colorMode == "monochrome");
  CHECK(got.copies == 2);
  CHECK(got.user == "alice");
  CHECK(contains(got.jobName, "(pullprint " + std::to_string(id) + ".1)"));

  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  INFO("completed job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  CHECK(done["printer"] == "eve");
  CHECK(done["printer_job_id"] == got.jobId);
  REQUIRE(done["usage"].size() == 1);
  const json& u = done["usage"][0];
  CHECK(u["printer"] == "eve");
  CHECK(u["impressions"] == 6);
  CHECK(u["sheets"] == 4);
  CHECK(u["pages"] == 3);
  CHECK(u["copies"] == 2);
  CHECK(u["two_sided"] == true);
  CHECK(u["color_mode"] == "monochrome");
  // Printed: the spool copy is no longer needed.
  CHECK(testing::waitFor([&] { return !fs::exists(server.documentPath(id)); }, 5s));
  CHECK(printer.receivedJobCount() == 1);
}

TEST_CASE("a released job reaches a printer through a private cupsd queue and completes",
          "[release][cupsd]") {
  PrivateCupsd cups;
  IppEvePrinter printer;
  cups.addQueue("Q", printer.uri());  // -m everywhere; waits for the PPD
  ReleaseServerOptions so;
  so.toml = "[release]\npoll_interval_ms = 100\n\n" + printerToml("office", cups.queueUri("Q"));
  ReleaseServer server(so);
  startWithUsers(server);
  INFO(server.describe() << cups.describe() << printer.describe());

  TempDir work("release-cups");
  const auto pdf = work / "two-pages.pdf";
  testing::makePdf(pdf, 2);
  IppResult submitted = ippPrintJob(server.port(), pdf, IppJobOptions{});
  REQUIRE(submitted.ok());
  const auto id = submitted.jobId;
  json held = waitJob(server.port(), kAlice, id,
                      [](const json& j) { return j["state"] == "held" && analysed()(j); });
  REQUIRE(held["state"] == "held");

  HttpResult rel = releaseJobs(server.port(), kAlice, "office", "alice", {id});
  INFO("release: " << rel.status << " " << rel.body);
  REQUIRE(rel.status == 200);

  // cupsd filters the PDF (pdftopdf) and its ipp backend sends it on.
  REQUIRE(printer.waitForJobs(1, 30s));
  auto got = printer.receivedJobs().at(0);
  CHECK(got.user == "alice");
  CHECK(got.bytes > 0);
  auto pages = testing::runCommand({"qpdf", "--show-npages", got.file.string()}, 10s);
  CHECK(pages.out == "2\n");

  // pullprint follows the cupsd job (Get-Job-Attributes) until completed.
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"), 40s);
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  CHECK(cups.jobState(static_cast<int>(done["printer_job_id"].get<std::int64_t>())) == "completed");
  REQUIRE(done["usage"].size() == 1);
  CHECK(done["usage"][0]["printer"] == "office");
  CHECK(done["usage"][0]["sheets"] == 2);
  CHECK(done["usage"][0]["impressions"] == 2);
  CHECK(printer.receivedJobCount() == 1);
}

namespace {

// A server whose direct queue prints on `printer` (as "eve").
ReleaseServerOptions directQueueTo(const IppEvePrinter& printer,
                                   const std::string& more_toml = "") {
  ReleaseServerOptions so;
  so.toml = "[release]\ndirect_printer = \"eve\"\npoll_interval_ms = 50\n\n" + more_toml +
            printerToml("eve", printer.uri());
  return so;
}

}  // namespace

TEST_CASE("the direct queue prints without a release and is accounted", "[release][direct]") {
  IppEvePrinter printer;
  ReleaseServer server(directQueueTo(printer));
  startWithUsers(server);
  INFO(server.describe() << printer.describe());

  TempDir work("release-direct");
  const auto pdf = work / "direct.pdf";
  testing::makePdf(pdf, 2);
  IppJobOptions o;
  o.queue = "direct";
  IppResult submitted = ippPrintJob(server.port(), pdf, o);
  INFO("Print-Job: " << submitted.status << " " << submitted.message);
  REQUIRE(submitted.ok());
  const auto id = submitted.jobId;

  REQUIRE(printer.waitForJobs(1, 20s));
  CHECK(sha256File(printer.receivedJobs().at(0).file) == sha256File(pdf));
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  CHECK(done["queue"] == "direct");
  CHECK(done["released_by"] == "");  // nobody released it
  REQUIRE(done["usage"].size() == 1);
  const json& u = done["usage"][0];
  CHECK(u["printer"] == "eve");
  // Counted like any other job: 2 pages one-sided.
  CHECK(u["impressions"] == 2);
  CHECK(u["sheets"] == 2);
}

TEST_CASE("a direct job is counted before it is sent, even while counting waits for CPU",
          "[release][direct]") {
  IppEvePrinter printer;
  ReleaseServer server(directQueueTo(printer, "[analysis]\ntime_limit_ms = 5000\n\n"));
  startWithUsers(server);
  INFO(server.describe() << printer.describe());
  TempDir work("release-direct-busy");
  const auto pdf = work / "busy.pdf";
  testing::makePdf(pdf, 3);

  // Every core busy with a normal-priority loop: the analysis queue, at
  // background priority, gets almost no CPU, while the direct job goes to
  // the printer at once (and its document is deleted once it has printed).
  std::vector<testing::Process> hogs = testing::busyLoopOnEveryCore();
  IppJobOptions o;
  o.queue = "direct";
  o.sides = "two-sided-long-edge";
  IppResult submitted = ippPrintJob(server.port(), pdf, o);
  REQUIRE(submitted.ok());
  json done = waitJob(server.port(), kAlice, submitted.jobId, stateIs("completed"));
  for (testing::Process& hog : hogs) hog.terminate(1000ms);
  INFO("job: " << done.dump() << "\n" << server.log());
  REQUIRE(done["state"] == "completed");
  CHECK(done["pages"] == 3);
  REQUIRE(done["usage"].size() == 1);
  const json& u = done["usage"][0];
  CHECK(u["pages"] == 3);
  CHECK(u["impressions"] == 3);
  CHECK(u["sheets"] == 2);  // two-sided
  CHECK(contains(server.log(), "event=analysis.count-now"));
}

TEST_CASE("IPP Release-Job by an admin prints a per-printer queue's job on its printer",
          "[release][queue]") {
  IppEvePrinter printer;
  ReleaseServerOptions so;
  so.toml =
      "[ipp]\nadmin_users = [\"root\", \"boss\"]\n\n[release]\npoll_interval_ms = 50\n\n"
      "[[queue]]\nname = \"q1\"\nprinter_uri = \"" +
      printer.uri() + "\"\n";
  ReleaseServer server(so);
  startWithUsers(server);
  INFO(server.describe() << printer.describe());

  TempDir work("release-q1");
  const auto pdf = work / "queue-one.pdf";
  testing::makePdf(pdf, 1);
  IppJobOptions o;
  o.queue = "q1";
  IppResult submitted = ippPrintJob(server.port(), pdf, o);
  REQUIRE(submitted.ok());
  const auto id = submitted.jobId;
  json held = waitJob(server.port(), kAlice, id, stateIs("held"));
  REQUIRE(held["state"] == "held");

  // The owner is not an administrator: refused, still held, nothing sent.
  IppResult byOwner = ippReleaseJob(server.port(), "q1", id, "alice");
  INFO("Release-Job by alice: " << byOwner.status << " " << byOwner.message);
  CHECK(byOwner.status == IPP_STATUS_ERROR_NOT_AUTHORIZED);
  CHECK(getJob(server.port(), kAlice, id)["state"] == "held");

  IppResult byAdmin = ippReleaseJob(server.port(), "q1", id, "boss");
  INFO("Release-Job by boss: " << byAdmin.status << " " << byAdmin.message);
  REQUIRE(byAdmin.ok());

  REQUIRE(printer.waitForJobs(1, 20s));
  CHECK(sha256File(printer.receivedJobs().at(0).file) == sha256File(pdf));
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  CHECK(done["printer"] == "q1");
  CHECK(done["released_by"] == "boss");
  REQUIRE(done["usage"].size() == 1);
  CHECK(done["usage"][0]["printer"] == "q1");
  CHECK(done["usage"][0]["sheets"] == 1);
}
