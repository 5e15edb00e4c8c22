// Acceptance 6 and 7: identity, privacy, admin rights, multi-document jobs.
//
//   untrusted loopback ([ipp] trusted_sources = []): Print-Job without
//   credentials -> HTTP 401 + WWW-Authenticate: Basic; with Basic the job
//   belongs to the authenticated user whatever requesting-user-name says;
//   a wrong password -> 401.
//   trusted loopback: bob cannot cancel alice's job, sees no name/owner of
//   it; Hold-Job/Release-Job are for admins (admin_users) only.
//   Create-Job + two Send-Documents -> one held job with 2 documents;
//   Cancel-My-Jobs cancels only the requester's jobs.
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/integration/harness.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

IppReply jobOp(const PullprintServer& srv, ipp_op_t op, int id, const std::string& user,
               const std::string& queue = "followme") {
  Ipp req = Ipp::request(op, srv.uri(queue), user);
  ippAddInteger(req.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
  PostOptions po;
  po.resource = "/printers/" + queue;
  return ippPost(srv.port(), req, {}, po);
}

int ippJobState(const PullprintServer& srv, int id, const std::string& queue = "followme") {
  IppReply r = getJob(srv.port(), id, "ops", queue);
  return r.ipp ? r.ipp.integer("job-state").value_or(-1) : -1;
}

}  // namespace

TEST_CASE("untrusted source: HTTP Basic decides who owns the job", "[identity]") {
  ServerOptions o;
  o.toml = "[ipp]\ntrusted_sources = []\n";
  PullprintServer srv(o);
  srv.addUser("carol", "correct horse");
  srv.start();
  INFO(srv.describe());
  const std::string doc = "carol's document";

  SECTION("no credentials: 401 with a Basic challenge, no job") {
    PrintResult r = printJob(srv.port(), "carol", doc, "followme", "text/plain");
    CHECK(r.reply.http.status == 401);
    CHECK(r.reply.http.header("www-authenticate").rfind("Basic", 0) == 0);
    CHECK(r.jobId == 0);
    CHECK(jobRows(srv.database()).empty());
    // Printer attributes need no identity.
    CHECK(printerAnswers(srv.port()));
  }
  SECTION("Basic: the authenticated user owns the job, not requesting-user-name") {
    PostOptions po;
    po.basicAuth = "carol:correct horse";
    PrintResult r = printJob(srv.port(), "mallory", doc, "followme", "text/plain", po);
    REQUIRE(r.jobId > 0);
    auto row = jobRow(srv.database(), r.jobId);
    REQUIRE(row);
    CHECK(row->owner == "carol");
    CHECK(row->state == "held");
    Ipp req = Ipp::request(IPP_OP_GET_JOB_ATTRIBUTES, srv.uri(), "mallory");
    ippAddInteger(req.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", r.jobId);
    IppReply g = ippPost(srv.port(), req, {}, po);
    REQUIRE(g.ipp);
    CHECK(g.ipp.string("job-originating-user-name") == "carol");
    CHECK(g.ipp.integer("job-state") == 4);
  }
  SECTION("wrong password or unknown user: 401") {
    PostOptions po;
    po.basicAuth = "carol:wrong";
    PrintResult r = printJob(srv.port(), "carol", doc, "followme", "text/plain", po);
    CHECK(r.reply.http.status == 401);
    CHECK(r.reply.http.header("www-authenticate").rfind("Basic", 0) == 0);
    po.basicAuth = "nobody:correct horse";
    r = printJob(srv.port(), "carol", doc, "followme", "text/plain", po);
    CHECK(r.reply.http.status == 401);
    CHECK(jobRows(srv.database()).empty());
  }
}

TEST_CASE("trusted loopback: owners, strangers and admins", "[identity]") {
  ServerOptions o;
  o.toml = "[ipp]\nadmin_users = [\"root\", \"ops\"]\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  PrintResult a = printJob(srv.port(), "alice", "alice's secret memo", "followme", "text/plain");
  REQUIRE(a.jobId > 0);

  // bob may not cancel alice's job.
  IppReply c = jobOp(srv, IPP_OP_CANCEL_JOB, a.jobId, "bob");
  REQUIRE(c.ipp);
  CHECK(c.ipp.status() == IPP_STATUS_ERROR_NOT_AUTHORIZED);
  CHECK(ippJobState(srv, a.jobId) == 4);

  // bob sees alice's job exists and its state, not its name or owner.
  IppReply g = getJob(srv.port(), a.jobId, "bob");
  REQUIRE(g.ipp);
  CHECK(g.ipp.status() == IPP_STATUS_OK);
  CHECK(g.ipp.integer("job-state") == 4);
  CHECK_FALSE(g.ipp.has("job-name"));
  CHECK_FALSE(g.ipp.has("job-originating-user-name"));
  // ... while alice sees both.
  IppReply mine = getJob(srv.port(), a.jobId, "alice");
  REQUIRE(mine.ipp);
  CHECK(mine.ipp.string("job-name") == "itest");
  CHECK(mine.ipp.string("job-originating-user-name") == "alice");

  // Release-Job / Hold-Job: not for a non-admin, not even the owner.
  for (const char* who : {"bob", "alice"}) {
    INFO(who);
    IppReply rel = jobOp(srv, IPP_OP_RELEASE_JOB, a.jobId, who);
    REQUIRE(rel.ipp);
    CHECK(rel.ipp.status() == IPP_STATUS_ERROR_NOT_AUTHORIZED);
    IppReply hold = jobOp(srv, IPP_OP_HOLD_JOB, a.jobId, who);
    REQUIRE(hold.ipp);
    CHECK(hold.ipp.status() == IPP_STATUS_ERROR_NOT_AUTHORIZED);
  }
  CHECK(ippJobState(srv, a.jobId) == 4);

  // An admin may hold (already held: a no-op) ...
  IppReply hold = jobOp(srv, IPP_OP_HOLD_JOB, a.jobId, "ops");
  REQUIRE(hold.ipp);
  CHECK(hold.ipp.status() == IPP_STATUS_OK);
  CHECK(ippJobState(srv, a.jobId) == 4);
  // ... but a follow-me job has no printer until its owner stands at one:
  // the release engine refuses an IPP Release-Job for it (card, portal or
  // POST /api/v1/release release it at a printer).
  IppReply rel = jobOp(srv, IPP_OP_RELEASE_JOB, a.jobId, "ops");
  REQUIRE(rel.ipp);
  CHECK(rel.ipp.status() == IPP_STATUS_ERROR_NOT_POSSIBLE);
  CHECK(ippJobState(srv, a.jobId) == 4);
  IppReply again = getJob(srv.port(), a.jobId, "alice");
  REQUIRE(again.ipp);
  CHECK(again.ipp.string("job-hold-until") == "indefinite");

  // The owner may cancel her own job.
  IppReply own = jobOp(srv, IPP_OP_CANCEL_JOB, a.jobId, "alice");
  REQUIRE(own.ipp);
  CHECK(own.ipp.status() == IPP_STATUS_OK);
  CHECK(ippJobState(srv, a.jobId) == 7);
  CHECK_FALSE(fs::exists(srv.documentPath(a.jobId)));
}

TEST_CASE("Create-Job + two Send-Documents make one held job", "[identity][multi-document]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  Ipp create = Ipp::request(IPP_OP_CREATE_JOB, srv.uri(), "alice");
  ippAddString(create.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "two docs");
  IppReply cr = ippPost(srv.port(), create);
  REQUIRE(cr.ipp);
  REQUIRE(cr.ipp.status() == IPP_STATUS_OK);
  int id = cr.ipp.integer("job-id").value_or(0);
  REQUIRE(id > 0);

  const std::string doc1 = randomBytes(50000, 31);
  const std::string doc2 = randomBytes(70000, 32);
  for (int n = 1; n <= 2; ++n) {
    Ipp send = Ipp::request(IPP_OP_SEND_DOCUMENT, srv.uri(), "alice");
    ippAddInteger(send.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
    ippAddString(send.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 "application/octet-stream");
    ippAddBoolean(send.get(), IPP_TAG_OPERATION, "last-document", n == 2);
    IppReply sr = ippPost(srv.port(), send, n == 1 ? doc1 : doc2);
    REQUIRE(sr.ipp);
    CHECK(sr.ipp.status() == IPP_STATUS_OK);
    IppReply g = getJob(srv.port(), id, "alice");
    REQUIRE(g.ipp);
    // Until the last document the job is still being received (also held to IPP).
    CHECK(g.ipp.integer("job-state") == 4);
    CHECK(g.ipp.integer("number-of-documents") == n);
  }
  auto row = jobRow(srv.database(), id);
  REQUIRE(row);
  CHECK(row->state == "held");
  CHECK(row->documents == 2);
  CHECK(row->size == static_cast<std::int64_t>(doc1.size() + doc2.size()));
  CHECK(sha256File(srv.documentPath(id, 1)) == sha256Hex(doc1));
  CHECK(sha256File(srv.documentPath(id, 2)) == sha256Hex(doc2));
  IppReply g = getJob(srv.port(), id, "alice");
  REQUIRE(g.ipp);
  auto reasons = g.ipp.strings("job-state-reasons");
  CHECK(std::find(reasons.begin(), reasons.end(), "job-hold-until-specified") != reasons.end());
  CHECK(listFiles(srv.spoolDir()).size() == 2);
}

TEST_CASE("Cancel-My-Jobs cancels only the requester's jobs", "[identity]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  std::vector<int> alice, bob;
  for (int i = 0; i < 3; ++i)
    alice.push_back(
        printJob(srv.port(), "alice", "a" + std::to_string(i), "followme", "text/plain").jobId);
  for (int i = 0; i < 2; ++i)
    bob.push_back(
        printJob(srv.port(), "bob", "b" + std::to_string(i), "followme", "text/plain").jobId);
  for (int id : alice) REQUIRE(id > 0);
  for (int id : bob) REQUIRE(id > 0);

  IppReply r = ippPost(srv.port(), Ipp::request(IPP_OP_CANCEL_MY_JOBS, srv.uri(), "alice"));
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_OK);
  for (int id : alice) {
    CHECK(ippJobState(srv, id) == 7);
    CHECK_FALSE(fs::exists(srv.documentPath(id)));
  }
  for (int id : bob) {
    CHECK(ippJobState(srv, id) == 4);
    CHECK(fs::exists(srv.documentPath(id)));
  }
}

TEST_CASE("Release-Job by an admin sends a per-printer queue's job to its printer",
          "[identity][release]") {
  IppEvePrinter printer;
  ServerOptions o;
  o.toml =
      "[ipp]\nadmin_users = [\"root\", \"ops\"]\n\n[[queue]]\nname = \"lib1\"\nprinter_uri = \"" +
      printer.uri() + "\"\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe() << printer.describe());
  TempDir work("itest-release");
  std::string pdf = smallPdf(work.path(), "release-me");
  PrintResult a = printJob(srv.port(), "alice", pdf, "lib1", "application/pdf");
  REQUIRE(a.jobId > 0);
  CHECK(ippJobState(srv, a.jobId, "lib1") == 4);
  for (const char* who : {"bob", "alice"}) {
    INFO(who);
    IppReply r = jobOp(srv, IPP_OP_RELEASE_JOB, a.jobId, who, "lib1");
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_NOT_AUTHORIZED);
  }
  CHECK(ippJobState(srv, a.jobId, "lib1") == 4);
  IppReply rel = jobOp(srv, IPP_OP_RELEASE_JOB, a.jobId, "ops", "lib1");
  REQUIRE(rel.ipp);
  CHECK(rel.ipp.status() == IPP_STATUS_OK);
  REQUIRE(printer.waitForJobs(1, 30s));
  CHECK(sha256File(printer.receivedJobs()[0].file) == sha256Hex(pdf));
  CHECK(waitFor([&] { return ippJobState(srv, a.jobId, "lib1") == 9; }, 30s, 100ms));
}

TEST_CASE("password guessing over IPP Basic is limited per user and address, shared with the API",
          "[identity][security]") {
  ServerOptions o;
  o.toml =
      "[ipp]\ntrusted_sources = []\n\n[api]\nlogin_failures_per_window = 3\n"
      "login_failure_window_seconds = 600\n";
  PullprintServer srv(o);
  srv.addUser("carol", "correct horse");
  srv.addUser("dave", "battery staple");
  srv.start();
  INFO(srv.describe());
  const std::string doc = "a document";
  PostOptions wrong, carol, dave;
  wrong.basicAuth = "carol:guess";
  carol.basicAuth = "carol:correct horse";
  dave.basicAuth = "dave:battery staple";

  // The right password works before any failure (and is then cached).
  REQUIRE(printJob(srv.port(), "carol", doc, "followme", "text/plain", carol).jobId > 0);
  for (int i = 0; i < 3; ++i)
    CHECK(printJob(srv.port(), "carol", doc, "followme", "text/plain", wrong).reply.http.status ==
          401);
  // Now even the right password is refused for carol from this address.
  PrintResult limited = printJob(srv.port(), "carol", doc, "followme", "text/plain", carol);
  CHECK(limited.reply.http.status == 401);
  CHECK(limited.jobId == 0);
  CHECK(srv.log().find("reason=\"too many failed logins\"") != std::string::npos);
  // Other users are not affected.
  CHECK(printJob(srv.port(), "dave", doc, "followme", "text/plain", dave).jobId > 0);
  // The REST API shares the count: 429 for carol's right password there too.
  RawConn c(srv.port());
  REQUIRE(c.send("GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " +
                 base64("carol:correct horse") + "\r\nConnection: close\r\n\r\n"));
  HttpResponse api = c.readResponse(10s);
  CHECK(api.status == 429);
  CHECK(jobRows(srv.database()).size() == 2);  // carol's first job and dave's
}
