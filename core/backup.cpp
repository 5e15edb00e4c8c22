#include "core/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace pullprint {

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Status sqliteError(sqlite3* db, const std::string& what) {
  return {StatusCode::kUnavailable, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory")};
}

Result<Db> openDb(const std::filesystem::path& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return sqliteError(raw, path.string() + ": cannot open database");
  sqlite3_busy_timeout(raw, 10000);
  return db;
}

// One integer from a query ("SELECT COUNT(*) ..."), or an error.
Result<std::int64_t> scalar(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return sqliteError(db, sql);
  int rc = sqlite3_step(st);
  std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return sqliteError(db, sql);
  return v;
}

Status syncPath(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return {StatusCode::kUnavailable, path.string() + ": cannot sync: " + std::strerror(e)};
  }
  ::close(fd);
  return Status::ok();
}

// Checks the snapshot and counts what it holds.
Result<BackupReport> inspect(const std::filesystem::path& file) {
  auto db = openDb(file, SQLITE_OPEN_READONLY);
  if (!db) return db.status();
  sqlite3* h = db->get();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK)
    return sqliteError(h, "quick_check");
  std::string verdict;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    verdict = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(st);
  if (verdict != "ok")
    return Status(StatusCode::kInternal, "the snapshot failed its check: " + verdict);
  BackupReport r;
  auto version = scalar(h, "PRAGMA user_version");
  auto jobs = scalar(h, "SELECT COUNT(*) FROM jobs");
  auto held = scalar(h, "SELECT COUNT(*) FROM jobs WHERE state IN ('held', 'pending')");
  auto usage = scalar(h, "SELECT COUNT(*) FROM usage_records");
  for (const auto* v : {&version, &jobs, &held, &usage})
    if (!*v) return v->status();
  r.schema_version = static_cast<int>(*version);
  r.jobs = *jobs;
  r.held_jobs = *held;
  r.usage_records = *usage;
  std::error_code ec;
  r.bytes = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  return r;
}

}  // namespace

Result<BackupReport> backupDatabase(const std::filesystem::path& database,
                                    const std::filesystem::path& dest) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(database, ec))
    return Status(StatusCode::kNotFound, database.string() + ": no pullprint database here");
  if (std::filesystem::exists(std::filesystem::symlink_status(dest, ec)))
    return Status(StatusCode::kAlreadyExists,
                  dest.string() + " exists; a backup never overwrites a file");
  std::filesystem::path dir = dest.parent_path().empty() ? "." : dest.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    return Status(StatusCode::kNotFound, dir.string() + ": no such directory");

  const std::filesystem::path partial =
      dest.string() + ".partial-" + std::to_string(static_cast<long long>(::getpid()));
  std::filesystem::remove(partial, ec);
  auto fail = [&](Status s) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    return s;
  };
  {
    auto src = openDb(database, SQLITE_OPEN_READONLY);
    if (!src) return src.status();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(src->get(), "VACUUM INTO ?1", -1, &st, nullptr) != SQLITE_OK)
      return sqliteError(src->get(), "VACUUM INTO");
    const std::string target = partial.string();
    sqlite3_bind_text(st, 1, target.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fail(sqliteError(src->get(), "snapshot to " + target));
  }
  if (Status s = syncPath(partial, O_RDONLY); !s) return fail(s);
  auto report = inspect(partial);
  if (!report) return fail(report.status());
  // link() never replaces an existing name: a file that appeared meanwhile wins.
  if (::link(partial.c_str(), dest.c_str()) != 0) {
    int e = errno;
    return fail(Status(e == EEXIST ? StatusCode::kAlreadyExists : StatusCode::kUnavailable,
                       dest.string() + ": " + std::strerror(e)));
  }
  std::filesystem::remove(partial, ec);
  if (Status s = syncPath(dir, O_RDONLY | O_DIRECTORY); !s) return s;
  return report;
}

}  // namespace pullprint
