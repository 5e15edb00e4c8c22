// libFuzzer target for the runner's wire decoder (the child is untrusted):
// no crash, and whatever decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spooler/analysis/serialize.h"

namespace analysis = pullprint::spooler::analysis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto decoded = analysis::decodeAnalysis(input)) {
    if (analysis::encodeAnalysis(*decoded) != input) std::abort();
  }
  return 0;
}
