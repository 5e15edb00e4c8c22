// GET /metrics: Prometheus text exposition (format 0.0.4).
//
// Store figures are read at scrape time (jobs by state: one GROUP BY on the
// jobs_state index); process counters come from core/metrics.h.
#include <cstdio>
#include <string>

#include "admin-api/routes.h"

namespace pullprint::api {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string metricsText(ApiDeps& d, const Metrics* m) {
  std::string out;
  // --- Jobs in the store ---
  std::int64_t held = 0;
  auto counts = d.store.jobCountsByState();
  family(out, "pullprint_jobs", "gauge", "Jobs in the store by state.");
  if (counts) {
    for (const auto& [state, n] : *counts) {
      out += "pullprint_jobs{state=\"" + state + "\"} " + std::to_string(n) + "\n";
      if (state == "held") held = n;
    }
  }
  family(out, "pullprint_jobs_held", "gauge", "Jobs waiting for release.");
  out += "pullprint_jobs_held " + std::to_string(held) + "\n";
  family(out, "pullprint_store_up", "gauge", "1 when the store answered this scrape.");
  out += std::string("pullprint_store_up ") + (counts ? "1" : "0") + "\n";
  family(out, "pullprint_jobs_active", "gauge", "Jobs not in a terminal state (in memory).");
  out += "pullprint_jobs_active " + std::to_string(d.jobs.activeCount()) + "\n";
  if (!m) return out;

  if (const std::int64_t t = m->tls_not_after.load(); t > 0) {
    family(out, "pullprint_tls_certificate_not_after_seconds", "gauge",
           "Expiry (Unix time) of the TLS certificate new connections get.");
    out += "pullprint_tls_certificate_not_after_seconds " + std::to_string(t) + "\n";
  }

  // --- Process counters ---
  auto counter = [&](const char* name, const char* help, std::int64_t v) {
    family(out, name, "counter", help);
    out += std::string(name) + " " + std::to_string(v) + "\n";
  };
  counter("pullprint_releases_total", "Jobs handed to a printer by the release engine.",
          m->releases.load());
  counter("pullprint_release_failures_total",
          "Sends to a printer that failed (job back on hold or aborted).",
          m->release_failures.load());
  counter("pullprint_jobs_printed_total", "Jobs completed at a printer.", m->jobs_printed.load());
  counter("pullprint_pages_printed_total", "Printed pages (known counts, all copies).",
          m->pages_printed.load());
  counter("pullprint_sheets_printed_total", "Printed sheets (known counts, all copies).",
          m->sheets_printed.load());
  counter("pullprint_store_transactions_total",
          "SQLite transactions of the group commit (each one WAL sync).",
          m->store_transactions.load());
  counter("pullprint_store_writes_total",
          "Durable writes (job rows, documents, state changes) carried by those transactions.",
          m->store_writes.load());
  counter("pullprint_spool_sync_rounds_total",
          "Spool sync rounds: the round's files fdatasync'ed side by side, one directory fsync.",
          m->spool_sync_rounds.load());
  counter("pullprint_spool_files_synced_total", "Spool files fdatasync'ed before their rows.",
          m->spool_files_synced.load());
  counter("pullprint_journaled_documents_total",
          "Documents made durable in the database's journal, with their job, instead of by a "
          "file sync first.",
          m->journaled_documents.load());
  counter("pullprint_journal_flush_rounds_total",
          "Background rounds that synced journaled documents' files and dropped their journal "
          "copies.",
          m->journal_flush_rounds.load());
  counter("pullprint_journal_files_synced_total", "Journaled documents' files synced in them.",
          m->journal_files_synced.load());
  counter("pullprint_journal_flush_failures_total",
          "Journal flush rounds whose file-system sync failed (their documents stay journaled).",
          m->journal_flush_failures.load());
  counter("pullprint_store_write_failures_total",
          "Durable writes that failed to commit (log event store.commit-failed).",
          m->store_write_failures.load());
  counter("pullprint_documents_damaged_total",
          "Documents whose spool file no longer matched their SHA-256 when released.",
          m->documents_damaged.load());
  counter("pullprint_documents_restored_total",
          "Of those, documents written again from the document journal (the others kept their "
          "job held).",
          m->documents_restored.load());

  const Histogram& h = m->ipp_request_seconds;
  family(out, "pullprint_ipp_request_duration_seconds", "histogram",
         "Time to handle one IPP request (without the document upload).");
  auto cum = h.cumulative();
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i)
    out += "pullprint_ipp_request_duration_seconds_bucket{le=\"" + num(Histogram::kBounds[i]) +
           "\"} " + std::to_string(cum[i]) + "\n";
  out += "pullprint_ipp_request_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(cum.back()) + "\n";
  out += "pullprint_ipp_request_duration_seconds_sum " + num(h.sum()) + "\n";
  out += "pullprint_ipp_request_duration_seconds_count " + std::to_string(h.count()) + "\n";
  return out;
}

}  // namespace pullprint::api
