#include "tests/support/webdriver.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/wait.h"

namespace pullprint::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

// W3C WebDriver's element reference key.
constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string error;  // transport error ("" when an answer arrived)
};

// One request on a new connection to 127.0.0.1:port, with a deadline.
HttpAnswer httpCall(std::uint16_t port, http::verb method, const std::string& target,
                    const std::string& body, std::chrono::milliseconds timeout) {
  net::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::connection, "close");
  if (method == http::verb::post) {
    req.set(http::field::content_type, "application/json; charset=utf-8");
    req.body() = body;
  }
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  HttpAnswer out;
  stream.expires_after(timeout);
  stream.async_connect(
      tcp::endpoint(net::ip::address_v4::loopback(), port), [&](beast::error_code ec) {
        if (ec) {
          out.error = "connect: " + ec.message();
          return;
        }
        http::async_write(stream, req, [&](beast::error_code wec, size_t) {
          if (wec) {
            out.error = "write: " + wec.message();
            return;
          }
          http::async_read(stream, buffer, res, [&](beast::error_code rec, size_t) {
            if (rec) {
              out.error = "read: " + rec.message();
              return;
            }
            out.status = static_cast<int>(res.result_int());
            out.body = std::move(res.body());
          });
        });
      });
  io.run();
  return out;
}

std::string base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;  // '=', newlines
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::filesystem::path webArtifactDir(const std::filesystem::path& fallback) {
  std::filesystem::path dir = fallback;
  if (const char* env = std::getenv("PULLPRINT_WEB_ARTIFACTS"); env && *env) dir = env;
  std::filesystem::create_directories(dir);
  return dir;
}

Browser::Browser(BrowserOptions options) : options_(std::move(options)), dir_("pullprint-web") {
  // chromedriver on a picked port (retry if another process took it first).
  for (int attempt = 0; attempt < 3 && session_.empty(); ++attempt) {
    port_ = pickFreePort();
    ProcessOptions po;
    po.argv = {options_.chromedriver, "--port=" + std::to_string(port_),
               "--log-path=" + (dir_ / "chromedriver.log").string()};
    po.logDir = dir_.path();
    po.logName = "chromedriver";
    po.env.set = {{"HOME", dir_.path().string()},
                  {"XDG_CONFIG_HOME", (dir_ / "config").string()},
                  {"XDG_CACHE_HOME", (dir_ / "cache").string()}};
    driver_ = std::make_unique<Process>(po);
    bool ready = waitFor(
        [&] {
          if (!driver_->running()) return true;
          auto a = httpCall(port_, http::verb::get, "/status", "", 1000ms);
          if (a.status != 200) return false;
          auto j = json::parse(a.body, nullptr, false);
          return !j.is_discarded() && j["value"].value("ready", false);
        },
        options_.startTimeout, 20ms);
    if (!ready || !driver_->running()) {
      std::string why = describe();
      driver_->terminate(1000ms);
      if (attempt == 2) throw std::runtime_error("chromedriver did not start: " + why);
      continue;
    }
    json args = json::array(
        {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
         "--disable-component-update", "--disable-default-apps", "--disable-sync",
         "--disable-extensions", "--password-store=basic", "--use-mock-keychain", "--lang=en-US",
         "--user-data-dir=" + (dir_ / "profile").string(),
         "--window-size=" + std::to_string(options_.width) + "," +
             std::to_string(options_.height)});
    json caps = {{"capabilities",
                  {{"alwaysMatch",
                    {{"browserName", "chrome"},
                     {"unhandledPromptBehavior", "ignore"},
                     {"timeouts",
                      {{"implicit", 0},
                       {"pageLoad", options_.pageLoadTimeout.count()},
                       {"script", options_.scriptTimeout.count()}}},
                     {"goog:loggingPrefs", {{"browser", "ALL"}}},
                     {"goog:chromeOptions", {{"binary", options_.chromium}, {"args", args}}}}}}}};
    json v = command("POST", "/session", caps, options_.startTimeout);
    session_ = v.value("sessionId", "");
    if (session_.empty()) throw std::runtime_error("no WebDriver session id: " + v.dump());
  }
}

Browser::~Browser() {
  if (!session_.empty()) {
    try {
      httpCall(port_, http::verb::delete_, "/session/" + session_, "", 10000ms);
    } catch (...) {
    }
  }
  if (driver_) driver_->terminate(3000ms);
}

json Browser::command(const std::string& method, const std::string& path, const json& body,
                      std::chrono::milliseconds timeout) {
  http::verb verb = method == "GET"      ? http::verb::get
                    : method == "DELETE" ? http::verb::delete_
                                         : http::verb::post;
  std::string payload = verb == http::verb::post ? (body.is_null() ? "{}" : body.dump()) : "";
  HttpAnswer a = httpCall(port_, verb, path, payload, timeout);
  if (!a.error.empty())
    throw std::runtime_error("WebDriver " + method + " " + path + ": " + a.error);
  json j = json::parse(a.body, nullptr, false);
  if (j.is_discarded())
    throw std::runtime_error("WebDriver " + method + " " + path + ": HTTP " +
                             std::to_string(a.status) + " " + a.body.substr(0, 500));
  json value = j.contains("value") ? j["value"] : json();
  if (a.status != 200) {
    std::string code = value.is_object() ? value.value("error", "unknown error") : "unknown error";
    std::string message = value.is_object() ? value.value("message", a.body) : a.body;
    throw WebDriverError(code, method + " " + path + ": " + message.substr(0, 2000));
  }
  return value;
}

std::string Browser::sessionPath(const std::string& rest) const {
  return "/session/" + session_ + rest;
}

void Browser::navigate(const std::string& url) {
  command("POST", sessionPath("/url"), {{"url", url}});
}

std::string Browser::currentUrl() { return command("GET", sessionPath("/url")).get<std::string>(); }

std::string Browser::title() { return command("GET", sessionPath("/title")).get<std::string>(); }

void Browser::setWindowSize(int width, int height) {
  command("POST", sessionPath("/window/rect"), {{"width", width}, {"height", height}});
}

Browser::Element Browser::find(const std::string& css) {
  json v = command("POST", sessionPath("/element"), {{"using", "css selector"}, {"value", css}});
  return v.at(kElementKey).get<std::string>();
}

std::optional<Browser::Element> Browser::tryFind(const std::string& css) {
  auto all = findAll(css);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<Browser::Element> Browser::findAll(const std::string& css) {
  json v = command("POST", sessionPath("/elements"), {{"using", "css selector"}, {"value", css}});
  std::vector<Element> out;
  for (const auto& e : v) out.push_back(e.at(kElementKey).get<std::string>());
  return out;
}

std::vector<Browser::Element> Browser::findAllIn(const Element& parent, const std::string& css) {
  json v = command("POST", sessionPath("/element/" + parent + "/elements"),
                   {{"using", "css selector"}, {"value", css}});
  std::vector<Element> out;
  for (const auto& e : v) out.push_back(e.at(kElementKey).get<std::string>());
  return out;
}

void Browser::click(const Element& e) { command("POST", sessionPath("/element/" + e + "/click")); }

void Browser::clear(const Element& e) { command("POST", sessionPath("/element/" + e + "/clear")); }

void Browser::type(const Element& e, const std::string& text) {
  command("POST", sessionPath("/element/" + e + "/value"), {{"text", text}});
}

std::string Browser::text(const Element& e) {
  return command("GET", sessionPath("/element/" + e + "/text")).get<std::string>();
}

std::string Browser::property(const Element& e, const std::string& name) {
  json v = command("GET", sessionPath("/element/" + e + "/property/" + name));
  return v.is_string() ? v.get<std::string>() : v.dump();
}

bool Browser::displayed(const Element& e) {
  return command("GET", sessionPath("/element/" + e + "/displayed")).get<bool>();
}

json Browser::execute(const std::string& script, const json& args) {
  return command("POST", sessionPath("/execute/sync"), {{"script", script}, {"args", args}});
}

json Browser::elementArg(const Element& e) { return {{kElementKey, e}}; }

bool Browser::waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  return waitFor(pred, timeout, 20ms);
}

bool Browser::waitForScript(const std::string& script, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        try {
          json v = execute(script);
          return !(v.is_null() || v == false || v == 0 || v == "");
        } catch (const WebDriverError&) {
          return false;  // e.g. during a navigation
        }
      },
      timeout);
}

bool Browser::waitForVisible(const std::string& css, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        try {
          auto e = tryFind(css);
          return e && displayed(*e);
        } catch (const WebDriverError&) {
          return false;  // stale element during a re-render
        }
      },
      timeout);
}

bool Browser::waitForPath(const std::string& path, std::chrono::milliseconds timeout) {
  return waitForScript("return location.pathname === " + json(path).dump() + ";", timeout);
}

void Browser::acceptAlert() { command("POST", sessionPath("/alert/accept")); }

void Browser::screenshot(const std::filesystem::path& path) {
  writePng(command("GET", sessionPath("/screenshot")), path);
}

void Browser::screenshotFullPage(const std::filesystem::path& path) {
  json rect = command("GET", sessionPath("/window/rect"));
  json size = execute(
      "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight];");
  int height = size[0].get<int>() + size[1].get<int>();
  setWindowSize(rect["width"].get<int>(), std::min(height, 8000));
  writePng(command("GET", sessionPath("/screenshot")), path);
  setWindowSize(rect["width"].get<int>(), rect["height"].get<int>());
}

void Browser::writePng(const json& v, const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << base64Decode(v.get<std::string>());
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

json Browser::consoleLog() {
  return command("POST", sessionPath("/se/log"), {{"type", "browser"}});
}

std::string Browser::describe() const {
  std::ostringstream out;
  out << "chromedriver on port " << port_ << ", session " << session_ << "\n";
  if (driver_) out << driver_->describe() << "\n";
  out << "--- chromedriver.log tail ---\n" << tailFile(dir_ / "chromedriver.log", 4000);
  return out.str();
}

}  // namespace pullprint::testing
