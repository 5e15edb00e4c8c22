#pragma once
// Byte input for the streaming parsers (raster, DSC, text): a source
// abstraction over files and memory buffers, a buffered reader with cheap
// byte-at-a-time access, and the cooperative deadline every parser polls.
//
// Invariants: a parser never holds more than one buffer (kBufferSize) of the
// input; end of input and read errors both read as "no more bytes" and are
// told apart with ByteSource::failed().
// Thread contract: objects are confined to the thread that created them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

namespace pullprint::spooler::analysis {

// A wall-clock deadline polled by the parsers (every few hundred KiB of
// input). A default-constructed Deadline never expires.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  Deadline() = default;
  explicit Deadline(Clock::time_point at) : at_(at), enabled_(true) {}
  static Deadline after(std::chrono::milliseconds budget) {
    return Deadline(Clock::now() + budget);
  }

  bool expired() const { return enabled_ && Clock::now() >= at_; }
  // Time left (zero if expired); a large value when the deadline is disabled.
  std::chrono::milliseconds remaining() const;

 private:
  Clock::time_point at_{};
  bool enabled_ = false;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `dst`; returns how many were read, 0 at the end
  // of input or on error.
  virtual std::size_t read(uint8_t* dst, std::size_t n) = 0;
  virtual bool failed() const { return false; }
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  std::size_t read(uint8_t* dst, std::size_t n) override;

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  bool isOpen() const { return file_ != nullptr; }
  std::size_t read(uint8_t* dst, std::size_t n) override;
  bool failed() const override { return failed_; }

 private:
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

// Buffered reader with inline single-byte access and skipping.
class Reader {
 public:
  static constexpr std::size_t kBufferSize = 64 * 1024;
  explicit Reader(ByteSource& source) : source_(source), buffer_(kBufferSize) {}

  // Next byte (0-255) or -1 at the end of input.
  int get() {
    if (pos_ == end_ && !refill()) return -1;
    return buffer_[pos_++];
  }
  // Reads exactly `n` bytes; false (and a partial fill) at the end of input.
  bool readExact(uint8_t* dst, std::size_t n);
  // Skips exactly `n` bytes; false at the end of input.
  bool skip(uint64_t n);
  // Total bytes consumed so far.
  uint64_t offset() const { return consumed_ + pos_; }
  bool failed() const { return source_.failed(); }

 private:
  bool refill();

  ByteSource& source_;
  std::vector<uint8_t> buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  uint64_t consumed_ = 0;  // bytes of input before buffer_[0]
};

}  // namespace pullprint::spooler::analysis
