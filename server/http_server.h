// HttpServer: the one listener (Boost.Beast) for IPP, and later the REST
// API and web pages, like cupsd on port 631.
//
// Each connection is a session on its own strand: read the request header,
// answer `Expect: 100-continue`, then stream the body in fixed-size chunks
// (memory stays bounded whatever the upload size), with keep-alive and
// chunked transfer handled by Beast's parser. When TLS is configured the
// same port speaks both: the first bytes decide (ipp:// and ipps://).
//
// Limits: idle/stalled-body timeout per read, a cap on concurrent
// connections, a cap on header size, IPP attribute size (IppService).
//
// Routes:
//   POST /printers/<queue>, /ipp/print, /jobs/<id>, /   application/ipp -> IppService
//   GET/POST/PUT/DELETE /api/v1/..., GET /metrics         admin-api, run on a worker pool
//   GET  /healthz                                        liveness
//   GET  /                                               a short status page
//
// Shutdown: stop() drops everything at once; drain() (SIGTERM, see
// server/main.cpp and [server] shutdown_grace_seconds) lets requests in
// progress finish first, so an upload under way when a service manager
// restarts the server becomes a held job instead of an aborted one.
//
// Thread contract: start() from the owning thread; stop() and drain() from
// it or an io thread; sessions run on the io_context's threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "admin-api/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "spooler/ipp_service.h"

namespace pullprint::server {

class HttpServer {
 public:
  // `tls` may be null: plain HTTP only. `api` may be null: no /api routes.
  HttpServer(boost::asio::io_context& io, const Config& config, spooler::IppService& ipp,
             Logger& log, std::shared_ptr<boost::asio::ssl::context> tls, api::Api* api = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Port 0 picks a free port (see port()).
  Status start(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  // Stops at once: no new connections, the API pool stopped. Connections
  // still open are left to the io_context's owner (stopping it drops them).
  void stop();
  // Graceful stop: no new connections; connections waiting for a request are
  // closed now; the others are served to the end of their request (an upload
  // included), answered with `Connection: close`, then closed. `done` runs
  // once, on an io thread, when no connection is left (argument 0) or when
  // `grace` has passed (argument: connections still open). Call once.
  void drain(std::chrono::milliseconds grace, std::function<void(int open_left)> done);
  int connections() const;
  // Connections accepted from now on use `tls` (a renewed certificate);
  // those already open keep theirs. False, and nothing changes, when the
  // server was started without TLS or `tls` is null. Thread-safe.
  bool setTlsContext(std::shared_ptr<boost::asio::ssl::context> tls);
  // IPP request latency goes into `metrics` (call before start(); may be null).
  void setMetrics(Metrics* metrics);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// What a TLS context serves, for the logs.
struct TlsCertificateInfo {
  std::string subject;              // e.g. "/CN=print.example.org"
  std::string not_after;            // expiry, UTC, e.g. "2027-02-20T12:00:00Z"
  std::int64_t days_left = 0;       // whole days until then; negative once expired
  std::int64_t not_after_unix = 0;  // the same expiry, Unix seconds
};
TlsCertificateInfo describeTlsCertificate(boost::asio::ssl::context& ctx);

// Loads certificate and key into a TLS context for the server; fails when
// either file cannot be read or the key does not match the certificate.
Result<std::unique_ptr<boost::asio::ssl::context>> makeTlsContext(const std::string& cert_file,
                                                                  const std::string& key_file);

}  // namespace pullprint::server
