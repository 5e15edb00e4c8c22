#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace pullprint::testing {

TempDir::TempDir(std::string_view prefix, const std::filesystem::path& parent) {
  std::string templ = (parent / (std::string(prefix) + "-XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("TempDir: mkdtemp(" + templ + ") failed: " + std::strerror(errno));
  }
  path_ = buf.data();
  keep_ = keepRequested();
}

TempDir::~TempDir() { removeNow(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    removeNow();
    path_ = std::move(other.path_);
    keep_ = other.keep_;
    other.path_.clear();
  }
  return *this;
}

bool TempDir::keepRequested() {
  const char* v = std::getenv("PULLPRINT_KEEP_TEST_DIRS");
  return v != nullptr && std::string_view(v) == "1";
}

void TempDir::removeNow() noexcept {
  if (path_.empty()) return;
  if (keep_) {
    std::cerr << "[pullprint-testsupport] kept test directory " << path_.string() << "\n";
  } else {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  path_.clear();
}

void writeFile(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("writeFile: cannot open " + path.string());
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("writeFile: cannot write " + path.string());
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tailFile(const std::filesystem::path& path, std::size_t maxBytes) {
  std::string all = readFile(path);
  if (all.size() <= maxBytes) return all;
  return "..." + all.substr(all.size() - maxBytes);
}

}  // namespace pullprint::testing
