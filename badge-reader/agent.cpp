#include "badge-reader/agent.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/wire/station_wire.h"

namespace pullprint::badge {

Agent::Agent(const AgentConfig& config)
    : config_(config),
      client_(config),
      watcher_(
          WatcherOptions{std::chrono::milliseconds(config.debounce_ms)},
          [this](const CardRead& r) {
            {
              std::lock_guard lock(mu_);
              queue_.push_back(r);
            }
            cv_.notify_one();
          },
          [this](const std::string& s) { note(s); }) {}

Agent::~Agent() {
  stop();
  if (worker_.joinable()) worker_.join();
}

void Agent::run() {
  note("station " + config_.station + " -> " + config_.server + ", printer " +
       (config_.printer.empty() ? "(per reader)" : config_.printer));
  worker_ = std::thread([this] { workerLoop(); });
  watcher_.run();
}

void Agent::stop() {
  watcher_.stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void Agent::workerLoop() {
  for (;;) {
    CardRead r;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    if (r.uid.empty()) {
      say("card not read on " + r.reader + ": " + r.error);
      continue;
    }
    std::string printer = config_.printerFor(r.reader);
    if (printer.empty()) {
      say("refused: no printer configured for reader " + r.reader);
      continue;
    }
    auto started = std::chrono::steady_clock::now();
    ReleaseReply reply = client_.release(printer, r.uid);
    say(tapLine(reply, printer, r.uid));
    if (config_.verbose) {
      auto ms = [](auto d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
      };
      note("card " + wire::redactUid(r.uid) + " on " + r.reader + ": HTTP " +
           std::to_string(reply.status) + " in " +
           std::to_string(ms(std::chrono::steady_clock::now() - started)) + " ms (" +
           std::to_string(ms(started - r.at)) + " ms after the card was seen)");
    }
  }
}

void Agent::say(const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(1, l.data(), l.size());
}

void Agent::note(const std::string& line) {
  char ts[32];
  std::time_t t = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", std::localtime(&t));
  std::string l = std::string(ts) + " pullprint-badge: " + line + "\n";
  (void)!::write(2, l.data(), l.size());
}

}  // namespace pullprint::badge
