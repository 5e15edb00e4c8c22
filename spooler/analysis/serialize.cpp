#include "spooler/analysis/serialize.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace pullprint::spooler::analysis {
namespace {

constexpr std::string_view kMagic = "PPA1";
constexpr uint32_t kMaxString = 64 * 1024;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void i64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  }
  void str(std::string_view s) {
    if (s.size() > kMaxString) s = s.substr(0, kMaxString);
    i64(static_cast<int64_t>(s.size()));
    out_.append(s);
  }
  void optI64(const std::optional<int64_t>& v) {
    u8(v ? 1 : 0);
    if (v) i64(*v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool i64(int64_t& v) {
    if (in_.size() < 8) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<uint8_t>(in_[i])} << (8 * i);
    v = static_cast<int64_t>(u);
    in_.remove_prefix(8);
    return true;
  }
  bool str(std::string& s) {
    int64_t n = 0;
    if (!i64(n) || n < 0 || n > kMaxString || static_cast<uint64_t>(n) > in_.size()) return false;
    s.assign(in_.substr(0, static_cast<std::size_t>(n)));
    in_.remove_prefix(static_cast<std::size_t>(n));
    return true;
  }
  bool optI64(std::optional<int64_t>& v) {
    uint8_t flag = 0;
    if (!u8(flag) || flag > 1) return false;
    if (flag == 0) {
      v.reset();
      return true;
    }
    int64_t x = 0;
    if (!i64(x)) return false;
    v = x;
    return true;
  }
  bool magic() {
    if (in_.substr(0, kMagic.size()) != kMagic) return false;
    in_.remove_prefix(kMagic.size());
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string encodeAnalysis(const DocumentAnalysis& a) {
  Writer w;
  for (char c : kMagic) w.u8(static_cast<uint8_t>(c));
  w.str(a.format);
  w.optI64(a.pages);
  w.u8(static_cast<uint8_t>(a.confidence));
  w.str(a.method);
  w.str(a.reason);
  w.str(a.note);
  const std::size_t n = std::min(a.sizes.size(), kMaxDistinctSizes);
  w.i64(static_cast<int64_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    w.i64(a.sizes[i].width_pt);
    w.i64(a.sizes[i].height_pt);
    w.i64(a.sizes[i].pages);
  }
  w.i64(a.pages_of_other_sizes);
  w.u8(a.color ? (*a.color ? 2 : 1) : 0);
  return w.take();
}

std::optional<DocumentAnalysis> decodeAnalysis(std::string_view bytes) {
  if (bytes.size() > kMaxEncodedAnalysis) return std::nullopt;
  Parser p(bytes);
  DocumentAnalysis a;
  uint8_t confidence = 0, color = 0;
  int64_t n = 0;
  if (!p.magic() || !p.str(a.format) || !p.optI64(a.pages) || !p.u8(confidence) || confidence > 2 ||
      !p.str(a.method) || !p.str(a.reason) || !p.str(a.note) || !p.i64(n) || n < 0 ||
      n > static_cast<int64_t>(kMaxDistinctSizes)) {
    return std::nullopt;
  }
  a.confidence = static_cast<Confidence>(confidence);
  for (int64_t i = 0; i < n; ++i) {
    int64_t w = 0, h = 0, pages = 0;
    if (!p.i64(w) || !p.i64(h) || !p.i64(pages) || w < 0 || h < 0 || w > INT32_MAX || h > INT32_MAX)
      return std::nullopt;
    a.sizes.push_back(PageSizeCount{static_cast<int>(w), static_cast<int>(h), pages});
  }
  if (!p.i64(a.pages_of_other_sizes) || !p.u8(color) || color > 2 || !p.done()) return std::nullopt;
  if (color > 0) a.color = color == 2;
  return a;
}

}  // namespace pullprint::spooler::analysis
