// TcpProxy: a small TCP relay on 127.0.0.1:<picked port> placed in front of a
// real printer (ippeveprinter) to see *when* bytes reach it, and to cut the
// line at a chosen moment.
//
// It relays bytes unchanged in both directions (a reset on one side is passed
// on to the other as a reset, not a plain close) and reads the client->printer
// stream as HTTP/1.1 requests carrying IPP (Content-Length or chunked bodies,
// keep-alive, Expect: 100-continue). For every request it records the time
// the request head arrived, the IPP operation-id, the time the first byte of
// document data arrived (the byte after the IPP end-of-attributes tag), how
// many document bytes passed, when the request body was complete and when the
// first response byte after that came back. Times are steady_clock, measured
// when the proxy read the bytes, before forwarding them: "first byte at the
// printer" within one loopback hop.
//
// Fault injection: a document hook sees the running document byte count;
// stall() stops reading from clients (backpressure builds up, nothing more
// reaches the printer) and cutAll() resets every open connection.
//
// Threads: one acceptor thread and one thread per connection, all owned and
// joined by the destructor. Public methods are thread-safe; the hook runs on a
// connection thread and must not call cutAll() (set a flag instead).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pullprint::rtest {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ProxiedRequest {
  int connection = 0;  // 1-based connection number
  int op = -1;         // IPP operation-id (-1: not IPP or not parsed yet)
  SteadyTime head;     // first byte of the HTTP request line
  std::optional<SteadyTime> first_document_byte;
  std::optional<SteadyTime> body_complete;
  std::optional<SteadyTime> response;  // first response byte after the body was complete
  std::uint64_t document_bytes = 0;
};

inline constexpr int kOpPrintJob = 0x0002;
inline constexpr int kOpCreateJob = 0x0005;
inline constexpr int kOpSendDocument = 0x0006;

class TcpProxy {
 public:
  // Relays to 127.0.0.1:upstream_port. Throws std::runtime_error if it cannot listen.
  explicit TcpProxy(std::uint16_t upstream_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // ipp://127.0.0.1:PORT<resource>
  std::string uri(const std::string& resource = "/ipp/print") const;

  // Snapshot of every request seen so far, in arrival order.
  std::vector<ProxiedRequest> requests() const;
  size_t requestCount() const;
  // Waits until `pred(requests())` is true; false on timeout.
  bool waitFor(const std::function<bool(const std::vector<ProxiedRequest>&)>& pred,
               std::chrono::milliseconds timeout) const;

  // Called on a connection thread each time document bytes are relayed, with
  // the request's document byte count so far.
  void setDocumentHook(std::function<void(const ProxiedRequest&)> hook);
  // Called on a connection thread once per IPP request, with its
  // operation-id, as soon as the proxy has read it and before those bytes
  // go on to the printer: the sender has already decided to send it.
  void setOperationHook(std::function<void(int op)> hook);
  // Stop (true) or resume (false) reading from clients.
  void stall(bool on);
  // Resets every open connection (both sides). New connections still work.
  void cutAll();

 private:
  struct Conn;
  void acceptLoop();
  void relay(std::shared_ptr<Conn> c);
  void onClientBytes(Conn& c, const char* data, size_t n, SteadyTime at);
  void onServerBytes(Conn& c, SteadyTime at);

  std::uint16_t upstream_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stalled_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;  // guards everything below
  mutable std::condition_variable cv_;
  std::vector<ProxiedRequest> requests_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::thread> threads_;
  std::function<void(const ProxiedRequest&)> hook_;
  std::function<void(int op)> op_hook_;
  int next_conn_ = 1;
};

}  // namespace pullprint::rtest
