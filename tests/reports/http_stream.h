// A minimal streaming HTTP/1.1 GET client for the report exports (tests and
// bench/reports): decodes chunked transfer encoding as the bytes arrive and
// hands the body to a callback piece by piece, so a test can check a
// 100 MB export without holding it. Loopback only; one request per
// connection. Thread contract: plain function, no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pullprint::rtest {

struct StreamedResponse {
  int status = 0;         // 0: no response (connect failed, timeout)
  std::string head;       // status line and headers, lower-cased
  bool chunked = false;   // Transfer-Encoding: chunked
  bool complete = false;  // final chunk (or Content-Length) reached
  std::uint64_t body_bytes = 0;
};

// GET `target` from 127.0.0.1:port with HTTP Basic `basic_auth` ("user:pw").
StreamedResponse streamGet(std::uint16_t port, const std::string& target,
                           const std::string& basic_auth,
                           const std::function<void(std::string_view)>& on_body,
                           std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Splits a byte stream into lines (without "\r\n"), for on_body.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(std::string_view)> on_line)
      : on_line_(std::move(on_line)) {}
  void feed(std::string_view data);
  void finish();  // a last line without a line end
 private:
  std::function<void(std::string_view)> on_line_;
  std::string partial_;
};

}  // namespace pullprint::rtest
