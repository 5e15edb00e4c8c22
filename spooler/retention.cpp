#include "spooler/retention.h"

#include "core/thread_name.h"

namespace pullprint::spooler {

namespace {
constexpr std::int64_t kBatch = 500;  // jobs per transaction
}

Retention::Retention(Store& store, const Clock& clock, Logger& log, std::int64_t days,
                     std::chrono::seconds interval)
    : store_(store), clock_(clock), log_(log), days_(days), interval_(interval) {}

Retention::~Retention() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::start() {
  if (days_ <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] {
    nameThisThread("pp-retention");
    run();
  });
}

Result<std::int64_t> Retention::sweep() {
  if (days_ <= 0) return std::int64_t{0};
  const UnixSeconds ended_before = clock_.now() - days_ * 86400;
  std::int64_t total = 0;
  for (;;) {
    std::int64_t n = 0;
    if (Status s = store_.write(
            [&](StoreWriter& w) { return w.removeJobDetails(ended_before, kBatch, &n); });
        !s) {
      log_.warn("retention.failed", {{"error", s.message()}, {"jobs_done", total}});
      return s;
    }
    total += n;
    if (n < kBatch) break;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
  }
  if (total > 0)
    log_.info("retention.job-details-removed",
              {{"jobs", total}, {"ended_before", ended_before}, {"days", days_}});
  return total;
}

void Retention::run() {
  for (;;) {
    (void)sweep();  // a failure is logged; the next round tries again
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, interval_, [&] { return stop_; })) return;
  }
}

}  // namespace pullprint::spooler
