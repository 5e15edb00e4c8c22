// The IPP description of pullprint's queues and jobs.
//
// Printer attributes are truthful for a held (virtual) queue: what a client
// may ask for (formats, sides, colour, copies, media...) and how jobs are
// released (job-release-action-supported = owner-authorized). Job
// attributes follow RFC 8011 job-description names, with privacy: a
// requester who is neither the owner nor an administrator sees only the
// job's identity and state.
//
// Thread contract: pure functions over their arguments.
#pragma once

#include <cups/ipp.h>

#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/job.h"

namespace pullprint::spooler {

struct QueueInfo {
  std::string name;
  bool hold = true;         // jobs wait for release
  bool follow_me = false;   // release at any printer
  std::string printer_uri;  // the printer behind a per-printer queue
  std::string info;
  std::string location;
};

// followme, direct, then the configured [[queue]]s.
std::vector<QueueInfo> queuesFromConfig(const Config& config);

// requested-attributes: names and group keywords ("all", "job-template",
// "printer-description", "job-description").
class Requested {
 public:
  // An absent attribute means `defaults`.
  Requested(ipp_attribute_t* requested, std::set<std::string> defaults);
  bool wants(const std::string& name, bool is_template) const;

 private:
  bool all_ = false;
  bool templates_ = false;
  bool descriptions_ = false;
  std::set<std::string> names_;
};

extern const char* const kDocumentFormats[];
bool isSupportedFormat(const std::string& mime);
bool isSupportedSides(const std::string& v);
bool isSupportedColorMode(const std::string& v);
bool isSupportedMedia(const std::string& v);

struct PrinterState {
  int queued_jobs = 0;
  UnixSeconds up_since = 0;
  UnixSeconds now = 0;
  std::string host;  // HOST:PORT clients reach us at
  bool tls = false;
  std::string server_name;
  std::int64_t max_document_bytes = 0;
};

void addPrinterAttributes(ipp_t* resp, const QueueInfo& q, const PrinterState& st,
                          const Requested& want);

struct JobView {
  const Job* job;
  std::string host;
  bool tls = false;
  bool full = true;  // owner or admin: all attributes
  UnixSeconds up_since = 0;
  UnixSeconds now = 0;
};

void addJobAttributes(ipp_t* resp, const JobView& v, const Requested& want);

// job-state-reasons as IPP keywords for a job.
std::vector<std::string> jobStateReasons(const Job& job);

}  // namespace pullprint::spooler
