#include "tests/release/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

#include "tests/support/wait.h"

namespace pullprint::rtest {

namespace {

void noDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void closeWithReset(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool sendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Index just past the IPP end-of-attributes tag, or npos while incomplete.
size_t ippAttributesEnd(const std::string& b) {
  if (b.size() < 9) return std::string::npos;
  size_t p = 8;  // version(2) operation(2) request-id(4)
  while (p < b.size()) {
    auto tag = static_cast<unsigned char>(b[p]);
    if (tag == 0x03) return p + 1;
    if (tag < 0x10) {  // group delimiter
      ++p;
      continue;
    }
    if (p + 3 > b.size()) return std::string::npos;
    size_t name_len =
        (static_cast<unsigned char>(b[p + 1]) << 8) | static_cast<unsigned char>(b[p + 2]);
    size_t q = p + 3 + name_len;
    if (q + 2 > b.size()) return std::string::npos;
    size_t value_len =
        (static_cast<unsigned char>(b[q]) << 8) | static_cast<unsigned char>(b[q + 1]);
    p = q + 2 + value_len;
  }
  return std::string::npos;
}

}  // namespace

// One relayed connection and the parser state of its client->server stream.
struct TcpProxy::Conn {
  int id = 0;
  int client_fd = -1;
  int server_fd = -1;
  std::atomic<bool> cut{false};

  enum class St { kHead, kBody, kChunkSize, kChunkData, kChunkCrlf, kTrailer };
  St st = St::kHead;
  std::string head;        // request head being collected
  std::uint64_t left = 0;  // bytes left in the body (Content-Length) or chunk
  std::string line;        // chunk-size or trailer line
  int req = -1;            // index into requests_ of the request being read
  std::string ipp;         // body prefix until the end of the IPP attributes
  bool in_document = false;
  bool not_ipp = false;
  std::deque<int> awaiting;  // complete requests without a response yet
};

TcpProxy::TcpProxy(std::uint16_t upstream_port) : upstream_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("TcpProxy: socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = testing::loopbackAddress(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("TcpProxy: bind/listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("TcpProxy: pipe failed");
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  char b = 1;
  (void)!::write(wake_[1], &b, 1);
  acceptor_.join();
  cutAll();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string TcpProxy::uri(const std::string& resource) const {
  return "ipp://127.0.0.1:" + std::to_string(port_) + resource;
}

std::vector<ProxiedRequest> TcpProxy::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t TcpProxy::requestCount() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

bool TcpProxy::waitFor(const std::function<bool(const std::vector<ProxiedRequest>&)>& pred,
                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
}

void TcpProxy::setDocumentHook(std::function<void(const ProxiedRequest&)> hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

void TcpProxy::setOperationHook(std::function<void(int op)> hook) {
  std::lock_guard lock(mu_);
  op_hook_ = std::move(hook);
}

void TcpProxy::stall(bool on) { stalled_ = on; }

void TcpProxy::cutAll() {
  std::lock_guard lock(mu_);
  for (auto& c : conns_) {
    c->cut = true;
    ::shutdown(c->client_fd, SHUT_RDWR);
    ::shutdown(c->server_fd, SHUT_RDWR);
  }
}

void TcpProxy::acceptLoop() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) continue;
    int sfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = testing::loopbackAddress(upstream_);
    if (sfd < 0 || ::connect(sfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      // Printer gone: the client sees a reset, as it would without the proxy.
      if (sfd >= 0) ::close(sfd);
      closeWithReset(cfd);
      continue;
    }
    noDelay(cfd);
    noDelay(sfd);
    auto c = std::make_shared<Conn>();
    c->client_fd = cfd;
    c->server_fd = sfd;
    std::lock_guard lock(mu_);
    c->id = next_conn_++;
    conns_.push_back(c);
    threads_.emplace_back([this, c] { relay(c); });
  }
}

void TcpProxy::relay(std::shared_ptr<Conn> c) {
  std::vector<char> buf(64 * 1024);
  bool reset = false;  // one side reset the connection: pass the reset on
  while (!stopping_ && !c->cut) {
    bool stalled = stalled_;
    pollfd p[2] = {{c->client_fd, static_cast<short>(stalled ? 0 : POLLIN), 0},
                   {c->server_fd, POLLIN, 0}};
    int r = ::poll(p, 2, 20);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    bool done = false;
    if (!stalled && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(c->client_fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        done = true;
        reset = n < 0 && errno == ECONNRESET;
      } else {
        onClientBytes(*c, buf.data(), static_cast<size_t>(n), std::chrono::steady_clock::now());
        if (stalled_ || c->cut) {
          // The hook asked to stop: these bytes go nowhere.
          if (c->cut) break;
        } else if (!sendAll(c->server_fd, buf.data(), static_cast<size_t>(n))) {
          done = true;
        }
      }
    }
    if (!done && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(c->server_fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        done = true;
        reset = n < 0 && errno == ECONNRESET;
      } else {
        onServerBytes(*c, std::chrono::steady_clock::now());
        if (!sendAll(c->client_fd, buf.data(), static_cast<size_t>(n))) done = true;
      }
    }
    if (done) break;
  }
  std::lock_guard lock(mu_);
  if (c->cut || reset) {
    closeWithReset(c->client_fd);
    closeWithReset(c->server_fd);
  } else {
    ::close(c->client_fd);
    ::close(c->server_fd);
  }
  conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
  cv_.notify_all();
}

void TcpProxy::onServerBytes(Conn& c, SteadyTime at) {
  std::lock_guard lock(mu_);
  if (c.awaiting.empty()) return;
  requests_[static_cast<size_t>(c.awaiting.front())].response = at;
  c.awaiting.pop_front();
  cv_.notify_all();
}

void TcpProxy::onClientBytes(Conn& c, const char* data, size_t n, SteadyTime at) {
  std::function<void(const ProxiedRequest&)> hook;
  std::optional<ProxiedRequest> hook_arg;
  std::function<void(int)> op_hook;
  int op_arg = -1;
  {
    std::lock_guard lock(mu_);
    // Body bytes (de-chunked) of the current request.
    auto body = [&](const char* p, size_t len) {
      if (len == 0 || c.req < 0) return;
      ProxiedRequest& r = requests_[static_cast<size_t>(c.req)];
      size_t doc_off = len;  // where document data starts within p
      if (c.in_document) {
        doc_off = 0;
      } else if (!c.not_ipp) {
        size_t before = c.ipp.size();
        c.ipp.append(p, len);
        if (c.ipp.size() >= 4 && r.op < 0) {
          r.op = (static_cast<unsigned char>(c.ipp[2]) << 8) | static_cast<unsigned char>(c.ipp[3]);
          op_hook = op_hook_;
          op_arg = r.op;
        }
        size_t end = ippAttributesEnd(c.ipp);
        if (end != std::string::npos) {
          c.in_document = true;
          doc_off = end - before;
          c.ipp.clear();
        } else if (c.ipp.size() > (1u << 20)) {
          c.not_ipp = true;
          c.ipp.clear();
        }
      }
      if (doc_off < len) {
        if (!r.first_document_byte) r.first_document_byte = at;
        r.document_bytes += len - doc_off;
        hook = hook_;
        hook_arg = r;
      }
    };
    auto complete = [&] {
      if (c.req >= 0) {
        requests_[static_cast<size_t>(c.req)].body_complete = at;
        c.awaiting.push_back(c.req);
      }
      c.st = Conn::St::kHead;
      c.req = -1;
      c.head.clear();
      c.ipp.clear();
      c.in_document = false;
      c.not_ipp = false;
    };
    size_t i = 0;
    while (i < n) {
      switch (c.st) {
        case Conn::St::kHead: {
          if (c.head.empty()) {
            ProxiedRequest r;
            r.connection = c.id;
            r.head = at;
            requests_.push_back(r);
            c.req = static_cast<int>(requests_.size() - 1);
          }
          // Collect up to the blank line.
          while (i < n && c.head.size() < 65536) {
            c.head.push_back(data[i++]);
            if (c.head.size() >= 4 && c.head.compare(c.head.size() - 4, 4, "\r\n\r\n") == 0) break;
          }
          if (c.head.size() < 4 || c.head.compare(c.head.size() - 4, 4, "\r\n\r\n") != 0) {
            if (c.head.size() >= 65536) c.head.clear();  // not HTTP: stop parsing sensibly
            break;
          }
          std::string h = lower(c.head);
          bool chunked = h.find("transfer-encoding: chunked") != std::string::npos;
          std::uint64_t length = 0;
          if (auto k = h.find("content-length:"); k != std::string::npos)
            length = std::strtoull(h.c_str() + k + 15, nullptr, 10);
          c.head.clear();
          if (chunked) {
            c.st = Conn::St::kChunkSize;
            c.line.clear();
          } else if (length > 0) {
            c.st = Conn::St::kBody;
            c.left = length;
          } else {
            complete();
          }
          break;
        }
        case Conn::St::kBody: {
          size_t take = static_cast<size_t>(std::min<std::uint64_t>(c.left, n - i));
          body(data + i, take);
          i += take;
          c.left -= take;
          if (c.left == 0) complete();
          break;
        }
        case Conn::St::kChunkSize: {
          char ch = data[i++];
          c.line.push_back(ch);
          if (ch == '\n') {
            c.left = std::strtoull(c.line.c_str(), nullptr, 16);
            c.line.clear();
            c.st = c.left == 0 ? Conn::St::kTrailer : Conn::St::kChunkData;
          }
          break;
        }
        case Conn::St::kChunkData: {
          size_t take = static_cast<size_t>(std::min<std::uint64_t>(c.left, n - i));
          body(data + i, take);
          i += take;
          c.left -= take;
          if (c.left == 0) {
            c.st = Conn::St::kChunkCrlf;
            c.line.clear();
          }
          break;
        }
        case Conn::St::kChunkCrlf: {
          char ch = data[i++];
          if (ch == '\n') c.st = Conn::St::kChunkSize;
          break;
        }
        case Conn::St::kTrailer: {
          char ch = data[i++];
          c.line.push_back(ch);
          if (ch == '\n') {
            bool empty = c.line == "\r\n" || c.line == "\n";
            c.line.clear();
            if (empty) complete();
          }
          break;
        }
      }
    }
    cv_.notify_all();
  }
  if (op_hook && op_arg >= 0) op_hook(op_arg);
  if (hook && hook_arg) hook(*hook_arg);
}

}  // namespace pullprint::rtest
