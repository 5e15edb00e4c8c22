// Own parsers on memory buffers: DSC scanning, wire encoding, and the
// checked-in fuzz seeds (each must parse without trouble).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "spooler/analysis/dsc.h"
#include "spooler/analysis/raster.h"
#include "spooler/analysis/serialize.h"
#include "spooler/analysis/text_pages.h"

namespace pullprint::spooler::analysis {
namespace {

TEST_CASE("DSC scanner: header, trailer, markers, nesting", "[dsc]") {
  const std::string ps =
      "%!PS-Adobe-3.0\r\n%%Pages: (atend)\r\n%%DocumentMedia: Letter 612 792 0 () ()\r\n"
      "%%+ A4 595 842 0 () ()\r\n%%EndComments\r\n%%Page: 1 1\r\n"
      "%%BeginDocument: inner.eps\n%!PS-Adobe-3.0 EPSF-3.0\n%%Pages: 9\n%%Page: 1 1\n"
      "%%EndDocument\n%%Page: 2 2\r%%Trailer\n%%Pages: 2\n%%EOF";
  const DscSummary d = scanDsc(ps);
  CHECK(d.conforming);
  CHECK_FALSE(d.eps);
  CHECK(d.header_atend);
  CHECK_FALSE(d.header_pages.has_value());
  CHECK(d.trailer_pages == 2);
  CHECK(d.page_markers == 2);  // the embedded EPS's marker is not ours
  CHECK(d.media_entries == 2);
  CHECK(d.media_width_pt == 612.0);
  CHECK(d.media_height_pt == 792.0);

  // Same summary for every chunking (CR/LF pairs split across chunks too).
  for (std::size_t step : {1, 2, 5, 13}) {
    DscScanner scanner;
    for (std::size_t i = 0; i < ps.size(); i += step)
      scanner.feed(std::string_view(ps).substr(i, step));
    const DscSummary& s = scanner.finish();
    CHECK(s.page_markers == d.page_markers);
    CHECK(s.trailer_pages == d.trailer_pages);
    CHECK(s.lines == d.lines);
  }

  CHECK(scanDsc("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n").eps);
  CHECK_FALSE(scanDsc("%!PS\n%%Pages: 3\n").conforming);
  // A %%Pages: after the header (in the body) is not the header's claim.
  CHECK_FALSE(scanDsc("%!PS-Adobe-3.0\n%%EndComments\n%%Pages: 3\n").header_pages.has_value());
  // Very long lines are truncated, not buffered.
  CHECK(scanDsc("%!PS-Adobe-3.0\n" + std::string(1 << 20, 'x') + "\n%%Page: 1 1\n").page_markers ==
        1);
}

TEST_CASE("wire encoding round-trips and rejects garbage", "[runner]") {
  DocumentAnalysis a;
  a.format = "application/pdf";
  a.pages = 12;
  a.confidence = Confidence::kEstimated;
  a.method = "pdf-page-tree";
  a.reason = "document-format-error";
  a.note = std::string("with \0 bytes", 12);
  a.sizes = {{595, 842, 10}, {842, 1191, 2}};
  a.pages_of_other_sizes = 3;
  a.color = false;
  const std::string wire = encodeAnalysis(a);
  const auto back = decodeAnalysis(wire);
  REQUIRE(back.has_value());
  CHECK(back->pages == a.pages);
  CHECK(back->confidence == a.confidence);
  CHECK(back->note == a.note);
  CHECK(back->sizes == a.sizes);
  CHECK(back->pages_of_other_sizes == 3);
  CHECK(back->color == std::optional<bool>(false));
  for (std::size_t cut = 0; cut < wire.size(); ++cut)
    CHECK_FALSE(decodeAnalysis(wire.substr(0, cut)));
  CHECK_FALSE(decodeAnalysis(wire + "x"));
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_CASE("fuzz seed corpus parses cleanly", "[fuzz-seeds]") {
  const std::filesystem::path root = PULLPRINT_FUZZ_CORPUS;
  REQUIRE(std::filesystem::exists(root));
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string data = slurp(entry.path());
    const std::string target = entry.path().parent_path().filename().string();
    INFO(entry.path().string());
    ++files;
    MemorySource source(data);
    if (target == "pwg_raster") {
      CHECK(scanPwgRaster(source, RasterLimits{}).valid_header);
    } else if (target == "urf") {
      CHECK(scanUrf(source, RasterLimits{}).valid_header);
    } else if (target == "dsc") {
      scanDsc(data);
    } else if (target == "text") {
      countTextPages(data, TextLayout{});
    }
  }
  CHECK(files >= 8);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
