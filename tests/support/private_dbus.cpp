#include "tests/support/private_dbus.h"

#include <stdexcept>

#include "tests/support/wait.h"

namespace pullprint::testing {

namespace {

// A system-type bus with a permissive policy: only our own test processes can
// reach the socket (it lives in a 0700 directory owned by the test user).
std::string busConfig(const std::filesystem::path& socket) {
  return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)" +
         socket.string() + R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
)";
}

}  // namespace

PrivateDbus::PrivateDbus(PrivateDbusOptions options) : dir_("pullprint-dbus", options.parentDir) {
  const auto socket = dir_ / "bus.sock";
  if (socket.string().size() >= 100) {
    throw std::runtime_error("PrivateDbus: socket path too long for AF_UNIX: " + socket.string());
  }
  const auto conf = dir_ / "bus.conf";
  writeFile(conf, busConfig(socket));

  ProcessOptions po;
  po.argv = {"dbus-daemon", "--config-file=" + conf.string(),
             "--nofork",    "--nopidfile",
             "--nosyslog",  "--print-address"};
  po.logDir = dir_.path();
  po.logName = "dbus-daemon";
  process_ = std::make_unique<Process>(std::move(po));

  // The address line appears once the socket is listening.
  const bool up = waitFor(
      [&] {
        std::string out = process_->stdoutText();
        auto nl = out.find('\n');
        if (nl == std::string::npos) return !process_->running();
        address_ = out.substr(0, nl);
        return true;
      },
      options.startTimeout, 5ms);
  if (!up || address_.empty() || !process_->running()) {
    std::string why = process_->describe();
    process_->terminate(1000ms);
    throw std::runtime_error("PrivateDbus: dbus-daemon did not start\n" + why);
  }
}

PrivateDbus::~PrivateDbus() { stop(); }

void PrivateDbus::stop(std::chrono::milliseconds grace) {
  if (process_) process_->terminate(grace);
}

}  // namespace pullprint::testing
