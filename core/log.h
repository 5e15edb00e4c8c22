// Logger: structured, line-oriented logs to stderr (logfmt).
//
// Each line is `ts=<RFC3339> level=<lvl> event=<name> key=value ...`; values
// with spaces or quotes are quoted. Events are stable dotted names
// ("job.accepted", "ipp.bad-request") so operators can grep and alert on
// them. Card UIDs and passwords never go into a log unredacted.
//
// Thread contract: log calls are safe from any thread; a line is written with
// one write(2) so lines from different threads never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace pullprint {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// A key and an already-formatted value.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string_view key;
  std::string value;
};

class Logger {
 public:
  explicit Logger(LogLevel min_level = LogLevel::kInfo, int fd = 2) : min_(min_level), fd_(fd) {}

  void setLevel(LogLevel level) { min_ = level; }
  bool enabled(LogLevel level) const { return level >= min_; }

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void debug(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kDebug, e, f);
  }
  void info(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kInfo, e, f);
  }
  void warn(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kWarn, e, f);
  }
  void error(std::string_view e, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kError, e, f);
  }

  // Parses "debug" | "info" | "warn" | "error".
  static bool parseLevel(std::string_view text, LogLevel* out);

 private:
  LogLevel min_;
  int fd_;
};

}  // namespace pullprint
