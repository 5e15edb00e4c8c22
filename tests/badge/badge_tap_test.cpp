// Card taps through the real stack: a virtual card on vpcd -> pcscd (private
// namespaces) -> pullprint-badge -> signed request -> pullprintd -> the
// user's held job at ippeveprinter.
#include <signal.h>
#include <catch2/catch.hpp>

#include "tests/badge/badge_stack.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::badgetest;

namespace {
const CardOptions kAlice{bytesOf("04A21B3C5D6E80")};  // 7-byte UID
const CardOptions kBob{bytesOf("0411AA22")};          // 4-byte UID
const CardOptions kStranger{bytesOf("08FFEEDD")};

// Insert, wait for the agent's line, remove.
std::string tap(const PrivatePcscd& pcscd, BadgeAgent& agent, const CardOptions& card,
                std::uint16_t port = kVirtualSlot0) {
  size_t before = agent.lines().size();
  VirtualCard c(pcscd.netns(), port, card);
  std::string line = agent.waitLine(before + 1);
  c.remove();
  return line;
}
}  // namespace

TEST_CASE("a tap releases the card owner's held jobs at the station's printer", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1", "lib-2"});
  stack.addCard("04:A2:1B:3C:5D:6E:80", "alice");
  stack.addCard("0411AA22", "bob");
  BadgeAgent agent(stack, pcscd, "st-1", {"--reader-printer", "PCD 00 01=lib-2"});
  INFO(agent.describe() << stack.server().describe() << pcscd.log());

  int a1 = stack.holdJob("alice", "a1");
  stack.holdJob("alice", "a2");
  int b1 = stack.holdJob("bob", "b1");
  CHECK(tap(pcscd, agent, kAlice) == "alice: 2 jobs, 2 pages released at lib-1");
  REQUIRE(stack.printer().waitForJobs(2, 20s));
  for (const auto& j : stack.printer().receivedJobs()) CHECK(j.user == "alice");
  CHECK(stack.jobState(b1) == "held");
  CHECK(stack.jobState(a1) != "held");

  // The second reader is mapped to lib-2.
  CHECK(tap(pcscd, agent, kBob, kVirtualSlot1) == "bob: 1 job, 1 page released at lib-2");
  REQUIRE(stack.printer().waitForJobs(3, 20s));
  CHECK(tap(pcscd, agent, kBob) == "bob: no held jobs");
  // The card number never appears in full in either log.
  CHECK(agent.stderrText().find("04A21B3C5D6E80") == std::string::npos);
  CHECK(stack.server().log().find("04A21B3C5D6E80") == std::string::npos);

  // A SIGHUP (a closed terminal, a stray reload) is noted, not fatal: the
  // next tap is still answered.
  REQUIRE(::kill(agent.process().pid(), SIGHUP) == 0);
  CHECK(testing::waitFor(
      [&] { return agent.stderrText().find("SIGHUP ignored") != std::string::npos; }, 5s));
  CHECK(tap(pcscd, agent, kBob) == "bob: no held jobs");
}

TEST_CASE("unknown card: nothing released, a message, then registration by tapping", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1"});
  BadgeAgent agent(stack, pcscd, "st-1");
  INFO(agent.describe() << stack.server().describe());
  stack.holdJob("alice");
  CHECK(tap(pcscd, agent, kStranger) == "unknown card 08FF…: register it in the portal");
  CHECK(stack.printer().receivedJobs().empty());

  REQUIRE(
      stack.call("POST", "/api/v1/cards/register-intent", R"({"printer":"lib-1"})", "alice:alicepw")
          .status == 201);
  CHECK(tap(pcscd, agent, kStranger) == "alice: card registered; 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(1, 20s));
}

TEST_CASE("a card left on the reader is one release; two taps are two", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1"});
  stack.addCard("04A21B3C5D6E80", "alice");
  BadgeAgent agent(stack, pcscd, "st-1");
  INFO(agent.describe() << stack.server().describe());

  stack.holdJob("alice", "first");
  {
    VirtualCard held(pcscd.netns(), kVirtualSlot0, kAlice);
    CHECK(agent.waitLine(1) == "alice: 1 job, 1 page released at lib-1");
    REQUIRE(stack.printer().waitForJobs(1, 20s));
    int second = stack.holdJob("alice", "second");
    // Several pcscd polls later, still one line and the new job still held.
    std::this_thread::sleep_for(1500ms);
    CHECK(agent.lines().size() == 1);
    CHECK(stack.jobState(second) == "held");
    CHECK(held.uidReads() == 1);
  }
  // Lifted and tapped again: a new release.
  std::this_thread::sleep_for(500ms);  // beyond the 300 ms debounce, after pcscd saw the removal
  CHECK(tap(pcscd, agent, kAlice) == "alice: 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(2, 20s));
  stack.holdJob("alice", "third");
  std::this_thread::sleep_for(500ms);
  CHECK(tap(pcscd, agent, kAlice) == "alice: 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(3, 20s));
}

TEST_CASE("pcscd restarts and readers that go and come back: the agent keeps working", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1"});
  stack.addCard("0411AA22", "bob");
  BadgeAgent agent(stack, pcscd, "st-1");
  INFO(agent.describe() << stack.server().describe() << pcscd.log());

  stack.holdJob("bob", "before");
  CHECK(tap(pcscd, agent, kBob, kVirtualSlot1) == "bob: 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(1, 20s));

  // pcscd goes away and comes back: the agent reconnects.
  pcscd.restart({});
  stack.holdJob("bob", "after-restart");
  CHECK(tap(pcscd, agent, kBob) == "bob: 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(2, 20s));
  CHECK(agent.stderrText().find("lost pcscd") != std::string::npos);

  // The readers go away (pcscd without readers)...
  auto count = [&](const std::string& needle) {
    std::string e = agent.stderrText();
    size_t n = 0;
    for (auto p = e.find(needle); p != std::string::npos; p = e.find(needle, p + 1)) ++n;
    return n;
  };
  size_t added = count("reader added: Virtual PCD 00 01");
  pcscd.restart({.readers = false});
  REQUIRE(testing::waitFor([&] { return count("no reader; waiting for one") >= 1; }, 10s));
  // ...and come back: the re-added reader works.
  pcscd.restart({.readers = true});
  REQUIRE(testing::waitFor([&] { return count("reader added: Virtual PCD 00 01") > added; }, 10s));
  stack.holdJob("bob", "reader-back");
  CHECK(tap(pcscd, agent, kBob, kVirtualSlot1) == "bob: 1 job, 1 page released at lib-1");
  REQUIRE(stack.printer().waitForJobs(3, 20s));
}

TEST_CASE("cards whose UID cannot be read are reported with their status word", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  stack.createStation("st-1", {"lib-1"});
  BadgeAgent agent(stack, pcscd, "st-1");
  INFO(agent.describe());
  CHECK(tap(pcscd, agent, CardOptions{{}, 0x6A81}) ==
        "card not read on Virtual PCD 00 00: the reader refused GET DATA UID: 6A 81: function not "
        "supported (the reader cannot read this card's UID)");
  CHECK(tap(pcscd, agent, CardOptions{{}, 0x6D00}).find("6D 00: instruction not supported") !=
        std::string::npos);
}

TEST_CASE("the agent refuses a bad configuration and a server that says no", "[tap]") {
  Stack stack;
  PrivatePcscd pcscd;
  // Bad configuration: exits 2 with a message naming the problem.
  auto r =
      testing::runCommand({badgeBinary().string(), "--server", "http://127.0.0.1:1", "--station",
                           "st-1", "--printer", "lib-1", "--secret-file", "/nonexistent"},
                          10s);
  CHECK(r.exitCode == 2);
  CHECK(r.err.find("/nonexistent: cannot read the secret file") != std::string::npos);

  // Wrong secret (not the station's): every tap is refused, nothing printed.
  stack.createStation("st-1", {"lib-1"});
  stack.addCard("0411AA22", "bob");
  testing::writeFile(stack.secretFile("st-1"), std::string(64, 'f'));
  BadgeAgent agent(stack, pcscd, "st-1");
  stack.holdJob("bob");
  CHECK(tap(pcscd, agent, kBob) == "refused: bad signature");
  CHECK(stack.printer().receivedJobs().empty());
}
