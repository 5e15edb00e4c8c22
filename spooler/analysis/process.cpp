#include "spooler/analysis/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace pullprint::spooler::analysis {
namespace {

void closeRange(int from) {
  // close_range(2) exists on Linux >= 5.9; fall back to a bounded loop.
#ifdef SYS_close_range
  if (syscall(SYS_close_range, from, ~0U, 0) == 0) return;
#endif
  const long max = sysconf(_SC_OPEN_MAX);
  for (int fd = from; fd < (max > 0 && max < 65536 ? max : 65536); ++fd) close(fd);
}

ChildExit decode(int status) {
  ChildExit out;
  out.started = true;
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

}  // namespace

pid_t spawnWithLimits(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd, int fd3,
                      const SpawnLimits& limits, int stdin_fd) {
  if (argv.empty()) return -1;
  // Everything the child needs is prepared before fork: it may only call
  // async-signal-safe functions afterwards.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return -1;

  const pid_t pid = fork();
  if (pid != 0) {
    close(devnull);
    return pid;  // parent (or -1)
  }
  // Child. Move the fds above 3 first so the dup2s cannot clobber each other.
  const int null_fd = fcntl(devnull, F_DUPFD, 10);
  const int out = stdout_fd >= 0 ? fcntl(stdout_fd, F_DUPFD, 10) : null_fd;
  const int err = stderr_fd >= 0 ? fcntl(stderr_fd, F_DUPFD, 10) : null_fd;
  const int three = fd3 >= 0 ? fcntl(fd3, F_DUPFD, 10) : null_fd;
  const int in = stdin_fd >= 0 ? fcntl(stdin_fd, F_DUPFD, 10) : null_fd;
  if (null_fd < 0 || out < 0 || err < 0 || three < 0 || in < 0) _exit(126);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(three, 3) < 0) _exit(126);
  closeRange(4);
  if (limits.new_process_group) setpgid(0, 0);
  if (limits.background) enterBackgroundPriority();
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  if (limits.address_space_bytes) {
    struct rlimit as = {*limits.address_space_bytes, *limits.address_space_bytes};
    setrlimit(RLIMIT_AS, &as);
  }
  if (limits.cpu_seconds) {
    const rlim_t soft = static_cast<rlim_t>(*limits.cpu_seconds);
    struct rlimit cpu = {soft, soft + 1};
    setrlimit(RLIMIT_CPU, &cpu);
  }
  execvp(args[0], args.data());
  _exit(127);
}

void enterBackgroundPriority() {
  struct sched_param param = {};
  (void)sched_setscheduler(0, SCHED_IDLE, &param);
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void killAndReap(pid_t pid, bool kill_group) {
  if (pid <= 0) return;
  if (kill_group) kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

ChildExit superviseChild(pid_t pid, std::vector<ChildOutput> outputs, const Deadline& deadline,
                         const bool* stop, bool kill_group) {
  std::array<char, 16384> buffer{};
  auto closeAll = [&outputs] {
    for (auto& o : outputs) {
      if (o.fd >= 0) close(o.fd);
      o.fd = -1;
    }
  };
  // Phase 1: pump output until every pipe reaches EOF.
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].fd >= 0) {
        fds.push_back(pollfd{outputs[i].fd, POLLIN, 0});
        index.push_back(i);
      }
    }
    if (fds.empty()) break;
    if (stop != nullptr && *stop) {
      closeAll();
      killAndReap(pid, kill_group);
      ChildExit e;
      e.started = e.stopped = true;
      return e;
    }
    const auto left = deadline.remaining().count();
    if (left <= 0) {
      closeAll();
      killAndReap(pid, kill_group);
      ChildExit e;
      e.started = e.timed_out = true;
      return e;
    }
    const int wait_ms = static_cast<int>(left < 1000 ? left : 1000);
    const int ready = poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0 && errno != EINTR) break;
    for (std::size_t k = 0; ready > 0 && k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      ChildOutput& o = outputs[index[k]];
      const ssize_t n = read(o.fd, buffer.data(), buffer.size());
      if (n > 0) {
        if (o.sink) o.sink(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(o.fd);
        o.fd = -1;
      }
    }
  }
  closeAll();
  // Phase 2: all pipes closed; wait for the exit, still bounded by the deadline.
  return reapChild(pid, deadline, kill_group);
}

ChildExit reapChild(pid_t pid, const Deadline& deadline, bool kill_group) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode(status);
    if (r < 0 && errno != EINTR) {
      ChildExit e;
      e.started = true;
      return e;
    }
    if (deadline.expired()) {
      killAndReap(pid, kill_group);
      ChildExit e;
      e.started = e.timed_out = true;
      return e;
    }
    usleep(1000);
  }
}

}  // namespace pullprint::spooler::analysis
