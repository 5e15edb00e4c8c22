#include "server/http_server.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "admin-api/web.h"

namespace pullprint::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(net::io_context& io, const Config& c, spooler::IppService& i, Logger& l,
       std::shared_ptr<ssl::context> t, api::Api* a)
      : io(io),
        config(c),
        ipp(i),
        log(l),
        tls_enabled(t != nullptr),
        tls(std::move(t)),
        api(a),
        acceptor(net::make_strand(io)),
        blocking(2) {}

  void accept();
  // A connection ended (session or TLS detector); the last one while
  // draining finishes the drain.
  void connectionClosed();
  // Runs the drain's `done` once (drained or grace over).
  void finishDrain();
  // The TLS context new connections get (setTlsContext swaps it).
  std::shared_ptr<ssl::context> tlsContext() {
    std::lock_guard lock(tls_mu);
    return tls;
  }

  net::io_context& io;
  const Config& config;
  spooler::IppService& ipp;
  Logger& log;
  const bool tls_enabled;
  std::mutex tls_mu;                  // guards tls
  std::shared_ptr<ssl::context> tls;  // a session keeps the one it started with
  api::Api* api;
  Metrics* metrics = nullptr;  // IPP latency histogram (may be null)
  tcp::acceptor acceptor;
  net::thread_pool blocking;  // API handlers: they touch the store and printers
  std::atomic<int> connections{0};
  std::atomic<bool> stopped{false};

  // Sessions that can be closed when they wait for a request (drain()):
  // id -> a closer that posts to the session's strand.
  std::mutex sessions_mu;  // guards the three members below
  std::unordered_map<std::uint64_t, std::function<void()>> idle_closers;
  std::uint64_t next_session_id = 1;    // 0: a session not registered
  std::function<void(int)> drain_done;  // set by drain(), run once
  std::optional<net::steady_timer> drain_timer;
};

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr std::uint64_t kMaxDrain = 16ull << 20;  // read and drop after an early error
constexpr size_t kMaxApiBody = 1 << 20;           // JSON request bodies

// Decodes "Basic <base64>" into user and password.
bool parseBasic(beast::string_view header, std::string* user, std::string* password) {
  constexpr beast::string_view kBasic = "Basic ";
  if (header.size() <= kBasic.size() || !beast::iequals(header.substr(0, kBasic.size()), kBasic))
    return false;
  auto b64 = header.substr(kBasic.size());
  if (b64.size() > 1024 || b64.size() % 4) return false;
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  if (b64.size() >= 1 && b64.back() == '=') --len;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') --len;
  out.resize(len);
  auto colon = out.find(':');
  if (colon == std::string::npos) return false;
  *user = out.substr(0, colon);
  *password = out.substr(colon + 1);
  return !user->empty();
}

// Keeps only characters a Host header may carry; used in URIs we send back.
std::string sanitiseHost(beast::string_view host) {
  std::string out;
  for (char ch : host) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' ||
        ch == '[' || ch == ']')
      out.push_back(ch);
    if (out.size() > 255) break;
  }
  return out;
}

bool isIppTarget(beast::string_view target) {
  return target == "/" || target.starts_with("/printers/") || target == "/ipp/print" ||
         target.starts_with("/jobs/") || target.starts_with("/ipp/");
}

// One HTTP connection; Derived provides stream(), doClose() and the TLS
// handshake where there is one (CRTP, as in Beast's flex-server example).
template <class Derived>
class Session {
 public:
  Session(std::shared_ptr<HttpServer::Impl> srv, beast::flat_buffer buffer, std::string peer_addr,
          bool tls)
      : srv_(std::move(srv)), buffer_(std::move(buffer)) {
    peer_.address = std::move(peer_addr);
    peer_.tls = tls;
  }

  ~Session() {
    if (id_ != 0) {
      std::lock_guard lock(srv_->sessions_mu);
      srv_->idle_closers.erase(id_);
    }
    srv_->connectionClosed();
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }

  // Lets drain() close this connection while it waits for a request.
  void registerForDrain() {
    std::weak_ptr<Derived> weak = derived().shared_from_this();
    std::lock_guard lock(srv_->sessions_mu);
    id_ = srv_->next_session_id++;
    srv_->idle_closers.emplace(id_, [weak] {
      if (auto self = weak.lock())
        net::post(self->stream().get_executor(), [self] { self->closeIfIdle(); });
    });
  }

  // Draining: a connection between requests is closed now (its pending read
  // ends with an error and the session goes); one in a request finishes it.
  void closeIfIdle() {
    if (!awaiting_request_ || buffer_.size() > 0 || (parser_ && parser_->got_some())) return;
    beast::error_code ec;
    beast::get_lowest_layer(derived().stream()).socket().close(ec);
  }

  void doReadHeader() {
    if (srv_->stopped) return derived().doClose();  // draining: no further requests
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // the IPP layer limits
    phase_ = Phase::kHeader;
    ipp_buf_.clear();
    sink_.reset();
    close_after_ = false;
    drained_ = 0;
    awaiting_request_ = true;
    setTimeout();
    http::async_read_header(
        derived().stream(), buffer_, *parser_,
        beast::bind_front_handler(&Session::onHeader, derived().shared_from_this()));
  }

  void setTimeout() {
    beast::get_lowest_layer(derived().stream())
        .expires_after(std::chrono::seconds(srv_->config.idle_timeout_seconds));
  }

  void onHeader(beast::error_code ec, size_t) {
    awaiting_request_ = false;
    if (ec) return derived().doClose();
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    peer_.host = sanitiseHost(req[http::field::host]);
    peer_.basic_user.reset();
    peer_.basic_password.reset();
    std::string u, p;
    if (parseBasic(req[http::field::authorization], &u, &p)) {
      peer_.basic_user = u;
      peer_.basic_password = p;
    }
    beast::string_view target = req.target();
    if (req.method() == http::verb::post && isIppTarget(target)) {
      auto ct = req[http::field::content_type];
      if (!beast::iequals(ct.substr(0, 15), "application/ipp"))
        return sendText(http::status::unsupported_media_type,
                        "POST needs Content-Type application/ipp\n", true);
      return continueThenReadBody();
    }
    if (srv_->api && api::Api::serves(std::string_view(target.data(), target.size()))) {
      phase_ = Phase::kApiBody;
      api_body_.clear();
      return continueThenReadBody();
    }
    if (req.method() == http::verb::get && target == "/healthz")
      return sendText(http::status::ok, "ok\n", false);
    if (auto t = std::string_view(target.data(), target.size());  // web pages (admin-api/web.h)
        api::WebPages::serves(t.substr(0, t.find('?')))) {
      auto m = req.method_string();
      auto inm = req[http::field::if_none_match];
      return sendWeb(api::WebPages::handle({m.data(), m.size()}, t, {inm.data(), inm.size()}));
    }
    if (req.method() == http::verb::get || req.method() == http::verb::head)
      return sendText(http::status::not_found, "not found\n", !parser_->is_done());
    return sendText(http::status::method_not_allowed, "method not allowed\n", true);
  }

  // Answers `Expect: 100-continue` when asked, then reads the body.
  void continueThenReadBody() {
    auto& req = parser_->get();
    if (!beast::iequals(req[http::field::expect], "100-continue")) return doReadBody();
    auto cont =
        std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
    http::async_write(derived().stream(), *cont,
                      [self = derived().shared_from_this(), cont](beast::error_code e, size_t) {
                        if (e) return self->doClose();
                        self->doReadBody();
                      });
  }

  void doReadBody() {
    if (parser_->is_done()) return process(nullptr, 0, true);
    parser_->get().body().data = chunk_.data();
    parser_->get().body().size = chunk_.size();
    setTimeout();
    http::async_read(derived().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&Session::onBody, derived().shared_from_this()));
  }

  void onBody(beast::error_code ec, size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      // Stalled (timeout) or gone: whatever was uploaded is dropped (sink dtor).
      if (sink_) {
        srv_->log.warn("http.body-aborted", {{"peer", peer_.address}, {"error", ec.message()}});
        sink_.reset();
      }
      return derived().doClose();
    }
    size_t n = chunk_.size() - parser_->get().body().size;
    process(chunk_.data(), n, parser_->is_done());
  }

  void process(const char* data, size_t n, bool done) {
    switch (phase_) {
      case Phase::kHeader: {
        ipp_buf_.append(data ? data : "", n);
        auto pr = srv_->ipp.parse(ipp_buf_.data(), ipp_buf_.size(), done);
        if (pr.kind == spooler::ParseResult::Kind::kNeedMore) return doReadBody();
        if (pr.kind == spooler::ParseResult::Kind::kMalformed) {
          srv_->log.info("ipp.malformed", {{"peer", peer_.address}, {"error", pr.error}});
          phase_ = Phase::kDone;
          return sendText(http::status::bad_request, pr.error + "\n", true);
        }
        std::string rest = ipp_buf_.substr(pr.consumed);
        ipp_buf_.clear();
        ipp_buf_.shrink_to_fit();
        ipp_started_ = std::chrono::steady_clock::now();
        auto hr = srv_->ipp.handle(pr.request, peer_, makeRespond());
        if (hr.needs_authentication) {
          phase_ = Phase::kDone;
          return sendUnauthorized(!done);
        }
        if (!hr.sink) {
          phase_ = Phase::kDone;
          if (!done) close_after_ = true;  // body we will not read: drained after the answer
          return;                          // the answer arrives through respond
        }
        sink_ = std::move(hr.sink);
        phase_ = Phase::kDocument;
        if (!rest.empty()) return process(rest.data(), rest.size(), done);
        if (done) return process(nullptr, 0, true);
        return doReadBody();
      }
      case Phase::kDocument: {
        if (n > 0) {
          if (Status st = sink_->write(data, n); !st) {
            phase_ = Phase::kDone;
            close_after_ = !done;
            auto sink = std::move(sink_);
            sink->fail(st, makeRespond());
            return;
          }
        }
        if (done) {
          phase_ = Phase::kDone;
          auto sink = std::move(sink_);
          sink->finish(makeRespond());
          return;
        }
        return doReadBody();
      }
      case Phase::kApiBody: {
        api_body_.append(data ? data : "", n);
        if (api_body_.size() > kMaxApiBody) {
          phase_ = Phase::kDone;
          return sendJson(413, R"({"error":"request body too large"})", false, true);
        }
        if (!done) return doReadBody();
        phase_ = Phase::kDone;
        auto& req = parser_->get();
        api::ApiRequest ar;
        ar.method = std::string(req.method_string());
        ar.target = std::string(req.target());
        ar.body = std::move(api_body_);
        ar.peer_address = peer_.address;
        ar.tls = peer_.tls;
        ar.basic_user = peer_.basic_user;
        ar.basic_password = peer_.basic_password;
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (auto& ch : name)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          ar.headers[name] = std::string(f.value());
        }
        auto self = derived().shared_from_this();
        net::post(srv_->blocking, [self, ar = std::move(ar)] {
          api::ApiResponse r = self->srv_->api->handle(ar);
          net::post(self->stream().get_executor(), [self, r = std::move(r)]() mutable {
            if (r.next_chunk) return self->sendStream(std::move(r));
            self->sendJson(r.status, r.body, r.challenge, false, r.content_type, r.headers);
          });
        });
        return;
      }
      case Phase::kDrain: {
        drained_ += n;
        if (done || drained_ > kMaxDrain) return derived().doClose();
        return doReadBody();
      }
      case Phase::kDone:
        return;
    }
  }

  // The IPP layer answers from any thread: hop back onto this connection's strand.
  spooler::Respond makeRespond() {
    auto self = derived().shared_from_this();
    return [self](std::string bytes) {
      net::post(self->stream().get_executor(),
                [self, b = std::move(bytes)]() mutable { self->sendIpp(std::move(b)); });
    };
  }

  void sendIpp(std::string bytes) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok,
                                                                   parser_->get().version());
    res->set(http::field::server, "pullprint");
    res->set(http::field::content_type, "application/ipp");
    res->body() = std::move(bytes);
    if (srv_->metrics)  // from the parsed IPP header to the response (includes any upload)
      srv_->metrics->ipp_request_seconds.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ipp_started_).count());
    send(res);
  }

  void sendText(http::status status, std::string text, bool close) {
    auto res =
        std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
    res->set(http::field::server, "pullprint");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->body() = std::move(text);
    if (close) close_after_ = true;
    send(res);
  }

  void sendJson(int status, std::string body, bool challenge, bool close,
                const std::string& content_type = "application/json",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), parser_->get().version());
    res->set(http::field::server, "pullprint");
    res->set(http::field::content_type, content_type);
    res->set(http::field::cache_control, "no-store");
    if (challenge)
      res->set(http::field::www_authenticate, "Basic realm=\"pullprint\", charset=\"UTF-8\"");
    for (const auto& [name, value] : headers) res->insert(name, value);  // e.g. Set-Cookie
    res->body() = std::move(body);
    if (close) close_after_ = true;
    send(res);
  }

  void sendWeb(const api::WebReply& w) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(w.status), parser_->get().version());
    res->set(http::field::server, "pullprint");
    if (!w.content_type.empty()) res->set(http::field::content_type, w.content_type);
    for (const auto& [name, value] : w.headers) res->set(name, value);
    res->body() = std::string(w.body);
    if (!parser_->is_done()) close_after_ = true;  // a GET with a body: drained, then closed
    send(res);
  }

  // A streamed API response (ApiResponse::next_chunk): the header, then one
  // chunk per producer call (made on the blocking pool, written on this
  // strand; the next call waits for the write: one piece in memory), then the
  // last chunk. A failing producer or write closes the connection.
  using Producer = std::function<api::StreamStep(std::string&)>;
  void sendStream(api::ApiResponse r) {
    auto res = std::make_shared<http::response<http::empty_body>>(
        static_cast<http::status>(r.status), parser_->get().version());
    res->set(http::field::server, "pullprint");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->chunked(true);
    res->keep_alive(keep_alive_ && !close_after_);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    auto next = std::make_shared<Producer>(std::move(r.next_chunk));
    setTimeout();
    http::async_write_header(
        derived().stream(), *sr,
        [self = derived().shared_from_this(), res, sr, next](beast::error_code ec, size_t) {
          if (ec) return self->doClose();
          self->produceChunk(next, res->keep_alive());
        });
  }

  void produceChunk(std::shared_ptr<Producer> next, bool keep) {
    auto self = derived().shared_from_this();
    net::post(srv_->blocking, [self, next, keep] {
      auto piece = std::make_shared<std::string>();
      api::StreamStep step = (*next)(*piece);
      net::post(self->stream().get_executor(),
                [self, next, keep, piece, step] { self->writeChunk(next, keep, piece, step); });
    });
  }

  void writeChunk(std::shared_ptr<Producer> next, bool keep, std::shared_ptr<std::string> piece,
                  api::StreamStep step) {
    if (step == api::StreamStep::kFailed) {
      srv_->log.warn("http.stream-failed", {{"peer", peer_.address}});
      return derived().doClose();
    }
    auto self = derived().shared_from_this();
    auto written = [self, next, keep, step](beast::error_code ec) {
      if (ec) return self->doClose();
      if (step == api::StreamStep::kMore) return self->produceChunk(next, keep);
      self->setTimeout();
      net::async_write(self->stream(), http::make_chunk_last(),
                       [self, keep](beast::error_code e, size_t) { self->onWrite(e, keep); });
    };
    if (piece->empty()) return written({});
    setTimeout();
    net::async_write(derived().stream(), http::make_chunk(net::buffer(*piece)),
                     [piece, written](beast::error_code ec, size_t) { written(ec); });
  }

  void sendUnauthorized(bool body_left) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::unauthorized,
                                                                   parser_->get().version());
    res->set(http::field::server, "pullprint");
    res->set(http::field::www_authenticate, "Basic realm=\"pullprint\", charset=\"UTF-8\"");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->body() = "authentication required\n";
    if (body_left) close_after_ = true;
    send(res);
  }

  void send(std::shared_ptr<http::response<http::string_body>> res) {
    res->keep_alive(keep_alive_ && !close_after_ && !srv_->stopped);
    res->prepare_payload();
    setTimeout();
    http::async_write(derived().stream(), *res,
                      [self = derived().shared_from_this(), res](beast::error_code ec, size_t) {
                        self->onWrite(ec, res->keep_alive());
                      });
  }

  void onWrite(beast::error_code ec, bool keep) {
    if (ec) return derived().doClose();
    if (close_after_ && parser_ && !parser_->is_done()) {
      // Read and drop the rest of an upload we refused, so the client sees
      // our answer instead of a connection reset.
      phase_ = Phase::kDrain;
      return doReadBody();
    }
    if (!keep || srv_->stopped) return derived().doClose();
    doReadHeader();
  }

  enum class Phase { kHeader, kDocument, kApiBody, kDrain, kDone };

  std::shared_ptr<HttpServer::Impl> srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  std::array<char, kChunk> chunk_{};
  spooler::Peer peer_;
  Phase phase_ = Phase::kHeader;
  std::string ipp_buf_;
  std::string api_body_;
  std::chrono::steady_clock::time_point ipp_started_;
  std::unique_ptr<spooler::DocumentSink> sink_;
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool awaiting_request_ = false;  // between requests (drain() may close)
  std::uint64_t drained_ = 0;
  std::uint64_t id_ = 0;  // key in srv_->idle_closers; 0 until registerForDrain()
};

class PlainSession : public Session<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(std::shared_ptr<HttpServer::Impl> srv, beast::tcp_stream&& stream,
               beast::flat_buffer buffer, std::string peer)
      : Session(std::move(srv), std::move(buffer), std::move(peer), false),
        stream_(std::move(stream)) {}
  void run() {
    registerForDrain();
    doReadHeader();
  }
  beast::tcp_stream& stream() { return stream_; }
  void doClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

 private:
  friend class Session<PlainSession>;
  beast::tcp_stream stream_;
};

class SslSession : public Session<SslSession>, public std::enable_shared_from_this<SslSession> {
 public:
  SslSession(std::shared_ptr<HttpServer::Impl> srv, beast::tcp_stream&& stream,
             std::shared_ptr<ssl::context> ctx, beast::flat_buffer buffer, std::string peer)
      : Session(std::move(srv), std::move(buffer), std::move(peer), true),
        ctx_(std::move(ctx)),
        stream_(std::move(stream), *ctx_) {}
  void run() {
    registerForDrain();
    setTimeout();
    stream_.async_handshake(ssl::stream_base::server, buffer_.data(),
                            [self = shared_from_this()](beast::error_code ec, size_t used) {
                              if (ec) return self->doClose();
                              self->buffer_.consume(used);
                              self->doReadHeader();
                            });
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void doClose() {
    if (closing_) return;
    closing_ = true;
    setTimeout();
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().close(ec);
    });
  }

 private:
  friend class Session<SslSession>;
  std::shared_ptr<ssl::context> ctx_;  // outlives stream_ (declared first)
  beast::ssl_stream<beast::tcp_stream> stream_;
  bool closing_ = false;
};

// Reads the first bytes: TLS ClientHello or plain HTTP.
class Detector : public std::enable_shared_from_this<Detector> {
 public:
  Detector(std::shared_ptr<HttpServer::Impl> srv, tcp::socket&& socket, std::string peer)
      : srv_(std::move(srv)), stream_(std::move(socket)), peer_(std::move(peer)) {}

  void run() {
    if (!srv_->tls_enabled) {
      return std::make_shared<PlainSession>(srv_, std::move(stream_), std::move(buffer_),
                                            std::move(peer_))
          ->run();
    }
    stream_.expires_after(std::chrono::seconds(srv_->config.idle_timeout_seconds));
    beast::async_detect_ssl(
        stream_, buffer_, [self = shared_from_this()](beast::error_code ec, bool is_tls) {
          if (ec) {
            srv_release(self);
            return;
          }
          if (is_tls)
            std::make_shared<SslSession>(self->srv_, std::move(self->stream_),
                                         self->srv_->tlsContext(), std::move(self->buffer_),
                                         std::move(self->peer_))
                ->run();
          else
            std::make_shared<PlainSession>(self->srv_, std::move(self->stream_),
                                           std::move(self->buffer_), std::move(self->peer_))
                ->run();
        });
  }

 private:
  static void srv_release(const std::shared_ptr<Detector>& self) { self->srv_->connectionClosed(); }
  std::shared_ptr<HttpServer::Impl> srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string peer_;
};

}  // namespace

void HttpServer::Impl::connectionClosed() {
  if (connections.fetch_sub(1) == 1 && stopped)
    net::post(io, [self = shared_from_this()] { self->finishDrain(); });
}

void HttpServer::Impl::finishDrain() {
  std::function<void(int)> done;
  {
    std::lock_guard lock(sessions_mu);
    done = std::exchange(drain_done, nullptr);
    if (drain_timer) drain_timer->cancel();
  }
  if (done) done(connections.load());
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(
      net::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec) {
          if (self->stopped) return;
          self->log.warn("http.accept-failed", {{"error", ec.message()}});
        } else if (self->connections.load() >= self->config.max_connections) {
          self->log.warn("http.too-many-connections", {{"limit", self->config.max_connections}});
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          beast::error_code ep_ec;
          auto ep = socket.remote_endpoint(ep_ec);
          std::string peer = ep_ec ? "" : ep.address().to_string();
          socket.set_option(tcp::no_delay(true), ep_ec);
          self->connections.fetch_add(1);
          std::make_shared<Detector>(self, std::move(socket), std::move(peer))->run();
        }
        if (!self->stopped) self->accept();
      });
}

HttpServer::HttpServer(net::io_context& io, const Config& config, spooler::IppService& ipp,
                       Logger& log, std::shared_ptr<ssl::context> tls, api::Api* api)
    : impl_(std::make_shared<Impl>(io, config, ipp, log, std::move(tls), api)) {}

bool HttpServer::setTlsContext(std::shared_ptr<ssl::context> tls) {
  if (!impl_->tls_enabled || !tls) return false;
  std::lock_guard lock(impl_->tls_mu);
  impl_->tls = std::move(tls);
  return true;
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::setMetrics(Metrics* metrics) { impl_->metrics = metrics; }

Status HttpServer::start(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return {StatusCode::kInvalidArgument, "listen address '" + host + "': " + ec.message()};
  tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return {StatusCode::kUnavailable,
            "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  impl_->accept();
  return Status::ok();
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->blocking.stop();
  net::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

void HttpServer::drain(std::chrono::milliseconds grace, std::function<void(int)> done) {
  auto impl = impl_;
  impl->stopped = true;
  net::post(impl->acceptor.get_executor(), [impl] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock(impl->sessions_mu);
    impl->drain_done = std::move(done);
    impl->drain_timer.emplace(impl->io, grace);
    impl->drain_timer->async_wait([impl](beast::error_code ec) {
      if (!ec) impl->finishDrain();
    });
    for (const auto& [id, close] : impl->idle_closers) closers.push_back(close);
  }
  for (const auto& close : closers) close();
  if (impl->connections.load() == 0) net::post(impl->io, [impl] { impl->finishDrain(); });
}

int HttpServer::connections() const { return impl_->connections.load(); }

TlsCertificateInfo describeTlsCertificate(ssl::context& ctx) {
  TlsCertificateInfo info;
  X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!cert) return info;
  if (char* name = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0)) {
    info.subject = name;
    OPENSSL_free(name);
  }
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  struct tm tm {};
  if (ASN1_TIME_to_tm(not_after, &tm) == 1) {
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    info.not_after = buf;
    info.not_after_unix = static_cast<std::int64_t>(timegm(&tm));
  }
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, not_after) == 1)
    info.days_left = days - (days == 0 && seconds < 0 ? 1 : 0);
  return info;
}

Result<std::unique_ptr<ssl::context>> makeTlsContext(const std::string& cert_file,
                                                     const std::string& key_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, cert_file + ": " + ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  // OpenSSL compares the key with the certificate: a renewal that replaced
  // one file and not yet the other is caught here.
  if (ec && ec.category() == net::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
    return Status(StatusCode::kInvalidArgument,
                  key_file + ": the private key does not match the certificate in " + cert_file);
  if (ec) return Status(StatusCode::kInvalidArgument, key_file + ": " + ec.message());
  return ctx;
}

}  // namespace pullprint::server
