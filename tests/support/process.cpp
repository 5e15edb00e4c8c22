#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

extern char** environ;

namespace pullprint::testing {

namespace {

// Everything the child needs, prepared before fork() so that the child only
// makes async-signal-safe calls (the test process may have other threads).
struct SpawnSpec {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  int fdIn = -1;
  int fdOut = -1;
  int fdErr = -1;
  std::string workDir;
  bool pdeathsig = false;
};

std::vector<std::string> buildEnv(const EnvChanges& changes) {
  std::vector<std::string> env;
  auto nameOf = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  auto drop = [&](const std::string& name) {
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& kv) { return nameOf(kv) == name; }),
              env.end());
  };
  for (const auto& name : changes.unset) drop(name);
  for (const auto& [name, value] : changes.set) {
    drop(name);
    env.push_back(name + "=" + value);
  }
  return env;
}

int openOrThrow(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

[[noreturn]] void childFail(int errFd, int err) {
  ssize_t ignored = ::write(errFd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// fork + exec with the group/fd/signal set-up described in process.h.
// Returns the pid; throws when exec fails (errno sent back over a CLOEXEC pipe).
pid_t spawn(const SpawnSpec& spec) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const char* workDir = spec.workDir.empty() ? nullptr : spec.workDir.c_str();

  int errPipe[2];
  if (::pipe2(errPipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(errPipe[0]);
    ::close(errPipe[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    // Move every descriptor we need above 2 first: when the test runs with
    // stdin/stdout closed, the parent's descriptors may themselves be 0..2.
    int errFd = ::fcntl(errPipe[1], F_DUPFD_CLOEXEC, 10);
    if (errFd < 0) ::_exit(127);
    int in = ::fcntl(spec.fdIn, F_DUPFD_CLOEXEC, 10);
    int out = ::fcntl(spec.fdOut, F_DUPFD_CLOEXEC, 10);
    int err = ::fcntl(spec.fdErr, F_DUPFD_CLOEXEC, 10);
    if (in < 0 || out < 0 || err < 0) childFail(errFd, errno);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) childFail(errFd, errno);

    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);

    ::setpgid(0, 0);
    if (spec.pdeathsig) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // parent already gone
    }
    if (workDir != nullptr && ::chdir(workDir) != 0) childFail(errFd, errno);
    // Everything from 3 up closes on exec (kernel >= 5.11; fall back to a loop).
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      long maxFd = ::sysconf(_SC_OPEN_MAX);
      for (int fd = 3; fd < maxFd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::execve(spec.path.c_str(), argv.data(), envp.data());
    childFail(errFd, errno);
  }

  // Parent.
  ::setpgid(pid, pid);  // also in the child; whichever runs first wins the race
  ::close(errPipe[1]);
  int childErr = 0;
  ssize_t n;
  do {
    n = ::read(errPipe[0], &childErr, sizeof childErr);
  } while (n < 0 && errno == EINTR);
  ::close(errPipe[0]);
  if (n > 0) {
    int st;
    ::waitpid(pid, &st, 0);
    throw std::runtime_error("cannot execute " + spec.path + ": " + std::strerror(childErr));
  }
  return pid;
}

std::string resolveOrThrow(const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::runtime_error("empty argv");
  auto found = findProgram(argv[0]);
  if (!found) throw std::runtime_error("program not found in PATH: " + argv[0]);
  return found->string();
}

bool leaderExited(pid_t pid) {
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return true;  // ECHILD: not our child any more
  return info.si_pid != 0;
}

int reap(pid_t pid) {
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &st, 0);
  } while (r < 0 && errno == EINTR);
  return st;
}

// A process identity that survives pid reuse: pid + start time (jiffies).
struct ProcId {
  pid_t pid;
  unsigned long long startTime;
};

// Reads pid, ppid and start time from /proc/<pid>/stat.
bool readStat(pid_t pid, pid_t& ppid, unsigned long long& startTime) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  // Fields after "(comm)": 3 state, 4 ppid, ..., 22 starttime.
  for (int i = 3; i <= 22 && in >> field; ++i) {
    if (i == 4) ppid = static_cast<pid_t>(std::stol(field));
    if (i == 22) {
      startTime = std::stoull(field);
      return true;
    }
  }
  return false;
}

// Every live descendant of `root` (children, grandchildren, ...). cupsd puts
// each job's filters and backend in process groups of their own, so a group
// kill alone misses them; this snapshot is taken while the tree is intact.
std::vector<ProcId> descendants(pid_t root) {
  std::vector<std::pair<pid_t, ProcId>> all;  // (ppid, proc)
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    pid_t ppid = 0;
    unsigned long long start = 0;
    try {
      if (readStat(pid, ppid, start)) all.push_back({ppid, {pid, start}});
    } catch (...) {
      // raced with exit
    }
  }
  std::vector<ProcId> out;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    for (const auto& [ppid, proc] : all) {
      if (ppid == parent) {
        out.push_back(proc);
        frontier.push_back(proc.pid);
      }
    }
  }
  return out;
}

// SIGKILL each snapshotted process that is still the same process.
void killSnapshot(const std::vector<ProcId>& procs) {
  for (const auto& p : procs) {
    pid_t ppid = 0;
    unsigned long long start = 0;
    try {
      if (readStat(p.pid, ppid, start) && start == p.startTime) ::kill(p.pid, SIGKILL);
    } catch (...) {
    }
  }
}

std::string statusText(int st) {
  if (WIFEXITED(st)) return "exited " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + std::to_string(WTERMSIG(st));
  return "status " + std::to_string(st);
}

}  // namespace

std::vector<pid_t> childProcesses(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (long child = 0; in >> child;) out.push_back(static_cast<pid_t>(child));
  }
  return out;
}

std::vector<Process> busyLoopOnEveryCore() {
  std::vector<Process> loops;
  for (unsigned k = 0; k < std::max(1u, std::thread::hardware_concurrency()); ++k)
    loops.emplace_back(std::vector<std::string>{"/bin/sh", "-c", "while :; do :; done"});
  return loops;
}

bool processRunning(pid_t pid) {
  // readFile, not an istreambuf_iterator: a process that ends between open
  // and read fails the read with ESRCH, which the iterator throws.
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  // Field 3, after "pid (comm) ", is the state; Z = zombie, X = dead.
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
         stat[close + 2] != 'X';
}

std::optional<std::filesystem::path> findProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  const char* pathEnv = std::getenv("PATH");
  std::string path = pathEnv ? pathEnv : "/usr/local/bin:/usr/bin:/bin";
  // cupsd, lpadmin and ippeveprinter live in sbin, often missing from PATH in CI.
  path += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::string quoteArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'')
          out += "'\\''";
        else
          out += c;
      }
      out += '\'';
    }
  }
  return out;
}

// ---- Process ----------------------------------------------------------------

Process::Process(ProcessOptions options) : argv_(options.argv) {
  SpawnSpec spec;
  spec.path = resolveOrThrow(options.argv);
  spec.argv = options.argv;
  spec.envp = buildEnv(options.env);
  spec.workDir = options.workDir.string();
  spec.pdeathsig = options.killWithParent;

  int devNull = openOrThrow("/dev/null", O_RDWR);
  int outFd = -1;
  int errFd = -1;
  try {
    if (!options.logDir.empty()) {
      std::string name = options.logName.empty()
                             ? std::filesystem::path(options.argv[0]).filename().string()
                             : options.logName;
      stdoutPath_ = options.logDir / (name + ".stdout");
      stderrPath_ = options.logDir / (name + ".stderr");
      outFd = openOrThrow(stdoutPath_.string(), O_WRONLY | O_CREAT | O_APPEND);
      errFd = openOrThrow(stderrPath_.string(), O_WRONLY | O_CREAT | O_APPEND);
    }
    spec.fdIn = devNull;
    spec.fdOut = outFd >= 0 ? outFd : devNull;
    spec.fdErr = errFd >= 0 ? errFd : devNull;
    pid_ = spawn(spec);
  } catch (...) {
    ::close(devNull);
    if (outFd >= 0) ::close(outFd);
    if (errFd >= 0) ::close(errFd);
    throw;
  }
  ::close(devNull);
  if (outFd >= 0) ::close(outFd);
  if (errFd >= 0) ::close(errFd);
}

Process::Process(std::vector<std::string> argv)
    : Process([&] {
        ProcessOptions o;
        o.argv = std::move(argv);
        return o;
      }()) {}

Process::~Process() {
  if (pid_ > 0 && !status_) terminate(kDefaultGrace);
}

Process::Process(Process&& other) noexcept
    : argv_(std::move(other.argv_)),
      pid_(other.pid_),
      status_(other.status_),
      stdoutPath_(std::move(other.stdoutPath_)),
      stderrPath_(std::move(other.stderrPath_)) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) terminate(kDefaultGrace);
    argv_ = std::move(other.argv_);
    pid_ = other.pid_;
    status_ = other.status_;
    stdoutPath_ = std::move(other.stdoutPath_);
    stderrPath_ = std::move(other.stderrPath_);
    other.pid_ = -1;
  }
  return *this;
}

bool Process::running() const {
  if (pid_ <= 0 || status_) return false;
  return !leaderExited(pid_);
}

bool Process::waitForExit(std::chrono::milliseconds timeout) {
  return waitFor([this] { return !running(); }, timeout, 10ms);
}

void Process::stopGroup(std::chrono::milliseconds grace, bool sendTerm) {
  if (pid_ <= 0 || status_) return;
  // Descendants that left our process group (cupsd's filters and backends)
  // are found by parentage now, before the leader exits and they get orphaned.
  const std::vector<ProcId> tree = descendants(pid_);
  if (sendTerm) {
    ::kill(-pid_, SIGTERM);
    waitForExit(grace);
  }
  // The leader is not reaped yet, so -pid_ still names our group.
  ::kill(-pid_, SIGKILL);
  killSnapshot(tree);
  status_ = reap(pid_);
}

int Process::terminate(std::chrono::milliseconds grace) {
  stopGroup(grace, true);
  return status_.value_or(0);
}

int Process::kill() {
  stopGroup(0ms, false);
  return status_.value_or(0);
}

std::optional<int> Process::exitCode() const {
  if (!status_ || !WIFEXITED(*status_)) return std::nullopt;
  return WEXITSTATUS(*status_);
}

std::optional<int> Process::termSignal() const {
  if (!status_ || !WIFSIGNALED(*status_)) return std::nullopt;
  return WTERMSIG(*status_);
}

std::string Process::stdoutText() const { return readFile(stdoutPath_); }
std::string Process::stderrText() const { return readFile(stderrPath_); }

std::string Process::describe() const {
  std::ostringstream os;
  os << "process [" << quoteArgv(argv_) << "] pid " << pid_ << ": ";
  if (status_)
    os << statusText(*status_);
  else
    os << (running() ? "running" : "exited (not reaped)");
  if (!stderrPath_.empty()) {
    os << "\n--- stderr (" << stderrPath_.string() << ") ---\n" << tailFile(stderrPath_, 3000);
    os << "\n--- stdout (" << stdoutPath_.string() << ") ---\n" << tailFile(stdoutPath_, 1500);
  }
  return os.str();
}

// ---- runCommand -------------------------------------------------------------

std::string CommandResult::describe() const {
  std::ostringstream os;
  os << "command [" << quoteArgv(argv) << "] ";
  if (timedOut)
    os << "timed out";
  else if (termSignal != 0)
    os << "killed by signal " << termSignal;
  else
    os << "exited " << exitCode;
  os << " after " << elapsed.count() << " ms\n--- stdout ---\n"
     << (out.size() > 4000 ? "..." + out.substr(out.size() - 4000) : out) << "\n--- stderr ---\n"
     << (err.size() > 4000 ? "..." + err.substr(err.size() - 4000) : err);
  return os.str();
}

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  CommandResult result;
  result.argv = argv;

  SpawnSpec spec;
  spec.path = resolveOrThrow(argv);
  spec.argv = argv;
  spec.envp = buildEnv(options.env);
  spec.workDir = options.workDir.string();
  spec.pdeathsig = true;  // runs on the calling thread until it returns

  int outPipe[2] = {-1, -1};
  int errPipe[2] = {-1, -1};
  int inPipe[2] = {-1, -1};
  int devNull = -1;
  auto closeAll = [&] {
    for (int fd : {outPipe[0], outPipe[1], errPipe[0], errPipe[1], inPipe[0], inPipe[1], devNull}) {
      if (fd >= 0) ::close(fd);
    }
  };
  pid_t pid;
  try {
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    if (!options.stdinData.empty()) {
      if (::pipe2(inPipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
      }
      spec.fdIn = inPipe[0];
    } else {
      devNull = openOrThrow("/dev/null", O_RDONLY);
      spec.fdIn = devNull;
    }
    spec.fdOut = outPipe[1];
    spec.fdErr = errPipe[1];
    pid = spawn(spec);
  } catch (...) {
    closeAll();
    throw;
  }
  // Parent keeps only its ends.
  ::close(outPipe[1]);
  outPipe[1] = -1;
  ::close(errPipe[1]);
  errPipe[1] = -1;
  if (inPipe[0] >= 0) {
    ::close(inPipe[0]);
    inPipe[0] = -1;
    ::fcntl(inPipe[1], F_SETFL, O_NONBLOCK);
  }

  // Pump stdin/stdout/stderr until both outputs hit EOF. If the leader exits
  // but a grandchild keeps a pipe open, give it 1 s and then kill the group.
  const auto deadline = start + timeout;
  std::size_t inOff = 0;
  std::optional<std::chrono::steady_clock::time_point> leaderGoneAt;
  bool groupKilled = false;
  char buf[8192];
  while (outPipe[0] >= 0 || errPipe[0] >= 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!groupKilled && now >= deadline) {
      result.timedOut = true;
      ::kill(-pid, SIGKILL);
      groupKilled = true;
    }
    if (!leaderGoneAt && leaderExited(pid)) leaderGoneAt = now;
    if (!groupKilled && leaderGoneAt && now - *leaderGoneAt > 1s) {
      ::kill(-pid, SIGKILL);
      groupKilled = true;
    }
    if (groupKilled && now >= deadline + 2s) break;  // give up on stray holders

    pollfd fds[3];
    int n = 0;
    int idxOut = -1, idxErr = -1, idxIn = -1;
    if (outPipe[0] >= 0) {
      idxOut = n;
      fds[n++] = {outPipe[0], POLLIN, 0};
    }
    if (errPipe[0] >= 0) {
      idxErr = n;
      fds[n++] = {errPipe[0], POLLIN, 0};
    }
    if (inPipe[1] >= 0) {
      idxIn = n;
      fds[n++] = {inPipe[1], POLLOUT, 0};
    }
    int rc = ::poll(fds, static_cast<nfds_t>(n), 50);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    auto drain = [&](int idx, int& fd, std::string& into) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        into.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        fd = -1;
      }
    };
    drain(idxOut, outPipe[0], result.out);
    drain(idxErr, errPipe[0], result.err);
    if (idxIn >= 0 && fds[idxIn].revents != 0) {
      ssize_t w =
          ::write(inPipe[1], options.stdinData.data() + inOff, options.stdinData.size() - inOff);
      if (w > 0) inOff += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || inOff >= options.stdinData.size()) {
        ::close(inPipe[1]);
        inPipe[1] = -1;
      }
    }
  }
  closeAll();

  // Reap the leader (bounded: the group gets SIGKILL if it outlives the deadline).
  if (!waitFor([pid] { return leaderExited(pid); },
               std::max(std::chrono::milliseconds(0),
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())),
               5ms)) {
    result.timedOut = true;
  }
  ::kill(-pid, SIGKILL);  // stragglers; the unreaped leader keeps the pgid ours
  int st = reap(pid);
  if (WIFEXITED(st)) result.exitCode = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) result.termSignal = WTERMSIG(st);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return result;
}

}  // namespace pullprint::testing
