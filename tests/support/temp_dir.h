// TempDir: a private scratch directory for one test or one component.
//
// Created with mkdtemp(3) under a parent directory (default /tmp, never $TMPDIR:
// cupsd's filters run as user `lp` and must be able to traverse the path, and a
// D-Bus socket path must stay under 108 bytes). Removed recursively on
// destruction unless the environment variable PULLPRINT_KEEP_TEST_DIRS=1 is set
// (then the path is printed to stderr so the logs can be read after a failure).
//
// Thread contract: a TempDir is not shared between threads while it is being
// moved or destroyed; path() may be read from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pullprint::testing {

class TempDir {
 public:
  // Creates <parent>/<prefix>-XXXXXX with mode 0700. Throws std::runtime_error
  // when the directory cannot be created.
  explicit TempDir(std::string_view prefix = "pullprint-test",
                   const std::filesystem::path& parent = "/tmp");
  ~TempDir();

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Joins a relative name onto path().
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

  // Keep this directory after destruction (e.g. a test that failed).
  void keep() { keep_ = true; }

  // True when PULLPRINT_KEEP_TEST_DIRS=1.
  static bool keepRequested();

 private:
  void removeNow() noexcept;

  std::filesystem::path path_;
  bool keep_ = false;
};

// Writes `content` to `path` (truncating). Throws std::runtime_error on failure.
void writeFile(const std::filesystem::path& path, std::string_view content);
// Reads a whole file; returns "" when it does not exist or cannot be read.
std::string readFile(const std::filesystem::path& path);
// The last `maxBytes` bytes of a file (for failure messages).
std::string tailFile(const std::filesystem::path& path, std::size_t maxBytes = 4000);

}  // namespace pullprint::testing
