// Child processes for tests: long-running components (Process) and one-shot
// commands (runCommand).
//
// Every child is started in its own process group (pgid == its pid), with
// stdin on /dev/null, all other inherited descriptors closed and signal
// dispositions reset. Stopping a Process signals the whole group, so
// grandchildren (cupsd's filters and backends, ippeveprinter's print command)
// die too. Stop is by PID only: nothing here looks processes up by name.
//
// Stop sequence (terminate): snapshot the child's descendants by parentage
// (/proc; pid + start time); SIGTERM to the group; wait for the leader up to
// the grace period; SIGKILL to the group and to every snapshotted descendant
// that is still the same process (stragglers that ignored SIGTERM, and
// processes that made their own group: cupsd runs each job's filters and
// backend in a new process group); reap the leader. The leader is only reaped
// after the group SIGKILL, so its pid cannot be reused in between.
//
// By default a child also gets PR_SET_PDEATHSIG(SIGKILL): if the test process
// dies (crash, abort, timeout kill) the component dies with it. Linux ties that
// signal to the *thread* that spawned the child: spawn from a thread that lives
// as long as the Process (the main thread in Catch2 tests), or turn it off.
//
// Thread contract: a Process object is used by one thread at a time (no
// internal locking). Different Process objects are independent. runCommand is
// reentrant.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pullprint::testing {

using namespace std::chrono_literals;

// Environment changes applied on top of the test process's environment.
struct EnvChanges {
  std::vector<std::pair<std::string, std::string>> set;  // added or overriding
  std::vector<std::string> unset;                        // removed
};

struct ProcessOptions {
  // argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  EnvChanges env;
  // When set, stdout/stderr go to <logDir>/<logName>.stdout and .stderr
  // (appended). When empty they go to /dev/null.
  std::filesystem::path logDir;
  // Defaults to the file name of argv[0].
  std::string logName;
  // Working directory of the child; empty = inherit.
  std::filesystem::path workDir;
  // PR_SET_PDEATHSIG(SIGKILL); see the header comment.
  bool killWithParent = true;
};

class Process {
 public:
  // Spawns the child. Throws std::runtime_error when the program cannot be
  // found or exec fails (the errno is reported synchronously).
  explicit Process(ProcessOptions options);
  // Shorthand: default options (no logs, inherit cwd, killWithParent).
  explicit Process(std::vector<std::string> argv);
  // Stops the group (terminate(kDefaultGrace)) if still running.
  ~Process();

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  static constexpr std::chrono::milliseconds kDefaultGrace = 5000ms;

  // Pid of the child, also its process-group id. -1 after a moved-from state.
  pid_t pid() const { return pid_; }

  // True while the leader has not exited. Does not reap.
  bool running() const;

  // Waits up to `timeout` for the leader to exit on its own (does not signal).
  bool waitForExit(std::chrono::milliseconds timeout);

  // SIGTERM to the group, SIGKILL after `grace`, reap. Idempotent. Returns the
  // wait(2) status of the leader (see exitCode()/termSignal()).
  int terminate(std::chrono::milliseconds grace = kDefaultGrace);

  // SIGKILL to the group now and reap ("component vanishes"). Idempotent.
  int kill();

  // Wait status once reaped; nullopt while not reaped.
  std::optional<int> waitStatus() const { return status_; }
  // Exit code if the leader exited normally, else nullopt.
  std::optional<int> exitCode() const;
  // Signal number if the leader was killed by a signal, else nullopt.
  std::optional<int> termSignal() const;

  const std::filesystem::path& stdoutPath() const { return stdoutPath_; }
  const std::filesystem::path& stderrPath() const { return stderrPath_; }
  std::string stdoutText() const;
  std::string stderrText() const;

  // One paragraph for failure messages: argv, pid, state, tail of stderr.
  std::string describe() const;

 private:
  void stopGroup(std::chrono::milliseconds grace, bool sendTerm);

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path stdoutPath_;
  std::filesystem::path stderrPath_;
};

struct RunOptions {
  EnvChanges env;
  std::filesystem::path workDir;
  // Written to the child's stdin (then closed); empty = /dev/null.
  std::string stdinData;
};

struct CommandResult {
  std::vector<std::string> argv;
  int exitCode = -1;   // exit status when it exited normally, else -1
  int termSignal = 0;  // signal that killed it, 0 if none
  bool timedOut = false;
  std::string out;  // stdout
  std::string err;  // stderr
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return !timedOut && exitCode == 0; }
  // argv, status, stdout and stderr, for failure messages.
  std::string describe() const;
};

// Runs a command to completion (own process group, stdin /dev/null unless
// stdinData) capturing stdout/stderr. On timeout the group gets SIGKILL and
// timedOut is set. Throws std::runtime_error only when the program cannot be
// started at all.
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = 30000ms,
                         const RunOptions& options = {});

// Finds `name` in PATH (or returns it when it contains '/'); nullopt if absent.
std::optional<std::filesystem::path> findProgram(const std::string& name);

// Shell-style quoting of argv for messages.
std::string quoteArgv(const std::vector<std::string>& argv);

// The processes that any thread of `pid` started and that have not been
// reaped (/proc/PID/task/*/children).
std::vector<pid_t> childProcesses(pid_t pid);

// True while `pid` exists and has not exited (a zombie has exited).
bool processRunning(pid_t pid);

// One busy loop (/bin/sh, normal priority) per CPU, each stopped by PID when
// its Process is destroyed: while they run every core is busy, and a
// SCHED_IDLE process gets almost no CPU.
std::vector<Process> busyLoopOnEveryCore();

}  // namespace pullprint::testing
