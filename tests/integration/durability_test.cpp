// Acceptance 2: an acknowledged job survives `kill -9`.
//
// Many Print-Jobs arrive over IPP, several at once. The instant the last one
// is acknowledged the server is SIGKILLed (no clean shutdown, no flush). After
// a restart on the same state directory every acknowledged job is there,
// held, with a byte-identical spool file. An upload cut off mid-body before
// the kill is reported aborted and its partial file is gone; a stray file in
// the spool directory is removed.
//
// Also: a power cut that loses unsynced spool files (the document journal),
// and a spool file system that fails and turns read-only (a real ext4 image).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

struct Acked {
  int id;
  std::string sha;
  size_t size;
};

// An ext4 file system in an image file, loop-mounted at `at` with
// errors=remount-ro (what Debian's installer puts on /): a real file system
// that can be made to fail. Needs root and loop devices; available() says
// whether the mount worked. Unmounted on destruction.
class Ext4Image {
 public:
  Ext4Image(const fs::path& image, const fs::path& at, int mib) : image_(image), at_(at) {
    fs::create_directories(at);
    auto mk = runCommand({"truncate", "-s", std::to_string(mib) + "M", image.string()});
    if (mk.ok()) mk = runCommand({"mkfs.ext4", "-q", "-F", image.string()}, 60s);
    available_ = mk.ok() && mount();
  }
  ~Ext4Image() {
    if (available_) runCommand({"umount", "-l", at_.string()});
  }
  Ext4Image(const Ext4Image&) = delete;
  Ext4Image& operator=(const Ext4Image&) = delete;

  bool available() const { return available_; }

  // ext4's own error path, as after a failed metadata write: the file system
  // turns read-only at once, and what the page cache holds unwritten stays
  // unwritten (/sys/fs/ext4/<device>/trigger_fs_error).
  void fail() {
    auto src = runCommand({"findmnt", "-n", "-o", "SOURCE", at_.string()});
    REQUIRE(src.ok());
    std::string dev = fs::path(src.out.substr(0, src.out.find('\n'))).filename().string();
    writeFile(fs::path("/sys/fs/ext4") / dev / "trigger_fs_error", "pullprint test\n");
    // "ro,...", or "rw,...,emergency_ro" on kernels since 6.? that keep the
    // mount flags and mark the file system itself.
    auto opts = runCommand({"findmnt", "-n", "-o", "OPTIONS", at_.string()});
    INFO(opts.out);
    REQUIRE((opts.out.rfind("ro,", 0) == 0 || contains(opts.out, "emergency_ro")));
  }

  // What an administrator does next: unmount, check, mount again.
  void repair() {
    REQUIRE(runCommand({"umount", at_.string()}).ok());
    auto fsck = runCommand({"e2fsck", "-fy", image_.string()}, 60s);
    INFO(fsck.out << fsck.err);
    REQUIRE((fsck.exitCode == 0 || fsck.exitCode == 1));  // 1: errors corrected
    REQUIRE(mount());
  }

 private:
  bool mount() {
    return runCommand({"mount", "-o", "loop,errors=remount-ro", image_.string(), at_.string()})
        .ok();
  }
  fs::path image_, at_;
  bool available_ = false;
};

}  // namespace

TEST_CASE("every acknowledged job survives kill -9 and restart", "[durability]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  // The WAL has its room (6,000 frames of zeros) before the first job, so
  // the kill below leaves a WAL of frames, then zeros, for the restart to
  // read.
  CHECK(fs::file_size(srv.database().string() + "-wal") >= 32 + 6000 * (4096 + 24));

  // --- An upload that is cut mid-body: headers + IPP + half the document,
  // then the connection stays open and silent until the kill. ---
  const std::string partialDoc = randomBytes(400 * 1024, 4242);
  Ipp partialReq = Ipp::request(IPP_OP_PRINT_JOB, srv.uri(), "mallory");
  ippAddString(partialReq.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               "application/octet-stream");
  std::string partialIpp = partialReq.encode();
  RawConn partial(srv.port());
  REQUIRE(partial.send(httpHead(srv.port(), "/printers/followme",
                                static_cast<long long>(partialIpp.size() + partialDoc.size())) +
                       partialIpp + partialDoc.substr(0, partialDoc.size() / 2)));
  // Wait until the server has recorded the job and written part of the file
  // (still unnamed: it gets its name only once complete).
  std::int64_t partialId = 0;
  REQUIRE(waitFor(
      [&] {
        for (auto& r : jobRows(srv.database()))
          if (r.owner == "mallory" && r.state == "receiving") partialId = r.id;
        return partialId > 0 && srv.bytesBeingReceived() > 0;
      },
      10s));
  CHECK_FALSE(fs::exists(srv.documentPath(partialId)));

  // --- 50 Print-Jobs, 5 clients at once, documents of different sizes. ---
  constexpr int kClients = 5;
  constexpr int kPerClient = 10;
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        std::uint32_t seed = static_cast<std::uint32_t>(1000 + c * 100 + i);
        std::string doc = randomBytes(1024 + (seed * 7919) % (256 * 1024), seed);
        try {
          PrintResult r = printJob(srv.port(), "user" + std::to_string(c), doc, "followme",
                                   "application/octet-stream");
          std::lock_guard lock(mu);
          if (r.jobId > 0)
            acked.push_back({r.jobId, sha256Hex(doc), doc.size()});
          else
            failures.push_back("HTTP " + std::to_string(r.reply.http.status) + " status " +
                               std::to_string(r.reply.status()));
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          failures.push_back(e.what());
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  // The server's children: its long-lived analysis process.
  const std::vector<pid_t> children = childProcesses(srv.pid());
  CHECK_FALSE(children.empty());
  srv.kill9();  // right after the last acknowledgement
  // They do not outlive the server: the analysis process ends when its
  // socket to the server closes.
  CHECK(
      waitFor([&] { return std::none_of(children.begin(), children.end(), processRunning); }, 10s));

  INFO("failures: " << failures.size() << (failures.empty() ? "" : " first: " + failures[0]));
  REQUIRE(failures.empty());
  REQUIRE(acked.size() == kClients * kPerClient);

  // A file nobody claims, as a crash between create and commit could leave.
  const fs::path orphan = srv.documentPath(99999, 1);
  writeFile(orphan, "orphan bytes");

  srv.start();

  // --- Every acknowledged job: held, recorded hash = file hash = sent hash. ---
  for (const Acked& a : acked) {
    INFO("job " << a.id);
    auto row = jobRow(srv.database(), a.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(row->sha256 == a.sha);
    CHECK(row->size == static_cast<std::int64_t>(a.size));
    CHECK(sha256File(srv.documentPath(a.id)) == a.sha);
    IppReply r = getJob(srv.port(), a.id, "root");
    REQUIRE(r.ipp);
    CHECK(r.ipp.integer("job-state") == 4);
  }

  // --- The cut upload: aborted; its partial file never had a name, so the
  // kill left nothing of it behind. ---
  auto prow = jobRow(srv.database(), partialId);
  REQUIRE(prow);
  CHECK(prow->state == "aborted");
  CHECK_FALSE(fs::exists(srv.documentPath(partialId)));
  IppReply pr = getJob(srv.port(), static_cast<int>(partialId), "mallory");
  REQUIRE(pr.ipp);
  CHECK(pr.ipp.integer("job-state") == 8);

  // --- The orphan is gone, and nothing else is in the spool directory. ---
  CHECK_FALSE(fs::exists(orphan));
  CHECK(listFiles(srv.spoolDir()).size() == acked.size());
  CHECK(srv.log().find("aborted_jobs=1 orphan_files_removed=1") != std::string::npos);

  // The server keeps numbering after the recovered jobs.
  PrintResult next = printJob(srv.port(), "alice", "after restart", "followme", "text/plain");
  CHECK(next.jobId > static_cast<int>(partialId));
}

// The document journal (spooler/committer.h): a small document is
// acknowledged once its bytes are in the database's WAL with its job, before
// its spool file is synced. A power cut can then lose the file's data, which
// kill -9 alone never does (the page cache survives it), so the test does
// that part by hand: after the kill it deletes, empties or zeroes the spool
// files of the journaled documents, as a lost page cache would leave them.
TEST_CASE("a power cut that loses unsynced spool files loses no acknowledged job",
          "[durability][journal]") {
  ServerOptions o;
  // No background sync during the test: every small document stays journaled.
  o.spoolToml = "journal_sync_delay_ms = 3600000\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());

  constexpr std::int64_t kJournalMax = 256 * 1024;  // the default journal_max_bytes
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 6; ++i) {
        std::uint32_t seed = static_cast<std::uint32_t>(5000 + c * 100 + i);
        // Mostly small; every sixth is over the limit (synced before its row).
        size_t size = i == 5 ? 300 * 1024 + seed % 4096 : 1 + (seed * 7919) % kJournalMax;
        std::string doc = randomBytes(size, seed);
        PrintResult r = printJob(srv.port(), "user" + std::to_string(c), doc, "followme",
                                 "application/octet-stream");
        std::lock_guard lock(mu);
        acked.push_back({r.jobId, sha256Hex(doc), doc.size()});
      }
    });
  }
  for (auto& t : clients) t.join();
  for (const Acked& a : acked) REQUIRE(a.id > 0);

  // Journaled: exactly the documents up to the limit.
  std::vector<std::int64_t> small;
  for (const Acked& a : acked)
    if (static_cast<std::int64_t>(a.size) <= kJournalMax) small.push_back(a.id);
  std::sort(small.begin(), small.end());
  REQUIRE(small.size() == 20);
  CHECK(journaledJobs(srv.database()) == small);
  // Waiting for the flusher holds no descriptor: one syncfs() of the spool's
  // file system will sync them all (a long journal_sync_delay_ms must not
  // run the server out of descriptors).
  CHECK(srv.openSpoolFiles() == 0);

  srv.kill9();
  int n = 0;
  for (std::int64_t id : small) {
    const fs::path p = srv.documentPath(id);
    switch (n++ % 3) {
      case 0:
        fs::remove(p);
        break;
      case 1:
        fs::resize_file(p, 0);
        break;
      default: {
        const auto size = fs::file_size(p);
        fs::resize_file(p, size / 2);
        fs::resize_file(p, size);  // the second half reads as zeros
      }
    }
  }

  srv.start();
  CHECK(contains(srv.log(), "restored_from_journal=20"));
  CHECK(contains(srv.log(), "documents_missing=0"));
  for (const Acked& a : acked) {
    INFO("job " << a.id << ", " << a.size << " bytes");
    auto row = jobRow(srv.database(), a.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(sha256File(srv.documentPath(a.id)) == a.sha);
  }
  CHECK(journaledJobs(srv.database()).empty());  // rewritten, synced, emptied

  // A clean stop syncs what is journaled and empties the journal.
  const std::string last = randomBytes(5000, 77);
  PrintResult r = printJob(srv.port(), "alice", last, "followme", "application/octet-stream");
  REQUIRE(r.jobId > 0);
  CHECK(journaledJobs(srv.database()) == std::vector<std::int64_t>{r.jobId});
  srv.stop();
  CHECK(journaledJobs(srv.database()).empty());
  CHECK(sha256File(srv.documentPath(r.jobId)) == sha256Hex(last));
}

// The journal's flusher when the spool's file system fails under it: ext4
// reports an error and turns read-only with acknowledged documents still
// unwritten. The flush fails, the journal copies stay, and once the file system
// is repaired a restart writes every document again from the journal.
TEST_CASE("a spool file system that fails (ext4 error, read-only) loses no acknowledged job",
          "[durability][journal][ext4]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to mount an ext4 image");
    return;
  }
  TempDir work("itest-ext4");
  Ext4Image disk(work / "disk.img", work / "mnt", 64);
  if (!disk.available()) {
    WARN("skipped: cannot loop-mount an ext4 image here");
    return;
  }
  ServerOptions o;
  o.stateDir = work / "mnt" / "state";
  // Every acknowledged document still waits in the journal when the file
  // system fails (they take well under 2 s to submit); the flush after
  // 2 s meets the failure.
  o.spoolToml = "min_free_bytes = 0\njournal_sync_delay_ms = 2000\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());

  std::vector<Acked> acked;
  for (int i = 0; i < 10; ++i) {
    std::string doc = randomBytes(4000 + 997 * i, 6000 + i);
    PrintResult r = printJob(srv.port(), "alice", doc, "followme", "application/octet-stream");
    REQUIRE(r.jobId > 0);
    acked.push_back({r.jobId, sha256Hex(doc), doc.size()});
  }

  disk.fail();
  // Nothing new is accepted, clearly refused; what is held is still listed.
  PrintResult refused = printJob(srv.port(), "alice", randomBytes(3000, 6100), "followme",
                                 "application/octet-stream");
  REQUIRE(refused.reply.ipp);
  CHECK(refused.jobId == 0);
  // A temporary error either way: a site's CUPS then keeps the job and tries
  // again, where an internal error would stop its queue.
  CHECK(refused.reply.ipp.status() == IPP_STATUS_ERROR_TEMPORARY);
  // Whichever write fails first: the spool file ("Read-only file system")
  // or the job's row (SQLite's "disk I/O error").
  const std::string why = refused.reply.ipp.string("status-message").value_or("");
  INFO("status-message: " << why);
  CHECK((contains(why, "Read-only file system") || contains(why, "disk I/O error")));
  IppReply held = getJob(srv.port(), acked.back().id, "alice");
  REQUIRE(held.ipp);
  CHECK(held.ipp.integer("job-state") == 4);
  REQUIRE(
      waitFor([&] { return contains(srv.log(), "event=spool.flush-failed documents=10"); }, 10s));
  // Monitoring sees both failures without reading logs.
  const std::string metrics = metricsText(srv.port());
  CHECK(contains(metrics, "\npullprint_journal_flush_failures_total 1\n"));
  CHECK_FALSE(contains(metrics, "\npullprint_store_write_failures_total 0\n"));
  srv.stop();

  disk.repair();
  // The failed flush freed no journal slot: every copy is still there.
  std::vector<std::int64_t> ids;
  for (const Acked& a : acked) ids.push_back(a.id);
  CHECK(journaledJobs(srv.database()) == ids);

  srv.start();
  CHECK(contains(srv.log(), "restored_from_journal=10"));
  for (const Acked& a : acked) {
    INFO("job " << a.id);
    auto row = jobRow(srv.database(), a.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(sha256File(srv.documentPath(a.id)) == a.sha);
  }
  CHECK(journaledJobs(srv.database()).empty());
  srv.stop();
}

TEST_CASE("journaled documents leave the journal once their files are synced",
          "[durability][journal]") {
  SECTION("by default, within a fraction of a second") {
    PullprintServer srv;
    srv.start();
    INFO(srv.describe());
    for (int i = 0; i < 5; ++i)
      REQUIRE(printJob(srv.port(), "alice", randomBytes(2000, 90 + i), "followme",
                       "application/octet-stream")
                  .jobId > 0);
    CHECK(waitFor([&] { return journaledJobs(srv.database()).empty(); }, 10s));
  }
  SECTION("journal_max_bytes = 0: every file is synced before its job commits") {
    ServerOptions o;
    o.spoolToml = "journal_max_bytes = 0\njournal_sync_delay_ms = 3600000\n";
    PullprintServer srv(o);
    srv.start();
    INFO(srv.describe());
    PrintResult r = printJob(srv.port(), "alice", randomBytes(2000, 99), "followme",
                             "application/octet-stream");
    REQUIRE(r.jobId > 0);
    CHECK(journaledJobs(srv.database()).empty());
  }
}

// Where syncfs() is refused (a container's or service manager's seccomp
// filter), the journal's flusher cannot work: the server says so at start
// and syncs every file before its job commits, as with journal_max_bytes = 0.
TEST_CASE("where syncfs() is refused, every file is synced before its job commits",
          "[durability][journal]") {
  ServerOptions o;
  o.launcher = denySyscall("syncfs", EPERM);
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  CHECK(contains(srv.log(), "spool.journal-disabled"));
  std::vector<Acked> acked;
  for (int i = 0; i < 3; ++i) {
    const std::string doc = randomBytes(3000 + static_cast<size_t>(i), 40 + i);
    PrintResult r = printJob(srv.port(), "alice", doc, "followme", "application/octet-stream");
    REQUIRE(r.jobId > 0);
    acked.push_back({r.jobId, sha256Hex(doc), doc.size()});
  }
  CHECK(journaledJobs(srv.database()).empty());
  const std::string metrics = metricsText(srv.port());
  CHECK(contains(metrics, "\npullprint_journaled_documents_total 0\n"));
  CHECK(contains(metrics, "\npullprint_spool_files_synced_total 3\n"));

  srv.kill9();
  srv.start();
  for (const Acked& a : acked) {
    auto row = jobRow(srv.database(), a.id);
    REQUIRE(row);
    CHECK(row->state == "held");
    CHECK(sha256File(srv.documentPath(a.id)) == a.sha);
  }
}
