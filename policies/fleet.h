// Fleet settings, the pure part: what a printer's defaults should be (the
// policy's [printer_defaults]) compared with what it reports, and which
// settings a printer lets us change. No I/O: the spooler's FleetService
// (spooler/fleet_service.h) reads printers and pushes; this decides.
//
// Values are compared in their IPP text form (keywords, enum keywords such as
// "draft", integers in decimal, "true"/"false"). A printer that reports
// several values for a single-valued default (cupsd after
// `lpadmin -o sides-default=...` on a PPD queue) does not comply.
//
// Thread contract: pure functions, reentrant.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace pullprint::policies {

// xxx-default -> the values the printer reported (absent: not reported).
using ObservedDefaults = std::map<std::string, std::vector<std::string>>;
// X -> the keyword / enum values of X-supported ("sides" -> one-sided, ...);
// an empty list when X-supported is reported with other value types (ranges...).
using SupportedValues = std::map<std::string, std::vector<std::string>>;

struct DefaultDifference {
  std::string name;                 // "sides-default"
  std::string expected;             // from the policy
  std::vector<std::string> actual;  // as reported; empty = the printer does not report it
};

// Every policy default the printer does not have, in policy order.
std::vector<DefaultDifference> compareDefaults(const std::vector<PrinterDefault>& wanted,
                                               const ObservedDefaults& observed);

// How a setting reaches a printer.
enum class Transport { kIpp, kCups };
const char* transportName(Transport t);  // "ipp" | "cups"

// Per setting: send it, or why not.
struct PlannedSetting {
  const PrinterDefault* setting = nullptr;
  bool send = false;
  bool already = false;  // the printer has it already (sent anyway: idempotent)
  std::string reason;    // when !send: why it is unsupported
};

// IPP printers: only attributes listed in printer-settable-attributes(-supported)
// are sent. CUPS queues: every default whose job-template attribute the
// queue lists as supported (xxx-supported), or that it reports a default for.
// Both: a keyword the printer does not list in xxx-supported (two-sided on a
// simplex printer) is unsupported, not sent.
std::vector<PlannedSetting> planPush(const std::vector<PrinterDefault>& wanted, Transport transport,
                                     const std::set<std::string>& settable,
                                     const SupportedValues& supported,
                                     const ObservedDefaults& observed);

}  // namespace pullprint::policies
