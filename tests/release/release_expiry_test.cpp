// Hold timeout with a controllable clock: ReleaseEngine::expireDue() in
// process, over the real SQLite store, committer and spool (no printers, no
// threads: start(false)). Time only moves when the test says so.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <future>

#include "core/config.h"
#include "spooler/job_service.h"
#include "spooler/printer_client.h"
#include "spooler/release_engine.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::spooler;
using namespace std::chrono_literals;

namespace {

constexpr UnixSeconds kStart = 1'700'000'000;

struct Fixture {
  explicit Fixture(Config c) : config(std::move(c)) {
    store = std::move(*openSqliteStore((dir / "db").string()));
    spool = std::move(*SpoolDir::open((dir / "spool").string()));
    committer = std::make_unique<Committer>(*store, *spool, log);
    jobs = std::make_unique<JobService>(*store, *committer, *spool, clock, log);
    REQUIRE(jobs->recover());
    engine = std::make_unique<ReleaseEngine>(config, *jobs, client, clock, log);
    REQUIRE(engine->start(/*threads=*/false).isOk());
  }
  ~Fixture() {
    engine.reset();
    jobs.reset();
    committer.reset();
  }

  // A held follow-me job submitted now, its hold ending [hold] timeout later
  // (as the IPP front door sets it).
  JobId submit(const std::string& owner) {
    std::promise<Status> p;
    JobId id = submitAsync(owner, [&](Status s) { p.set_value(s); });
    REQUIRE(p.get_future().get().isOk());
    return id;
  }

  // The same without waiting for durability (the committer batches them).
  JobId submitAsync(const std::string& owner, JobService::Done done) {
    Job j;
    j.id = jobs->allocateId();
    j.queue = "followme";
    j.owner = owner;
    j.name = owner + "'s job";
    j.created_at = clock.now();
    j.hold_expires_at = j.created_at + config.hold_timeout_seconds;
    jobs->createJob(j, nullptr);
    int doc = 0;
    REQUIRE(jobs->beginDocument(j.id, &doc).isOk());
    auto w = std::move(*spool->create(j.id, doc));
    std::string data = "%PDF-1.4 " + owner;
    REQUIRE(w->write(data.data(), data.size()).isOk());
    Document d{j.id, doc, "application/pdf", "x", w->size(), w->finishSha256(), std::nullopt};
    jobs->documentReceived(j, d, std::move(*w->publish()), true, JobState::kHeld,
                           "job-hold-until-specified", std::move(done));
    return j.id;
  }

  Job job(JobId id) { return **store->job(id); }
  bool hasDocument(JobId id) { return std::filesystem::exists(spool->documentPath(id, 1)); }

  testing::TempDir dir{"release-expiry"};
  Config config;
  Logger log{LogLevel::kError};
  ManualClock clock{kStart};
  PrinterClient client;
  std::unique_ptr<Store> store;
  std::unique_ptr<SpoolDir> spool;
  std::unique_ptr<Committer> committer;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<ReleaseEngine> engine;
};

Config configWithHold(std::int64_t seconds) {
  auto c = parseConfig("[hold]\ntimeout_seconds = " + std::to_string(seconds) + "\n", "test.toml");
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("[hold] timeout_seconds has a floor of 60, named with file and line") {
  auto bad = parseConfig("[server]\nthreads = 2\n[hold]\ntimeout_seconds = 30\n", "site.toml");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().message().find("site.toml:") != std::string::npos);
  CHECK(bad.status().message().find("at least 60") != std::string::npos);
  CHECK(configWithHold(60).hold_timeout_seconds == 60);
}

TEST_CASE("expireDue expires exactly the held jobs past the hold timeout") {
  Fixture f(configWithHold(3600));
  JobId a = f.submit("alice");
  JobId b = f.submit("bob");
  JobId cancelled = f.submit("carol");
  JobId released = f.submit("erin");
  f.clock.advance(1800);
  JobId later = f.submit("dave");  // its hold ends at kStart + 5400

  // The owner cancels one; another is released (pending for a printer).
  REQUIRE(f.jobs
              ->transitionAndWait(cancelled, JobState::kCanceled, "job-canceled-by-user",
                                  "cancelled by its owner", "carol")
              .isOk());
  REQUIRE(f.jobs->transitionAndWait(released, JobState::kPending, "", "released at eve", "erin")
              .isOk());

  SECTION("nothing is due before the timeout") {
    f.clock.set(kStart + 3599);
    CHECK(f.engine->expireDue() == 0);
    CHECK(f.job(a).state == JobState::kHeld);
  }

  SECTION("past the timeout: the due ones expire, documents go, rows stay") {
    f.clock.set(kStart + 3601);
    CHECK(f.engine->expireDue() == 2);
    for (JobId id : {a, b}) {
      Job j = f.job(id);
      CHECK(j.state == JobState::kExpired);
      CHECK(j.state_reasons == "job-hold-expired");
      CHECK(j.completed_at == kStart + 3601);
      CHECK_FALSE(j.sha256.empty());  // the record is kept for reports
      CHECK_FALSE(f.hasDocument(id));
      CHECK_FALSE(f.jobs->active(id).has_value());
      auto ev = *f.store->events(id);
      REQUIRE_FALSE(ev.empty());
      CHECK(ev.back().to == "expired");
      CHECK(ev.back().actor == "system");
      CHECK(ippJobState(j.state) == 7);  // IPP: canceled, reason job-hold-expired
    }
    // Cancelled by its owner: recorded as cancelled, not as expired.
    Job c = f.job(cancelled);
    CHECK(c.state == JobState::kCanceled);
    CHECK(c.state_reasons == "job-canceled-by-user");
    CHECK(c.completed_at == kStart + 1800);
    CHECK(f.store->events(cancelled)->back().actor == "carol");
    // Released before the timeout: not touched.
    CHECK(f.job(released).state == JobState::kPending);
    CHECK(f.hasDocument(released));
    // Not yet due.
    CHECK(f.job(later).state == JobState::kHeld);
    CHECK(f.hasDocument(later));

    // Idempotent: a second sweep at the same time finds nothing.
    CHECK(f.engine->expireDue() == 0);

    // Time moves past the later job's hold.
    f.clock.set(kStart + 1800 + 3600);
    CHECK(f.engine->expireDue() == 1);
    CHECK(f.job(later).state == JobState::kExpired);
    CHECK_FALSE(f.hasDocument(later));
    CHECK(f.job(cancelled).state == JobState::kCanceled);  // still cancelled
  }
}

TEST_CASE("expired jobs can no longer be released or cancelled") {
  Fixture f(configWithHold(60));
  JobId a = f.submit("alice");
  f.clock.advance(61);
  REQUIRE(f.engine->expireDue() == 1);
  // No printer is needed to see the refusal: the job is not held any more.
  auto r = f.engine->release("alice", "nowhere", {a}, "alice");
  CHECK_FALSE(r);
  CHECK(f.jobs->transitionAndWait(a, JobState::kCanceled, "job-canceled-by-user", "", "alice")
            .code() == StatusCode::kFailedPrecondition);
  CHECK(f.job(a).state == JobState::kExpired);
}

TEST_CASE("a large backlog expires in one call") {
  Fixture f(configWithHold(60));
  std::vector<JobId> ids;
  std::atomic<int> stored{0};
  for (int i = 0; i < 700; ++i)
    ids.push_back(f.submitAsync("user" + std::to_string(i % 7), [&](Status s) {
      if (s) stored.fetch_add(1);
    }));
  REQUIRE(testing::waitFor([&] { return stored.load() == 700; }, 30s));
  f.clock.advance(60);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(f.engine->expireDue() == 700);  // more than one 500-job page
  WARN("expireDue: 700 jobs in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count()
                                 << " ms");
  CHECK(f.job(ids.front()).state == JobState::kExpired);
  CHECK(f.job(ids.back()).state == JobState::kExpired);
  CHECK(f.engine->expireDue() == 0);
}
