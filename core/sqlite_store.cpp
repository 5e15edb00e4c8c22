// SQLite implementation of Store.
//
// One write connection (serialised by write_mu_) and a small pool of read
// connections; WAL mode so readers never block the writer. Every statement
// is prepared once per connection and cached. Schema changes are numbered
// migrations applied in order at open (PRAGMA user_version records the last).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/store.h"
#include "core/thread_name.h"

namespace pullprint {

namespace {

// Numbered migrations: append only; never edit one that has shipped.
const char* const kMigrations[] = {
    // 1: jobs, documents, events, users
    R"sql(
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL,
  owner TEXT NOT NULL,
  source_address TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  format TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '',
  document_count INTEGER NOT NULL DEFAULT 0,
  copies INTEGER NOT NULL DEFAULT 1,
  sides TEXT NOT NULL DEFAULT 'one-sided',
  color_mode TEXT NOT NULL DEFAULT 'auto',
  ticket TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  state_reasons TEXT NOT NULL DEFAULT '',
  state_message TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  processing_at INTEGER NOT NULL DEFAULT 0,
  completed_at INTEGER NOT NULL DEFAULT 0,
  hold_expires_at INTEGER NOT NULL DEFAULT 0,
  pages INTEGER,
  impressions INTEGER,
  sheets INTEGER,
  last_document_received INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_owner ON jobs(owner, id);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE TABLE documents (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  number INTEGER NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '',
  pages INTEGER,
  PRIMARY KEY (job_id, number)
);
CREATE TABLE job_events (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_events_job ON job_events(job_id);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT 'user',
  department TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 2: analysis counts, release bookkeeping, printer registry, usage records
    R"sql(
ALTER TABLE jobs ADD COLUMN impressions_total INTEGER;
ALTER TABLE jobs ADD COLUMN count_confidence TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN count_note TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN printer TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN printer_job_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN release_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN released_by TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_hold_expiry ON jobs(state, hold_expires_at);
CREATE TABLE printers (
  name TEXT PRIMARY KEY,
  uri TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  printer_group TEXT NOT NULL DEFAULT '',
  info TEXT NOT NULL DEFAULT '',
  capabilities TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL DEFAULT 'unknown',
  state_message TEXT NOT NULL DEFAULT '',
  last_seen INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE usage_records (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  printer TEXT NOT NULL,
  queue TEXT NOT NULL,
  at INTEGER NOT NULL,
  pages INTEGER,
  impressions INTEGER,
  sheets INTEGER,
  copies INTEGER NOT NULL DEFAULT 1,
  two_sided INTEGER NOT NULL DEFAULT 0,
  color_mode TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_at ON usage_records(at);
CREATE INDEX usage_job ON usage_records(job_id);
)sql",
    // 3: release stations, their printers, cards, self-registration, replay cache
    R"sql(
CREATE TABLE stations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE station_printers (
  station_id INTEGER NOT NULL REFERENCES stations(id),
  printer TEXT NOT NULL,
  PRIMARY KEY (station_id, printer)
);
CREATE TABLE cards (
  uid TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cards_user ON cards(user_name);
CREATE TABLE card_registrations (
  id INTEGER PRIMARY KEY,
  user_name TEXT NOT NULL,
  printer TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX card_registrations_expiry ON card_registrations(expires_at);
CREATE TABLE station_nonces (
  station TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (station, nonce)
);
CREATE INDEX station_nonces_expiry ON station_nonces(expires_at);
)sql",
    // 4: REST API (admin-api): browser sessions, API tokens, audit log
    R"sql(
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_name);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  user_name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_name);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  before_json TEXT NOT NULL DEFAULT 'null',
  after_json TEXT NOT NULL DEFAULT 'null'
);
-- jobs list filtered by date or printer (GET /api/v1/jobs?from=&to=&printer=)
CREATE INDEX jobs_created ON jobs(created_at);
CREATE INDEX jobs_printer ON jobs(printer, id);
)sql",
    // 5: fleet (policies and fleet-wide settings): accepted policy versions,
    // fleet push runs with one result per printer, drift checks.
    R"sql(
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  document TEXT NOT NULL
);
CREATE TABLE fleet_push_runs (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  trigger TEXT NOT NULL,
  printer_group TEXT,
  policy_version INTEGER NOT NULL,
  printers INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  failed INTEGER NOT NULL
);
CREATE TABLE fleet_push_results (
  run_id INTEGER NOT NULL REFERENCES fleet_push_runs(id),
  printer TEXT NOT NULL,
  transport TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  settings TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, printer)
);
CREATE TABLE fleet_drift_checks (
  id INTEGER PRIMARY KEY,
  checked_at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  policy_version INTEGER NOT NULL,
  compliant INTEGER NOT NULL,
  drifted INTEGER NOT NULL,
  unreachable INTEGER NOT NULL,
  report TEXT NOT NULL
);
)sql",
    // 6: reports (admin-api/reports.cpp, docs/reports.md "Performance notes"):
    // covering time-range indexes and the closed-day rollup of the summary.
    R"sql(
-- replaces migration 4's jobs_created(created_at) with a covering one
DROP INDEX IF EXISTS jobs_created;
CREATE INDEX jobs_created ON jobs(created_at, impressions_total, owner, printer);
CREATE INDEX jobs_unprinted_completed
  ON jobs(completed_at, state, state_reasons, impressions_total, sheets, owner, printer)
  WHERE state IN ('expired', 'canceled', 'aborted');
CREATE INDEX usage_report
  ON usage_records(at, impressions, sheets, two_sided, color_mode, user_name, printer);
CREATE TABLE report_rollup (
  dim TEXT NOT NULL,
  day INTEGER NOT NULL,
  key TEXT NOT NULL,
  figures TEXT NOT NULL,
  PRIMARY KEY (dim, day, key)
) WITHOUT ROWID;
CREATE TABLE report_rollup_days (
  dim TEXT NOT NULL,
  day INTEGER NOT NULL,
  PRIMARY KEY (dim, day)
) WITHOUT ROWID;
CREATE TABLE report_rollup_state (
  dim TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 7: spooler throughput (docs/benchmarks.md, spooler): the partial index
    // of migration 6 said `state IN (3 values)`, and SQLite evaluates such an
    // IN through a temporary table, built and freed for the old and the new
    // row of every UPDATE of a job (two per job per update, a fifth of the
    // committer's CPU). The same rows, as comparisons; the report query says
    // it the same way so the planner can use the index.
    R"sql(
DROP INDEX IF EXISTS jobs_unprinted_completed;
CREATE INDEX jobs_unprinted_completed
  ON jobs(completed_at, state, state_reasons, impressions_total, sheets, owner, printer)
  WHERE state = 'expired' OR state = 'canceled' OR state = 'aborted';
)sql",
    // 8: the document journal (spooler/committer.h): a small document's bytes
    // commit with its job's rows, so one WAL sync makes both durable; the row
    // goes once the spool file itself has been synced.
    R"sql(
CREATE TABLE document_journal (
  job_id INTEGER NOT NULL,
  document INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (job_id, document)
);
)sql",
    // 9: the journal in reused slots (docs/benchmarks.md, "The journal in
    // reused slots"): a document's copy overwrites a slot whose file was
    // synced instead of inserting a row that is deleted 100 ms later, which
    // cost every transaction free-list and interior pages and every flush a
    // burst of deletes that stalled the commits behind it.
    R"sql(
CREATE TABLE journal_slots (
  slot INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL,
  document INTEGER NOT NULL,
  data BLOB NOT NULL
);
INSERT INTO journal_slots (job_id, document, data)
  SELECT job_id, document, data FROM document_journal;
DROP TABLE document_journal;
)sql",
};

const char* const kJobColumns =
    "id, queue, owner, source_address, name, format, size_bytes, sha256, document_count, copies, "
    "sides, color_mode, ticket, state, state_reasons, state_message, created_at, processing_at, "
    "completed_at, hold_expires_at, pages, impressions, sheets, last_document_received, "
    "impressions_total, count_confidence, count_note, printer, printer_job_id, release_attempt, "
    "released_by";

Status sqlError(sqlite3* db, const char* what) {
  int code = sqlite3_extended_errcode(db);
  StatusCode sc = StatusCode::kInternal;
  if (code == SQLITE_FULL || (code & 0xff) == SQLITE_FULL) sc = StatusCode::kResourceExhausted;
  if ((code & 0xff) == SQLITE_CONSTRAINT) sc = StatusCode::kAlreadyExists;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_IOERR) sc = StatusCode::kUnavailable;
  return {sc, std::string(what) + ": " + sqlite3_errmsg(db)};
}

// A connection with its prepared-statement cache.
class Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  ~Connection() {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() { return db_; }

  // Returns a reset statement for `sql`, prepared once.
  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
        SQLITE_OK)
      return nullptr;
    cache_.emplace(sql, st);
    return st;
  }

  // Runs a fixed statement without results (BEGIN, SAVEPOINT, ...) through
  // the statement cache: sqlite3_exec would parse it again on every call.
  Status step(const std::string& sql) {
    sqlite3_stmt* st = prepare(sql);
    if (st == nullptr) return sqlError(db_, sql.c_str());
    const int rc = sqlite3_step(st);
    Status s = Status::ok();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) s = sqlError(db_, sql.c_str());
    sqlite3_reset(st);
    return s;
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return {StatusCode::kInternal, std::string("sqlite: ") + msg};
    }
    return Status::ok();
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Binding helpers: one value at 1-based position i (like SQLite), bound by
// its type: text, integer, or NULL for an empty optional.
void bindValue(sqlite3_stmt* st, int i, std::string_view v) {
  sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
// Bytes bound as a BLOB (std::string_view binds as TEXT).
struct Blob {
  std::string_view bytes;
};
void bindValue(sqlite3_stmt* st, int i, Blob v) {
  sqlite3_bind_blob(st, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_STATIC);
}
void bindValue(sqlite3_stmt* st, int i, int v) { sqlite3_bind_int(st, i, v); }
void bindValue(sqlite3_stmt* st, int i, std::int64_t v) { sqlite3_bind_int64(st, i, v); }
void bindValue(sqlite3_stmt* st, int i, const std::optional<std::int64_t>& v) {
  if (v)
    sqlite3_bind_int64(st, i, *v);
  else
    sqlite3_bind_null(st, i);
}
// Binds `args` to ?1..?N in order (none: nothing to bind).
template <typename... Args>
void bindValues([[maybe_unused]] sqlite3_stmt* st, const Args&... args) {
  [[maybe_unused]] int i = 0;
  (bindValue(st, ++i, args), ...);
}
std::string colText(sqlite3_stmt* st, int i) {
  const unsigned char* p = sqlite3_column_text(st, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(st, i)))
           : std::string();
}
// A journal_slots row: slot, job_id, document, data.
JournaledDocument journaledRow(sqlite3_stmt* st) {
  const void* p = sqlite3_column_blob(st, 3);
  return JournaledDocument{
      sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
      p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st, 3)))
        : std::string()};
}
std::optional<std::int64_t> colOptInt(sqlite3_stmt* st, int i) {
  if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, i);
}

// Steps `st` to its end, making a T of each row with `read`, and resets it.
// A failing step is the store error `what`.
template <typename T, typename Read>
Result<std::vector<T>> allRows(sqlite3* db, sqlite3_stmt* st, const char* what, Read read) {
  std::vector<T> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(read(st));
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return sqlError(db, what);
  return out;
}

Job readJob(sqlite3_stmt* st) {
  Job j;
  j.id = sqlite3_column_int64(st, 0);
  j.queue = colText(st, 1);
  j.owner = colText(st, 2);
  j.source_address = colText(st, 3);
  j.name = colText(st, 4);
  j.format = colText(st, 5);
  j.size_bytes = sqlite3_column_int64(st, 6);
  j.sha256 = colText(st, 7);
  j.document_count = sqlite3_column_int(st, 8);
  j.copies = sqlite3_column_int(st, 9);
  j.sides = colText(st, 10);
  j.color_mode = colText(st, 11);
  j.ticket_json = colText(st, 12);
  j.state = parseJobState(colText(st, 13)).value_or(JobState::kAborted);
  j.state_reasons = colText(st, 14);
  j.state_message = colText(st, 15);
  j.created_at = sqlite3_column_int64(st, 16);
  j.processing_at = sqlite3_column_int64(st, 17);
  j.completed_at = sqlite3_column_int64(st, 18);
  j.hold_expires_at = sqlite3_column_int64(st, 19);
  j.pages = colOptInt(st, 20);
  j.impressions = colOptInt(st, 21);
  j.sheets = colOptInt(st, 22);
  j.last_document_received = sqlite3_column_int(st, 23) != 0;
  j.impressions_total = colOptInt(st, 24);
  j.count_confidence = colText(st, 25);
  j.count_note = colText(st, 26);
  j.printer = colText(st, 27);
  j.printer_job_id = sqlite3_column_int64(st, 28);
  j.release_attempt = sqlite3_column_int(st, 29);
  j.released_by = colText(st, 30);
  return j;
}

User readUser(sqlite3_stmt* st) {
  User u;
  u.id = sqlite3_column_int64(st, 0);
  u.name = colText(st, 1);
  u.password_hash = colText(st, 2);
  u.role = parseRole(colText(st, 3)).value_or(Role::kUser);
  u.department = colText(st, 4);
  u.created_at = sqlite3_column_int64(st, 5);
  return u;
}

class SqliteWriter final : public StoreWriter {
 public:
  explicit SqliteWriter(Connection& c) : c_(c) {}

  Status insertJob(const Job& j) override {
    static const std::string sql =
        std::string("INSERT INTO jobs (") + kJobColumns +
        ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    return run(sql, "insert job", j.id, j.queue, j.owner, j.source_address, j.name, j.format,
               j.size_bytes, j.sha256, j.document_count, j.copies, j.sides, j.color_mode,
               j.ticket_json, jobStateName(j.state), j.state_reasons, j.state_message, j.created_at,
               j.processing_at, j.completed_at, j.hold_expires_at, j.pages, j.impressions, j.sheets,
               j.last_document_received ? 1 : 0, j.impressions_total, j.count_confidence,
               j.count_note, j.printer, j.printer_job_id, j.release_attempt, j.released_by);
  }

  Status updateJobDocuments(JobId id, int document_count, std::int64_t size_bytes,
                            const std::string& format, const std::string& sha256,
                            bool last_document_received, JobState state,
                            const std::string& state_reasons) override {
    static const std::string sql =
        "UPDATE jobs SET document_count=?2, size_bytes=?3, format=?4, sha256=?5, "
        "last_document_received=?6, state=?7, state_reasons=?8 WHERE id=?1";
    Status s = run(sql, "update job documents", id, document_count, size_bytes, format, sha256,
                   last_document_received ? 1 : 0, jobStateName(state), state_reasons);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "update job documents: no job " + std::to_string(id)};
    return s;
  }

  Status updateJobState(JobId id, JobState state, const std::string& reasons,
                        const std::string& message, UnixSeconds at) override {
    static const std::string sql =
        "UPDATE jobs SET state=?2, state_reasons=?3, state_message=?4, "
        "processing_at = CASE WHEN ?5 > 0 AND processing_at = 0 THEN ?5 ELSE processing_at END, "
        "completed_at = CASE WHEN ?6 > 0 THEN ?6 ELSE completed_at END WHERE id=?1";
    bool processing = state == JobState::kSending || state == JobState::kPrinting;
    Status s = run(sql, "update job state", id, jobStateName(state), reasons, message,
                   processing ? at : 0, isTerminal(state) ? at : 0);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "update job state: no job " + std::to_string(id)};
    return s;
  }

  Status insertDocument(const Document& d) override {
    static const std::string sql =
        "INSERT INTO documents (job_id, number, format, name, size_bytes, sha256, pages) "
        "VALUES (?,?,?,?,?,?,?)";
    return run(sql, "insert document", d.job_id, d.number, d.format, d.name, d.size_bytes, d.sha256,
               d.pages);
  }

  Status journalDocument(std::int64_t slot, JobId job, int number, std::string_view data) override {
    // An update in place when the slot exists: its leaf page (and overflow
    // pages, if any) change, and no index or free-list page does.
    static const std::string sql =
        "INSERT INTO journal_slots (slot, job_id, document, data) VALUES (?1,?2,?3,?4) "
        "ON CONFLICT(slot) DO UPDATE SET job_id=excluded.job_id, document=excluded.document, "
        "data=excluded.data";
    return run(sql, "journal document", slot, job, number, Blob{data});
  }

  Status dropJournal(std::int64_t slot, JobId job, int number) override {
    static const std::string sql =
        "DELETE FROM journal_slots WHERE slot=?1 AND job_id=?2 AND document=?3";
    return run(sql, "drop journal", slot, job, number);
  }

  Status clearJournal() override {
    static const std::string sql = "DELETE FROM journal_slots";
    return run(sql, "clear journal");
  }

  Status insertEvent(const JobEvent& e) override {
    static const std::string sql =
        "INSERT INTO job_events (job_id, at, from_state, to_state, reason, actor) "
        "VALUES (?,?,?,?,?,?)";
    return run(sql, "insert event", e.job_id, e.at, e.from, e.to, e.reason, e.actor);
  }

  Status setJobRelease(JobId id, const std::string& printer, std::int64_t printer_job_id,
                       int attempt, const std::string& released_by) override {
    static const std::string sql =
        "UPDATE jobs SET printer=?2, printer_job_id=?3, release_attempt=?4, released_by=?5 "
        "WHERE id=?1";
    return run(sql, "set job release", id, printer, printer_job_id, attempt, released_by);
  }

  Status setJobCounts(JobId id, std::optional<std::int64_t> pages,
                      std::optional<std::int64_t> impressions_per_copy,
                      std::optional<std::int64_t> impressions_total,
                      std::optional<std::int64_t> sheets_total, const std::string& confidence,
                      const std::string& note) override {
    static const std::string sql =
        "UPDATE jobs SET pages=?2, impressions=?3, impressions_total=?4, sheets=?5, "
        "count_confidence=?6, count_note=?7 WHERE id=?1";
    return run(sql, "set job counts", id, pages, impressions_per_copy, impressions_total,
               sheets_total, confidence, note);
  }

  Status setDocumentPages(JobId id, int number, std::optional<std::int64_t> pages) override {
    static const std::string sql = "UPDATE documents SET pages=?3 WHERE job_id=?1 AND number=?2";
    return run(sql, "set document pages", id, number, pages);
  }

  Status upsertPrinter(const Printer& p) override {
    static const std::string sql =
        "INSERT INTO printers (name, uri, location, printer_group, info, capabilities, state, "
        "state_message, last_seen, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT(name) DO UPDATE SET uri=excluded.uri, location=excluded.location, "
        "printer_group=excluded.printer_group, info=excluded.info";
    return run(sql, "upsert printer", p.name, p.uri, p.location, p.group, p.info,
               p.capabilities_json, p.state, p.state_message, p.last_seen, p.updated_at);
  }

  Status updatePrinterState(const std::string& name, const std::string& state,
                            const std::string& message, UnixSeconds last_seen,
                            UnixSeconds updated_at) override {
    static const std::string sql =
        "UPDATE printers SET state=?2, state_message=?3, "
        "last_seen=CASE WHEN ?4 > 0 THEN ?4 ELSE last_seen END, updated_at=?5 WHERE name=?1";
    return run(sql, "update printer state", name, state, message, last_seen, updated_at);
  }

  Status setPrinterCapabilities(const std::string& name, const std::string& json) override {
    static const std::string sql = "UPDATE printers SET capabilities=?2 WHERE name=?1";
    return run(sql, "set printer capabilities", name, json);
  }

  Status insertUsage(const UsageRecord& u) override {
    static const std::string sql =
        "INSERT INTO usage_records (job_id, user_name, printer, queue, at, pages, impressions, "
        "sheets, copies, two_sided, color_mode, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
    return run(sql, "insert usage", u.job_id, u.user, u.printer, u.queue, u.at, u.pages,
               u.impressions, u.sheets, u.copies, u.two_sided ? 1 : 0, u.color_mode, u.source);
  }

  Status upsertUser(const User& u) override {
    static const std::string sql =
        "INSERT INTO users (name, password_hash, role, department, created_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT(name) DO UPDATE SET password_hash=excluded.password_hash, "
        "role=excluded.role, department=excluded.department";
    return run(sql, "upsert user", u.name, u.password_hash, roleName(u.role), u.department,
               u.created_at);
  }

  Status deleteUser(const std::string& name) override {
    static const std::string sql = "DELETE FROM users WHERE name=?";
    return run(sql, "delete user", name);
  }

  // ---- stations and cards ----

  Status insertStation(const Station& s) override {
    static const std::string sql =
        "INSERT INTO stations (name, secret, created_at, revoked_at) VALUES (?,?,?,0)";
    Status st = run(sql, "insert station", s.name, s.secret, s.created_at);
    if (!st) {
      if (st.code() == StatusCode::kAlreadyExists)
        return {StatusCode::kAlreadyExists, "a station named '" + s.name + "' exists"};
      return st;
    }
    std::int64_t id = sqlite3_last_insert_rowid(c_.db());
    static const std::string psql =
        "INSERT OR IGNORE INTO station_printers (station_id, printer) VALUES (?,?)";
    for (const auto& p : s.printers) {
      Status ps = run(psql, "insert station printer", id, p);
      if (!ps) return ps;
    }
    return Status::ok();
  }

  Status revokeStation(const std::string& name, UnixSeconds at) override {
    static const std::string sql =
        "UPDATE stations SET revoked_at=?2 WHERE name=?1 AND revoked_at=0";
    Status s = run(sql, "revoke station", name, at);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "no active station named '" + name + "'"};
    return s;
  }

  Status upsertCard(const Card& c) override {
    static const std::string sql =
        "INSERT INTO cards (uid, user_name, created_at, revoked_at, source) VALUES (?1,?2,?3,0,?4) "
        "ON CONFLICT(uid) DO UPDATE SET user_name=excluded.user_name, "
        "created_at=excluded.created_at, revoked_at=0, source=excluded.source "
        "WHERE cards.revoked_at<>0 OR cards.user_name=excluded.user_name";
    Status s = run(sql, "upsert card", c.uid, c.user, c.created_at, c.source);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kAlreadyExists, "the card belongs to another user"};
    return s;
  }

  Status revokeCard(const std::string& uid, UnixSeconds at) override {
    static const std::string sql = "UPDATE cards SET revoked_at=?2 WHERE uid=?1 AND revoked_at=0";
    Status s = run(sql, "revoke card", uid, at);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "no active card with that number"};
    return s;
  }

  Status insertCardRegistration(const CardRegistration& r) override {
    static const std::string sql =
        "INSERT INTO card_registrations (user_name, printer, created_at, expires_at) "
        "VALUES (?,?,?,?)";
    return run(sql, "insert card registration", r.user, r.printer, r.created_at, r.expires_at);
  }

  Status deleteCardRegistrations(const std::string& user) override {
    static const std::string sql = "DELETE FROM card_registrations WHERE user_name=?";
    return run(sql, "delete card registrations", user);
  }

  Status insertStationNonce(const std::string& station, const std::string& nonce,
                            UnixSeconds expires_at, UnixSeconds now) override {
    static const std::string prune = "DELETE FROM station_nonces WHERE expires_at < ?";
    if (Status s = run(prune, "prune nonces", now); !s) return s;
    static const std::string sql =
        "INSERT INTO station_nonces (station, nonce, expires_at) VALUES (?,?,?)";
    Status s = run(sql, "insert nonce", station, nonce, expires_at);
    if (!s && s.code() == StatusCode::kAlreadyExists)
      return {StatusCode::kAlreadyExists, "nonce already used"};
    return s;
  }

  // ---- REST API: printers, sessions, tokens, audit ----

  Status deletePrinter(const std::string& name) override {
    static const std::string sql = "DELETE FROM printers WHERE name=?";
    Status s = run(sql, "delete printer", name);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "no printer named '" + name + "'"};
    return s;
  }

  Status insertSession(const Session& x) override {
    static const std::string sql =
        "INSERT INTO sessions (id_hash, user_name, csrf_token, created_at, last_seen, expires_at) "
        "VALUES (?,?,?,?,?,?)";
    return run(sql, "insert session", x.id_hash, x.user, x.csrf_token, x.created_at, x.last_seen,
               x.expires_at);
  }

  Status touchSession(const std::string& id_hash, UnixSeconds last_seen) override {
    static const std::string sql = "UPDATE sessions SET last_seen=?2 WHERE id_hash=?1";
    return run(sql, "touch session", id_hash, last_seen);
  }

  Status deleteSession(const std::string& id_hash) override {
    static const std::string sql = "DELETE FROM sessions WHERE id_hash=?";
    return run(sql, "delete session", id_hash);
  }

  Status deleteSessionsOfUser(const std::string& user) override {
    static const std::string sql = "DELETE FROM sessions WHERE user_name=?";
    return run(sql, "delete sessions", user);
  }

  Status deleteExpiredSessions(UnixSeconds now, UnixSeconds idle_seconds) override {
    static const std::string sql =
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen + ?2 <= ?1";
    return run(sql, "delete expired sessions", now, idle_seconds);
  }

  Status insertApiToken(ApiToken* t) override {
    static const std::string sql =
        "INSERT INTO api_tokens (name, user_name, token_hash, created_at, expires_at) "
        "VALUES (?,?,?,?,?)";
    Status s =
        run(sql, "insert api token", t->name, t->user, t->token_hash, t->created_at, t->expires_at);
    if (s) t->id = sqlite3_last_insert_rowid(c_.db());
    return s;
  }

  Status touchApiToken(std::int64_t id, UnixSeconds at) override {
    static const std::string sql = "UPDATE api_tokens SET last_used_at=?2 WHERE id=?1";
    return run(sql, "touch api token", id, at);
  }

  Status revokeApiToken(std::int64_t id, UnixSeconds at) override {
    static const std::string sql =
        "UPDATE api_tokens SET revoked_at=?2 WHERE id=?1 AND revoked_at=0";
    Status s = run(sql, "revoke api token", id, at);
    if (s && sqlite3_changes(c_.db()) == 0)
      return {StatusCode::kNotFound, "no active token " + std::to_string(id)};
    return s;
  }

  Status insertAudit(const AuditEntry& e) override {
    static const std::string sql =
        "INSERT INTO audit_log (at, actor, action, target, before_json, after_json) "
        "VALUES (?,?,?,?,?,?)";
    return run(sql, "insert audit", e.at, e.actor, e.action, e.target, e.before_json, e.after_json);
  }

  Status removeJobDetails(UnixSeconds ended_before, std::int64_t limit,
                          std::int64_t* removed) override {
    *removed = 0;
    // No index serves this (one would cost every submitted job an insert):
    // a scan, run only when retention is on, once an hour.
    static const std::string pick =
        "SELECT id FROM jobs WHERE completed_at > 0 AND completed_at < ?1 "
        "AND (name != '' OR source_address != '') ORDER BY id LIMIT ?2";
    sqlite3_stmt* st = c_.prepare(pick);
    if (!st) return sqlError(c_.db(), "pick jobs for retention");
    sqlite3_bind_int64(st, 1, ended_before);
    sqlite3_bind_int64(st, 2, limit);
    std::vector<JobId> ids;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return sqlError(c_.db(), "pick jobs for retention");
    static const std::string blank_job = "UPDATE jobs SET name='', source_address='' WHERE id=?1";
    static const std::string blank_documents = "UPDATE documents SET name='' WHERE job_id=?1";
    for (JobId id : ids) {
      if (Status s = run(blank_job, "remove job details", id); !s) return s;
      if (Status s = run(blank_documents, "remove document names", id); !s) return s;
    }
    *removed = static_cast<std::int64_t>(ids.size());
    return Status::ok();
  }

 private:
  // Runs `sql` (no result rows) with `args` bound to ?1..?N; a failure is
  // the store error `what`.
  template <typename... Args>
  Status run(const std::string& sql, const char* what, const Args&... args) {
    sqlite3_stmt* st = c_.prepare(sql);
    if (!st) return sqlError(c_.db(), what);
    bindValues(st, args...);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return sqlError(c_.db(), what);
    return Status::ok();
  }

  Connection& c_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore() = default;
  ~SqliteStore() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu_);
        checkpoint_stop_ = true;
      }
      checkpoint_cv_.notify_one();
      checkpointer_.join();
    }
  }

  Status open(const std::string& path, const SqliteOptions& options) {
    auto w = openConnection(path, options, /*readonly=*/false);
    if (!w) return w.status();
    writer_ = std::move(*w);
    if (Status s = migrate(); !s) return s;
    checkpoint_frames_ = std::max(1, options.checkpoint_frames);
    const int reserve = options.durable ? std::max(0, options.wal_reserve_frames) : 0;
    wal_limit_frames_ = reserve > 0 ? reserve : checkpoint_frames_ + checkpoint_frames_ / 2;
    if (reserve > 0) reserveWal(reserve, options.log);
    for (int i = 0; i < std::max(1, options.read_connections); ++i) {
      auto r = openConnection(path, options, /*readonly=*/true);
      if (!r) return r.status();
      readers_.push_back(std::move(*r));
      free_readers_.push_back(readers_.back().get());
    }
    // Checkpoints (copying the WAL back into the database file, and its
    // sync) run on their own thread and connection, not in the commit that
    // happens to cross the threshold: a commit waits for its own WAL sync
    // only. PASSIVE checkpoints never block the writer.
    auto c = openConnection(path, options, /*readonly=*/false);
    if (!c) return c.status();
    checkpoint_conn_ = std::move(*c);
    if (Status s = writer_->exec("PRAGMA wal_autocheckpoint=0"); !s) return s;
    sqlite3_wal_hook(writer_->db(), &SqliteStore::walHook, this);
    checkpointer_ = std::thread([this] {
      nameThisThread("pp-checkpoint");
      checkpointLoop();
    });
    return Status::ok();
  }

  Status write(const std::function<Status(StoreWriter&)>& fn) override {
    std::lock_guard lock(write_mu_);
    finishCheckpointIfDue();
    if (Status s = writer_->exec("BEGIN IMMEDIATE"); !s) return s;
    SqliteWriter w(*writer_);
    Status s = fn(w);
    if (!s) {
      (void)writer_->exec("ROLLBACK");
      return s;
    }
    if (sqlite3_exec(writer_->db(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Status e = sqlError(writer_->db(), "commit");
      (void)writer_->exec("ROLLBACK");
      return e;
    }
    return Status::ok();
  }

  void writeBatch(const std::vector<std::function<Status(StoreWriter&)>>& ops,
                  std::vector<Status>* results) override {
    std::lock_guard lock(write_mu_);
    finishCheckpointIfDue();
    results->assign(ops.size(), Status::ok());
    static const std::string kBegin = "BEGIN IMMEDIATE", kSavepoint = "SAVEPOINT op",
                             kRollbackTo = "ROLLBACK TO op", kRelease = "RELEASE op",
                             kCommit = "COMMIT";
    if (Status s = writer_->step(kBegin); !s) {
      results->assign(ops.size(), s);
      return;
    }
    SqliteWriter w(*writer_);
    for (size_t i = 0; i < ops.size(); ++i) {
      (void)writer_->step(kSavepoint);
      Status s = ops[i](w);
      if (!s) (void)writer_->step(kRollbackTo);
      (void)writer_->step(kRelease);
      (*results)[i] = std::move(s);
    }
    if (Status c = writer_->step(kCommit); !c) {
      Status e = c;
      (void)writer_->exec("ROLLBACK");
      results->assign(ops.size(), e);
    }
  }

  Result<std::optional<Job>> job(JobId id) override {
    Reader r(*this);
    static const std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select job");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    std::optional<Job> out;
    if (rc == SQLITE_ROW)
      out = readJob(st);
    else if (rc != SQLITE_DONE)
      return sqlError(r->db(), "select job");
    sqlite3_reset(st);
    return out;
  }

  Result<std::vector<Job>> jobs(const JobFilter& f) override {
    Reader r(*this);
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id > ?1";
    if (f.queue) sql += " AND queue = ?2";
    if (f.owner) sql += " AND owner = ?3";
    if (!f.all) {
      sql += f.not_completed ? " AND state IN ('receiving','held','pending','sending','printing')"
                             : " AND state IN ('completed','canceled','aborted','expired')";
    }
    sql += " ORDER BY id";
    if (f.limit > 0) sql += " LIMIT ?4";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select jobs");
    sqlite3_bind_int64(st, 1, f.after_id);
    if (f.queue) bindValue(st, 2, *f.queue);
    if (f.owner) bindValue(st, 3, *f.owner);
    if (f.limit > 0) sqlite3_bind_int64(st, 4, f.limit);
    return allRows<Job>(r->db(), st, "select jobs", readJob);
  }

  Result<std::vector<Document>> documents(JobId id) override {
    Reader r(*this);
    static const std::string sql =
        "SELECT job_id, number, format, name, size_bytes, sha256, pages FROM documents "
        "WHERE job_id=? ORDER BY number";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select documents");
    sqlite3_bind_int64(st, 1, id);
    return allRows<Document>(r->db(), st, "select documents", [](sqlite3_stmt* st) {
      Document d;
      d.job_id = sqlite3_column_int64(st, 0);
      d.number = sqlite3_column_int(st, 1);
      d.format = colText(st, 2);
      d.name = colText(st, 3);
      d.size_bytes = sqlite3_column_int64(st, 4);
      d.sha256 = colText(st, 5);
      d.pages = colOptInt(st, 6);
      return d;
    });
  }

  Result<std::vector<JobEvent>> events(JobId id) override {
    Reader r(*this);
    static const std::string sql =
        "SELECT job_id, at, from_state, to_state, reason, actor FROM job_events WHERE job_id=? "
        "ORDER BY id";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select events");
    sqlite3_bind_int64(st, 1, id);
    return allRows<JobEvent>(r->db(), st, "select events", [](sqlite3_stmt* st) {
      return JobEvent{sqlite3_column_int64(st, 0),
                      sqlite3_column_int64(st, 1),
                      colText(st, 2),
                      colText(st, 3),
                      colText(st, 4),
                      colText(st, 5)};
    });
  }

  Result<JobId> maxJobId() override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare("SELECT COALESCE(MAX(id), 0) FROM jobs");
    if (!st) return sqlError(r->db(), "max job id");
    if (sqlite3_step(st) != SQLITE_ROW) return sqlError(r->db(), "max job id");
    JobId id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return id;
  }

  Result<std::vector<JournaledDocument>> journaledDocuments() override {
    Reader r(*this);
    static const std::string sql =
        "SELECT slot, job_id, document, data FROM journal_slots ORDER BY job_id, document, slot";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select journal");
    return allRows<JournaledDocument>(r->db(), st, "select journal", journaledRow);
  }

  Result<std::optional<JournaledDocument>> journaledDocument(JobId job, int number) override {
    Reader r(*this);
    static const std::string sql =
        "SELECT slot, job_id, document, data FROM journal_slots WHERE job_id=?1 AND document=?2";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select journal copy");
    bindValues(st, job, number);
    auto rows = allRows<JournaledDocument>(r->db(), st, "select journal copy", journaledRow);
    if (!rows) return rows.status();
    if (rows->empty()) return std::optional<JournaledDocument>();
    return std::optional<JournaledDocument>(std::move(rows->front()));
  }

  Result<std::vector<Job>> activeJobs() override {
    JobFilter f;
    f.not_completed = true;
    return jobs(f);
  }

  Result<std::vector<Job>> expiredHeldJobs(UnixSeconds now, std::int64_t limit) override {
    Reader r(*this);
    static const std::string sql = std::string("SELECT ") + kJobColumns +
                                   " FROM jobs WHERE state='held' AND hold_expires_at > 0 AND "
                                   "hold_expires_at <= ?1 ORDER BY hold_expires_at, id LIMIT ?2";
    sqlite3_stmt* st = r->prepare(sql);
    if (!st) return sqlError(r->db(), "select expired");
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, limit);
    return allRows<Job>(r->db(), st, "select expired", readJob);
  }

  Result<std::optional<Printer>> printer(const std::string& name) override {
    auto all = selectPrinters(" WHERE name=?1", name);
    if (!all) return all.status();
    std::optional<Printer> out;
    if (!all->empty()) out = (*all)[0];
    return out;
  }

  Result<std::vector<Printer>> printers() override { return selectPrinters("", ""); }

  Result<std::vector<UsageRecord>> usage(JobId job_id) override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT job_id, user_name, printer, queue, at, pages, impressions, sheets, copies, "
        "two_sided, color_mode, source FROM usage_records WHERE job_id=? ORDER BY id");
    if (!st) return sqlError(r->db(), "select usage");
    sqlite3_bind_int64(st, 1, job_id);
    return allRows<UsageRecord>(r->db(), st, "select usage", [](sqlite3_stmt* st) {
      UsageRecord u;
      u.job_id = sqlite3_column_int64(st, 0);
      u.user = colText(st, 1);
      u.printer = colText(st, 2);
      u.queue = colText(st, 3);
      u.at = sqlite3_column_int64(st, 4);
      u.pages = colOptInt(st, 5);
      u.impressions = colOptInt(st, 6);
      u.sheets = colOptInt(st, 7);
      u.copies = sqlite3_column_int(st, 8);
      u.two_sided = sqlite3_column_int(st, 9) != 0;
      u.color_mode = colText(st, 10);
      u.source = colText(st, 11);
      return u;
    });
  }

  Result<std::optional<User>> user(const std::string& name) override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT id, name, password_hash, role, department, created_at FROM users WHERE name=?");
    if (!st) return sqlError(r->db(), "select user");
    bindValue(st, 1, name);
    std::optional<User> out;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      out = readUser(st);
    else if (rc != SQLITE_DONE)
      return sqlError(r->db(), "select user");
    sqlite3_reset(st);
    return out;
  }

  Result<std::vector<User>> users() override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT id, name, password_hash, role, department, created_at FROM users ORDER BY name");
    if (!st) return sqlError(r->db(), "select users");
    return allRows<User>(r->db(), st, "select users", readUser);
  }

  // ---- stations and cards ----

  Result<std::optional<Station>> station(const std::string& name) override {
    auto all = selectStations(" WHERE name=?1", name);
    if (!all) return all.status();
    std::optional<Station> out;
    if (!all->empty()) out = (*all)[0];
    return out;
  }

  Result<std::vector<Station>> stations() override { return selectStations("", ""); }

  Result<std::optional<Card>> card(const std::string& uid) override {
    auto all = selectCards(" WHERE uid=?1", uid);
    if (!all) return all.status();
    std::optional<Card> out;
    if (!all->empty()) out = (*all)[0];
    return out;
  }

  Result<std::vector<Card>> cardsOfUser(const std::string& user) override {
    return selectCards(" WHERE user_name=?1", user);
  }

  Result<std::vector<CardRegistration>> pendingCardRegistrations(UnixSeconds now) override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT id, user_name, printer, created_at, expires_at FROM card_registrations "
        "WHERE expires_at > ? ORDER BY id DESC");
    if (!st) return sqlError(r->db(), "select card registrations");
    sqlite3_bind_int64(st, 1, now);
    return allRows<CardRegistration>(r->db(), st, "select card registrations",
                                     [](sqlite3_stmt* st) {
                                       CardRegistration c;
                                       c.id = sqlite3_column_int64(st, 0);
                                       c.user = colText(st, 1);
                                       c.printer = colText(st, 2);
                                       c.created_at = sqlite3_column_int64(st, 3);
                                       c.expires_at = sqlite3_column_int64(st, 4);
                                       return c;
                                     });
  }

  Result<std::vector<Card>> allCards() override { return selectCards("", ""); }

  // ---- REST API ----

  Result<JobPage> jobPage(const JobQuery& q) override {
    // The WHERE clause is built from fixed fragments only (values are bound),
    // so the prepared-statement cache holds at most one entry per combination.
    //
    // One filter drives the index, the others are filtered row by row
    // (a unary + keeps SQLite off their indexes; without statistics it
    // would pick jobs_state for "owner=X AND state=held" and scan every held
    // job). Driver by selectivity: owner (jobs_owner), printer
    // (jobs_printer), date range (jobs_created), state (jobs_state).
    const bool by_owner = q.owner.has_value();
    const bool by_printer = !by_owner && q.printer.has_value();
    const bool by_date = !by_owner && !by_printer && (q.created_from > 0 || q.created_to > 0);
    const bool by_state = !by_owner && !by_printer && !by_date;
    std::string where = " WHERE 1=1";
    if (!q.states.empty()) {
      where += by_state ? " AND state IN (" : " AND +state IN (";
      for (size_t i = 0; i < q.states.size(); ++i) where += i ? ",?" : "?";
      where += ")";
    }
    if (q.owner) where += " AND owner=?";
    if (q.queue) where += " AND +queue=?";
    if (q.printer) where += by_printer ? " AND printer=?" : " AND +printer=?";
    if (q.created_from > 0) where += by_date ? " AND created_at>=?" : " AND +created_at>=?";
    if (q.created_to > 0) where += by_date ? " AND created_at<?" : " AND +created_at<?";
    // Newest first: by id, or by creation time when the date index drives.
    const char* order = by_date ? " ORDER BY created_at DESC, id DESC" : " ORDER BY id DESC";
    auto bindAll = [&](sqlite3_stmt* st) {
      int i = 1;
      for (JobState js : q.states) bindValue(st, i++, jobStateName(js));
      if (q.owner) bindValue(st, i++, *q.owner);
      if (q.queue) bindValue(st, i++, *q.queue);
      if (q.printer) bindValue(st, i++, *q.printer);
      if (q.created_from > 0) sqlite3_bind_int64(st, i++, q.created_from);
      if (q.created_to > 0) sqlite3_bind_int64(st, i++, q.created_to);
      return i;
    };
    Reader r(*this);
    JobPage page;
    sqlite3_stmt* st = r->prepare("SELECT COUNT(*) FROM jobs" + where);
    if (!st) return sqlError(r->db(), "count jobs");
    bindAll(st);
    if (sqlite3_step(st) != SQLITE_ROW) return sqlError(r->db(), "count jobs");
    page.total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = r->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs" + where + order +
                    " LIMIT ? OFFSET ?");
    if (!st) return sqlError(r->db(), "select jobs");
    int i = bindAll(st);
    sqlite3_bind_int64(st, i, q.limit);
    sqlite3_bind_int64(st, i + 1, q.offset);
    auto rows = allRows<Job>(r->db(), st, "select jobs", readJob);
    if (!rows) return rows.status();
    page.jobs = std::move(*rows);
    return page;
  }

  Result<std::vector<std::pair<std::string, std::int64_t>>> jobCountsByState() override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state");
    if (!st) return sqlError(r->db(), "count jobs by state");
    return allRows<std::pair<std::string, std::int64_t>>(
        r->db(), st, "count jobs by state", [](sqlite3_stmt* st) {
          return std::pair{colText(st, 0), static_cast<std::int64_t>(sqlite3_column_int64(st, 1))};
        });
  }

  Result<std::optional<Session>> session(const std::string& id_hash) override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT id_hash, user_name, csrf_token, created_at, last_seen, expires_at FROM sessions "
        "WHERE id_hash=?");
    if (!st) return sqlError(r->db(), "select session");
    bindValue(st, 1, id_hash);
    std::optional<Session> out;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      out = Session{colText(st, 0),
                    colText(st, 1),
                    colText(st, 2),
                    sqlite3_column_int64(st, 3),
                    sqlite3_column_int64(st, 4),
                    sqlite3_column_int64(st, 5)};
    } else if (rc != SQLITE_DONE) {
      sqlite3_reset(st);
      return sqlError(r->db(), "select session");
    }
    sqlite3_reset(st);
    return out;
  }

  Result<std::optional<ApiToken>> apiTokenByHash(const std::string& token_hash) override {
    auto all = selectTokens(" WHERE token_hash=?1",
                            [&](sqlite3_stmt* st) { bindValue(st, 1, token_hash); });
    if (!all) return all.status();
    std::optional<ApiToken> out;
    if (!all->empty()) out = (*all)[0];
    return out;
  }

  Result<std::optional<ApiToken>> apiToken(std::int64_t id) override {
    auto all =
        selectTokens(" WHERE id=?1", [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, id); });
    if (!all) return all.status();
    std::optional<ApiToken> out;
    if (!all->empty()) out = (*all)[0];
    return out;
  }

  Result<std::vector<ApiToken>> apiTokens(const std::optional<std::string>& user) override {
    if (user)
      return selectTokens(" WHERE user_name=?1",
                          [&](sqlite3_stmt* st) { bindValue(st, 1, *user); });
    return selectTokens("", [](sqlite3_stmt*) {});
  }

  Result<std::vector<AuditEntry>> auditEntries(std::int64_t limit, std::int64_t offset,
                                               std::int64_t* total) override {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare("SELECT COUNT(*) FROM audit_log");
    if (!st || sqlite3_step(st) != SQLITE_ROW) return sqlError(r->db(), "count audit");
    if (total) *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = r->prepare(
        "SELECT id, at, actor, action, target, before_json, after_json FROM audit_log "
        "ORDER BY id DESC LIMIT ? OFFSET ?");
    if (!st) return sqlError(r->db(), "select audit");
    sqlite3_bind_int64(st, 1, limit);
    sqlite3_bind_int64(st, 2, offset);
    return allRows<AuditEntry>(r->db(), st, "select audit", [](sqlite3_stmt* st) {
      return AuditEntry{sqlite3_column_int64(st, 0),
                        sqlite3_column_int64(st, 1),
                        colText(st, 2),
                        colText(st, 3),
                        colText(st, 4),
                        colText(st, 5),
                        colText(st, 6)};
    });
  }

 private:
  template <typename Bind>
  Result<std::vector<ApiToken>> selectTokens(const std::string& where, Bind bind) {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT id, name, user_name, token_hash, created_at, expires_at, last_used_at, revoked_at "
        "FROM api_tokens" +
        where + " ORDER BY id DESC");
    if (!st) return sqlError(r->db(), "select api tokens");
    bind(st);
    return allRows<ApiToken>(r->db(), st, "select api tokens", [](sqlite3_stmt* st) {
      ApiToken t;
      t.id = sqlite3_column_int64(st, 0);
      t.name = colText(st, 1);
      t.user = colText(st, 2);
      t.token_hash = colText(st, 3);
      t.created_at = sqlite3_column_int64(st, 4);
      t.expires_at = sqlite3_column_int64(st, 5);
      t.last_used_at = sqlite3_column_int64(st, 6);
      t.revoked_at = sqlite3_column_int64(st, 7);
      return t;
    });
  }

  Result<std::vector<Printer>> selectPrinters(const std::string& where, const std::string& arg) {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare(
        "SELECT name, uri, location, printer_group, info, capabilities, state, state_message, "
        "last_seen, updated_at FROM printers" +
        where + " ORDER BY name");
    if (!st) return sqlError(r->db(), "select printers");
    if (!where.empty()) bindValue(st, 1, arg);
    return allRows<Printer>(r->db(), st, "select printers", [](sqlite3_stmt* st) {
      Printer p;
      p.name = colText(st, 0);
      p.uri = colText(st, 1);
      p.location = colText(st, 2);
      p.group = colText(st, 3);
      p.info = colText(st, 4);
      p.capabilities_json = colText(st, 5);
      p.state = colText(st, 6);
      p.state_message = colText(st, 7);
      p.last_seen = sqlite3_column_int64(st, 8);
      p.updated_at = sqlite3_column_int64(st, 9);
      return p;
    });
  }

  Result<std::vector<Station>> selectStations(const std::string& where, const std::string& arg) {
    Reader r(*this);
    sqlite3_stmt* st = r->prepare("SELECT id, name, secret, created_at, revoked_at FROM stations" +
                                  where + " ORDER BY name");
    if (!st) return sqlError(r->db(), "select stations");
    if (!where.empty()) bindValue(st, 1, arg);
    auto rows = allRows<Station>(r->db(), st, "select stations", [](sqlite3_stmt* st) {
      Station s;
      s.id = sqlite3_column_int64(st, 0);
      s.name = colText(st, 1);
      s.secret = colText(st, 2);
      s.created_at = sqlite3_column_int64(st, 3);
      s.revoked_at = sqlite3_column_int64(st, 4);
      return s;
    });
    if (!rows) return rows.status();
    std::vector<Station>& out = *rows;
    sqlite3_stmt* pst =
        r->prepare("SELECT printer FROM station_printers WHERE station_id=? ORDER BY printer");
    if (!pst) return sqlError(r->db(), "select station printers");
    for (auto& s : out) {
      sqlite3_reset(pst);
      sqlite3_bind_int64(pst, 1, s.id);
      int rc;
      while ((rc = sqlite3_step(pst)) == SQLITE_ROW) s.printers.push_back(colText(pst, 0));
      if (rc != SQLITE_DONE) return sqlError(r->db(), "select station printers");
    }
    sqlite3_reset(pst);
    return std::move(out);
  }

  Result<std::vector<Card>> selectCards(const std::string& where, const std::string& arg) {
    Reader r(*this);
    sqlite3_stmt* st =
        r->prepare("SELECT uid, user_name, created_at, revoked_at, source FROM cards" + where +
                   " ORDER BY created_at, uid");
    if (!st) return sqlError(r->db(), "select cards");
    if (!where.empty()) bindValue(st, 1, arg);
    return allRows<Card>(r->db(), st, "select cards", [](sqlite3_stmt* st) {
      Card c;
      c.uid = colText(st, 0);
      c.user = colText(st, 1);
      c.created_at = sqlite3_column_int64(st, 2);
      c.revoked_at = sqlite3_column_int64(st, 3);
      c.source = colText(st, 4);
      return c;
    });
  }

  // Borrows a read connection for the scope; waits if all are in use.
  class Reader {
   public:
    explicit Reader(SqliteStore& s) : s_(s) {
      std::unique_lock lock(s_.pool_mu_);
      s_.pool_cv_.wait(lock, [&] { return !s_.free_readers_.empty(); });
      c_ = s_.free_readers_.back();
      s_.free_readers_.pop_back();
    }
    ~Reader() {
      {
        std::lock_guard lock(s_.pool_mu_);
        s_.free_readers_.push_back(c_);
      }
      s_.pool_cv_.notify_one();
    }
    Connection* operator->() { return c_; }

   private:
    SqliteStore& s_;
    Connection* c_;
  };

  static Result<std::unique_ptr<Connection>> openConnection(const std::string& path,
                                                            const SqliteOptions& options,
                                                            bool readonly) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return Status(StatusCode::kUnavailable, path + ": cannot open database: " + msg);
    }
    auto c = std::make_unique<Connection>(db);
    sqlite3_busy_timeout(db, 5000);
    if (!readonly) {
      if (Status s = c->exec("PRAGMA journal_mode=WAL"); !s) {
        // The first read of the file: where a damaged one shows.
        const int code = sqlite3_errcode(db);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
          return Status(StatusCode::kFailedPrecondition,
                        path + ": not a database, or a damaged one (" + s.message() +
                            "); restore the last backup (docs/operations.md, \"Restoring\")");
        return s;
      }
      if (Status s =
              c->exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
          !s)
        return s;
      if (Status s = c->exec("PRAGMA foreign_keys=ON"); !s) return s;
      // Deleted content is overwritten, not left in free pages: once the
      // document journal is emptied (or a job's details are cleared by
      // retention), its bytes are gone from the file, not merely unlinked.
      // Debian's SQLite is built with this on; said here so that it does not
      // depend on how the library was built.
      if (Status s = c->exec("PRAGMA secure_delete=ON"); !s) return s;
    }
    return c;
  }

  Status migrate() {
    sqlite3_stmt* st = writer_->prepare("PRAGMA user_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW) return sqlError(writer_->db(), "user_version");
    int version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    const int latest = static_cast<int>(std::size(kMigrations));
    if (version > latest)
      return {StatusCode::kFailedPrecondition,
              "database schema version " + std::to_string(version) +
                  " is newer than this pullprintd (" + std::to_string(latest) + ")"};
    for (int v = version; v < latest; ++v) {
      std::string sql = std::string("BEGIN;") + kMigrations[v] +
                        "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
      if (Status s = writer_->exec(sql.c_str()); !s) {
        (void)writer_->exec("ROLLBACK");
        return {StatusCode::kInternal, "migration " + std::to_string(v + 1) + ": " + s.message()};
      }
    }
    return Status::ok();
  }

  // Gives the WAL file its room before the first commit: zeros past its
  // end, written and synced. SQLite writes frames over them and never
  // shrinks the file (journal_size_limit stays -1); a zero frame is not a
  // valid one, so recovery stops at it as at any stale frame. Without it,
  // until the WAL first starts again from its beginning, every commit
  // makes the file longer, and its sync must also write the file's new
  // size and blocks (on a journalling file system, a journal commit too)
  // (docs/benchmarks.md, "The WAL's room given at start").
  //
  // Under SQLite's write lock: no other connection, in this process or
  // another (`pullprintd --add-user` beside a server), appends a frame
  // while the zeros go in.
  void reserveWal(int frames, Logger* log) {
    const char* wal = sqlite3_filename_wal(sqlite3_db_filename(writer_->db(), "main"));
    auto notice = [&](LogLevel level, const char* event, const std::string& detail) {
      if (log) log->log(level, event, {{"file", wal ? wal : ""}, {"detail", detail}});
    };
    sqlite3_stmt* st = writer_->prepare("PRAGMA page_size");
    const off_t page = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 4096;
    if (st) sqlite3_reset(st);
    if (Status s = writer_->exec("BEGIN IMMEDIATE"); !s) {
      notice(LogLevel::kWarn, "store.wal-reserve-failed", s.message());
      return;
    }
    const int fd = wal ? ::open(wal, O_WRONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
      notice(LogLevel::kWarn, "store.wal-reserve-failed", std::strerror(errno));
    } else {
      const off_t want = 32 + off_t{frames} * (page + 24);  // header + frames
      appendZeros(fd, want, notice);
      ::close(fd);
    }
    (void)writer_->exec("ROLLBACK");
  }

  template <typename Notice>
  static void appendZeros(int fd, off_t want, const Notice& notice) {
    struct stat sb {};
    if (::fstat(fd, &sb) != 0 || sb.st_size >= want) return;
    const off_t start = sb.st_size;
    struct statvfs vfs {};
    if (::fstatvfs(fd, &vfs) == 0 && static_cast<double>(vfs.f_bavail) * vfs.f_frsize <
                                         4.0 * static_cast<double>(want - start)) {
      notice(LogLevel::kInfo, "store.wal-reserve-skipped",
             std::to_string(want - start) + " bytes wanted, " +
                 std::to_string(static_cast<long long>(vfs.f_bavail * vfs.f_frsize)) +
                 " free: less than four times that");
      return;
    }
    static const char zeros[64 * 1024] = {};
    const char* failed = nullptr;
    int err = 0;
    for (off_t at = start; at < want && !failed;) {
      const size_t n = static_cast<size_t>(std::min<off_t>(sizeof zeros, want - at));
      const ssize_t w = ::pwrite(fd, zeros, n, at);
      if (w > 0) {
        at += w;
      } else if (w == 0 || errno != EINTR) {
        failed = "write";
        err = w == 0 ? ENOSPC : errno;
      }
    }
    if (!failed && ::fdatasync(fd) != 0) {
      failed = "sync";
      err = errno;
    }
    if (failed) {
      // Back to its length before: SQLite's frames are all below it.
      (void)!::ftruncate(fd, start);
      notice(LogLevel::kWarn, "store.wal-reserve-failed",
             std::string(failed) + ": " + std::strerror(err));
    }
  }

  // Frames left to copy at or below which the writer copies them itself,
  // before its next transaction (checkpointLoop).
  static constexpr int kFinishFrames = 64;

  // Runs on the writer's thread after each commit, with the WAL's size.
  static int walHook(void* self, sqlite3*, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (pages >= store->checkpoint_frames_) {
      {
        std::lock_guard lock(store->checkpoint_mu_);
        store->checkpoint_wanted_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpointLoop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        checkpoint_wanted_ = false;
      }
      if (finish_due_.load(std::memory_order_relaxed)) continue;  // the writer's turn
      // A failure (busy, I/O) only leaves the WAL longer; the next commit
      // past the threshold asks again, and closing the store checkpoints.
      int frames = 0, copied = 0;
      auto pass = [&] {
        if (sqlite3_wal_checkpoint_v2(checkpoint_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                      &frames, &copied) != SQLITE_OK)
          frames = copied = 0;
      };
      pass();
      // SQLite starts the WAL again from its beginning only at a
      // transaction that begins with every frame copied. Under a steady
      // stream of commits the next one has always begun before a
      // checkpoint beside it ends, and the WAL grows for as long as the
      // stream lasts (to 12,000 frames in a 2,000-job benchmark round). So:
      // a few more passes while they shrink what is left, then the writer
      // copies the rest itself before its next transaction
      // (finishCheckpointIfDue), once it is small or once the WAL has
      // reached its room (wal_limit_frames_).
      for (int i = 0; i < 4 && frames - copied > kFinishFrames; ++i) pass();
      if (frames >= checkpoint_frames_ &&
          (frames - copied <= kFinishFrames || frames >= wal_limit_frames_))
        finish_due_ = true;
    }
  }

  // On the writer's thread, under write_mu_, before a transaction: the
  // checkpoint's last frames (see checkpointLoop), so that the transaction
  // starts the WAL again from its beginning. Copying them holds this one
  // transaction back by about half a millisecond here.
  void finishCheckpointIfDue() {
    if (finish_due_.load(std::memory_order_relaxed) &&
        sqlite3_wal_checkpoint_v2(writer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr) != SQLITE_BUSY)  // busy: a pass still running
      finish_due_.store(false, std::memory_order_relaxed);
  }

  int checkpoint_frames_ = 4000;         // set at open, read by walHook
  int wal_limit_frames_ = 6000;          // set at open: the reserve, or 1.5 checkpoints
  std::atomic<bool> finish_due_{false};  // see checkpointLoop
  std::mutex write_mu_;                  // guards writer_ use
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex pool_mu_;  // guards free_readers_
  std::condition_variable pool_cv_;
  std::vector<Connection*> free_readers_;
  std::unique_ptr<Connection> checkpoint_conn_;  // used by checkpointer_ only
  std::mutex checkpoint_mu_;                     // guards the two flags below
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace

// Defaults for the station/card operations (other Store implementations).
namespace {
Status notImplemented() { return {StatusCode::kUnimplemented, "not supported by this store"}; }
}  // namespace
Status StoreWriter::removeJobDetails(UnixSeconds, std::int64_t, std::int64_t*) {
  return notImplemented();
}
Status StoreWriter::insertStation(const Station&) { return notImplemented(); }
Status StoreWriter::revokeStation(const std::string&, UnixSeconds) { return notImplemented(); }
Status StoreWriter::upsertCard(const Card&) { return notImplemented(); }
Status StoreWriter::revokeCard(const std::string&, UnixSeconds) { return notImplemented(); }
Status StoreWriter::insertCardRegistration(const CardRegistration&) { return notImplemented(); }
Status StoreWriter::deleteCardRegistrations(const std::string&) { return notImplemented(); }
Status StoreWriter::insertStationNonce(const std::string&, const std::string&, UnixSeconds,
                                       UnixSeconds) {
  return notImplemented();
}
Result<std::optional<Station>> Store::station(const std::string&) { return notImplemented(); }
Result<std::vector<Station>> Store::stations() { return notImplemented(); }
Result<std::optional<Card>> Store::card(const std::string&) { return notImplemented(); }
Result<std::vector<Card>> Store::cardsOfUser(const std::string&) { return notImplemented(); }
Result<std::vector<CardRegistration>> Store::pendingCardRegistrations(UnixSeconds) {
  return notImplemented();
}

Status StoreWriter::deletePrinter(const std::string&) { return notImplemented(); }
Status StoreWriter::insertSession(const Session&) { return notImplemented(); }
Status StoreWriter::touchSession(const std::string&, UnixSeconds) { return notImplemented(); }
Status StoreWriter::deleteSession(const std::string&) { return notImplemented(); }
Status StoreWriter::deleteSessionsOfUser(const std::string&) { return notImplemented(); }
Status StoreWriter::deleteExpiredSessions(UnixSeconds, UnixSeconds) { return notImplemented(); }
Status StoreWriter::insertApiToken(ApiToken*) { return notImplemented(); }
Status StoreWriter::touchApiToken(std::int64_t, UnixSeconds) { return notImplemented(); }
Status StoreWriter::revokeApiToken(std::int64_t, UnixSeconds) { return notImplemented(); }
Status StoreWriter::insertAudit(const AuditEntry&) { return notImplemented(); }
Result<std::vector<Card>> Store::allCards() { return notImplemented(); }
Result<JobPage> Store::jobPage(const JobQuery&) { return notImplemented(); }
Result<std::vector<std::pair<std::string, std::int64_t>>> Store::jobCountsByState() {
  return notImplemented();
}
Result<std::optional<Session>> Store::session(const std::string&) { return notImplemented(); }
Result<std::optional<ApiToken>> Store::apiTokenByHash(const std::string&) {
  return notImplemented();
}
Result<std::optional<ApiToken>> Store::apiToken(std::int64_t) { return notImplemented(); }
Result<std::vector<ApiToken>> Store::apiTokens(const std::optional<std::string>&) {
  return notImplemented();
}
Result<std::vector<AuditEntry>> Store::auditEntries(std::int64_t, std::int64_t, std::int64_t*) {
  return notImplemented();
}

const char* roleName(Role r) {
  switch (r) {
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
    case Role::kSustainability:
      return "sustainability";
  }
  return "user";
}

std::optional<Role> parseRole(std::string_view s) {
  if (s == "user") return Role::kUser;
  if (s == "admin") return Role::kAdmin;
  if (s == "sustainability") return Role::kSustainability;
  return std::nullopt;
}

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  if (Status s = store->open(path, options); !s) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pullprint
