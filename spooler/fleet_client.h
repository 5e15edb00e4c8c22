// FleetClient: reads and sets printer defaults over IPP (libcups), for the
// fleet push and drift checks (spooler/fleet_service.h).
//
// Two transports:
//  - IPP printers: Set-Printer-Attributes (RFC 3380) with the xxx-default
//    attributes in the printer group, only for attributes the printer lists
//    in printer-settable-attributes-supported (PAPPL 1.3 calls it
//    printer-settable-attributes; both are read).
//  - Queues of a CUPS server: what `lpadmin -p Q -o sides=two-sided-long-edge`
//    does (CUPS systemv/lpadmin.c set_printer_options): fetch the queue's PPD,
//    mark the options with cupsMarkOptions (which maps IPP sides /
//    print-color-mode / media to PPD choices), rewrite the *Default lines
//    whose choice changed, and send CUPS-Add-Modify-Printer to /admin/ with
//    the new PPD as the document. cupsd answers Set-Printer-Attributes with
//    success and changes nothing, and `-o sides-default=...` leaves jobs
//    one-sided (DESIGN.md), so neither is used. A queue without a PPD (raw)
//    gets the xxx-default attributes in the CUPS-Add-Modify-Printer request.
//
// A printer is a CUPS queue when its Get-Printer-Attributes answer has the
// CUPS-only attribute printer-type and its URI path starts with /printers/
// (docs/policies.md "Fleet push and drift").
//
// Every call opens its own connection with the timeout; an unreachable
// printer costs at most that long. Errors: kUnavailable = unreachable (could
// not connect, or the connection broke); kFailedPrecondition = the printer
// answered and refused (message has the IPP status and status-message).
//
// Thread contract: stateless; safe from any thread (libcups keeps its
// last-error state per thread).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "policies/fleet.h"

namespace pullprint::spooler {

struct PrinterDefaultsReading {
  bool cups_queue = false;
  std::set<std::string> settable;         // printer-settable-attributes(-supported)
  policies::SupportedValues supported;    // X -> keyword/enum values of X-supported
  policies::ObservedDefaults defaults;    // every xxx-default reported, as text
  std::map<std::string, int> value_tags;  // xxx-default -> ipp_tag_t of its value
};

class FleetClient {
 public:
  explicit FleetClient(std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : timeout_(timeout) {}

  // Get-Printer-Attributes of everything a push or drift check needs.
  Result<PrinterDefaultsReading> read(const std::string& uri) const;

  // Set-Printer-Attributes with `settings` (values typed after the printer's
  // own xxx-default value tags in `reading`).
  Status setIpp(const std::string& uri,
                const std::vector<const policies::PrinterDefault*>& settings,
                const PrinterDefaultsReading& reading) const;

  // CUPS-Add-Modify-Printer the way lpadmin -o option=value does it.
  Status setCups(const std::string& uri,
                 const std::vector<const policies::PrinterDefault*>& settings) const;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace pullprint::spooler
