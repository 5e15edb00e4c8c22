// Helpers for pullprint's end-to-end tests (tests/integration/).
//
// PullprintServer runs the real `pullprintd` binary through tests/support's
// Pullprintd (127.0.0.1:<picked port>, private state directory, stopped by
// PID, dies with the test) with a generated config file. It can be SIGKILLed
// and restarted on the same state directory and port (durability tests).
//
// RawConn (tests/support/http_client.h) is a blocking TCP client with
// deadlines on every read: tests send exact bytes (partial bodies,
// Expect: 100-continue, chunked encoding, garbage) and read raw HTTP responses.
//
// Ipp wraps a libcups ipp_t: requests are built with libcups and encoded
// with ippWriteIO into a byte string; responses are decoded with ippReadIO.
// libcups is used only as an IPP encoder/decoder here, never as an HTTP
// client, so every byte on the wire is under the test's control.
//
// Thread contract: PullprintServer and RawConn are used from one thread at a
// time; the free functions are reentrant (the durability test calls
// ippPost from several threads at once, one connection each).
#pragma once

#include <cups/ipp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/base64.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/pullprintd.h"
#include "tests/support/sha256.h"
#include "tests/support/temp_dir.h"

namespace pullprint::itest {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// pullprintd

struct ServerOptions {
  // TOML appended to the generated config file. [server] and [spool] are
  // generated (log_level = "debug" is always set): use serverToml/spoolToml
  // for them, never a second [server] or [spool] table here.
  std::string toml;
  // Extra lines for the [server] table (e.g. "idle_timeout_seconds = 2").
  std::string serverToml;
  // Extra lines for the [spool] table (e.g. "min_free_bytes = 0").
  std::string spoolToml;
  // [spool] directory; empty: <state>/spool.
  fs::path spoolDir;
  // Where the state directory lives; empty: inside the server's own TempDir.
  fs::path stateDir;
  // The pullprintd binary; empty: the build's.
  fs::path binary;
  // Words run before it (testing::denySyscall()); empty: none.
  std::vector<std::string> launcher;
};

// tests/support's Pullprintd with the integration tests' generated config
// (log_level = "debug", [spool]) and Get-Printer-Attributes as readiness.
class PullprintServer : public testing::Pullprintd {
 public:
  explicit PullprintServer(ServerOptions options = {});

  // Starts pullprintd and waits until it answers Get-Printer-Attributes.
  // The first start picks a free port; restarts reuse it. Throws on failure.
  void start();
};

// ---------------------------------------------------------------------------
// Raw TCP / HTTP (tests/support/http_client.h)

using testing::HttpResponse;
using testing::RawConn;

// ---------------------------------------------------------------------------
// IPP messages

class Ipp {
 public:
  Ipp() = default;
  explicit Ipp(ipp_t* ipp) : ipp_(ipp) {}
  ~Ipp() { reset(); }
  Ipp(Ipp&& o) noexcept : ipp_(o.ipp_) { o.ipp_ = nullptr; }
  Ipp& operator=(Ipp&& o) noexcept {
    if (this != &o) {
      reset();
      ipp_ = o.ipp_;
      o.ipp_ = nullptr;
    }
    return *this;
  }
  Ipp(const Ipp&) = delete;
  Ipp& operator=(const Ipp&) = delete;

  ipp_t* get() const { return ipp_; }
  explicit operator bool() const { return ipp_ != nullptr; }
  void reset();

  // Request with charset, language, printer-uri (if not empty) and
  // requesting-user-name (if not empty), IPP/2.0, request-id 1.
  static Ipp request(ipp_op_t op, const std::string& printerUri, const std::string& user = "");
  // Encodes the message with ippWriteIO.
  std::string encode() const;
  // Decodes an IPP message; empty Ipp when it does not decode.
  static Ipp decode(const std::string& bytes);

  ipp_status_t status() const;  // status-code of a response
  std::optional<int> integer(const char* name) const;
  std::optional<std::string> string(const char* name) const;
  std::vector<std::string> strings(const char* name) const;
  bool has(const char* name) const;
  // Number of job-attributes groups (Get-Jobs).
  int jobCount() const;
  std::vector<int> jobIds() const;

 private:
  ipp_t* ipp_ = nullptr;
};

struct IppReply {
  HttpResponse http;
  Ipp ipp;  // empty unless the HTTP status is 200 and the body decodes
  ipp_status_t status() const { return ipp ? ipp.status() : static_cast<ipp_status_t>(-1); }
};

struct PostOptions {
  std::string resource = "/printers/followme";
  std::string basicAuth;  // "user:password" -> Authorization: Basic
  bool chunked = false;   // Transfer-Encoding: chunked (in 4 KiB chunks)
  std::chrono::milliseconds timeout = 20s;
};

// One POST (new connection): IPP request + document bytes.
IppReply ippPost(std::uint16_t port, const Ipp& request, std::string_view document = {},
                 const PostOptions& options = {});

// The HTTP request head for an IPP POST of `bodyLength` bytes (-1: chunked).
std::string httpHead(std::uint16_t port, const std::string& resource, long long bodyLength,
                     const std::string& extraHeaders = "");

// ---------------------------------------------------------------------------
// Jobs

struct PrintResult {
  int jobId = 0;  // 0 unless accepted
  IppReply reply;
};

// Print-Job to `queue` as `user` (requesting-user-name) with a document.
PrintResult printJob(std::uint16_t port, const std::string& user, std::string_view document,
                     const std::string& queue = "followme",
                     const std::string& format = "application/pdf",
                     const PostOptions& options = {});

// Get-Job-Attributes (all) as `user`.
IppReply getJob(std::uint16_t port, int jobId, const std::string& user,
                const std::string& queue = "followme");

// Get-Printer-Attributes succeeds (the server still serves).
bool printerAnswers(std::uint16_t port);

// GET /metrics from loopback (no credentials there) on a new connection:
// the Prometheus text. Throws std::runtime_error unless the answer is 200.
std::string metricsText(std::uint16_t port);

// Row of the jobs table (read straight from the SQLite file).
struct JobRow {
  std::int64_t id = 0;
  std::string owner;
  std::string state;
  std::string sha256;
  std::int64_t size = 0;
  int documents = 0;
};
std::optional<JobRow> jobRow(const fs::path& database, std::int64_t id);
std::vector<JobRow> jobRows(const fs::path& database);
// Job ids of the copies in the document journal's slots (spooler/committer.h).
std::vector<std::int64_t> journaledJobs(const fs::path& database);

// ---------------------------------------------------------------------------
// Bytes

using testing::sha256File;  // tests/support/sha256.h
using testing::sha256Hex;
// Deterministic pseudo-random bytes (seeded), for documents of any size.
std::string randomBytes(size_t size, std::uint32_t seed);
// A small valid PDF (Ghostscript) with `label` on its page, read into memory.
std::string smallPdf(const fs::path& workDir, const std::string& label, int pages = 1);
// Regular files in a directory (names).
std::vector<std::string> listFiles(const fs::path& dir);
// ---------------------------------------------------------------------------
// A small file system (needs root)

// A tmpfs of `size` (e.g. "16m") mounted on DIR/disk, DIR a new TempDir
// named after `prefix`; unmounted (lazily) and removed on destruction.
// Throws if the mount fails. Tests put a server's state directory or
// spool under path() to run it out of room.
class SmallDisk {
 public:
  SmallDisk(const std::string& prefix, const std::string& size);
  ~SmallDisk();
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  const fs::path& path() const { return path_; }
  // Fills the file system with one file until a write fails, then gives
  // back `spare` bytes; free() removes that file again.
  void fill(off_t spare);
  void free();

 private:
  testing::TempDir dir_;
  fs::path path_;
};

// `needle` occurs in `hay` (log checks).
inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace pullprint::itest
