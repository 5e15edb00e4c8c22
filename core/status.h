// Status and Result<T>: error values for request paths.
//
// No exception crosses a module boundary in pullprint; functions that can
// fail on untrusted input or I/O return a Status (or a Result<T> carrying a
// value on success). The code says what kind of failure it is; the
// transport layers map codes to IPP status (spooler/ipp_status.h) and HTTP
// status (admin-api) in one place each.
//
// Thread contract: plain values, safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pullprint {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the request is malformed or a value is out of range
  kNotFound,         // the named job, printer or user does not exist
  kAlreadyExists,
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // who is asking is unknown
  kFailedPrecondition,  // the object is not in a state that allows this
  kResourceExhausted,   // size limit, disk full, too many requests
  kUnimplemented,       // a valid request we do not support
  kUnavailable,         // a peer (printer, store) cannot be reached now
  kInternal,            // a bug or an unexpected system failure
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(StatusCode code, std::string message) : status_(code, std::move(message)) {}

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace pullprint
