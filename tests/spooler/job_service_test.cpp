#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/password.h"
#include "spooler/job_service.h"
#include "tests/spooler/database_file.h"

using namespace pullprint;
using namespace pullprint::spooler;

namespace {

struct Fixture {
  explicit Fixture(SpoolDir::Naming spool_naming = SpoolDir::Naming::kUnnamedUntilDone)
      : naming(spool_naming) {
    char tmpl[] = "/tmp/pullprint-js-XXXXXX";
    dir = mkdtemp(tmpl);
    open();
  }
  ~Fixture() {
    close();
    std::filesystem::remove_all(dir);
  }
  void open() {
    store = std::move(*openSqliteStore(dir + "/db"));
    spool = std::move(*SpoolDir::open(dir + "/spool", naming));
    committer = std::make_unique<Committer>(*store, *spool, log, &metrics, committer_options);
    jobs = std::make_unique<JobService>(*store, *committer, *spool, clock, log);
    jobs->setJournalMaxBytes(journal_max_bytes);
  }
  void close() {
    jobs.reset();
    committer.reset();
    spool.reset();
    store.reset();
  }
  Status wait(std::function<void(JobService::Done)> fn) {
    std::promise<Status> p;
    fn([&](Status s) { p.set_value(s); });
    return p.get_future().get();
  }
  // Receives one complete document for a new job and waits until durable.
  // A job whose document upload starts, writes `data` and is cut off there
  // (the writer is dropped without publishing); *doc is its document number.
  Job startUpload(const std::string& owner, const std::string& data, int* doc) {
    Job j;
    j.id = jobs->allocateId();
    j.queue = "followme";
    j.owner = owner;
    j.created_at = clock.now();
    REQUIRE(wait([&](auto done) { jobs->createJob(j, done); }).isOk());
    REQUIRE(jobs->beginDocument(j.id, doc).isOk());
    auto w = std::move(*spool->create(j.id, *doc));
    REQUIRE(w->write(data.data(), data.size()).isOk());
    return j;
  }

  JobId submit(const std::string& owner, const std::string& data) {
    Job j;
    j.id = jobs->allocateId();
    j.queue = "followme";
    j.owner = owner;
    j.created_at = clock.now();
    jobs->createJob(j, nullptr);
    int doc = 0;
    REQUIRE(jobs->beginDocument(j.id, &doc).isOk());
    auto w = std::move(*spool->create(j.id, doc));
    REQUIRE(w->write(data.data(), data.size()).isOk());
    Document d{j.id, doc, "application/pdf", "x", w->size(), w->finishSha256(), std::nullopt};
    auto fd = std::move(*w->publish());
    Status s = wait([&](JobService::Done done) {
      jobs->documentReceived(j, d, std::move(fd), true, JobState::kHeld, "job-hold-until-specified",
                             done);
    });
    REQUIRE(s.isOk());
    return j.id;
  }

  // Reopens with the document journal on: documents up to `max_bytes` go
  // through it, their files synced after `delay`.
  void useJournal(std::chrono::milliseconds delay, std::int64_t max_bytes) {
    committer_options.journal_sync_delay = delay;
    journal_max_bytes = max_bytes;
    close();
    open();
  }

  // Read by open(); set them and reopen to change them.
  CommitterOptions committer_options;
  std::int64_t journal_max_bytes = 0;  // JobService's default: no journal

  std::string dir;
  Logger log{LogLevel::kError};
  ManualClock clock{1'700'000'000};
  std::unique_ptr<Store> store;
  std::unique_ptr<SpoolDir> spool;
  SpoolDir::Naming naming;
  Metrics metrics;  // outlives the committer (close() resets it first)
  std::unique_ptr<Committer> committer;
  std::unique_ptr<JobService> jobs;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a received job is held, durable and byte-identical") {
  Fixture f;
  JobId id = f.submit("alice", "%PDF-1.4 hello");
  auto j = **f.store->job(id);
  CHECK(j.state == JobState::kHeld);
  CHECK(j.document_count == 1);
  CHECK(j.size_bytes == 14);
  CHECK(j.sha256 == sha256Hex("%PDF-1.4 hello"));
  CHECK(slurp(f.spool->documentPath(id, 1)) == "%PDF-1.4 hello");
  CHECK(f.jobs->active(id)->state == JobState::kHeld);
}

TEST_CASE("transitions follow the table and cancel removes the document") {
  Fixture f;
  JobId id = f.submit("alice", "data");
  auto bad =
      f.wait([&](auto done) { f.jobs->transition(id, JobState::kCompleted, "", "", "x", done); });
  CHECK(bad.code() == StatusCode::kFailedPrecondition);
  REQUIRE(f.wait([&](auto done) {
             f.jobs->transition(id, JobState::kCanceled, "job-canceled-by-user", "", "alice", done);
           }).isOk());
  CHECK_FALSE(f.jobs->active(id).has_value());
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(id, 1)));
  auto j = **f.store->job(id);
  CHECK(j.state == JobState::kCanceled);
  auto ev = *f.store->events(id);
  REQUIRE(ev.size() == 3);  // submitted, received, cancelled
  CHECK(ev[2].actor == "alice");
  // A second cancel is refused: the job is finished.
  CHECK(f.wait([&](auto done) {
           f.jobs->transition(id, JobState::kCanceled, "", "", "alice", done);
         }).code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("concurrent transitions on one job: exactly one wins") {
  Fixture f;
  JobId id = f.submit("alice", "data");
  std::vector<std::future<Status>> results;
  std::vector<std::promise<Status>> promises(8);
  for (auto& p : promises) results.push_back(p.get_future());
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      f.jobs->transition(id, i % 2 ? JobState::kCanceled : JobState::kPending, "", "", "t",
                         [&, i](Status s) { promises[i].set_value(s); });
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (auto& r : results) ok += r.get().isOk();
  // Either one cancel wins (terminal), or pending wins and then one cancel.
  CHECK(ok >= 1);
  CHECK(ok <= 2);
}

TEST_CASE("recovery: held jobs survive, half-received jobs abort, orphans go") {
  Fixture f;
  JobId held = f.submit("alice", "held document");
  // A job whose upload never finished.
  int doc = 0;
  Job half = f.startUpload("bob", "partial", &doc);
  // Unnamed until published: a partial upload is never visible in the spool.
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(half.id, doc)));
  // An orphan file no job claims.
  { std::ofstream(f.spool->documentPath(999, 1)) << "orphan"; }

  f.close();  // "crash": nothing else is written
  f.open();
  auto report = f.jobs->recover();
  REQUIRE(report.isOk());
  CHECK(report->active == 1);
  CHECK(report->aborted == 1);
  CHECK(report->orphans_removed == 1);  // the orphan; the partial upload left no file
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(half.id, doc)));
  CHECK(f.jobs->active(held)->state == JobState::kHeld);
  CHECK(slurp(f.spool->documentPath(held, 1)) == "held document");
  CHECK((**f.store->job(half.id)).state == JobState::kAborted);
  CHECK(f.jobs->allocateId() > half.id);  // ids are never reused
}

TEST_CASE("recovery: a held job whose document is missing is reported and kept held") {
  Fixture f;
  JobId kept = f.submit("alice", "still here");
  JobId lost = f.submit("bob", "will vanish");
  const auto lost_path = f.spool->documentPath(lost, 1);
  const auto moved = std::filesystem::path(f.dir) / "lost.doc";
  f.close();
  std::filesystem::rename(lost_path, moved);
  f.open();
  auto report = f.jobs->recover();
  REQUIRE(report.isOk());
  CHECK(report->active == 2);
  CHECK(report->documents_missing == 1);
  CHECK(report->missing_jobs == std::vector<JobId>{lost});
  CHECK(report->orphans_removed == 0);
  // Nothing is decided for it: the file may come back (a late mount).
  CHECK(f.jobs->active(lost)->state == JobState::kHeld);
  CHECK((**f.store->job(lost)).state == JobState::kHeld);
  CHECK(slurp(f.spool->documentPath(kept, 1)) == "still here");

  f.close();
  std::filesystem::rename(moved, lost_path);
  f.open();
  report = f.jobs->recover();
  REQUIRE(report.isOk());
  CHECK(report->documents_missing == 0);
  CHECK(report->missing_jobs.empty());
}

TEST_CASE("named spool files (no O_TMPFILE): a cut-off upload's file goes at recovery") {
  // The path file systems without O_TMPFILE take: the file has its name from
  // the first byte, so a cut-off upload leaves a partial file behind.
  Fixture f(SpoolDir::Naming::kNamedAtOnce);
  JobId held = f.submit("alice", "held document");
  CHECK(slurp(f.spool->documentPath(held, 1)) == "held document");
  // The name is taken: a second file for the same document is refused.
  auto again = f.spool->create(held, 1);
  REQUIRE_FALSE(again.isOk());
  CHECK(again.status().message().find("cannot create document file") != std::string::npos);
  CHECK(slurp(f.spool->documentPath(held, 1)) == "held document");

  int doc = 0;
  Job half = f.startUpload("bob", "partial", &doc);
  CHECK(slurp(f.spool->documentPath(half.id, doc)) == "partial");

  f.close();  // "crash" mid-upload
  f.open();
  auto report = f.jobs->recover();
  REQUIRE(report.isOk());
  CHECK(report->active == 1);
  CHECK(report->aborted == 1);
  CHECK(report->orphans_removed == 1);  // the partial upload's file
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(half.id, doc)));
  CHECK((**f.store->job(half.id)).state == JobState::kAborted);
  CHECK(slurp(f.spool->documentPath(held, 1)) == "held document");
}

TEST_CASE("a document for a job cancelled during upload is dropped") {
  Fixture f;
  Job j;
  j.id = f.jobs->allocateId();
  j.queue = "followme";
  j.owner = "alice";
  REQUIRE(f.wait([&](auto done) { f.jobs->createJob(j, done); }).isOk());
  int doc = 0;
  REQUIRE(f.jobs->beginDocument(j.id, &doc).isOk());
  CHECK(f.jobs->beginDocument(j.id, &doc).code() == StatusCode::kFailedPrecondition);
  auto w = std::move(*f.spool->create(j.id, doc));
  REQUIRE(w->write("abc", 3).isOk());
  REQUIRE(f.wait([&](auto done) {
             f.jobs->transition(j.id, JobState::kCanceled, "job-canceled-by-user", "", "alice",
                                done);
           }).isOk());
  Document d{j.id, doc, "text/plain", "x", 3, w->finishSha256(), std::nullopt};
  auto fd = std::move(*w->publish());
  Status s = f.wait([&](auto done) {
    f.jobs->documentReceived(j, d, std::move(fd), true, JobState::kHeld, "", done);
  });
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(j.id, doc)));
  CHECK((**f.store->job(j.id)).state == JobState::kCanceled);
}

TEST_CASE("Create-Job without documents is aborted after the multiple-operation-time-out") {
  Fixture f;
  Job j;
  j.id = f.jobs->allocateId();
  j.queue = "followme";
  j.owner = "alice";
  j.created_at = f.clock.now();
  REQUIRE(f.wait([&](auto done) { f.jobs->createJob(j, done); }).isOk());
  JobId busy = f.submit("bob", "complete");  // a held job is never touched
  CHECK(f.jobs->abortStaleIncoming(300) == 0);
  f.clock.advance(301);
  CHECK(f.jobs->abortStaleIncoming(300) == 1);
  CHECK((**f.store->job(j.id)).state == JobState::kAborted);
  CHECK((**f.store->job(j.id)).state_message ==
        "no document arrived within the multiple-operation-time-out");
  CHECK((**f.store->job(busy)).state == JobState::kHeld);
}

TEST_CASE("a job whose document was not stored says so when it times out") {
  Fixture f;
  int doc = 0;
  // Its Send-Document ran out of room; the job stays open for it to be sent
  // again (spooler/ipp_handlers.cpp), and nobody does.
  Job j = f.startUpload("alice", "abc", &doc);
  f.jobs->abandonDocument(j.id, doc, "spool disk is full");
  f.clock.advance(301);
  CHECK(f.jobs->abortStaleIncoming(300) == 1);
  const Job row = **f.store->job(j.id);
  CHECK(row.state == JobState::kAborted);
  CHECK(row.state_message ==
        "its document was not stored (spool disk is full) and was not sent again within the "
        "multiple-operation-time-out");
}

TEST_CASE("committer: completions in submission order, each after its row is committed") {
  Fixture f;
  constexpr int kOps = 400;
  std::vector<int> order;
  std::atomic<int> not_visible{0};
  std::promise<void> all_done;
  std::atomic<int> left{kOps};
  for (int i = 0; i < kOps; ++i) {
    const JobId id = 100000 + i;
    Committer::Op op;
    // Every 7th op fails (a second insert of the previous row): it must not
    // disturb the order or the others.
    const bool fails = i % 7 == 6;
    op.write = [id, fails, &f](StoreWriter& w) {
      Job j;
      j.id = fails ? id - 1 : id;
      j.queue = "followme";
      j.owner = "order";
      j.created_at = f.clock.now();
      return w.insertJob(j);
    };
    if (i % 3 == 0) {  // some ops carry a spool file to sync first
      auto writer = std::move(*f.spool->create(id, 1));
      REQUIRE(writer->write("x", 1).isOk());
      op.sync_files.push_back(std::move(*writer->publish()));
    }
    op.done = [&, i, id, fails](Status s) {
      order.push_back(i);
      CHECK(s.isOk() == !fails);
      if (s.isOk()) {
        auto row = f.store->job(id);
        if (!row || !row->has_value()) ++not_visible;
      }
      if (--left == 0) all_done.set_value();
    };
    f.committer->submit(std::move(op));
  }
  all_done.get_future().wait();
  CHECK(not_visible == 0);
  REQUIRE(order.size() == kOps);
  for (int i = 0; i < kOps; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  CHECK(f.committer->maxBatch() >= 1);
  // Group-commit counters (/metrics): every op is one write, failing ones
  // too (their savepoint is rolled back); every third op carried a file.
  const std::int64_t with_file = (kOps + 2) / 3;
  CHECK(f.metrics.store_writes.load() == kOps);
  CHECK(f.metrics.store_transactions.load() >= 1);
  CHECK(f.metrics.store_transactions.load() <= kOps);
  CHECK(f.metrics.spool_files_synced.load() == with_file);
  CHECK(f.metrics.spool_sync_rounds.load() >= 1);
  CHECK(f.metrics.spool_sync_rounds.load() <= with_file);
}

TEST_CASE("committer: an op submitted by a completion during shutdown still commits") {
  Fixture f;
  std::atomic<bool> second_done{false};
  for (int round = 0; round < 20; ++round) {
    second_done = false;
    auto committer = std::make_unique<Committer>(*f.store, *f.spool, f.log);
    Committer* c = committer.get();
    Committer::Op first;
    first.write = [](StoreWriter&) { return Status::ok(); };
    first.done = [c, &second_done](Status) {
      Committer::Op second;
      second.write = [](StoreWriter&) { return Status::ok(); };
      second.done = [&second_done](Status s) { second_done = s.isOk(); };
      c->submit(std::move(second));
    };
    committer->submit(std::move(first));
    committer.reset();  // drains: the second op was submitted from a completion
    CHECK(second_done);
  }
}

namespace {

std::vector<std::pair<JobId, int>> journalKeys(Store& store) {
  std::vector<std::pair<JobId, int>> out;
  auto journal = store.journaledDocuments();
  REQUIRE(journal.isOk());
  for (const JournaledDocument& d : *journal) out.emplace_back(d.job_id, d.number);
  return out;
}

// Waits up to 10 s for the flusher to empty the journal; true if it did.
bool journalEmpties(Store& store) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!journalKeys(store).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_CASE("journal: a small document commits with its bytes; its copy goes once its file synced") {
  Fixture f;
  f.useJournal(std::chrono::hours(1), 1024);
  JobId small = f.submit("alice", std::string(1024, 's'));
  JobId big = f.submit("bob", std::string(1025, 'b'));
  // Only the small one is in the journal, with its exact bytes.
  auto journal = *f.store->journaledDocuments();
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].job_id == small);
  CHECK(journal[0].number == 1);
  CHECK(journal[0].data == std::string(1024, 's'));
  CHECK(slurp(f.spool->documentPath(small, 1)) == std::string(1024, 's'));
  CHECK(slurp(f.spool->documentPath(big, 1)) == std::string(1025, 'b'));
  CHECK(f.metrics.journaled_documents == 1);
  CHECK(f.metrics.journal_files_synced == 0);

  SECTION("a damaged file is written again from its copy, which then goes") {
    const std::string good = *f.spool->documentSha256(small, 1);
    {
      std::ofstream out(f.spool->documentPath(small, 1), std::ios::binary | std::ios::trunc);
      out << std::string(1024, 'x');
    }
    CHECK(*f.spool->documentSha256(small, 1) != good);
    REQUIRE(f.jobs->restoreFromJournal(small, 1).isOk());
    CHECK(*f.spool->documentSha256(small, 1) == good);
    CHECK(slurp(f.spool->documentPath(small, 1)) == std::string(1024, 's'));
    CHECK(journalKeys(*f.store).empty());
    // No copy any more, and none ever for the big one.
    CHECK(f.jobs->restoreFromJournal(small, 1).code() == StatusCode::kNotFound);
    CHECK(f.jobs->restoreFromJournal(big, 1).code() == StatusCode::kNotFound);
    CHECK(f.spool->documentSha256(big, 7).status().code() == StatusCode::kNotFound);
  }
  SECTION("a clean stop syncs the file and drops the row") {
    f.close();
    f.open();
    CHECK(journalKeys(*f.store).empty());
    CHECK(slurp(f.spool->documentPath(small, 1)) == std::string(1024, 's'));
  }
  SECTION("the flusher does the same after journal_sync_delay, while running") {
    f.close();
    f.committer_options.journal_sync_delay = std::chrono::milliseconds(50);
    f.open();
    REQUIRE(f.jobs->recover().isOk());
    const std::int64_t rounds = f.metrics.journal_flush_rounds;  // one: the stop above
    const std::int64_t synced = f.metrics.journal_files_synced;
    JobId later = f.submit("carol", "later");
    CHECK(journalKeys(*f.store) == std::vector<std::pair<JobId, int>>{{later, 1}});
    CHECK(journalEmpties(*f.store));
    CHECK(f.metrics.journal_flush_rounds == rounds + 1);
    CHECK(f.metrics.journal_files_synced == synced + 1);
  }
}

TEST_CASE("journal: slots are reused once their files are synced, and emptied when idle") {
  Fixture f;
  f.useJournal(std::chrono::milliseconds(5), 1024);
  // 300 documents, a little apart: flush rounds keep freeing slots while
  // documents arrive. Were a slot never freed, each document would need a
  // new one.
  std::int64_t most = 0;
  for (int i = 0; i < 300; ++i) {
    f.submit("alice", "document " + std::to_string(i));
    auto rows = f.store->journaledDocuments();
    REQUIRE(rows.isOk());
    for (const JournaledDocument& d : *rows) most = std::max(most, d.slot + 1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  INFO("slots used: " << most);
  CHECK(most < 100);
  CHECK(f.metrics.journaled_documents == 300);
  // Once every file is synced, no copy stays in the database.
  CHECK(journalEmpties(*f.store));
  CHECK(f.metrics.journal_files_synced == 300);
}

TEST_CASE("journal: once emptied, no document's bytes are left in the database file") {
  Fixture f;
  f.useJournal(std::chrono::hours(1), 64 * 1024);
  // One document on a leaf page, one long enough for overflow pages.
  const std::string marker = "pullprint-journal-marker-";
  const std::string small_doc = marker + "small";
  std::string big_doc;
  while (big_doc.size() < 20000) big_doc += marker + "big-" + std::to_string(big_doc.size());
  const JobId small = f.submit("alice", small_doc);
  const JobId big = f.submit("bob", big_doc);
  REQUIRE(journalKeys(*f.store).size() == 2);
  const auto small_path = f.spool->documentPath(small, 1), big_path = f.spool->documentPath(big, 1);
  // The copies reach the database file, as a checkpoint under load does.
  testing::checkpointNow(f.dir + "/db");
  REQUIRE(testing::fileBytes(f.dir + "/db").find(marker) != std::string::npos);
  // The stop syncs both files and empties the journal; closing the store
  // checkpoints the WAL into the file and removes it.
  f.close();
  CHECK_FALSE(std::filesystem::exists(f.dir + "/db-wal"));
  CHECK(slurp(small_path) == small_doc);
  CHECK(slurp(big_path) == big_doc);
  CHECK(testing::fileBytes(f.dir + "/db").find(marker) == std::string::npos);
  f.open();
  CHECK(journalKeys(*f.store).empty());
}

TEST_CASE("recovery: journaled documents of active jobs are rewritten from the journal") {
  // What a power cut can leave: job rows and journal rows committed, spool
  // files whose data never reached the disk. Built here by hand; the
  // integration test (durability_test) gets there with a real kill -9.
  Fixture f;
  JobId emptied = f.submit("alice", "alpha");
  JobId vanished = f.submit("bob", "bravo");
  JobId intact = f.submit("carol", "charlie");
  JobId ended = f.submit("dave", "delta");
  JobId foreign = f.submit("erin", "echo");
  REQUIRE(f.wait([&](auto done) {
             f.jobs->transition(ended, JobState::kCanceled, "job-canceled-by-user", "", "dave",
                                done);
           }).isOk());
  const auto path = [&](JobId id) { return f.spool->documentPath(id, 1); };
  const auto emptied_path = path(emptied), vanished_path = path(vanished);
  f.close();
  {
    auto store = std::move(*openSqliteStore(f.dir + "/db"));
    REQUIRE(store
                ->write([&](StoreWriter& w) {
                  std::int64_t slot = 0;
                  for (auto [id, bytes] : {std::pair{emptied, "alpha"},
                                           {vanished, "bravo"},
                                           {intact, "charlie"},
                                           {ended, "delta"}})
                    if (Status s = w.journalDocument(slot++, id, 1, bytes); !s) return s;
                  // A slot not reused since its file was synced: the same
                  // bytes again. And a copy that is not the bytes the job's
                  // document row records (a job id used again after the
                  // newest jobs were purged, say): never written.
                  if (Status s = w.journalDocument(slot++, intact, 1, "charlie"); !s) return s;
                  return w.journalDocument(slot++, foreign, 1, "someone else's");
                })
                .isOk());
  }
  std::filesystem::resize_file(emptied_path, 0);
  std::filesystem::remove(vanished_path);

  f.open();
  auto report = f.jobs->recover();
  REQUIRE(report.isOk());
  CHECK(report->restored_from_journal == 3);  // the active jobs' documents
  CHECK(report->documents_missing == 0);
  CHECK(report->orphans_removed == 0);
  CHECK(slurp(f.spool->documentPath(emptied, 1)) == "alpha");
  CHECK(slurp(f.spool->documentPath(vanished, 1)) == "bravo");
  CHECK(slurp(f.spool->documentPath(intact, 1)) == "charlie");
  CHECK(slurp(f.spool->documentPath(foreign, 1)) == "echo");
  // The cancelled job's document is not brought back, and its row goes too.
  CHECK_FALSE(std::filesystem::exists(f.spool->documentPath(ended, 1)));
  CHECK(journalKeys(*f.store).empty());
}
