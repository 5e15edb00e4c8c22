#include "admin-api/audit.h"

namespace pullprint::api {

using nlohmann::json;

AuditEntry AuditLog::entry(const std::string& actor, const std::string& action,
                           const std::string& target, const json& before, const json& after) const {
  AuditEntry e;
  e.at = clock_.now();
  e.actor = actor;
  e.action = action;
  e.target = target;
  e.before_json = before.dump();
  e.after_json = after.dump();
  return e;
}

Status AuditLog::record(const std::string& actor, const std::string& action,
                        const std::string& target, const json& before, const json& after) {
  AuditEntry e = entry(actor, action, target, before, after);
  Status s = store_.write([&](StoreWriter& w) { return w.insertAudit(e); });
  if (!s)
    log_.error("audit.write-failed",
               {{"actor", actor}, {"action", action}, {"target", target}, {"error", s.message()}});
  else
    log_.info("audit", {{"actor", actor}, {"action", action}, {"target", target}});
  return s;
}

json auditJson(const AuditEntry& e) {
  auto parse = [](const std::string& text) {
    json j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(text) : j;
  };
  return {{"id", e.id},
          {"at", e.at},
          {"actor", e.actor},
          {"action", e.action},
          {"target", e.target},
          {"before", parse(e.before_json)},
          {"after", parse(e.after_json)}};
}

}  // namespace pullprint::api
