#include "tests/reports/http_stream.h"

#include "tests/support/base64.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "tests/support/http_client.h"

namespace pullprint::rtest {

using testing::base64;

StreamedResponse streamGet(std::uint16_t port, const std::string& target,
                           const std::string& basic_auth,
                           const std::function<void(std::string_view)>& on_body,
                           std::chrono::milliseconds timeout) {
  StreamedResponse res;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  if (!basic_auth.empty()) req += "Authorization: Basic " + base64(basic_auth) + "\r\n";
  req += "\r\n";
  std::unique_ptr<testing::RawConn> conn;
  try {
    conn = std::make_unique<testing::RawConn>(port);
  } catch (const std::exception&) {
    return res;  // no connection: status 0
  }
  if (!conn->send(req)) return res;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buf;  // undecoded bytes
  bool in_head = true;
  long long length = -1;      // Content-Length
  long long chunk_left = -1;  // -1: expecting a size line; else data bytes left (+2 for CRLF)
  int status = 0;
  auto body = [&](std::string_view piece) {
    res.body_bytes += piece.size();
    if (!piece.empty()) on_body(piece);
  };
  for (;;) {
    // Decode what we have.
    for (bool progress = true; progress && !res.complete;) {
      progress = false;
      if (in_head) {
        auto end = buf.find("\r\n\r\n");
        if (end == std::string::npos) break;
        res.head = buf.substr(0, end);
        for (auto& ch : res.head)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        status = std::atoi(res.head.c_str() + res.head.find(' ') + 1);
        res.chunked = res.head.find("transfer-encoding: chunked") != std::string::npos;
        if (auto k = res.head.find("content-length:"); k != std::string::npos)
          length = std::atoll(res.head.c_str() + k + 15);
        buf.erase(0, end + 4);
        in_head = false;
        progress = true;
      } else if (res.chunked) {
        if (chunk_left < 0) {
          auto eol = buf.find("\r\n");
          if (eol == std::string::npos) break;
          long long size = std::strtoll(buf.c_str(), nullptr, 16);
          buf.erase(0, eol + 2);
          if (size == 0) {
            res.complete = true;  // (no trailers are sent)
            break;
          }
          chunk_left = size + 2;
          progress = true;
        } else if (!buf.empty()) {
          long long data_left = chunk_left - 2;
          if (data_left > 0) {
            size_t take = static_cast<size_t>(
                std::min<long long>(data_left, static_cast<long long>(buf.size())));
            body(std::string_view(buf).substr(0, take));
            chunk_left -= static_cast<long long>(take);
            buf.erase(0, take);
            progress = true;
          } else if (buf.size() >= static_cast<size_t>(chunk_left)) {
            buf.erase(0, static_cast<size_t>(chunk_left));  // the CRLF after the data
            chunk_left = -1;
            progress = true;
          }
        }
      } else if (!buf.empty()) {
        body(buf);
        buf.clear();
        if (length >= 0 && res.body_bytes >= static_cast<std::uint64_t>(length))
          res.complete = true;
      } else if (length == 0) {
        res.complete = true;
      }
    }
    if (res.complete) break;
    if (!conn->readSome(deadline, &buf)) break;  // timeout or EOF
  }
  res.status = in_head ? 0 : status;
  return res;
}

void LineSplitter::feed(std::string_view data) {
  while (!data.empty()) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(data);
      return;
    }
    partial_.append(data.substr(0, nl));
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    on_line_(partial_);
    partial_.clear();
    data.remove_prefix(nl + 1);
  }
}

void LineSplitter::finish() {
  if (!partial_.empty()) on_line_(partial_);
  partial_.clear();
}

}  // namespace pullprint::rtest
