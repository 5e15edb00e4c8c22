#include "tests/badge/pcsc_rig.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tests/support/wait.h"

namespace pullprint::badgetest {

namespace {

const char* kVpcd = R"(FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
)";

// vpcd writes the length and the payload separately without TCP_NODELAY:
// with delayed ACKs on our side, Nagle holds its second write ~40 ms. Quick
// ACK (re-armed before every read; the kernel clears it) avoids that.
bool readAll(int fd, std::uint8_t* p, size_t n) {
  while (n) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::vector<std::uint8_t> bytesOf(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// ---------------------------------------------------------------------------

PrivatePcscd::PrivatePcscd(PcscdOptions options) : options_(options), dir_("pullprint-pcscd") {
  start();
}

PrivatePcscd::~PrivatePcscd() { stop(); }

void PrivatePcscd::start() {
  std::filesystem::remove_all(dir_ / "conf");
  std::filesystem::create_directories(dir_ / "conf");
  std::filesystem::create_directories(dir_ / "run");
  std::filesystem::remove(dir_ / "run" / "pcscd.comm");
  if (options_.readers) testing::writeFile(dir_ / "conf" / "vpcd", kVpcd);
  const std::string run = (dir_ / "run").string();
  const std::string script =
      "ip link set lo up && { [ -d /run/pcscd ] || mkdir -p /run/pcscd; } && "
      "mount --bind '" +
      run + "' /run/pcscd && exec pcscd -f -c '" + (dir_ / "conf").string() + "'";
  testing::ProcessOptions po;
  po.argv = {"unshare", "--mount", "--net", "--propagation", "private", "/bin/sh", "-c", script};
  po.logDir = dir_.path();
  po.logName = "pcscd";
  process_ = std::make_unique<testing::Process>(po);
  // Ready when the socket exists and every configured reader is listed.
  bool up = testing::waitFor(
      [&] { return !process_->running() || std::filesystem::exists(dir_ / "run" / "pcscd.comm"); },
      10s, 10ms);
  if (!up || !process_->running())
    throw std::runtime_error("pcscd did not start: " + process_->describe() + "\n" + log());
  // Readers appear just after the socket; VirtualCard retries its connect.
}

void PrivatePcscd::stop() {
  if (process_) process_->terminate(3000ms);
  process_.reset();
}

void PrivatePcscd::restart(PcscdOptions options) {
  stop();
  options_ = options;
  start();
}

bool PrivatePcscd::running() const { return process_ && process_->running(); }

std::string PrivatePcscd::socketPath() const { return (dir_ / "run" / "pcscd.comm").string(); }

std::string PrivatePcscd::netns() const {
  return "/proc/" + std::to_string(process_->pid()) + "/ns/net";
}

std::string PrivatePcscd::log() const {
  return testing::tailFile(dir_ / "pcscd.stdout", 4000) +
         testing::tailFile(dir_ / "pcscd.stderr", 4000);
}

// ---------------------------------------------------------------------------

VirtualCard::VirtualCard(const std::string& netns, std::uint16_t port, CardOptions card)
    : card_(std::move(card)) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    // The socket belongs to the namespace of the thread that creates it.
    int fd = -1;
    std::string err;
    std::thread t([&] {
      int ns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
        err = "setns " + netns + ": " + std::strerror(errno);
        if (ns >= 0) ::close(ns);
        return;
      }
      ::close(ns);
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    });
    t.join();
    if (fd < 0) throw std::runtime_error("virtual card: " + (err.empty() ? "socket failed" : err));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    inserted_ = std::chrono::steady_clock::now();
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      fd_ = fd;
      break;
    }
    int e = errno;
    ::close(fd);
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(std::string("virtual card: connect to vpcd: ") + std::strerror(e));
    std::this_thread::sleep_for(20ms);
  }
  thread_ = std::thread([this] { serve(); });
}

VirtualCard::~VirtualCard() { remove(); }

void VirtualCard::remove() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::chrono::steady_clock::time_point VirtualCard::poweredAt() const {
  std::lock_guard lock(mu_);
  return powered_;
}

void VirtualCard::serve() {
  static const std::vector<std::uint8_t> kAtr = bytesOf("3B8F8001804F0CA000000306030001000000006A");
  for (;;) {
    std::uint8_t len[2];
    if (!readAll(fd_, len, 2)) return;
    size_t n = (static_cast<size_t>(len[0]) << 8) | len[1];
    std::vector<std::uint8_t> in(n);
    if (n && !readAll(fd_, in.data(), n)) return;
    std::vector<std::uint8_t> out;
    if (n == 1) {
      if (in[0] == 1 || in[0] == 4) {
        std::lock_guard lock(mu_);
        if (powered_ == std::chrono::steady_clock::time_point{})
          powered_ = std::chrono::steady_clock::now();
      }
      if (in[0] != 4) continue;  // power off/on, reset: no answer
      out = kAtr;
    } else if (n >= 4 && in[0] == 0xFF && in[1] == 0xCA && in[2] == 0x00 && in[3] == 0x00) {
      ++uid_reads_;
      if (card_.sw == 0x9000) out = card_.uid;
      out.push_back(static_cast<std::uint8_t>(card_.sw >> 8));
      out.push_back(static_cast<std::uint8_t>(card_.sw & 0xff));
    } else {
      out = {0x6D, 0x00};
    }
    std::vector<std::uint8_t> msg = {static_cast<std::uint8_t>(out.size() >> 8),
                                     static_cast<std::uint8_t>(out.size() & 0xff)};
    msg.insert(msg.end(), out.begin(), out.end());
    if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size()))
      return;
  }
}

}  // namespace pullprint::badgetest
