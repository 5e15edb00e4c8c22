#pragma once
// Child processes for analysis: spawn a program under resource limits, pump
// its output pipes until it exits or a deadline passes, kill it by PID.
//
// Invariants: the child gets stdin from /dev/null (unless given), only the descriptors
// passed in (everything else is closed before exec), RLIMIT_AS and
// RLIMIT_CPU when given, and a core size of 0. Between fork and exec the
// child calls only async-signal-safe functions (safe from a multi-threaded
// server). A child that outlives its deadline is killed with SIGKILL and
// always reaped: no zombies, no stray processes.
// Thread contract: reentrant; each call owns its child and pipes.

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spooler/analysis/byte_source.h"

namespace pullprint::spooler::analysis {

struct SpawnLimits {
  std::optional<std::size_t> address_space_bytes;
  std::optional<long> cpu_seconds;
  bool new_process_group = false;  // setpgid(0, 0) in the child
  bool background = false;         // enterBackgroundPriority() in the child
};

// Output channels of a child: each is a pipe read end owned by the caller.
struct ChildOutput {
  int fd = -1;
  std::function<void(std::string_view)> sink;  // called with each chunk read
};

struct ChildExit {
  bool started = false;
  bool timed_out = false;  // killed by us at the deadline
  bool stopped = false;    // killed by us because a sink asked (see `stop`)
  std::optional<int> exit_code;
  std::optional<int> signal;  // terminating signal, if any
};

// Starts `argv` with the given descriptors as its fd 1, 2, 3 and 0 (-1 =
// /dev/null). Returns the PID or -1.
pid_t spawnWithLimits(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd, int fd3,
                      const SpawnLimits& limits, int stdin_fd = -1);

// Reads the outputs until all reach EOF and the child exits, or the deadline
// passes, or *stop becomes true (then the child is killed). Closes the fds.
// With kill_group, the kill goes to the child's whole process group (the
// child must lead one: SpawnLimits::new_process_group).
ChildExit superviseChild(pid_t pid, std::vector<ChildOutput> outputs, const Deadline& deadline,
                         const bool* stop = nullptr, bool kill_group = false);

// Waits for a child whose output is done to exit; kills it (timed_out) when
// the deadline passes first.
ChildExit reapChild(pid_t pid, const Deadline& deadline, bool kill_group = false);

// Puts the calling process under SCHED_IDLE: it then runs only on CPU time
// no other (normal) task wants, and is preempted as soon as one wakes up;
// its children inherit this. Async-signal-safe (one system call); a failure
// is ignored (the process keeps its normal priority).
void enterBackgroundPriority();

// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false on
// error or a closed reader.
bool writeAll(int fd, std::string_view bytes);

// Kills (SIGKILL) and reaps a child; safe to call on an already exited child.
void killAndReap(pid_t pid, bool kill_group = false);

}  // namespace pullprint::spooler::analysis
