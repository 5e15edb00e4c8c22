// core/instance_lock.h and core/backup.h on real files and real SQLite
// databases. The end-to-end versions (a second pullprintd refused, a backup
// taken while pullprintd serves, then restored) are in
// tests/integration/operations_test.cpp.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/backup.h"
#include "core/instance_lock.h"
#include "core/store.h"

using namespace pullprint;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pullprint-ops-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

Job heldJob(JobId id) {
  Job j;
  j.id = id;
  j.queue = "followme";
  j.owner = "alice";
  j.name = "doc " + std::to_string(id);
  j.state = JobState::kHeld;
  j.created_at = 1000 + id;
  return j;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("instance lock: one holder at a time, named in the refusal, gone with its holder") {
  TempDir t;
  const fs::path file = t.path / "x.lock";
  {
    auto first = InstanceLock::acquire(file, "database X");
    REQUIRE(first.isOk());
    CHECK(slurp(file) == std::to_string(::getpid()) + "\n");
    // flock(2) locks belong to the open file: a second open conflicts even
    // in the same process, as a second pullprintd would.
    auto second = InstanceLock::acquire(file, "database X");
    REQUIRE_FALSE(second.isOk());
    CHECK(second.status().code() == StatusCode::kFailedPrecondition);
    CHECK(second.status().message() == "database X is in use by another pullprintd (pid " +
                                           std::to_string(::getpid()) + "); lock on " +
                                           file.string());
    // A moved lock keeps holding.
    InstanceLock moved = std::move(*first);
    CHECK_FALSE(InstanceLock::acquire(file, "database X").isOk());
  }
  // Released with its holder; the file stays, so nothing is ever stale.
  CHECK(fs::exists(file));
  CHECK(InstanceLock::acquire(file, "database X").isOk());

  // A directory is locked as itself: nothing is created in it.
  const fs::path spool = t.path / "spool";
  fs::create_directory(spool);
  {
    auto dir = InstanceLock::acquireDirectory(spool, "spool directory S");
    REQUIRE(dir.isOk());
    auto again = InstanceLock::acquireDirectory(spool, "spool directory S");
    REQUIRE_FALSE(again.isOk());
    CHECK(again.status().code() == StatusCode::kFailedPrecondition);
    CHECK(again.status().message() ==
          "spool directory S is in use by another pullprintd; lock on " + spool.string());
    CHECK(fs::is_empty(spool));
  }
  CHECK(InstanceLock::acquireDirectory(spool, "spool directory S").isOk());

  auto nowhere = InstanceLock::acquire(t.path / "no-such-dir" / "x.lock", "spool directory Y");
  REQUIRE_FALSE(nowhere.isOk());
  CHECK(nowhere.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(nowhere.status().message(), Catch::Contains("cannot create lock file"));
}

TEST_CASE("backup: a checked snapshot that opens as a store, with what it holds") {
  TempDir t;
  const fs::path db = t.path / "pullprint.db";
  auto store = openSqliteStore(db.string());
  REQUIRE(store.isOk());
  for (JobId id = 1; id <= 3; ++id)
    REQUIRE((*store)->write([&](StoreWriter& w) { return w.insertJob(heldJob(id)); }).isOk());
  Job done = heldJob(4);
  done.state = JobState::kCompleted;
  REQUIRE((*store)->write([&](StoreWriter& w) { return w.insertJob(done); }).isOk());

  // The store stays open, as pullprintd's would: its last commits are still
  // in the WAL file, which a plain copy of pullprint.db would miss.
  REQUIRE(fs::exists(t.path / "pullprint.db-wal"));
  const fs::path dest = t.path / "backup.db";
  auto r = backupDatabase(db, dest);
  REQUIRE(r.isOk());
  CHECK(r->jobs == 4);
  CHECK(r->held_jobs == 3);
  CHECK(r->usage_records == 0);
  CHECK(r->schema_version > 0);
  CHECK(r->bytes == static_cast<std::int64_t>(fs::file_size(dest)));
  for (auto& e : fs::directory_iterator(t.path))  // no partial file left behind
    CHECK(e.path().filename().string().find(".partial-") == std::string::npos);

  // Written after the snapshot: not in it.
  REQUIRE((*store)->write([&](StoreWriter& w) { return w.insertJob(heldJob(5)); }).isOk());
  auto restored = openSqliteStore(dest.string());
  REQUIRE(restored.isOk());
  auto j = (*restored)->job(2);
  REQUIRE(j.isOk());
  REQUIRE(j->has_value());
  CHECK((**j).owner == "alice");
  CHECK((**j).state == JobState::kHeld);
  auto missing = (*restored)->job(5);
  REQUIRE(missing.isOk());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("backup: refuses to overwrite, and names what is missing") {
  TempDir t;
  const fs::path db = t.path / "pullprint.db";
  REQUIRE(openSqliteStore(db.string()).isOk());

  const fs::path dest = t.path / "existing.db";
  { std::ofstream(dest) << "keep me"; }
  auto r = backupDatabase(db, dest);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(slurp(dest) == "keep me");

  r = backupDatabase(t.path / "none.db", t.path / "b.db");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK_THAT(r.status().message(), Catch::Contains("no pullprint database here"));
  CHECK_FALSE(fs::exists(t.path / "b.db"));

  r = backupDatabase(db, t.path / "no-such-dir" / "b.db");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK_THAT(r.status().message(), Catch::Contains("no such directory"));
}

TEST_CASE("backup: a damaged database is refused, and leaves no file behind") {
  TempDir t;
  const fs::path db = t.path / "pullprint.db";
  { std::ofstream(db) << std::string(8192, 'x'); }  // not a database at all
  const fs::path dest = t.path / "b.db";
  auto r = backupDatabase(db, dest);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_FALSE(fs::exists(dest));
  for (auto& e : fs::directory_iterator(t.path))
    CHECK(e.path().filename().string().find(".partial-") == std::string::npos);
}
