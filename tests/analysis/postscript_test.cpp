// PostScript: DSC when it is consistent, Ghostscript when it is not.
#include <catch2/catch.hpp>

#include "spooler/analysis/analysis.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;

// Independent count: Ghostscript's bbox device prints one %%BoundingBox per page.
int64_t gsBboxCount(const std::filesystem::path& file) {
  std::string out;
  run("gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=bbox -sOutputFile=/dev/null " + file.string(),
      &out);
  int64_t n = 0;
  for (std::size_t at = out.find("%%BoundingBox"); at != std::string::npos;
       at = out.find("%%BoundingBox", at + 1))
    ++n;
  return n;
}

std::string dscFile(const std::string& header_pages, int markers, int showpages,
                    const std::string& trailer_pages = "") {
  std::string ps = "%!PS-Adobe-3.0\n%%Creator: test\n";
  if (!header_pages.empty()) ps += "%%Pages: " + header_pages + "\n";
  ps += "%%DocumentMedia: A4 595 842 0 () ()\n%%EndComments\n%%BeginProlog\n%%EndProlog\n";
  for (int i = 1; i <= showpages; ++i) {
    if (i <= markers) ps += "%%Page: " + std::to_string(i) + " " + std::to_string(i) + "\n";
    ps += "newpath 72 72 moveto 200 200 lineto stroke showpage\n";
  }
  for (int i = showpages + 1; i <= markers; ++i)
    ps += "%%Page: " + std::to_string(i) + " " + std::to_string(i) + "\n";
  if (!trailer_pages.empty()) ps += "%%Trailer\n%%Pages: " + trailer_pages + "\n";
  return ps + "%%EOF\n";
}

TEST_CASE("Ghostscript-made PostScript counts by DSC and agrees with Ghostscript", "[ps]") {
  const auto ps = gsPs(gsPdf("plain7.pdf", 7), "plain7.ps");
  const auto a = analyzeFile(ps, "application/postscript");
  CHECK(a.pages == 7);
  CHECK(a.method == "dsc");
  CHECK(a.confidence == Confidence::kEstimated);
  CHECK(gsBboxCount(ps) == 7);

  AnalysisOptions interpret;
  interpret.postscript = PostScriptMode::kAlwaysInterpret;
  const auto b = analyzeFile(ps, "application/postscript", interpret);
  CHECK(b.pages == 7);
  CHECK(b.method == "ghostscript");
  CHECK(b.confidence == Confidence::kExact);
  REQUIRE(b.sizes.size() == 1);
  CHECK(b.sizes[0] == PageSizeCount{595, 842, 7});

  const auto mixed = gsPs(gsPdf("mixed.pdf", 6, {{595, 842}, {842, 1191}, {612, 792}}), "mixed.ps");
  const auto m = analyzeFile(mixed, "application/postscript", interpret);
  CHECK(m.pages == 6);
  CHECK(m.sizes.size() == 3);
  CHECK(gsBboxCount(mixed) == 6);
}

TEST_CASE("DSC rules: what is trusted and when Ghostscript runs", "[ps]") {
  struct Case {
    const char* what;
    std::string ps;
    int64_t pages;
    const char* method;
  };
  const std::vector<Case> cases = {
      {"consistent DSC", dscFile("4", 4, 4), 4, "dsc"},
      {"(atend) resolved in the trailer", dscFile("(atend)", 3, 3, "3"), 3, "dsc"},
      {"%%Pages lies low: 1 vs 5 markers", dscFile("1", 5, 5), 5, "ghostscript"},
      {"%%Pages lies high: 9 vs 2 markers", dscFile("9", 2, 2), 2, "ghostscript"},
      {"(atend) without a trailer", dscFile("(atend)", 3, 3), 3, "ghostscript"},
      {"header and trailer disagree", dscFile("2", 2, 6, "6"), 6, "ghostscript"},
      {"no %%Pages comment", dscFile("", 3, 3), 3, "ghostscript"},
      {"no DSC at all", "%!PS\n1 1 5 { pop showpage } for\n", 5, "ghostscript"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto a = analyzeBuffer(c.ps, "application/postscript");
    CHECK(a.pages == c.pages);
    CHECK(a.method == c.method);
    if (std::string(c.method) == "ghostscript") {
      CHECK(a.confidence == Confidence::kExact);
      CHECK_FALSE(a.note.empty());  // says why DSC was not trusted
    } else {
      CHECK(a.sizes == std::vector<PageSizeCount>{{595, 842, c.pages}});
    }
  }
}

TEST_CASE("consistent DSC over a program that prints more: the residual risk", "[ps]") {
  // One %%Page marker, but the page loops 7 showpages. DSC mode believes the
  // comments (Estimated); kAlwaysInterpret counts what prints.
  const std::string ps =
      "%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\n%%Page: 1 1\n1 1 7 { pop showpage } for\n%%EOF\n";
  CHECK(analyzeBuffer(ps, "application/postscript").pages == 1);
  AnalysisOptions interpret;
  interpret.postscript = PostScriptMode::kAlwaysInterpret;
  CHECK(analyzeBuffer(ps, "application/postscript", interpret).pages == 7);
}

TEST_CASE("colour seen by Ghostscript is reported", "[ps]") {
  AnalysisOptions interpret;
  interpret.postscript = PostScriptMode::kAlwaysInterpret;
  const auto red = analyzeBuffer("%!PS\n1 0 0 setrgbcolor 0 0 300 300 rectfill showpage\n",
                                 "application/postscript", interpret);
  CHECK(red.pages == 1);
  CHECK(red.color == std::optional<bool>(true));
  const auto grey = analyzeBuffer("%!PS\n0.4 0.4 0.4 setrgbcolor 0 0 300 300 rectfill showpage\n",
                                  "application/postscript", interpret);
  CHECK(grey.pages == 1);
  CHECK_FALSE(grey.color.has_value());  // never claimed monochrome from a 10 dpi render
}

TEST_CASE("PostScript errors and missing Ghostscript", "[ps]") {
  const auto err = analyzeBuffer("%!PS\nshowpage showpage\nthis-is-undefined\nshowpage\n",
                                 "application/postscript");
  CHECK(err.method == "ghostscript");
  CHECK(err.pages == 2);
  CHECK(err.confidence == Confidence::kEstimated);
  CHECK(err.reason == reason::kMalformed);

  AnalysisOptions no_gs;
  no_gs.ghostscript = "/nonexistent/gs";
  const auto missing = analyzeBuffer("%!PS\nshowpage\n", "application/postscript", no_gs);
  CHECK_FALSE(missing.pages.has_value());
  CHECK(missing.reason == reason::kInterpreterFailed);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
