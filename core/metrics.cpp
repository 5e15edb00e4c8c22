#include "core/metrics.h"

namespace pullprint {

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::int64_t>(seconds * 1e6), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::array<std::int64_t, Histogram::kBounds.size() + 1> Histogram::cumulative() const {
  std::array<std::int64_t, kBounds.size() + 1> out{};
  std::int64_t run = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    run += buckets_[i].load(std::memory_order_relaxed);
    out[i] = run;
  }
  return out;
}

}  // namespace pullprint
