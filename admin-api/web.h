// WebPages: the browser pages (login, user portal, sustainability dashboard,
// admin console) and their assets, served from memory. See docs/web.md.
//
// Every file is compiled into the binary at build time: admin-api's CMake
// step runs pullprint-web-embed over web/ (and Debian's Chart.js) and
// generates the table returned by webAssets(). Serving is a lookup of the
// request path in that table; nothing from a request ever becomes a file
// path, and an unknown path is a 404.
//
// Routes (GET only; the pages fetch their data from /api/v1 with the
// session cookie):
//   /, /login     login page          /portal     user portal
//   /dashboard    sustainability      /admin      admin console
//   /static/NAME  scripts, styles, Chart.js
//
// Every answer (200, 304, 404, 405) carries the security headers of
// securityHeaders(): a Content-Security-Policy that allows only same-origin
// scripts, styles and connections (no inline script), nosniff, no framing
// and no referrer. Cache-Control is no-cache with a strong ETag (the bytes
// change only with the binary, so revalidation answers 304).
//
// Thread contract: stateless; the table is constant. Safe from any thread,
// never blocks (it may run on the network threads).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pullprint::api {

// One embedded file. All views point into static storage.
struct WebAsset {
  std::string_view path;          // "/login", "/static/app.css"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view etag;          // "\"<32 hex>\"" (quoted, strong)
  std::string_view body;
};

// The generated table (build/admin-api/web_assets.cpp).
std::span<const WebAsset> webAssets();

struct WebReply {
  int status = 200;
  std::string_view body;  // static storage (an asset or a constant message)
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // in addition to Content-Type
};

class WebPages {
 public:
  // True for the page paths and everything under /static/ (`path` without
  // the query string). Unknown files under /static/ are answered 404 here.
  static bool serves(std::string_view path);

  // Answers a request for a path serves() accepted. `target` may carry a
  // query string (ignored). `if_none_match` is the request header, or "".
  static WebReply handle(std::string_view method, std::string_view target,
                         std::string_view if_none_match);

  // The headers every web answer carries.
  static const std::vector<std::pair<std::string, std::string>>& securityHeaders();

  // The asset for a path ("/" is "/login"), or null.
  static const WebAsset* find(std::string_view path);
};

}  // namespace pullprint::api
