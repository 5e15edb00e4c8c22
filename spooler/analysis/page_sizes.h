#pragma once
// SizeTally: a bounded table of distinct page sizes with page counts.
//
// Invariants: holds at most kMaxDistinctSizes entries, in order of first
// appearance; pages of sizes seen after the table is full are counted in
// otherPages(). Sizes are rounded to whole points and normalised to portrait.
// Nonsensical sizes (<= 0 or > kMaxSizePt) are counted as "other".
// Thread contract: confined to one thread.

#include <cstdint>
#include <vector>

#include "spooler/analysis/analysis.h"

namespace pullprint::spooler::analysis {

class SizeTally {
 public:
  static constexpr double kMaxSizePt = 14400.0 * 10;  // 2000 inches: beyond any real medium

  void add(double width_pt, double height_pt, int64_t pages = 1);
  const std::vector<PageSizeCount>& sizes() const { return sizes_; }
  int64_t otherPages() const { return other_pages_; }
  void clear() {
    sizes_.clear();
    other_pages_ = 0;
  }

 private:
  std::vector<PageSizeCount> sizes_;
  int64_t other_pages_ = 0;
};

}  // namespace pullprint::spooler::analysis
