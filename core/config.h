// Config: the server's settings, parsed once at start-up into a plain struct.
//
// Defaults live in one place: the member initialisers below, which
// docs/configuration.md and the embedded commented default file
// (defaultConfigText()) repeat. A config file may set any subset; unknown
// keys, wrong types and impossible values are start-up errors that name the
// file and line. Command-line flags (--listen, --state-dir) override the file.
//
// Thread contract: built before any thread starts, then read-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"

namespace pullprint {

// A queue in front of one real printer (per-printer held queue) or the
// direct queue. The follow-me queue is always present and not listed here.
struct QueueConfig {
  std::string name;         // [A-Za-z0-9_-], 1..127 characters; the IPP path segment
  std::string printer_uri;  // ipp:// or ipps:// of the printer (release engine target)
  bool hold = true;         // false: the queue prints at once (see docs)
  std::int64_t hold_timeout_seconds = -1;  // -1: use [hold] timeout
  std::string info;                        // printer-info shown to clients
  std::string location;                    // printer-location
};

// A printer jobs can be released to ([[printer]]); seeded into the registry at start.
struct PrinterConfig {
  std::string name;  // [A-Za-z0-9_-], 1..127
  std::string uri;   // ipp:// or ipps://
  std::string location;
  std::string group;  // building / printer group
  std::string info;
};

// A per-sheet environmental factor for reports ([[reports.factor]]), always
// shown with its source (docs/reports.md "Environmental equivalents").
struct ReportFactorConfig {
  std::string key;  // [a-z0-9_]{1,40}, unique: the JSON/CSV name ("co2e_g")
  std::string unit;
  double per_sheet = 0;  // >= 0
  std::string source;    // required: where the number comes from
};
// PaperCut and SavaPage published defaults (the [reports] default).
std::vector<ReportFactorConfig> defaultReportFactors();

struct Config {
  // [server]
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8631;
  int threads = 2;  // io threads
  std::string log_level = "info";
  std::string server_name = "pullprint";   // shown in printer-info / make-and-model
  std::int64_t idle_timeout_seconds = 30;  // keep-alive idle and stalled-body timeout
  int max_connections = 2048;
  // On SIGTERM/SIGINT: stop accepting, close idle connections, and let
  // requests in progress (uploads included) finish for up to this long.
  // 0: stop at once (uploads in progress are aborted).
  std::int64_t shutdown_grace_seconds = 10;

  // [tls]
  std::string tls_certificate;  // PEM; empty: plain HTTP only
  std::string tls_private_key;

  // [ipp]
  // Sources whose requesting-user-name is believed (a site's CUPS servers).
  std::vector<std::string> trusted_sources = {"127.0.0.0/8", "::1/128"};
  // Users with administrator rights over IPP (Hold-Job/Release-Job of any job).
  std::vector<std::string> admin_users = {"root"};
  // HTTP Basic is accepted over plain HTTP only from loopback unless this is set.
  bool allow_basic_without_tls = false;
  std::int64_t max_document_bytes = 512LL << 20;  // 512 MiB
  std::int64_t max_ipp_header_bytes = 256 << 10;  // attributes before the document
  bool accept_unknown_formats = true;             // application/octet-stream etc.

  // [spool]
  std::filesystem::path state_dir = "state";
  std::filesystem::path spool_dir;           // default: <state_dir>/spool
  std::filesystem::path database;            // default: <state_dir>/pullprint.db
  std::int64_t min_free_bytes = 64LL << 20;  // refuse documents when the spool disk is this full
  // Documents up to this size are made durable in the database's WAL with
  // their job (one sync, not two); 0: every spool file is synced first.
  std::int64_t journal_max_bytes = 256 << 10;
  // How long a journaled document's file may wait for its sync.
  std::int64_t journal_sync_delay_ms = 100;

  // [hold]
  std::int64_t hold_timeout_seconds = 24 * 3600;

  // [analysis] (document analysis, docs/accounting.md)
  std::int64_t analysis_time_limit_ms = 10000;  // per document, then "analysis-time-limit"
  std::int64_t analysis_memory_limit_mb = 512;  // address space of the analysing process
  std::string analysis_postscript =
      "dsc";  // "dsc": trust consistent DSC; "interpret": always Ghostscript
  int analysis_text_lines_per_page = 60;
  // documents one analysis process handles before it is replaced; 0 = a fresh
  // process per document (spooler/analysis/worker.h)
  int analysis_documents_per_process = 500;
  // "background": the analysis processes run under SCHED_IDLE (they yield
  // to request handling); "normal": like the server's own threads
  std::string analysis_priority = "background";

  // [policy]
  std::filesystem::path policy_file;  // policies TOML (docs/policies.md); empty: none

  // [release]
  std::string direct_printer;                    // printer of the direct queue ("" = none)
  std::int64_t release_poll_ms = 500;            // Get-Job-Attributes interval while printing
  std::int64_t release_busy_retry_seconds = 30;  // keep retrying a busy printer this long
  std::int64_t expiry_interval_seconds = 30;     // how often the hold timeout is checked

  // [stations] (card release; see docs/badge-reader.md)
  std::int64_t station_clock_skew_seconds =
      60;  // signed requests older/newer than this are refused
  std::int64_t station_failed_reads_per_minute =
      10;  // unknown/failed card taps per station, then 429
  std::int64_t card_register_window_seconds = 120;  // "register my card": tap within this time

  // [fleet] (fleet push and drift; docs/policies.md "Fleet push and drift")
  int fleet_concurrency = 16;                        // printers contacted at once
  std::int64_t fleet_timeout_ms = 10000;             // per printer and IPP request
  int fleet_attempts = 3;                            // tries for an unreachable printer
  std::int64_t fleet_backoff_ms = 1000;              // wait before the 2nd try; doubles per try
  std::int64_t fleet_drift_interval_seconds = 3600;  // scheduled drift check; 0 = off
  bool fleet_auto_repush = false;                    // push again to drifted printers after a check

  // [api] (REST API authentication; see docs/api.md)
  std::int64_t session_idle_seconds = 30 * 60;        // a session unused this long ends
  std::int64_t session_lifetime_seconds = 12 * 3600;  // a session ends this long after login
  std::int64_t token_max_lifetime_days = 365;         // API tokens expire at most this late
  std::int64_t login_failures_per_window = 5;         // per user+peer, then 429
  std::int64_t login_failure_window_seconds = 300;    // ... within this window
  std::vector<std::string> metrics_allow = {"127.0.0.0/8", "::1/128"};  // /metrics without auth
  // [retention] (docs/operations.md "Personal data")
  // Days after a job ended (printed, cancelled, expired, aborted, denied)
  // when its job name, document names and source address are blanked;
  // counts, owner, printer and times stay for the reports. 0: kept forever.
  std::int64_t retention_job_details_days = 0;

  // [reports] (docs/reports.md): any [[reports.factor]] replaces the whole default list.
  std::vector<ReportFactorConfig> report_factors = defaultReportFactors();

  // [[queue]]
  std::vector<QueueConfig> queues;
  // [[printer]]
  std::vector<PrinterConfig> printers;

  // Fills spool_dir and database from state_dir where they are unset.
  void resolvePaths();
};

// Parses TOML text; `source` names the file in error messages
// ("pullprint.toml:12:3: unknown key 'lisen' in [server]").
Result<Config> parseConfig(std::string_view toml_text, const std::string& source);
Result<Config> loadConfigFile(const std::filesystem::path& path);

// The commented default configuration written into a new state directory.
const std::string& defaultConfigText();

// "HOST:PORT", "[v6]:PORT" or ":PORT".
Status parseListen(std::string_view text, std::string* host, std::uint16_t* port);

}  // namespace pullprint
