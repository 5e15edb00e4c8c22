// ReportService: print-volume and paper-saving reports (the reports issue,
// first slice: the summary report). Definitions and formulas: docs/reports.md.
//
// Read-only: every call opens its own SQLITE_OPEN_READONLY connection on the
// database file and reads inside one transaction (one consistent snapshot
// under WAL), so it never writes and never contends with the Store's pools.
// All sums are SQL aggregates; time buckets are aggregated per UTC day in SQL
// and folded into weeks/months/years here.
//
// Unknown counts (NULL pages/impressions/sheets) are never added as 0: each
// figure is {known sum, number of jobs/records whose count is unknown}.
//
// Thread contract: const and stateless apart from the path and factors;
// safe to call concurrently from any thread. Calls block (SQLite).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin-api/api.h"
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
std::vector<EnvironmentFactor> defaultEnvironmentFactors();

class ReportService {
 public:
  explicit ReportService(std::string database_path,
                         std::vector<EnvironmentFactor> factors = defaultEnvironmentFactors());

  // [from, to] are inclusive UTC days, "YYYY-MM-DD". kInvalidArgument for bad
  // dates, from > to; kUnavailable when the database cannot be opened/read.
  Result<Summary> summary(const std::string& from, const std::string& to, GroupBy group_by) const;

  const std::vector<EnvironmentFactor>& factors() const { return factors_; }

  // HTTP front for /api/v1/reports/...: `user` is already authenticated.
  static bool serves(std::string_view path) { return path.starts_with("/api/v1/reports/"); }
  ApiResponse handle(const ApiRequest& request, const User& user) const;

  std::string toJson(const Summary& s) const;
  std::string toCsv(const Summary& s) const;

 private:
  std::string path_;
  std::vector<EnvironmentFactor> factors_;
};

}  // namespace pullprint::api
