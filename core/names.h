// Names of printers, queues and release stations: one rule wherever they are
// accepted (the config file, the admin API, station registration, the badge
// agent's config). They appear in IPP URIs (/printers/NAME), REST paths and
// logs, so only A-Z a-z 0-9 _ - are allowed, which also keeps them from ever
// being a path. Header-only, so the badge agent links nothing more for it.
#pragma once

#include <cstddef>
#include <string_view>

namespace pullprint {

inline constexpr std::size_t kMaxPrinterName = 127;  // printers and queues
inline constexpr std::size_t kMaxStationName = 64;   // release stations

// 1..max_length characters, each of A-Z a-z 0-9 _ -.
inline bool isSafeName(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace pullprint
