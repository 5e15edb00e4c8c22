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
#include <vector>

#include "core/job.h"
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
  std::string from;   // state name, "" for creation
  std::string to;
  std::string reason;
  std::string actor;  // user name, "system", or a station id
};

// A printer jobs can be released to (the printer registry).
struct Printer {
  std::string name;            // [A-Za-z0-9_-]; what stations and users name
  std::string uri;             // ipp:// or ipps://
  std::string location;
  std::string group;           // building / printer group
  std::string info;
  std::string capabilities_json = "{}";  // from Get-Printer-Attributes (see release engine)
  std::string state = "unknown";  // idle | processing | stopped | unreachable | unknown
  std::string state_message;
  UnixSeconds last_seen = 0;   // last successful contact
  UnixSeconds updated_at = 0;
};

// What was printed: one row per completed job, read by reports.
struct UsageRecord {
  JobId job_id = 0;
  std::string user;
  std::string printer;
  std::string queue;
  UnixSeconds at = 0;
  std::optional<std::int64_t> pages;
  std::optional<std::int64_t> impressions;   // printed sides, all copies
  std::optional<std::int64_t> sheets;        // paper, all copies
  int copies = 1;
  bool two_sided = false;
  std::string color_mode;                    // as sent to the printer
  std::string source;                        // "printer" (reported) | "analysis" | "unknown"
};

// Operations valid inside one write transaction.
class StoreWriter {
 public:
  virtual ~StoreWriter() = default;
  virtual Status insertJob(const Job& job) = 0;
  virtual Status updateJob(const Job& job) = 0;
  // Changes only the state columns. `at` becomes processing_at when the job
  // starts processing and completed_at when it reaches a terminal state.
  virtual Status updateJobState(JobId id, JobState state, const std::string& reasons,
                                const std::string& message, UnixSeconds at) = 0;
  virtual Status insertDocument(const Document& doc) = 0;
  virtual Status insertEvent(const JobEvent& event) = 0;
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
  // Jobs not in a terminal state, oldest first (start-up recovery).
  virtual Result<std::vector<Job>> activeJobs() = 0;

  // Held jobs whose hold expires at or before `now`, oldest first.
  virtual Result<std::vector<Job>> expiredHeldJobs(UnixSeconds now, std::int64_t limit) = 0;

  virtual Result<std::optional<Printer>> printer(const std::string& name) = 0;
  virtual Result<std::vector<Printer>> printers() = 0;
  virtual Result<std::vector<UsageRecord>> usage(JobId job_id) = 0;

  virtual Result<std::optional<User>> user(const std::string& name) = 0;
  virtual Result<std::vector<User>> users() = 0;
};

struct SqliteOptions {
  int read_connections = 4;
  // synchronous=FULL: a committed transaction survives power loss.
  bool durable = true;
};

// Opens (creating if needed) and migrates the SQLite store at `path`.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const SqliteOptions& options = {});

}  // namespace pullprint
