#include "admin-api/web.h"

namespace pullprint::api {

namespace {

constexpr std::string_view kPages[] = {"/", "/login", "/portal", "/dashboard", "/admin"};
constexpr std::string_view kStatic = "/static/";

// True when an If-None-Match header value names `etag` (or is "*").
bool matchesEtag(std::string_view header, std::string_view etag) {
  if (header.empty()) return false;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

WebReply plain(int status, std::string_view text) {
  WebReply r;
  r.status = status;
  r.body = text;
  r.content_type = "text/plain; charset=utf-8";
  r.headers = WebPages::securityHeaders();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& WebPages::securityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> kHeaders = {
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
  return kHeaders;
}

bool WebPages::serves(std::string_view path) {
  for (auto p : kPages)
    if (path == p) return true;
  return path.starts_with(kStatic);
}

const WebAsset* WebPages::find(std::string_view path) {
  if (path == "/") path = "/login";
  for (const auto& a : webAssets())
    if (a.path == path) return &a;
  return nullptr;
}

WebReply WebPages::handle(std::string_view method, std::string_view target,
                          std::string_view if_none_match) {
  std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET") {
    WebReply r = plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  const WebAsset* asset = serves(path) ? find(path) : nullptr;
  if (!asset) return plain(404, "not found\n");

  WebReply r;
  r.content_type = std::string(asset->content_type);
  r.headers = securityHeaders();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", std::string(asset->etag));
  if (matchesEtag(if_none_match, asset->etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.body = asset->body;
  return r;
}

}  // namespace pullprint::api
