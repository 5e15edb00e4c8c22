#include "core/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace pullprint {

bool parseIpAddress(std::string_view text, std::array<unsigned char, 16>* out, bool* is_v4) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);  // zone id
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out->fill(0);
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, v4, 4);
    *is_v4 = true;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out->data()) == 1) {
    *is_v4 = false;
    return true;
  }
  return false;
}

Result<CidrSet> CidrSet::parse(const std::vector<std::string>& networks) {
  CidrSet set;
  for (const auto& n : networks) {
    std::string_view text = n;
    int prefix = -1;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      auto p = text.substr(slash + 1);
      auto r = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (r.ec != std::errc() || r.ptr != p.data() + p.size())
        return Status(StatusCode::kInvalidArgument, "bad network prefix in '" + n + "'");
      text = text.substr(0, slash);
    }
    Net net;
    bool v4 = false;
    if (!parseIpAddress(text, &net.bytes, &v4))
      return Status(StatusCode::kInvalidArgument, "bad network address '" + n + "'");
    int max = v4 ? 32 : 128;
    if (prefix < 0) prefix = max;
    if (prefix > max)
      return Status(StatusCode::kInvalidArgument, "network prefix too long in '" + n + "'");
    net.prefix = v4 ? prefix + 96 : prefix;
    set.nets_.push_back(net);
  }
  return set;
}

bool CidrSet::contains(std::string_view address) const {
  std::array<unsigned char, 16> a{};
  bool v4 = false;
  if (!parseIpAddress(address, &a, &v4)) return false;
  for (const auto& n : nets_) {
    int full = n.prefix / 8, rem = n.prefix % 8;
    if (std::memcmp(a.data(), n.bytes.data(), static_cast<size_t>(full)) != 0) continue;
    if (rem) {
      unsigned char mask = static_cast<unsigned char>(0xff << (8 - rem));
      if ((a[static_cast<size_t>(full)] & mask) != (n.bytes[static_cast<size_t>(full)] & mask))
        continue;
    }
    return true;
  }
  return false;
}

bool isLoopbackAddress(std::string_view address) {
  static const CidrSet loopback = *CidrSet::parse({"127.0.0.0/8", "::1/128"});
  return loopback.contains(address);
}

}  // namespace pullprint
