// Job domain types and the job state machine.
//
// Design notes: the lifecycle (docs/ARCHITECTURE.md has the full picture)
//
//   state       | IPP job-state     | entered when                        | leaves to
//   ------------+-------------------+-------------------------------------+--------------------------------
//   kReceiving  | pending-held (4)  | Print-Job/Create-Job accepted       | held, pending, aborted,
//   canceled kHeld       | pending-held (4)  | document stored durably             | pending,
//   canceled, expired, aborted kPending    | pending (3)       | released (admin, card, portal) |
//   sending, held, canceled kSending    | processing (5)    | release engine took it              |
//   printing, held, aborted, canceled kPrinting   | processing (5)    | printer accepted the
//   document       | completed, held, aborted, canceled kCompleted  | completed (9)     | printer
//   reports completion          | (terminal) kCanceled   | canceled (7)      | owner/admin
//   cancelled               | (terminal) kAborted    | aborted (8)       | receive failed, or
//   unrecoverable    | (terminal) kExpired    | canceled (7)      | hold timeout passed |
//   (terminal)
//
// Only JobService::transition() changes a job's state, and it checks every
// change against canTransition() below.
//
// Thread contract: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace pullprint {

using JobId = std::int64_t;

enum class JobState {
  kReceiving = 0,
  kHeld = 1,
  kPending = 2,
  kSending = 3,
  kPrinting = 4,
  kCompleted = 5,
  kCanceled = 6,
  kAborted = 7,
  kExpired = 8,
};

const char* jobStateName(JobState s);  // "held", "receiving", ...
std::optional<JobState> parseJobState(std::string_view name);
bool isTerminal(JobState s);
bool canTransition(JobState from, JobState to);
int ippJobState(JobState s);  // RFC 8011 job-state enum value

// One document of a job (Print-Job has one; Create-Job may have several).
struct Document {
  JobId job_id = 0;
  int number = 1;      // 1-based document-number
  std::string format;  // document-format as given/detected
  std::string name;    // document-name (display only; never a path)
  std::int64_t size_bytes = 0;
  std::string sha256;                 // lowercase hex
  std::optional<std::int64_t> pages;  // unknown until analysed
};

struct Job {
  JobId id = 0;
  std::string queue;            // followme, direct, or a configured queue
  std::string owner;            // job-originating-user-name
  std::string source_address;   // client address the job came from
  std::string name;             // job-name
  std::string format;           // document-format of the first document
  std::int64_t size_bytes = 0;  // sum over documents
  std::string sha256;           // of the first document (Print-Job: the only one)
  int document_count = 0;
  int copies = 1;
  std::string sides = "one-sided";
  std::string color_mode = "auto";  // print-color-mode requested
  std::string ticket_json =
      "{}";  // other job template attributes (page-ranges, number-up, media...)
  JobState state = JobState::kReceiving;
  std::string state_reasons;  // comma-separated IPP keywords
  std::string state_message;  // shown as job-state-message
  UnixSeconds created_at = 0;
  UnixSeconds processing_at = 0;  // 0: never
  UnixSeconds completed_at = 0;   // 0: not yet
  UnixSeconds hold_expires_at = 0;
  std::optional<std::int64_t> pages;        // analysed page count, all documents
  std::optional<std::int64_t> impressions;  // per copy (IPP job-impressions)
  std::optional<std::int64_t> sheets;       // all copies (IPP job-media-sheets)
  bool last_document_received = false;

  // Analysis (document-analysis issue): how far `pages`/`impressions`/`sheets` can be trusted.
  std::optional<std::int64_t> impressions_total;  // all copies (accounting)
  std::string count_confidence;  // "exact" | "estimated" | "unknown"; "" = not analysed yet
  std::string count_note;        // how counted, or why unknown

  // Release (release-engine issue).
  std::string printer;              // printer the job was released to ("" = none yet)
  std::int64_t printer_job_id = 0;  // the printer's job-id, stored before the document is sent
  int release_attempt = 0;          // increases with every send; part of the printer-side job name
  std::string released_by;          // user, admin or station that released it
};

// Filters for listing jobs (Get-Jobs, API).
struct JobFilter {
  std::optional<std::string> queue;  // nullopt: all queues
  std::optional<std::string> owner;  // nullopt: everyone's
  bool not_completed = true;         // which-jobs: true = not-completed, false = completed
  bool all = false;                  // which-jobs=all
  std::int64_t limit = 0;            // 0: no limit
  JobId after_id = 0;                // paging
};

}  // namespace pullprint
