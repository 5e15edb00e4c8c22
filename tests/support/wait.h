// Condition waiting and local TCP helpers for tests.
//
// Tests never sleep for a fixed time: they wait for a condition with a
// deadline (waitFor) and fail with a message when it is not met.
//
// Thread contract: all functions are reentrant and may be called from any
// thread; waitFor calls the predicate on the calling thread only.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>

namespace pullprint::testing {

using namespace std::chrono_literals;

// Polls `predicate` every `pollInterval` until it returns true or `timeout`
// has elapsed (monotonic clock). The predicate is always evaluated at least
// once and once more at the deadline. Returns the last predicate value.
bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
             std::chrono::milliseconds pollInterval = 20ms);

// Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket.
// Another process may take the port before the caller binds it; components in
// this library retry start-up on a new port when that happens.
// Throws std::runtime_error if no socket can be bound.
std::uint16_t pickFreePort();

// 127.0.0.1:port as a socket address (port 0: any free port, for bind).
sockaddr_in loopbackAddress(std::uint16_t port);

// True when a TCP connection to 127.0.0.1:port succeeds (connect + close).
bool tcpPortOpen(std::uint16_t port);

// Waits until tcpPortOpen(port) or the timeout.
bool waitForTcpPort(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace pullprint::testing
