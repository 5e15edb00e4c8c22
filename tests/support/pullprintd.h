// Pullprintd: the real `pullprintd` binary (PULLPRINTD_PATH) for end-to-end
// tests and benchmarks, on 127.0.0.1:<picked port> with a private directory
// (config file, logs, by default the state directory), run through Process
// (own process group, stopped by PID, dies with the test). It can be
// SIGKILLed and restarted on the same state directory and port.
//
// The config file is the caller's: write it with writeConfig() before
// start(). What "ready" means is the caller's too (an IPP answer, a health
// check): start() polls the given probe until it holds or the process exits.
// tests/integration's PullprintServer and tests/release's ReleaseServer build
// on this class.
//
// Library pullprint_pullprintd_testkit (it depends on the pullprintd target).
// Thread contract: a Pullprintd is used from one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace pullprint::testing {

struct PullprintdOptions {
  // Prefix of the private TempDir (/tmp/<prefix>-XXXXXX, mode 0755).
  std::string dirPrefix = "pullprintd";
  // --state-dir; empty: <dir>/state.
  std::filesystem::path stateDir;
  // Where the spool files are (for documentPath; the config must agree);
  // empty: <state>/spool, pullprintd's default.
  std::filesystem::path spoolDir;
  // The pullprintd to run; empty: the build's (PULLPRINTD_PATH).
  std::filesystem::path binary;
  // Words run before it, which exec it (e.g. denySyscall()); empty: none.
  std::vector<std::string> launcher;
};

// A launcher that runs pullprintd with the system call `name` failing with
// `err`, through a seccomp filter (tests/support/deny_syscall.cpp).
std::vector<std::string> denySyscall(const std::string& name, int err);

class Pullprintd {
 public:
  // True when the server on `port` is ready to serve.
  using ReadyProbe = std::function<bool(std::uint16_t port)>;

  explicit Pullprintd(PullprintdOptions options = {});
  ~Pullprintd();
  Pullprintd(const Pullprintd&) = delete;
  Pullprintd& operator=(const Pullprintd&) = delete;

  // Writes configPath().
  void writeConfig(std::string_view toml) const;
  // Starts pullprintd and waits until `ready` holds. The first start picks a
  // free port (and picks again when another process took it); restarts reuse
  // it. Throws std::runtime_error (with describe()) on failure.
  void startUntil(const ReadyProbe& ready, std::chrono::milliseconds timeout);
  void kill9();  // SIGKILL now (no clean shutdown), reap
  void stop();   // SIGTERM, wait
  // Sends `sig` to the process group (as a service manager does) and
  // returns at once; waitExit() then reaps it.
  void signalGroup(int sig) const;
  // Waits up to `timeout` for pullprintd to exit on its own; its exit code,
  // or nullopt (still running, or killed by a signal).
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  bool running() const;
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  std::uint16_t port() const { return port_; }
  // ipp[s]://127.0.0.1:PORT/printers/<queue>
  std::string uri(const std::string& queue = "followme", bool tls = false) const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path stateDir() const { return stateDir_; }
  std::filesystem::path spoolDir() const { return spoolDir_; }
  std::filesystem::path database() const { return stateDir_ / "pullprint.db"; }
  std::filesystem::path configPath() const { return dir_ / "pullprint.toml"; }
  std::filesystem::path documentPath(std::int64_t jobId, int doc = 1) const;
  // Bytes of documents still arriving: the spool files pullprintd holds open
  // that have no name yet (O_TMPFILE, spooler/spool.h), read from /proc/PID/fd.
  std::uintmax_t bytesBeingReceived() const;
  // Spool files pullprintd holds open, named or not (/proc/PID/fd).
  int openSpoolFiles() const;
  // pullprintd --add-user NAME --role ROLE (password on stdin). Throws on failure.
  void addUser(const std::string& name, const std::string& password,
               const std::string& role = "user") const;
  // Everything pullprintd logged so far (all runs).
  std::string log() const;
  std::string describe() const;

 private:
  // The descriptors in /proc/PID/fd whose link text starts with `prefix`:
  // (that /proc entry, the link text).
  std::vector<std::pair<std::filesystem::path, std::string>> openFiles(
      const std::string& prefix) const;

  TempDir dir_;
  std::filesystem::path stateDir_;
  std::filesystem::path spoolDir_;
  std::filesystem::path binary_;
  std::vector<std::string> launcher_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
  int runs_ = 0;
};

}  // namespace pullprint::testing
