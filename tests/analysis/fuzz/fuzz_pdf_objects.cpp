// libFuzzer target for the strict PDF object reader (pdf_objects.h): memory
// safety, bounded recursion, and self-consistency -- whatever parses as an
// object parses the same way as the body of "1 0 obj ..." and as member 0
// of an object stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "spooler/analysis/pdf_objects.h"

namespace pdf = pullprint::spooler::analysis::pdf;

namespace {

bool same(const pdf::Value& a, const pdf::Value& b) {
  if (a.kind != b.kind || a.boolean != b.boolean || a.name != b.name || a.ref_num != b.ref_num ||
      a.ref_gen != b.ref_gen || a.items.size() != b.items.size() ||
      a.entries.size() != b.entries.size())
    return false;
  if (a.number != b.number && !(a.number != a.number && b.number != b.number)) return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i)
    if (a.entries[i].key != b.entries[i].key || !same(a.entries[i].value, b.entries[i].value))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  const auto direct = pdf::parseObject(input, at);
  if (direct && at > size) std::abort();

  // The input as an object stream header and as a whole file.
  if (auto header = pdf::parseObjectStreamHeader(input, 1 + (size > 0 ? data[0] % 8 : 0),
                                                 static_cast<int64_t>(size / 2))) {
    for (const auto& e : *header) {
      if (e.at >= size) std::abort();
      std::size_t pos = e.at;
      (void)pdf::parseObject(input, pos);
    }
  }
  (void)pdf::parseIndirectObject(input, 0, 1, 0);

  if (direct && direct->kind != pdf::Value::Kind::kRef) {
    const std::string body(input.substr(0, at));
    const std::string wrapped = "1 0 obj\n" + body + "\nendobj\n";
    const auto indirect = pdf::parseIndirectObject(wrapped, 0, 1, 0);
    if (!indirect) std::abort();
    pdf::Value expected = *direct;
    if (expected.kind == pdf::Value::Kind::kDict) expected.kind = indirect->kind;  // stream kw
    if (!same(*indirect, expected)) std::abort();
    const std::string stream = "7 0 " + body;
    const auto member = pdf::parseObjectStreamHeader(stream, 1, 4);
    if (!member || member->size() != 1) std::abort();
    std::size_t pos = (*member)[0].at;
    const auto again = pdf::parseObject(stream, pos);
    if (!again || !same(*again, *direct)) std::abort();
  }
  return 0;
}
