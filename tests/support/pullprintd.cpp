#include "tests/support/pullprintd.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.h"

#ifndef PULLPRINTD_PATH
#error "PULLPRINTD_PATH must name the pullprintd binary"
#endif
#ifndef DENY_SYSCALL_PATH
#error "DENY_SYSCALL_PATH must name the deny_syscall binary"
#endif

namespace pullprint::testing {

namespace fs = std::filesystem;

Pullprintd::Pullprintd(PullprintdOptions options) : dir_(options.dirPrefix) {
  // 0755 so that an lp-owned CUPS backend never needs anything here, and so
  // that a tmpfs mounted below stays reachable.
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  stateDir_ = options.stateDir.empty() ? dir_ / "state" : options.stateDir;
  spoolDir_ = options.spoolDir.empty() ? stateDir_ / "spool" : options.spoolDir;
  binary_ = options.binary.empty() ? std::filesystem::path(PULLPRINTD_PATH) : options.binary;
  launcher_ = std::move(options.launcher);
}

std::vector<std::string> denySyscall(const std::string& name, int err) {
  return {DENY_SYSCALL_PATH, name, std::to_string(err), "--"};
}

Pullprintd::~Pullprintd() {
  if (process_) process_->terminate(3000ms);
}

void Pullprintd::writeConfig(std::string_view toml) const { writeFile(configPath(), toml); }

std::string Pullprintd::uri(const std::string& queue, bool tls) const {
  return std::string(tls ? "ipps" : "ipp") + "://127.0.0.1:" + std::to_string(port_) +
         "/printers/" + queue;
}

fs::path Pullprintd::documentPath(std::int64_t jobId, int doc) const {
  char name[48];
  std::snprintf(name, sizeof name, "%08lld-%d.doc", static_cast<long long>(jobId), doc);
  return spoolDir_ / name;
}

std::vector<std::pair<fs::path, std::string>> Pullprintd::openFiles(
    const std::string& prefix) const {
  std::vector<std::pair<fs::path, std::string>> out;
  if (!running()) return out;
  std::error_code ec;
  const fs::path fds = "/proc/" + std::to_string(pid()) + "/fd";
  for (const auto& e : fs::directory_iterator(fds, ec)) {
    std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind(prefix, 0) == 0) out.emplace_back(e.path(), std::move(target));
  }
  return out;
}

std::uintmax_t Pullprintd::bytesBeingReceived() const {
  std::uintmax_t total = 0;
  // An unnamed file in the spool directory reads "<spool>/#<inode> (deleted)".
  for (const auto& [fd, target] : openFiles(spoolDir_.string() + "/#")) {
    struct stat st {};
    if (::stat(fd.c_str(), &st) == 0) total += static_cast<std::uintmax_t>(st.st_size);
  }
  return total;
}

int Pullprintd::openSpoolFiles() const {
  return static_cast<int>(openFiles(spoolDir_.string() + "/").size());
}

void Pullprintd::startUntil(const ReadyProbe& ready, std::chrono::milliseconds timeout) {
  if (running()) throw std::runtime_error("pullprintd is already running");
  const bool pickPort = port_ == 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (pickPort) port_ = pickFreePort();
    ProcessOptions po;
    po.argv = launcher_;
    for (std::string word : {binary_.string(), std::string("--listen"),
                             "127.0.0.1:" + std::to_string(port_), std::string("--state-dir"),
                             stateDir_.string(), std::string("--config"), configPath().string()})
      po.argv.push_back(std::move(word));
    po.logDir = dir_.path();
    po.logName = "pullprintd";
    process_ = std::make_unique<Process>(po);
    ++runs_;
    bool up = waitFor([&] { return !process_->running() || ready(port_); }, timeout, 10ms);
    if (up && process_->running()) return;
    std::string err = log();
    process_->terminate(1000ms);
    // Another process took the picked port between pick and bind: pick again.
    if (!(pickPort && err.find("cannot listen") != std::string::npos)) break;
  }
  throw std::runtime_error("pullprintd did not start: " + describe());
}

void Pullprintd::kill9() {
  if (process_) process_->kill();
}

void Pullprintd::stop() {
  if (process_) process_->terminate(5000ms);
}

void Pullprintd::signalGroup(int sig) const {
  if (process_ && process_->running()) ::kill(-process_->pid(), sig);
}

std::optional<int> Pullprintd::waitExit(std::chrono::milliseconds timeout) {
  if (!process_ || !process_->waitForExit(timeout)) return std::nullopt;
  process_->terminate(0ms);  // reaps the exited leader (and any straggler in its group)
  return process_->exitCode();
}

bool Pullprintd::running() const { return process_ && process_->running(); }

void Pullprintd::addUser(const std::string& name, const std::string& password,
                         const std::string& role) const {
  RunOptions ro;
  ro.stdinData = password + "\n";
  auto r = runCommand({binary_.string(), "--state-dir", stateDir_.string(), "--config",
                       configPath().string(), "--add-user", name, "--role", role},
                      30s, ro);
  if (!r.ok()) throw std::runtime_error("--add-user failed: " + r.describe());
}

std::string Pullprintd::log() const {
  return readFile(dir_ / "pullprintd.stderr") + readFile(dir_ / "pullprintd.stdout");
}

std::string Pullprintd::describe() const {
  std::ostringstream out;
  out << "pullprintd on port " << port_ << ", state " << stateDir_ << ", runs " << runs_ << "\n";
  if (process_) out << process_->describe() << "\n";
  out << "--- config ---\n" << readFile(configPath());
  out << "--- log tail ---\n" << tailFile(dir_ / "pullprintd.stderr", 8000);
  return out.str();
}

}  // namespace pullprint::testing
