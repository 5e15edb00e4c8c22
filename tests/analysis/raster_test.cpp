// PWG raster and Apple raster (URF): page walking with real compression.
#include <catch2/catch.hpp>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/raster.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;

std::vector<RasterPageSpec> pages(int n, uint32_t color_space, uint32_t bpp = 8) {
  std::vector<RasterPageSpec> out;
  for (int i = 0; i < n; ++i) {
    RasterPageSpec p;
    p.seed = static_cast<uint32_t>(i + 1);
    p.color_space = color_space;
    p.bits_per_pixel = bpp;
    p.width = 102;   // 612 pt at 12 dpi (Letter)
    p.height = 132;  // 792 pt
    p.dpi = 12;
    out.push_back(p);
  }
  return out;
}

TEST_CASE("PWG raster pages are walked and counted", "[raster]") {
  auto spec = pages(5, 18);
  spec[4].width = 140;  // ~A3 at 12 dpi: 840 x 1191 pt
  spec[4].height = 198;
  const auto a = analyzeBuffer(pwgRaster(spec), "image/pwg-raster");
  CHECK(a.format == "image/pwg-raster");
  CHECK(a.pages == 5);
  CHECK(a.confidence == Confidence::kExact);
  CHECK(a.method == "pwg-headers");
  CHECK(a.color == std::optional<bool>(false));
  REQUIRE(a.sizes.size() == 2);
  CHECK(a.sizes[0] == PageSizeCount{612, 792, 4});
  CHECK(a.sizes[1] == PageSizeCount{840, 1188, 1});

  const auto rgb = analyzeBuffer(pwgRaster(pages(2, 19, 24)), "application/octet-stream");
  CHECK(rgb.format == "image/pwg-raster");
  CHECK(rgb.pages == 2);
  CHECK(rgb.color == std::optional<bool>(true));
}

TEST_CASE("a truncated PWG page counts as printed, flagged", "[raster]") {
  std::string data = pwgRaster(pages(3, 18));
  data.resize(data.size() - 50);
  const auto a = analyzeBuffer(data, "image/pwg-raster");
  CHECK(a.pages == 3);
  CHECK(a.confidence == Confidence::kEstimated);
  CHECK(a.reason == reason::kMalformed);
  CHECK(a.note.find("truncated") != std::string::npos);

  // A header that does not add up stops the walk; earlier pages still count.
  std::string bad = pwgRaster(pages(2, 18));
  const std::size_t second = bad.size() / 2;  // not exact, so find the 2nd header by its class
  const auto at = bad.find("PwgRaster", 5);
  REQUIRE(at != std::string::npos);
  (void)second;
  bad[at + 392 + 3] ^= 0x01;  // corrupt cupsBytesPerLine of page 2
  const auto b = analyzeBuffer(bad, "image/pwg-raster");
  CHECK(b.pages == 1);
  CHECK(b.reason == reason::kMalformed);
}

TEST_CASE("URF: the file-header page count is not trusted", "[raster]") {
  const auto a = analyzeBuffer(urfRaster(pages(3, 1, 24), /*declared=*/1), "image/urf");
  CHECK(a.format == "image/urf");
  CHECK(a.pages == 3);
  CHECK(a.confidence == Confidence::kExact);
  CHECK(a.method == "urf-headers");
  CHECK(a.color == std::optional<bool>(true));
  CHECK(a.note.find("claims 1") != std::string::npos);
  REQUIRE(a.sizes.size() == 1);
  CHECK(a.sizes[0] == PageSizeCount{612, 792, 3});

  const auto gray = analyzeBuffer(urfRaster(pages(4, 0), 4), "application/octet-stream");
  CHECK(gray.pages == 4);
  CHECK(gray.color == std::optional<bool>(false));
  CHECK(gray.note.empty());
}

TEST_CASE("raster scanners on memory buffers", "[raster]") {
  const std::string data = pwgRaster(pages(2, 18));
  MemorySource source(data);
  const RasterScan scan = scanPwgRaster(source, RasterLimits{});
  CHECK(scan.complete_pages == 2);
  CHECK_FALSE(scan.truncated_page);

  MemorySource wrong(std::string_view("RaS3xxxx"));
  CHECK_FALSE(scanPwgRaster(wrong, RasterLimits{}).valid_header);
  const auto mismatch = analyzeBuffer("RaS3 and more", "image/pwg-raster");
  CHECK(mismatch.reason == reason::kFormatMismatch);

  RasterLimits few;
  few.max_pages = 3;
  const std::string many = urfRaster(pages(5, 0), 5);
  MemorySource ms(many);
  CHECK(scanUrf(ms, few).hit_page_limit);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
