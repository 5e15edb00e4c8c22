#include "badge-reader/release_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>

#include "core/wire/station_wire.h"

namespace pullprint::badge {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// Write the request and read the answer on a connected stream.
template <typename Stream>
void exchange(Stream& stream, http::request<http::string_body>& req, ReleaseReply* out,
              beast::flat_buffer& buf, http::response_parser<http::string_body>& res) {
  // Every object lives in release()'s frame, which outlives ioc.run_for();
  // `out` is a pointer parameter, so it is captured by value.
  http::async_write(stream, req, [&stream, &buf, &res, out](beast::error_code ec, size_t) {
    if (ec) {
      out->error = "sending: " + ec.message();
      return;
    }
    http::async_read(stream, buf, res, [&res, out](beast::error_code ec2, size_t) {
      if (ec2) {
        out->error = "reading the answer: " + ec2.message();
        return;
      }
      out->status = static_cast<int>(res.get().result_int());
      out->body = res.get().body();
    });
  });
}

}  // namespace

ReleaseReply ReleaseClient::release(const std::string& printer, const std::string& card_uid) {
  ReleaseReply out;
  const std::string path = wire::kReleasePath;
  const std::string body = nlohmann::json{{"printer", printer}, {"card_uid", card_uid}}.dump();
  const std::string ts = std::to_string(static_cast<long long>(std::time(nullptr)));
  const std::string nonce = wire::randomHex(16);
  const std::string sig = wire::signRequest(config_.secret, "POST", path, ts, nonce, body);

  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, config_.url.host);
  req.set(http::field::user_agent, "pullprint-badge/0.1");
  req.set(http::field::content_type, "application/json");
  req.set(wire::kHeaderStation, config_.station);
  req.set(wire::kHeaderTimestamp, ts);
  req.set(wire::kHeaderNonce, nonce);
  req.set(wire::kHeaderSignature, sig);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> res;
  res.body_limit(64 * 1024);
  const auto timeout = std::chrono::milliseconds(config_.http_timeout_ms);

  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  std::unique_ptr<beast::tcp_stream> plain;
  if (config_.url.tls) {
    tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    if (config_.insecure) {
      tls->set_verify_mode(net::ssl::verify_none);
    } else {
      tls->set_default_verify_paths();
      if (!config_.ca_file.empty()) tls->load_verify_file(config_.ca_file);
      tls->set_verify_mode(net::ssl::verify_peer);
    }
    secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, *tls);
    if (!config_.insecure)
      secure->set_verify_callback(net::ssl::host_name_verification(config_.url.host));
    SSL_set_tlsext_host_name(secure->native_handle(), config_.url.host.c_str());
  } else {
    plain = std::make_unique<beast::tcp_stream>(ioc);
  }
  beast::tcp_stream& lowest = secure ? beast::get_lowest_layer(*secure) : *plain;
  lowest.expires_after(timeout);

  resolver.async_resolve(
      config_.url.host, config_.url.port,
      [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          out.error = "resolving " + config_.url.host + ": " + ec.message();
          return;
        }
        lowest.async_connect(results, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) {
            out.error = "connecting to " + config_.server + ": " + ec2.message();
            return;
          }
          lowest.socket().set_option(tcp::no_delay(true));
          if (!secure) return exchange(*plain, req, &out, buf, res);
          secure->async_handshake(net::ssl::stream_base::client, [&](beast::error_code ec3) {
            if (ec3) {
              out.error = "TLS handshake with " + config_.server + ": " + ec3.message();
              return;
            }
            exchange(*secure, req, &out, buf, res);
          });
        });
      });
  ioc.run_for(timeout + std::chrono::milliseconds(500));
  if (out.status == 0 && out.error.empty())
    out.error = "no answer from " + config_.server + " in time";
  return out;
}

std::string tapLine(const ReleaseReply& reply, const std::string& printer, const std::string& uid) {
  if (reply.status == 0) return "refused: server unreachable (" + reply.error + ")";
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  auto text = [&](const char* k) -> std::string {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  if (reply.status == 200) {
    long long jobs = j.is_object() && j.contains("jobs") && j["jobs"].is_number()
                         ? j["jobs"].get<long long>()
                         : 0;
    std::string user = text("user");
    std::string prefix = user + ": ";
    if (j.is_object() && j.value("registered", false)) prefix = user + ": card registered; ";
    if (jobs == 0) return prefix + "no held jobs";
    std::string pages = "unknown pages";
    if (j.contains("pages") && j["pages"].is_number()) {
      long long p = j["pages"].get<long long>();
      pages = std::to_string(p) + (p == 1 ? " page" : " pages");
    }
    return prefix + std::to_string(jobs) + (jobs == 1 ? " job, " : " jobs, ") + pages +
           " released at " + printer;
  }
  if (reply.status == 404 && text("error") == "unknown card")
    return "unknown card " + wire::redactUid(uid) + ": register it in the portal";
  std::string why = text("error");
  if (why.empty()) why = "HTTP " + std::to_string(reply.status);
  return "refused: " + why;
}

}  // namespace pullprint::badge
