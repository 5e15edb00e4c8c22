// AuditLog: every admin change, with actor, time, action, target and the
// object before and after as JSON (audit_log table, migration 4).
//
// Actions are "<object>.<verb>": printer.create, printer.update,
// printer.delete, printer.refresh, user.create, user.update, user.delete,
// users.import, card.save, card.revoke, cards.import, station.create,
// station.revoke, token.create, token.revoke, job.cancel, job.release,
// jobs.release, jobs.expire. Secrets (passwords, hashes, tokens, station
// secrets) never appear in before/after.
//
// A failed audit write is logged (audit.write-failed) and returned; the
// change it describes has already happened by then, so callers report the
// change's result and rely on the log line for the gap.
//
// Thread contract: thread-safe (the store serialises writes).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/clock.h"
#include "core/log.h"
#include "core/store.h"

namespace pullprint::api {

class AuditLog {
 public:
  AuditLog(Store& store, const Clock& clock, Logger& log)
      : store_(store), clock_(clock), log_(log) {}

  Status record(const std::string& actor, const std::string& action, const std::string& target,
                const nlohmann::json& before, const nlohmann::json& after);

  // The entry record() would write, for use inside a caller's own transaction.
  AuditEntry entry(const std::string& actor, const std::string& action, const std::string& target,
                   const nlohmann::json& before, const nlohmann::json& after) const;

 private:
  Store& store_;
  const Clock& clock_;
  Logger& log_;
};

nlohmann::json auditJson(const AuditEntry& e);

}  // namespace pullprint::api
