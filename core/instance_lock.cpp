#include "core/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pullprint {

namespace {

// The PID a lock file names, or "" (empty, unreadable or not a number).
std::string holderPid(int fd) {
  char buf[32] = {0};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return "";
  return s;
}

// Locks `fd` (closed on failure) without waiting.
Status lockOrExplain(int fd, const std::filesystem::path& path, const std::string& what) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::ok();
  int e = errno;
  std::string pid = e == EWOULDBLOCK ? holderPid(fd) : "";
  ::close(fd);
  if (e == EWOULDBLOCK)
    return {StatusCode::kFailedPrecondition,
            what + " is in use by another pullprintd" +
                (pid.empty() ? std::string() : " (pid " + pid + ")") + "; lock on " +
                path.string()};
  return {StatusCode::kUnavailable, path.string() + ": cannot lock: " + std::strerror(e)};
}

}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& path,
                                           const std::string& what) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Status(StatusCode::kUnavailable,
                  path.string() + ": cannot create lock file: " + std::strerror(errno));
  if (Status s = lockOrExplain(fd, path, what); !s) return s;
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int e = errno;
    ::close(fd);
    return Status(StatusCode::kUnavailable,
                  path.string() + ": cannot write lock file: " + std::string(std::strerror(e)));
  }
  return InstanceLock(fd);
}

Result<InstanceLock> InstanceLock::acquireDirectory(const std::filesystem::path& dir,
                                                    const std::string& what) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status(StatusCode::kUnavailable,
                  dir.string() + ": cannot open directory to lock: " + std::strerror(errno));
  if (Status s = lockOrExplain(fd, dir, what); !s) return s;
  return InstanceLock(fd);
}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

}  // namespace pullprint
