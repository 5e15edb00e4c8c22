#include "admin-api/reports.h"

#include "admin-api/csv.h"
#include "admin-api/url.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

namespace pullprint::api {

namespace {

using nlohmann::json;
namespace chr = std::chrono;

constexpr std::int64_t kDay = 86400;

// ---- dates ----

// Strict YYYY-MM-DD -> days since 1970-01-01 (UTC).
std::optional<std::int64_t> parseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  const std::size_t at[3][2] = {{0, 4}, {5, 7}, {8, 10}};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = at[i][0]; k < at[i][1]; ++k) {
      if (s[k] < '0' || s[k] > '9') return std::nullopt;
      v[i] = v[i] * 10 + (s[k] - '0');
    }
  }
  chr::year_month_day ymd{chr::year(v[0]), chr::month(static_cast<unsigned>(v[1])),
                          chr::day(static_cast<unsigned>(v[2]))};
  if (v[0] < 1970 || !ymd.ok()) return std::nullopt;
  return chr::sys_days(ymd).time_since_epoch().count();
}

std::string formatDay(std::int64_t day) {
  chr::year_month_day ymd{chr::sys_days(chr::days(day))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// ISO 8601 week: the week (Monday first) belongs to the year of its Thursday.
std::string isoWeek(std::int64_t day) {
  chr::sys_days d{chr::days(day)};
  unsigned monday_based = (chr::weekday(d).c_encoding() + 6) % 7;  // Mon=0 .. Sun=6
  chr::sys_days thursday = d + chr::days(3 - static_cast<int>(monday_based));
  chr::year y = chr::year_month_day(thursday).year();
  auto jan1 = chr::sys_days(y / chr::January / 1);
  int week = static_cast<int>((thursday - jan1).count() / 7 + 1);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(y), week);
  return buf;
}

// The group key of a UTC day number for a time grouping.
std::string timeKey(GroupBy g, std::int64_t day) {
  std::string d = formatDay(day);
  switch (g) {
    case GroupBy::kDay:
      return d;
    case GroupBy::kWeek:
      return isoWeek(day);
    case GroupBy::kMonth:
      return d.substr(0, 7);
    case GroupBy::kYear:
      return d.substr(0, 4);
    default:
      return "";
  }
}

bool isTimeGrouping(GroupBy g) {
  return g == GroupBy::kDay || g == GroupBy::kWeek || g == GroupBy::kMonth || g == GroupBy::kYear;
}

// ---- SQL ----

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Status sqlFailure(sqlite3* db, const std::string& what) {
  return {StatusCode::kUnavailable, "reports: " + what + ": " + sqlite3_errmsg(db)};
}

Result<Db> openDb(const std::string& path, bool writable) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK)
    return Status(StatusCode::kUnavailable, "reports: cannot open " + path + ": " +
                                                (raw ? sqlite3_errmsg(raw) : "no memory"));
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

// SQL for the group key of a row of table alias `t`, whose owner column is
// `user_col` and printer column `printer_col`. Joins needed for
// department/building are returned in `join`. Time groupings have key ''
// here: their key is the day column.
std::string keySql(GroupBy g, const std::string& user_col, const std::string& printer_col,
                   std::string* join) {
  join->clear();
  switch (g) {
    case GroupBy::kDepartment:
      *join = " LEFT JOIN users u ON u.name = " + user_col;
      return "COALESCE(u.department, '')";
    case GroupBy::kPrinter:
      return printer_col;
    case GroupBy::kBuilding:
      *join = " LEFT JOIN printers p ON p.name = " + printer_col;
      return "COALESCE(p.printer_group, '')";
    case GroupBy::kUser:
      return user_col;
    default:
      return "''";
  }
}

// Runs `sql` with ?1 = from, ?2 = to (seconds); `row` gets each result row.
template <typename Fn>
Status query(sqlite3* db, const std::string& sql, std::int64_t from, std::int64_t to, Fn row) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return sqlFailure(db, "prepare");
  Stmt st(raw);
  sqlite3_bind_int64(raw, 1, from);
  sqlite3_bind_int64(raw, 2, to);
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) row(raw);
  if (rc != SQLITE_DONE) return sqlFailure(db, "query");
  return Status::ok();
}

std::string columnText(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

KnownSum knownSum(sqlite3_stmt* st, int known_col, int unknown_col) {
  return {sqlite3_column_int64(st, known_col), sqlite3_column_int64(st, unknown_col)};
}

// Colour classes of print-color-mode (RFC 8011 / PWG 5100.13 keywords).
constexpr const char* kColourModes = "('color','highlight','process-color')";
constexpr const char* kMonoModes =
    "('monochrome','process-monochrome','bi-level','process-bi-level','auto-monochrome')";

// Figures keyed by (UTC day number, or -1 when not split by day; group key).
using Buckets = std::map<std::pair<std::int64_t, std::string>, SummaryFigures>;

// Adds the figures of [t0, t1) to `out`, keyed by the group key of `dim`
// (kNone, kDepartment, kPrinter, kBuilding, kUser) and, with `by_day`, by the
// UTC day of each row's time. Three aggregate queries, in the caller's
// transaction.
Status collect(sqlite3* db, std::int64_t t0, std::int64_t t1, GroupBy dim, bool by_day,
               Buckets* out) {
  std::string join;
  auto day = [&](const char* col) { return by_day ? std::string(col) + " / 86400" : "-1"; };
  // One group only: no GROUP BY (grouping by constants still runs a sorter,
  // 2.5x the CPU of the plain aggregate; an empty range then gives one row
  // of zeros, dropped with the other empty groups).
  const std::string group = dim == GroupBy::kNone && !by_day ? "" : " GROUP BY 1, 2";

  // 1. Submitted: jobs created in range (index jobs_created).
  std::string key = keySql(dim, "j.owner", "j.printer", &join);
  std::string sql = "SELECT " + day("j.created_at") + ", " + key +
                    ", COUNT(*), COALESCE(SUM(j.impressions_total), 0), "
                    "COUNT(*) - COUNT(j.impressions_total) FROM jobs j" +
                    join + " WHERE j.created_at >= ?1 AND j.created_at < ?2" + group;
  if (Status s = query(db, sql, t0, t1,
                       [&](sqlite3_stmt* st) {
                         auto& f = (*out)[{sqlite3_column_int64(st, 0), columnText(st, 1)}];
                         f.jobs_submitted += sqlite3_column_int64(st, 2);
                         f.pages_submitted += knownSum(st, 3, 4);
                       });
      !s)
    return s;

  // 2. Printed: usage records in range (index usage_at).
  key = keySql(dim, "r.user_name", "r.printer", &join);
  auto colourSum = [](const std::string& cond) {
    return "COALESCE(SUM(CASE WHEN " + cond + " THEN r.impressions END), 0), SUM(" + cond +
           " AND r.impressions IS NULL)";
  };
  std::string colour = std::string("r.color_mode IN ") + kColourModes;
  std::string mono = std::string("r.color_mode IN ") + kMonoModes;
  sql = "SELECT " + day("r.at") + ", " + key +
        ", COUNT(*), COALESCE(SUM(r.impressions), 0), COUNT(*) - COUNT(r.impressions), "
        "COALESCE(SUM(r.sheets), 0), COUNT(*) - COUNT(r.sheets), " +
        colourSum(colour) + ", " + colourSum(mono) + ", " +
        colourSum("NOT (" + colour + ") AND NOT (" + mono + ")") +
        ", COALESCE(SUM(CASE WHEN r.two_sided <> 0 THEN r.impressions - r.sheets END), 0), "
        "SUM(r.two_sided <> 0 AND (r.impressions IS NULL OR r.sheets IS NULL)) "
        "FROM usage_records r" +
        join + " WHERE r.at >= ?1 AND r.at < ?2" + group;
  if (Status s = query(db, sql, t0, t1,
                       [&](sqlite3_stmt* st) {
                         auto& f = (*out)[{sqlite3_column_int64(st, 0), columnText(st, 1)}];
                         f.usage_records += sqlite3_column_int64(st, 2);
                         f.pages_printed += knownSum(st, 3, 4);
                         f.sheets_printed += knownSum(st, 5, 6);
                         f.pages_colour += knownSum(st, 7, 8);
                         f.pages_monochrome += knownSum(st, 9, 10);
                         f.pages_colour_unspecified += knownSum(st, 11, 12);
                         f.sheets_saved_by_duplex += knownSum(st, 13, 14);
                       });
      !s)
    return s;

  // 3. Never printed: jobs that ended unprinted, by completed_at (partial
  //    covering index jobs_unprinted_completed, named: the planner would
  //    otherwise take jobs_hold_expiry for the state term). The state test is
  //    written exactly as the index's WHERE (migration 7), comparisons
  //    rather than IN, so that the planner can match the two.
  key = keySql(dim, "j.owner", "j.printer", &join);
  const std::string reasons = "(',' || j.state_reasons || ',')";
  sql = "SELECT " + day("j.completed_at") + ", " + key +
        ", CASE WHEN j.state = 'expired' THEN 0 "
        "WHEN j.state = 'canceled' AND " +
        reasons + " LIKE '%,job-canceled-by-operator,%' THEN 2 " +
        "WHEN j.state = 'canceled' AND " + reasons + " LIKE '%,job-canceled-by-user,%' THEN 1 " +
        "WHEN j.state = 'aborted' AND " + reasons + " LIKE '%,job-denied-by-policy,%' THEN 3 " +
        "ELSE 4 END AS why, COUNT(*), COALESCE(SUM(j.impressions_total), 0), "
        "COUNT(*) - COUNT(j.impressions_total), COALESCE(SUM(j.sheets), 0), "
        "COUNT(*) - COUNT(j.sheets) FROM jobs j INDEXED BY jobs_unprinted_completed" +
        join +
        " WHERE (j.state = 'expired' OR j.state = 'canceled' OR j.state = 'aborted')"
        " AND j.completed_at >= ?1 "
        "AND j.completed_at < ?2 GROUP BY " +
        (group.empty() ? "3" : "1, 2, 3");
  return query(db, sql, t0, t1, [&](sqlite3_stmt* st) {
    auto& f = (*out)[{sqlite3_column_int64(st, 0), columnText(st, 1)}];
    NeverPrinted* n[] = {&f.expired, &f.cancelled_by_owner, &f.cancelled_by_admin,
                         &f.denied_by_policy, &f.other_unprinted};
    NeverPrinted add{sqlite3_column_int64(st, 3), knownSum(st, 4, 5), knownSum(st, 6, 7)};
    *n[std::clamp(sqlite3_column_int(st, 2), 0, 4)] += add;
  });
}

// ---- closed-day rollup (tables of migration 6) ----

// Days before yesterday (UTC) are closed: nothing pullprint writes can land
// in them any more (usage records, completion and submission are stamped
// with "now"; analysis finishes within its time limit).
constexpr std::int64_t kOpenDays = 2;
// Bump when the meaning or the serialisation of the figures changes: every
// stored rollup is then rebuilt.
constexpr const char* kRollupVersion = "figures-1";

// Every counter of SummaryFigures, in a fixed order (the rollup format).
std::vector<std::int64_t*> counters(SummaryFigures& f) {
  std::vector<std::int64_t*> v = {&f.jobs_submitted,
                                  &f.pages_submitted.known,
                                  &f.pages_submitted.unknown,
                                  &f.usage_records,
                                  &f.pages_printed.known,
                                  &f.pages_printed.unknown,
                                  &f.sheets_printed.known,
                                  &f.sheets_printed.unknown,
                                  &f.pages_colour.known,
                                  &f.pages_colour.unknown,
                                  &f.pages_monochrome.known,
                                  &f.pages_monochrome.unknown,
                                  &f.pages_colour_unspecified.known,
                                  &f.pages_colour_unspecified.unknown,
                                  &f.sheets_saved_by_duplex.known,
                                  &f.sheets_saved_by_duplex.unknown};
  for (NeverPrinted* n : {&f.expired, &f.cancelled_by_owner, &f.cancelled_by_admin,
                          &f.denied_by_policy, &f.other_unprinted})
    for (std::int64_t* x :
         {&n->jobs, &n->pages.known, &n->pages.unknown, &n->sheets.known, &n->sheets.unknown})
      v.push_back(x);
  return v;
}

std::string encodeFigures(SummaryFigures f) {
  std::string out;
  for (std::int64_t* x : counters(f)) {
    if (!out.empty()) out += ' ';
    out += std::to_string(*x);
  }
  return out;
}

bool decodeFigures(std::string_view text, SummaryFigures* f) {
  for (std::int64_t* x : counters(*f)) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *x);
    if (ec != std::errc()) return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  }
  return text.empty();
}

// Which rollup serves a grouping: its name and the key it is split by.
struct RollupDim {
  const char* name;
  GroupBy key;
};
std::optional<RollupDim> rollupDim(GroupBy g) {
  switch (g) {
    case GroupBy::kNone:
    case GroupBy::kDay:
    case GroupBy::kWeek:
    case GroupBy::kMonth:
    case GroupBy::kYear:
      return RollupDim{"time", GroupBy::kNone};
    case GroupBy::kDepartment:
      return RollupDim{"department", GroupBy::kDepartment};
    case GroupBy::kBuilding:
      return RollupDim{"building", GroupBy::kBuilding};
    default:
      return std::nullopt;  // printer, user: nearly one row per job and day; read live
  }
}

// What the stored rows of a rollup depend on besides the rows of the day:
// the users' departments or the printers' groups (an order-independent hash
// of every pair) and the figures format.
Result<std::string> fingerprint(sqlite3* db, const RollupDim& dim) {
  std::string fp = kRollupVersion;
  const char* sql = dim.key == GroupBy::kDepartment ? "SELECT name, department FROM users"
                    : dim.key == GroupBy::kBuilding ? "SELECT name, printer_group FROM printers"
                                                    : nullptr;
  if (!sql) return fp;
  std::uint64_t sum = 0, count = 0;
  if (Status s = query(db, sql, 0, 0,
                       [&](sqlite3_stmt* st) {
                         std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64 per pair
                         for (int c = 0; c < 2; ++c) {
                           auto* p = sqlite3_column_text(st, c);
                           int n = sqlite3_column_bytes(st, c);
                           for (int i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
                           h = (h ^ 0xff) * 1099511628211ull;
                         }
                         sum += h;
                         ++count;
                       });
      !s)
    return s;
  char buf[64];
  std::snprintf(buf, sizeof buf, ":%llu:%016llx", static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(sum));
  return fp + buf;
}

Result<std::string> storedFingerprint(sqlite3* db, const char* dim) {
  std::string out;
  std::string sql =
      std::string("SELECT fingerprint FROM report_rollup_state WHERE dim = '") + dim + "'";
  if (Status s = query(db, sql, 0, 0, [&](sqlite3_stmt* st) { out = columnText(st, 0); }); !s)
    return s;
  return out;
}

// Writes the rollup of days [first, last] (all of them, rows and markers) if
// the fingerprint is still `fp`; drops the dimension's older rollup when the
// stored fingerprint differs. Best effort: any failure leaves the rollup as
// it was (the report was already computed live).
void storeRollup(const std::string& path, const RollupDim& dim, const std::string& fp,
                 std::int64_t first, std::int64_t last, const Buckets& built) {
  auto db = openDb(path, true);
  if (!db) return;
  sqlite3* w = db->get();
  if (sqlite3_exec(w, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return;
  auto fail = [&] { (void)sqlite3_exec(w, "ROLLBACK", nullptr, nullptr, nullptr); };
  auto now_fp = fingerprint(w, dim);
  auto old_fp = storedFingerprint(w, dim.name);
  if (!now_fp || !old_fp || *now_fp != fp) return fail();  // changed meanwhile: next time
  auto exec = [&](const std::string& sql, std::int64_t a, std::int64_t b) {
    return query(w, sql, a, b, [](sqlite3_stmt*) {}).isOk();
  };
  const std::string d = std::string("'") + dim.name + "'";
  bool ok = true;
  if (*old_fp != fp)
    ok = exec("DELETE FROM report_rollup WHERE dim = " + d, 0, 0) &&
         exec("DELETE FROM report_rollup_days WHERE dim = " + d, 0, 0) &&
         exec("INSERT OR REPLACE INTO report_rollup_state(dim, fingerprint) VALUES(" + d + ", '" +
                  fp + "')",
              0, 0);
  ok = ok &&
       exec("DELETE FROM report_rollup WHERE dim = " + d + " AND day BETWEEN ?1 AND ?2", first,
            last) &&
       exec("DELETE FROM report_rollup_days WHERE dim = " + d + " AND day BETWEEN ?1 AND ?2", first,
            last);
  sqlite3_stmt* raw = nullptr;
  ok = ok && sqlite3_prepare_v2(w,
                                "INSERT INTO report_rollup(dim, day, key, figures) "
                                "VALUES(?1, ?2, ?3, ?4)",
                                -1, &raw, nullptr) == SQLITE_OK;
  Stmt ins(raw);
  for (auto it = built.begin(); ok && it != built.end(); ++it) {
    const auto& [day_key, figures] = *it;
    std::string text = encodeFigures(figures);
    sqlite3_bind_text(raw, 1, dim.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(raw, 2, day_key.first);
    sqlite3_bind_text(raw, 3, day_key.second.data(), static_cast<int>(day_key.second.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(raw, 4, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    ok = sqlite3_step(raw) == SQLITE_DONE;
    sqlite3_reset(raw);
  }
  ins.reset();
  raw = nullptr;
  ok = ok && sqlite3_prepare_v2(w, "INSERT INTO report_rollup_days(dim, day) VALUES(?1, ?2)", -1,
                                &raw, nullptr) == SQLITE_OK;
  Stmt mark(raw);
  for (std::int64_t day = first; ok && day <= last; ++day) {
    sqlite3_bind_text(raw, 1, dim.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(raw, 2, day);
    ok = sqlite3_step(raw) == SQLITE_DONE;
    sqlite3_reset(raw);
  }
  mark.reset();
  if (!ok) return fail();
  if (sqlite3_exec(w, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) fail();
}

// ---- HTTP helpers ----

ApiResponse reply(int status, std::string body, std::string content_type = "application/json") {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}
ApiResponse error(int status, const std::string& message) {
  return reply(status, json{{"error", message}}.dump());
}

json knownJson(const KnownSum& k, const char* unknown_name) {
  return {{"known", k.known}, {unknown_name, k.unknown}};
}

json neverJson(const NeverPrinted& n) {
  return {{"jobs", n.jobs},
          {"pages", knownJson(n.pages, "unknown_jobs")},
          {"sheets", knownJson(n.sheets, "unknown_jobs")}};
}

}  // namespace

// ---- group_by ----

const char* groupByName(GroupBy g) {
  switch (g) {
    case GroupBy::kNone:
      return "none";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kWeek:
      return "week";
    case GroupBy::kMonth:
      return "month";
    case GroupBy::kYear:
      return "year";
    case GroupBy::kDepartment:
      return "department";
    case GroupBy::kPrinter:
      return "printer";
    case GroupBy::kBuilding:
      return "building";
    case GroupBy::kUser:
      return "user";
  }
  return "none";
}

std::optional<GroupBy> parseGroupBy(std::string_view s) {
  for (GroupBy g : {GroupBy::kNone, GroupBy::kDay, GroupBy::kWeek, GroupBy::kMonth, GroupBy::kYear,
                    GroupBy::kDepartment, GroupBy::kPrinter, GroupBy::kBuilding, GroupBy::kUser})
    if (s == groupByName(g)) return g;
  return std::nullopt;
}

// ---- figures ----

KnownSum SummaryFigures::paperSavedSheets() const {
  KnownSum k = expired.sheets;
  k += cancelled_by_owner.sheets;
  k += cancelled_by_admin.sheets;
  k += denied_by_policy.sheets;
  return k;
}

KnownSum SummaryFigures::paperSavedPages() const {
  KnownSum k = expired.pages;
  k += cancelled_by_owner.pages;
  k += cancelled_by_admin.pages;
  k += denied_by_policy.pages;
  return k;
}

SummaryFigures& SummaryFigures::operator+=(const SummaryFigures& o) {
  jobs_submitted += o.jobs_submitted;
  pages_submitted += o.pages_submitted;
  usage_records += o.usage_records;
  pages_printed += o.pages_printed;
  sheets_printed += o.sheets_printed;
  pages_colour += o.pages_colour;
  pages_monochrome += o.pages_monochrome;
  pages_colour_unspecified += o.pages_colour_unspecified;
  sheets_saved_by_duplex += o.sheets_saved_by_duplex;
  expired += o.expired;
  cancelled_by_owner += o.cancelled_by_owner;
  cancelled_by_admin += o.cancelled_by_admin;
  denied_by_policy += o.denied_by_policy;
  other_unprinted += o.other_unprinted;
  return *this;
}

std::vector<EnvironmentFactor> environmentFactors(const Config& config) {
  std::vector<EnvironmentFactor> out;
  for (const auto& f : config.report_factors) out.push_back({f.key, f.unit, f.per_sheet, f.source});
  return out;
}

std::vector<EnvironmentFactor> defaultEnvironmentFactors() { return environmentFactors(Config{}); }

// ---- the service ----

ReportService::ReportService(std::string database_path, std::vector<EnvironmentFactor> factors,
                             const Clock* clock)
    : path_(std::move(database_path)),
      factors_(std::move(factors)),
      clock_(clock ? clock : &system_clock_) {}

Result<Summary> ReportService::summary(const std::string& from, const std::string& to,
                                       GroupBy group_by) const {
  auto from_day = parseDate(from);
  auto to_day = parseDate(to);
  if (!from_day) return Status(StatusCode::kInvalidArgument, "from must be a date YYYY-MM-DD");
  if (!to_day) return Status(StatusCode::kInvalidArgument, "to must be a date YYYY-MM-DD");
  if (*from_day > *to_day) return Status(StatusCode::kInvalidArgument, "from is after to");

  auto opened = openDb(path_, false);
  if (!opened) return opened.status();
  sqlite3* db = opened->get();
  // One read transaction: every query sees the same snapshot.
  if (sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlFailure(db, "begin");
  auto end = [&] { (void)sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); };

  const bool by_day = isTimeGrouping(group_by);
  Buckets buckets;
  std::int64_t live_from = *from_day;  // days [live_from, to_day] are read live
  auto dim = rollupDim(group_by);
  const std::int64_t closed_end = std::min(*to_day, clock_->now() / kDay - kOpenDays);
  if (dim && *from_day <= closed_end) {
    // Closed days [from_day, closed_end]: from the rollup, building what is
    // missing (or everything, when departments/buildings changed).
    auto fp = fingerprint(db, *dim);
    auto stored = storedFingerprint(db, dim->name);
    if (!fp) return fp.status();
    if (!stored) return stored.status();  // (no such table: schema older than migration 6)
    std::int64_t miss_first = *from_day, miss_last = closed_end;
    if (*stored == *fp) {
      std::vector<std::int64_t> present;
      if (Status s =
              query(db,
                    std::string("SELECT day FROM report_rollup_days WHERE dim = '") + dim->name +
                        "' AND day BETWEEN ?1 AND ?2 ORDER BY day",
                    *from_day, closed_end,
                    [&](sqlite3_stmt* st) { present.push_back(sqlite3_column_int64(st, 0)); });
          !s)
        return s;
      // The missing days form [miss_first, miss_last] (present days inside
      // it are recomputed too: same data, same figures).
      std::int64_t expect = *from_day;
      miss_first = closed_end + 1;
      miss_last = *from_day - 1;
      for (std::int64_t d : present) {
        if (d != expect) {
          miss_first = std::min(miss_first, expect);
          miss_last = d - 1;
        }
        expect = d + 1;
      }
      if (expect <= closed_end) {
        miss_first = std::min(miss_first, expect);
        miss_last = closed_end;
      }
      std::string sql = std::string("SELECT day, key, figures FROM report_rollup WHERE dim = '") +
                        dim->name + "' AND day BETWEEN ?1 AND ?2";
      auto read = [&](std::int64_t a, std::int64_t b) {
        if (a > b) return Status::ok();
        bool bad = false;
        Status s = query(db, sql, a, b, [&](sqlite3_stmt* st) {
          SummaryFigures f;
          auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
          if (!text || !decodeFigures(text, &f)) bad = true;
          buckets[{by_day ? sqlite3_column_int64(st, 0) : -1, columnText(st, 1)}] += f;
        });
        if (s && bad) return Status(StatusCode::kInternal, "reports: damaged rollup row");
        return s;
      };
      if (miss_first > miss_last) {
        if (Status s = read(*from_day, closed_end); !s) return s;
      } else {
        if (Status s = read(*from_day, miss_first - 1); !s) return s;
        if (Status s = read(miss_last + 1, closed_end); !s) return s;
      }
    }
    if (miss_first <= miss_last) {
      Buckets built;
      if (Status s = collect(db, miss_first * kDay, (miss_last + 1) * kDay, dim->key, true, &built);
          !s)
        return s;
      for (const auto& [k, f] : built) buckets[{by_day ? k.first : -1, k.second}] += f;
      storeRollup(path_, *dim, *fp, miss_first, miss_last, built);
    }
    live_from = closed_end + 1;
  }
  if (live_from <= *to_day) {
    if (Status s = collect(db, live_from * kDay, (*to_day + 1) * kDay, dim ? dim->key : group_by,
                           by_day, &buckets);
        !s)
      return s;
  }
  end();

  // Fold: (day, key) -> report keys (UTC day numbers -> day/week/month/year).
  std::map<std::string, SummaryFigures> folded;
  for (auto& [k, f] : buckets) folded[by_day ? timeKey(group_by, k.first) : k.second] += f;
  Summary result;
  result.from = from;
  result.to = to;
  result.group_by = group_by;
  for (auto& [k, f] : folded) {
    if (f == SummaryFigures{}) continue;
    result.total += f;
    result.groups.push_back({k, f});
  }
  return result;
}

std::string ReportService::toJson(const Summary& s) const {
  auto figures = [this](const SummaryFigures& f) {
    KnownSum saved = f.paperSavedSheets();
    auto env = [this](std::int64_t sheets) {
      json e = json::object();
      for (const auto& x : factors_) e[x.key] = static_cast<double>(sheets) * x.per_sheet;
      return e;
    };
    return json{{"jobs_submitted", f.jobs_submitted},
                {"pages_submitted", knownJson(f.pages_submitted, "unknown_jobs")},
                {"usage_records", f.usage_records},
                {"pages_printed", knownJson(f.pages_printed, "unknown_records")},
                {"sheets_printed", knownJson(f.sheets_printed, "unknown_records")},
                {"pages_printed_colour", knownJson(f.pages_colour, "unknown_records")},
                {"pages_printed_monochrome", knownJson(f.pages_monochrome, "unknown_records")},
                {"pages_printed_colour_unspecified",
                 knownJson(f.pages_colour_unspecified, "unknown_records")},
                {"sheets_saved_by_duplex", knownJson(f.sheets_saved_by_duplex, "unknown_records")},
                {"never_printed",
                 {{"expired", neverJson(f.expired)},
                  {"cancelled_by_owner", neverJson(f.cancelled_by_owner)},
                  {"cancelled_by_admin", neverJson(f.cancelled_by_admin)},
                  {"denied_by_policy", neverJson(f.denied_by_policy)},
                  {"other", neverJson(f.other_unprinted)}}},
                {"paper_saved_sheets", knownJson(saved, "unknown_jobs")},
                {"paper_saved_pages", knownJson(f.paperSavedPages(), "unknown_jobs")},
                {"environment",
                 {{"sheets_printed", env(f.sheets_printed.known)},
                  {"paper_saved", env(saved.known)},
                  {"saved_by_duplex", env(f.sheets_saved_by_duplex.known)}}}};
  };
  json factors = json::array();
  for (const auto& x : factors_)
    factors.push_back(
        {{"key", x.key}, {"unit", x.unit}, {"per_sheet", x.per_sheet}, {"source", x.source}});
  json groups = json::array();
  for (const auto& g : s.groups) {
    json o = figures(g.figures);
    o["group"] = g.key;
    groups.push_back(std::move(o));
  }
  return json{{"from", s.from},           {"to", s.to},
              {"time_zone", "UTC"},       {"group_by", groupByName(s.group_by)},
              {"factors", factors},       {"groups", groups},
              {"total", figures(s.total)}}
      .dump();
}

std::string ReportService::toCsv(const Summary& s) const {
  std::string out =
      "group,jobs_submitted,pages_submitted,pages_submitted_unknown_jobs,usage_records,"
      "pages_printed,pages_printed_unknown_records,sheets_printed,sheets_printed_unknown_records,"
      "pages_colour,pages_monochrome,pages_colour_unspecified,sheets_saved_by_duplex,"
      "sheets_saved_by_duplex_unknown_records,expired_jobs,expired_sheets,"
      "cancelled_by_owner_jobs,cancelled_by_owner_sheets,cancelled_by_admin_jobs,"
      "cancelled_by_admin_sheets,denied_by_policy_jobs,denied_by_policy_sheets,"
      "paper_saved_sheets,paper_saved_unknown_jobs";
  for (const auto& x : factors_) out += ",printed_" + x.key + ",saved_" + x.key;
  out += "\r\n";
  auto row = [&](const std::string& key, const SummaryFigures& f) {
    KnownSum saved = f.paperSavedSheets();
    std::int64_t v[] = {f.jobs_submitted,
                        f.pages_submitted.known,
                        f.pages_submitted.unknown,
                        f.usage_records,
                        f.pages_printed.known,
                        f.pages_printed.unknown,
                        f.sheets_printed.known,
                        f.sheets_printed.unknown,
                        f.pages_colour.known,
                        f.pages_monochrome.known,
                        f.pages_colour_unspecified.known,
                        f.sheets_saved_by_duplex.known,
                        f.sheets_saved_by_duplex.unknown,
                        f.expired.jobs,
                        f.expired.sheets.known,
                        f.cancelled_by_owner.jobs,
                        f.cancelled_by_owner.sheets.known,
                        f.cancelled_by_admin.jobs,
                        f.cancelled_by_admin.sheets.known,
                        f.denied_by_policy.jobs,
                        f.denied_by_policy.sheets.known,
                        saved.known,
                        saved.unknown};
    out += csvField(key);
    for (std::int64_t x : v) {
      out += ',';
      out += std::to_string(x);
    }
    for (const auto& x : factors_) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ",%.6g,%.6g", f.sheets_printed.known * x.per_sheet,
                    saved.known * x.per_sheet);
      out += buf;
    }
    out += "\r\n";
  };
  for (const auto& g : s.groups) row(g.key, g.figures);
  row("total", s.total);
  return out;
}

namespace {

std::string htmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 1234567 -> "1 234 567" (thin spaces: no locale decides the separator).
std::string grouped(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "&#8201;";
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string knownCell(const KnownSum& k) {
  std::string cell = grouped(k.known);
  if (k.unknown) cell += " <small>(+" + grouped(k.unknown) + " unknown)</small>";
  return "<td>" + cell + "</td>";
}

}  // namespace

std::string ReportService::toHtml(const Summary& s) const {
  std::string title = "Printing and paper savings, " + s.from + " to " + s.to;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
      htmlEscape(title) +
      "</title>\n<style>\n"
      "body{font:11pt/1.35 sans-serif;margin:2em;color:#000}\n"
      "table{border-collapse:collapse;margin:1em 0;width:100%}\n"
      "th,td{border:1px solid #999;padding:.25em .5em;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "thead th{background:#eee}tr.total td{font-weight:bold;border-top:2px solid #000}\n"
      "small{color:#555}@media print{body{margin:0}thead{display:table-header-group}"
      "tr{page-break-inside:avoid}}\n"
      "</style></head><body>\n<h1>" +
      htmlEscape(title) + "</h1>\n<p>Days are UTC, both ends included. Grouped by <b>" +
      groupByName(s.group_by) +
      "</b>. Unknown counts are shown apart and never added as 0, so a figure with "
      "unknowns is a lower bound.</p>\n";
  out +=
      "<table><thead><tr><th>group</th><th>jobs submitted</th><th>pages submitted</th>"
      "<th>pages printed</th><th>sheets printed</th><th>colour pages</th>"
      "<th>monochrome pages</th><th>sheets saved by duplex</th><th>jobs never printed</th>"
      "<th>sheets never printed (saved)</th></tr></thead><tbody>\n";
  auto row = [&](const std::string& key, const SummaryFigures& f, bool total) {
    std::int64_t never = f.expired.jobs + f.cancelled_by_owner.jobs + f.cancelled_by_admin.jobs +
                         f.denied_by_policy.jobs;
    out += total ? "<tr class=\"total\">" : "<tr>";
    out += "<td>" + htmlEscape(key.empty() && !total ? "(none)" : key) + "</td><td>" +
           grouped(f.jobs_submitted) + "</td>" + knownCell(f.pages_submitted) +
           knownCell(f.pages_printed) + knownCell(f.sheets_printed) + knownCell(f.pages_colour) +
           knownCell(f.pages_monochrome) + knownCell(f.sheets_saved_by_duplex) + "<td>" +
           grouped(never) + "</td>" + knownCell(f.paperSavedSheets()) + "</tr>\n";
  };
  for (const auto& g : s.groups) row(g.key, g.figures, false);
  row("total", s.total, true);
  out += "</tbody></table>\n";

  const SummaryFigures& t = s.total;
  out +=
      "<h2>Never printed (total)</h2>\n<table><thead><tr><th>reason</th><th>jobs</th>"
      "<th>pages</th><th>sheets</th></tr></thead><tbody>\n";
  for (auto [name, n] : {std::pair{"expired (never released)", &t.expired},
                         std::pair{"cancelled by the owner", &t.cancelled_by_owner},
                         std::pair{"cancelled by an administrator", &t.cancelled_by_admin},
                         std::pair{"denied by policy", &t.denied_by_policy},
                         std::pair{"other (not counted as saved)", &t.other_unprinted}})
    out += std::string("<tr><td>") + name + "</td><td>" + grouped(n->jobs) + "</td>" +
           knownCell(n->pages) + knownCell(n->sheets) + "</tr>\n";
  out += "</tbody></table>\n";

  out +=
      "<h2>Environmental equivalents (total)</h2>\n<table><thead><tr><th>factor</th>"
      "<th>per sheet</th><th>sheets printed</th><th>saved: never printed</th>"
      "<th>saved: duplex</th><th>source</th></tr></thead><tbody>\n";
  for (const auto& x : factors_) {
    char v[4][64];
    std::snprintf(v[0], sizeof v[0], "%.6g", x.per_sheet);
    std::snprintf(v[1], sizeof v[1], "%.6g",
                  static_cast<double>(t.sheets_printed.known) * x.per_sheet);
    std::snprintf(v[2], sizeof v[2], "%.6g",
                  static_cast<double>(t.paperSavedSheets().known) * x.per_sheet);
    std::snprintf(v[3], sizeof v[3], "%.6g",
                  static_cast<double>(t.sheets_saved_by_duplex.known) * x.per_sheet);
    std::string unit = " " + htmlEscape(x.unit);
    out += "<tr><td>" + htmlEscape(x.key) + "</td><td>" + v[0] + unit + "</td><td>" + v[1] + unit +
           "</td><td>" + v[2] + unit + "</td><td>" + v[3] + unit +
           "</td><td style=\"text-align:left\">" + htmlEscape(x.source) + "</td></tr>\n";
  }
  out +=
      "</tbody></table>\n<p><small>Definitions: docs/reports.md. Generated by pullprint."
      "</small></p>\n</body></html>\n";
  return out;
}

// ---- exports ----

namespace {

std::string isoTime(std::int64_t t) {
  if (t <= 0) return "";
  std::int64_t day = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
  std::int64_t sec = t - day * kDay;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", formatDay(day).c_str(),
                static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60),
                static_cast<int>(sec % 60));
  return buf;
}

bool hasReason(const std::string& reasons, std::string_view keyword) {
  std::string_view r = reasons;
  while (!r.empty()) {
    std::string_view one = r.substr(0, r.find(','));
    if (one == keyword) return true;
    r.remove_prefix(std::min(r.size(), one.size() + 1));
  }
  return false;
}

// The never-printed class of a job, exactly as summary() classifies it.
const char* outcome(const std::string& state, const std::string& reasons) {
  if (state == "completed") return "printed";
  if (state == "expired") return "expired";
  if (state == "canceled" && hasReason(reasons, "job-canceled-by-operator"))
    return "cancelled_by_admin";
  if (state == "canceled" && hasReason(reasons, "job-canceled-by-user"))
    return "cancelled_by_owner";
  if (state == "aborted" && hasReason(reasons, "job-denied-by-policy")) return "denied_by_policy";
  if (state == "canceled" || state == "aborted") return "other_unprinted";
  return "open";
}

const char* colourClass(const std::string& mode) {
  static const char* colour[] = {"color", "highlight", "process-color"};
  static const char* mono[] = {"monochrome", "process-monochrome", "bi-level", "process-bi-level",
                               "auto-monochrome"};
  for (const char* m : colour)
    if (mode == m) return "colour";
  for (const char* m : mono)
    if (mode == m) return "monochrome";
  return "unspecified";
}

constexpr const char* kJobsHeader =
    "job_id,created_at,owner,department,queue,state,outcome,completed_at,printer,building,"
    "copies,two_sided,color_mode,pages_submitted,sheets\r\n";
constexpr const char* kJobsSql =
    "SELECT j.id, j.created_at, j.owner, COALESCE(u.department, ''), j.queue, j.state, "
    "j.state_reasons, j.completed_at, j.printer, COALESCE(p.printer_group, ''), j.copies, "
    "j.sides, j.color_mode, j.impressions_total, j.sheets FROM jobs j "
    "LEFT JOIN users u ON u.name = j.owner LEFT JOIN printers p ON p.name = j.printer "
    "WHERE j.created_at >= ?1 AND j.created_at < ?2 ORDER BY j.created_at, j.id";
constexpr const char* kUsageHeader =
    "usage_id,job_id,printed_at,user,department,printer,building,queue,pages,pages_printed,"
    "sheets_printed,copies,two_sided,color_mode,colour_class,sheets_saved_by_duplex,source\r\n";
constexpr const char* kUsageSql =
    "SELECT r.id, r.job_id, r.at, r.user_name, COALESCE(u.department, ''), r.printer, "
    "COALESCE(p.printer_group, ''), r.queue, r.pages, r.impressions, r.sheets, r.copies, "
    "r.two_sided, r.color_mode, r.source FROM usage_records r "
    "LEFT JOIN users u ON u.name = r.user_name LEFT JOIN printers p ON p.name = r.printer "
    "WHERE r.at >= ?1 AND r.at < ?2 ORDER BY r.at, r.id";

// Owns a read-only connection, its read transaction and the statement; makes
// the next ~64 KiB of lines per call.
class CsvExport {
 public:
  CsvExport(Db db, Stmt st, ExportKind kind)
      : db_(std::move(db)), st_(std::move(st)), kind_(kind) {}
  ~CsvExport() {
    st_.reset();
    (void)sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
  }

  StreamStep next(std::string& out) {
    out.clear();
    if (!header_sent_) {
      out = kind_ == ExportKind::kJobs ? kJobsHeader : kUsageHeader;
      header_sent_ = true;
    }
    while (out.size() < kPiece) {
      int rc = sqlite3_step(st_.get());
      if (rc == SQLITE_DONE) return StreamStep::kDone;
      if (rc != SQLITE_ROW) return StreamStep::kFailed;
      kind_ == ExportKind::kJobs ? jobLine(out) : usageLine(out);
    }
    return StreamStep::kMore;
  }

 private:
  static constexpr std::size_t kPiece = 64 * 1024;

  std::string text(int c) { return columnText(st_.get(), c); }
  void field(std::string& out, const std::string& v) {
    out += csvField(v);
    out += ',';
  }
  void number(std::string& out, int c) {  // empty when NULL (unknown)
    if (sqlite3_column_type(st_.get(), c) != SQLITE_NULL)
      out += std::to_string(sqlite3_column_int64(st_.get(), c));
    out += ',';
  }

  void jobLine(std::string& out) {
    sqlite3_stmt* st = st_.get();
    std::string state = text(5);
    number(out, 0);
    field(out, isoTime(sqlite3_column_int64(st, 1)));
    field(out, text(2));
    field(out, text(3));
    field(out, text(4));
    field(out, state);
    field(out, outcome(state, text(6)));
    field(out, isoTime(sqlite3_column_int64(st, 7)));
    field(out, text(8));
    field(out, text(9));
    number(out, 10);
    field(out, text(11) == "one-sided" || text(11).empty() ? "0" : "1");
    field(out, text(12));
    number(out, 13);
    number(out, 14);
    out.back() = '\r';
    out += '\n';
  }

  void usageLine(std::string& out) {
    sqlite3_stmt* st = st_.get();
    for (int c : {0, 1}) number(out, c);
    field(out, isoTime(sqlite3_column_int64(st, 2)));
    for (int c : {3, 4, 5, 6, 7}) field(out, text(c));
    for (int c : {8, 9, 10, 11}) number(out, c);
    bool two_sided = sqlite3_column_int64(st, 12) != 0;
    out += two_sided ? "1," : "0,";
    std::string mode = text(13);
    field(out, mode);
    field(out, colourClass(mode));
    bool known =
        sqlite3_column_type(st, 9) != SQLITE_NULL && sqlite3_column_type(st, 10) != SQLITE_NULL;
    if (!two_sided)
      out += "0,";
    else if (known)
      out += std::to_string(sqlite3_column_int64(st, 9) - sqlite3_column_int64(st, 10)) + ",";
    else
      out += ',';
    out += csvField(text(14));
    out += "\r\n";
  }

  Db db_;
  Stmt st_;
  ExportKind kind_;
  bool header_sent_ = false;
};

}  // namespace

Result<ReportService::Producer> ReportService::exportCsv(ExportKind kind, const std::string& from,
                                                         const std::string& to) const {
  auto from_day = parseDate(from);
  auto to_day = parseDate(to);
  if (!from_day) return Status(StatusCode::kInvalidArgument, "from must be a date YYYY-MM-DD");
  if (!to_day) return Status(StatusCode::kInvalidArgument, "to must be a date YYYY-MM-DD");
  if (*from_day > *to_day) return Status(StatusCode::kInvalidArgument, "from is after to");
  auto opened = openDb(path_, false);
  if (!opened) return opened.status();
  Db db = std::move(*opened);
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlFailure(db.get(), "begin");
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), kind == ExportKind::kJobs ? kJobsSql : kUsageSql, -1, &raw,
                         nullptr) != SQLITE_OK)
    return sqlFailure(db.get(), "prepare");
  Stmt st(raw);
  sqlite3_bind_int64(raw, 1, *from_day * kDay);
  sqlite3_bind_int64(raw, 2, (*to_day + 1) * kDay);
  auto exporter = std::make_shared<CsvExport>(std::move(db), std::move(st), kind);
  return Producer([exporter](std::string& out) { return exporter->next(out); });
}

ApiResponse ReportService::handle(const ApiRequest& req, const User& user) const {
  std::string path = req.target.substr(0, req.target.find('?'));
  bool csv = path == "/api/v1/reports/summary.csv";
  bool html = path == "/api/v1/reports/summary.html";
  std::optional<ExportKind> export_kind;
  if (path == "/api/v1/reports/jobs.csv") export_kind = ExportKind::kJobs;
  if (path == "/api/v1/reports/usage.csv") export_kind = ExportKind::kUsage;
  if (path != "/api/v1/reports/summary" && !csv && !html && !export_kind)
    return error(404, "no such report: " + path);
  if (req.method != "GET") return error(405, "reports are read with GET");
  if (user.role != Role::kAdmin && user.role != Role::kSustainability)
    return error(403, "reports are for administrators and sustainability viewers");

  // Query: from, to (required), group_by (default none).
  std::string from, to, group = "none";
  for (const auto& [name, value] : queryParams(req.target)) {
    if (name == "from")
      from = value;
    else if (name == "to")
      to = value;
    else if (name == "group_by" && !export_kind)
      group = value;
    else
      return error(400, "unknown parameter " + name +
                            (export_kind ? " (from, to)" : " (from, to, group_by)"));
  }
  if (from.empty() || to.empty()) return error(400, "from and to are required (YYYY-MM-DD)");
  if (export_kind) {
    auto producer = exportCsv(*export_kind, from, to);
    if (!producer) return error(httpStatusFor(producer.status()), producer.status().message());
    ApiResponse r = reply(200, "", "text/csv; charset=utf-8");
    r.next_chunk = std::move(*producer);
    return r;
  }
  auto g = parseGroupBy(group);
  if (!g)
    return error(400,
                 "group_by must be one of none, day, week, month, year, department, printer, "
                 "building, user");
  auto s = summary(from, to, *g);
  if (!s) return error(httpStatusFor(s.status()), s.status().message());
  if (csv) return reply(200, toCsv(*s), "text/csv; charset=utf-8");
  if (html) return reply(200, toHtml(*s), "text/html; charset=utf-8");
  return reply(200, toJson(*s));
}

}  // namespace pullprint::api
