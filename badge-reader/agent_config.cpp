#include "badge-reader/agent_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/names.h"

namespace pullprint::badge {

const char* const kAgentUsage =
    "usage: pullprint-badge [--config FILE] [--server URL] [--station NAME]\n"
    "                       [--secret-file FILE] [--printer NAME]\n"
    "                       [--reader-printer READER=PRINTER]... [--debounce-ms N]\n"
    "                       [--http-timeout-ms N] [--ca-file FILE] [--insecure] [--verbose]\n"
    "Waits for cards on every PC/SC reader and releases the card owner's held\n"
    "jobs at the station's printer. One line per tap on standard output.\n";

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool parseInt(const std::string& s, int lo, int hi, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::string at(const std::string& file, const toml::source_region& src) {
  return file + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

bool loadToml(const std::string& file, AgentConfig* c, std::string* error) {
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    *error = at(file, e.source()) + ": " + std::string(e.description());
    return false;
  } catch (const std::exception& e) {
    *error = file + ": " + e.what();
    return false;
  }
  for (auto& [k, v] : root) {
    std::string key(k.str());
    std::string where = at(file, k.source());
    auto str = [&](std::string* out) {
      if (!v.is_string()) {
        *error = where + ": '" + key + "' must be a string";
        return false;
      }
      *out = *v.value<std::string>();
      return true;
    };
    auto integer = [&](int lo, int hi, int* out) {
      auto n = v.value<std::int64_t>();
      if (!v.is_integer() || !n || *n < lo || *n > hi) {
        *error = where + ": '" + key + "' must be an integer " + std::to_string(lo) + ".." +
                 std::to_string(hi);
        return false;
      }
      *out = static_cast<int>(*n);
      return true;
    };
    if (key == "server") {
      if (!str(&c->server)) return false;
    } else if (key == "station") {
      if (!str(&c->station)) return false;
    } else if (key == "secret_file") {
      if (!str(&c->secret_file)) return false;
    } else if (key == "printer") {
      if (!str(&c->printer)) return false;
    } else if (key == "ca_file") {
      if (!str(&c->ca_file)) return false;
    } else if (key == "debounce_ms") {
      if (!integer(0, 60000, &c->debounce_ms)) return false;
    } else if (key == "http_timeout_ms") {
      if (!integer(100, 120000, &c->http_timeout_ms)) return false;
    } else if (key == "insecure") {
      if (!v.is_boolean()) {
        *error = where + ": 'insecure' must be true or false";
        return false;
      }
      c->insecure = *v.value<bool>();
    } else if (key == "reader_printers") {
      auto* t = v.as_table();
      if (!t) {
        *error = where + ": [reader_printers] must be a table";
        return false;
      }
      for (auto& [rk, rv] : *t) {
        if (!rv.is_string()) {
          *error = at(file, rv.source()) + ": reader_printers values must be printer names";
          return false;
        }
        c->reader_printers.emplace_back(std::string(rk.str()), *rv.value<std::string>());
      }
    } else {
      *error = where + ": unknown key '" + key + "'";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AgentConfig::printerFor(const std::string& reader) const {
  for (const auto& [sub, p] : reader_printers)
    if (reader.find(sub) != std::string::npos) return p;
  return printer;
}

bool parseServerUrl(const std::string& text, ServerUrl* out, std::string* error) {
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    out->tls = false;
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    out->tls = true;
    rest = text.substr(8);
  } else {
    *error = "must start with http:// or https://";
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    *error = "give the server's root URL, without a path";
    return false;
  }
  std::string host = rest, port = out->tls ? "443" : "80";
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      *error = "unclosed [ in IPv6 address";
      return false;
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        *error = "bad port";
        return false;
      }
      port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  int p = 0;
  if (host.empty()) {
    *error = "no host";
    return false;
  }
  if (!parseInt(port, 1, 65535, &p)) {
    *error = "port must be 1..65535";
    return false;
  }
  out->host = host;
  out->port = port;
  return true;
}

bool parseAgentConfig(int argc, char** argv, AgentConfig* c, std::string* error, bool* help) {
  *help = false;
  // --config first, so flags override the file whatever their order.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      *help = true;
      return false;
    }
    if (a == "--config") {
      if (i + 1 >= argc) {
        *error = "--config needs a value";
        return false;
      }
      if (!loadToml(argv[i + 1], c, error)) return false;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *error = a + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--config") {
      ++i;
    } else if (a == "--server") {
      if (!value(&c->server)) return false;
    } else if (a == "--station") {
      if (!value(&c->station)) return false;
    } else if (a == "--secret-file") {
      if (!value(&c->secret_file)) return false;
    } else if (a == "--printer") {
      if (!value(&c->printer)) return false;
    } else if (a == "--ca-file") {
      if (!value(&c->ca_file)) return false;
    } else if (a == "--insecure") {
      c->insecure = true;
    } else if (a == "--verbose" || a == "-v") {
      c->verbose = true;
    } else if (a == "--debounce-ms") {
      if (!value(&v)) return false;
      if (!parseInt(v, 0, 60000, &c->debounce_ms)) {
        *error = "--debounce-ms must be 0..60000";
        return false;
      }
    } else if (a == "--http-timeout-ms") {
      if (!value(&v)) return false;
      if (!parseInt(v, 100, 120000, &c->http_timeout_ms)) {
        *error = "--http-timeout-ms must be 100..120000";
        return false;
      }
    } else if (a == "--reader-printer") {
      if (!value(&v)) return false;
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
        *error = "--reader-printer must be READER=PRINTER";
        return false;
      }
      c->reader_printers.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else {
      *error = "unknown argument '" + a + "'";
      return false;
    }
  }

  // --- Validation: everything a tap will need ---
  if (c->server.empty()) {
    *error = "no server: set server = \"https://...\" or --server";
    return false;
  }
  if (std::string e; !parseServerUrl(c->server, &c->url, &e)) {
    *error = "server '" + c->server + "': " + e;
    return false;
  }
  if (!isSafeName(c->station, kMaxStationName)) {
    *error = "station must be the registered station name (1-64 of A-Z a-z 0-9 _ -)";
    return false;
  }
  if (c->printer.empty() && c->reader_printers.empty()) {
    *error = "no printer: set printer = \"...\" or --printer";
    return false;
  }
  if (!c->printer.empty() && !isSafeName(c->printer, kMaxPrinterName)) {
    *error = "printer '" + c->printer + "' is not a valid printer name";
    return false;
  }
  for (const auto& [r, p] : c->reader_printers)
    if (!isSafeName(p, kMaxPrinterName)) {
      *error = "reader_printers: '" + p + "' is not a valid printer name";
      return false;
    }
  if (c->secret_file.empty()) {
    *error = "no secret_file: the station secret (shown once when the station was registered)";
    return false;
  }
  struct stat sb {};
  if (::stat(c->secret_file.c_str(), &sb) != 0) {
    *error = c->secret_file + ": cannot read the secret file";
    return false;
  }
  if ((sb.st_mode & 077) != 0) {
    *error = c->secret_file + ": secret file is readable by others; chmod 600 it";
    return false;
  }
  std::ifstream in(c->secret_file);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) {
    *error = c->secret_file + ": cannot read the secret file";
    return false;
  }
  c->secret = trim(ss.str());
  if (c->secret.size() < 32) {
    *error = c->secret_file + ": secret too short (expected the 64 hex characters the server gave)";
    return false;
  }
  if (!c->ca_file.empty() && ::access(c->ca_file.c_str(), R_OK) != 0) {
    *error = c->ca_file + ": cannot read the CA file";
    return false;
  }
  return true;
}

}  // namespace pullprint::badge
