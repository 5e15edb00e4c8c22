#include "spooler/analysis/page_sizes.h"

#include <algorithm>
#include <cmath>

namespace pullprint::spooler::analysis {

void SizeTally::add(double width_pt, double height_pt, int64_t pages) {
  if (!(width_pt > 0.5) || !(height_pt > 0.5) || width_pt > kMaxSizePt || height_pt > kMaxSizePt) {
    other_pages_ += pages;
    return;
  }
  int w = static_cast<int>(std::lround(width_pt));
  int h = static_cast<int>(std::lround(height_pt));
  if (w > h) std::swap(w, h);
  for (auto& entry : sizes_) {
    if (entry.width_pt == w && entry.height_pt == h) {
      entry.pages += pages;
      return;
    }
  }
  if (sizes_.size() < kMaxDistinctSizes) {
    sizes_.push_back(PageSizeCount{w, h, pages});
  } else {
    other_pages_ += pages;
  }
}

}  // namespace pullprint::spooler::analysis
