// IppEvePrinter: a real simulated IPP Everywhere printer (CUPS's
// ippeveprinter, package cups-ipp-utils) on 127.0.0.1:<free port>, recording
// every job it receives.
//
// Started as:
//   ippeveprinter -n localhost -r off -p PORT [-2] -s 10,10|10,0 -f FORMATS
//                 [-k] -d DIR/spool -c DIR/print-command.sh [-v] NAME
// with DBUS_SYSTEM_BUS_ADDRESS pointing to a PrivateDbus (its own, or a shared
// one). `-n localhost` makes it listen on 127.0.0.1 and ::1 only.
//
// Recording: the `-c` print command (a shell script written into DIR) copies
// each document to DIR/received/job-<id>-<ns>-<name> and then appends one
// tab-separated `key=value` line to DIR/jobs.log built from the IPP_* variables
// ippeveprinter exports (IPP_SIDES, IPP_PRINT_COLOR_MODE, IPP_COPIES, ... and
// their *_DEFAULT printer values). A job counts as received once its line is in
// jobs.log, and the file is complete by then. The script returns at once
// (unless printDelay is set), so the printer is ready for the next job.
//
// Behaviour of the real program worth knowing (see docs/testing.md):
//  - one job at a time: a second job while one is processing gets
//    server-error-busy;
//  - no Hold-Job/Release-Job/Set-Printer-Attributes; job-hold-until other
//    than no-hold is refused;
//  - attributes a client did not send are absent (sides() is then ""); the
//    printer's default is in sidesDefault().
//
// Thread contract: one thread at a time for start/stop/kill/restart; the
// read-only accessors (uri, port, receivedJobs, ...) may be called from any
// thread while the printer runs (they only read files).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/private_dbus.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace pullprint::testing {

struct IppEvePrinterOptions {
  std::string name = "pullprint-test-printer";  // service name / printer-name
  bool duplex = true;                           // -2
  bool color = true;                            // -s 10,10 (else -s 10,0: monochrome only)
  std::vector<std::string> formats = {"application/pdf", "image/pwg-raster", "image/urf"};
  bool keepFiles = true;  // -k: ippeveprinter also keeps its own copy in DIR/spool
  // Print command behaviour: wait this long after recording (keeps the job
  // "processing", e.g. to kill the printer mid-job), then exit with this code
  // (non-zero makes ippeveprinter abort the job).
  std::chrono::milliseconds printDelay{0};
  int printExitCode = 0;
  // Shared bus address; empty = the printer starts its own PrivateDbus.
  std::string dbusAddress;
  int verbosity = 1;                   // number of -v flags (logs go to DIR/ippeveprinter.stderr)
  std::vector<std::string> extraArgs;  // inserted before the service name
  std::filesystem::path parentDir = "/tmp";
  std::chrono::milliseconds startTimeout = 10000ms;
  int portAttempts = 3;  // new free port per attempt when the port was taken
};

// One job as recorded by the print command.
struct ReceivedJob {
  std::filesystem::path file;  // copy of the document as received
  int jobId = 0;               // ippeveprinter's job-id
  std::string jobName;
  std::string user;            // job-originating-user-name
  std::string format;          // CONTENT_TYPE (format ippeveprinter decided on)
  std::string documentFormat;  // document-format as supplied by the client, if any
  std::string sides;           // "" when the client did not send sides
  std::string sidesDefault;
  std::string colorMode;  // print-color-mode, "" when not sent
  std::string colorModeDefault;
  int copies = 0;  // 0 when not sent (means 1)
  std::string media;
  std::uintmax_t bytes = 0;
  std::map<std::string, std::string> fields;  // every recorded key=value

  std::string effectiveSides() const { return sides.empty() ? sidesDefault : sides; }
  std::string effectiveColorMode() const {
    return colorMode.empty() ? colorModeDefault : colorMode;
  }
  int effectiveCopies() const { return copies > 0 ? copies : 1; }
};

class IppEvePrinter {
 public:
  // Starts the printer and waits until it accepts TCP connections. Throws
  // std::runtime_error (with ippeveprinter's stderr) on failure.
  explicit IppEvePrinter(IppEvePrinterOptions options = {});
  ~IppEvePrinter();  // stops the printer (and its own bus), removes DIR

  IppEvePrinter(const IppEvePrinter&) = delete;
  IppEvePrinter& operator=(const IppEvePrinter&) = delete;

  // ipp://127.0.0.1:PORT/ipp/print
  std::string uri() const;
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool running() const { return process_ && process_->running(); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path receivedDir() const { return dir_ / "received"; }
  std::filesystem::path stderrPath() const { return dir_ / "ippeveprinter.stderr"; }

  // Complete received documents, sorted by name (= job id order per run).
  std::vector<std::filesystem::path> receivedFiles() const;
  // Parsed jobs.log, in arrival order.
  std::vector<ReceivedJob> receivedJobs() const;
  std::size_t receivedJobCount() const;
  // Waits until at least n jobs were recorded.
  bool waitForJobs(std::size_t n, std::chrono::milliseconds timeout);

  // SIGTERM then SIGKILL after `grace` (group-wide). Idempotent.
  void stop(std::chrono::milliseconds grace = 3000ms);
  // SIGKILL now: the printer vanishes (e.g. mid-job).
  void kill();
  // Starts again on the same port with the same directory (printer comes back).
  // Throws if it cannot (e.g. the port was taken meanwhile).
  void restart();

  // Failure context: process state + tail of ippeveprinter's log + jobs.log.
  std::string describe() const;

 private:
  bool startOnce();  // false when the process died during start-up

  IppEvePrinterOptions options_;
  TempDir dir_;
  std::unique_ptr<PrivateDbus> dbus_;  // only when options_.dbusAddress is empty
  std::string dbusAddress_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// Parses one jobs.log line (exposed for tests).
ReceivedJob parseReceivedJob(const std::string& line);

}  // namespace pullprint::testing
