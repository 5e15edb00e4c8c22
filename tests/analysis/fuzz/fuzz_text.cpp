// libFuzzer target for the text page counter: the first bytes choose the
// layout; the count must not depend on chunking and stays within bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spooler/analysis/text_pages.h"

namespace analysis = pullprint::spooler::analysis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  analysis::TextLayout layout;
  layout.lines_per_page = 1 + data[0] % 80;
  layout.columns = data[1] % 100;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  const int64_t whole = analysis::countTextPages(input, layout);
  analysis::TextPageCounter split(layout);
  const std::size_t step = 1 + data[0] % 13;
  for (std::size_t i = 0; i < input.size(); i += step) split.feed(input.substr(i, step));
  if (split.finish() != whole) std::abort();
  // Every page holds at least one byte of input.
  if (whole < 0 || static_cast<std::size_t>(whole) > input.size()) std::abort();
  return 0;
}
