// ReleaseClient: sends one signed release request to pullprintd.
//
// POST /api/v1/stations/release {"printer","card_uid"} over HTTP or HTTPS
// (Boost.Beast, OpenSSL; certificate and host name checked unless
// `insecure`), signed as core/wire/station_wire.h describes, with a fresh
// nonce and the current time. One connection per request; every step has
// the configured deadline.
//
// Thread contract: one call at a time per object.
#pragma once

#include <string>

#include "badge-reader/agent_config.h"

namespace pullprint::badge {

struct ReleaseReply {
  int status = 0;     // HTTP status; 0: no answer (see error)
  std::string body;   // JSON from the server
  std::string error;  // transport failure
};

class ReleaseClient {
 public:
  explicit ReleaseClient(const AgentConfig& config) : config_(config) {}
  ReleaseReply release(const std::string& printer, const std::string& card_uid);

 private:
  const AgentConfig& config_;
};

// The one line a person at the station reads, from the server's answer.
std::string tapLine(const ReleaseReply& reply, const std::string& printer, const std::string& uid);

}  // namespace pullprint::badge
