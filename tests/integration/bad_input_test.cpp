// Acceptance 4: bad input gets a clear answer, never a crash, and leaves
// earlier held jobs alone.
//
// Each case starts a server, stores two held jobs, sends one kind of bad
// input, then checks: the answer (HTTP or IPP status), that the server still
// serves (Get-Printer-Attributes), that the earlier jobs are still held with
// byte-identical spool files, and that nothing half-written stays in the
// spool directory.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/integration/harness.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

struct Earlier {
  int id;
  std::string sha;
};

std::vector<Earlier> storeEarlierJobs(PullprintServer& srv) {
  std::vector<Earlier> out;
  for (int i = 0; i < 2; ++i) {
    std::string doc = randomBytes(20000 + i, 77 + i);
    PrintResult r = printJob(srv.port(), "alice", doc, "followme", "application/octet-stream");
    REQUIRE(r.jobId > 0);
    out.push_back({r.jobId, sha256Hex(doc)});
  }
  return out;
}

// The server still serves, the earlier jobs are held and intact, and the
// spool holds exactly their files (plus `extraFiles`).
void checkIntact(PullprintServer& srv, const std::vector<Earlier>& earlier, size_t extraFiles = 0) {
  INFO(srv.describe());
  REQUIRE(srv.running());
  CHECK(printerAnswers(srv.port()));
  for (const Earlier& e : earlier) {
    IppReply r = getJob(srv.port(), e.id, "alice");
    REQUIRE(r.ipp);
    CHECK(r.ipp.integer("job-state") == 4);
    auto row = jobRow(srv.database(), e.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(row->sha256 == e.sha);
    CHECK(sha256File(srv.documentPath(e.id)) == e.sha);
  }
  CHECK(listFiles(srv.spoolDir()).size() == earlier.size() + extraFiles);
}

// A raw POST of `body` to the follow-me queue on a new connection.
HttpResponse rawPost(std::uint16_t port, const std::string& body) {
  RawConn c(port);
  c.send(httpHead(port, "/printers/followme", static_cast<long long>(body.size())) + body);
  return c.readResponse(10s);
}

// Waits until the job a failed request created (id after `after`) is
// aborted: the error answer goes out before the job's rows are committed.
std::optional<JobRow> waitForAbortedJobAfter(const PullprintServer& srv, int after) {
  std::optional<JobRow> found;
  waitFor(
      [&] {
        auto rows = jobRows(srv.database());
        if (rows.empty() || rows.back().id <= after) return false;
        found = rows.back();
        return found->state == "aborted";
      },
      5s);
  return found;
}

// Create-Job as `user`; the new job's id (0 if refused, then *reply says why).
int createJob(const PullprintServer& srv, IppReply* reply = nullptr,
              const std::string& user = "alice") {
  IppReply r = ippPost(srv.port(), Ipp::request(IPP_OP_CREATE_JOB, srv.uri(), user));
  const int id = r.ipp && r.ipp.status() == IPP_STATUS_OK ? r.ipp.integer("job-id").value_or(0) : 0;
  if (reply) *reply = std::move(r);
  return id;
}

// Send-Document (the last one) of `doc` to job `id`, as alice.
IppReply sendDocument(const PullprintServer& srv, int id, const std::string& doc) {
  Ipp send = Ipp::request(IPP_OP_SEND_DOCUMENT, srv.uri(), "alice");
  ippAddInteger(send.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
  ippAddString(send.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               "application/octet-stream");
  ippAddBoolean(send.get(), IPP_TAG_OPERATION, "last-document", 1);
  return ippPost(srv.port(), send, doc);
}

Ipp printRequest(const PullprintServer& srv, const char* format = "application/pdf") {
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB, srv.uri(), "alice");
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, format);
  return req;
}

}  // namespace

TEST_CASE("malformed IPP: garbage body", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  HttpResponse r = rawPost(srv.port(), randomBytes(3000, 99));
  INFO(r.status << " " << r.body);
  // Either HTTP 400 or an IPP error; never success, never a dropped connection.
  bool http400 = r.status == 400;
  Ipp ipp = r.status == 200 ? Ipp::decode(r.body) : Ipp();
  CHECK((http400 || (ipp && ipp.status() >= 0x400)));
  checkIntact(srv, earlier);
}

TEST_CASE("malformed IPP: truncated attributes", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  Ipp req = printRequest(srv);
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr,
               "a job name long enough to be cut in the middle");
  std::string bytes = req.encode();
  HttpResponse r = rawPost(srv.port(), bytes.substr(0, bytes.size() - 20));
  INFO(r.status << " " << r.body);
  CHECK(r.status == 400);
  CHECK(r.body.find("truncated") != std::string::npos);
  checkIntact(srv, earlier);
}

TEST_CASE("unsupported IPP version and operation", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);

  Ipp v00 = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, srv.uri());
  ippSetVersion(v00.get(), 0, 0);
  IppReply r = ippPost(srv.port(), v00);
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED);

  Ipp v30 = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, srv.uri());
  ippSetVersion(v30.get(), 3, 0);
  r = ippPost(srv.port(), v30);
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED);

  Ipp pause = Ipp::request(IPP_OP_PAUSE_PRINTER, srv.uri(), "alice");
  r = ippPost(srv.port(), pause);
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED);

  Ipp vendor = Ipp::request(static_cast<ipp_op_t>(0x4027), srv.uri(), "alice");
  r = ippPost(srv.port(), vendor);
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED);
  checkIntact(srv, earlier);
}

TEST_CASE("wrong attribute syntax", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  const std::string doc = "%PDF-1.4 not really\n";

  SECTION("attributes-charset missing") {
    ipp_t* raw = ippNew();
    ippSetOperation(raw, IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippSetRequestId(raw, 7);
    ippSetVersion(raw, 2, 0);
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", nullptr,
                 "en");
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, srv.uri().c_str());
    IppReply r = ippPost(srv.port(), Ipp(raw));
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  }
  SECTION("attributes-charset not first") {
    ipp_t* raw = ippNew();
    ippSetOperation(raw, IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippSetRequestId(raw, 7);
    ippSetVersion(raw, 2, 0);
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", nullptr,
                 "en");
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_CHARSET, "attributes-charset", nullptr, "utf-8");
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, srv.uri().c_str());
    IppReply r = ippPost(srv.port(), Ipp(raw));
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  }
  SECTION("attributes-charset with the wrong syntax") {
    ipp_t* raw = ippNew();
    ippSetOperation(raw, IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippSetRequestId(raw, 7);
    ippSetVersion(raw, 2, 0);
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_TEXT, "attributes-charset", nullptr, "utf-8");
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", nullptr,
                 "en");
    ippAddString(raw, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, srv.uri().c_str());
    IppReply r = ippPost(srv.port(), Ipp(raw));
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  }
  SECTION("job-id as a string") {
    Ipp req = Ipp::request(IPP_OP_GET_JOB_ATTRIBUTES, srv.uri(), "alice");
    ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-id", nullptr, "1");
    IppReply r = ippPost(srv.port(), req);
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  }
  SECTION("copies as a string, fidelity true: refused, no job") {
    size_t before = jobRows(srv.database()).size();
    Ipp req = printRequest(srv);
    ippAddBoolean(req.get(), IPP_TAG_OPERATION, "ipp-attribute-fidelity", 1);
    ippAddString(req.get(), IPP_TAG_JOB, IPP_TAG_TEXT, "copies", nullptr, "two");
    IppReply r = ippPost(srv.port(), req, doc);
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
    ipp_attribute_t* u = ippFindAttribute(r.ipp.get(), "copies", IPP_TAG_ZERO);
    REQUIRE(u);
    CHECK(ippGetGroupTag(u) == IPP_TAG_UNSUPPORTED_GROUP);
    CHECK(jobRows(srv.database()).size() == before);
  }
  SECTION("copies as a string, no fidelity: ignored and reported (RFC 8011 4.1.7)") {
    Ipp req = printRequest(srv);
    ippAddString(req.get(), IPP_TAG_JOB, IPP_TAG_TEXT, "copies", nullptr, "two");
    IppReply r = ippPost(srv.port(), req, doc);
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED);
    ipp_attribute_t* u = ippFindAttribute(r.ipp.get(), "copies", IPP_TAG_ZERO);
    REQUIRE(u);
    CHECK(ippGetGroupTag(u) == IPP_TAG_UNSUPPORTED_GROUP);
    int id = r.ipp.integer("job-id").value_or(0);
    REQUIRE(id > 0);
    IppReply j = getJob(srv.port(), id, "alice");
    REQUIRE(j.ipp);
    CHECK(j.ipp.integer("copies") == 1);
    CHECK(j.ipp.integer("job-state") == 4);
    earlier.push_back({id, sha256Hex(doc)});
  }
  checkIntact(srv, earlier);
}

TEST_CASE("missing printer-uri", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB, "", "alice");
  IppReply r = ippPost(srv.port(), req, "some document");
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  Ipp gpa = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, "");
  r = ippPost(srv.port(), gpa);
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_BAD_REQUEST);
  checkIntact(srv, earlier);
}

TEST_CASE("unsupported document-format", "[bad-input]") {
  PullprintServer srv;
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  size_t before = jobRows(srv.database()).size();
  Ipp req = printRequest(srv, "application/x-not-a-format");
  IppReply r = ippPost(srv.port(), req, randomBytes(50000, 5));
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED);
  CHECK(r.ipp.string("document-format") == "application/x-not-a-format");
  CHECK(jobRows(srv.database()).size() == before);
  checkIntact(srv, earlier);
}

TEST_CASE("document larger than max_document_bytes", "[bad-input]") {
  ServerOptions o;
  o.toml = "[ipp]\nmax_document_bytes = 65536\n";
  PullprintServer srv(o);
  srv.start();
  auto earlier = storeEarlierJobs(srv);
  std::string big = randomBytes(300 * 1024, 11);
  IppReply r = ippPost(srv.port(), printRequest(srv, "application/octet-stream"), big);
  INFO(srv.describe());
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_REQUEST_ENTITY);
  auto row = waitForAbortedJobAfter(srv, earlier.back().id);
  REQUIRE(row);
  CHECK(row->state == "aborted");
  IppReply j = getJob(srv.port(), static_cast<int>(row->id), "alice");
  REQUIRE(j.ipp);
  CHECK(j.ipp.integer("job-state") == 8);
  CHECK_FALSE(fs::exists(srv.documentPath(row->id)));
  // Exactly the limit is still accepted.
  PrintResult ok =
      printJob(srv.port(), "alice", randomBytes(65536, 12), "followme", "application/octet-stream");
  CHECK(ok.jobId > 0);
  checkIntact(srv, earlier, /*extraFiles=*/1);
}

TEST_CASE("Send-Document larger than max_document_bytes: the job is aborted at once, with why",
          "[bad-input]") {
  ServerOptions o;
  o.toml = "[ipp]\nmax_document_bytes = 65536\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  auto earlier = storeEarlierJobs(srv);
  const int id = createJob(srv);
  REQUIRE(id > 0);
  IppReply r = sendDocument(srv, id, randomBytes(300 * 1024, 15));
  REQUIRE(r.ipp);
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_REQUEST_ENTITY);
  // Sending it again cannot help: the job ends now, and says why, instead
  // of waiting for a document until the multiple-operation time-out.
  IppReply j;
  CHECK(waitFor(
      [&] {
        j = getJob(srv.port(), id, "alice");
        return j.ipp && j.ipp.integer("job-state") == 8;
      },
      5s));
  CHECK(contains(j.ipp.string("job-state-message").value_or(""), "larger than the limit"));
  CHECK_FALSE(fs::exists(srv.documentPath(id)));
  checkIntact(srv, earlier);
}

TEST_CASE(
    "Send-Document out of room: service-unavailable, the job stays open, sent again it is held",
    "[bad-input][tmpfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount a tmpfs");
    return;
  }
  SmallDisk disk("itest-tmpfs-send", "4m");
  ServerOptions o;
  o.spoolDir = disk.path() / "spool";
  o.spoolToml = "min_free_bytes = 0\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  auto earlier = storeEarlierJobs(srv);
  const int id = createJob(srv);
  REQUIRE(id > 0);

  disk.fill(64 * 1024);
  const std::string doc = randomBytes(512 * 1024, 16);
  IppReply r = sendDocument(srv, id, doc);
  REQUIRE(r.ipp);
  // Not temporary-error: CUPS's ipp backend tries a Send-Document again
  // only after service-unavailable (docs/operations.md).
  CHECK(r.ipp.status() == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE);
  CHECK(contains(r.ipp.string("status-message").value_or(""), "full"));
  IppReply j = getJob(srv.port(), id, "alice");
  REQUIRE(j.ipp);
  CHECK(j.ipp.integer("job-state") == 4);  // still open for its document
  auto reasons = j.ipp.strings("job-state-reasons");
  CHECK(std::find(reasons.begin(), reasons.end(), "job-incoming") != reasons.end());
  // Until that document would fit, alice's new jobs are refused at once;
  // other users' are not held back by it.
  IppReply refused;
  CHECK(createJob(srv, &refused) == 0);
  REQUIRE(refused.ipp);
  CHECK(refused.ipp.status() == IPP_STATUS_ERROR_TEMPORARY);
  CHECK(contains(srv.log(), "event=spool.no-room user=alice"));
  CHECK(createJob(srv, nullptr, "bob") > 0);
  checkIntact(srv, earlier);

  // Room again: the same document to the same job is held, intact, and new
  // jobs are taken again.
  disk.free();
  IppReply again = sendDocument(srv, id, doc);
  REQUIRE(again.ipp);
  CHECK(again.ipp.status() == IPP_STATUS_OK);
  IppReply held = getJob(srv.port(), id, "alice");
  REQUIRE(held.ipp);
  CHECK(held.ipp.integer("job-state") == 4);
  CHECK(held.ipp.string("job-hold-until") == "indefinite");
  CHECK(sha256File(srv.documentPath(id)) == sha256Hex(doc));
  CHECK(createJob(srv) > 0);
  CHECK(contains(srv.log(), "event=spool.room-back"));
}

TEST_CASE("disk full while receiving (ENOSPC on a 2 MiB tmpfs)", "[bad-input][tmpfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount a tmpfs");
    return;
  }
  SmallDisk disk("itest-tmpfs", "2m");
  const fs::path spool = disk.path() / "spool";
  {
    ServerOptions o;
    o.spoolDir = spool;
    o.spoolToml = "min_free_bytes = 0\n";
    PullprintServer srv(o);
    srv.start();
    INFO(srv.describe());
    auto earlier = storeEarlierJobs(srv);
    REQUIRE(fs::exists(srv.documentPath(earlier[0].id)));

    std::string big = randomBytes(4 * 1024 * 1024, 13);
    IppReply r = ippPost(srv.port(), printRequest(srv, "application/octet-stream"), big);
    REQUIRE(r.ipp);
    INFO("status-message: " << r.ipp.string("status-message").value_or(""));
    CHECK(r.ipp.status() >= 0x0400);
    CHECK(r.ipp.string("status-message").value_or("").find("full") != std::string::npos);
    auto row = waitForAbortedJobAfter(srv, earlier.back().id);
    REQUIRE(row);
    CHECK(row->state == "aborted");
    CHECK_FALSE(fs::exists(srv.documentPath(row->id)));
    checkIntact(srv, earlier);
    // More than the whole file system: it can never fit, so alice's next
    // jobs are not made to wait for room for it (the Send-Document test
    // above has the case where they are).
    CHECK(contains(srv.log(), "why=\"larger than the spool's whole file system\""));
    // The space came back: a small document fits again.
    PrintResult again = printJob(srv.port(), "alice", randomBytes(10000, 14), "followme",
                                 "application/octet-stream");
    CHECK(again.jobId > 0);
    srv.stop();
  }
}

TEST_CASE("disk full where the database is (the whole state directory on a 16 MiB tmpfs)",
          "[bad-input][tmpfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount a tmpfs");
    return;
  }
  SmallDisk disk("itest-tmpfs-state", "16m");
  const fs::path state = disk.path() / "state";
  ServerOptions o;
  o.stateDir = state;
  // Documents stay in the journal (no background sync), so a start after a
  // crash has work to do: write them back to their files.
  o.spoolToml = "min_free_bytes = 0\njournal_sync_delay_ms = 3600000\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  // 16 MiB is too small to give the database's WAL its room (24 MiB): the
  // server says so and goes on without.
  CHECK(contains(srv.log(), "event=store.wal-reserve-skipped"));
  auto earlier = storeEarlierJobs(srv);

  // Some jobs fit (in the spool and in the database's log), then the disk
  // is full again.
  disk.fill(256 * 1024);
  std::vector<Earlier> accepted;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    std::string doc = randomBytes(3000 + i, 200 + i);  // small: journaled into the database
    PrintResult r = printJob(srv.port(), "alice", doc, "followme", "application/octet-stream");
    REQUIRE(r.reply.ipp);  // always an IPP answer, never a dropped connection
    if (r.jobId > 0) {
      accepted.push_back({r.jobId, sha256Hex(doc)});
    } else {
      ++refused;
      // Whichever write ran out of room (spool file, job row, document
      // row, commit): the client is told the server is short of space,
      // never that its request was wrong.
      const std::string message = r.reply.ipp.string("status-message").value_or("");
      INFO("status " << r.reply.ipp.status() << ", status-message: " << message);
      CHECK(r.reply.ipp.status() == IPP_STATUS_ERROR_TEMPORARY);
      CHECK(message.find("full") != std::string::npos);
    }
  }
  INFO("accepted " << accepted.size() << ", refused " << refused);
  CHECK(refused > 0);
  std::vector<Earlier> all = earlier;
  all.insert(all.end(), accepted.begin(), accepted.end());
  REQUIRE(srv.running());

  // Room again: jobs are accepted without a restart.
  disk.free();
  std::string later = randomBytes(5000, 300);
  PrintResult again = printJob(srv.port(), "alice", later, "followme", "application/octet-stream");
  REQUIRE(again.jobId > 0);
  all.push_back({again.jobId, sha256Hex(later)});

  // A crash while the disk is full: the start that follows cannot write the
  // journaled documents back, says why, and changes nothing.
  disk.fill(0);
  srv.kill9();
  CommandResult full = runCommand(
      {PULLPRINTD_PATH, "--state-dir", state.string(), "--config", srv.configPath().string()}, 60s);
  INFO(full.describe());
  CHECK(full.exitCode == 2);
  CHECK(contains(full.err, "is full: free space there and start again"));

  // Room again: it starts, and every acknowledged job is held and intact.
  disk.free();
  srv.start();
  CHECK(contains(srv.log(), "restored_from_journal=" + std::to_string(all.size()) + " "));
  for (const Earlier& e : all) {
    INFO("job " << e.id);
    auto row = jobRow(srv.database(), e.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(sha256File(srv.documentPath(e.id)) == e.sha);
  }
  // Refused jobs are not held (aborted, or never recorded).
  int held = 0;
  for (const auto& row : jobRows(srv.database())) held += row.state == "held";
  CHECK(held == static_cast<int>(all.size()));
  srv.stop();
}

TEST_CASE("a client that stalls mid-body is cut off and its job aborted", "[bad-input]") {
  ServerOptions o;
  o.serverToml = "idle_timeout_seconds = 2\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  auto earlier = storeEarlierJobs(srv);
  std::string ipp = printRequest(srv, "application/octet-stream").encode();
  std::string doc = randomBytes(400000, 15);

  SECTION("stalls after part of the document was stored") {
    RawConn c(srv.port());
    REQUIRE(c.send(httpHead(srv.port(), "/printers/followme",
                            static_cast<long long>(ipp.size() + doc.size())) +
                   ipp + doc.substr(0, 150000)));
    // The job exists and part of its document is on disk (unnamed until
    // complete) ...
    std::int64_t id = 0;
    REQUIRE(waitFor(
        [&] {
          auto rows = jobRows(srv.database());
          if (!rows.empty() && rows.back().id > earlier.back().id) id = rows.back().id;
          return id > 0 && srv.bytesBeingReceived() > 0;
        },
        5s));
    // ... then the client goes silent: closed after idle_timeout_seconds.
    auto start = std::chrono::steady_clock::now();
    CHECK(c.waitClosed(15s));
    CHECK(std::chrono::steady_clock::now() - start >= 1000ms);
    CHECK(waitFor([&] { return jobRow(srv.database(), id)->state == "aborted"; }, 5s));
    CHECK_FALSE(fs::exists(srv.documentPath(id)));
    CHECK(srv.bytesBeingReceived() == 0);  // the unnamed file was closed, so it is gone
    IppReply j = getJob(srv.port(), static_cast<int>(id), "alice");
    REQUIRE(j.ipp);
    CHECK(j.ipp.integer("job-state") == 8);
  }
  SECTION("stalls inside the first body chunk: no job at all") {
    RawConn c(srv.port());
    REQUIRE(c.send(httpHead(srv.port(), "/printers/followme",
                            static_cast<long long>(ipp.size() + doc.size())) +
                   ipp + doc.substr(0, 1000)));
    CHECK(c.waitClosed(15s));
    CHECK(jobRows(srv.database()).back().id == earlier.back().id);
  }
  checkIntact(srv, earlier);
}
