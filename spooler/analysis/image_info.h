#pragma once
// Cheap checks on single-image documents (JPEG, PNG): that the image header is
// there, and whether the image declares colour.
//
// JPEG: markers are walked up to the first SOFn frame header (component
// count 1 = greyscale). PNG: the IHDR chunk's colour type (0/4 greyscale,
// 2/6 colour, 3 palette = not known without reading the palette).
// Invariants: reads at most kMaxImageScan bytes. Thread contract: reentrant.

#include <cstdint>
#include <optional>
#include <string>

#include "spooler/analysis/byte_source.h"

namespace pullprint::spooler::analysis {

inline constexpr uint64_t kMaxImageScan = 4 << 20;

struct ImageInfo {
  bool valid = false;         // header found and well-formed
  std::optional<bool> color;  // declared colour, if cheap to tell
  std::string error;
};

ImageInfo inspectJpeg(ByteSource& source);
ImageInfo inspectPng(ByteSource& source);

}  // namespace pullprint::spooler::analysis
