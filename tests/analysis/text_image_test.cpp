// Plain text layout, images, and format detection.
#include <catch2/catch.hpp>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/sniff.h"
#include "spooler/analysis/text_pages.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;

std::string lines(int n, const std::string& eol = "\n") {
  std::string s;
  for (int i = 0; i < n; ++i) s += "line " + std::to_string(i) + eol;
  return s;
}

TEST_CASE("text: 60 lines per page, form feeds, wrapping", "[text]") {
  const TextLayout layout;
  struct Case {
    const char* what;
    std::string text;
    int64_t pages;
  };
  const std::vector<Case> cases = {
      {"empty document", "", 0},
      {"one line without newline", "hello", 1},
      {"60 lines fill one page", lines(60), 1},
      {"61 lines need two", lines(61), 2},
      {"CRLF counts one line", lines(60, "\r\n"), 1},
      {"form feed starts a new page", "a\fb", 2},
      {"trailing form feed adds nothing", "a\f", 1},
      {"form feed after a full page adds nothing", lines(60) + "\f" + "x", 2},
      {"form feed on an empty page is ignored", "\f\fa", 1},
      {"200 lines", lines(200), 4},
      {"only newlines are blank lines that print", std::string(61, '\n'), 2},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(countTextPages(c.text, layout) == c.pages);
  }
  TextLayout wrap;
  wrap.columns = 80;
  CHECK(countTextPages(std::string(81, 'x') + "\n", wrap) == 1);
  CHECK(countTextPages(lines(58) + std::string(160, 'x') + "\n", wrap) == 1);  // 2 lines
  CHECK(countTextPages(lines(58) + std::string(161, 'x') + "\n", wrap) == 2);  // 3 lines
  // UTF-8: 80 two-byte characters are 80 columns.
  std::string umlauts;
  for (int i = 0; i < 80; ++i) umlauts += "\xC3\xA4";
  CHECK(countTextPages(lines(59) + umlauts + "\n", wrap) == 1);
  TextLayout short_pages;
  short_pages.lines_per_page = 10;
  CHECK(countTextPages(lines(25), short_pages) == 3);
}

TEST_CASE("text counter gives the same answer for any chunking", "[text]") {
  const std::string text = lines(77, "\r\n") + "\f" + std::string(300, 'y') + "\n\f\f" + lines(5);
  TextLayout layout;
  layout.columns = 72;
  const int64_t whole = countTextPages(text, layout);
  for (std::size_t step : {1, 2, 3, 7, 64}) {
    TextPageCounter counter(layout);
    for (std::size_t i = 0; i < text.size(); i += step)
      counter.feed(std::string_view(text).substr(i, step));
    CHECK(counter.finish() == whole);
  }
}

TEST_CASE("text documents through analyzeFile", "[text]") {
  const auto a = analyzeBuffer(lines(130), "text/plain; charset=utf-8");
  CHECK(a.format == "text/plain");
  CHECK(a.pages == 3);
  CHECK(a.confidence == Confidence::kEstimated);
  CHECK(a.method == "text-lines");
  CHECK(a.note.find("60 lines") != std::string::npos);
  const auto sniffed = analyzeBuffer(lines(3), "application/octet-stream");
  CHECK(sniffed.format == "text/plain");
  CHECK(sniffed.pages == 1);
  const auto empty = analyzeBuffer("", "text/plain");
  CHECK(empty.pages == 0);  // known to be empty: 0 is a count here, not "unknown"
}

TEST_CASE("JPEG and PNG are one page, colour from the header", "[image]") {
  auto jpeg = analyzeBuffer(tinyJpeg(3), "image/jpeg");
  CHECK(jpeg.pages == 1);
  CHECK(jpeg.confidence == Confidence::kExact);
  CHECK(jpeg.color == std::optional<bool>(true));
  CHECK(analyzeBuffer(tinyJpeg(1), "application/octet-stream").color == std::optional<bool>(false));
  auto png = analyzeBuffer(tinyPng(0), "image/png");
  CHECK(png.pages == 1);
  CHECK(png.color == std::optional<bool>(false));
  CHECK(analyzeBuffer(tinyPng(6), "").color == std::optional<bool>(true));
  CHECK_FALSE(analyzeBuffer(tinyPng(3), "image/png").color.has_value());

  const auto fake = analyzeBuffer("GIF89a not a jpeg", "image/jpeg");
  CHECK_FALSE(fake.pages.has_value());
  CHECK(fake.reason == reason::kFormatMismatch);
  const auto headless = analyzeBuffer(std::string("\xFF\xD8\xFF\xD9", 4), "image/jpeg");
  CHECK_FALSE(headless.pages.has_value());
  CHECK(headless.reason == reason::kMalformed);
}

TEST_CASE("format detection and declared-format checks", "[sniff]") {
  CHECK(sniffFormat("%PDF-1.7\n") == Format::kPdf);
  CHECK(sniffFormat("junk before\n%PDF-1.4\n") == Format::kPdf);
  CHECK(sniffFormat("%!PS-Adobe-3.0\n") == Format::kPostScript);
  CHECK(sniffFormat("\x04%!PS\n") == Format::kPostScript);
  CHECK(sniffFormat("RaS2") == Format::kPwgRaster);
  CHECK(sniffFormat(std::string("UNIRAST\0", 8)) == Format::kUrf);
  CHECK(sniffFormat(std::string("\0\1\2\3", 4)) == Format::kUnknown);
  CHECK(parseMime(" Application/PDF ").format == Format::kPdf);
  CHECK(parseMime("application/octet-stream").detect);
  CHECK(parseMime("").detect);

  const auto unsupported = analyzeBuffer("hello", "application/vnd.ms-excel");
  CHECK_FALSE(unsupported.pages.has_value());
  CHECK(unsupported.reason == reason::kUnsupportedFormat);
  const auto binary = analyzeBuffer(std::string("\0\1\2\3garbage", 11), "application/octet-stream");
  CHECK(binary.reason == reason::kUnsupportedFormat);
  const auto mismatch = analyzeBuffer("%!PS-Adobe-3.0\nshowpage\n", "application/pdf");
  CHECK(mismatch.reason == reason::kFormatMismatch);
  CHECK(mismatch.note.find("application/postscript") != std::string::npos);
  const auto missing = analyzeFile("/nonexistent/file.pdf", "application/pdf");
  CHECK(missing.reason == reason::kUnreadable);
  CHECK(missing.confidence == Confidence::kUnknown);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
