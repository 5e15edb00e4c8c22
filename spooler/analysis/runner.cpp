#include "spooler/analysis/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "spooler/analysis/child.h"
#include "spooler/analysis/process.h"
#include "spooler/analysis/serialize.h"

namespace pullprint::spooler::analysis {
namespace {

std::size_t currentAddressSpace() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0;
  const int ok = std::fscanf(f, "%lu", &pages);
  std::fclose(f);
  return ok == 1 ? pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Body of the forked (not exec'd) child. Never returns.
[[noreturn]] void runChild(int fd, const std::filesystem::path& file, std::string_view mime,
                           const AnalysisOptions& options, std::size_t baseline, bool background) {
  setpgid(0, 0);
  if (background) enterBackgroundPriority();
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  const rlim_t as = baseline + options.limits.memory_bytes;
  struct rlimit mem = {as, as};
  setrlimit(RLIMIT_AS, &mem);
  const rlim_t cpu = static_cast<rlim_t>(cpuSeconds(options));
  struct rlimit cpu_limit = {cpu, cpu + 1};
  setrlimit(RLIMIT_CPU, &cpu_limit);
  int code = 0;
  try {
    const DocumentAnalysis result = analyzeFile(file, mime, options);
    if (!writeAll(fd, encodeAnalysis(result))) code = kExitInternal;
  } catch (const std::bad_alloc&) {
    code = kExitOutOfMemory;
  } catch (...) {
    code = kExitInternal;
  }
  _exit(code);
}

}  // namespace

std::vector<std::string> helperArguments(const std::filesystem::path& file, std::string_view mime,
                                         const AnalysisOptions& o) {
  return {"--mime",       std::string(mime),
          "--time-ms",    std::to_string(o.limits.time.count()),
          "--memory",     std::to_string(o.limits.memory_bytes),
          "--max-pages",  std::to_string(o.limits.max_pages),
          "--postscript", o.postscript == PostScriptMode::kAlwaysInterpret ? "interpret" : "dsc",
          "--lines",      std::to_string(o.text.lines_per_page),
          "--columns",    std::to_string(o.text.columns),
          "--tab",        std::to_string(o.text.tab_width),
          "--gs",         o.ghostscript,
          "--",           file.string()};
}

DocumentAnalysis childFailure(std::string_view why, std::string note) {
  DocumentAnalysis a;
  a.reason = std::string(why);
  a.note = std::move(note);
  return a;
}

DocumentAnalysis verdictOfDeadChild(const ChildExit& exit, const AnalysisOptions& options) {
  const std::string limit = " (limit " + std::to_string(options.limits.time.count()) + " ms, " +
                            std::to_string(options.limits.memory_bytes >> 20) + " MiB)";
  if (exit.timed_out)
    return childFailure(reason::kTimeLimit,
                        "analysis process killed at the wall-clock limit" + limit);
  if (exit.signal && (*exit.signal == SIGXCPU))
    return childFailure(reason::kTimeLimit, "analysis process hit its CPU limit" + limit);
  if (exit.exit_code == kExitOutOfMemory || (exit.signal && *exit.signal == SIGKILL))
    return childFailure(reason::kMemoryLimit, "analysis process ran out of memory" + limit);
  if (exit.signal)
    return childFailure(reason::kCrashed,
                        "analysis process died from signal " + std::to_string(*exit.signal));
  return childFailure(reason::kCrashed, "analysis process failed (exit " +
                                            std::to_string(exit.exit_code.value_or(-1)) + ")");
}

DocumentAnalysis AnalysisRunner::analyze(const std::filesystem::path& file, std::string_view mime,
                                         const AnalysisOptions& options) const {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return childFailure(reason::kCrashed, "pipe failed");

  pid_t pid = -1;
  if (options_.helper.empty()) {
    const std::size_t baseline = currentAddressSpace();
    pid = fork();
    if (pid == 0) {
      close(fds[0]);
      runChild(fds[1], file, mime, options, baseline, options_.background);
    }
  } else {
    SpawnLimits limits;
    limits.address_space_bytes = kHelperBaseline + options.limits.memory_bytes;
    limits.cpu_seconds = cpuSeconds(options);
    limits.new_process_group = true;
    limits.background = options_.background;
    std::vector<std::string> argv = helperArguments(file, mime, options);
    argv.insert(argv.begin(), options_.helper.string());
    pid = spawnWithLimits(argv, fds[1], -1, -1, limits);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return childFailure(reason::kCrashed, "could not start the analysis process");
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins the race

  std::string reply;
  bool too_big = false;
  std::vector<ChildOutput> outputs;
  outputs.push_back({fds[0], [&](std::string_view chunk) {
                       if (reply.size() + chunk.size() > kMaxEncodedAnalysis)
                         too_big = true;
                       else
                         reply.append(chunk);
                     }});
  const Deadline deadline = Deadline::after(options.limits.time + options_.grace);
  const ChildExit exit = superviseChild(pid, std::move(outputs), deadline, &too_big,
                                        /*kill_group=*/true);

  if (!exit.timed_out && exit.exit_code == 0 && !too_big) {
    if (auto decoded = decodeAnalysis(reply)) return *decoded;
    return childFailure(reason::kCrashed, "analysis process sent an unreadable verdict");
  }
  return verdictOfDeadChild(exit, options);
}

DocumentAnalysis analyzeIsolated(const std::filesystem::path& file, std::string_view mime,
                                 const AnalysisOptions& options) {
  return AnalysisRunner{}.analyze(file, mime, options);
}

}  // namespace pullprint::spooler::analysis
