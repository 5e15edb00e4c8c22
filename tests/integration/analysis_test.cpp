// Document analysis through the server: counts computed once after
// submission appear in IPP (job-pages, job-impressions without copies,
// job-media-sheets with copies, RFC 8011 5.3.17), and a hostile document
// hits the configured time limit with a clear job-state-reason while the
// server keeps serving and the job stays held.
#include <sched.h>
#include <catch2/catch.hpp>

#include "tests/integration/harness.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

int submit(PullprintServer& server, const std::string& document, const std::string& format,
           int copies, const char* sides) {
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB, server.uri(), "alice");
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               format.c_str());
  ippAddInteger(req.get(), IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", copies);
  ippAddString(req.get(), IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", nullptr, sides);
  IppReply r = ippPost(server.port(), req, document);
  REQUIRE(r.status() == IPP_STATUS_OK);
  auto id = r.ipp.integer("job-id");
  REQUIRE(id);
  return *id;
}

// Polls the job (as alice) for up to 20 s until it has `attribute`, that is
// until it is counted; *job is the last answer.
bool waitForAttribute(PullprintServer& server, int id, const char* attribute, IppReply* job) {
  return waitFor(
      [&] {
        *job = getJob(server.port(), id, "alice");
        return job->ipp.integer(attribute).has_value();
      },
      20s);
}

}  // namespace

TEST_CASE("analysed counts are shown in IPP; a limit hit is a job-state-reason") {
  ServerOptions o;
  o.toml = "[analysis]\ntime_limit_ms = 1500\n";
  PullprintServer server(o);
  server.start();

  SECTION("3 pages, 2 copies, two-sided: 3 impressions per copy, 4 sheets in all") {
    TempDir work("pullprint-analysis");
    makePdf(work / "three.pdf", 3, "analysis");
    int id =
        submit(server, readFile(work / "three.pdf"), "application/pdf", 2, "two-sided-long-edge");
    IppReply job;
    bool counted = waitForAttribute(server, id, "job-media-sheets", &job);
    INFO(server.log());
    REQUIRE(counted);
    CHECK(job.ipp.integer("job-pages") == 3);
    CHECK(job.ipp.integer("job-impressions") == 3);   // excludes copies
    CHECK(job.ipp.integer("job-media-sheets") == 4);  // includes copies
    CHECK(job.ipp.integer("job-state") == 4);         // still held
  }

  SECTION("a PostScript loop is stopped at the time limit; the count stays unknown") {
    std::string loop = "%!PS\n{ 1 pop } loop\nshowpage\n";
    int id = submit(server, loop, "application/postscript", 1, "one-sided");
    IppReply job;
    bool flagged = waitFor(
        [&] {
          job = getJob(server.port(), id, "alice");
          auto reasons = job.ipp.strings("job-state-reasons");
          return std::find(reasons.begin(), reasons.end(), "analysis-time-limit") != reasons.end();
        },
        30s);
    INFO(server.log());
    REQUIRE(flagged);
    // Cut off at background priority, then once more at normal priority.
    CHECK(contains(server.log(), "analysis.retry"));
    CHECK_FALSE(job.ipp.has("job-pages"));  // unknown, never 0
    CHECK_FALSE(job.ipp.has("job-media-sheets"));
    CHECK(job.ipp.integer("job-state") == 4);  // held all the same
    CHECK(printerAnswers(server.port()));

    // The analysis process that hit the limit was replaced: the next job counts.
    TempDir work("pullprint-analysis");
    makePdf(work / "two.pdf", 2, "after the limit");
    int next = submit(server, readFile(work / "two.pdf"), "application/pdf", 1, "one-sided");
    IppReply counted;
    REQUIRE(waitForAttribute(server, next, "job-pages", &counted));
    CHECK(counted.ipp.integer("job-pages") == 2);
  }

  SECTION("Create-Job + two Send-Documents: pages of both documents") {
    TempDir work("pullprint-analysis");
    makePdf(work / "three.pdf", 3, "first");
    makePdf(work / "two.pdf", 2, "second");
    Ipp create = Ipp::request(IPP_OP_CREATE_JOB, server.uri(), "alice");
    IppReply cr = ippPost(server.port(), create);
    REQUIRE(cr.status() == IPP_STATUS_OK);
    const int id = cr.ipp.integer("job-id").value_or(0);
    REQUIRE(id > 0);
    for (int n = 1; n <= 2; ++n) {
      Ipp send = Ipp::request(IPP_OP_SEND_DOCUMENT, server.uri(), "alice");
      ippAddInteger(send.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
      ippAddString(send.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                   "application/pdf");
      ippAddBoolean(send.get(), IPP_TAG_OPERATION, "last-document", n == 2);
      IppReply sr =
          ippPost(server.port(), send, readFile(work / (n == 1 ? "three.pdf" : "two.pdf")));
      REQUIRE(sr.status() == IPP_STATUS_OK);
    }
    IppReply job;
    bool counted = waitForAttribute(server, id, "job-pages", &job);
    INFO(server.log());
    REQUIRE(counted);
    CHECK(job.ipp.integer("job-pages") == 5);
    CHECK(job.ipp.integer("job-media-sheets") == 5);
  }
}

TEST_CASE("without pullprint-analyze beside it, the server says so at start and still counts") {
  // pullprintd copied alone (as a packager might): the helper it looks for
  // next to itself, and in the build tree one level up, is not there.
  TempDir bin("pullprint-lone");
  std::filesystem::copy_file(PULLPRINTD_PATH, bin / "pullprintd");
  std::filesystem::permissions(bin / "pullprintd", std::filesystem::perms::owner_all);
  ServerOptions o;
  o.binary = bin / "pullprintd";
  PullprintServer server(o);
  server.start();
  INFO(server.log());
  CHECK(contains(server.log(), "analysis.helper-missing"));
  CHECK(contains(server.log(), (bin / "pullprint-analyze").string()));

  TempDir work("pullprint-analysis");
  makePdf(work / "three.pdf", 3, "lone");
  const int id = submit(server, readFile(work / "three.pdf"), "application/pdf", 1, "one-sided");
  IppReply job;
  REQUIRE(waitForAttribute(server, id, "job-pages", &job));
  CHECK(job.ipp.integer("job-pages") == 3);
}

TEST_CASE("with pullprint-analyze found, there is no such warning") {
  PullprintServer server;
  server.start();
  CHECK_FALSE(contains(server.log(), "analysis.helper-missing"));
}

namespace {

// The scheduling policy of pullprintd's analysis process, found among its
// children once a job has been counted (the process is long-lived).
int analysisProcessPolicy(PullprintServer& server) {
  TempDir work("pullprint-analysis");
  makePdf(work / "one.pdf", 1, "priority");
  const int id = submit(server, readFile(work / "one.pdf"), "application/pdf", 1, "one-sided");
  IppReply job;
  REQUIRE(waitForAttribute(server, id, "job-pages", &job));
  for (pid_t child : childProcesses(server.pid())) {
    if (contains(readFile("/proc/" + std::to_string(child) + "/comm"), "pullprint-analy"))
      return sched_getscheduler(child);
  }
  FAIL("no pullprint-analyze process under pullprintd " << server.pid());
  return -1;
}

}  // namespace

TEST_CASE("page counting runs in the background unless configured otherwise") {
  struct Case {
    const char* toml;
    int policy;
  } cases[] = {
      {"", SCHED_IDLE},  // the default
      {"[analysis]\npriority = \"normal\"\n", SCHED_OTHER},
  };
  for (const Case& c : cases) {
    INFO("config: " << c.toml);
    ServerOptions o;
    o.toml = c.toml;
    PullprintServer server(o);
    server.start();
    CHECK(analysisProcessPolicy(server) == c.policy);
  }
}

TEST_CASE("a document starved of CPU at background priority is counted at normal priority") {
  ServerOptions o;
  o.toml = "[analysis]\ntime_limit_ms = 3000\n";
  PullprintServer server(o);
  server.start();

  // Every core busy with a normal-priority loop: a SCHED_IDLE process gets
  // almost no CPU (its weight is 3 against 1024) until they stop.
  std::vector<Process> hogs = busyLoopOnEveryCore();

  // 2,000 pages without DSC comments: Ghostscript counts them, about 0.2 s of
  // CPU alone, far more than the background attempt gets in 3 s.
  const std::string ps =
      "%!PS\n1 1 2000 { pop newpath 72 72 moveto 300 300 lineto stroke showpage } for\n";
  const int id = submit(server, ps, "application/postscript", 1, "one-sided");
  IppReply job;
  const bool counted = waitForAttribute(server, id, "job-pages", &job);
  for (Process& hog : hogs) hog.terminate(1000ms);
  INFO(server.log());
  REQUIRE(counted);
  CHECK(job.ipp.integer("job-pages") == 2000);
  CHECK(contains(server.log(), "analysis.retry"));
}
