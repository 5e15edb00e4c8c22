#include "spooler/ipp_connection.h"

#include <cstring>

namespace pullprint::spooler {

Result<IppTarget> parsePrinterUri(const std::string& uri) {
  char scheme[32], userpass[256], host[256], resource[1024];
  int port = 0;
  if (httpSeparateURI(HTTP_URI_CODING_ALL, uri.c_str(), scheme, sizeof scheme, userpass,
                      sizeof userpass, host, sizeof host, &port, resource,
                      sizeof resource) < HTTP_URI_STATUS_OK)
    return Status(StatusCode::kInvalidArgument, "bad printer URI '" + uri + "'");
  IppTarget t;
  t.host = host;
  t.port = port;
  t.resource = resource;
  t.tls = std::strcmp(scheme, "ipps") == 0;
  if (std::strcmp(scheme, "ipp") != 0 && !t.tls)
    return Status(StatusCode::kInvalidArgument, "printer URI must be ipp:// or ipps://");
  return t;
}

Result<HttpPtr> connectPrinter(const IppTarget& t, std::chrono::milliseconds timeout) {
  http_t* h = httpConnect2(t.host.c_str(), t.port, nullptr, AF_UNSPEC,
                           t.tls ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED, 1,
                           static_cast<int>(timeout.count()), nullptr);
  if (!h)
    return Status(StatusCode::kUnavailable, "printer " + t.host + ":" + std::to_string(t.port) +
                                                " unreachable: " + cupsLastErrorString());
  httpSetTimeout(h, static_cast<double>(timeout.count()) / 1000.0, nullptr, nullptr);
  return HttpPtr(h);
}

}  // namespace pullprint::spooler
