// FleetRepository: the durable records of policies and fleet settings
// (migration 5): every accepted policy document with its version, SHA-256,
// actor and time; fleet push runs with one result row per printer; drift
// check reports.
//
// The SQLite implementation opens its own read-write connection on the
// database that openSqliteStore() created and migrated (open the Store
// first). These tables are written by nobody else, so the connection never
// contends with the Store's committer beyond SQLite's WAL writer lock (it
// waits up to 5 s for it).
//
// Thread contract: safe to call from any thread (one internal mutex guards
// the connection). Calls block (SQLite).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/status.h"

namespace pullprint {

struct PolicyVersion {
  std::int64_t version = 0;
  std::string sha256;  // hex, of `document`
  std::string actor;   // user name, or "config-file"
  std::string source;  // file name or "api"
  UnixSeconds created_at = 0;
  std::string document;  // the TOML text as accepted
};

// One printer's result in a push run (settings: JSON array, see FleetService).
struct PushResultRow {
  std::string printer;
  std::string transport;  // "ipp" | "cups" | "" (never reached)
  std::string status;     // ok | partial | unsupported | unreachable | refused
  std::string message;
  int attempts = 0;
  std::int64_t duration_ms = 0;
  std::string settings_json = "[]";
};

struct PushRunRow {
  std::int64_t id = 0;
  UnixSeconds started_at = 0;
  UnixSeconds finished_at = 0;
  std::string actor;
  std::string trigger;  // "api" | "drift"
  std::optional<std::string> group;
  std::int64_t policy_version = 0;
  int printers = 0, ok = 0, failed = 0;
  std::vector<PushResultRow> results;
};

struct DriftCheckRow {
  std::int64_t id = 0;
  UnixSeconds checked_at = 0;
  std::string actor;  // user name or "schedule"
  std::int64_t policy_version = 0;
  int compliant = 0, drifted = 0, unreachable = 0;
  std::string report_json;
};

class FleetRepository {
 public:
  virtual ~FleetRepository() = default;
  // kAlreadyExists when that version was stored before.
  virtual Status insertPolicyVersion(const PolicyVersion& v) = 0;
  // Newest first, without documents when !with_documents.
  virtual Result<std::vector<PolicyVersion>> policyVersions(int limit, bool with_documents) = 0;
  virtual Result<std::optional<PolicyVersion>> policyVersion(std::int64_t version) = 0;
  virtual Result<std::optional<PolicyVersion>> latestPolicyVersion() = 0;
  // Stores the run and its results in one transaction; returns the run id.
  virtual Result<std::int64_t> insertPushRun(const PushRunRow& run) = 0;
  // Newest first, with results.
  virtual Result<std::vector<PushRunRow>> pushRuns(int limit) = 0;
  virtual Result<std::int64_t> insertDriftCheck(const DriftCheckRow& check) = 0;
  virtual Result<std::optional<DriftCheckRow>> latestDriftCheck() = 0;
};

Result<std::unique_ptr<FleetRepository>> openSqliteFleetRepository(const std::string& path);

}  // namespace pullprint
