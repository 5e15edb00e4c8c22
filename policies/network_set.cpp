#include "policies/network_set.h"

#include <charconv>
#include <cstring>

#include "core/cidr.h"

namespace pullprint::policies::detail {

Result<NetworkSet> NetworkSet::parse(const std::vector<std::string>& networks) {
  NetworkSet set;
  for (const auto& n : networks) {
    // CidrSet is the reference for what a valid network is.
    auto check = CidrSet::parse({n});
    if (!check) return check.status();
    std::string_view text = n;
    int prefix = -1;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      auto p = text.substr(slash + 1);
      std::from_chars(p.data(), p.data() + p.size(), prefix);
      text = text.substr(0, slash);
    }
    IpBytes bytes{};
    bool v4 = false;
    if (!parseIpAddress(text, &bytes, &v4))
      return Status(StatusCode::kInvalidArgument, "bad network address '" + n + "'");
    if (prefix < 0) prefix = v4 ? 32 : 128;
    if (v4) prefix += 96;  // IPv4 is held as IPv4-mapped IPv6
    IpBytes mask{};
    for (int bit = 0; bit < prefix; ++bit)
      mask[static_cast<std::size_t>(bit / 8)] |= static_cast<unsigned char>(0x80 >> (bit % 8));
    Net net;
    std::memcpy(net.mask, mask.data(), 16);
    std::memcpy(net.net, bytes.data(), 16);
    net.net[0] &= net.mask[0];
    net.net[1] &= net.mask[1];
    set.nets_.push_back(net);
  }
  return set;
}

bool NetworkSet::contains(const IpBytes& address) const {
  std::uint64_t a[2];
  std::memcpy(a, address.data(), 16);
  for (const auto& n : nets_)
    if ((a[0] & n.mask[0]) == n.net[0] && (a[1] & n.mask[1]) == n.net[1]) return true;
  return false;
}

}  // namespace pullprint::policies::detail
