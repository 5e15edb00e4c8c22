#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <tuple>
#include <vector>

#include "core/store.h"

using namespace pullprint;

namespace {

struct TempDb {
  TempDb() {
    char tmpl[] = "/tmp/pullprint-store-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/t.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string dir, path;
};

Job makeJob(JobId id, const std::string& owner, JobState state = JobState::kHeld) {
  Job j;
  j.id = id;
  j.queue = "followme";
  j.owner = owner;
  j.name = "doc " + std::to_string(id);
  j.state = state;
  j.created_at = 1000 + id;
  return j;
}

}  // namespace

TEST_CASE("store creates, migrates, reopens") {
  TempDb t;
  {
    auto s = openSqliteStore(t.path);
    REQUIRE(s.isOk());
    REQUIRE((*s)->write([](StoreWriter& w) { return w.insertJob(makeJob(7, "alice")); }).isOk());
  }
  auto s = openSqliteStore(t.path);  // second open: migrations already applied
  REQUIRE(s.isOk());
  auto j = (*s)->job(7);
  REQUIRE(j.isOk());
  REQUIRE(j->has_value());
  CHECK((*j)->owner == "alice");
  CHECK((*j)->state == JobState::kHeld);
  CHECK_FALSE((*j)->pages.has_value());  // unknown stays unknown, never 0
  CHECK(*(*s)->maxJobId() == 7);
}

TEST_CASE("failed transaction changes nothing") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  Status st = s->write([](StoreWriter& w) {
    if (Status e = w.insertJob(makeJob(1, "a")); !e) return e;
    return w.insertJob(makeJob(1, "b"));  // duplicate id
  });
  CHECK_FALSE(st.isOk());
  CHECK_FALSE(s->job(1)->has_value());
}

TEST_CASE("writeBatch isolates a failing op") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  std::vector<std::function<Status(StoreWriter&)>> ops = {
      [](StoreWriter& w) { return w.insertJob(makeJob(1, "a")); },
      [](StoreWriter& w) { return w.insertJob(makeJob(1, "dup")); },
      [](StoreWriter& w) { return w.insertJob(makeJob(2, "b")); },
  };
  std::vector<Status> results;
  s->writeBatch(ops, &results);
  REQUIRE(results.size() == 3);
  CHECK(results[0].isOk());
  CHECK_FALSE(results[1].isOk());
  CHECK(results[2].isOk());
  CHECK((*s->job(1))->owner == "a");
  CHECK((*s->job(2))->owner == "b");
}

TEST_CASE("job listing filters by owner, queue and completion") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  REQUIRE(s->write([](StoreWriter& w) {
             for (JobId i = 1; i <= 6; ++i) {
               Job j = makeJob(i, i % 2 ? "alice" : "bob",
                               i <= 4 ? JobState::kHeld : JobState::kCanceled);
               if (Status e = w.insertJob(j); !e) return e;
             }
             return Status::ok();
           }).isOk());
  JobFilter f;
  CHECK(s->jobs(f)->size() == 4);  // not-completed by default
  f.owner = "alice";
  CHECK(s->jobs(f)->size() == 2);
  f.owner.reset();
  f.not_completed = false;
  CHECK(s->jobs(f)->size() == 2);
  f.all = true;
  f.limit = 3;
  CHECK(s->jobs(f)->size() == 3);
  f.after_id = 4;
  CHECK(s->jobs(f)->size() == 2);
  CHECK(s->activeJobs()->size() == 4);
}

TEST_CASE("updateJobState sets times and events are kept in order") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  REQUIRE(s->write([](StoreWriter& w) { return w.insertJob(makeJob(1, "a")); }).isOk());
  REQUIRE(s->write([](StoreWriter& w) {
             if (Status e =
                     w.updateJobState(1, JobState::kCanceled, "job-canceled-by-user", "bye", 5000);
                 !e)
               return e;
             if (Status e = w.insertEvent({1, 4000, "receiving", "held", "", "a"}); !e) return e;
             return w.insertEvent({1, 5000, "held", "canceled", "job-canceled-by-user", "a"});
           }).isOk());
  auto j = **s->job(1);
  CHECK(j.state == JobState::kCanceled);
  CHECK(j.completed_at == 5000);
  CHECK(j.state_reasons == "job-canceled-by-user");
  auto ev = *s->events(1);
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].to == "canceled");
  CHECK(s->write([](StoreWriter& w) {
           return w.updateJobState(99, JobState::kHeld, "", "", 1);
         }).code() == StatusCode::kNotFound);
}

TEST_CASE("users") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  User u;
  u.name = "alice";
  u.role = Role::kAdmin;
  u.password_hash = "h";
  REQUIRE(s->write([&](StoreWriter& w) { return w.upsertUser(u); }).isOk());
  u.department = "Physics";
  REQUIRE(s->write([&](StoreWriter& w) { return w.upsertUser(u); }).isOk());
  auto got = *s->user("alice");
  REQUIRE(got.has_value());
  CHECK(got->role == Role::kAdmin);
  CHECK(got->department == "Physics");
  CHECK(s->users()->size() == 1);
  CHECK_FALSE(s->user("bob")->has_value());
}

namespace {

// (slot, job, document, bytes) of every journal copy, by slot.
std::vector<std::tuple<std::int64_t, JobId, int, std::string>> journalRows(Store& s) {
  auto rows = s.journaledDocuments();
  REQUIRE(rows.isOk());
  std::vector<std::tuple<std::int64_t, JobId, int, std::string>> out;
  for (const JournaledDocument& d : *rows) out.emplace_back(d.slot, d.job_id, d.number, d.data);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("journal slots: a copy replaces the slot's last one; a drop spares a reused slot") {
  TempDb t;
  auto s = std::move(*openSqliteStore(t.path));
  REQUIRE(s->write([](StoreWriter& w) {
             if (Status e = w.journalDocument(0, 1, 1, "one"); !e) return e;
             return w.journalDocument(1, 2, 1, "two");
           }).isOk());
  using Row = std::tuple<std::int64_t, JobId, int, std::string>;
  CHECK(journalRows(*s) == std::vector<Row>{{0, 1, 1, "one"}, {1, 2, 1, "two"}});
  // Slot 0 reused for job 3 once job 1's file was synced.
  REQUIRE(s->write([](StoreWriter& w) { return w.journalDocument(0, 3, 2, "three"); }).isOk());
  CHECK(journalRows(*s) == std::vector<Row>{{0, 3, 2, "three"}, {1, 2, 1, "two"}});
  CHECK_FALSE(s->journaledDocument(1, 1)->has_value());
  REQUIRE(s->journaledDocument(3, 2)->has_value());
  CHECK((*s->journaledDocument(3, 2))->slot == 0);
  // Dropping job 1's copy (restored from it earlier) must not take job 3's.
  REQUIRE(s->write([](StoreWriter& w) { return w.dropJournal(0, 1, 1); }).isOk());
  CHECK(journalRows(*s).size() == 2);
  REQUIRE(s->write([](StoreWriter& w) { return w.dropJournal(0, 3, 2); }).isOk());
  CHECK(journalRows(*s) == std::vector<Row>{{1, 2, 1, "two"}});
  REQUIRE(s->write([](StoreWriter& w) { return w.clearJournal(); }).isOk());
  CHECK(journalRows(*s).empty());
}

TEST_CASE("migration 9 keeps the copies of the per-document journal") {
  TempDb t;
  // A database as migration 8 left it, with two copies in its journal.
  {
    REQUIRE(openSqliteStore(t.path).isOk());
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(t.path.c_str(), &db) == SQLITE_OK);
    const char* sql =
        "DROP TABLE journal_slots;"
        "CREATE TABLE document_journal (job_id INTEGER NOT NULL, document INTEGER NOT NULL,"
        "  data BLOB NOT NULL, PRIMARY KEY (job_id, document));"
        "INSERT INTO document_journal VALUES (5, 1, x'616263'), (6, 2, x'646566');"
        "PRAGMA user_version=8;";
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  auto s = std::move(*openSqliteStore(t.path));
  auto rows = journalRows(*s);
  REQUIRE(rows.size() == 2);
  CHECK(std::get<1>(rows[0]) == 5);
  CHECK(std::get<3>(rows[0]) == "abc");
  CHECK(std::get<1>(rows[1]) == 6);
  CHECK(std::get<2>(rows[1]) == 2);
  CHECK(std::get<3>(rows[1]) == "def");
}

namespace {

std::uintmax_t walBytes(const TempDb& t) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(t.path + "-wal", ec);
  return ec ? 0 : n;
}

std::uintmax_t framesBytes(int frames) {
  return 32 + static_cast<std::uintmax_t>(frames) * (4096 + 24);
}

}  // namespace

TEST_CASE(
    "a reserved WAL has its room at open, and a copy taken without closing keeps every commit") {
  TempDb t;
  SqliteOptions o;
  o.wal_reserve_frames = 300;
  auto s = std::move(*openSqliteStore(t.path, o));
  const std::uintmax_t reserved = walBytes(t);
  CHECK(reserved >= framesBytes(300));
  for (JobId id = 1; id <= 20; ++id)  // about 160 frames
    REQUIRE(s->write([&](StoreWriter& w) { return w.insertJob(makeJob(id, "alice")); }).isOk());
  // The commits went into the room: the file did not grow.
  CHECK(walBytes(t) == reserved);

  // The files as a crash would leave them (no -shm): SQLite's recovery
  // reads the frames, stops at the zeros, and finds every committed job.
  const std::string copy = t.dir + "/copy.db";
  std::filesystem::copy_file(t.path, copy);
  std::filesystem::copy_file(t.path + "-wal", copy + "-wal");
  auto c = std::move(*openSqliteStore(copy));
  CHECK(*c->maxJobId() == 20);
  REQUIRE(c->job(20)->has_value());
  CHECK((*c->job(20))->owner == "alice");
}

TEST_CASE("under a steady stream of commits the WAL stays within its room") {
  TempDb t;
  SqliteOptions o;
  o.checkpoint_frames = 100;
  o.wal_reserve_frames = 150;
  auto s = std::move(*openSqliteStore(t.path, o));
  std::uintmax_t largest = 0;
  for (JobId id = 1; id <= 3000; ++id) {
    REQUIRE(s->write([&](StoreWriter& w) { return w.insertJob(makeJob(id, "alice")); }).isOk());
    largest = std::max(largest, walBytes(t));
  }
  INFO("largest WAL: " << largest << " bytes, " << (largest - 32) / (4096 + 24) << " frames");
  CHECK(largest <= framesBytes(300));
}
