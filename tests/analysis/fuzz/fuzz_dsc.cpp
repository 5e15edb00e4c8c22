// libFuzzer target for the DSC scanner: memory safety, and the same summary
// whether the input arrives whole or split at a point the input chooses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spooler/analysis/dsc.h"

namespace analysis = pullprint::spooler::analysis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const analysis::DscSummary whole = analysis::scanDsc(input);
  analysis::DscScanner split;
  const std::size_t step = 1 + (size > 0 ? data[0] % 17 : 0);
  for (std::size_t i = 0; i < size; i += step) split.feed(input.substr(i, step));
  const analysis::DscSummary& s = split.finish();
  if (s.page_markers != whole.page_markers || s.header_pages != whole.header_pages ||
      s.trailer_pages != whole.trailer_pages || s.header_atend != whole.header_atend ||
      s.lines != whole.lines || s.conforming != whole.conforming ||
      s.media_entries != whole.media_entries)
    std::abort();
  return 0;
}
