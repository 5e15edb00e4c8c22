#pragma once
// AnalysisWorker: a long-lived analysis process (`pullprint-analyze --serve`)
// that analyses documents one after another.
//
// Why: AnalysisRunner's exec mode pays fork() of the whole server (page
// tables copied, copy-on-write faults and TLB shootdowns on every thread
// afterwards), exec and libqpdf's start-up for every document: at a few
// thousand jobs a second that was a third of the machine (docs/benchmarks.md,
// spooler). A worker pays it once per `documents_per_process` documents.
//
// Isolation is the same as one process per document, except that documents
// analysed by one process share its heap:
// | limit        | how it is enforced                                          |
// |--------------|-------------------------------------------------------------|
// | wall clock   | the parent waits limits.time + grace for each verdict, then  |
// |              | kills the worker's process group (SIGKILL, by PID)          |
// | CPU          | the worker re-arms RLIMIT_CPU before each document: what it |
// |              | has used so far + cpuSeconds() (SIGXCPU)                     |
// | memory       | RLIMIT_AS = kHelperBaseline + limits.memory_bytes for the   |
// |              | process; bad_alloc ends the process (exit 3)                |
// | result size  | a verdict over kMaxEncodedAnalysis ends the process          |
// | priority     | with `background`, SCHED_IDLE (process.h): CPU time that   |
// |              | nothing else wants; see AnalysisQueue for the time limit    |
// | state        | a fresh process after documents_per_process documents, after |
// |              | any document that ended without a verdict, and after a time  |
// |              | or memory limit was hit (even when the worker reported it)   |
// A worker that dies is reported exactly as AnalysisRunner reports a dead
// child (child.h verdictOfDeadChild) and replaced at the next document.
//
// Wire format on a socketpair (the worker's fd 0 and fd 1):
//   request: u32 total length (little-endian), then per argument a u32 length
//            and its bytes: the helper's one-document arguments (child.h);
//   reply:   u32 length, then encodeAnalysis() bytes (serialize.h).
// Both sides bound every length; the parent trusts nothing the worker sends.
//
// Thread contract: an AnalysisWorker is used by one thread at a time (each
// analysis thread owns one). The destructor kills and reaps its process.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "spooler/analysis/analysis.h"

namespace pullprint::spooler::analysis {

inline constexpr std::size_t kMaxWorkerRequest = 64 * 1024;

struct WorkerOptions {
  std::filesystem::path helper;           // pullprint-analyze (required)
  std::chrono::milliseconds grace{1000};  // wall-clock slack before the kill
  int documents_per_process = 500;        // then a fresh process (>= 1)
  bool background = false;                // the process runs under SCHED_IDLE
};

class AnalysisWorker {
 public:
  explicit AnalysisWorker(WorkerOptions options);
  ~AnalysisWorker();
  AnalysisWorker(const AnalysisWorker&) = delete;
  AnalysisWorker& operator=(const AnalysisWorker&) = delete;

  // Same contract and verdicts as AnalysisRunner::analyze.
  DocumentAnalysis analyze(const std::filesystem::path& file, std::string_view mime,
                           const AnalysisOptions& options = {});

  // The current process (-1 when none) and how many were started so far.
  pid_t pid() const { return pid_; }
  int processesStarted() const { return started_; }

 private:
  bool start(std::size_t memory_bytes);
  void stop();

  WorkerOptions options_;
  pid_t pid_ = -1;
  int fd_ = -1;  // our end of the socketpair
  std::size_t memory_bytes_ = 0;
  int served_ = 0;
  int started_ = 0;
};

// Framing helpers (shared with pullprint-analyze --serve).
std::string frameWorkerRequest(const std::vector<std::string>& args);
// Reads one request through `read_exact(out, n)`; false on EOF or a bad frame.
bool readWorkerRequest(const std::function<bool(char*, std::size_t)>& read_exact,
                       std::vector<std::string>& args);
std::string frameWorkerReply(std::string_view encoded);

}  // namespace pullprint::spooler::analysis
