// Metrics: process-wide counters and one latency histogram, exported as
// Prometheus text by admin-api (GET /metrics).
//
// main owns one Metrics and hands a pointer to the parts that count (release
// engine, IPP service); a null pointer means "not counted" so tests and
// tools need not build one. Counters start at 0 with the process (Prometheus
// handles resets); persistent totals (jobs by state) are read from the store
// at scrape time instead.
//
// Thread contract: every member is lock-free atomic; safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace pullprint {

class Histogram {
 public:
  // Upper bounds in seconds (Prometheus "le"); +Inf is implicit.
  static constexpr std::array<double, 10> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,  0.1,    0.25,  1.0,  5.0};
  void observe(double seconds);
  // Cumulative counts per bound, then the +Inf count.
  std::array<std::int64_t, kBounds.size() + 1> cumulative() const;
  double sum() const { return static_cast<double>(sum_us_.load()) / 1e6; }
  std::int64_t count() const { return count_.load(); }

 private:
  std::array<std::atomic<std::int64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::int64_t> sum_us_{0};
  std::atomic<std::int64_t> count_{0};
};

struct Metrics {
  std::atomic<std::int64_t> releases{0};          // jobs handed to the release engine
  std::atomic<std::int64_t> release_failures{0};  // sends that failed (back to hold or aborted)
  std::atomic<std::int64_t> jobs_printed{0};      // jobs completed at a printer
  std::atomic<std::int64_t> pages_printed{0};     // known printed pages (usage records)
  std::atomic<std::int64_t> sheets_printed{0};    // known printed sheets
  Histogram ipp_request_seconds;                  // IPP request handling time
  // Group commit (spooler/committer.h): how many durable writes share one
  // SQLite transaction, and how many spool files share one sync round.
  std::atomic<std::int64_t> store_transactions{0};    // committer transactions
  std::atomic<std::int64_t> store_writes{0};          // writes (ops) they carried
  std::atomic<std::int64_t> store_write_failures{0};  // of those, failed (store.commit-failed)
  std::atomic<std::int64_t> spool_sync_rounds{0};     // rounds: files + one directory fsync
  std::atomic<std::int64_t> spool_files_synced{0};    // files fdatasync'ed in them
  // The document journal: documents made durable through the WAL, and the
  // background rounds that later synced their files.
  std::atomic<std::int64_t> journaled_documents{0};
  std::atomic<std::int64_t> journal_flush_rounds{0};
  std::atomic<std::int64_t> journal_files_synced{0};
  // Rounds whose sync failed (log spool.flush-failed).
  std::atomic<std::int64_t> journal_flush_failures{0};
  // Release-time checks (spooler/release_engine.cpp): documents whose spool
  // file no longer matched their SHA-256, and those of them written again
  // from the journal (the others kept their job held).
  std::atomic<std::int64_t> documents_damaged{0};
  std::atomic<std::int64_t> documents_restored{0};
  // The TLS certificate new connections get: its notAfter (Unix seconds),
  // set at start and at each reload; 0 without TLS.
  std::atomic<std::int64_t> tls_not_after{0};
};

}  // namespace pullprint
