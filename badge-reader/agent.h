// Agent: ties the card watcher to the release client.
//
// The PC/SC thread never waits for the network: each card read is queued
// and one worker thread sends the release requests in order and prints one
// line per tap on standard output ("alice: 3 jobs, 12 pages released at
// lib-1", "unknown card 04A2…: register it in the portal", "refused: ...").
// Diagnostics go to standard error. UIDs are never printed in full.
//
// Thread contract: run() blocks until stop() (called from a signal watcher).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "badge-reader/agent_config.h"
#include "badge-reader/card_watcher.h"
#include "badge-reader/release_client.h"

namespace pullprint::badge {

class Agent {
 public:
  explicit Agent(const AgentConfig& config);
  ~Agent();
  void run();
  void stop();

 private:
  void workerLoop();
  void say(const std::string& line);   // stdout, one line, flushed
  void note(const std::string& line);  // stderr diagnostics

  const AgentConfig& config_;
  ReleaseClient client_;
  CardWatcher watcher_;
  std::mutex mu_;  // guards queue_, stopping_
  std::condition_variable cv_;
  std::deque<CardRead> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace pullprint::badge
