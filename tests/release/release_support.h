// Helpers for the release-engine tests (tests/release/) and benchmark
// (bench/release/): run the real pullprintd, talk to its JSON API and its IPP
// endpoint, hash files.
//
// ReleaseServer runs the real `pullprintd` binary through tests/support's
// Pullprintd (127.0.0.1:<picked port>, private state directory, stopped by
// PID, dies with the test) with a generated config file. It can be SIGKILLed
// and restarted on the same state directory and port.
//
// The API client sends one request per connection (Connection: close) over
// tests/support's RawConn (deadline on every read). IPP requests to
// pullprintd use libcups (cupsDoFileRequest / cupsDoRequest) on a connection
// of their own.
//
// Thread contract: a ReleaseServer is used from one thread at a time; the
// free functions are reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/pullprintd.h"
#include "tests/support/sha256.h"
#include "tests/support/temp_dir.h"

namespace pullprint::rtest {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------
// pullprintd

struct ReleaseServerOptions {
  // TOML appended after the generated [server] table (printers, queues, ...).
  std::string toml;
  // Extra lines for [server].
  std::string serverToml;
  std::string logLevel = "debug";
};

// tests/support's Pullprintd with the release tests' generated config and
// GET /api/v1/health as readiness.
class ReleaseServer : public testing::Pullprintd {
 public:
  explicit ReleaseServer(ReleaseServerOptions options = {});

  // Starts pullprintd and waits until GET /api/v1/health answers 200. The first
  // start picks a free port; restarts reuse it. Throws on failure.
  void start(std::chrono::milliseconds timeout = 30s);
};

// ---------------------------------------------------------------------------
// JSON API

struct HttpResult {
  int status = 0;  // 0: no response before the deadline
  std::string body;
  json parsed() const;  // discarded value when the body is not JSON
};

// One request on a new connection. `basicAuth` is "user:password" (may be empty).
HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& basicAuth = "",
                       std::chrono::milliseconds timeout = 15s);

// POST /api/v1/release {"printer", "user", "jobs": [ids]}.
HttpResult releaseJobs(std::uint16_t port, const std::string& auth, const std::string& printer,
                       const std::string& user, const std::vector<std::int64_t>& jobs);
// GET /api/v1/jobs/{id} as `auth`; null json when not 200.
json getJob(std::uint16_t port, const std::string& auth, std::int64_t id);
// Polls GET /api/v1/jobs/{id} until pred(job) holds; returns the last job read.
json waitJob(std::uint16_t port, const std::string& auth, std::int64_t id,
             const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout = 30s);
// Shorthand predicates.
std::function<bool(const json&)> stateIs(const std::string& state);
std::function<bool(const json&)> analysed();

// ---------------------------------------------------------------------------
// IPP to pullprintd (libcups)

struct IppJobOptions {
  std::string queue = "followme";
  std::string user = "alice";  // requesting-user-name (loopback is trusted)
  std::string format = "application/pdf";
  std::string jobName = "release-test";
  std::string sides;      // "" = not sent
  std::string colorMode;  // "" = not sent
  int copies = 0;         // 0 = not sent
};

struct IppResult {
  int status = -1;  // ipp_status_t of the response (-1: no response)
  std::string message;
  std::int64_t jobId = 0;
  bool ok() const { return status >= 0 && status < 0x100; }
};

// Print-Job with `file` as the document.
IppResult ippPrintJob(std::uint16_t port, const fs::path& file, const IppJobOptions& options);
// Release-Job (job-id on the queue's printer-uri) as `user`.
IppResult ippReleaseJob(std::uint16_t port, const std::string& queue, std::int64_t jobId,
                        const std::string& user);

// Cancel-Job (job-id on the queue's printer-uri) as `user`.
IppResult ippCancelJob(std::uint16_t port, const std::string& queue, std::int64_t jobId,
                       const std::string& user);

// job-state of every job a printer knows, by job id; nullopt when it does not answer.
std::optional<std::map<int, int>> printerJobStates(const std::string& printerUri);

// Job ids a printer knows (Get-Jobs which-jobs=all on `printerUri`, any
// ipp:// URI); nullopt when it does not answer.
std::optional<std::vector<int>> printerJobIds(const std::string& printerUri);

// ---------------------------------------------------------------------------
// Bytes

using testing::sha256File;  // tests/support/sha256.h
// Writes `size` deterministic pseudo-random bytes (seeded).
void writeRandomFile(const fs::path& path, size_t size, std::uint32_t seed);

}  // namespace pullprint::rtest
