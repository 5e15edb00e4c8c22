// bench_sync_floor: what pullprint's durability costs on this host, apart
// from everything else the server does.
//
// For a batch of B jobs (what one group commit carries) it does, in one
// thread, the durable writes pullprintd does for B Print-Jobs, with the same
// code: each document written to an unnamed spool file and linked under its
// job-id name (spooler/spool.h), every file fdatasync()ed and the spool
// directory fsync()ed, then one transaction on the real store (SQLite WAL,
// synchronous=FULL, every migration) with each job's rows: the job, its
// document, the move to held and the two audit events. The same again with
// nothing synced (no fdatasync/fsync, synchronous=OFF) is the part that is
// not durability. The difference is what the syncs cost.
//
// One thread and no handoffs, so this is a floor: pullprintd syncs a round's
// files side by side on a small thread pool (lower latency, a few more
// wake-ups) and pipelines the rounds with the transactions.
//
//   bench_sync_floor [--jobs N] [--bytes S] [--batches 1,2,4,8] [--keep-in DIR]
//
// Defaults: N 2000 per batch size, S 3331 (bench_spooler's 3-page PDF).
// Prints a Markdown table. Its files are removed at exit, or, with
// --keep-in, left in a new directory under DIR for the caller to remove
// later: deleting thousands of files makes file creation in the next minutes
// slower on ext4 without a journal (docs/benchmarks.md), so
// scripts/bench-spooler.sh runs this first and removes its files last.
// Exit status: 0, or 2 on a set-up error.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/store.h"
#include "spooler/spool.h"
#include "tests/support/temp_dir.h"

namespace pullprint::bench {
namespace {

using spooler::SpoolDir;
using spooler::UniqueFd;

struct Options {
  int jobs = 2000;
  int bytes = 3331;
  std::vector<int> batches = {1, 2, 4, 8};
  std::string keep_in;  // empty: remove the files at exit
};

struct Cost {
  double cpu_us_per_job = 0;
  double wall_us_per_job = 0;
};

double cpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The rows JobService writes for one Print-Job (createJob, documentReceived).
Status writeJobRows(StoreWriter& w, JobId id, const Document& doc, UnixSeconds now) {
  Job j;
  j.id = id;
  j.queue = "followme";
  j.owner = "bench";
  j.source_address = "127.0.0.1";
  j.name = "floor";
  j.format = doc.format;
  j.state = JobState::kReceiving;
  j.created_at = now;
  if (Status s = w.insertJob(j); !s) return s;
  if (Status s = w.insertEvent({id, now, "", "receiving", "submitted", j.owner}); !s) return s;
  if (Status s = w.insertDocument(doc); !s) return s;
  if (Status s = w.updateJobDocuments(id, 1, doc.size_bytes, doc.format, doc.sha256, true,
                                      JobState::kHeld, "job-hold-until-specified");
      !s)
    return s;
  return w.insertEvent({id, now, "receiving", "held", "document received", j.owner});
}

// Runs `jobs` jobs in batches of `batch` in a fresh spool and store under
// `dir`; durable or not. Returns the cost per job, or a status on failure.
Result<Cost> runOnce(const std::filesystem::path& dir, int jobs, int batch, int bytes,
                     bool durable) {
  auto spool = SpoolDir::open(dir / "spool");
  if (!spool) return spool.status();
  SqliteOptions so;
  so.durable = durable;
  auto store = openSqliteStore((dir / "pullprint.db").string(), so);
  if (!store) return store.status();
  const std::string body(static_cast<size_t>(bytes), '%');
  const UnixSeconds now = std::time(nullptr);

  const double cpu0 = cpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  JobId next = 1;
  for (int done = 0; done < jobs; done += batch) {
    const int n = std::min(batch, jobs - done);
    std::vector<UniqueFd> files;
    std::vector<Document> docs;
    for (int k = 0; k < n; ++k) {
      const JobId id = next++;
      auto writer = (*spool)->create(id, 1);
      if (!writer) return writer.status();
      if (Status s = (*writer)->write(body.data(), body.size()); !s) return s;
      Document d;
      d.job_id = id;
      d.number = 1;
      d.format = "application/pdf";
      d.name = "floor";
      d.size_bytes = (*writer)->size();
      d.sha256 = (*writer)->finishSha256();
      auto fd = (*writer)->publish();
      if (!fd) return fd.status();
      files.push_back(std::move(*fd));
      docs.push_back(std::move(d));
    }
    if (durable) {
      for (const UniqueFd& f : files)
        if (::fdatasync(f.get()) != 0)
          return Status(StatusCode::kUnavailable, std::string("fdatasync: ") + strerror(errno));
      if (Status s = (*spool)->syncDirectory(); !s) return s;
    }
    files.clear();
    std::vector<std::function<Status(StoreWriter&)>> ops;
    for (const Document& d : docs)
      ops.push_back([&d, now](StoreWriter& w) { return writeJobRows(w, d.job_id, d, now); });
    std::vector<Status> results;
    (*store)->writeBatch(ops, &results);
    for (const Status& s : results)
      if (!s) return s;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return Cost{(cpuSeconds() - cpu0) * 1e6 / jobs, wall * 1e6 / jobs};
}

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--jobs") {
      o->jobs = std::atoi(v.c_str());
    } else if (a == "--bytes") {
      o->bytes = std::atoi(v.c_str());
    } else if (a == "--keep-in") {
      o->keep_in = v;
    } else if (a == "--batches") {
      o->batches.clear();
      std::istringstream in(v);
      std::string item;
      while (std::getline(in, item, ',')) o->batches.push_back(std::atoi(item.c_str()));
    } else {
      return false;
    }
  }
  if (o->jobs < 1 || o->bytes < 1 || o->batches.empty()) return false;
  for (int b : o->batches)
    if (b < 1) return false;
  return true;
}

int run(const Options& o) {
  testing::TempDir work("pullprint-sync-floor", o.keep_in.empty() ? "/tmp" : o.keep_in);
  if (!o.keep_in.empty()) work.keep();
  std::printf(
      "# bench_sync_floor\n\n%d jobs per batch size, %d-byte documents, one thread; spool and "
      "store under %s\n\n",
      o.jobs, o.bytes, work.path().c_str());
  std::printf(
      "| jobs per batch | no sync: CPU us/job | durable: CPU us/job | the syncs: CPU us/job | "
      "durable: wall us/job |\n|---:|---:|---:|---:|---:|\n");
  int run_no = 0;
  for (int batch : o.batches) {
    auto plain = runOnce(work / ("run" + std::to_string(run_no++)), o.jobs, batch, o.bytes, false);
    auto durable = runOnce(work / ("run" + std::to_string(run_no++)), o.jobs, batch, o.bytes, true);
    if (!plain || !durable) {
      std::fprintf(stderr, "bench_sync_floor: %s\n",
                   (!plain ? plain.status() : durable.status()).toString().c_str());
      return 2;
    }
    std::printf("| %d | %.0f | %.0f | %.0f | %.0f |\n", batch, plain->cpu_us_per_job,
                durable->cpu_us_per_job, durable->cpu_us_per_job - plain->cpu_us_per_job,
                durable->wall_us_per_job);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace pullprint::bench

int main(int argc, char** argv) {
  pullprint::bench::Options o;
  if (!pullprint::bench::parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: bench_sync_floor [--jobs N] [--bytes S] [--batches 1,2,4,8] "
                 "[--keep-in DIR]\n");
    return 2;
  }
  return pullprint::bench::run(o);
}
