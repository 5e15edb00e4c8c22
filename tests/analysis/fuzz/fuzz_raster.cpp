// libFuzzer target for the raster walkers (PWG raster or URF, chosen at
// build time by PULLPRINT_FUZZ_URF). Checks, besides memory safety, that the
// result does not depend on how the input arrives (one read vs. tiny reads).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spooler/analysis/raster.h"

namespace analysis = pullprint::spooler::analysis;

namespace {

// Hands out the input in reads of 1..7 bytes.
class TrickleSource final : public analysis::ByteSource {
 public:
  explicit TrickleSource(std::string_view data) : data_(data) {}
  std::size_t read(uint8_t* dst, std::size_t n) override {
    std::size_t take = 1 + (pos_ % 7);
    if (take > n) take = n;
    if (take > data_.size() - pos_) take = data_.size() - pos_;
    for (std::size_t i = 0; i < take; ++i) dst[i] = static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += take;
    return take;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

analysis::RasterScan scan(analysis::ByteSource& source) {
  analysis::RasterLimits limits;
  limits.max_pages = 1000;
#ifdef PULLPRINT_FUZZ_URF
  return analysis::scanUrf(source, limits);
#else
  return analysis::scanPwgRaster(source, limits);
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  analysis::MemorySource whole(input);
  TrickleSource trickle(input);
  const auto a = scan(whole);
  const auto b = scan(trickle);
  if (a.complete_pages != b.complete_pages || a.truncated_page != b.truncated_page ||
      a.stopped_on_error != b.stopped_on_error || a.sizes.sizes() != b.sizes.sizes())
    std::abort();
  return 0;
}
