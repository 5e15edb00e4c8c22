// Running pullprintd as an operator does (docs/operations.md), with the real
// binary on real files:
//  - a second pullprintd on the same state directory is refused and names
//    the one that runs; the running one keeps serving;
//  - `pullprintd --backup` while the server takes jobs, then a restore into
//    a new state directory with the spool copied after the snapshot: every
//    job in the snapshot is held with a byte-identical document;
//  - a restore that lost a document: the start says which job, the job stays
//    held, nothing else changes;
//  - [retention] job_details_days: a job that ended longer ago loses its
//    name, document names and source address at the next start (the age is
//    the one thing the test fakes, by moving completed_at back in the
//    SQLite file); a held job and the figures stay.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <regex>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

CommandResult pullprintd(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PULLPRINTD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, 60s);
}

// Runs one SQL statement on the (stopped) server's database.
void execSql(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

// One text column of one row ("" when absent).
std::string sqlText(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

}  // namespace

TEST_CASE("a second pullprintd on the same state directory is refused", "[operations]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  PrintResult before =
      printJob(srv.port(), "alice", randomBytes(5000, 1), "followme", "application/octet-stream");
  REQUIRE(before.jobId > 0);

  // Same state directory and config (so the same port too): the lock must
  // refuse it before it gets as far as the port.
  CommandResult second =
      pullprintd({"--state-dir", srv.stateDir().string(), "--config", srv.configPath().string()});
  INFO(second.describe());
  CHECK(second.exitCode == 2);
  CHECK(contains(second.err,
                 "is in use by another pullprintd (pid " + std::to_string(srv.pid()) + ")"));

  // The running server lost nothing and still serves.
  CHECK(printerAnswers(srv.port()));
  CHECK(sha256File(srv.documentPath(before.jobId)) == jobRow(srv.database(), before.jobId)->sha256);
  PrintResult after =
      printJob(srv.port(), "alice", randomBytes(5000, 2), "followme", "application/octet-stream");
  CHECK(after.jobId > before.jobId);

  // Once it is gone (even by kill -9) the lock goes with it.
  srv.kill9();
  srv.start();
  CHECK(printerAnswers(srv.port()));
}

TEST_CASE("a damaged database stops the start with a clear message, and changes nothing",
          "[operations]") {
  PullprintServer srv;
  srv.start();
  PrintResult before =
      printJob(srv.port(), "alice", randomBytes(5000, 3), "followme", "application/octet-stream");
  REQUIRE(before.jobId > 0);
  srv.stop();
  // What a bad restore or a bad disk can leave: not an SQLite file at all.
  const std::string garbage = randomBytes(64 * 1024, 4);
  writeFile(srv.database(), garbage);
  fs::remove(srv.database().string() + "-wal");
  fs::remove(srv.database().string() + "-shm");

  CommandResult r =
      pullprintd({"--state-dir", srv.stateDir().string(), "--config", srv.configPath().string()});
  INFO(r.describe());
  CHECK(r.exitCode == 2);
  CHECK(contains(r.err, srv.database().string() + ": not a database, or a damaged one"));
  CHECK(contains(r.err, "restore the last backup"));
  // Nothing was written over it, and the spool was left alone.
  CHECK(sha256File(srv.database()) == sha256Hex(garbage));
  CHECK(fs::exists(srv.documentPath(before.jobId)));
}

TEST_CASE("backup while serving, restore elsewhere: the snapshot's jobs, documents identical",
          "[operations]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  std::vector<int> early;
  for (int i = 0; i < 20; ++i) {
    PrintResult r = printJob(srv.port(), "alice", randomBytes(20000 + i * 1000, 100 + i),
                             "followme", "application/octet-stream");
    REQUIRE(r.jobId > 0);
    early.push_back(r.jobId);
  }

  // Jobs keep arriving while the snapshot is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread client([&] {
    for (int i = 0; !stop && i < 400; ++i)
      if (printJob(srv.port(), "bob", randomBytes(30000, 500 + i), "followme",
                   "application/octet-stream")
              .jobId > 0)
        ++acked;
  });
  REQUIRE(waitFor([&] { return acked > 3; }, 20s));
  TempDir restored("pullprint-restore");
  const fs::path dest = restored.path() / "snapshot.db";
  CommandResult backup = pullprintd({"--state-dir", srv.stateDir().string(), "--config",
                                     srv.configPath().string(), "--backup", dest.string()});
  // Documents after the snapshot: a job in it has its file on disk already.
  const fs::path state = restored.path() / "state";
  fs::create_directories(state);
  fs::copy(srv.spoolDir(), state / "spool", fs::copy_options::recursive);
  stop = true;
  client.join();
  INFO(backup.describe());
  REQUIRE(backup.ok());
  std::smatch m;
  REQUIRE(std::regex_search(backup.out, m, std::regex(R"(, (\d+) jobs of which (\d+) waiting)")));
  const int snapshot_jobs = std::stoi(m[1]);
  CHECK(snapshot_jobs >= 20);
  CHECK(contains(backup.out, "back up the spool directory"));
  CHECK(printerAnswers(srv.port()));  // the server never paused

  // Restore: the snapshot becomes the new database; start a server on it.
  fs::copy_file(dest, state / "pullprint.db");
  ServerOptions so;
  so.stateDir = state;
  PullprintServer back(so);
  back.start();
  INFO(back.describe());
  auto rows = jobRows(back.database());
  CHECK(static_cast<int>(rows.size()) == snapshot_jobs);
  for (int id : early) {
    auto row = jobRow(back.database(), id);
    REQUIRE(row.has_value());
    CHECK(row->state == "held");
  }
  // A job still arriving when the snapshot was taken was not acknowledged
  // then: the restored server aborts it, as after a crash at that moment.
  // The one client thread has at most one such job.
  int aborted = 0;
  for (const auto& row : rows) {
    INFO("job " << row.id << " " << row.state);
    if (row.state == "aborted") {
      ++aborted;
      CHECK(row.owner == "bob");
      continue;
    }
    CHECK(row.state == "held");
    CHECK(sha256File(back.documentPath(row.id)) == row.sha256);
  }
  CHECK(aborted <= 1);
  CHECK(contains(back.log(), "documents_missing=0"));
  // A job it held is still the owner's, over IPP.
  IppReply got = getJob(back.port(), early.front(), "alice");
  CHECK(got.status() == IPP_STATUS_OK);
  CHECK(got.ipp.string("job-state-reasons") == "job-hold-until-specified");
}

TEST_CASE("a restore that lost a document: named at start, the job stays held", "[operations]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  PrintResult kept =
      printJob(srv.port(), "alice", randomBytes(8000, 7), "followme", "application/octet-stream");
  PrintResult lost =
      printJob(srv.port(), "bob", randomBytes(9000, 8), "followme", "application/octet-stream");
  REQUIRE(kept.jobId > 0);
  REQUIRE(lost.jobId > 0);
  srv.stop();
  fs::remove(srv.documentPath(lost.jobId));

  srv.start();
  const std::string log = srv.log();
  CHECK(contains(log, "event=spool.documents-missing"));
  CHECK(contains(log, "jobs=" + std::to_string(lost.jobId)));
  CHECK(jobRow(srv.database(), lost.jobId)->state == "held");
  CHECK(jobRow(srv.database(), kept.jobId)->state == "held");
  CHECK(sha256File(srv.documentPath(kept.jobId)) == jobRow(srv.database(), kept.jobId)->sha256);
  CHECK(printerAnswers(srv.port()));
}

TEST_CASE("retention: a job that ended long ago loses its name and address at start",
          "[operations][retention]") {
  ServerOptions o;
  o.toml = "[retention]\njob_details_days = 30\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  PrintResult old =
      printJob(srv.port(), "alice", randomBytes(4000, 9), "followme", "application/octet-stream");
  PrintResult held =
      printJob(srv.port(), "alice", randomBytes(4000, 10), "followme", "application/octet-stream");
  REQUIRE(old.jobId > 0);
  REQUIRE(held.jobId > 0);
  Ipp cancel = Ipp::request(IPP_OP_CANCEL_JOB, srv.uri(), "alice");
  ippAddInteger(cancel.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", old.jobId);
  REQUIRE(ippPost(srv.port(), cancel).status() == IPP_STATUS_OK);
  const fs::path db = srv.database();
  const std::string where = " FROM jobs WHERE id=" + std::to_string(old.jobId);
  REQUIRE(waitFor([&] { return sqlText(db, "SELECT state" + where) == "canceled"; }, 5s));
  CHECK(sqlText(db, "SELECT name" + where) == "itest");
  CHECK(sqlText(db, "SELECT source_address" + where) == "127.0.0.1");
  srv.stop();
  CHECK_FALSE(contains(srv.log(), "retention.job-details-removed"));  // nothing was old enough

  // Forty days pass (the one thing faked), then the server starts again.
  execSql(db,
          "UPDATE jobs SET completed_at = completed_at - 40*86400, created_at = created_at - "
          "40*86400 WHERE id=" +
              std::to_string(old.jobId));
  srv.start();
  REQUIRE(waitFor([&] { return contains(srv.log(), "event=retention.job-details-removed"); }, 10s));
  CHECK(contains(srv.log(), "jobs=1"));
  CHECK(sqlText(db, "SELECT name" + where).empty());
  CHECK(sqlText(db, "SELECT source_address" + where).empty());
  CHECK(
      sqlText(db, "SELECT name FROM documents WHERE job_id=" + std::to_string(old.jobId)).empty());
  CHECK(sqlText(db, "SELECT owner" + where) == "alice");
  CHECK(sqlText(db, "SELECT state" + where) == "canceled");
  // Over IPP the owner sees the job, nameless.
  IppReply got = getJob(srv.port(), old.jobId, "alice");
  REQUIRE(got.status() == IPP_STATUS_OK);
  CHECK(got.ipp.string("job-name").value_or("?").empty());
  // The held job is untouched and still printable.
  const std::string held_where = " FROM jobs WHERE id=" + std::to_string(held.jobId);
  CHECK(sqlText(db, "SELECT name" + held_where) == "itest");
  CHECK(sqlText(db, "SELECT source_address" + held_where) == "127.0.0.1");
  CHECK(jobRow(db, held.jobId)->state == "held");
}
