// Acceptance 1: a site's CUPS server forwards to pullprint's follow-me queue.
//
// A private cupsd has a queue whose device URI is pullprint's follow-me
// queue (lpadmin -m everywhere, added after pullprintd is up so that cupsd
// can build the PPD from pullprint's Get-Printer-Attributes answer).
// `lp -U alice` to that CUPS queue must end as a held job in pullprint owned
// by alice, and the spooled document must be exactly what CUPS sent.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

// Text that Ghostscript extracts from a PDF (txtwrite).
std::string pdfText(const fs::path& file) {
  auto r = runCommand({"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=txtwrite", "-o",
                       "-", file.string()},
                      30s);
  return r.out;
}

// Waits until pullprint's store has `n` jobs in state `state`; returns them.
std::vector<JobRow> waitForRows(const PullprintServer& srv, size_t n, const std::string& state) {
  std::vector<JobRow> held;
  waitFor(
      [&] {
        held.clear();
        for (auto& r : jobRows(srv.database()))
          if (r.state == state) held.push_back(r);
        return held.size() >= n;
      },
      30s, 50ms);
  return held;
}

// A work directory for the documents given to lp: readable by the `lp`
// user, whom cupsd runs filters and backends as.
TempDir lpWorkDir(std::string_view prefix) {
  TempDir work(prefix);
  fs::permissions(work.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  return work;
}

// After a refusal or a failed connection: CUPS keeps the job (not
// finished) and its queue keeps running.
void checkKeptByCups(const PrivateCupsd& cups, int cupsJob) {
  std::this_thread::sleep_for(3s);  // time for CUPS to act on the failure
  JobStatus kept = cups.jobStatus(cupsJob);
  INFO("CUPS job: " << kept.state << " (" << kept.reasons << ")\n" << cups.errorLogTail());
  CHECK(kept.known());
  CHECK_FALSE(kept.finished());
  CHECK(cups.printerState("followme") != "stopped");
}

// Then CUPS delivers it: held in pullprint under alice, its spool file the
// one recorded, byte-identical to `raw` when CUPS ran no filter (given),
// and the CUPS job completes.
void checkDeliveredLater(const PullprintServer& srv, const PrivateCupsd& cups, int cupsJob,
                         const std::string* raw) {
  auto held = waitForRows(srv, 1, "held");
  REQUIRE(held.size() == 1);
  CHECK(held[0].owner == "alice");
  CHECK(sha256File(srv.documentPath(held[0].id)) == held[0].sha256);
  CHECK(readFile(srv.documentPath(held[0].id)).substr(0, 5) == "%PDF-");
  if (raw) CHECK(held[0].sha256 == sha256Hex(*raw));
  CHECK(cups.waitForJobState(cupsJob, "completed", 60s));
  CHECK(cups.printerState("followme") != "stopped");
}

}  // namespace

TEST_CASE("lp -U alice through a CUPS queue ends held in pullprint, document intact",
          "[cups][followme]") {
  PullprintServer srv;
  srv.start();
  PrivateCupsd cups;
  // Device URI = pullprint's follow-me queue, with a backend option in the
  // query as sites often write it (cupsd sends the whole URI as printer-uri
  // when it builds the PPD; pullprint must ignore the query).
  cups.addQueue("followme", srv.uri("followme") + "?waitjob=false");
  TempDir work = lpWorkDir("itest-cups");
  INFO(srv.describe() << cups.describe());

  SECTION("PDF through CUPS's filters") {
    makePdf(work / "alice-report.pdf", 2, "alice-report");
    int cupsJob = cups.lp("followme", work / "alice-report.pdf", {}, "alice", "alice report");
    REQUIRE(cupsJob > 0);

    auto held = waitForRows(srv, 1, "held");
    REQUIRE(held.size() == 1);
    const JobRow& row = held[0];
    CHECK(row.owner == "alice");

    // --- IPP view of the job (Get-Job-Attributes as alice) ---
    IppReply r = getJob(srv.port(), static_cast<int>(row.id), "alice");
    REQUIRE(r.ipp);
    CHECK(r.ipp.status() == IPP_STATUS_OK);
    CHECK(r.ipp.integer("job-state") == 4);  // pending-held
    auto reasons = r.ipp.strings("job-state-reasons");
    CHECK(std::find(reasons.begin(), reasons.end(), "job-hold-until-specified") != reasons.end());
    CHECK(r.ipp.string("job-hold-until") == "indefinite");
    CHECK(r.ipp.string("job-originating-user-name") == "alice");
    CHECK(r.ipp.string("job-name") == "alice report");

    // --- ... and through ipptool's own Get-Jobs (a different IPP client) ---
    auto gj = runIppTool(
        {"-t", "-d", "requser=alice", srv.uri("followme"), "/usr/share/cups/ipptool/get-jobs.test"},
        20s);
    INFO(gj.describe());
    CHECK(gj.ok());

    // --- The spooled document: the file's hash is the recorded hash, and it
    // is the PDF CUPS produced from alice's file (both pages, her text). ---
    fs::path doc = srv.documentPath(row.id);
    REQUIRE(fs::exists(doc));
    CHECK(sha256File(doc) == row.sha256);
    CHECK(static_cast<std::int64_t>(fs::file_size(doc)) == row.size);
    std::string head = readFile(doc).substr(0, 5);
    CHECK(head == "%PDF-");
    std::string text = pdfText(doc);
    CHECK(text.find("alice-report page 1 of 2") != std::string::npos);
    CHECK(text.find("alice-report page 2 of 2") != std::string::npos);

    // CUPS hands the job over and completes its own copy.
    CHECK(cups.waitForJobState(cupsJob, "completed", 30s));
  }

  SECTION("raw job: the spool file is byte-identical to what lp sent") {
    // -o raw: CUPS runs no filter, so what it sends is exactly the file.
    std::string bytes = smallPdf(work.path(), "alice-raw", 3);
    int cupsJob = cups.lp("followme", work / "alice-raw.pdf", {{"raw", "true"}}, "alice");
    REQUIRE(cupsJob > 0);
    auto held = waitForRows(srv, 1, "held");
    REQUIRE(held.size() == 1);
    CHECK(held[0].owner == "alice");
    CHECK(held[0].sha256 == sha256Hex(bytes));
    CHECK(sha256File(srv.documentPath(held[0].id)) == sha256Hex(bytes));
    IppReply r = getJob(srv.port(), static_cast<int>(held[0].id), "alice");
    REQUIRE(r.ipp);
    CHECK(r.ipp.integer("job-state") == 4);
    CHECK(r.ipp.string("job-originating-user-name") == "alice");
    CHECK(cups.waitForJobState(cupsJob, "completed", 30s));
  }
}

TEST_CASE("a CUPS queue with the plain device URI delivers a held job to pullprint",
          "[cups][followme]") {
  // The plain device URI, exactly as the issue describes it.
  PullprintServer srv;
  srv.start();
  PrivateCupsd cups;
  cups.addQueue("followme", srv.uri("followme"));
  TempDir work = lpWorkDir("itest-cups-plain");
  INFO(srv.describe() << cups.describe());
  makePdf(work / "alice-plain.pdf", 1, "alice-plain");
  int cupsJob = cups.lp("followme", work / "alice-plain.pdf", {}, "alice");
  REQUIRE(cupsJob > 0);
  auto held = waitForRows(srv, 1, "held");
  REQUIRE(held.size() == 1);
  CHECK(held[0].owner == "alice");
  CHECK(sha256File(srv.documentPath(held[0].id)) == held[0].sha256);
  IppReply r = getJob(srv.port(), static_cast<int>(held[0].id), "alice");
  REQUIRE(r.ipp);
  CHECK(r.ipp.integer("job-state") == 4);
  CHECK(r.ipp.string("job-hold-until") == "indefinite");
  CHECK(r.ipp.string("job-originating-user-name") == "alice");
  // CUPS's ipp backend does not wait for a held remote job to complete: the
  // CUPS job completes once pullprint holds it, so the CUPS queue moves on.
  CHECK(cups.waitForJobState(cupsJob, "completed", 30s));
}

TEST_CASE(
    "pullprint's disk is full: the site's CUPS keeps the job and delivers it once there is room",
    "[cups][followme][tmpfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount a tmpfs");
    return;
  }
  // pullprint's whole state directory (database and spool) on a small
  // tmpfs, so that the test can fill it.
  SmallDisk disk("itest-cups-full", "16m");
  ServerOptions o;
  o.stateDir = disk.path() / "state";
  o.spoolToml = "min_free_bytes = 0\n";
  PullprintServer srv(o);
  srv.start();
  PrivateCupsd cups;
  cups.addQueue("followme", srv.uri("followme"));
  TempDir work = lpWorkDir("itest-cups-full-work");
  INFO(srv.describe() << cups.describe());
  const std::string bytes = smallPdf(work.path(), "alice-full", 2);

  disk.fill(0);
  int cupsJob = cups.lp("followme", work / "alice-full.pdf", {{"raw", "true"}}, "alice");
  REQUIRE(cupsJob > 0);

  // CUPS's backend tries; pullprint refuses for lack of room (a temporary
  // error), and CUPS keeps the job to try again.
  CHECK(waitFor([&] { return contains(srv.log(), "status=server-error-temporary-error"); }, 30s,
                100ms));
  checkKeptByCups(cups, cupsJob);
  for (const auto& row : jobRows(srv.database())) CHECK(row.state != "held");

  // Room again: CUPS's next try delivers the job, held under alice, intact.
  disk.free();
  checkDeliveredLater(srv, cups, cupsJob, &bytes);
}

TEST_CASE(
    "pullprintd stopped (an upgrade, a restart): the site's CUPS keeps the job and delivers it "
    "once pullprintd is back",
    "[cups][followme]") {
  PullprintServer srv;
  srv.start();
  PrivateCupsd cups;
  cups.addQueue("followme", srv.uri("followme"));
  TempDir work = lpWorkDir("itest-cups-down");
  INFO(srv.describe() << cups.describe());
  const std::string bytes = smallPdf(work.path(), "alice-down", 1);

  srv.stop();
  int cupsJob = cups.lp("followme", work / "alice-down.pdf", {{"raw", "true"}}, "alice");
  REQUIRE(cupsJob > 0);
  // CUPS's backend finds nobody listening and waits to try again.
  CHECK(waitFor(
      [&] {
        return contains(readFile(cups.errorLogPath()),
                        "[Job " + std::to_string(cupsJob) + "] Started backend");
      },
      20s, 100ms));
  checkKeptByCups(cups, cupsJob);

  // Back on the same port: the job arrives held under alice, intact.
  srv.start();
  checkDeliveredLater(srv, cups, cupsJob, &bytes);
}

TEST_CASE(
    "the spool short of room: the site's CUPS keeps the job and delivers it once there is room",
    "[cups][followme][tmpfs]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount a tmpfs");
    return;
  }
  // CUPS sends Create-Job, then Send-Document. A refused Create-Job it tries
  // again about every 10 s; a Send-Document refused with anything but
  // service-unavailable it reports as completed, and the job is lost.
  struct Case {
    const char* name;
    const char* size;        // of the spool's tmpfs
    off_t spare;             // bytes left free
    const char* spool_toml;  // [spool] settings
    bool raw;                // lp -o raw: CUPS hands the backend the file (no filter)
    int pages;               // of the PDF printed
  };
  const Case cases[] = {
      // Less free than min_free_bytes (the default, 64 MiB): refused at
      // Create-Job (a PDF through CUPS's filters).
      {"below min_free_bytes", "80m", 16 << 20, "", false, 2},
      // Room for Create-Job, not for the document: its Send-Document runs
      // out of room half-way; new jobs then wait until it would fit.
      {"the document does not fit", "8m", 24 << 10, "min_free_bytes = 0\n", true, 150},
  };
  for (const Case& k : cases) {
    DYNAMIC_SECTION(k.name) {
      SmallDisk disk("itest-cups-room", k.size);
      ServerOptions o;
      o.spoolDir = disk.path() / "spool";
      o.spoolToml = k.spool_toml;
      PullprintServer srv(o);
      srv.start();
      PrivateCupsd cups;
      cups.addQueue("followme", srv.uri("followme"));
      TempDir work = lpWorkDir("itest-cups-room-work");
      INFO(srv.describe() << cups.describe());
      const std::string bytes = smallPdf(work.path(), "alice-room", k.pages);
      INFO("document: " << bytes.size() << " bytes");
      if (k.raw) REQUIRE(bytes.size() > static_cast<size_t>(k.spare));

      disk.fill(k.spare);
      std::vector<std::pair<std::string, std::string>> options;
      if (k.raw) options.emplace_back("raw", "true");
      int cupsJob = cups.lp("followme", work / "alice-room.pdf", options, "alice");
      REQUIRE(cupsJob > 0);
      CHECK(waitFor([&] { return contains(srv.log(), "status=server-error-"); }, 30s, 100ms));
      checkKeptByCups(cups, cupsJob);
      // No storm of attempts: CUPS waits between them.
      CHECK(jobRows(srv.database()).size() <= 3);

      disk.free();
      checkDeliveredLater(srv, cups, cupsJob, k.raw ? &bytes : nullptr);
    }
  }
}

TEST_CASE("a job the print policy denies: the site's CUPS cancels it and its queue goes on",
          "[cups][followme][policy]") {
  TempDir work = lpWorkDir("itest-cups-deny");
  fs::path policy = work / "policy.toml";
  pullprint::testing::writeFile(policy, R"(version = 1
[[rule]]
name = "no-spreadsheets"
document_name = "*.xlsx"
deny = "Spreadsheets are not printed here: export what you need as PDF."
)");
  ServerOptions o;
  o.toml = "[policy]\nfile = \"" + policy.string() + "\"\n";
  PullprintServer srv(o);
  srv.start();
  PrivateCupsd cups;
  cups.addQueue("followme", srv.uri("followme"));
  INFO(srv.describe() << cups.describe());
  const std::string bytes = smallPdf(work.path(), "alice-deny", 1);

  int denied = cups.lp("followme", work / "alice-deny.pdf", {}, "alice", "budget.xlsx");
  REQUIRE(denied > 0);
  // Not held "for authentication" (where it would stay): canceled, with
  // the queue running.
  CHECK(cups.waitForJobState(denied, "canceled", 30s));
  INFO(cups.errorLogTail());
  CHECK(cups.printerState("followme") != "stopped");
  CHECK(contains(srv.log(), "event=policy.denied"));

  int next = cups.lp("followme", work / "alice-deny.pdf", {}, "alice", "notes.pdf");
  REQUIRE(next > 0);
  CHECK(cups.waitForJobState(next, "completed", 30s));
  int held = 0;
  for (const auto& row : jobRows(srv.database())) held += row.state == "held";
  CHECK(held == 1);
}
