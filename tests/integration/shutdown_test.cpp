// Stopping pullprintd the way a service manager does (SIGTERM to the
// process group), with the real binary and real connections
// ([server] shutdown_grace_seconds, docs/operations.md "Stopping"):
//  - an upload in progress finishes, is answered successful-ok with
//    `Connection: close`, and is a held job with an identical document after
//    the restart; idle keep-alive connections are closed at once; new
//    connections are refused; the server exits 0 by itself;
//  - an upload that stalls past the grace is cut off when the grace ends and
//    its job is aborted at the next start (nothing half-written is kept);
//  - a second SIGTERM, or a grace of 0, stops at once.
#include <catch2/catch.hpp>

#include <signal.h>

#include "tests/integration/harness.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

std::string printJobRequest(const PullprintServer& srv) {
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB, srv.uri(), "alice");
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               "application/octet-stream");
  return req.encode();
}

// An upload of `doc` on `c` that has sent `sent` bytes of it; returns when
// the server holds part of it in the spool.
void startUpload(PullprintServer& srv, RawConn& c, const std::string& ipp, const std::string& doc,
                 size_t sent) {
  REQUIRE(c.send(
      httpHead(srv.port(), "/printers/followme", static_cast<long long>(ipp.size() + doc.size())) +
      ipp + doc.substr(0, sent)));
  REQUIRE(waitFor([&] { return srv.bytesBeingReceived() > 0; }, 10s));
}

// A keep-alive connection that has been served once and now waits.
void serveOnce(PullprintServer& srv, RawConn& c) {
  std::string body = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, srv.uri()).encode();
  REQUIRE(c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(body.size())) +
                 body));
  HttpResponse r = c.readResponse(10s);
  REQUIRE(r.status == 200);
}

bool connectRefused(std::uint16_t port) {
  try {
    RawConn c(port);
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

}  // namespace

TEST_CASE("SIGTERM lets an upload in progress finish: the job is held, idle connections go",
          "[operations][shutdown]") {
  ServerOptions o;
  o.serverToml = "shutdown_grace_seconds = 30\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  PrintResult earlier =
      printJob(srv.port(), "alice", randomBytes(7000, 3), "followme", "application/octet-stream");
  REQUIRE(earlier.jobId > 0);

  RawConn idle(srv.port());
  serveOnce(srv, idle);
  const std::string ipp = printJobRequest(srv);
  const std::string doc = randomBytes(600000, 21);
  RawConn upload(srv.port());
  startUpload(srv, upload, ipp, doc, 250000);

  const auto signalled = std::chrono::steady_clock::now();
  srv.signalGroup(SIGTERM);
  // The idle connection is closed at once, not after idle_timeout_seconds.
  CHECK(idle.waitClosed(5s));
  CHECK(std::chrono::steady_clock::now() - signalled < 5s);
  // No new connections; the upload's connection is still served.
  CHECK(waitFor([&] { return connectRefused(srv.port()); }, 5s));
  REQUIRE(srv.running());

  REQUIRE(upload.send(std::string_view(doc).substr(250000)));
  HttpResponse r = upload.readResponse(20s);
  REQUIRE(r.status == 200);
  CHECK(r.header("connection") == "close");
  Ipp reply = Ipp::decode(r.body);
  REQUIRE(reply);
  CHECK(reply.status() == IPP_STATUS_OK);
  const int id = reply.integer("job-id").value_or(0);
  REQUIRE(id > earlier.jobId);
  CHECK(upload.waitClosed(5s));

  // With no connection left the server exits by itself, well before the grace.
  CHECK(srv.waitExit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - signalled < 15s);
  const std::string log = srv.log();
  CHECK(contains(log, "server.draining"));
  CHECK(contains(log, "server.drained"));
  CHECK_FALSE(contains(log, "server.drain-timeout"));

  // After a restart both jobs are held, documents byte-identical.
  srv.start();
  for (auto [job, sha] : {std::pair{earlier.jobId, jobRow(srv.database(), earlier.jobId)->sha256},
                          std::pair{id, sha256Hex(doc)}}) {
    auto row = jobRow(srv.database(), job);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(row->sha256 == sha);
    CHECK(sha256File(srv.documentPath(job)) == sha);
  }
  IppReply j = getJob(srv.port(), id, "alice");
  REQUIRE(j.ipp);
  CHECK(j.ipp.integer("job-state") == 4);
}

TEST_CASE("SIGTERM with an upload stalled past the grace: cut off, the job aborted at restart",
          "[operations][shutdown]") {
  ServerOptions o;
  o.serverToml = "shutdown_grace_seconds = 2\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  const std::string ipp = printJobRequest(srv);
  const std::string doc = randomBytes(400000, 22);
  RawConn upload(srv.port());
  startUpload(srv, upload, ipp, doc, 150000);
  std::int64_t id = 0;
  REQUIRE(waitFor(
      [&] {
        auto rows = jobRows(srv.database());
        if (!rows.empty()) id = rows.back().id;
        return id > 0;
      },
      5s));

  const auto signalled = std::chrono::steady_clock::now();
  srv.signalGroup(SIGTERM);
  // The client stays silent: the server waits for the grace, then exits.
  CHECK(srv.waitExit(15s) == 0);
  const auto took = std::chrono::steady_clock::now() - signalled;
  CHECK(took >= 1500ms);
  CHECK(took < 12s);
  CHECK(upload.waitClosed(5s));
  const std::string log = srv.log();
  CHECK(contains(log, "server.drain-timeout"));
  CHECK(contains(log, "connections_left=1"));

  srv.start();
  auto row = jobRow(srv.database(), id);
  REQUIRE(row);
  CHECK(row->state == "aborted");
  CHECK_FALSE(fs::exists(srv.documentPath(id)));
  CHECK(listFiles(srv.spoolDir()).empty());
}

TEST_CASE("a second SIGTERM, or a grace of 0, stops at once", "[operations][shutdown]") {
  ServerOptions o;
  bool twice = false;
  SECTION("second signal") {
    o.serverToml = "shutdown_grace_seconds = 120\n";
    twice = true;
  }
  SECTION("grace 0") { o.serverToml = "shutdown_grace_seconds = 0\n"; }
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  const std::string ipp = printJobRequest(srv);
  const std::string doc = randomBytes(400000, 23);
  RawConn upload(srv.port());
  startUpload(srv, upload, ipp, doc, 150000);

  srv.signalGroup(SIGTERM);
  if (twice) {
    // Draining: still running for the stalled upload ...
    CHECK_FALSE(srv.waitExit(1500ms).has_value());
    CHECK(srv.running());
    srv.signalGroup(SIGTERM);  // ... until the second signal
  }
  CHECK(srv.waitExit(5s) == 0);
  CHECK(contains(srv.log(), "server.stopping"));
}

TEST_CASE("the last line of a stop is server.stopped, after what ended while stopping",
          "[operations][shutdown]") {
  TempDir work("itest-shutdown");
  makePdf(work / "long.pdf", 2000, "stop");
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  // Its pages are counted after the answer: the stop comes while that runs,
  // and the count's own line (analysis.done) is written while stopping.
  PrintResult r =
      printJob(srv.port(), "alice", readFile(work / "long.pdf"), "followme", "application/pdf");
  REQUIRE(r.jobId > 0);
  srv.signalGroup(SIGTERM);
  REQUIRE(srv.waitExit(20s) == 0);
  const std::string log = srv.log();
  INFO(log);
  const std::string trimmed = log.substr(0, log.find_last_not_of('\n') + 1);
  CHECK(contains(trimmed.substr(trimmed.rfind('\n') + 1), "event=server.stopped"));
}
