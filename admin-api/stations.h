// StationApi: release stations (pullprint-badge) and cards, under /api/v1.
//
// Routes
//   POST   /api/v1/stations                    admin     {"name","printers":[..]} -> 201, secret
//   shown once GET    /api/v1/stations                    admin     list (no secrets) POST
//   /api/v1/stations/{name}/revoke      admin     the station's requests are refused from now on
//   POST   /api/v1/stations/release            station   signed {"printer","card_uid"} ->
//   {"user","jobs","pages"} POST   /api/v1/cards                       admin     {"uid","user"}
//   (uid in any accepted form) GET    /api/v1/cards[?user=NAME]           admin; a user sees their
//   own cards DELETE /api/v1/cards/{uid}                 admin, or the card's owner (lost card)
//   POST   /api/v1/cards/{uid}/revoke          same as DELETE
//   POST   /api/v1/cards/import                admin     text/csv "uid,username[,format]"
//   POST   /api/v1/cards/register-intent       any user  {"printer"?}: the next unknown card tapped
//                                                        (at that printer) within the window is
//                                                        theirs
//
// A station request is accepted only when, in this order: all four
// X-Pullprint-* headers are present; the timestamp is within
// [stations].clock_skew_seconds of now; the station exists and is not
// revoked; the HMAC-SHA256 signature (core/wire/station_wire.h) matches;
// the nonce was not seen before (persisted replay cache, so a restart does
// not reopen the window); the printer is one of the station's. Each refusal
// is logged as `station.refused reason=...`. Unknown-card taps count as
// failed reads; more than [stations].failed_reads_per_minute per station in
// 60 s are refused with 429 before any lookup (card-number guessing).
//
// Design notes: the tap decision
//   card active                  -> release the owner's held jobs at the printer
//   card unknown/revoked, exactly one pending register-intent matching the
//   printer (or any printer)     -> card becomes that user's, then release
//   several intents match        -> 409, nothing associated (ambiguous)
//   none                         -> 404 "register it in the portal", a failed read
//
// Authentication of people (admin, user) is Api's (admin-api/auth.h): the
// user-facing routes receive the authenticated User through handleUser().
//
// Thread contract: handle() blocks (store, release engine); call it from the
// API worker pool. Safe to call concurrently; the rate limiter is locked.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "admin-api/api.h"
#include "admin-api/audit.h"
#include "core/authenticator.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/store.h"
#include "spooler/release_engine.h"

namespace pullprint::api {

class StationApi {
 public:
  StationApi(const Config& config, Store& store, spooler::ReleaseEngine& release,
             Authenticator& auth, const Clock& clock, Logger& log);
  StationApi(const StationApi&) = delete;
  StationApi& operator=(const StationApi&) = delete;

  // True for the paths this class answers (Api's route table sends them here).
  static bool serves(std::string_view path);
  // The signed station route (POST /api/v1/stations/release); no user.
  ApiResponse handle(const ApiRequest& request);
  // Every other route, for a user Api has authenticated.
  ApiResponse handleUser(const ApiRequest& request, const User& user);
  // Admin changes (stations, cards) are recorded here (owned by Api; may be null).
  void setAudit(AuditLog* audit) { audit_ = audit; }

 private:
  ApiResponse stationRelease(const ApiRequest& req);
  ApiResponse adminOrUser(const ApiRequest& req, const std::string& path, const User& user);
  void audit(const User& actor, const char* action, const std::string& target,
             const nlohmann::json& before, const nlohmann::json& after);

  // Failed card reads in the last 60 s for `station` (prunes old entries).
  std::int64_t failedReads(const std::string& station, UnixSeconds now);
  void countFailedRead(const std::string& station, UnixSeconds now);

  const Config& config_;
  Store& store_;
  spooler::ReleaseEngine& release_;
  Authenticator& auth_;
  const Clock& clock_;
  Logger& log_;
  AuditLog* audit_ = nullptr;

  std::mutex rate_mu_;  // guards failed_
  std::map<std::string, std::deque<UnixSeconds>> failed_;
};

}  // namespace pullprint::api
