// bench_reports: the sustainability reports at KU Leuven scale.
//
// 1. Generation (cached): a synthetic year 2025 in a SQLite file created by
//    the real store (openSqliteStore runs every migration, so the schema and
//    indexes are exactly pullprintd's), then filled with prepared INSERTs in
//    200,000-row transactions (journal off while loading, WAL again after).
//    Defaults: 1,000,000 jobs, 40,000 users in 80 departments, 2,500 printers
//    in 120 buildings; 94 % released and printed, 6 % never released
//    (expired 3.6 %, cancelled by the owner 1.8 %, denied by policy 0.6 %);
//    duplex 60 %, colour 22 %, copies mostly 1; ~33 million pages. Jobs come
//    on weekdays mostly, in office hours, fewer in August. The file is kept as
//    <cache-dir>/reports-<hash>.db where the hash covers every generation
//    parameter and the generator version; a later run with the same
//    parameters reuses it (the store is opened once more so new migrations,
//    such as report indexes, are applied to a cached file too).
// 2. Summary latency: ReportService::summary for the whole year with
//    group_by none, department, month, printer, user, building. Each call
//    opens its own read-only connection (as every HTTP request does), so the
//    SQLite cache is always cold; "cold" runs additionally evict the database
//    file from the OS page cache (posix_fadvise DONTNEED, this file only) so
//    every page comes from the disk; "warm" runs follow each other.
//    Reported: p50 and max wall time and p50 CPU time (user+sys) of R runs.
// 3. Streamed CSV export of the whole year (ReportService::exportJobs, the
//    producer behind GET /api/v1/reports/jobs.csv): rows, bytes, time, and
//    the peak RSS of this process during the export (VmHWM reset through
//    /proc/self/clear_refs before it) against the size of the CSV.
//
//   bench_reports [--jobs N] [--users U] [--printers P] [--seed S]
//                 [--runs R] [--cache-dir DIR] [--skip-export] [--only-generate]
//
// Exit status: 0 ran (targets reported, not enforced); 1 a query failed;
// 2 start-up error.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "admin-api/reports.h"
#include "core/clock.h"
#include "core/store.h"
#ifdef BENCH_REPORTS_HTTP
#include "tests/release/release_support.h"
#include "tests/reports/http_stream.h"
#endif

namespace pullprint::bench {
namespace {

namespace fs = std::filesystem;
using api::GroupBy;
using api::ReportService;

constexpr const char* kGeneratorVersion = "reports-gen-3";
constexpr std::int64_t k20250101 = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::int64_t kDay = 86400;

struct Params {
  std::int64_t jobs = 1'000'000;
  int users = 40'000;
  int printers = 2'500;
  int departments = 80;
  int buildings = 120;
  std::uint64_t seed = 20250101;
  int runs = 7;
  std::string cache_dir = "bench-cache";
  bool skip_export = false;
  bool only_generate = false;

  std::string key() const {
    return std::string(kGeneratorVersion) + " jobs=" + std::to_string(jobs) +
           " users=" + std::to_string(users) + " printers=" + std::to_string(printers) +
           " departments=" + std::to_string(departments) +
           " buildings=" + std::to_string(buildings) + " seed=" + std::to_string(seed);
  }
};

std::string hashHex(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- generation ----

struct Totals {
  std::int64_t jobs = 0, usage = 0, pages_submitted = 0, pages_printed = 0, sheets_printed = 0,
               never_released = 0;
};

bool exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "sqlite: " << sql << ": " << (err ? err : "?") << "\n";
    sqlite3_free(err);
    return false;
  }
  return true;
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    std::cerr << "prepare: " << sqlite3_errmsg(db) << "\n";
    return nullptr;
  }
  return st;
}

bool step(sqlite3* db, sqlite3_stmt* st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) {
    std::cerr << "insert: " << sqlite3_errmsg(db) << "\n";
    return false;
  }
  return true;
}

void bindText(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::string numbered(char prefix, int n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%0*d", prefix, width, n);
  return buf;
}

bool generate(const Params& p, const std::string& path, Totals* totals) {
  // The real store creates the schema (every migration).
  {
    auto store = openSqliteStore(path, {1, false});
    if (!store) {
      std::cerr << "open store: " << store.status().message() << "\n";
      return false;
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::cerr << "open: " << sqlite3_errmsg(db) << "\n";
    return false;
  }
  bool ok = exec(db, "PRAGMA journal_mode=DELETE") && exec(db, "PRAGMA journal_mode=OFF") &&
            exec(db, "PRAGMA synchronous=OFF") && exec(db, "PRAGMA cache_size=-131072");
  std::mt19937_64 rng(p.seed);
  auto uniform = [&](std::int64_t n) { return static_cast<std::int64_t>(rng() % n); };
  auto chance = [&](double x) { return std::uniform_real_distribution<double>(0, 1)(rng) < x; };

  // Departments: Zipf-like sizes. Buildings: printers spread evenly.
  std::vector<double> dept_weight(p.departments);
  for (int d = 0; d < p.departments; ++d) dept_weight[d] = 1.0 / (d + 1);
  std::discrete_distribution<int> dept_dist(dept_weight.begin(), dept_weight.end());
  std::vector<int> home_printer(p.users);
  ok = ok && exec(db, "BEGIN");
  sqlite3_stmt* user_st =
      prepare(db, "INSERT INTO users(name, department, role, created_at) VALUES(?,?,'user',?)");
  sqlite3_stmt* printer_st =
      prepare(db,
              "INSERT INTO printers(name, uri, location, printer_group, state) "
              "VALUES(?,?,?,?,'idle')");
  ok = ok && user_st && printer_st;
  for (int u = 0; ok && u < p.users; ++u) {
    int dept = dept_dist(rng);
    bindText(user_st, 1, numbered('u', u, 5));
    bindText(user_st, 2, "Department " + numbered('D', dept, 2));
    sqlite3_bind_int64(user_st, 3, k20250101 - 400 * kDay);
    ok = step(db, user_st);
    // Users of a department print mostly in "their" buildings.
    int building = (dept * 7 + static_cast<int>(uniform(3))) % p.buildings;
    int per_building = std::max(1, p.printers / p.buildings);
    home_printer[u] =
        std::min(p.printers - 1, building * per_building + static_cast<int>(uniform(per_building)));
  }
  for (int i = 0; ok && i < p.printers; ++i) {
    int building = std::min(p.buildings - 1, i / std::max(1, p.printers / p.buildings));
    std::string name = numbered('p', i, 4);
    bindText(printer_st, 1, name);
    bindText(printer_st, 2, "ipp://" + name + ".printers.invalid/ipp/print");
    bindText(printer_st, 3, "floor " + std::to_string(i % 5));
    bindText(printer_st, 4, "Building " + numbered('B', building, 3));
    ok = step(db, printer_st);
  }
  ok = ok && exec(db, "COMMIT");
  sqlite3_finalize(user_st);
  sqlite3_finalize(printer_st);

  // Submission times: weekdays, office hours, quieter August; sorted so that
  // job ids grow with time as they do in a real store.
  std::vector<std::int64_t> created(static_cast<std::size_t>(p.jobs));
  for (auto& t : created) {
    for (;;) {
      std::int64_t day = uniform(365);
      std::int64_t weekday = (day + 3) % 7;  // 2025-01-01 was a Wednesday; 0 = Monday
      double w = weekday >= 5 ? 0.15 : 1.0;
      if (day >= 212 && day < 243) w *= 0.35;  // August
      if (!chance(w)) continue;
      std::int64_t second = 7 * 3600 + uniform(13 * 3600);
      if (chance(0.05)) second = uniform(kDay);
      t = k20250101 + day * kDay + second;
      break;
    }
  }
  std::sort(created.begin(), created.end());

  sqlite3_stmt* job_st = prepare(
      db,
      "INSERT INTO jobs(id, queue, owner, source_address, name, format, size_bytes, "
      "document_count, copies, sides, color_mode, state, state_reasons, created_at, "
      "processing_at, completed_at, hold_expires_at, pages, impressions, sheets, "
      "impressions_total, count_confidence, printer, released_by) "
      "VALUES(?1,'followme',?2,'10.0.0.1',?3,'application/pdf',?4,1,?5,?6,?7,?8,?9,?10,?11,?12,"
      "?13,?14,?15,?16,?17,?18,?19,?20)");
  sqlite3_stmt* usage_st = prepare(
      db,
      "INSERT INTO usage_records(job_id, user_name, printer, queue, at, pages, impressions, "
      "sheets, copies, two_sided, color_mode, source) "
      "VALUES(?1,?2,?3,'followme',?4,?5,?6,?7,?8,?9,?10,'printer')");
  ok = ok && job_st && usage_st && exec(db, "BEGIN");
  std::lognormal_distribution<double> pages_dist(2.25, 1.15);
  for (std::int64_t i = 0; ok && i < p.jobs; ++i) {
    const std::int64_t id = i + 1;
    const std::int64_t t = created[static_cast<std::size_t>(i)];
    const int user = static_cast<int>(uniform(p.users));
    const std::string owner = numbered('u', user, 5);
    std::int64_t pages = std::clamp<std::int64_t>(std::llround(pages_dist(rng)), 1, 600);
    int copies = 1;
    if (chance(0.14)) copies = 2 + static_cast<int>(uniform(4));  // 2..5
    if (chance(0.02)) copies = 10 + static_cast<int>(uniform(31));
    const bool duplex = pages > 1 && chance(0.60);
    const char* colour = chance(0.22) ? "color" : chance(0.9) ? "monochrome" : "auto";
    const bool known = !chance(0.008);  // analysis could not count
    const std::int64_t impressions = pages * copies;
    const std::int64_t sheets = (duplex ? (pages + 1) / 2 : pages) * copies;
    const std::string printer =
        numbered('p', chance(0.8) ? home_printer[user] : static_cast<int>(uniform(p.printers)), 4);

    // Fate: 94 % printed, then expired / cancelled by owner / denied by policy.
    const double fate = std::uniform_real_distribution<double>(0, 1)(rng);
    const char* state = "completed";
    const char* reasons = "job-completed-successfully";
    std::int64_t completed_at = t + 60 + uniform(4 * 3600);
    bool printed = true;
    if (fate >= 0.94) {
      printed = false;
      if (fate < 0.976) {
        state = "expired", reasons = "job-hold-expired", completed_at = t + kDay;
      } else if (fate < 0.994) {
        state = "canceled", reasons = "job-canceled-by-user", completed_at = t + uniform(3600);
      } else {
        state = "aborted", reasons = "job-denied-by-policy", completed_at = t;
      }
    }
    sqlite3_bind_int64(job_st, 1, id);
    bindText(job_st, 2, owner);
    bindText(job_st, 3, "document-" + std::to_string(id) + ".pdf");
    sqlite3_bind_int64(job_st, 4, 20'000 + pages * 35'000);
    sqlite3_bind_int(job_st, 5, copies);
    sqlite3_bind_text(job_st, 6, duplex ? "two-sided-long-edge" : "one-sided", -1, SQLITE_STATIC);
    sqlite3_bind_text(job_st, 7, colour, -1, SQLITE_STATIC);
    sqlite3_bind_text(job_st, 8, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(job_st, 9, reasons, -1, SQLITE_STATIC);
    sqlite3_bind_int64(job_st, 10, t);
    sqlite3_bind_int64(job_st, 11, printed ? completed_at - 30 : 0);
    sqlite3_bind_int64(job_st, 12, completed_at);
    sqlite3_bind_int64(job_st, 13, t + kDay);
    if (known) {
      sqlite3_bind_int64(job_st, 14, pages);
      sqlite3_bind_int64(job_st, 15, pages);
      sqlite3_bind_int64(job_st, 16, sheets);
      sqlite3_bind_int64(job_st, 17, impressions);
    }
    sqlite3_bind_text(job_st, 18, known ? "exact" : "unknown", -1, SQLITE_STATIC);
    if (printed)
      bindText(job_st, 19, printer);
    else
      sqlite3_bind_text(job_st, 19, "", 0, SQLITE_STATIC);
    if (printed)
      bindText(job_st, 20, owner);
    else
      sqlite3_bind_text(job_st, 20, "", 0, SQLITE_STATIC);
    ok = step(db, job_st);
    totals->jobs += 1;
    if (known) totals->pages_submitted += impressions;
    if (!printed) totals->never_released += 1;

    if (ok && printed) {
      // The printer reports what it printed (counts known even when the
      // analysis could not count the document).
      sqlite3_bind_int64(usage_st, 1, id);
      bindText(usage_st, 2, owner);
      bindText(usage_st, 3, printer);
      sqlite3_bind_int64(usage_st, 4, completed_at);
      sqlite3_bind_int64(usage_st, 5, pages);
      sqlite3_bind_int64(usage_st, 6, impressions);
      sqlite3_bind_int64(usage_st, 7, sheets);
      sqlite3_bind_int(usage_st, 8, copies);
      sqlite3_bind_int(usage_st, 9, duplex ? 1 : 0);
      sqlite3_bind_text(usage_st, 10, colour, -1, SQLITE_STATIC);
      ok = step(db, usage_st);
      totals->usage += 1;
      totals->pages_printed += impressions;
      totals->sheets_printed += sheets;
    }
    if (ok && id % 200'000 == 0) ok = exec(db, "COMMIT") && exec(db, "BEGIN");
  }
  ok = ok && exec(db, "COMMIT");
  sqlite3_finalize(job_st);
  sqlite3_finalize(usage_st);
  ok = ok && exec(db, "PRAGMA journal_mode=WAL");
  sqlite3_close_v2(db);
  return ok;
}

// ---- measurement ----

void evict(const std::string& path) {
  for (const std::string& f : {path, path + "-wal"}) {
    int fd = ::open(f.c_str(), O_RDONLY);
    if (fd < 0) continue;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

struct Timing {
  double p50 = 0, max = 0, cpu_p50 = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

bool timeSummary(const ReportService& reports, const std::string& path, GroupBy g, bool cold,
                 int runs, Timing* out, std::size_t* groups) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < runs; ++r) {
    if (cold) evict(path);
    double c0 = cpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    auto s = reports.summary("2025-01-01", "2025-12-31", g);
    wall.push_back(seconds(std::chrono::steady_clock::now() - t0) * 1000);
    cpu.push_back((cpuSeconds() - c0) * 1000);
    if (!s) {
      std::cerr << "summary " << api::groupByName(g) << ": " << s.status().message() << "\n";
      return false;
    }
    *groups = s->groups.size();
  }
  out->p50 = median(wall);
  out->max = *std::max_element(wall.begin(), wall.end());
  out->cpu_p50 = median(cpu);
  return true;
}

std::int64_t statusKb(const std::string& status_file, const char* field) {
  std::ifstream in(status_file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atoll(line.c_str() + std::strlen(field));
  return -1;
}

// Resets the peak RSS (VmHWM) of a process (Linux: clear_refs value 5).
void resetPeak(const std::string& proc_dir) { std::ofstream(proc_dir + "/clear_refs") << "5"; }

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int measureExports(const std::string& path) {
  std::cout << "Streamed CSV export of 2025 (jobs.csv, one line per job):\n\n";
  std::cout << "| where | rows | CSV MiB | seconds | RSS before MiB | peak RSS during MiB |\n"
               "|---|---|---|---|---|---|\n";
  // 1. In this process, through the producer the HTTP route uses.
  {
    ReportService reports(path);
    resetPeak("/proc/self");
    std::int64_t before = statusKb("/proc/self/status", "VmRSS:");
    auto t0 = std::chrono::steady_clock::now();
    auto producer = reports.exportCsv(api::ExportKind::kJobs, "2025-01-01", "2025-12-31");
    if (!producer) {
      std::cerr << "export: " << producer.status().message() << "\n";
      return 1;
    }
    std::string piece;
    std::uint64_t bytes = 0, lines = 0;
    for (;;) {
      api::StreamStep step = (*producer)(piece);
      if (step == api::StreamStep::kFailed) {
        std::cerr << "export failed midway\n";
        return 1;
      }
      bytes += piece.size();
      lines += static_cast<std::uint64_t>(std::count(piece.begin(), piece.end(), '\n'));
      if (step == api::StreamStep::kDone) break;
    }
    double secs = seconds(std::chrono::steady_clock::now() - t0);
    std::int64_t peak = statusKb("/proc/self/status", "VmHWM:");
    std::printf("| in process (ReportService::exportCsv) | %llu | %.0f | %.1f | %.1f | %.1f |\n",
                static_cast<unsigned long long>(lines - 1), bytes / 1048576.0, secs,
                before / 1024.0, peak / 1024.0);
    std::fflush(stdout);
  }
#ifdef BENCH_REPORTS_HTTP
  // 2. Over HTTP from a real pullprintd on this database (chunked).
  try {
    rtest::ReleaseServerOptions opts;
    opts.logLevel = "warn";
    opts.toml = "[spool]\ndatabase = \"" + path + "\"\n";
    rtest::ReleaseServer server(opts);
    server.addUser("bench-admin", "bench-pw", "admin");
    server.start();
    const std::string proc = "/proc/" + std::to_string(server.pid());
    resetPeak(proc);
    std::int64_t before = statusKb(proc + "/status", "VmRSS:");
    std::int64_t peak_seen = before;
    std::uint64_t lines = 0, chunks = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto r = rtest::streamGet(
        server.port(), "/api/v1/reports/jobs.csv?from=2025-01-01&to=2025-12-31",
        "bench-admin:bench-pw", [&](std::string_view d) {
          lines += static_cast<std::uint64_t>(std::count(d.begin(), d.end(), '\n'));
          if (++chunks % 256 == 0)
            peak_seen = std::max(peak_seen, statusKb(proc + "/status", "VmRSS:"));
        });
    double secs = seconds(std::chrono::steady_clock::now() - t0);
    std::int64_t peak = statusKb(proc + "/status", "VmHWM:");
    if (r.status != 200 || !r.complete) {
      std::cerr << "HTTP export: status " << r.status << ", complete " << r.complete << "\n"
                << server.describe();
      return 1;
    }
    std::printf(
        "| pullprintd, GET /api/v1/reports/jobs.csv (chunked) | %llu | %.0f | %.1f | %.1f | "
        "%.1f |\n",
        static_cast<unsigned long long>(lines - 1), r.body_bytes / 1048576.0, secs, before / 1024.0,
        std::max(peak, peak_seen) / 1024.0);
  } catch (const std::exception& e) {
    std::cerr << "HTTP export skipped: " << e.what() << "\n";
  }
#endif
  std::cout << "\n";
  return 0;
}

int run(const Params& p) {
  fs::create_directories(p.cache_dir);
  const std::string key = p.key();
  const std::string path = (fs::path(p.cache_dir) / ("reports-" + hashHex(key) + ".db")).string();
  std::cout << "## Reports benchmark\n\nload average at start: " << loadAverage()
            << "\n\nparameters: `" << key << "`\n\ndatabase: `" << path << "`\n\n";
  if (fs::exists(path)) {
    // A cached file from another schema line (e.g. a branch whose migrations
    // were numbered differently) cannot be migrated: generate it again.
    auto store = openSqliteStore(path, {1, false});
    if (!store) {
      std::cout << "cached file unusable (" << store.status().message() << "): regenerating\n\n";
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
    }
  }
  if (!fs::exists(path)) {
    const std::string tmp = path + ".tmp";
    fs::remove(tmp);
    fs::remove(tmp + "-wal");
    fs::remove(tmp + "-shm");
    Totals totals;
    auto t0 = std::chrono::steady_clock::now();
    if (!generate(p, tmp, &totals)) return 2;
    double gen = seconds(std::chrono::steady_clock::now() - t0);
    fs::rename(tmp, path);
    std::cout << "generated in " << gen << " s: " << totals.jobs << " jobs, " << totals.usage
              << " usage records, " << totals.pages_submitted << " pages submitted, "
              << totals.pages_printed << " printed on " << totals.sheets_printed << " sheets, "
              << totals.never_released << " never released\n\n";
  } else {
    std::cout << "cached (generation skipped)\n\n";
  }
  {
    // Migrations added since the file was generated (report indexes) apply here.
    auto t0 = std::chrono::steady_clock::now();
    auto store = openSqliteStore(path, {1, false});
    if (!store) {
      std::cerr << "open store: " << store.status().message() << "\n";
      return 2;
    }
    std::cout << "store opened (migrations checked) in "
              << seconds(std::chrono::steady_clock::now() - t0) << " s; file "
              << fs::file_size(path) / (1 << 20) << " MiB\n\n";
  }
  if (p.only_generate) return 0;

  // Start from an empty rollup so that its one-time build is measured too.
  {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
        !exec(db,
              "DELETE FROM report_rollup; DELETE FROM report_rollup_days; "
              "DELETE FROM report_rollup_state")) {
      sqlite3_close_v2(db);
      return 2;
    }
    sqlite3_close_v2(db);
  }
  ReportService reports(path);  // system clock: all of 2025 is closed
  ManualClock in_2025(k20250101);
  ReportService live(path, api::defaultEnvironmentFactors(), &in_2025);  // every day open
  {
    auto s = live.summary("2025-01-01", "2025-12-31", GroupBy::kNone);
    if (!s) {
      std::cerr << "summary: " << s.status().message() << "\n";
      return 1;
    }
    const auto& t = s->total;
    std::cout << "year 2025: " << t.jobs_submitted << " jobs, " << t.pages_submitted.known
              << " pages submitted (" << t.pages_submitted.unknown << " jobs unknown), "
              << t.usage_records << " usage records, " << t.pages_printed.known
              << " pages printed on " << t.sheets_printed.known << " sheets, "
              << t.sheets_saved_by_duplex.known << " sheets saved by duplex, "
              << t.paperSavedSheets().known << " sheets never printed\n\n";
  }
  std::cout << "Rollup build (first report of a grouping after upgrade; once per dimension):\n\n";
  for (GroupBy g : {GroupBy::kNone, GroupBy::kDepartment, GroupBy::kBuilding}) {
    auto t0 = std::chrono::steady_clock::now();
    auto s = reports.summary("2025-01-01", "2025-12-31", g);
    if (!s) {
      std::cerr << "summary: " << s.status().message() << "\n";
      return 1;
    }
    std::printf("- %s: %.0f ms\n", api::groupByName(g),
                seconds(std::chrono::steady_clock::now() - t0) * 1000);
  }
  std::cout << "\nYear 2025, wall ms (p50 and max of " << p.runs
            << " runs; cold = database file evicted from the page cache first):\n\n";
  std::cout
      << "| group_by | groups | cold p50 | cold max | warm p50 | warm max | warm CPU p50 | "
         "live (no rollup) warm p50 | live CPU p50 |\n|---|---|---|---|---|---|---|---|---|\n";
  int rc = 0;
  for (GroupBy g : {GroupBy::kNone, GroupBy::kDepartment, GroupBy::kMonth, GroupBy::kBuilding,
                    GroupBy::kPrinter, GroupBy::kUser}) {
    Timing cold, warm, nocache;
    std::size_t groups = 0;
    const int live_runs = std::min(p.runs, 3);
    if (!timeSummary(reports, path, g, true, p.runs, &cold, &groups) ||
        !timeSummary(reports, path, g, false, p.runs, &warm, &groups) ||
        !timeSummary(live, path, g, false, live_runs, &nocache, &groups)) {
      rc = 1;
      continue;
    }
    std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
                api::groupByName(g), groups, cold.p50, cold.max, warm.p50, warm.max, warm.cpu_p50,
                nocache.p50, nocache.cpu_p50);
    std::fflush(stdout);
  }
  std::cout << "\nload average after the summaries: " << loadAverage() << "\n\n";
  if (!p.skip_export && rc == 0) rc = measureExports(path);
  return rc;
}

}  // namespace
}  // namespace pullprint::bench

int main(int argc, char** argv) {
  pullprint::bench::Params p;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--jobs")
      p.jobs = std::stoll(next());
    else if (a == "--users")
      p.users = std::stoi(next());
    else if (a == "--printers")
      p.printers = std::stoi(next());
    else if (a == "--seed")
      p.seed = std::stoull(next());
    else if (a == "--runs")
      p.runs = std::stoi(next());
    else if (a == "--cache-dir")
      p.cache_dir = next();
    else if (a == "--skip-export")
      p.skip_export = true;
    else if (a == "--only-generate")
      p.only_generate = true;
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  if (p.jobs < 1 || p.users < 1 || p.printers < 1 || p.runs < 1) {
    std::cerr << "counts must be positive\n";
    return 2;
  }
  return pullprint::bench::run(p);
}
