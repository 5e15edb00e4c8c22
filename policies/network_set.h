// NetworkSet: a `sources` scope compiled for evaluation (private to policies/).
//
// Why not CidrSet::contains() directly: it takes the client address as text
// and parses it (inet_pton, and a heap string for long IPv6 text) on every
// call; a policy with 40 lab-network rules would parse each job's address 40
// times. Here the address is parsed once per evaluation (parseIpAddress from
// core/cidr.h) and each network is a masked compare of 16 bytes.
// Semantics are CidrSet's, which also validates every network at parse time:
// IPv4 is held as IPv4-mapped IPv6, so "::ffff:10.1.2.3" matches 10.0.0.0/8;
// a network without "/N" is a single host.
//
// Thread contract: immutable after parse(); contains() is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace pullprint::policies::detail {

using IpBytes = std::array<unsigned char, 16>;

class NetworkSet {
 public:
  // Each element must pass CidrSet::parse; errors name the element.
  static Result<NetworkSet> parse(const std::vector<std::string>& networks);
  bool contains(const IpBytes& address) const;

 private:
  // Network and mask as two 64-bit words each (byte order irrelevant: both
  // sides are loaded the same way): a match is two AND-and-compare.
  struct Net {
    std::uint64_t net[2] = {0, 0};
    std::uint64_t mask[2] = {0, 0};
  };
  std::vector<Net> nets_;
};

}  // namespace pullprint::policies::detail
