// CidrSet: "is this client address one of our trusted sources?"
//
// Parses IPv4 and IPv6 networks in CIDR form ("127.0.0.0/8", "::1/128",
// "10.1.2.3" = a single host). An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// matches the IPv4 networks, so a dual-stack listener behaves the same.
//
// Thread contract: immutable after construction; contains() is thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pullprint {

class CidrSet {
 public:
  CidrSet() = default;
  static Result<CidrSet> parse(const std::vector<std::string>& networks);

  // `address` in text form, as printed by inet_ntop / asio.
  bool contains(std::string_view address) const;

 private:
  struct Net {
    std::array<unsigned char, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6
    int prefix = 128;
  };
  std::vector<Net> nets_;
};

// Parses an address to 16 bytes (IPv4 mapped into ::ffff:0:0/96).
bool parseIpAddress(std::string_view text, std::array<unsigned char, 16>* out, bool* is_v4);
bool isLoopbackAddress(std::string_view address);

}  // namespace pullprint
