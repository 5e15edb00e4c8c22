// Retention ([retention] job_details_days) on a real SQLite store: which
// jobs lose their name, document names and source address, what stays, and
// batches larger than one transaction.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "spooler/retention.h"
#include "tests/spooler/database_file.h"

using namespace pullprint;
using namespace pullprint::spooler;

namespace {

constexpr UnixSeconds kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/pullprint-retention-XXXXXX";
    dir = mkdtemp(tmpl);
    store = std::move(*openSqliteStore(dir + "/db"));
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  // A job named after its id, from 10.1.2.3, with one named document.
  JobId add(JobState state, UnixSeconds completed_at) {
    Job j;
    j.id = ++last;
    j.queue = "followme";
    j.owner = "alice";
    j.source_address = "10.1.2.3";
    j.name = "payslip-" + std::to_string(j.id) + ".pdf";
    j.state = state;
    j.created_at = completed_at > 0 ? completed_at - 60 : kNow - 400 * kDay;
    j.completed_at = completed_at;
    j.pages = 3;
    j.impressions = 3;
    j.sheets = 3;
    j.impressions_total = 3;
    j.document_count = 1;
    Document d{j.id, 1, "application/pdf", "payslip.pdf", 1000, "ab", 3};
    REQUIRE(store
                ->write([&](StoreWriter& w) {
                  if (Status s = w.insertJob(j); !s) return s;
                  return w.insertDocument(d);
                })
                .isOk());
    return j.id;
  }
  Job job(JobId id) { return **store->job(id); }
  std::string documentName(JobId id) { return (*store->documents(id)).at(0).name; }

  std::string dir;
  std::unique_ptr<Store> store;
  Logger log{LogLevel::kError};
  ManualClock clock{kNow};
  JobId last = 0;
};

}  // namespace

TEST_CASE("retention blanks the details of jobs that ended more than N days ago", "[retention]") {
  Fixture f;
  const JobId printed_old = f.add(JobState::kCompleted, kNow - 31 * kDay);
  const JobId expired_old = f.add(JobState::kExpired, kNow - 400 * kDay);
  const JobId canceled_recent = f.add(JobState::kCanceled, kNow - 29 * kDay);
  const JobId held_old = f.add(JobState::kHeld, 0);  // created 400 days ago, still waiting

  Retention r(*f.store, f.clock, f.log, 30);
  auto n = r.sweep();
  REQUIRE(n.isOk());
  CHECK(*n == 2);
  for (JobId id : {printed_old, expired_old}) {
    Job j = f.job(id);
    CHECK(j.name.empty());
    CHECK(j.source_address.empty());
    CHECK(f.documentName(id).empty());
    // What the reports use stays.
    CHECK(j.owner == "alice");
    CHECK(j.pages == 3);
    CHECK(j.sheets == 3);
    CHECK(j.impressions_total == 3);
    CHECK(j.completed_at > 0);
  }
  CHECK(f.job(printed_old).state == JobState::kCompleted);
  CHECK(f.job(expired_old).state == JobState::kExpired);
  for (JobId id : {canceled_recent, held_old}) {
    CHECK(f.job(id).name == "payslip-" + std::to_string(id) + ".pdf");
    CHECK(f.job(id).source_address == "10.1.2.3");
    CHECK(f.documentName(id) == "payslip.pdf");
  }

  // Nothing left to do until time moves on; then the recent one follows.
  CHECK(*r.sweep() == 0);
  f.clock.advance(2 * kDay);
  CHECK(*r.sweep() == 1);
  CHECK(f.job(canceled_recent).name.empty());
  CHECK(f.job(held_old).name == "payslip-" + std::to_string(held_old) + ".pdf");
}

TEST_CASE("retention leaves the blanked details nowhere in the database file", "[retention]") {
  Fixture f;
  for (int i = 0; i < 50; ++i) f.add(JobState::kCompleted, kNow - 31 * kDay);
  // The details reach the database file, as checkpoints do long before a
  // job's details are old enough to go.
  testing::checkpointNow(f.dir + "/db");
  REQUIRE(testing::fileBytes(f.dir + "/db").find("payslip") != std::string::npos);
  Retention r(*f.store, f.clock, f.log, 30);
  REQUIRE(*r.sweep() == 50);
  // Closing checkpoints the WAL into the file; the old values must not stay
  // behind in the pages' free space.
  f.store.reset();
  const std::string db = testing::fileBytes(f.dir + "/db");
  REQUIRE_FALSE(db.empty());
  CHECK(db.find("payslip") == std::string::npos);
  CHECK(db.find("10.1.2.3") == std::string::npos);
}

TEST_CASE("retention off (0 days) changes nothing", "[retention]") {
  Fixture f;
  const JobId id = f.add(JobState::kCompleted, kNow - 4000 * kDay);
  Retention r(*f.store, f.clock, f.log, 0);
  CHECK(*r.sweep() == 0);
  r.start();  // no thread, no sweep
  CHECK(f.job(id).name == "payslip-" + std::to_string(id) + ".pdf");
}

TEST_CASE("retention works through more jobs than one transaction holds", "[retention]") {
  Fixture f;
  for (int i = 0; i < 1234; ++i) f.add(JobState::kCanceled, kNow - 100 * kDay);
  const JobId recent = f.add(JobState::kCanceled, kNow - kDay);
  Retention r(*f.store, f.clock, f.log, 30);
  CHECK(*r.sweep() == 1234);
  CHECK(f.job(1).name.empty());
  CHECK(f.job(1234).name.empty());
  CHECK_FALSE(f.job(recent).name.empty());
}

TEST_CASE("retention's thread sweeps at start", "[retention]") {
  Fixture f;
  const JobId id = f.add(JobState::kCompleted, kNow - 60 * kDay);
  {
    Retention r(*f.store, f.clock, f.log, 30, std::chrono::seconds(3600));
    r.start();
    for (int i = 0; i < 200 && !f.job(id).name.empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }  // the destructor stops the thread without waiting for the hour
  CHECK(f.job(id).name.empty());
}
