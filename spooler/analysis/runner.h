#pragma once
// AnalysisRunner: runs analyzeFile() in a child process so that a hostile
// document (zip-bomb streams, deep nesting, a PostScript infinite loop, a
// libqpdf crash) cannot hang or exhaust the server.
//
// Design notes
// | limit        | how it is enforced                                          |
// |--------------|-------------------------------------------------------------|
// | wall clock   | the child polls limits.time itself; the parent kills the     |
// |              | child's process group (SIGKILL, by PID) at limits.time+grace |
// | CPU          | RLIMIT_CPU = ceil(limits.time) + 1 s (SIGXCPU)              |
// | memory       | RLIMIT_AS = baseline + limits.memory_bytes (bad_alloc or    |
// |              | death -> reason analysis-memory-limit)                      |
// | result size  | the reply pipe is read up to kMaxEncodedAnalysis bytes      |
// | priority     | with `background`, SCHED_IDLE (process.h), inherited by     |
// |              | Ghostscript                                                 |
// The child's verdict travels over a pipe (serialize.h); a child that dies
// without a verdict is mapped to analysis-time-limit / -memory-limit /
// -crashed from how it died. Ghostscript, when needed, is a grandchild in the
// same process group and dies with it.
//
// Two ways to make the child:
// - helper empty (default): fork() without exec. The child runs the already
//   loaded code; baseline = the parent's address-space size at fork time.
//   glibc makes malloc usable after fork, but a lock held by another parent
//   thread at fork time (e.g. in a library the child then uses) could still
//   deadlock the child; the wall-clock kill bounds that to limits.time+grace.
// - helper = path of the pullprint-analyze executable: fork()+exec() of a
//   fresh process (nothing inherited); baseline = kHelperBaseline. Preferred
//   in the server.
//
// Thread contract: analyze() is const and reentrant; call it from any number
// of worker threads (never from network threads: it blocks up to
// limits.time + grace). The runner installs no signal handlers; SIGCHLD must
// not be ignored (SIG_IGN) in the server, or waitpid cannot reap the child.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string_view>

#include "spooler/analysis/analysis.h"

namespace pullprint::spooler::analysis {

struct RunnerOptions {
  std::filesystem::path helper;           // pullprint-analyze; empty = fork without exec
  std::chrono::milliseconds grace{1000};  // wall-clock slack before the kill
  bool background = false;                // the child runs under SCHED_IDLE
};

inline constexpr std::size_t kHelperBaseline = std::size_t{64} << 20;

class AnalysisRunner {
 public:
  explicit AnalysisRunner(RunnerOptions options = {}) : options_(std::move(options)) {}

  DocumentAnalysis analyze(const std::filesystem::path& file, std::string_view mime,
                           const AnalysisOptions& options = {}) const;

 private:
  RunnerOptions options_;
};

// AnalysisRunner{}.analyze(...): forked child with rlimits.
DocumentAnalysis analyzeIsolated(const std::filesystem::path& file, std::string_view mime,
                                 const AnalysisOptions& options = {});

}  // namespace pullprint::spooler::analysis
