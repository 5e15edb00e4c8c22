// ReportService: print-volume and paper-saving reports and row-level CSV
// exports (the reports part of the admin-API issue). Definitions, formulas
// and performance notes: docs/reports.md.
//
// Reads on its own SQLITE_OPEN_READONLY connection per call, inside one read
// transaction (one consistent snapshot under WAL). All sums are SQL
// aggregates; time buckets are aggregated per UTC day in SQL and folded into
// weeks/months/years here.
//
// Closed-day rollup: for the groupings none/day/week/month/year, department
// and building, the per-day figures of days that can no longer change (before
// yesterday, UTC, by the clock) are cached in the report_rollup tables
// (migration 6) and summed from there; yesterday and today are always read
// live. The rollup of a day is written once, on its own short write
// transaction, by the first report that needs it; a department (building)
// rollup is dropped when the users' departments (printers' groups) change.
// If the rollup cannot be written, the report is computed live (same result).
//
// Unknown counts (NULL pages/impressions/sheets) are never added as 0: each
// figure is {known sum, number of jobs/records whose count is unknown}.
//
// Thread contract: const apart from construction; safe to call concurrently
// from any thread. Calls block (SQLite). An export producer is used by one
// thread at a time and owns its connection and read transaction until it is
// destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin-api/api.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/store.h"

namespace pullprint::api {

enum class GroupBy { kNone, kDay, kWeek, kMonth, kYear, kDepartment, kPrinter, kBuilding, kUser };
const char* groupByName(GroupBy g);
std::optional<GroupBy> parseGroupBy(std::string_view s);

// A sum over rows some of which may have an unknown count.
struct KnownSum {
  std::int64_t known = 0;    // sum over rows whose count is known
  std::int64_t unknown = 0;  // rows (jobs or usage records) whose count is unknown
  KnownSum& operator+=(const KnownSum& o) {
    known += o.known;
    unknown += o.unknown;
    return *this;
  }
  bool operator==(const KnownSum&) const = default;
};

// Jobs that ended without printing, for one reason.
struct NeverPrinted {
  std::int64_t jobs = 0;
  KnownSum pages;   // jobs.impressions_total (printed sides incl. copies)
  KnownSum sheets;  // jobs.sheets (all copies)
  NeverPrinted& operator+=(const NeverPrinted& o) {
    jobs += o.jobs;
    pages += o.pages;
    sheets += o.sheets;
    return *this;
  }
  bool operator==(const NeverPrinted&) const = default;
};

// The figures of one group (or of the whole range). Every field is additive,
// so the total is the sum of the groups.
struct SummaryFigures {
  // Submitted: jobs with created_at in range.
  std::int64_t jobs_submitted = 0;
  KnownSum pages_submitted;  // jobs.impressions_total
  // Printed: usage_records with `at` in range.
  std::int64_t usage_records = 0;
  KnownSum pages_printed;             // usage_records.impressions
  KnownSum sheets_printed;            // usage_records.sheets
  KnownSum pages_colour;              // impressions where color_mode is a colour mode
  KnownSum pages_monochrome;          // ... a monochrome / bi-level mode
  KnownSum pages_colour_unspecified;  // ... "auto", "" or anything else
  KnownSum sheets_saved_by_duplex;    // two-sided records: impressions - sheets
  // Never printed: terminal jobs with completed_at in range.
  NeverPrinted expired;             // state expired
  NeverPrinted cancelled_by_owner;  // canceled, job-canceled-by-user
  NeverPrinted cancelled_by_admin;  // canceled, job-canceled-by-operator
  NeverPrinted denied_by_policy;    // aborted, job-denied-by-policy
  NeverPrinted other_unprinted;     // other canceled/aborted (not in paper saved)

  // expired + cancelled by owner + cancelled by admin + denied by policy.
  KnownSum paperSavedSheets() const;
  KnownSum paperSavedPages() const;
  SummaryFigures& operator+=(const SummaryFigures& o);
  bool operator==(const SummaryFigures&) const = default;
};

struct SummaryGroup {
  std::string key;  // "" for group_by=none; "2026-03" (month), "2026-W09" (ISO week)...
  SummaryFigures figures;
};

struct Summary {
  std::string from, to;  // inclusive UTC dates, YYYY-MM-DD
  GroupBy group_by = GroupBy::kNone;
  std::vector<SummaryGroup> groups;  // sorted by key; only groups with data
  SummaryFigures total;
};

// A per-sheet environmental factor, shown with its source.
struct EnvironmentFactor {
  std::string key;  // "trees", "co2e_g", ...
  std::string unit;
  double per_sheet = 0;
  std::string source;
};
// Published defaults (DESIGN.md "Accounting words"): PaperCut and SavaPage.
// The same values are Config's [reports] defaults (core/config.h).
std::vector<EnvironmentFactor> defaultEnvironmentFactors();
// The factors of a parsed config ([reports] factors, or the defaults).
std::vector<EnvironmentFactor> environmentFactors(const Config& config);

// Row-level CSV exports (docs/reports.md "Exports").
enum class ExportKind {
  kJobs,   // one line per job created in range
  kUsage,  // one line per usage record (printed) in range
};

class ReportService {
 public:
  // `clock` decides which days are closed (rollup); null: the system clock.
  explicit ReportService(std::string database_path,
                         std::vector<EnvironmentFactor> factors = defaultEnvironmentFactors(),
                         const Clock* clock = nullptr);

  // [from, to] are inclusive UTC days, "YYYY-MM-DD". kInvalidArgument for bad
  // dates, from > to; kUnavailable when the database cannot be opened/read.
  Result<Summary> summary(const std::string& from, const std::string& to, GroupBy group_by) const;

  // A streamed CSV export of [from, to]: each call of the producer replaces
  // `out` with the next piece (about 64 KiB of whole lines; the first holds the
  // header line). Memory stays bounded whatever the range. Errors as summary().
  using Producer = std::function<StreamStep(std::string& out)>;
  Result<Producer> exportCsv(ExportKind kind, const std::string& from, const std::string& to) const;

  const std::vector<EnvironmentFactor>& factors() const { return factors_; }

  // HTTP front for /api/v1/reports/...: `user` is already authenticated.
  static bool serves(std::string_view path) { return path.starts_with("/api/v1/reports/"); }
  ApiResponse handle(const ApiRequest& request, const User& user) const;

  std::string toJson(const Summary& s) const;
  std::string toCsv(const Summary& s) const;
  // A print-friendly, self-contained HTML page (inline CSS, no scripts or
  // external assets): the groups, the never-printed split and the
  // environmental equivalents with their sources.
  std::string toHtml(const Summary& s) const;

 private:
  std::string path_;
  std::vector<EnvironmentFactor> factors_;
  const Clock* clock_;
  SystemClock system_clock_;
};

}  // namespace pullprint::api
