// Small libcups helpers shared by the clients that talk to printers
// (PrinterClient for release, FleetClient for the fleet push): owning
// pointers for http_t and ipp_t, a printer URI split into where to connect,
// and one connection with a deadline.
//
// Thread contract: free functions, no shared state.
#pragma once

#include <cups/cups.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"

namespace pullprint::spooler {

struct HttpCloser {
  void operator()(http_t* h) const { httpClose(h); }
};
using HttpPtr = std::unique_ptr<http_t, HttpCloser>;

struct IppDeleter {
  void operator()(ipp_t* i) const { ippDelete(i); }
};
using IppPtr = std::unique_ptr<ipp_t, IppDeleter>;

// Where an ipp:// or ipps:// printer URI points.
struct IppTarget {
  std::string host;
  int port = 631;
  std::string resource;  // e.g. "/ipp/print", "/printers/NAME"
  bool tls = false;      // ipps://
};

// kInvalidArgument for anything but a well-formed ipp:// or ipps:// URI.
Result<IppTarget> parsePrinterUri(const std::string& uri);

// Connects (TLS for ipps://) within `timeout` and sets it as the I/O timeout
// of every later request on the connection. kUnavailable: "printer
// HOST:PORT unreachable: <libcups' reason>".
Result<HttpPtr> connectPrinter(const IppTarget& target, std::chrono::milliseconds timeout);

}  // namespace pullprint::spooler
