#include "core/config.h"

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/cidr.h"
#include "core/names.h"
#include "core/store.h"

namespace pullprint {

namespace {

std::string where(const std::string& source, const toml::source_region& r) {
  return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

// Reads a typed value or reports a type error at the node's position.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string section, const std::string& source,
              std::string* error)
      : t_(t), section_(std::move(section)), source_(source), error_(error) {}

  template <typename T>
  void get(const char* key, T* out) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n || !error_->empty()) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = n->value<bool>()) {
        *out = *v;
        return;
      }
      fail(*n, key, "a boolean");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (n->is_integer() || n->is_floating_point()) {
        *out = static_cast<T>(*n->value<double>());
        return;
      }
      fail(*n, key, "a number");
    } else if constexpr (std::is_integral_v<T>) {
      if (n->is_integer()) {
        auto v = n->value<std::int64_t>();
        *out = static_cast<T>(*v);
        if (static_cast<std::int64_t>(*out) != *v) fail(*n, key, "a smaller integer");
        return;
      }
      fail(*n, key, "an integer");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = n->value<std::string>()) {
        *out = *v;
        return;
      }
      fail(*n, key, "a string");
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      if (auto v = n->value<std::string>()) {
        *out = *v;
        return;
      }
      fail(*n, key, "a string");
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (auto* arr = n->as_array()) {
        out->clear();
        for (auto& e : *arr) {
          auto v = e.value<std::string>();
          if (!v) {
            fail(e, key, "an array of strings");
            return;
          }
          out->push_back(*v);
        }
        return;
      }
      fail(*n, key, "an array of strings");
    }
  }

  // Any key not read with get() is an error: typos must not be silent.
  void rejectUnknown() {
    if (!error_->empty()) return;
    for (auto& [k, v] : t_) {
      if (!seen_.count(std::string(k.str()))) {
        *error_ = where(source_, k.source()) + ": unknown key '" + std::string(k.str()) + "' in " +
                  section_;
        return;
      }
    }
  }

  void fail(const toml::node& n, const char* key, const char* want) {
    if (error_->empty())
      *error_ = where(source_, n.source()) + ": " + section_ + "." + key + " must be " + want;
  }

 private:
  const toml::table& t_;
  std::string section_;
  const std::string& source_;
  std::string* error_;
  std::set<std::string> seen_;
};

// Calls `entry` for each table of an array of tables (`[[printer]]`, ...).
// Sets *error when the node is not such an array (then "use SECTION for
// WHAT") or an entry is not a table; stops at the first entry that sets it.
template <typename Entry>
void forEachTable(const toml::node& node, const std::string& section, const char* what,
                  const std::string& source, std::string* error, Entry&& entry) {
  auto* arr = node.as_array();
  if (!arr) {
    *error = where(source, node.source()) + ": use " + section + " for " + what;
    return;
  }
  for (auto& e : *arr) {
    auto* t = e.as_table();
    if (!t) {
      *error = where(source, e.source()) + ": " + section + " entries must be tables";
      return;
    }
    entry(*t);
    if (!error->empty()) return;
  }
}

}  // namespace

std::vector<ReportFactorConfig> defaultReportFactors() {
  return {
      {"trees", "trees", 1.0 / 8333.0, "PaperCut default: 8,333 sheets per tree"},
      {"co2e_g", "g CO2e", 12.7,
       "PaperCut default: 12.7 g CO2e per sheet (2.5 t CO2e per t of paper)"},
      {"co2_g_savapage", "g CO2", 5.1, "SavaPage default: 5.1 g CO2 per sheet"},
      {"energy_wh", "Wh", 12.5, "SavaPage default: 12.5 Wh per sheet"},
  };
}

void Config::resolvePaths() {
  if (spool_dir.empty()) spool_dir = state_dir / "spool";
  if (database.empty()) database = state_dir / "pullprint.db";
}

Status parseListen(std::string_view text, std::string* host, std::uint16_t* port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return {StatusCode::kInvalidArgument, "listen address must be HOST:PORT"};
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos)
    return {StatusCode::kInvalidArgument, "listen port must be a number 0-65535"};
  unsigned long v = std::stoul(std::string(p));
  if (v > 65535) return {StatusCode::kInvalidArgument, "listen port must be 0-65535"};
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = static_cast<std::uint16_t>(v);
  return Status::ok();
}

Result<Config> parseConfig(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Status(StatusCode::kInvalidArgument,
                  where(source, e.source()) + ": " + std::string(e.description()));
  }

  Config c;
  std::string err;
  std::set<std::string> known_sections = {
      "server",   "tls",    "ipp",      "spool", "hold", "queue",   "release",  "printer",
      "stations", "policy", "analysis", "fleet", "api",  "reports", "retention"};
  for (auto& [k, v] : root) {
    if (!known_sections.count(std::string(k.str()))) {
      return Status(StatusCode::kInvalidArgument,
                    where(source, k.source()) + ": unknown section '" + std::string(k.str()) + "'");
    }
    if (k.str() != "queue" && k.str() != "printer" && !v.is_table()) {
      return Status(StatusCode::kInvalidArgument,
                    where(source, k.source()) + ": '" + std::string(k.str()) + "' must be a table");
    }
  }

  if (auto* t = root["server"].as_table()) {
    TableReader r(*t, "[server]", source, &err);
    std::string listen;
    r.get("listen", &listen);
    r.get("threads", &c.threads);
    r.get("log_level", &c.log_level);
    r.get("name", &c.server_name);
    r.get("idle_timeout_seconds", &c.idle_timeout_seconds);
    r.get("max_connections", &c.max_connections);
    r.get("shutdown_grace_seconds", &c.shutdown_grace_seconds);
    r.rejectUnknown();
    if (err.empty() && !listen.empty()) {
      Status s = parseListen(listen, &c.listen_host, &c.listen_port);
      if (!s) err = where(source, t->get("listen")->source()) + ": " + s.message();
    }
    if (err.empty() && (c.threads < 1 || c.threads > 64))
      err = where(source, t->source()) + ": [server].threads must be 1-64";
    LogLevel lvl;
    if (err.empty() && !Logger::parseLevel(c.log_level, &lvl))
      err = where(source, t->source()) + ": [server].log_level must be debug|info|warn|error";
    if (err.empty() && c.idle_timeout_seconds < 1)
      err = where(source, t->source()) + ": [server].idle_timeout_seconds must be >= 1";
    if (err.empty() && (c.shutdown_grace_seconds < 0 || c.shutdown_grace_seconds > 3600))
      err = where(source, t->source()) + ": [server].shutdown_grace_seconds must be 0-3600";
  }
  if (auto* t = root["tls"].as_table(); t && err.empty()) {
    TableReader r(*t, "[tls]", source, &err);
    r.get("certificate", &c.tls_certificate);
    r.get("private_key", &c.tls_private_key);
    r.rejectUnknown();
    if (err.empty() && c.tls_certificate.empty() != c.tls_private_key.empty())
      err = where(source, t->source()) + ": [tls] needs both certificate and private_key";
  }
  if (auto* t = root["ipp"].as_table(); t && err.empty()) {
    TableReader r(*t, "[ipp]", source, &err);
    r.get("trusted_sources", &c.trusted_sources);
    r.get("admin_users", &c.admin_users);
    r.get("allow_basic_without_tls", &c.allow_basic_without_tls);
    r.get("max_document_bytes", &c.max_document_bytes);
    r.get("max_ipp_header_bytes", &c.max_ipp_header_bytes);
    r.get("accept_unknown_formats", &c.accept_unknown_formats);
    r.rejectUnknown();
    if (err.empty() && c.max_document_bytes < 1)
      err = where(source, t->source()) + ": [ipp].max_document_bytes must be positive";
    if (err.empty() && (c.max_ipp_header_bytes < 1024 || c.max_ipp_header_bytes > (16 << 20)))
      err = where(source, t->source()) + ": [ipp].max_ipp_header_bytes must be 1024..16777216";
  }
  if (auto* t = root["spool"].as_table(); t && err.empty()) {
    TableReader r(*t, "[spool]", source, &err);
    r.get("state_dir", &c.state_dir);
    r.get("directory", &c.spool_dir);
    r.get("database", &c.database);
    r.get("min_free_bytes", &c.min_free_bytes);
    r.get("journal_max_bytes", &c.journal_max_bytes);
    r.get("journal_sync_delay_ms", &c.journal_sync_delay_ms);
    r.rejectUnknown();
    if (err.empty() && (c.journal_max_bytes < 0 || c.journal_max_bytes > (16 << 20)))
      err = where(source, t->source()) + ": [spool].journal_max_bytes must be 0..16777216";
    if (err.empty() && (c.journal_sync_delay_ms < 10 || c.journal_sync_delay_ms > 3600000))
      err = where(source, t->source()) + ": [spool].journal_sync_delay_ms must be 10..3600000";
  }
  if (auto* t = root["hold"].as_table(); t && err.empty()) {
    TableReader r(*t, "[hold]", source, &err);
    r.get("timeout_seconds", &c.hold_timeout_seconds);
    r.rejectUnknown();
    if (err.empty() && c.hold_timeout_seconds < 60)
      err = where(source, t->source()) + ": [hold].timeout_seconds must be at least 60";
  }
  if (auto* t = root["release"].as_table(); t && err.empty()) {
    TableReader r(*t, "[release]", source, &err);
    r.get("direct_printer", &c.direct_printer);
    r.get("poll_interval_ms", &c.release_poll_ms);
    r.get("busy_retry_seconds", &c.release_busy_retry_seconds);
    r.get("expiry_interval_seconds", &c.expiry_interval_seconds);
    r.rejectUnknown();
    if (err.empty() && (c.release_poll_ms < 10 || c.expiry_interval_seconds < 1))
      err = where(source, t->source()) + ": [release] intervals are too small";
  }
  if (auto* t = root["analysis"].as_table(); t && err.empty()) {
    TableReader r(*t, "[analysis]", source, &err);
    r.get("time_limit_ms", &c.analysis_time_limit_ms);
    r.get("memory_limit_mb", &c.analysis_memory_limit_mb);
    r.get("postscript", &c.analysis_postscript);
    r.get("text_lines_per_page", &c.analysis_text_lines_per_page);
    r.get("documents_per_process", &c.analysis_documents_per_process);
    r.get("priority", &c.analysis_priority);
    r.rejectUnknown();
    if (err.empty() && (c.analysis_time_limit_ms < 100 || c.analysis_time_limit_ms > 600000))
      err = where(source, t->source()) + ": [analysis].time_limit_ms must be 100..600000";
    if (err.empty() && (c.analysis_memory_limit_mb < 64 || c.analysis_memory_limit_mb > 65536))
      err = where(source, t->source()) + ": [analysis].memory_limit_mb must be 64..65536";
    if (err.empty() && c.analysis_postscript != "dsc" && c.analysis_postscript != "interpret")
      err = where(source, t->source()) + ": [analysis].postscript must be \"dsc\" or \"interpret\"";
    if (err.empty() &&
        (c.analysis_text_lines_per_page < 1 || c.analysis_text_lines_per_page > 1000))
      err = where(source, t->source()) + ": [analysis].text_lines_per_page must be 1..1000";
    if (err.empty() &&
        (c.analysis_documents_per_process < 0 || c.analysis_documents_per_process > 100000))
      err = where(source, t->source()) + ": [analysis].documents_per_process must be 0..100000";
    if (err.empty() && c.analysis_priority != "background" && c.analysis_priority != "normal")
      err =
          where(source, t->source()) + ": [analysis].priority must be \"background\" or \"normal\"";
  }
  if (auto* t = root["policy"].as_table(); t && err.empty()) {
    TableReader r(*t, "[policy]", source, &err);
    r.get("file", &c.policy_file);
    r.rejectUnknown();
  }
  if (auto* t = root["fleet"].as_table(); t && err.empty()) {
    TableReader r(*t, "[fleet]", source, &err);
    r.get("concurrency", &c.fleet_concurrency);
    r.get("timeout_ms", &c.fleet_timeout_ms);
    r.get("attempts", &c.fleet_attempts);
    r.get("backoff_ms", &c.fleet_backoff_ms);
    r.get("drift_interval_seconds", &c.fleet_drift_interval_seconds);
    r.get("auto_repush", &c.fleet_auto_repush);
    r.rejectUnknown();
    if (err.empty() && (c.fleet_concurrency < 1 || c.fleet_concurrency > 256))
      err = where(source, t->source()) + ": [fleet].concurrency must be 1..256";
    if (err.empty() && (c.fleet_timeout_ms < 100 || c.fleet_timeout_ms > 300000))
      err = where(source, t->source()) + ": [fleet].timeout_ms must be 100..300000";
    if (err.empty() && (c.fleet_attempts < 1 || c.fleet_attempts > 10))
      err = where(source, t->source()) + ": [fleet].attempts must be 1..10";
    if (err.empty() && (c.fleet_backoff_ms < 0 || c.fleet_backoff_ms > 600000))
      err = where(source, t->source()) + ": [fleet].backoff_ms must be 0..600000";
    if (err.empty() &&
        (c.fleet_drift_interval_seconds < 0 || c.fleet_drift_interval_seconds > 7 * 86400 ||
         (c.fleet_drift_interval_seconds > 0 && c.fleet_drift_interval_seconds < 10)))
      err = where(source, t->source()) +
            ": [fleet].drift_interval_seconds must be 0 (off) or 10..604800";
  }
  if (auto* t = root["stations"].as_table(); t && err.empty()) {
    TableReader r(*t, "[stations]", source, &err);
    r.get("clock_skew_seconds", &c.station_clock_skew_seconds);
    r.get("failed_reads_per_minute", &c.station_failed_reads_per_minute);
    r.get("register_window_seconds", &c.card_register_window_seconds);
    r.rejectUnknown();
    if (err.empty() && (c.station_clock_skew_seconds < 1 || c.station_clock_skew_seconds > 3600))
      err = where(source, t->source()) + ": [stations].clock_skew_seconds must be 1..3600";
    if (err.empty() && c.station_failed_reads_per_minute < 1)
      err = where(source, t->source()) + ": [stations].failed_reads_per_minute must be at least 1";
    if (err.empty() &&
        (c.card_register_window_seconds < 10 || c.card_register_window_seconds > 3600))
      err = where(source, t->source()) + ": [stations].register_window_seconds must be 10..3600";
  }
  if (auto* t = root["api"].as_table(); t && err.empty()) {
    TableReader r(*t, "[api]", source, &err);
    r.get("session_idle_seconds", &c.session_idle_seconds);
    r.get("session_lifetime_seconds", &c.session_lifetime_seconds);
    r.get("token_max_lifetime_days", &c.token_max_lifetime_days);
    r.get("login_failures_per_window", &c.login_failures_per_window);
    r.get("login_failure_window_seconds", &c.login_failure_window_seconds);
    r.get("metrics_allow", &c.metrics_allow);
    r.rejectUnknown();
    auto bad = [&](const char* what) { err = where(source, t->source()) + ": [api]." + what; };
    if (err.empty() && (c.session_idle_seconds < 60 || c.session_idle_seconds > 30 * 86400))
      bad("session_idle_seconds must be 60..2592000");
    if (err.empty() && (c.session_lifetime_seconds < c.session_idle_seconds ||
                        c.session_lifetime_seconds > 90 * 86400))
      bad("session_lifetime_seconds must be session_idle_seconds..7776000");
    if (err.empty() && (c.token_max_lifetime_days < 1 || c.token_max_lifetime_days > 3650))
      bad("token_max_lifetime_days must be 1..3650");
    if (err.empty() && c.login_failures_per_window < 1)
      bad("login_failures_per_window must be at least 1");
    if (err.empty() &&
        (c.login_failure_window_seconds < 1 || c.login_failure_window_seconds > 86400))
      bad("login_failure_window_seconds must be 1..86400");
    if (err.empty()) {
      if (auto nets = CidrSet::parse(c.metrics_allow); !nets)
        bad(("metrics_allow: " + nets.status().message()).c_str());
    }
  }
  if (auto* t = root["retention"].as_table(); t && err.empty()) {
    TableReader r(*t, "[retention]", source, &err);
    r.get("job_details_days", &c.retention_job_details_days);
    r.rejectUnknown();
    if (err.empty() && (c.retention_job_details_days < 0 || c.retention_job_details_days > 36500))
      err = where(source, t->source()) + ": [retention].job_details_days must be 0..36500";
  }
  if (auto* t = root["reports"].as_table(); t && err.empty()) {
    // [[reports.factor]] entries: key, unit, per_sheet, source (all required).
    for (auto& [k, v] : *t) {
      if (k.str() != "factor") {
        err =
            where(source, k.source()) + ": unknown key '" + std::string(k.str()) + "' in [reports]";
        break;
      }
      std::vector<ReportFactorConfig> factors;
      std::set<std::string> keys;
      static const std::regex key_re("^[a-z0-9_]{1,40}$");
      forEachTable(v, "[[reports.factor]]", "report factors", source, &err,
                   [&](const toml::table& ft) {
                     ReportFactorConfig f;
                     TableReader r(ft, "[[reports.factor]]", source, &err);
                     r.get("key", &f.key);
                     r.get("unit", &f.unit);
                     r.get("source", &f.source);
                     r.get("per_sheet", &f.per_sheet);
                     r.rejectUnknown();
                     const std::string at = where(source, ft.source());
                     if (!err.empty()) return;
                     if (!std::regex_match(f.key, key_re))
                       err = at + ": [[reports.factor]].key must be 1-40 of a-z 0-9 _";
                     else if (!keys.insert(f.key).second)
                       err = at + ": report factor '" + f.key + "' is used twice";
                     else if (f.unit.empty() || f.source.empty())
                       err = at + ": [[reports.factor]] needs unit and source";
                     else if (!(f.per_sheet >= 0) || !std::isfinite(f.per_sheet))
                       err = at + ": [[reports.factor]].per_sheet must be >= 0";
                     else
                       factors.push_back(std::move(f));
                   });
      if (!err.empty()) break;
      c.report_factors = std::move(factors);
    }
  }
  if (auto* node = root.get("printer"); node && err.empty()) {
    std::set<std::string> names;
    forEachTable(*node, "[[printer]]", "printers", source, &err, [&](const toml::table& t) {
      PrinterConfig p;
      TableReader r(t, "[[printer]]", source, &err);
      r.get("name", &p.name);
      r.get("uri", &p.uri);
      r.get("location", &p.location);
      r.get("group", &p.group);
      r.get("info", &p.info);
      r.rejectUnknown();
      const std::string at = where(source, t.source());
      if (!err.empty()) return;
      if (!isSafeName(p.name, kMaxPrinterName))
        err = at + ": [[printer]].name must be 1-127 of A-Z a-z 0-9 _ -";
      else if (!names.insert(p.name).second)
        err = at + ": printer name '" + p.name + "' is used twice";
      else if (!isIppUri(p.uri))
        err = at + ": [[printer]].uri must start with ipp:// or ipps://";
      else
        c.printers.push_back(std::move(p));
    });
  }
  if (auto* node = root.get("queue"); node && err.empty()) {
    std::set<std::string> names = {"followme", "direct"};
    forEachTable(*node, "[[queue]]", "queues", source, &err, [&](const toml::table& t) {
      QueueConfig q;
      TableReader r(t, "[[queue]]", source, &err);
      r.get("name", &q.name);
      r.get("printer_uri", &q.printer_uri);
      r.get("hold", &q.hold);
      r.get("hold_timeout_seconds", &q.hold_timeout_seconds);
      r.get("info", &q.info);
      r.get("location", &q.location);
      r.rejectUnknown();
      const std::string at = where(source, t.source());
      if (!err.empty()) return;
      if (!isSafeName(q.name, kMaxPrinterName))
        err = at + ": [[queue]].name must be 1-127 of A-Z a-z 0-9 _ -";
      else if (!names.insert(q.name).second)
        err = at + ": queue name '" + q.name + "' is used twice";
      else if (!isIppUri(q.printer_uri))
        err = at + ": [[queue]].printer_uri must start with ipp:// or ipps://";
      else
        c.queues.push_back(std::move(q));
    });
  }
  if (!err.empty()) return Status(StatusCode::kInvalidArgument, err);
  return c;
}

Result<Config> loadConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, path.string() + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path.string());
}

const std::string& defaultConfigText() {
  static const std::string text = R"(# pullprint configuration (TOML).
# Every key is optional: the value shown is the built-in default.
# Reference: docs/configuration.md. Command-line flags override this file.

[server]
# listen = "127.0.0.1:8631"     # HOST:PORT; --listen overrides
# threads = 2                   # network threads
# log_level = "info"            # debug | info | warn | error
# name = "pullprint"            # shown to clients in printer-info
# idle_timeout_seconds = 30     # idle keep-alive and stalled uploads are closed after this
# max_connections = 2048
# shutdown_grace_seconds = 10   # on SIGTERM, uploads in progress may finish this long (0: none)

[tls]
# Both set: the listener also speaks TLS (ipps:// and https://) on the same port.
# certificate = "/etc/pullprint/server.crt"
# private_key = "/etc/pullprint/server.key"

[ipp]
# Clients whose requesting-user-name is trusted (your CUPS servers). Others
# must authenticate with HTTP Basic (users in the store).
# trusted_sources = ["127.0.0.0/8", "::1/128"]
# admin_users = ["root"]          # may hold/release/cancel any job over IPP
# allow_basic_without_tls = false # Basic over plain HTTP only from loopback
# max_document_bytes = 536870912  # 512 MiB; larger documents are refused
# max_ipp_header_bytes = 262144   # attributes before the document data
# accept_unknown_formats = true   # hold documents whose format is not known

[spool]
# directory = "<state-dir>/spool"
# database = "<state-dir>/pullprint.db"
# min_free_bytes = 67108864       # refuse new documents below 64 MiB free
# journal_max_bytes = 262144      # documents up to 256 KiB: one sync, through the database
# journal_sync_delay_ms = 100     # ... their spool files are synced within 0.1 s

[hold]
# timeout_seconds = 86400         # held jobs expire after 24 h

[release]
# direct_printer = ""              # printer (a [[printer]] name) behind the direct queue
# poll_interval_ms = 500           # how often a printing job is checked
# busy_retry_seconds = 30          # a busy printer is retried this long before the job goes back on hold
# expiry_interval_seconds = 30     # how often the hold timeout is checked

[analysis]
# time_limit_ms = 10000            # per document; then the count is unknown (analysis-time-limit)
# memory_limit_mb = 512            # address space of the analysing process
# postscript = "dsc"               # "dsc": trust DSC when consistent; "interpret": always Ghostscript
# text_lines_per_page = 60         # plain text layout assumption
# documents_per_process = 500      # documents one analysis process handles before a fresh one; 0 = one each
# priority = "background"          # "background": counting pages yields the CPU to clients; or "normal"

[policy]
# file = "/etc/pullprint/policy.toml"  # duplex/colour/deny rules (docs/policies.md);
#                                      # check with: pullprintd --check-policy FILE

[fleet]
# Pushing the policy's [printer_defaults] to printers, and drift checks
# (docs/policies.md "Fleet push and drift").
# concurrency = 16                 # printers contacted at once
# timeout_ms = 10000               # per printer and IPP request
# attempts = 3                     # tries for an unreachable printer
# backoff_ms = 1000                # wait before the second try; doubles each try
# drift_interval_seconds = 3600    # read back every printer's defaults; 0 = off
# auto_repush = false              # push again to printers found drifted

[stations]
# Card release stations (pullprint-badge); see docs/badge-reader.md.
# clock_skew_seconds = 60          # signed station requests outside this window are refused
# failed_reads_per_minute = 10     # unknown-card taps per station per minute, then refused (429)
# register_window_seconds = 120    # "register my card": the tap must follow within this time

[api]
# REST API authentication (docs/api.md).
# session_idle_seconds = 1800          # a browser session unused this long ends
# session_lifetime_seconds = 43200     # a session ends this long after login, used or not
# token_max_lifetime_days = 365        # API tokens expire at most this many days after creation
# login_failures_per_window = 5        # failed logins per user+address, then 429 ...
# login_failure_window_seconds = 300   # ... until the oldest failure is this old
# metrics_allow = ["127.0.0.0/8", "::1/128"]  # may scrape /metrics without credentials
[retention]
# Personal data (docs/operations.md "Personal data"). Days after a job ended
# when its job name, document names and source address are blanked; counts,
# owner, printer and times stay for the reports. 0 keeps them forever.
# job_details_days = 0

[reports]
# Environmental equivalents per printed/saved sheet, each shown with its source
# in every report. Any [[reports.factor]] replaces the whole default list
# (defaults: trees 1/8333 and co2e_g 12.7 from PaperCut, co2_g_savapage 5.1 and
# energy_wh 12.5 from SavaPage). Example:
# [[reports.factor]]
# key = "water_l"                  # a-z 0-9 _; the name in JSON and CSV
# unit = "l"
# per_sheet = 0.01
# source = "Our paper supplier's 2025 declaration, p. 4"

# Printers jobs can be released to:
# [[printer]]
# name = "library-1"
# uri = "ipp://printer.example.org/ipp/print"
# location = "Library, ground floor"
# group = "library"

# Per-printer held queues (ipp://HOST:PORT/printers/<name>); each also
# registers a printer of the same name:
# [[queue]]
# name = "library-1"
# printer_uri = "ipp://printer.example.org/ipp/print"
# location = "Library, ground floor"
)";
  return text;
}

}  // namespace pullprint
