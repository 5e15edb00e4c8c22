#include "spooler/analysis/image_info.h"

#include <array>
#include <cstring>

namespace pullprint::spooler::analysis {

ImageInfo inspectJpeg(ByteSource& source) {
  ImageInfo info;
  Reader in(source);
  if (in.get() != 0xFF || in.get() != 0xD8) {
    info.error = "no JPEG SOI marker";
    return info;
  }
  while (in.offset() < kMaxImageScan) {
    int c = in.get();
    if (c != 0xFF) break;
    int marker = in.get();
    while (marker == 0xFF) marker = in.get();  // fill bytes
    if (marker < 0) break;
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
    const int hi = in.get();
    const int lo = in.get();
    if (hi < 0 || lo < 0) break;
    const int length = (hi << 8) | lo;
    if (length < 2) break;
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      std::array<uint8_t, 6> frame{};  // precision, height(2), width(2), components
      if (length < 8 || !in.readExact(frame.data(), frame.size())) break;
      info.valid = true;
      info.color = frame[5] != 1;
      return info;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // scan or end before any frame header
    if (!in.skip(static_cast<uint64_t>(length) - 2)) break;
  }
  info.error = "no JPEG frame header";
  return info;
}

ImageInfo inspectPng(ByteSource& source) {
  ImageInfo info;
  Reader in(source);
  std::array<uint8_t, 8 + 8 + 13> head{};
  if (!in.readExact(head.data(), head.size()) ||
      std::memcmp(head.data(), "\x89PNG\r\n\x1A\n", 8) != 0 ||
      std::memcmp(head.data() + 12, "IHDR", 4) != 0) {
    info.error = "no PNG signature and IHDR chunk";
    return info;
  }
  info.valid = true;
  switch (head[16 + 9]) {  // colour type
    case 0:
    case 4:
      info.color = false;
      break;
    case 2:
    case 6:
      info.color = true;
      break;
    default:
      break;  // palette: colour not known without reading it
  }
  return info;
}

}  // namespace pullprint::spooler::analysis
