// AgentConfig: the settings of one release station, parsed once at start.
//
// Sources, later ones win: the TOML file (--config), then flags. Every
// problem is fatal at start-up with a message that names the file and line
// (or the flag): a station that cannot sign must not pretend to work.
//
//   server = "https://print.example.org:8631"   # http or https
//   station = "lib-1"                           # as registered (POST /api/v1/stations)
//   secret_file = "/etc/pullprint/badge.secret" # the secret shown once; mode 0600
//   printer = "lib-1"                           # where taps release
//   debounce_ms = 800                           # same card back within this after removal: ignored
//   http_timeout_ms = 10000
//   ca_file = ""                                # extra CA for https (default: system store)
//   insecure = false                            # https without certificate checks (testing only)
//   [reader_printers]                           # reader name substring -> printer
//   "Virtual PCD 00 01" = "lib-2"
//
// Thread contract: a plain value, read-only after parsing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pullprint::badge {

struct ServerUrl {
  bool tls = false;
  std::string host;
  std::string port;  // decimal
};

struct AgentConfig {
  std::string server;  // as given
  ServerUrl url;
  std::string station;
  std::string secret_file;
  std::string secret;   // the file's content, surrounding whitespace removed
  std::string printer;  // default printer for every reader
  std::vector<std::pair<std::string, std::string>> reader_printers;  // substring -> printer
  int debounce_ms = 800;
  int http_timeout_ms = 10000;
  std::string ca_file;
  bool insecure = false;
  bool verbose = false;

  // The printer a tap on `reader` releases at ("" if none).
  std::string printerFor(const std::string& reader) const;
};

// Parses argv (and the --config file it names). On failure returns false
// with *error ready to print; *help is set for --help.
bool parseAgentConfig(int argc, char** argv, AgentConfig* out, std::string* error, bool* help);
bool parseServerUrl(const std::string& text, ServerUrl* out, std::string* error);

extern const char* const kAgentUsage;

}  // namespace pullprint::badge
