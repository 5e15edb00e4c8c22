// A raw blocking HTTP/1.1 client for tests that talk to a server on
// 127.0.0.1 byte by byte (tests/integration, tests/release, tests/reports).
//
// RawConn is one TCP connection with a deadline on every read: a test sends
// exact bytes (partial bodies, Expect: 100-continue, chunked encoding,
// garbage) and reads whole HTTP responses (readResponse) or whatever arrives
// (readSome, for clients that decode a stream as it comes).
//
// Thread contract: a RawConn is used from one thread at a time; different
// RawConn objects are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace pullprint::testing {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;  // 0: no response
  std::string reason;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lowerName) const;
};

class RawConn {
 public:
  // Connects to 127.0.0.1:port (TCP_NODELAY). Throws std::runtime_error on failure.
  explicit RawConn(std::uint16_t port);
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  // Sends all bytes; false when the peer has gone (EPIPE/ECONNRESET).
  bool send(std::string_view bytes);
  // Reads one HTTP response (Content-Length or chunked body, or until close
  // when neither). status 0 when nothing complete arrived before the deadline.
  HttpResponse readResponse(std::chrono::milliseconds timeout = 10s);
  // Appends the bytes of one read to `out`, waiting until `deadline`; false on
  // timeout, EOF (then eof() is true) or error. Bypasses readResponse's buffer.
  bool readSome(std::chrono::steady_clock::time_point deadline, std::string* out);
  // True when the peer closes the connection (EOF or reset) before the deadline.
  bool waitClosed(std::chrono::milliseconds timeout);
  void shutdownWrite();
  bool eof() const { return eof_; }
  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false: timeout/EOF
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace pullprint::testing
