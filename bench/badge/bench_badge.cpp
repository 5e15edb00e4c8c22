// bench_badge: card presented -> first byte at the printer, over N taps.
//
// A TCP proxy in front of ippeveprinter timestamps the first byte pullprintd
// sends after each tap. "Presented" is measured two ways:
//   connect  - the virtual card's TCP connect to vpcd (the card enters the field)
//   detected - vpcd's first message to the card (pcscd's poll found it; a real
//              CCID reader reports insertion by interrupt, vpcd is polled
//              every ~400 ms by pcscd, so "connect" includes 0-400 ms of rig)
// Two users' cards alternate on the two vpcd slots so that neither debounce
// nor vpcd's removal poll is on the path.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "tests/badge/badge_stack.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::badgetest;
using Clock = std::chrono::steady_clock;

namespace {

// Forwards 127.0.0.1:port() to 127.0.0.1:target; records the first
// client->printer byte after arm().
class Proxy {
 public:
  explicit Proxy(std::uint16_t target) : target_(target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { acceptLoop(); });
  }
  ~Proxy() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::lock_guard l(mu_);
    for (auto& t : pumps_) t.detach();
  }
  std::uint16_t port() const { return port_; }
  void arm() {
    std::lock_guard l(mu_);
    first_ = {};
    armed_ = true;
  }
  std::optional<Clock::time_point> first() {
    std::lock_guard l(mu_);
    if (armed_) return std::nullopt;
    return first_;
  }

 private:
  void acceptLoop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(target_);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      std::lock_guard l(mu_);
      pumps_.emplace_back([this, c, s] { pump(c, s); });
    }
  }
  void pump(int c, int s) {
    pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
    char buf[65536];
    while (::poll(p, 2, -1) > 0) {
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::recv(p[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          ::close(c);
          ::close(s);
          return;
        }
        if (i == 0) {
          std::lock_guard l(mu_);
          if (armed_) {
            first_ = Clock::now();
            armed_ = false;
          }
        }
        ::send(p[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      }
    }
  }
  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  bool armed_ = false;
  Clock::time_point first_{};
};

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int taps = argc > 1 ? std::atoi(argv[1]) : 100;
  std::unique_ptr<Proxy> proxy;
  StackOptions so;
  so.printerUri = [&](const std::string& uri) {
    auto colon = uri.rfind(':');
    auto slash = uri.find('/', colon);
    auto port = static_cast<std::uint16_t>(std::stoi(uri.substr(colon + 1, slash - colon - 1)));
    proxy = std::make_unique<Proxy>(port);
    return uri.substr(0, colon + 1) + std::to_string(proxy->port()) + uri.substr(slash);
  };
  Stack stack(so);
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1"});
  stack.addCard("04A21B3C5D6E80", "alice");
  stack.addCard("0411AA22", "bob");
  BadgeAgent agent(stack, pcscd, "st-1");
  const CardOptions cards[2] = {{bytesOf("04A21B3C5D6E80")}, {bytesOf("0411AA22")}};
  const char* users[2] = {"alice", "bob"};
  const std::uint16_t slots[2] = {kVirtualSlot0, kVirtualSlot1};

  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> jitter(0, 400);
  std::vector<double> fromConnect, fromDetect;
  int failures = 0;
  for (int i = 0; i < taps; ++i) {
    int k = i % 2;
    stack.holdJob(users[k], "bench");
    size_t lines = agent.lines().size();
    // A seeded random pause puts the insertion at a uniformly spread phase
    // of pcscd's ~400 ms vpcd poll (otherwise the loop phase-locks to it).
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
    proxy->arm();
    VirtualCard card(pcscd.netns(), slots[k], cards[k]);
    bool ok = testing::waitFor([&] { return proxy->first().has_value(); }, 10s, 1ms);
    agent.waitLine(lines + 1, 10s);
    card.remove();
    if (!ok || card.poweredAt() == Clock::time_point{}) {
      ++failures;
      continue;
    }
    auto first = *proxy->first();
    fromConnect.push_back(
        std::chrono::duration<double, std::milli>(first - card.insertedAt()).count());
    fromDetect.push_back(
        std::chrono::duration<double, std::milli>(first - card.poweredAt()).count());
    stack.printer().waitForJobs(i + 1 - failures, 20s);
  }
  if (fromConnect.empty()) {
    std::fprintf(stderr, "no tap reached the printer\n%s\n", agent.describe().c_str());
    return 1;
  }
  std::printf("taps: %d measured, %d failed\n", static_cast<int>(fromConnect.size()), failures);
  std::printf(
      "card connect  -> first byte at printer: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f "
      "ms\n",
      pct(fromConnect, 50), pct(fromConnect, 90), pct(fromConnect, 99), pct(fromConnect, 100));
  std::printf(
      "card detected -> first byte at printer: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f "
      "ms\n",
      pct(fromDetect, 50), pct(fromDetect, 90), pct(fromDetect, 99), pct(fromDetect, 100));
  return failures == 0 ? 0 : 1;
}
