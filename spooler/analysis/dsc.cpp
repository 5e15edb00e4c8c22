#include "spooler/analysis/dsc.h"

#include <charconv>
#include <cstdlib>

namespace pullprint::spooler::analysis {
namespace {

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// First whitespace-separated token of `s`, advancing `s` past it.
std::string_view nextToken(std::string_view& s) {
  s = trimLeft(s);
  std::size_t end = 0;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end);
  return token;
}

std::optional<int64_t> parseCount(std::string_view s) {
  std::string_view token = nextToken(s);
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || ptr != token.data() + token.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<double> parseNumber(std::string_view token) {
  if (token.empty() || token.size() > 32) return std::nullopt;
  std::string copy(token);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

}  // namespace

void DscScanner::feed(std::string_view chunk) {
  for (char c : chunk) {
    if (c == '\n') {
      if (!previous_cr_) endLine();
      previous_cr_ = false;
    } else if (c == '\r') {
      endLine();
      previous_cr_ = true;
    } else {
      previous_cr_ = false;
      if (line_.size() < kMaxLine) line_.push_back(c);
    }
  }
}

void DscScanner::endLine() {
  processLine(line_);
  line_.clear();
  ++summary_.lines;
}

const DscSummary& DscScanner::finish() {
  if (!finished_) {
    if (!line_.empty()) endLine();
    finished_ = true;
  }
  return summary_;
}

void DscScanner::processLine(std::string_view line) {
  if (summary_.lines == 0) {
    std::string_view first = line;
    if (startsWith(first, "\x04")) first.remove_prefix(1);
    summary_.conforming = startsWith(first, "%!PS-Adobe-");
    summary_.eps = summary_.conforming && first.find("EPSF") != std::string_view::npos;
    return;
  }
  if (!startsWith(line, "%")) {
    // Any line that is not a comment ends the header (DSC 3.0, section 4.4).
    in_header_ = false;
    last_was_media_ = false;
    return;
  }
  if (!startsWith(line, "%%")) return;
  const bool continues_media = last_was_media_;
  last_was_media_ = false;

  // Embedded documents: their comments describe them, not the outer job.
  if (startsWith(line, "%%BeginDocument")) {
    ++depth_;
    return;
  }
  if (startsWith(line, "%%EndDocument")) {
    if (depth_ > 0) --depth_;
    return;
  }
  if (depth_ > 0) return;

  if (startsWith(line, "%%EndComments")) {
    in_header_ = false;
  } else if (startsWith(line, "%%Trailer")) {
    in_trailer_ = true;
  } else if (startsWith(line, "%%Pages:")) {
    std::string_view rest = trimLeft(line.substr(8));
    if (in_trailer_) {
      if (auto n = parseCount(rest)) summary_.trailer_pages = n;
    } else if (in_header_ && !summary_.header_pages && !summary_.header_atend) {
      if (startsWith(rest, "(atend)")) {
        summary_.header_atend = true;
      } else if (auto n = parseCount(rest)) {
        summary_.header_pages = n;
      }
    }
  } else if (startsWith(line, "%%Page:")) {
    ++summary_.page_markers;
  } else if (startsWith(line, "%%DocumentMedia:") || (continues_media && startsWith(line, "%%+"))) {
    std::string_view rest = line.substr(startsWith(line, "%%+") ? 3 : 16);
    ++summary_.media_entries;
    last_was_media_ = true;
    if (summary_.media_entries == 1) {
      nextToken(rest);  // medium name
      const auto w = parseNumber(nextToken(rest));
      const auto h = parseNumber(nextToken(rest));
      if (w && h) {
        summary_.media_width_pt = w;
        summary_.media_height_pt = h;
      }
    }
  }
}

DscSummary scanDsc(std::string_view data) {
  DscScanner scanner;
  scanner.feed(data);
  return scanner.finish();
}

}  // namespace pullprint::spooler::analysis
