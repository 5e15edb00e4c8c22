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
