// Reports: the summary report against a generated year (20,000 jobs, seeded)
// written through the real SQLite store. Expected figures are computed here by
// walking the generated records in C++ (independently of the service's SQL;
// time keys via gmtime_r/strftime %G-W%V), then compared group by group: per
// day/week/month/year, department, printer, building and user, with the
// never-printed split, duplex savings and colour. The same comparison runs
// with the closed-day rollup (all days closed), half rollup half live (a
// clock in mid-2025) and after a department change. The CSV exports are
// summed line by line and compared with the summary, in process and streamed
// over HTTP by a real pullprintd. Role and parameter checks go through
// Api::handle.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "admin-api/api.h"
#include "admin-api/reports.h"
#include "core/password.h"
#include "spooler/committer.h"
#include "spooler/job_service.h"
#include "spooler/printer_client.h"
#include "spooler/release_engine.h"
#include "spooler/spool.h"
#include "tests/release/release_support.h"
#include "tests/reports/http_stream.h"

using namespace pullprint;
using namespace pullprint::api;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t k20250101 = 1735689600;  // 2025-01-01T00:00:00Z

std::int64_t dateToUnix(const std::string& ymd) {
  struct tm tm {};
  REQUIRE(strptime(ymd.c_str(), "%Y-%m-%d", &tm) != nullptr);
  return timegm(&tm);
}

std::string strftimeUtc(const char* fmt, std::int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// The generated world: users, printers, jobs and usage records.
struct World {
  static constexpr int kUsers = 300;
  static constexpr int kPrinters = 40;
  std::map<std::string, std::string> department;  // users in the users table
  std::map<std::string, std::string> building;    // printers in the registry
  std::vector<Job> jobs;
  std::vector<UsageRecord> usage;

  explicit World(std::uint64_t seed, int job_count) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng() % n); };
    const char* departments[] = {"Finance", "Physics", "Library", "IT, Ops", "Law", "Medicine"};
    for (int i = 0; i < kUsers; ++i) department["u" + std::to_string(i)] = departments[i % 6];
    const char* groups[] = {"North", "South", "East", "West \"Annex\""};
    for (int i = 0; i < kPrinters; ++i) building["p" + std::to_string(i)] = groups[i % 4];
    const char* colour_modes[] = {"color", "monochrome", "auto",     "process-monochrome",
                                  "",      "bi-level",   "highlight"};

    for (int i = 0; i < job_count; ++i) {
      Job j;
      j.id = i + 1;
      j.queue = "followme";
      j.owner = "u" + std::to_string(pick(kUsers + 5));  // the last 5: no users row
      j.name = "doc";
      // Mid-December 2024 to mid-January 2026.
      j.created_at = k20250101 - 17 * kDay + pick((365 + 34) * kDay);
      j.copies = 1 + static_cast<int>(pick(3));
      j.sides = pick(2) ? "two-sided-long-edge" : "one-sided";
      j.color_mode = colour_modes[pick(7)];
      if (pick(100) >= 5) {
        std::int64_t pages = 1 + pick(40);
        j.pages = pages;
        j.impressions = pages;
        j.impressions_total = pages * j.copies;
        j.sheets = (j.sides == "one-sided" ? pages : (pages + 1) / 2) * j.copies;
        j.count_confidence = "exact";
      } else {
        j.count_confidence = "unknown";
      }
      std::int64_t r = pick(100);
      if (r < 55) {  // printed (3 % printed twice)
        j.state = JobState::kCompleted;
        j.state_reasons = "job-completed-successfully";
        j.printer = "p" + std::to_string(pick(kPrinters + 1));  // the last: not in the registry
        for (int n = pick(100) < 3 ? 2 : 1; n > 0; --n) {
          UsageRecord u;
          u.job_id = j.id;
          u.user = j.owner;
          u.printer = j.printer;
          u.queue = j.queue;
          u.at = j.created_at + pick(3 * kDay);
          u.pages = j.pages;
          u.impressions = j.impressions_total;
          u.sheets = j.sheets;
          if (u.impressions && pick(100) < 3) u.sheets.reset();  // printer reported sides only
          u.copies = j.copies;
          u.two_sided = j.sides != "one-sided";
          u.color_mode = j.color_mode;
          u.source = u.sheets ? "printer" : "unknown";
          j.completed_at = std::max(j.completed_at, u.at);
          usage.push_back(u);
        }
      } else if (r < 65) {
        j.state = JobState::kExpired;
        j.state_reasons = "job-hold-expired";
        j.completed_at = j.created_at + 2 * kDay;
      } else if (r < 73) {
        j.state = JobState::kCanceled;
        j.state_reasons =
            pick(3) ? "job-canceled-by-user" : "job-hold-until-specified,job-canceled-by-user";
        j.completed_at = j.created_at + pick(kDay);
      } else if (r < 78) {
        j.state = JobState::kCanceled;
        j.state_reasons = "job-canceled-by-operator";
        if (pick(2)) j.printer = "p" + std::to_string(pick(kPrinters));
        j.completed_at = j.created_at + pick(5 * kDay);
      } else if (r < 83) {
        j.state = JobState::kAborted;
        j.state_reasons = "job-denied-by-policy";
        j.completed_at = j.created_at;
      } else if (r < 86) {
        j.state = JobState::kAborted;
        j.state_reasons = "aborted-by-system";
        j.completed_at = j.created_at + pick(kDay);
      } else {
        j.state = pick(2) ? JobState::kHeld : JobState::kPending;
        j.state_reasons = "job-hold-until-specified";
      }
      jobs.push_back(j);
    }
  }

  void write(Store& store) const {
    Status s = store.write([&](StoreWriter& w) -> Status {
      for (const auto& [name, dept] : department) {
        User u;
        u.name = name;
        u.department = dept;
        if (Status s = w.upsertUser(u); !s) return s;
      }
      for (const auto& [name, group] : building) {
        Printer p;
        p.name = name;
        p.uri = "ipp://127.0.0.1:1/ipp/print";
        p.group = group;
        p.location = "room " + name;
        if (Status s = w.upsertPrinter(p); !s) return s;
      }
      for (const auto& j : jobs)
        if (Status s = w.insertJob(j); !s) return s;
      for (const auto& u : usage)
        if (Status s = w.insertUsage(u); !s) return s;
      return Status::ok();
    });
    REQUIRE(s.isOk());
  }

  // ---- expected figures, computed record by record ----

  std::string key(GroupBy g, std::int64_t t, const std::string& user,
                  const std::string& printer) const {
    switch (g) {
      case GroupBy::kNone:
        return "";
      case GroupBy::kDay:
        return strftimeUtc("%Y-%m-%d", t);
      case GroupBy::kWeek:
        return strftimeUtc("%G-W%V", t);
      case GroupBy::kMonth:
        return strftimeUtc("%Y-%m", t);
      case GroupBy::kYear:
        return strftimeUtc("%Y", t);
      case GroupBy::kDepartment: {
        auto it = department.find(user);
        return it == department.end() ? "" : it->second;
      }
      case GroupBy::kPrinter:
        return printer;
      case GroupBy::kBuilding: {
        auto it = building.find(printer);
        return it == building.end() ? "" : it->second;
      }
      case GroupBy::kUser:
        return user;
    }
    return "?";
  }

  static void add(KnownSum& k, const std::optional<std::int64_t>& v) {
    if (v)
      k.known += *v;
    else
      k.unknown += 1;
  }

  std::map<std::string, SummaryFigures> expected(const std::string& from, const std::string& to,
                                                 GroupBy g) const {
    std::int64_t t0 = dateToUnix(from), t1 = dateToUnix(to) + kDay;
    auto in = [&](std::int64_t t) { return t >= t0 && t < t1; };
    std::map<std::string, SummaryFigures> out;
    for (const auto& j : jobs) {
      if (in(j.created_at)) {
        auto& f = out[key(g, j.created_at, j.owner, j.printer)];
        f.jobs_submitted += 1;
        add(f.pages_submitted, j.impressions_total);
      }
      NeverPrinted* bucket = nullptr;
      auto& f = out[key(g, j.completed_at, j.owner, j.printer)];  // may stay empty; pruned below
      auto reason = [&](const char* r) { return j.state_reasons.find(r) != std::string::npos; };
      if (j.state == JobState::kExpired)
        bucket = &f.expired;
      else if (j.state == JobState::kCanceled && reason("job-canceled-by-operator"))
        bucket = &f.cancelled_by_admin;
      else if (j.state == JobState::kCanceled && reason("job-canceled-by-user"))
        bucket = &f.cancelled_by_owner;
      else if (j.state == JobState::kAborted && reason("job-denied-by-policy"))
        bucket = &f.denied_by_policy;
      else if (j.state == JobState::kAborted || j.state == JobState::kCanceled)
        bucket = &f.other_unprinted;
      if (bucket && in(j.completed_at)) {
        bucket->jobs += 1;
        add(bucket->pages, j.impressions_total);
        add(bucket->sheets, j.sheets);
      }
    }
    for (const auto& u : usage) {
      if (!in(u.at)) continue;
      auto& f = out[key(g, u.at, u.user, u.printer)];
      f.usage_records += 1;
      add(f.pages_printed, u.impressions);
      add(f.sheets_printed, u.sheets);
      const std::string& m = u.color_mode;
      bool colour = m == "color" || m == "highlight";
      bool mono = m == "monochrome" || m == "process-monochrome" || m == "bi-level";
      add(colour ? f.pages_colour
          : mono ? f.pages_monochrome
                 : f.pages_colour_unspecified,
          u.impressions);
      if (u.two_sided) {
        if (u.impressions && u.sheets)
          f.sheets_saved_by_duplex.known += *u.impressions - *u.sheets;
        else
          f.sheets_saved_by_duplex.unknown += 1;
      }
    }
    std::erase_if(out, [](const auto& kv) { return kv.second == SummaryFigures{}; });
    return out;
  }
};

std::string describe(const SummaryFigures& f) {
  auto k = [](const KnownSum& s) {
    return std::to_string(s.known) + "/" + std::to_string(s.unknown);
  };
  auto n = [&](const NeverPrinted& p) {
    return std::to_string(p.jobs) + ":" + k(p.pages) + ":" + k(p.sheets);
  };
  std::ostringstream o;
  o << "submitted " << f.jobs_submitted << " " << k(f.pages_submitted) << " usage "
    << f.usage_records << " printed " << k(f.pages_printed) << " sheets " << k(f.sheets_printed)
    << " colour " << k(f.pages_colour) << " mono " << k(f.pages_monochrome) << " other "
    << k(f.pages_colour_unspecified) << " duplex " << k(f.sheets_saved_by_duplex) << " expired "
    << n(f.expired) << " owner " << n(f.cancelled_by_owner) << " admin " << n(f.cancelled_by_admin)
    << " denied " << n(f.denied_by_policy) << " other " << n(f.other_unprinted);
  return o.str();
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pullprint-reports-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// One generated database shared by the test cases (generation is the slow part).
struct Fixture {
  TempDir dir;
  World world{20261101, 20000};
  std::string db = dir.path + "/pullprint.db";
  Fixture() {
    auto store = openSqliteStore(db, {1, false});
    REQUIRE(store);
    world.write(**store);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void compare(const std::string& from, const std::string& to, GroupBy g,
             const Clock* clock = nullptr) {
  Fixture& fx = fixture();
  ReportService reports(fx.db, defaultEnvironmentFactors(), clock);
  auto got = reports.summary(from, to, g);
  REQUIRE(got);
  auto want = fx.world.expected(from, to, g);
  INFO(from << " .. " << to << " group_by=" << groupByName(g));
  std::vector<std::string> got_keys, want_keys;
  for (const auto& grp : got->groups) got_keys.push_back(grp.key);
  for (const auto& [k, f] : want) want_keys.push_back(k);
  REQUIRE(got_keys == want_keys);
  SummaryFigures total;
  for (const auto& grp : got->groups) {
    INFO("group '" << grp.key << "'\n got  " << describe(grp.figures) << "\n want "
                   << describe(want[grp.key]));
    CHECK(grp.figures == want[grp.key]);
    total += want[grp.key];
  }
  INFO("total\n got  " << describe(got->total) << "\n want " << describe(total));
  CHECK(got->total == total);
}

// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> csvFields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// Sums of an export, line by line (what a spreadsheet would add up).
struct ExportSums {
  std::vector<std::string> header;
  std::int64_t rows = 0;
  std::map<std::string, std::int64_t> sum;      // column -> sum of non-empty values
  std::map<std::string, std::int64_t> empty;    // column -> empty values
  std::map<std::string, std::int64_t> outcome;  // jobs: outcome -> rows
  std::map<std::string, std::int64_t> colour;   // usage: colour_class -> pages_printed
  std::string bad;                              // first malformed line

  void line(std::string_view l) {
    auto f = csvFields(l);
    if (header.empty()) {
      header = f;
      return;
    }
    if (f.size() != header.size()) {
      if (bad.empty()) bad = std::string(l);
      return;
    }
    ++rows;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const std::string& h = header[i];
      if (h == "outcome") outcome[f[i]] += 1;
      if (h == "pages_submitted" || h == "sheets" || h == "pages_printed" ||
          h == "sheets_printed" || h == "sheets_saved_by_duplex" || h == "copies") {
        if (f[i].empty())
          empty[h] += 1;
        else
          sum[h] += std::stoll(f[i]);
      }
    }
    if (auto it = std::find(header.begin(), header.end(), "colour_class"); it != header.end()) {
      const std::string& pages =
          f[std::find(header.begin(), header.end(), "pages_printed") - header.begin()];
      if (!pages.empty()) colour[f[it - header.begin()]] += std::stoll(pages);
    }
  }
};

ExportSums exportInProcess(ExportKind kind, const std::string& from, const std::string& to,
                           std::size_t* pieces = nullptr, std::size_t* largest = nullptr) {
  auto producer = ReportService(fixture().db).exportCsv(kind, from, to);
  REQUIRE(producer);
  ExportSums sums;
  rtest::LineSplitter lines([&](std::string_view l) { sums.line(l); });
  std::string piece;
  for (int guard = 0; guard < 100000; ++guard) {
    StreamStep step = (*producer)(piece);
    REQUIRE(step != StreamStep::kFailed);
    lines.feed(piece);
    if (pieces) ++*pieces;
    if (largest) *largest = std::max(*largest, piece.size());
    if (step == StreamStep::kDone) break;
  }
  lines.finish();
  return sums;
}

void checkJobsExport(const ExportSums& e, const Summary& s, const World& w, const std::string& from,
                     const std::string& to) {
  INFO("jobs.csv " << from << " .. " << to);
  CHECK(e.bad.empty());
  CHECK(e.header.size() == 15);
  CHECK(e.rows == s.total.jobs_submitted);
  auto sum = e.sum.find("pages_submitted");
  CHECK((sum == e.sum.end() ? 0 : sum->second) == s.total.pages_submitted.known);
  CHECK((e.empty.count("pages_submitted") ? e.empty.at("pages_submitted") : 0) ==
        s.total.pages_submitted.unknown);
  // Outcomes, from the generator's own records.
  std::int64_t t0 = dateToUnix(from), t1 = dateToUnix(to) + kDay;
  std::map<std::string, std::int64_t> want;
  for (const auto& j : w.jobs) {
    if (j.created_at < t0 || j.created_at >= t1) continue;
    auto reason = [&](const char* r) { return j.state_reasons.find(r) != std::string::npos; };
    const char* o =
        j.state == JobState::kCompleted ? "printed"
        : j.state == JobState::kExpired ? "expired"
        : j.state == JobState::kCanceled && reason("job-canceled-by-operator")
            ? "cancelled_by_admin"
        : j.state == JobState::kCanceled && reason("job-canceled-by-user") ? "cancelled_by_owner"
        : j.state == JobState::kAborted && reason("job-denied-by-policy")  ? "denied_by_policy"
        : j.state == JobState::kAborted || j.state == JobState::kCanceled  ? "other_unprinted"
                                                                           : "open";
    want[o] += 1;
  }
  CHECK(e.outcome == want);
}

void checkUsageExport(const ExportSums& e, const Summary& s) {
  CHECK(e.bad.empty());
  CHECK(e.header.size() == 17);
  const SummaryFigures& t = s.total;
  auto get = [](const std::map<std::string, std::int64_t>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? std::int64_t{0} : it->second;
  };
  CHECK(e.rows == t.usage_records);
  CHECK(get(e.sum, "pages_printed") == t.pages_printed.known);
  CHECK(get(e.empty, "pages_printed") == t.pages_printed.unknown);
  CHECK(get(e.sum, "sheets_printed") == t.sheets_printed.known);
  CHECK(get(e.empty, "sheets_printed") == t.sheets_printed.unknown);
  CHECK(get(e.sum, "sheets_saved_by_duplex") == t.sheets_saved_by_duplex.known);
  CHECK(get(e.empty, "sheets_saved_by_duplex") == t.sheets_saved_by_duplex.unknown);
  CHECK(get(e.colour, "colour") == t.pages_colour.known);
  CHECK(get(e.colour, "monochrome") == t.pages_monochrome.known);
  CHECK(get(e.colour, "unspecified") == t.pages_colour_unspecified.known);
}

int rollupDays(const std::string& db, const char* dim) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string sql =
      std::string("SELECT COUNT(*) FROM report_rollup_days WHERE dim = '") + dim + "'";
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close_v2(raw);
  return n;
}

}  // namespace

TEST_CASE("summary matches record-by-record totals for every group_by", "[reports]") {
  for (GroupBy g : {GroupBy::kNone, GroupBy::kDay, GroupBy::kWeek, GroupBy::kMonth, GroupBy::kYear,
                    GroupBy::kDepartment, GroupBy::kPrinter, GroupBy::kBuilding, GroupBy::kUser})
    compare("2025-01-01", "2025-12-31", g);
}

TEST_CASE("summary over partial, year-crossing, one-day and empty ranges", "[reports]") {
  compare("2025-03-15", "2025-06-02", GroupBy::kWeek);
  compare("2025-03-15", "2025-06-02", GroupBy::kDepartment);
  compare("2024-12-29", "2026-01-04", GroupBy::kWeek);  // ISO weeks across both year ends
  compare("2024-12-01", "2026-02-28", GroupBy::kYear);
  compare("2025-07-04", "2025-07-04", GroupBy::kNone);
  compare("2025-07-04", "2025-07-04", GroupBy::kBuilding);
  compare("2030-01-01", "2030-12-31", GroupBy::kMonth);
}

TEST_CASE("the data exercises unknown counts and every never-printed reason", "[reports]") {
  auto s = ReportService(fixture().db).summary("2025-01-01", "2025-12-31", GroupBy::kNone);
  REQUIRE(s);
  const SummaryFigures& t = s->total;
  CHECK(t.jobs_submitted > 15000);
  CHECK(t.pages_submitted.unknown > 0);  // unknown, and not folded into known as 0
  CHECK(t.pages_printed.unknown > 0);
  CHECK(t.sheets_printed.unknown > t.pages_printed.unknown);
  CHECK(t.sheets_saved_by_duplex.known > 0);
  for (const NeverPrinted* n : {&t.expired, &t.cancelled_by_owner, &t.cancelled_by_admin,
                                &t.denied_by_policy, &t.other_unprinted})
    CHECK(n->jobs > 0);
  KnownSum saved = t.paperSavedSheets();
  CHECK(saved.known == t.expired.sheets.known + t.cancelled_by_owner.sheets.known +
                           t.cancelled_by_admin.sheets.known + t.denied_by_policy.sheets.known);
  CHECK(t.pages_colour.known + t.pages_monochrome.known + t.pages_colour_unspecified.known ==
        t.pages_printed.known);
}

TEST_CASE("summary rejects bad dates and reports a missing database", "[reports]") {
  ReportService reports(fixture().db);
  for (auto [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"2025-02-30", "2025-03-01"},
                                                        {"2025-1-01", "2025-03-01"},
                                                        {"2025-03-02", "2025-03-01"},
                                                        {"", "2025-03-01"},
                                                        {"2025-01-01", "2025-13-01"},
                                                        {"20a5-01-01", "2025-03-01"}}) {
    INFO(from << " .. " << to);
    auto s = reports.summary(from, to, GroupBy::kNone);
    REQUIRE_FALSE(s);
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  auto missing = ReportService("/nonexistent/dir/pullprint.db")
                     .summary("2025-01-01", "2025-01-02", GroupBy::kNone);
  REQUIRE_FALSE(missing);
  CHECK(missing.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("reports routes: roles, parameters, JSON and CSV through Api::handle", "[reports][api]") {
  Fixture& fx = fixture();
  Logger log{LogLevel::kError};
  ManualClock clock{1'767'225'600};
  auto store = openSqliteStore(fx.db, {1, false});
  REQUIRE(store);
  REQUIRE((*store)
              ->write([](StoreWriter& w) -> Status {
                for (auto [name, role] :
                     {std::pair{"root", Role::kAdmin}, std::pair{"eco", Role::kSustainability},
                      std::pair{"alice", Role::kUser}}) {
                  User u;
                  u.name = name;
                  u.role = role;
                  u.password_hash = hashPassword("pw", 1000);
                  if (Status s = w.upsertUser(u); !s) return s;
                }
                return Status::ok();
              })
              .isOk());
  Config config;
  config.database = fx.db;
  auto spool = spooler::SpoolDir::open(fx.dir.path + "/spool");
  REQUIRE(spool);
  spooler::Committer committer(**store, **spool, log);
  spooler::JobService jobs(**store, committer, **spool, clock, log);
  spooler::PrinterClient client;
  spooler::ReleaseEngine release(config, jobs, client, clock, log);
  Authenticator auth(**store, clock);
  Api api(config, jobs, release, auth, log);

  auto get = [&](const std::string& target, std::optional<std::string> user,
                 const std::string& method = "GET") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.peer_address = "127.0.0.1";
    r.basic_user = user;
    if (user) r.basic_password = "pw";
    return api.handle(r);
  };
  const std::string q = "/api/v1/reports/summary?from=2025-01-01&to=2025-12-31&group_by=month";

  ApiResponse r = get(q, std::nullopt);
  CHECK(r.status == 401);
  CHECK(r.challenge);
  CHECK(get(q, "alice").status == 403);
  CHECK(get("/api/v1/reports/summary.csv?from=2025-01-01&to=2025-01-31", "alice").status == 403);

  for (const char* bad :
       {"/api/v1/reports/summary?from=2025-02-30&to=2025-03-01",
        "/api/v1/reports/summary?from=2025-03-01",
        "/api/v1/reports/summary?from=2025-03-02&to=2025-03-01",
        "/api/v1/reports/summary?from=2025-01-01&to=2025-03-01&group_by=fortnight",
        "/api/v1/reports/summary?from=2025-01-01&to=2025-03-01&grouping=month",
        "/api/v1/reports/summary?from=2025-01-01&to=2025-03-01&group_by=%zz"}) {
    INFO(bad);
    ApiResponse b = get(bad, "root");
    CHECK(b.status == 400);
    auto j = nlohmann::json::parse(b.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK_FALSE(j.value("error", "").empty());
  }
  CHECK(get(q, "root", "POST").status == 405);
  CHECK(get("/api/v1/reports/other", "root").status == 404);

  // JSON: totals equal the record-by-record expectation; factors carry sources.
  r = get(q, "eco");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json");
  auto j = nlohmann::json::parse(r.body);
  SummaryFigures want;
  auto expected = fx.world.expected("2025-01-01", "2025-12-31", GroupBy::kMonth);
  for (const auto& [k, f] : expected) want += f;
  CHECK(j["group_by"] == "month");
  CHECK(j["groups"].size() == 12);
  CHECK(j["groups"][0]["group"] == "2025-01");
  CHECK(j["total"]["pages_printed"]["known"] == want.pages_printed.known);
  CHECK(j["total"]["pages_printed"]["unknown_records"] == want.pages_printed.unknown);
  CHECK(j["total"]["pages_submitted"]["unknown_jobs"] == want.pages_submitted.unknown);
  CHECK(j["total"]["never_printed"]["denied_by_policy"]["sheets"]["known"] ==
        want.denied_by_policy.sheets.known);
  CHECK(j["total"]["paper_saved_sheets"]["known"] == want.paperSavedSheets().known);
  CHECK(j["total"]["environment"]["sheets_printed"]["co2e_g"].get<double>() ==
        Approx(12.7 * static_cast<double>(want.sheets_printed.known)));
  CHECK(j["total"]["environment"]["paper_saved"]["trees"].get<double>() ==
        Approx(static_cast<double>(want.paperSavedSheets().known) / 8333.0));
  REQUIRE(j["factors"].size() == 4);
  for (const auto& f : j["factors"]) CHECK_FALSE(f["source"].get<std::string>().empty());

  // CSV: a header, one line per group, a total line.
  r = get("/api/v1/reports/summary.csv?from=2025-01-01&to=2025-12-31&group_by=department", "root");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/csv; charset=utf-8");
  std::vector<std::string> lines;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto by_dept = fx.world.expected("2025-01-01", "2025-12-31", GroupBy::kDepartment);
  REQUIRE(lines.size() == by_dept.size() + 2);
  CHECK(lines.front().rfind("group,jobs_submitted,", 0) == 0);
  CHECK(lines.back().rfind("total,", 0) == 0);
  CHECK(r.body.find("\"IT, Ops\",") != std::string::npos);  // quoted field

  // Print-friendly HTML: self-contained, the totals and the factor sources.
  CHECK(get("/api/v1/reports/summary.html?from=2025-01-01&to=2025-12-31", "alice").status == 403);
  r = get("/api/v1/reports/summary.html?from=2025-01-01&to=2025-12-31&group_by=department", "eco");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(r.body.find("<script") == std::string::npos);
  CHECK(r.body.find(" src=") == std::string::npos);
  CHECK(r.body.find("<link") == std::string::npos);
  CHECK(r.body.find("IT, Ops") != std::string::npos);
  CHECK(r.body.find("PaperCut default: 12.7 g CO2e per sheet") != std::string::npos);
  {
    std::string total_jobs = std::to_string(want.jobs_submitted);
    std::string spaced;  // thin-space grouping as in the page
    for (std::size_t i = 0; i < total_jobs.size(); ++i) {
      if (i > 0 && (total_jobs.size() - i) % 3 == 0) spaced += "&#8201;";
      spaced += total_jobs[i];
    }
    CHECK(r.body.find("<tr class=\"total\"><td>total</td><td>" + spaced + "</td>") !=
          std::string::npos);
  }

  // Exports: streamed (next_chunk), same roles and date checks.
  CHECK(get("/api/v1/reports/jobs.csv?from=2025-01-01&to=2025-01-31", "alice").status == 403);
  CHECK(get("/api/v1/reports/usage.csv?from=2025-01-01&to=2025-01-31", std::nullopt).status == 401);
  for (const char* bad : {"/api/v1/reports/jobs.csv?from=2025-01-01&to=2025-01-31&group_by=month",
                          "/api/v1/reports/usage.csv?from=2025-01-01",
                          "/api/v1/reports/jobs.csv?from=2025-01-32&to=2025-02-01"}) {
    INFO(bad);
    ApiResponse b = get(bad, "root");
    CHECK(b.status == 400);
    CHECK_FALSE(b.next_chunk);
    CHECK(nlohmann::json::parse(b.body, nullptr, false).contains("error"));
  }
  r = get("/api/v1/reports/usage.csv?from=2025-01-01&to=2025-01-31", "eco");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/csv; charset=utf-8");
  REQUIRE(r.next_chunk);
  std::string piece;
  CHECK(r.next_chunk(piece) != StreamStep::kFailed);
  CHECK(piece.rfind("usage_id,job_id,printed_at,", 0) == 0);
}

TEST_CASE("configured environmental factors are applied and shown with their source", "[reports]") {
  Config config;
  config.report_factors = {{"water_l", "l", 0.5, "Supplier declaration 2025, p. 4"}};
  ReportService reports(fixture().db, environmentFactors(config));
  auto s = reports.summary("2025-01-01", "2025-12-31", GroupBy::kNone);
  REQUIRE(s);
  auto j = nlohmann::json::parse(reports.toJson(*s));
  REQUIRE(j["factors"].size() == 1);
  CHECK(j["factors"][0]["source"] == "Supplier declaration 2025, p. 4");
  CHECK(j["factors"][0]["unit"] == "l");
  CHECK(j["total"]["environment"]["sheets_printed"]["water_l"].get<double>() ==
        Approx(0.5 * static_cast<double>(s->total.sheets_printed.known)));
  CHECK_FALSE(j["total"]["environment"]["sheets_printed"].contains("co2e_g"));
  std::string csv = reports.toCsv(*s);
  CHECK(csv.find(",printed_water_l,saved_water_l") != std::string::npos);
  // Defaults: the config defaults, with sources.
  auto d = defaultEnvironmentFactors();
  REQUIRE(d.size() == 4);
  CHECK(d[0].key == "trees");
  CHECK(d[0].per_sheet == Approx(1.0 / 8333.0));
}

TEST_CASE("closed days from the rollup and open days read live give the same figures",
          "[reports][rollup]") {
  Fixture& fx = fixture();
  // System clock: every generated day is closed; the first year report built
  // the rollup of the days it covered.
  compare("2025-01-01", "2025-12-31", GroupBy::kDepartment);
  CHECK(rollupDays(fx.db, "time") >= 365);
  CHECK(rollupDays(fx.db, "department") >= 365);
  // A clock in mid-2025: days up to 2025-06-29 closed, later ones live.
  ManualClock mid{dateToUnix("2025-07-01") + 12 * 3600};
  for (GroupBy g : {GroupBy::kNone, GroupBy::kDay, GroupBy::kWeek, GroupBy::kMonth,
                    GroupBy::kDepartment, GroupBy::kBuilding, GroupBy::kPrinter, GroupBy::kUser}) {
    compare("2025-01-01", "2025-12-31", g, &mid);
    compare("2025-06-20", "2025-07-10", g, &mid);
    compare("2024-12-15", "2025-06-29", g, &mid);  // all closed
  }
  // Nothing closed (clock before the data): everything live.
  ManualClock early{dateToUnix("2024-01-01")};
  for (GroupBy g : {GroupBy::kNone, GroupBy::kMonth, GroupBy::kDepartment, GroupBy::kBuilding})
    compare("2025-01-01", "2025-12-31", g, &early);
}

TEST_CASE("the department and building rollups follow changes to users and printers",
          "[reports][rollup]") {
  Fixture& fx = fixture();
  compare("2025-01-01", "2025-12-31", GroupBy::kDepartment);  // rollup built
  compare("2025-01-01", "2025-12-31", GroupBy::kBuilding);
  auto store = openSqliteStore(fx.db, {1, false});
  REQUIRE(store);
  auto move = [&](const std::string& user, const std::string& dept, const std::string& printer,
                  const std::string& group) {
    REQUIRE((*store)
                ->write([&](StoreWriter& w) -> Status {
                  User u;
                  u.name = user;
                  u.department = dept;
                  if (Status s = w.upsertUser(u); !s) return s;
                  Printer p;
                  p.name = printer;
                  p.uri = "ipp://127.0.0.1:1/ipp/print";
                  p.group = group;
                  return w.upsertPrinter(p);
                })
                .isOk());
    fx.world.department[user] = dept;
    fx.world.building[printer] = group;
  };
  const std::string old_dept = fx.world.department.at("u7");
  const std::string old_group = fx.world.building.at("p3");
  move("u7", "Astronomy", "p3", "Observatory");
  compare("2025-01-01", "2025-12-31", GroupBy::kDepartment);
  compare("2025-01-01", "2025-12-31", GroupBy::kBuilding);
  auto s = ReportService(fx.db).summary("2025-01-01", "2025-12-31", GroupBy::kDepartment);
  REQUIRE(s);
  CHECK(std::any_of(s->groups.begin(), s->groups.end(),
                    [](const SummaryGroup& g) { return g.key == "Astronomy"; }));
  move("u7", old_dept, "p3", old_group);
  compare("2025-01-01", "2025-12-31", GroupBy::kDepartment);
  compare("2025-01-01", "2025-12-31", GroupBy::kBuilding);
}

TEST_CASE("CSV exports: rows and column sums match the summary", "[reports][export]") {
  Fixture& fx = fixture();
  for (auto [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"2025-01-01", "2025-12-31"},
                                                        {"2025-03-15", "2025-06-02"},
                                                        {"2030-01-01", "2030-01-31"}}) {
    auto s = ReportService(fx.db).summary(from, to, GroupBy::kNone);
    REQUIRE(s);
    std::size_t pieces = 0, largest = 0;
    ExportSums jobs = exportInProcess(ExportKind::kJobs, from, to, &pieces, &largest);
    checkJobsExport(jobs, *s, fx.world, from, to);
    CHECK(largest < 64 * 1024 + 1024);  // bounded pieces, whatever the range
    if (s->total.jobs_submitted > 10000) CHECK(pieces > 10);
    INFO("usage.csv " << from << " .. " << to);
    checkUsageExport(exportInProcess(ExportKind::kUsage, from, to), *s);
  }
  auto bad = ReportService(fx.db).exportCsv(ExportKind::kJobs, "2025-02-30", "2025-03-01");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  auto missing = ReportService("/nonexistent/dir/pullprint.db")
                     .exportCsv(ExportKind::kUsage, "2025-01-01", "2025-01-02");
  REQUIRE_FALSE(missing);
  CHECK(missing.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("exports stream over HTTP from a real pullprintd (chunked, complete, same sums)",
          "[reports][export][http]") {
  Fixture& fx = fixture();
  rtest::ReleaseServerOptions opts;
  opts.logLevel = "info";
  opts.toml = "[spool]\ndatabase = \"" + fx.db + "\"\n";
  rtest::ReleaseServer server(opts);
  server.addUser("boss", "pw-boss", "admin");
  server.addUser("eve", "pw-eve", "user");
  server.start();

  const std::string q = "?from=2025-01-01&to=2025-12-31";
  auto s = ReportService(fx.db).summary("2025-01-01", "2025-12-31", GroupBy::kNone);
  REQUIRE(s);
  for (const char* which : {"jobs", "usage"}) {
    INFO(which << ".csv over HTTP\n" << server.describe());
    ExportSums sums;
    rtest::LineSplitter lines([&](std::string_view l) { sums.line(l); });
    auto r = rtest::streamGet(server.port(), std::string("/api/v1/reports/") + which + ".csv" + q,
                              "boss:pw-boss", [&](std::string_view d) { lines.feed(d); });
    lines.finish();
    REQUIRE(r.status == 200);
    CHECK(r.chunked);
    CHECK(r.complete);
    CHECK(r.head.find("content-type: text/csv") != std::string::npos);
    if (std::string(which) == "jobs")
      checkJobsExport(sums, *s, fx.world, "2025-01-01", "2025-12-31");
    else
      checkUsageExport(sums, *s);
  }
  // Errors are plain JSON answers, not streams.
  std::string body;
  auto r = rtest::streamGet(server.port(), "/api/v1/reports/jobs.csv" + q, "eve:pw-eve",
                            [&](std::string_view d) { body.append(d); });
  CHECK(r.status == 403);
  CHECK_FALSE(r.chunked);
  body.clear();
  r = rtest::streamGet(server.port(), "/api/v1/reports/usage.csv?from=2025-13-01&to=2025-12-31",
                       "boss:pw-boss", [&](std::string_view d) { body.append(d); });
  CHECK(r.status == 400);
  CHECK(body.find("\"error\"") != std::string::npos);
  // The connection-level keep-alive path still works after a stream.
  CHECK(rtest::httpRequest(server.port(), "GET", "/api/v1/health").status == 200);
}
