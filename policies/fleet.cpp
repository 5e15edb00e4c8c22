#include "policies/fleet.h"

#include <algorithm>

namespace pullprint::policies {

namespace {

bool complies(const PrinterDefault& d, const ObservedDefaults& observed) {
  auto it = observed.find(d.name);
  return it != observed.end() && it->second.size() == 1 && it->second.front() == d.value;
}

}  // namespace

std::vector<DefaultDifference> compareDefaults(const std::vector<PrinterDefault>& wanted,
                                               const ObservedDefaults& observed) {
  std::vector<DefaultDifference> out;
  for (const PrinterDefault& d : wanted) {
    if (complies(d, observed)) continue;
    DefaultDifference diff{d.name, d.value, {}};
    if (auto it = observed.find(d.name); it != observed.end()) diff.actual = it->second;
    out.push_back(std::move(diff));
  }
  return out;
}

const char* transportName(Transport t) { return t == Transport::kIpp ? "ipp" : "cups"; }

std::vector<PlannedSetting> planPush(const std::vector<PrinterDefault>& wanted, Transport transport,
                                     const std::set<std::string>& settable,
                                     const SupportedValues& supported,
                                     const ObservedDefaults& observed) {
  std::vector<PlannedSetting> out;
  for (const PrinterDefault& d : wanted) {
    PlannedSetting p;
    p.setting = &d;
    p.already = complies(d, observed);
    auto sup = supported.find(d.option());
    if (transport == Transport::kIpp) {
      p.send = settable.count(d.name) > 0;
      if (!p.send) p.reason = d.name + " is not in the printer's printer-settable-attributes";
    } else {
      p.send = sup != supported.end() || observed.count(d.name) > 0;
      if (!p.send)
        p.reason = "the queue reports neither " + d.option() + "-supported nor " + d.name;
    }
    if (p.send && d.kind == PrinterDefault::Kind::kKeyword && sup != supported.end() &&
        !sup->second.empty() &&
        std::find(sup->second.begin(), sup->second.end(), d.value) == sup->second.end()) {
      p.send = false;
      p.reason = "the printer does not support " + d.value + " (" + d.option() + "-supported:";
      for (const auto& v : sup->second) p.reason += " " + v;
      p.reason += ")";
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace pullprint::policies
