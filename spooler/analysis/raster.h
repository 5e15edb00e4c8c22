#pragma once
// Page walkers for the two raster formats IPP Everywhere / AirPrint clients
// send: PWG raster (PWG 5102.4, image/pwg-raster) and Apple raster
// (image/urf). Both are walked page by page: each page header is read and
// validated, then the page's compressed lines are decoded (without storing
// pixels) to find where the page ends, exactly as CUPS's raster reader does,
// so a lying or truncated file cannot shift the count.
//
// Compression (both formats): per line group, one byte "repeat this line n+1
// times", then until the line is full: 0-127 = repeat the next pixel n+1
// times, 128 = fill the rest of the line with white, 129-255 = 257-n literal
// pixels. Counts past the end of the line are clamped (CUPS behaviour).
//
// Invariants: O(1) memory whatever the input; the URF file header's page
// count is reported in `declared_pages` only, never used as the count.
// Thread contract: pure functions of their input; reentrant.

#include <cstdint>
#include <optional>
#include <string>

#include "spooler/analysis/byte_source.h"
#include "spooler/analysis/page_sizes.h"

namespace pullprint::spooler::analysis {

struct RasterScan {
  bool valid_header = false;      // sync word / file header recognised
  int64_t complete_pages = 0;     // pages whose header and data were complete
  bool truncated_page = false;    // a further page started but its data ended early
  bool stopped_on_error = false;  // a page header was invalid; walking stopped there
  bool hit_deadline = false;
  bool hit_page_limit = false;
  std::optional<int64_t> declared_pages;  // URF file header claim (informational)
  std::string error;                      // first problem, for the analysis note
  SizeTally sizes;                        // per complete (or truncated) page
  std::optional<bool> color;              // true if any page uses a colour space
};

struct RasterLimits {
  Deadline deadline;
  int64_t max_pages = 1'000'000;
};

RasterScan scanPwgRaster(ByteSource& source, const RasterLimits& limits);
RasterScan scanUrf(ByteSource& source, const RasterLimits& limits);

// PWG/CUPS cupsColorSpace values that carry no colour (W, K, SW, Device1).
bool pwgColorSpaceIsMonochrome(uint32_t color_space);

}  // namespace pullprint::spooler::analysis
