// Test rig for the card-release tests: a private pcscd with the vpcd
// virtual reader driver, and virtual contactless cards of our own.
//
// PrivatePcscd runs `pcscd -f` under `unshare --mount --net`: its own network
// namespace (vpcd's card ports 35963/35964, 35968/35969 are private to the
// test, so two tests never meet) and its own mount namespace in which a test
// directory is bind-mounted on /run/pcscd (pcscd 1.9.9's socket path is
// fixed; clients find it through PCSCLITE_CSOCK_NAME=socketPath()). Reader
// config comes from a private reader.conf.d (-c): "Virtual PCD 00 00/01",
// or no reader at all (readers=false). A second vpcd reader.conf entry
// (another port) hangs pcscd 1.9.9 in RFWaitForReaderInit, and pcscd does
// not re-read reader.conf at run time (SIGUSR1 rescans USB only), so
// "a reader goes away and comes back" is a restart with readers=false and
// then true.
//
// VirtualCard speaks the vpcd protocol (2-byte big-endian length + payload;
// 1-byte controls 0 off, 1 on, 2 reset, 4 ATR; APDUs otherwise) and answers
// GET DATA UID (FF CA 00 00 00) with its UID + 90 00, or a configured
// status word. Its socket is created inside pcscd's network namespace
// (setns on a short-lived thread), with TCP_NODELAY. Connecting it is an
// insertion; remove() (or the destructor) is a removal.
//
// Thread contract: one test thread drives each object; VirtualCard serves
// its socket on a thread of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace pullprint::badgetest {

using namespace std::chrono_literals;

struct PcscdOptions {
  bool readers = true;
};

class PrivatePcscd {
 public:
  explicit PrivatePcscd(PcscdOptions options = {});
  ~PrivatePcscd();

  // Stops pcscd (SIGTERM) and starts a new one (new namespaces) with `options`.
  void restart(PcscdOptions options);
  void stop();
  bool running() const;

  std::string socketPath() const;  // for PCSCLITE_CSOCK_NAME
  std::string netns() const;       // /proc/PID/ns/net of the running pcscd
  std::string log() const;

 private:
  void start();
  PcscdOptions options_;
  testing::TempDir dir_;
  std::unique_ptr<testing::Process> process_;
};

// Ports of the readers: "Virtual PCD 00 00" 35963, "Virtual PCD 00 01" 35964.
inline constexpr std::uint16_t kVirtualSlot0 = 35963;
inline constexpr std::uint16_t kVirtualSlot1 = 35964;

struct CardOptions {
  std::vector<std::uint8_t> uid;
  std::uint16_t sw = 0x9000;  // status word for GET DATA (0x6A81: not supported...)
};

class VirtualCard {
 public:
  // Inserts the card: connects to vpcd in `netns` at `port` (retries up to 5 s).
  VirtualCard(const std::string& netns, std::uint16_t port, CardOptions card);
  ~VirtualCard();
  VirtualCard(const VirtualCard&) = delete;
  VirtualCard& operator=(const VirtualCard&) = delete;

  // Removes the card (closes the socket).
  void remove();
  // When the card was connected, and when vpcd first powered it / asked for the ATR.
  std::chrono::steady_clock::time_point insertedAt() const { return inserted_; }
  std::chrono::steady_clock::time_point poweredAt() const;
  int uidReads() const { return uid_reads_.load(); }

 private:
  void serve();
  CardOptions card_;
  int fd_ = -1;
  std::thread thread_;
  std::atomic<int> uid_reads_{0};
  std::chrono::steady_clock::time_point inserted_;
  mutable std::mutex mu_;  // guards powered_
  std::chrono::steady_clock::time_point powered_{};
};

std::vector<std::uint8_t> bytesOf(const std::string& hex);

}  // namespace pullprint::badgetest
