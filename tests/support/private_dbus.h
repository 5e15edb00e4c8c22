// PrivateDbus: a private, empty, system-bus-like dbus-daemon for one test.
//
// Why: ippeveprinter (CUPS 2.4) initialises DNS-SD through Avahi's client
// library even with `-r off`, and exits with "Unable to initialize DNS-SD."
// when no D-Bus *system* bus answers. Containers and CI usually have none. A
// private bus (nobody owns org.freedesktop.Avahi on it) satisfies that check:
// Avahi's client sees "daemon not running", ippeveprinter logs
// "Ignored Avahi state 101." and carries on, announcing nothing.
//
// Give address() to children as DBUS_SYSTEM_BUS_ADDRESS (see envVar()).
// Layout: <dir>/bus.conf, <dir>/bus.sock, <dir>/dbus-daemon.{stdout,stderr}.
//
// Thread contract: one thread at a time; address() is immutable after start.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace pullprint::testing {

struct PrivateDbusOptions {
  std::filesystem::path parentDir = "/tmp";
  std::chrono::milliseconds startTimeout = 10000ms;
};

class PrivateDbus {
 public:
  // Starts `dbus-daemon --nofork --print-address` with a config in a new
  // TempDir and waits until it prints its address and accepts connections.
  // Throws std::runtime_error (with the daemon's stderr) on failure.
  explicit PrivateDbus(PrivateDbusOptions options = {});
  ~PrivateDbus();  // stops the daemon, then removes the directory

  PrivateDbus(const PrivateDbus&) = delete;
  PrivateDbus& operator=(const PrivateDbus&) = delete;

  // e.g. "unix:path=/tmp/pullprint-dbus-AbC123/bus.sock,guid=..."
  const std::string& address() const { return address_; }
  // {"DBUS_SYSTEM_BUS_ADDRESS", address()} for ProcessOptions::env.set.
  std::pair<std::string, std::string> envVar() const {
    return {"DBUS_SYSTEM_BUS_ADDRESS", address_};
  }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool running() const { return process_ && process_->running(); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // SIGTERM (SIGKILL after `grace`); idempotent.
  void stop(std::chrono::milliseconds grace = 3000ms);

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string address_;
};

}  // namespace pullprint::testing
