#include "core/fleet_store.h"

#include <sqlite3.h>

#include <mutex>

namespace pullprint {

namespace {

struct StmtFinalizer {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

class SqliteFleetRepository final : public FleetRepository {
 public:
  explicit SqliteFleetRepository(sqlite3* db) : db_(db) {}
  ~SqliteFleetRepository() override { sqlite3_close_v2(db_); }

  Status insertPolicyVersion(const PolicyVersion& v) override {
    std::lock_guard lock(mu_);
    auto st = prepare(
        "INSERT INTO policy_versions (version, sha256, actor, source, created_at, document) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st) return st.status();
    sqlite3_bind_int64(st->get(), 1, v.version);
    bindText(st->get(), 2, v.sha256);
    bindText(st->get(), 3, v.actor);
    bindText(st->get(), 4, v.source);
    sqlite3_bind_int64(st->get(), 5, v.created_at);
    bindText(st->get(), 6, v.document);
    int rc = sqlite3_step(st->get());
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
      return {StatusCode::kAlreadyExists,
              "policy version " + std::to_string(v.version) + " was stored before"};
    if (rc != SQLITE_DONE) return failure("insert policy version");
    return Status::ok();
  }

  Result<std::vector<PolicyVersion>> policyVersions(int limit, bool with_documents) override {
    std::lock_guard lock(mu_);
    return versions(std::string("SELECT version, sha256, actor, source, created_at, ") +
                        (with_documents ? "document" : "''") +
                        " FROM policy_versions ORDER BY version DESC LIMIT ?1",
                    limit);
  }

  Result<std::optional<PolicyVersion>> policyVersion(std::int64_t version) override {
    std::lock_guard lock(mu_);
    auto v = versions(
        "SELECT version, sha256, actor, source, created_at, document FROM policy_versions "
        "WHERE version = ?1",
        version);
    if (!v) return v.status();
    if (v->empty()) return std::optional<PolicyVersion>();
    return std::optional<PolicyVersion>(std::move(v->front()));
  }

  Result<std::optional<PolicyVersion>> latestPolicyVersion() override {
    std::lock_guard lock(mu_);
    auto v = versions(
        "SELECT version, sha256, actor, source, created_at, document FROM policy_versions "
        "ORDER BY version DESC LIMIT ?1",
        1);
    if (!v) return v.status();
    if (v->empty()) return std::optional<PolicyVersion>();
    return std::optional<PolicyVersion>(std::move(v->front()));
  }

  Result<std::int64_t> insertPushRun(const PushRunRow& run) override {
    std::lock_guard lock(mu_);
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return failure("begin");
    auto rollback = [&](Status s) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    };
    auto st = prepare(
        "INSERT INTO fleet_push_runs (started_at, finished_at, actor, trigger, printer_group, "
        "policy_version, printers, ok, failed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) return rollback(st.status());
    sqlite3_bind_int64(st->get(), 1, run.started_at);
    sqlite3_bind_int64(st->get(), 2, run.finished_at);
    bindText(st->get(), 3, run.actor);
    bindText(st->get(), 4, run.trigger);
    if (run.group)
      bindText(st->get(), 5, *run.group);
    else
      sqlite3_bind_null(st->get(), 5);
    sqlite3_bind_int64(st->get(), 6, run.policy_version);
    sqlite3_bind_int(st->get(), 7, run.printers);
    sqlite3_bind_int(st->get(), 8, run.ok);
    sqlite3_bind_int(st->get(), 9, run.failed);
    if (sqlite3_step(st->get()) != SQLITE_DONE) return rollback(failure("insert push run"));
    std::int64_t id = sqlite3_last_insert_rowid(db_);
    auto rs = prepare(
        "INSERT INTO fleet_push_results (run_id, printer, transport, status, message, attempts, "
        "duration_ms, settings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!rs) return rollback(rs.status());
    for (const PushResultRow& r : run.results) {
      sqlite3_reset(rs->get());
      sqlite3_bind_int64(rs->get(), 1, id);
      bindText(rs->get(), 2, r.printer);
      bindText(rs->get(), 3, r.transport);
      bindText(rs->get(), 4, r.status);
      bindText(rs->get(), 5, r.message);
      sqlite3_bind_int(rs->get(), 6, r.attempts);
      sqlite3_bind_int64(rs->get(), 7, r.duration_ms);
      bindText(rs->get(), 8, r.settings_json);
      if (sqlite3_step(rs->get()) != SQLITE_DONE) return rollback(failure("insert push result"));
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return rollback(failure("commit push run"));
    return id;
  }

  Result<std::vector<PushRunRow>> pushRuns(int limit) override {
    std::lock_guard lock(mu_);
    auto st = prepare(
        "SELECT id, started_at, finished_at, actor, trigger, printer_group, policy_version, "
        "printers, ok, failed FROM fleet_push_runs ORDER BY id DESC LIMIT ?1");
    if (!st) return st.status();
    sqlite3_bind_int(st->get(), 1, limit);
    std::vector<PushRunRow> runs;
    int rc;
    while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
      PushRunRow r;
      r.id = sqlite3_column_int64(st->get(), 0);
      r.started_at = sqlite3_column_int64(st->get(), 1);
      r.finished_at = sqlite3_column_int64(st->get(), 2);
      r.actor = text(st->get(), 3);
      r.trigger = text(st->get(), 4);
      if (sqlite3_column_type(st->get(), 5) != SQLITE_NULL) r.group = text(st->get(), 5);
      r.policy_version = sqlite3_column_int64(st->get(), 6);
      r.printers = sqlite3_column_int(st->get(), 7);
      r.ok = sqlite3_column_int(st->get(), 8);
      r.failed = sqlite3_column_int(st->get(), 9);
      runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return failure("read push runs");
    auto rs = prepare(
        "SELECT printer, transport, status, message, attempts, duration_ms, settings FROM "
        "fleet_push_results WHERE run_id = ?1 ORDER BY printer");
    if (!rs) return rs.status();
    for (PushRunRow& run : runs) {
      sqlite3_reset(rs->get());
      sqlite3_bind_int64(rs->get(), 1, run.id);
      while ((rc = sqlite3_step(rs->get())) == SQLITE_ROW) {
        PushResultRow p;
        p.printer = text(rs->get(), 0);
        p.transport = text(rs->get(), 1);
        p.status = text(rs->get(), 2);
        p.message = text(rs->get(), 3);
        p.attempts = sqlite3_column_int(rs->get(), 4);
        p.duration_ms = sqlite3_column_int64(rs->get(), 5);
        p.settings_json = text(rs->get(), 6);
        run.results.push_back(std::move(p));
      }
      if (rc != SQLITE_DONE) return failure("read push results");
    }
    return runs;
  }

  Result<std::int64_t> insertDriftCheck(const DriftCheckRow& c) override {
    std::lock_guard lock(mu_);
    auto st = prepare(
        "INSERT INTO fleet_drift_checks (checked_at, actor, policy_version, compliant, drifted, "
        "unreachable, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) return st.status();
    sqlite3_bind_int64(st->get(), 1, c.checked_at);
    bindText(st->get(), 2, c.actor);
    sqlite3_bind_int64(st->get(), 3, c.policy_version);
    sqlite3_bind_int(st->get(), 4, c.compliant);
    sqlite3_bind_int(st->get(), 5, c.drifted);
    sqlite3_bind_int(st->get(), 6, c.unreachable);
    bindText(st->get(), 7, c.report_json);
    if (sqlite3_step(st->get()) != SQLITE_DONE) return failure("insert drift check");
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Result<std::optional<DriftCheckRow>> latestDriftCheck() override {
    std::lock_guard lock(mu_);
    auto st = prepare(
        "SELECT id, checked_at, actor, policy_version, compliant, drifted, unreachable, report "
        "FROM fleet_drift_checks ORDER BY id DESC LIMIT 1");
    if (!st) return st.status();
    int rc = sqlite3_step(st->get());
    if (rc == SQLITE_DONE) return std::optional<DriftCheckRow>();
    if (rc != SQLITE_ROW) return failure("read drift check");
    DriftCheckRow c;
    c.id = sqlite3_column_int64(st->get(), 0);
    c.checked_at = sqlite3_column_int64(st->get(), 1);
    c.actor = text(st->get(), 2);
    c.policy_version = sqlite3_column_int64(st->get(), 3);
    c.compliant = sqlite3_column_int(st->get(), 4);
    c.drifted = sqlite3_column_int(st->get(), 5);
    c.unreachable = sqlite3_column_int(st->get(), 6);
    c.report_json = text(st->get(), 7);
    return std::optional<DriftCheckRow>(std::move(c));
  }

 private:
  Result<Stmt> prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return failure("prepare");
    return Stmt(st);
  }
  static void bindText(sqlite3_stmt* st, int i, const std::string& s) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  static std::string text(sqlite3_stmt* st, int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<std::size_t>(sqlite3_column_bytes(st, i)))
             : std::string();
  }
  Status failure(const char* what) {
    int code = sqlite3_extended_errcode(db_) & 0xff;
    StatusCode sc = code == SQLITE_BUSY ? StatusCode::kUnavailable : StatusCode::kInternal;
    return {sc, std::string("fleet store: ") + what + ": " + sqlite3_errmsg(db_)};
  }
  Result<std::vector<PolicyVersion>> versions(const std::string& sql, std::int64_t arg) {
    auto st = prepare(sql);
    if (!st) return st.status();
    sqlite3_bind_int64(st->get(), 1, arg);
    std::vector<PolicyVersion> out;
    int rc;
    while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
      PolicyVersion v;
      v.version = sqlite3_column_int64(st->get(), 0);
      v.sha256 = text(st->get(), 1);
      v.actor = text(st->get(), 2);
      v.source = text(st->get(), 3);
      v.created_at = sqlite3_column_int64(st->get(), 4);
      v.document = text(st->get(), 5);
      out.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) return failure("read policy versions");
    return out;
  }

  std::mutex mu_;  // guards db_
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<FleetRepository>> openSqliteFleetRepository(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status(StatusCode::kUnavailable, path + ": cannot open database: " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr);
  return std::unique_ptr<FleetRepository>(std::make_unique<SqliteFleetRepository>(db));
}

}  // namespace pullprint
