#pragma once
// What the server and its analysis child processes agree on: the helper's
// arguments, its exit codes, its CPU limit, and how a child that died
// without a verdict is reported. Shared by AnalysisRunner (one process per
// document, runner.h), AnalysisWorker (a long-lived process, worker.h) and
// the helper itself (analyze_main.cpp).
// Thread contract: pure functions; reentrant.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/process.h"

namespace pullprint::spooler::analysis {

// Exit codes of an analysis child besides 0 (verdict written).
inline constexpr int kExitOutOfMemory = 3;
inline constexpr int kExitInternal = 4;

// RLIMIT_CPU seconds for one document: the wall-clock limit rounded up, + 1.
inline long cpuSeconds(const AnalysisOptions& options) {
  return static_cast<long>((options.limits.time.count() + 999) / 1000) + 1;
}

// pullprint-analyze's arguments for one document (without the program name).
std::vector<std::string> helperArguments(const std::filesystem::path& file, std::string_view mime,
                                         const AnalysisOptions& options);

// The verdict for a child that gave none: killed at the deadline, out of CPU
// or memory, crashed. Never a count.
DocumentAnalysis verdictOfDeadChild(const ChildExit& exit, const AnalysisOptions& options);

// An unknown-count verdict with a reason (analysis.h `reason::`) and a note.
DocumentAnalysis childFailure(std::string_view why, std::string note);

}  // namespace pullprint::spooler::analysis
