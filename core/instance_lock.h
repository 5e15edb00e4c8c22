// InstanceLock: one pullprintd per database and spool directory.
//
// Two servers on the same files would hand out the same job ids and each
// would remove the other's new documents as orphans at start. So the
// serving pullprintd holds an exclusive flock(2) on the lock file
// `<database>.lock` and on the spool directory itself for as long as it
// runs. The lock file holds its PID, so the refusal can name the holder; the
// spool directory is locked as a directory, so that it keeps holding
// documents only. The kernel drops
// the lock when the process ends, however it ends (kill -9 included): there
// is never a stale lock to clean up.
//
// Administrative commands that SQLite already serialises (--add-user,
// --backup) take no lock and work beside a running server.
//
// Thread contract: acquire() is reentrant; an InstanceLock is owned by one
// thread (main) and released by its destructor.
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace pullprint {

class InstanceLock {
 public:
  // Creates `path` if needed (mode 0600), locks it without waiting and writes
  // this process's PID into it. kFailedPrecondition when another process
  // holds it ("<what> is in use by another pullprintd (pid N)"); kUnavailable
  // when the file cannot be created or locked.
  static Result<InstanceLock> acquire(const std::filesystem::path& path, const std::string& what);
  // The same on an existing directory (no file is created, no PID written).
  static Result<InstanceLock> acquireDirectory(const std::filesystem::path& dir,
                                               const std::string& what);

  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace pullprint
