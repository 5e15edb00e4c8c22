// PrinterClient: pullprint as an IPP client of real printers (libcups).
//
// The release engine uses it to read capabilities (Get-Printer-Attributes),
// create a job and remember the printer's job id before any byte of the
// document is sent (Create-Job, then Send-Document streamed from the spool
// file), follow the job (Get-Job-Attributes), find a job by name after a
// crash (Get-Jobs), and cancel.
//
// Every call opens its own connection with a timeout, so a printer that
// vanishes costs at most that long and never blocks other printers.
//
// Thread contract: stateless apart from options; safe from any thread
// (libcups keeps its last-error state per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pullprint::spooler {

struct PrinterCapabilities {
  std::vector<std::string> formats;      // document-format-supported
  std::vector<std::string> sides;        // sides-supported
  std::vector<std::string> color_modes;  // print-color-mode-supported
  std::vector<std::string> media;        // media-supported
  bool color = false;                    // color-supported
  std::string make_and_model;
  std::string state = "unknown";  // idle | processing | stopped
  std::string state_message;
  std::vector<std::string> state_reasons;
  bool accepting = true;  // printer-is-accepting-jobs

  bool supportsFormat(const std::string& mime) const;
  bool supportsDuplex() const;
  std::string toJson() const;
  static PrinterCapabilities fromJson(const std::string& json);
};

// What the printer is asked to do (decided by policy; until the policy
// engine exists, the job's own attributes).
struct SendTicket {
  std::string job_name;
  std::string user;    // requesting-user-name
  std::string format;  // document-format
  int copies = 1;
  std::string sides;       // "" = printer default
  std::string color_mode;  // "" = printer default
  std::string media;       // "" = printer default
};

struct PrinterJobStatus {
  int state = 0;  // IPP job-state (3..9)
  std::vector<std::string> reasons;
  std::string message;
  std::optional<std::int64_t> impressions_completed;
  std::optional<std::int64_t> sheets_completed;
  bool terminal() const { return state >= 7; }
};

class PrinterClient {
 public:
  explicit PrinterClient(std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : timeout_(timeout) {}

  Result<PrinterCapabilities> capabilities(const std::string& uri) const;
  // Create-Job; kUnavailable when the printer cannot be reached or is busy
  // (message says which), kFailedPrecondition when it refuses the job.
  Result<std::int64_t> createJob(const std::string& uri, const SendTicket& ticket) const;
  // Send-Document streamed from `file`.
  Status sendDocument(const std::string& uri, std::int64_t job_id, const std::string& user,
                      const std::filesystem::path& file, const std::string& format,
                      bool last_document = true) const;
  // kNotFound when the printer no longer knows the job.
  Result<PrinterJobStatus> jobStatus(const std::string& uri, std::int64_t job_id,
                                     const std::string& user) const;
  // The id of a job (any state) whose job-name is exactly `name`.
  Result<std::optional<std::int64_t>> findJobByName(const std::string& uri, const std::string& name,
                                                    const std::string& user) const;
  Status cancelJob(const std::string& uri, std::int64_t job_id, const std::string& user) const;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace pullprint::spooler
