// WebPages (admin-api/web.h) in process: the embedded table, headers,
// caching, and the rules the pages must follow (no inline script or style,
// no innerHTML), checked on the bytes the server really serves.
#include "admin-api/web.h"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

using pullprint::api::WebAsset;
using pullprint::api::webAssets;
using pullprint::api::WebPages;

namespace {

std::string header(const pullprint::api::WebReply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

}  // namespace

TEST_CASE("every page path and the Chart.js asset are served with their type", "[web]") {
  struct Want {
    const char* path;
    const char* type;
    const char* marker;
  };
  for (const Want& w :
       {Want{"/", "text/html; charset=utf-8", "<title>Sign in"},
        Want{"/login", "text/html; charset=utf-8", "id=\"login-form\""},
        Want{"/portal", "text/html; charset=utf-8", "My print jobs"},
        Want{"/dashboard", "text/html; charset=utf-8", "chart-time"},
        Want{"/admin", "text/html; charset=utf-8", "Admin console"},
        Want{"/static/app.css", "text/css; charset=utf-8", "--accent"},
        Want{"/static/common.js", "text/javascript; charset=utf-8", "X-CSRF-Token"},
        Want{"/static/chart.min.js", "text/javascript; charset=utf-8", "Chart.js v3"}}) {
    INFO(w.path);
    REQUIRE(WebPages::serves(w.path));
    auto r = WebPages::handle("GET", std::string(w.path) + "?x=1", "");
    CHECK(r.status == 200);
    CHECK(r.content_type == w.type);
    CHECK(std::string(r.body).find(w.marker) != std::string::npos);
    CHECK(header(r, "Cache-Control") == "no-cache");
    CHECK(header(r, "ETag").size() == 34);
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header(r, "X-Frame-Options") == "DENY");
    CHECK(header(r, "Referrer-Policy") == "no-referrer");
    std::string csp = header(r, "Content-Security-Policy");
    CHECK(csp.find("default-src 'self'") != std::string::npos);
    CHECK(csp.find("script-src 'self';") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe") == std::string::npos);
  }
}

TEST_CASE("Chart.js is Debian's file, byte for byte", "[web]") {
  const WebAsset* chart = WebPages::find("/static/chart.min.js");
  REQUIRE(chart);
  CHECK(chart->body.size() > 100000);
  CHECK(chart->body.starts_with("/*!\n * Chart.js v3.9"));
  CHECK(chart->body.find("window.Chart=") != std::string_view::npos);
}

TEST_CASE("unknown and hostile paths are 404 from the table, never a file", "[web]") {
  CHECK_FALSE(WebPages::serves("/etc/passwd"));
  CHECK_FALSE(WebPages::serves("/portal/"));
  CHECK_FALSE(WebPages::serves("/api/v1/session"));
  CHECK_FALSE(WebPages::serves("/printers/followme"));
  for (const char* p : {"/static/", "/static/nope.js", "/static/../../etc/passwd",
                        "/static/%2e%2e/%2e%2e/etc/passwd", "/static/app.css/", "/static//app.css",
                        "/static/APP.CSS", "/static/app.css%00.js"}) {
    INFO(p);
    auto r = WebPages::handle("GET", p, "");
    CHECK(r.status == 404);
    CHECK(r.body == "not found\n");
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header(r, "Content-Security-Policy").find("default-src 'self'") != std::string::npos);
  }
}

TEST_CASE("only GET; a matching If-None-Match answers 304 without a body", "[web]") {
  auto post = WebPages::handle("POST", "/login", "");
  CHECK(post.status == 405);
  CHECK(header(post, "Allow") == "GET");
  CHECK(WebPages::handle("DELETE", "/static/app.css", "").status == 405);

  auto first = WebPages::handle("GET", "/static/app.css", "");
  std::string etag = header(first, "ETag");
  REQUIRE(etag.front() == '"');
  auto again = WebPages::handle("GET", "/static/app.css", etag);
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(header(again, "ETag") == etag);
  CHECK(WebPages::handle("GET", "/static/app.css", "\"other\", " + etag).status == 304);
  CHECK(WebPages::handle("GET", "/static/app.css", "W/" + etag).status == 304);
  CHECK(WebPages::handle("GET", "/static/app.css", "\"other\"").status == 200);
  // Another file's tag does not match.
  CHECK(WebPages::handle("GET", "/login", etag).status == 200);
}

TEST_CASE("the pages carry no inline script, style or event handler, and never use innerHTML",
          "[web]") {
  const std::regex inlineScript(R"(<script(?![^>]*\bsrc=)[^>]*>)", std::regex::icase);
  const std::regex inlineHandler(R"(<[^>]+\son[a-z]+\s*=)", std::regex::icase);
  const std::regex styleAttr(R"(<[^>]+\sstyle\s*=)", std::regex::icase);
  int pages = 0, scripts = 0;
  for (const WebAsset& a : webAssets()) {
    std::string body(a.body);
    INFO(a.path);
    if (a.content_type.starts_with("text/html")) {
      ++pages;
      CHECK_FALSE(std::regex_search(body, inlineScript));
      CHECK_FALSE(std::regex_search(body, inlineHandler));
      CHECK_FALSE(std::regex_search(body, styleAttr));
      CHECK(body.find("<style") == std::string::npos);
      CHECK(body.find("http://") == std::string::npos);  // no external CDN
      CHECK(body.find("https://") == std::string::npos);
      CHECK(body.find("<html lang=\"en\">") != std::string::npos);
      CHECK(body.find("name=\"viewport\"") != std::string::npos);
    }
    if (a.path.starts_with("/static/") && a.path.ends_with(".js") &&
        a.path != "/static/chart.min.js") {
      ++scripts;
      for (const char* bad : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                              "eval(", "new Function", "http://", "https://"})
        CHECK(body.find(bad) == std::string::npos);
    }
  }
  CHECK(pages == 4);
  CHECK(scripts >= 5);
}
