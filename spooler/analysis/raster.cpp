#include "spooler/analysis/raster.h"

#include <array>
#include <cstring>

namespace pullprint::spooler::analysis {
namespace {

constexpr std::size_t kPwgHeaderSize = 1796;
constexpr std::size_t kUrfFileHeaderSize = 12;
constexpr std::size_t kUrfPageHeaderSize = 32;
constexpr uint32_t kDeadlinePollLines = 4096;

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

enum class DataResult { kComplete, kTruncated, kDeadline };

// Walks one page of compressed lines (see raster.h) without keeping pixels.
// Mirrors cupsRasterReadPixels: counts past the end of a line are clamped and
// only the clamped number of literal bytes is consumed.
DataResult skipCompressedPage(Reader& in, uint32_t height, uint32_t bytes_per_line,
                              uint32_t bytes_per_pixel, const Deadline& deadline) {
  uint64_t lines = 0;
  uint32_t groups = 0;
  while (lines < height) {
    if (++groups % kDeadlinePollLines == 0 && deadline.expired()) return DataResult::kDeadline;
    const int repeat = in.get();
    if (repeat < 0) return DataResult::kTruncated;
    lines += static_cast<uint64_t>(repeat) + 1;
    uint64_t left = bytes_per_line;
    while (left > 0) {
      const int control = in.get();
      if (control < 0) return DataResult::kTruncated;
      if (control == 128) {
        left = 0;  // rest of the line is white
      } else if (control > 128) {
        uint64_t count = static_cast<uint64_t>(257 - control) * bytes_per_pixel;
        if (count > left) count = left;
        if (!in.skip(count)) return DataResult::kTruncated;
        left -= count;
      } else {
        uint64_t count = static_cast<uint64_t>(control + 1) * bytes_per_pixel;
        if (count > left) count = left;
        if (count < bytes_per_pixel) break;  // CUPS stops the line here
        if (!in.skip(bytes_per_pixel)) return DataResult::kTruncated;
        left -= count;
      }
    }
  }
  return DataResult::kComplete;
}

// Records the outcome of one page's data walk; false when walking must stop.
bool finishPage(RasterScan& scan, DataResult result, double width_pt, double height_pt,
                int64_t page_number) {
  switch (result) {
    case DataResult::kComplete:
      ++scan.complete_pages;
      scan.sizes.add(width_pt, height_pt);
      return true;
    case DataResult::kTruncated:
      scan.truncated_page = true;
      scan.sizes.add(width_pt, height_pt);
      scan.error = "data of page " + std::to_string(page_number) + " is truncated";
      return false;
    case DataResult::kDeadline:
      scan.hit_deadline = true;
      return false;
  }
  return false;
}

void noteColor(RasterScan& scan, bool color) { scan.color = scan.color.value_or(false) || color; }

}  // namespace

bool pwgColorSpaceIsMonochrome(uint32_t color_space) {
  switch (color_space) {
    case 0:   // CUPS_CSPACE_W
    case 3:   // CUPS_CSPACE_K
    case 18:  // CUPS_CSPACE_SW (sgray)
    case 48:  // CUPS_CSPACE_DEVICE1
      return true;
    default:
      return false;
  }
}

RasterScan scanPwgRaster(ByteSource& source, const RasterLimits& limits) {
  RasterScan scan;
  Reader in(source);
  std::array<uint8_t, 4> sync{};
  if (!in.readExact(sync.data(), sync.size()) || std::memcmp(sync.data(), "RaS2", 4) != 0) {
    scan.error = "no PWG raster sync word \"RaS2\"";
    return scan;
  }
  scan.valid_header = true;

  std::array<uint8_t, kPwgHeaderSize> header{};
  for (;;) {
    if (scan.complete_pages >= limits.max_pages) {
      scan.hit_page_limit = true;
      return scan;
    }
    if (limits.deadline.expired()) {
      scan.hit_deadline = true;
      return scan;
    }
    const int first = in.get();
    if (first < 0) return scan;  // clean end of file
    header[0] = static_cast<uint8_t>(first);
    const int64_t page_number = scan.complete_pages + 1;
    if (!in.readExact(header.data() + 1, header.size() - 1)) {
      scan.stopped_on_error = true;
      scan.error = "page header " + std::to_string(page_number) + " is truncated";
      return scan;
    }
    const uint8_t* h = header.data();
    const uint32_t res_x = be32(h + 276);
    const uint32_t res_y = be32(h + 280);
    const uint32_t page_w = be32(h + 352);
    const uint32_t page_h = be32(h + 356);
    const uint32_t width = be32(h + 372);
    const uint32_t height = be32(h + 376);
    const uint32_t bits_per_pixel = be32(h + 388);
    const uint32_t bytes_per_line = be32(h + 392);
    const uint32_t color_order = be32(h + 396);
    const uint32_t color_space = be32(h + 400);
    const uint32_t num_colors = be32(h + 420);

    // Validate what the data walk depends on, as CUPS does before reading pixels.
    const uint64_t expected_bpl = (static_cast<uint64_t>(width) * bits_per_pixel + 7) / 8;
    const uint32_t bytes_per_pixel = (bits_per_pixel + 7) / 8;
    std::string bad;
    if (width == 0 || height == 0)
      bad = "zero width or height";
    else if (bits_per_pixel == 0 || bits_per_pixel > 240)
      bad = "bad cupsBitsPerPixel";
    else if (color_order != 0)
      bad = "cupsColorOrder is not chunky";
    else if (bytes_per_line != expected_bpl)
      bad = "cupsBytesPerLine does not match width";
    else if (bytes_per_line % bytes_per_pixel != 0)
      bad = "cupsBytesPerLine not a whole pixel";
    if (!bad.empty()) {
      scan.stopped_on_error = true;
      scan.error = "page header " + std::to_string(page_number) + ": " + bad;
      return scan;
    }

    double width_pt = page_w;
    double height_pt = page_h;
    if ((page_w == 0 || page_h == 0) && res_x > 0 && res_y > 0) {
      width_pt = width * 72.0 / res_x;
      height_pt = height * 72.0 / res_y;
    }
    noteColor(scan, !(pwgColorSpaceIsMonochrome(color_space) || num_colors == 1));
    const DataResult data =
        skipCompressedPage(in, height, bytes_per_line, bytes_per_pixel, limits.deadline);
    if (!finishPage(scan, data, width_pt, height_pt, page_number)) return scan;
  }
}

RasterScan scanUrf(ByteSource& source, const RasterLimits& limits) {
  RasterScan scan;
  Reader in(source);
  std::array<uint8_t, kUrfFileHeaderSize> file_header{};
  if (!in.readExact(file_header.data(), file_header.size()) ||
      std::memcmp(file_header.data(), "UNIRAST\0", 8) != 0) {
    scan.error = "no URF file header \"UNIRAST\"";
    return scan;
  }
  scan.valid_header = true;
  scan.declared_pages = be32(file_header.data() + 8);

  std::array<uint8_t, kUrfPageHeaderSize> header{};
  for (;;) {
    if (scan.complete_pages >= limits.max_pages) {
      scan.hit_page_limit = true;
      return scan;
    }
    if (limits.deadline.expired()) {
      scan.hit_deadline = true;
      return scan;
    }
    const int first = in.get();
    if (first < 0) return scan;
    header[0] = static_cast<uint8_t>(first);
    const int64_t page_number = scan.complete_pages + 1;
    if (!in.readExact(header.data() + 1, header.size() - 1)) {
      scan.stopped_on_error = true;
      scan.error = "page header " + std::to_string(page_number) + " is truncated";
      return scan;
    }
    const uint32_t bits_per_pixel = header[0];
    const uint32_t color_space = header[1];
    const uint32_t width = be32(header.data() + 12);
    const uint32_t height = be32(header.data() + 16);
    const uint32_t dpi = be32(header.data() + 20);

    std::string bad;
    if (bits_per_pixel == 0 || bits_per_pixel % 8 != 0 || bits_per_pixel > 64)
      bad = "bad bits per pixel";
    else if (width == 0 || height == 0)
      bad = "zero width or height";
    else if (dpi == 0)
      bad = "zero resolution";
    else if (static_cast<uint64_t>(width) * (bits_per_pixel / 8) > 0xFFFFFFFFu)
      bad = "line too long";
    if (!bad.empty()) {
      scan.stopped_on_error = true;
      scan.error = "page header " + std::to_string(page_number) + ": " + bad;
      return scan;
    }
    // URF colour spaces: 0 sGray, 1 sRGB, 2 CIELab, 3 AdobeRGB, 4 W, 5 RGB, 6 CMYK;
    // CUPS reads unknown values as a one-colour device space.
    const bool mono = color_space == 0 || color_space == 4 || color_space > 6;
    noteColor(scan, !mono);
    const uint32_t bytes_per_pixel = bits_per_pixel / 8;
    const DataResult data =
        skipCompressedPage(in, height, width * bytes_per_pixel, bytes_per_pixel, limits.deadline);
    if (!finishPage(scan, data, width * 72.0 / dpi, height * 72.0 / dpi, page_number)) return scan;
  }
}

}  // namespace pullprint::spooler::analysis
