#include "tests/support/http_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.h"

namespace pullprint::testing {

std::string HttpResponse::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  return it == headers.end() ? "" : it->second;
}

RawConn::RawConn(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr = loopbackAddress(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(e));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConn::~RawConn() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConn::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawConn::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawConn::readSome(std::chrono::steady_clock::time_point deadline, std::string* out) {
  if (eof_) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    out->append(tmp, static_cast<size_t>(n));
    return true;
  }
}

bool RawConn::fill(std::chrono::steady_clock::time_point deadline) {
  return readSome(deadline, &buf_);
}

bool RawConn::waitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Decodes a chunked body at the start of `in`. Returns bytes consumed, or 0
// when incomplete.
size_t dechunk(const std::string& in, std::string* out) {
  size_t pos = 0;
  out->clear();
  for (;;) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return 0;
    size_t len = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (len == 0) {
      // Trailers end with an empty line.
      auto end = in.find("\r\n", pos);
      while (end != std::string::npos && end != pos) {
        pos = end + 2;
        end = in.find("\r\n", pos);
      }
      if (end == std::string::npos) return 0;
      return end + 2;
    }
    if (in.size() < pos + len + 2) return 0;
    out->append(in, pos, len);
    pos += len + 2;
  }
}

}  // namespace

HttpResponse RawConn::readResponse(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResponse r;
  size_t headEnd;
  while ((headEnd = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return r;
  }
  std::istringstream head(buf_.substr(0, headEnd));
  std::string line;
  std::getline(head, line);
  {
    std::istringstream sl(line);
    std::string version;
    sl >> version >> r.status;
    std::getline(sl, r.reason);
    r.reason = trim(r.reason);
  }
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  std::string rest = buf_.substr(headEnd + 4);
  if (r.status >= 100 && r.status < 200) {
    buf_ = rest;
    return r;
  }
  if (!r.header("content-length").empty()) {
    size_t len = std::stoul(r.header("content-length"));
    while (rest.size() < len) {
      if (!fill(deadline)) {
        r.status = 0;
        return r;
      }
      rest = buf_.substr(headEnd + 4);
    }
    r.body = rest.substr(0, len);
    buf_ = rest.substr(len);
  } else if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    size_t used;
    while ((used = dechunk(rest, &r.body)) == 0) {
      if (!fill(deadline)) {
        r.status = 0;
        return r;
      }
      rest = buf_.substr(headEnd + 4);
    }
    buf_ = rest.substr(used);
  } else {
    while (fill(deadline)) {
    }
    r.body = buf_.substr(headEnd + 4);
    buf_.clear();
  }
  return r;
}

}  // namespace pullprint::testing
