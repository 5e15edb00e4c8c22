// FleetApi: the policy and fleet routes (admin only), in front of
// spooler::FleetService.
//
//   GET  /api/v1/policies                 the active policy: version, sha256, actor,
//                                         created_at, document, summary, printer_defaults
//   POST /api/v1/policies                 upload TOML (text/plain); replaces the active
//                                         policy at runtime. 201; 400 {"error","errors":[...]};
//                                         409 when the version does not increase
//   POST /api/v1/policies/validate        parse only: 200 {"valid":true,...} or
//                                         400 {"valid":false,"error","errors":[...]}
//   GET  /api/v1/policies/history?limit=N stored versions, newest first (no documents)
//   GET  /api/v1/policies/history?version=N one stored version with its document
//   POST /api/v1/fleet/push {"group"?}    push [printer_defaults]; 200 run with results
//   GET  /api/v1/fleet/pushes?limit=N     stored push runs with results, newest first
//   GET  /api/v1/fleet/drift              the last drift report (404 before the first)
//   POST /api/v1/fleet/check              read every printer now; 200 drift report
//
// The caller (Api::handle) has authenticated `user`; this checks the role.
//
// Thread contract: handle() blocks (printers, SQLite); call it from a worker
// pool. Safe to call concurrently.
#pragma once

#include <string_view>

#include "admin-api/api.h"
#include "spooler/fleet_service.h"

namespace pullprint::api {

class FleetApi {
 public:
  explicit FleetApi(spooler::FleetService& fleet) : fleet_(fleet) {}

  static bool serves(std::string_view path) {
    return path == "/api/v1/policies" || path.starts_with("/api/v1/policies/") ||
           path.starts_with("/api/v1/fleet/");
  }
  ApiResponse handle(const ApiRequest& request, const User& user) const;

  static constexpr std::size_t kMaxPolicyBytes = 1 << 20;

 private:
  spooler::FleetService& fleet_;
};

}  // namespace pullprint::api
