#include "spooler/analysis/byte_source.h"

#include <algorithm>
#include <cstring>

namespace pullprint::spooler::analysis {

std::chrono::milliseconds Deadline::remaining() const {
  if (!enabled_) return std::chrono::hours(24 * 365);
  const auto left = at_ - Clock::now();
  if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(left);
}

std::size_t MemorySource::read(uint8_t* dst, std::size_t n) {
  const std::size_t take = std::min(n, data_.size() - pos_);
  if (take > 0) std::memcpy(dst, data_.data() + pos_, take);
  pos_ += take;
  return take;
}

FileSource::FileSource(const std::filesystem::path& path) {
  file_ = std::fopen(path.c_str(), "rb");
  failed_ = file_ == nullptr;
}

FileSource::~FileSource() {
  if (file_ != nullptr) std::fclose(file_);
}

std::size_t FileSource::read(uint8_t* dst, std::size_t n) {
  if (file_ == nullptr) return 0;
  const std::size_t got = std::fread(dst, 1, n, file_);
  if (got < n && std::ferror(file_)) failed_ = true;
  return got;
}

bool Reader::refill() {
  consumed_ += end_;
  pos_ = 0;
  end_ = source_.read(buffer_.data(), buffer_.size());
  return end_ > 0;
}

bool Reader::readExact(uint8_t* dst, std::size_t n) {
  while (n > 0) {
    if (pos_ == end_ && !refill()) return false;
    const std::size_t take = std::min(n, end_ - pos_);
    std::memcpy(dst, buffer_.data() + pos_, take);
    pos_ += take;
    dst += take;
    n -= take;
  }
  return true;
}

bool Reader::skip(uint64_t n) {
  while (n > 0) {
    if (pos_ == end_ && !refill()) return false;
    const std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(n, end_ - pos_));
    pos_ += take;
    n -= take;
  }
  return true;
}

}  // namespace pullprint::spooler::analysis
