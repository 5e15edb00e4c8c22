// Headless Chromium for browser tests, driven through chromedriver's
// WebDriver HTTP protocol (W3C) from C++.
//
// Browser starts `chromedriver --port=<picked>` through Process (own process
// group, stopped by PID with every descendant, dies with the test), waits
// until GET /status says ready, and opens one session on Debian's
// /usr/bin/chromium with --headless=new, --no-sandbox (tests run as root),
// a --user-data-dir in its own TempDir and no background networking. The
// destructor deletes the session and stops chromedriver (and so Chromium).
//
// Every command is one HTTP/1.1 request (Boost.Beast, new connection,
// deadline) with a JSON body (nlohmann). A WebDriver error answer throws
// WebDriverError with the error code and message; tests let Catch2 print it.
//
// Elements are WebDriver element references (opaque strings). The browser
// console (goog:loggingPrefs browser=ALL) can be read with consoleLog(), so a
// test can assert that no Content-Security-Policy violation or script error
// happened.
//
// Thread contract: one thread at a time. Start it from the main thread
// (Process's PR_SET_PDEATHSIG is tied to the forking thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace pullprint::testing {

class WebDriverError : public std::runtime_error {
 public:
  WebDriverError(std::string code, const std::string& message)
      : std::runtime_error(code + ": " + message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct BrowserOptions {
  int width = 1280;
  int height = 900;
  std::string chromium = "/usr/bin/chromium";
  std::string chromedriver = "chromedriver";
  std::chrono::milliseconds startTimeout = 30000ms;
  std::chrono::milliseconds pageLoadTimeout = 30000ms;
  std::chrono::milliseconds scriptTimeout = 10000ms;
};

class Browser {
 public:
  using json = nlohmann::json;
  using Element = std::string;

  explicit Browser(BrowserOptions options = {});
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Navigation
  void navigate(const std::string& url);
  std::string currentUrl();
  std::string title();
  void setWindowSize(int width, int height);

  // Elements (CSS selectors). find() throws when there is none.
  Element find(const std::string& css);
  std::optional<Element> tryFind(const std::string& css);
  std::vector<Element> findAll(const std::string& css);
  std::vector<Element> findAllIn(const Element& parent, const std::string& css);
  void click(const Element& e);
  void clear(const Element& e);
  void type(const Element& e, const std::string& text);
  std::string text(const Element& e);
  std::string property(const Element& e, const std::string& name);
  bool displayed(const Element& e);

  // Scripts run in the page (synchronous). `args` is a JSON array; elements
  // may be passed with elementArg().
  json execute(const std::string& script, const json& args = json::array());
  static json elementArg(const Element& e);

  // Polling with a deadline (20 ms steps, never a fixed sleep).
  bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  // Waits until `script` (a function body; `return` a value) returns a truthy value.
  bool waitForScript(const std::string& script, std::chrono::milliseconds timeout);
  // Waits until an element matching `css` exists and is displayed.
  bool waitForVisible(const std::string& css, std::chrono::milliseconds timeout);
  // Waits until the browser is on a URL whose path is `path`.
  bool waitForPath(const std::string& path, std::chrono::milliseconds timeout);

  // Dialogs (confirm()).
  void acceptAlert();

  // PNG of the viewport, written to `path` (directories created).
  void screenshot(const std::filesystem::path& path);
  // PNG of the whole page: the window is made as tall as the document for
  // the shot, then restored.
  void screenshotFullPage(const std::filesystem::path& path);

  // Console messages since the last call: [{"level","message","timestamp"}].
  json consoleLog();

  // chromedriver's and Chromium's log tails, for INFO().
  std::string describe() const;

 private:
  json command(const std::string& method, const std::string& path, const json& body = nullptr,
               std::chrono::milliseconds timeout = 60000ms);
  std::string sessionPath(const std::string& rest) const;
  static void writePng(const json& base64Png, const std::filesystem::path& path);

  BrowserOptions options_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> driver_;
  std::string session_;
};

// Where browser tests put their screenshots: $PULLPRINT_WEB_ARTIFACTS, else
// `fallback` (tests pass build/tests/web/artifacts); created on demand.
std::filesystem::path webArtifactDir(const std::filesystem::path& fallback);

}  // namespace pullprint::testing
