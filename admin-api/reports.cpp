#include "admin-api/reports.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
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

// SQL for the group key of a row of table alias `t`, whose time column is
// `time_col`, owner column `user_col`, printer column `printer_col`.
// Joins needed for department/building are returned in `join`.
std::string keySql(GroupBy g, const std::string& time_col, const std::string& user_col,
                   const std::string& printer_col, std::string* join) {
  join->clear();
  switch (g) {
    case GroupBy::kNone:
      return "''";
    case GroupBy::kDay:
    case GroupBy::kWeek:
    case GroupBy::kMonth:
    case GroupBy::kYear:
      return "CAST(" + time_col + " / 86400 AS TEXT)";  // UTC day number
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
  }
  return "''";
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

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

json knownJson(const KnownSum& k, const char* unknown_name) {
  return {{"known", k.known}, {unknown_name, k.unknown}};
}

json neverJson(const NeverPrinted& n) {
  return {{"jobs", n.jobs},
          {"pages", knownJson(n.pages, "unknown_jobs")},
          {"sheets", knownJson(n.sheets, "unknown_jobs")}};
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
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

std::vector<EnvironmentFactor> defaultEnvironmentFactors() {
  return {
      {"trees", "trees", 1.0 / 8333.0, "PaperCut default: 8,333 sheets per tree"},
      {"co2e_g", "g CO2e", 12.7,
       "PaperCut default: 12.7 g CO2e per sheet (2.5 t CO2e per t of paper)"},
      {"co2_g_savapage", "g CO2", 5.1, "SavaPage default: 5.1 g CO2 per sheet"},
      {"energy_wh", "Wh", 12.5, "SavaPage default: 12.5 Wh per sheet"},
  };
}

// ---- the service ----

ReportService::ReportService(std::string database_path, std::vector<EnvironmentFactor> factors)
    : path_(std::move(database_path)), factors_(std::move(factors)) {}

Result<Summary> ReportService::summary(const std::string& from, const std::string& to,
                                       GroupBy group_by) const {
  auto from_day = parseDate(from);
  auto to_day = parseDate(to);
  if (!from_day) return Status(StatusCode::kInvalidArgument, "from must be a date YYYY-MM-DD");
  if (!to_day) return Status(StatusCode::kInvalidArgument, "to must be a date YYYY-MM-DD");
  if (*from_day > *to_day) return Status(StatusCode::kInvalidArgument, "from is after to");
  const std::int64_t t0 = *from_day * kDay, t1 = (*to_day + 1) * kDay;  // [t0, t1)

  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK)
    return Status(StatusCode::kUnavailable, "reports: cannot open " + path_ + ": " +
                                                (raw ? sqlite3_errmsg(raw) : "no memory"));
  sqlite3_busy_timeout(raw, 5000);
  // One read transaction: all three queries see the same snapshot.
  if (sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlFailure(raw, "begin");

  std::map<std::string, SummaryFigures> groups;  // SQL key -> figures
  std::string join;

  // 1. Submitted: jobs created in range.
  std::string key = keySql(group_by, "j.created_at", "j.owner", "j.printer", &join);
  std::string sql = "SELECT " + key +
                    ", COUNT(*), COALESCE(SUM(j.impressions_total), 0), "
                    "SUM(j.impressions_total IS NULL) FROM jobs j" +
                    join + " WHERE j.created_at >= ?1 AND j.created_at < ?2 GROUP BY 1";
  if (Status s = query(raw, sql, t0, t1,
                       [&](sqlite3_stmt* st) {
                         auto& f = groups[columnText(st, 0)];
                         f.jobs_submitted += sqlite3_column_int64(st, 1);
                         f.pages_submitted += knownSum(st, 2, 3);
                       });
      !s)
    return s;

  // 2. Printed: usage records in range (index usage_at).
  key = keySql(group_by, "r.at", "r.user_name", "r.printer", &join);
  auto colourSum = [](const std::string& cond) {
    return "COALESCE(SUM(CASE WHEN " + cond + " THEN r.impressions END), 0), SUM(" + cond +
           " AND r.impressions IS NULL)";
  };
  std::string colour = std::string("r.color_mode IN ") + kColourModes;
  std::string mono = std::string("r.color_mode IN ") + kMonoModes;
  sql = "SELECT " + key +
        ", COUNT(*), COALESCE(SUM(r.impressions), 0), SUM(r.impressions IS NULL), "
        "COALESCE(SUM(r.sheets), 0), SUM(r.sheets IS NULL), " +
        colourSum(colour) + ", " + colourSum(mono) + ", " +
        colourSum("NOT (" + colour + ") AND NOT (" + mono + ")") +
        ", COALESCE(SUM(CASE WHEN r.two_sided <> 0 THEN r.impressions - r.sheets END), 0), "
        "SUM(r.two_sided <> 0 AND (r.impressions IS NULL OR r.sheets IS NULL)) "
        "FROM usage_records r" +
        join + " WHERE r.at >= ?1 AND r.at < ?2 GROUP BY 1";
  if (Status s = query(raw, sql, t0, t1,
                       [&](sqlite3_stmt* st) {
                         auto& f = groups[columnText(st, 0)];
                         f.usage_records += sqlite3_column_int64(st, 1);
                         f.pages_printed += knownSum(st, 2, 3);
                         f.sheets_printed += knownSum(st, 4, 5);
                         f.pages_colour += knownSum(st, 6, 7);
                         f.pages_monochrome += knownSum(st, 8, 9);
                         f.pages_colour_unspecified += knownSum(st, 10, 11);
                         f.sheets_saved_by_duplex += knownSum(st, 12, 13);
                       });
      !s)
    return s;

  // 3. Never printed: jobs that ended unprinted, by completed_at.
  key = keySql(group_by, "j.completed_at", "j.owner", "j.printer", &join);
  const std::string reasons = "(',' || j.state_reasons || ',')";
  sql = "SELECT " + key + ", CASE WHEN j.state = 'expired' THEN 0 " +
        "WHEN j.state = 'canceled' AND " + reasons +
        " LIKE '%,job-canceled-by-operator,%' THEN 2 " + "WHEN j.state = 'canceled' AND " +
        reasons + " LIKE '%,job-canceled-by-user,%' THEN 1 " + "WHEN j.state = 'aborted' AND " +
        reasons + " LIKE '%,job-denied-by-policy,%' THEN 3 " +
        "ELSE 4 END AS why, COUNT(*), COALESCE(SUM(j.impressions_total), 0), "
        "SUM(j.impressions_total IS NULL), COALESCE(SUM(j.sheets), 0), SUM(j.sheets IS NULL) "
        "FROM jobs j" +
        join +
        " WHERE j.state IN ('expired', 'canceled', 'aborted') AND j.completed_at >= ?1 "
        "AND j.completed_at < ?2 GROUP BY 1, 2";
  if (Status s = query(
          raw, sql, t0, t1,
          [&](sqlite3_stmt* st) {
            auto& f = groups[columnText(st, 0)];
            NeverPrinted* n[] = {&f.expired, &f.cancelled_by_owner, &f.cancelled_by_admin,
                                 &f.denied_by_policy, &f.other_unprinted};
            NeverPrinted add{sqlite3_column_int64(st, 2), knownSum(st, 3, 4), knownSum(st, 5, 6)};
            *n[std::clamp(sqlite3_column_int(st, 1), 0, 4)] += add;
          });
      !s)
    return s;
  (void)sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);

  // Fold: SQL keys -> report keys (UTC day numbers -> day/week/month/year).
  std::map<std::string, SummaryFigures> folded;
  for (auto& [k, f] : groups) {
    std::string out = isTimeGrouping(group_by) ? timeKey(group_by, std::stoll(k)) : k;
    folded[out] += f;
  }
  Summary result;
  result.from = from;
  result.to = to;
  result.group_by = group_by;
  for (auto& [k, f] : folded) {
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

ApiResponse ReportService::handle(const ApiRequest& req, const User& user) const {
  std::string path = req.target.substr(0, req.target.find('?'));
  bool csv = path == "/api/v1/reports/summary.csv";
  if (path != "/api/v1/reports/summary" && !csv) return error(404, "no such report: " + path);
  if (req.method != "GET") return error(405, "reports are read with GET");
  if (user.role != Role::kAdmin && user.role != Role::kSustainability)
    return error(403, "reports are for administrators and sustainability viewers");

  // Query: from, to (required), group_by (default none).
  std::string from, to, group = "none";
  std::size_t q = req.target.find('?');
  std::string_view query =
      q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1);
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    auto value = percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value) return error(400, "bad percent-encoding in parameter " + name);
    if (name == "from")
      from = *value;
    else if (name == "to")
      to = *value;
    else if (name == "group_by")
      group = *value;
    else
      return error(400, "unknown parameter " + name + " (from, to, group_by)");
  }
  if (from.empty() || to.empty()) return error(400, "from and to are required (YYYY-MM-DD)");
  auto g = parseGroupBy(group);
  if (!g)
    return error(400,
                 "group_by must be one of none, day, week, month, year, department, printer, "
                 "building, user");
  auto s = summary(from, to, *g);
  if (!s)
    return error(s.status().code() == StatusCode::kInvalidArgument ? 400 : 503,
                 s.status().message());
  if (csv) return reply(200, toCsv(*s), "text/csv; charset=utf-8");
  return reply(200, toJson(*s));
}

}  // namespace pullprint::api
