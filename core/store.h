// Store: the durable job and user records, behind small repository
// interfaces so that a PostgreSQL backend can replace SQLite later.
//
// Writes happen only inside write(): one transaction, all or nothing.
// The spooler funnels its writes through one committer thread (group
// commit), so write() is called from one thread at a time in practice; it is
// nevertheless safe to call from any thread (serialised internally).
// Reads may run on any thread concurrently with writes (SQLite WAL: readers
// see the last committed transaction).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/log.h"
#include "core/status.h"

namespace pullprint {

enum class Role { kUser, kAdmin, kSustainability };
const char* roleName(Role r);
std::optional<Role> parseRole(std::string_view s);

struct User {
  std::int64_t id = 0;
  std::string name;
  std::string password_hash;  // see core/password.h; empty: no password login
  Role role = Role::kUser;
  std::string department;
  UnixSeconds created_at = 0;
};

// A state change, kept for audit and for reports (who released/cancelled what).
struct JobEvent {
  JobId job_id = 0;
  UnixSeconds at = 0;
  std::string from;  // state name, "" for creation
  std::string to;
  std::string reason;
  std::string actor;  // user name, "system", or a station id
};

// A printer jobs can be released to (the printer registry).
struct Printer {
  std::string name;  // [A-Za-z0-9_-]; what stations and users name
  std::string uri;   // ipp:// or ipps://
  std::string location;
  std::string group;  // building / printer group
  std::string info;
  std::string capabilities_json = "{}";  // from Get-Printer-Attributes (see release engine)
  std::string state = "unknown";         // idle | processing | stopped | unreachable | unknown
  std::string state_message;
  UnixSeconds last_seen = 0;  // last successful contact
  UnixSeconds updated_at = 0;
};

// What pullprint sends jobs to: an ipp:// or ipps:// URI (printers, queues'
// printer_uri, the API's printer records).
inline bool isIppUri(std::string_view uri) {
  return uri.starts_with("ipp://") || uri.starts_with("ipps://");
}

// What was printed: one row per completed job, read by reports.
struct UsageRecord {
  JobId job_id = 0;
  std::string user;
  std::string printer;
  std::string queue;
  UnixSeconds at = 0;
  std::optional<std::int64_t> pages;
  std::optional<std::int64_t> impressions;  // printed sides, all copies
  std::optional<std::int64_t> sheets;       // paper, all copies
  int copies = 1;
  bool two_sided = false;
  std::string color_mode;  // as sent to the printer
  std::string source;      // "printer" (reported) | "analysis" | "unknown"
};

// A release station (pullprint-badge instance). The secret is the HMAC key
// its requests are signed with; it is kept as-is because verification needs
// it (the database is 0600 in a 0700 state directory; see docs/badge-reader.md).
struct Station {
  std::int64_t id = 0;
  std::string name;  // [A-Za-z0-9_-]
  std::string secret;
  std::vector<std::string> printers;  // where it may release
  UnixSeconds created_at = 0;
  UnixSeconds revoked_at = 0;  // 0: active
};

// A card UID (canonical, see core/wire/station_wire.h) belonging to a user.
struct Card {
  std::string uid;
  std::string user;
  UnixSeconds created_at = 0;
  UnixSeconds revoked_at = 0;  // 0: active
  std::string source;          // "admin" | "import" | "self" (tap after register-intent)
};

// "Register my card": the next unknown card tapped (at `printer`, if set)
// before expires_at becomes `user`'s.
struct CardRegistration {
  std::int64_t id = 0;
  std::string user;
  std::string printer;  // "" = any station
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

// ---- REST API records (admin-api/auth.h, admin-api/audit.h) ----

// A browser session. Only the SHA-256 of the cookie value is stored; the
// CSRF token is kept as-is (it is worthless without the cookie).
struct Session {
  std::string id_hash;  // lowercase hex SHA-256 of the cookie value
  std::string user;
  std::string csrf_token;
  UnixSeconds created_at = 0;
  UnixSeconds last_seen = 0;
  UnixSeconds expires_at = 0;  // absolute end (login + lifetime)
};

// An API token for scripts (Authorization: Bearer). Only its SHA-256 is stored.
struct ApiToken {
  std::int64_t id = 0;
  std::string name;
  std::string user;
  std::string token_hash;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
  UnixSeconds last_used_at = 0;
  UnixSeconds revoked_at = 0;  // 0: active
};

// One admin change: who did what to which object, with the object before
// and after as JSON text ("null" when it did not exist / no longer exists).
struct AuditEntry {
  std::int64_t id = 0;
  UnixSeconds at = 0;
  std::string actor;
  std::string action;  // "printer.update", "user.delete", ...
  std::string target;
  std::string before_json = "null";
  std::string after_json = "null";
};

// Jobs list with filters and paging (GET /api/v1/jobs).
struct JobQuery {
  std::vector<JobState> states;  // empty: every state
  std::optional<std::string> owner;
  std::optional<std::string> queue;
  std::optional<std::string> printer;
  UnixSeconds created_from = 0;  // created_at >= (0: no bound)
  UnixSeconds created_to = 0;    // created_at < (0: no bound)
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};
struct JobPage {
  std::vector<Job> jobs;   // newest first
  std::int64_t total = 0;  // matching jobs, ignoring limit/offset
};

// A document's bytes kept in the journal (StoreWriter::journalDocument).
struct JournaledDocument {
  std::int64_t slot = 0;
  JobId job_id = 0;
  int number = 0;
  std::string data;
};

// Operations valid inside one write transaction.
class StoreWriter {
 public:
  virtual ~StoreWriter() = default;
  virtual Status insertJob(const Job& job) = 0;
  // A document of the job is stored: its totals and, after the last one, the
  // job's new state. Only these columns change (so only the indexes on
  // state are rewritten, not every index of the jobs table).
  virtual Status updateJobDocuments(JobId id, int document_count, std::int64_t size_bytes,
                                    const std::string& format, const std::string& sha256,
                                    bool last_document_received, JobState state,
                                    const std::string& state_reasons) = 0;
  // Changes only the state columns. `at` becomes processing_at when the job
  // starts processing and completed_at when it reaches a terminal state.
  virtual Status updateJobState(JobId id, JobState state, const std::string& reasons,
                                const std::string& message, UnixSeconds at) = 0;
  virtual Status insertDocument(const Document& doc) = 0;
  virtual Status insertEvent(const JobEvent& event) = 0;
  // The document journal (spooler/committer.h): a copy of a document's bytes
  // that commits with its rows, until its spool file is known to be synced.
  // It lives in numbered slots that the committer reuses once their files
  // are synced: writing a slot replaces whatever copy it held.
  virtual Status journalDocument(std::int64_t slot, JobId job, int number,
                                 std::string_view data) = 0;
  // Empties `slot` if it still holds that document's copy.
  virtual Status dropJournal(std::int64_t slot, JobId job, int number) = 0;
  // Empties every slot.
  virtual Status clearJournal() = 0;
  // Release bookkeeping: where the job went and under which printer job id.
  virtual Status setJobRelease(JobId id, const std::string& printer, std::int64_t printer_job_id,
                               int attempt, const std::string& released_by) = 0;
  virtual Status setJobCounts(JobId id, std::optional<std::int64_t> pages,
                              std::optional<std::int64_t> impressions_per_copy,
                              std::optional<std::int64_t> impressions_total,
                              std::optional<std::int64_t> sheets_total,
                              const std::string& confidence, const std::string& note) = 0;
  virtual Status setDocumentPages(JobId id, int number, std::optional<std::int64_t> pages) = 0;
  virtual Status upsertPrinter(const Printer& printer) = 0;
  virtual Status updatePrinterState(const std::string& name, const std::string& state,
                                    const std::string& message, UnixSeconds last_seen,
                                    UnixSeconds updated_at) = 0;
  virtual Status setPrinterCapabilities(const std::string& name, const std::string& json) = 0;
  virtual Status insertUsage(const UsageRecord& usage) = 0;
  virtual Status upsertUser(const User& user) = 0;
  virtual Status deleteUser(const std::string& name) = 0;

  // ---- stations and cards (card release). Defaults: kUnimplemented, so
  // other Store implementations need not provide them.
  // kAlreadyExists when the name is taken (revoked names stay taken).
  virtual Status insertStation(const Station& station);
  virtual Status revokeStation(const std::string& name, UnixSeconds at);
  // Adds or re-activates a card; kAlreadyExists when it is active for another user.
  virtual Status upsertCard(const Card& card);
  // kNotFound when there is no active card with that uid.
  virtual Status revokeCard(const std::string& uid, UnixSeconds at);
  virtual Status insertCardRegistration(const CardRegistration& registration);
  virtual Status deleteCardRegistrations(const std::string& user);
  // Replay cache: kAlreadyExists when (station, nonce) was seen before.
  // Rows with expires_at < now are deleted first.
  virtual Status insertStationNonce(const std::string& station, const std::string& nonce,
                                    UnixSeconds expires_at, UnixSeconds now);

  // ---- REST API (defaults: kUnimplemented) ----
  virtual Status deletePrinter(const std::string& name);  // kNotFound when absent
  virtual Status insertSession(const Session& session);
  virtual Status touchSession(const std::string& id_hash, UnixSeconds last_seen);
  virtual Status deleteSession(const std::string& id_hash);
  virtual Status deleteSessionsOfUser(const std::string& user);
  virtual Status deleteExpiredSessions(UnixSeconds now, UnixSeconds idle_seconds);
  // Fills token->id.
  virtual Status insertApiToken(ApiToken* token);
  virtual Status touchApiToken(std::int64_t id, UnixSeconds at);
  // kNotFound when there is no active token with that id.
  virtual Status revokeApiToken(std::int64_t id, UnixSeconds at);
  virtual Status insertAudit(const AuditEntry& entry);

  // ---- retention ([retention], docs/operations.md; default: kUnimplemented)
  // Blanks the personal details of up to `limit` jobs that ended before
  // `ended_before`: job name, source address and document names. Counts,
  // owner, printer and times stay (reports need them). *removed: how many
  // jobs changed; fewer than `limit` means none is left.
  virtual Status removeJobDetails(UnixSeconds ended_before, std::int64_t limit,
                                  std::int64_t* removed);
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in one transaction; commits when it returns ok, else rolls back.
  virtual Status write(const std::function<Status(StoreWriter&)>& fn) = 0;

  // Group commit: runs every op in one transaction, each inside its own
  // savepoint so one failing op does not undo the others. results[i] is op
  // i's outcome; if the final COMMIT fails, every result is that failure.
  virtual void writeBatch(const std::vector<std::function<Status(StoreWriter&)>>& ops,
                          std::vector<Status>* results) = 0;

  virtual Result<std::optional<Job>> job(JobId id) = 0;
  virtual Result<std::vector<Job>> jobs(const JobFilter& filter) = 0;
  virtual Result<std::vector<Document>> documents(JobId id) = 0;
  virtual Result<std::vector<JobEvent>> events(JobId id) = 0;
  virtual Result<JobId> maxJobId() = 0;
  // Every copy still in the journal, by slot (start-up recovery). A copy
  // whose file was synced may still be there until its slot is reused.
  virtual Result<std::vector<JournaledDocument>> journaledDocuments() = 0;
  // One document's journal copy, if it is still there (a scan: the slots have
  // no index, which would cost every journaled document a page).
  virtual Result<std::optional<JournaledDocument>> journaledDocument(JobId job, int number) = 0;
  // Jobs not in a terminal state, oldest first (start-up recovery).
  virtual Result<std::vector<Job>> activeJobs() = 0;

  // Held jobs whose hold expires at or before `now`, oldest first.
  virtual Result<std::vector<Job>> expiredHeldJobs(UnixSeconds now, std::int64_t limit) = 0;

  virtual Result<std::optional<Printer>> printer(const std::string& name) = 0;
  virtual Result<std::vector<Printer>> printers() = 0;
  virtual Result<std::vector<UsageRecord>> usage(JobId job_id) = 0;

  virtual Result<std::optional<User>> user(const std::string& name) = 0;
  virtual Result<std::vector<User>> users() = 0;

  // ---- stations and cards (defaults: kUnimplemented) ----
  virtual Result<std::optional<Station>> station(const std::string& name);
  virtual Result<std::vector<Station>> stations();
  // The card with this canonical uid, active or revoked.
  virtual Result<std::optional<Card>> card(const std::string& uid);
  virtual Result<std::vector<Card>> cardsOfUser(const std::string& user);
  // Registrations not yet expired at `now`, newest first.
  virtual Result<std::vector<CardRegistration>> pendingCardRegistrations(UnixSeconds now);
  // Every card, oldest first (CSV export).
  virtual Result<std::vector<Card>> allCards();

  // ---- REST API (defaults: kUnimplemented) ----
  virtual Result<JobPage> jobPage(const JobQuery& query);
  // Number of jobs per state name.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> jobCountsByState();
  virtual Result<std::optional<Session>> session(const std::string& id_hash);
  virtual Result<std::optional<ApiToken>> apiTokenByHash(const std::string& token_hash);
  virtual Result<std::optional<ApiToken>> apiToken(std::int64_t id);
  // Tokens of `user` (nullopt: everyone's), newest first.
  virtual Result<std::vector<ApiToken>> apiTokens(const std::optional<std::string>& user);
  // Newest first; *total is the number of entries.
  virtual Result<std::vector<AuditEntry>> auditEntries(std::int64_t limit, std::int64_t offset,
                                                       std::int64_t* total);
};

struct SqliteOptions {
  int read_connections = 4;
  // synchronous=FULL: a committed transaction survives power loss.
  bool durable = true;
  // A checkpoint (the WAL copied back into the database file, on a thread
  // of its own) once the WAL holds this many frames (pages): 16 MiB, four
  // times SQLite's own default. The same pages (the journal's slots, the
  // tables' and indexes' newest leaves) are rewritten by many transactions,
  // and a longer WAL lets a checkpoint copy each of them once for many
  // commits (docs/benchmarks.md, "The journal in reused slots": +9 %
  // jobs/s, less CPU per job).
  int checkpoint_frames = 4000;
  // Room given to the WAL file at open, in frames (written as zeros and
  // synced), when durable: a commit's sync then writes its frames only, not
  // the file's new size and blocks. 0: none. Skipped when the file system
  // has less than four times that free.
  int wal_reserve_frames = 0;
  // Where open's notices go (a reserve skipped or failed); none if null.
  Logger* log = nullptr;
};

// Opens (creating if needed) and migrates the SQLite store at `path`.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const SqliteOptions& options = {});

}  // namespace pullprint
