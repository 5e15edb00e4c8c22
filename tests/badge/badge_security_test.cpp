// Station trust, tested over HTTP against the real pullprintd: forged,
// tampered, unsigned, stale, replayed, foreign-printer and revoked-station
// requests are refused, release nothing, and are each logged. Also the
// card admin routes (add, import, revoke) and self-registration.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/wire/station_wire.h"
#include "tests/badge/badge_stack.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::badgetest;

namespace {
std::string body(const std::string& printer, const std::string& uid) {
  return nlohmann::json{{"printer", printer}, {"card_uid", uid}}.dump();
}
size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("station requests that are not genuine, fresh and in scope are refused", "[security]") {
  Stack stack;
  std::string secret = stack.createStation("st-1", {"lib-1"});
  stack.addCard("04:A2:1B:3C", "alice");
  int job = stack.holdJob("alice");
  const std::string ok = body("lib-1", "04A21B3C");
  INFO(stack.server().describe());

  // Unsigned.
  Api r = stack.call("POST", wire::kReleasePath, ok, "");
  CHECK(r.status == 401);
  // Forged: signed with a wrong secret.
  r = stack.signedRelease("st-1", std::string(64, '0'), ok);
  CHECK(r.status == 401);
  CHECK(r.json("error") == "bad signature");
  // Tampered: signed for one body, sent with another.
  {
    std::string nonce = wire::randomHex(16);
    std::string ts = std::to_string(std::time(nullptr));
    std::string sig = wire::signRequest(secret, "POST", wire::kReleasePath, ts, nonce,
                                        body("lib-1", "0411223344"));
    r = stack.call("POST", wire::kReleasePath, ok, "",
                   {{wire::kHeaderStation, "st-1"},
                    {wire::kHeaderTimestamp, ts},
                    {wire::kHeaderNonce, nonce},
                    {wire::kHeaderSignature, sig}});
    CHECK(r.status == 401);
  }
  // Stale, both ways.
  r = stack.signedRelease("st-1", secret, ok, -600);
  CHECK(r.status == 401);
  CHECK(r.json("error").rfind("stale request", 0) == 0);
  r = stack.signedRelease("st-1", secret, ok, +600);
  CHECK(r.status == 401);
  // Unknown station.
  r = stack.signedRelease("st-nobody", secret, ok);
  CHECK(r.status == 401);
  // A printer that is not the station's (lib-2 exists, but st-1 serves lib-1 only).
  r = stack.signedRelease("st-1", secret, body("lib-2", "04A21B3C"));
  CHECK(r.status == 403);

  // Nothing was released by any of these.
  CHECK(stack.jobState(job) == "held");
  CHECK(stack.printer().receivedJobs().empty());

  // A genuine request releases; the same request again is a replay.
  std::string nonce = wire::randomHex(16);
  r = stack.signedRelease("st-1", secret, ok, 0, nonce);
  REQUIRE(r.status == 200);
  CHECK(r.json("user") == "alice");
  CHECK(r.json("jobs") == "1");
  REQUIRE(stack.printer().waitForJobs(1, 20s));
  int job2 = stack.holdJob("alice", "second");
  r = stack.signedRelease("st-1", secret, ok, 0, nonce);
  CHECK(r.status == 409);
  CHECK(stack.jobState(job2) == "held");

  // Revoked station: refused even with a valid signature.
  REQUIRE(stack.call("POST", "/api/v1/stations/st-1/revoke").status == 200);
  r = stack.signedRelease("st-1", secret, ok);
  CHECK(r.status == 403);
  CHECK(stack.jobState(job2) == "held");
  CHECK(stack.printer().receivedJobs().size() == 1);

  // Each refusal is logged, with its reason; card numbers never in full.
  std::string log = stack.server().log();
  for (const char* reason : {"unsigned", "bad-signature", "stale", "unknown-station",
                             "foreign-printer", "replayed", "revoked"})
    CHECK(log.find(std::string("event=station.refused reason=") + reason) != std::string::npos);
  CHECK(count(log, "reason=bad-signature") == 2);
  CHECK(count(log, "reason=stale") == 2);
  CHECK(log.find("04A21B3C") == std::string::npos);
}

TEST_CASE("unknown cards: 404 with a hint, rate-limited per station, self-registration",
          "[security]") {
  StackOptions so;
  so.stationsToml = "failed_reads_per_minute = 5";
  Stack stack(so);
  std::string secret = stack.createStation("st-1", {"lib-1"});
  std::string secret2 = stack.createStation("st-2", {"lib-1"});
  int job = stack.holdJob("alice");

  Api r = stack.signedRelease("st-1", secret, body("lib-1", "04112233"));
  CHECK(r.status == 404);
  CHECK(r.json("error") == "unknown card");
  CHECK(r.json("hint").find("register") != std::string::npos);

  // Alice says "register my card", then taps it: it becomes hers and releases.
  Api intent = stack.call("POST", "/api/v1/cards/register-intent", "{}", "alice:alicepw");
  REQUIRE(intent.status == 201);
  r = stack.signedRelease("st-1", secret, body("lib-1", "04:11:22:33"));
  REQUIRE(r.status == 200);
  CHECK(r.json("user") == "alice");
  CHECK(r.json("registered") == "true");
  CHECK(r.json("jobs") == "1");
  REQUIRE(stack.printer().waitForJobs(1, 20s));
  CHECK(stack.jobState(job) != "held");
  // The intent is used up: another unknown card is unknown again.
  CHECK(stack.signedRelease("st-1", secret, body("lib-1", "04AABBCC")).status == 404);
  // She sees her card; bob cannot list hers.
  Api mine = stack.call("GET", "/api/v1/cards", "", "alice:alicepw");
  CHECK(mine.status == 200);
  CHECK(mine.body.find("\"04112233\"") != std::string::npos);
  CHECK(stack.call("GET", "/api/v1/cards?user=alice", "", "bob:bobpw").status == 403);

  // Guessing card numbers: after 5 failed reads a minute the station is throttled...
  for (int i = 0; i < 3; ++i)
    CHECK(
        stack.signedRelease("st-1", secret, body("lib-1", "0500000" + std::to_string(i))).status ==
        404);
  r = stack.signedRelease("st-1", secret, body("lib-1", "05000009"));
  CHECK(r.status == 429);
  // ...even for a known card, while another station is not.
  CHECK(stack.signedRelease("st-1", secret, body("lib-1", "04112233")).status == 429);
  CHECK(stack.signedRelease("st-2", secret2, body("lib-1", "04112233")).status == 200);
  CHECK(stack.server().log().find("reason=rate-limited") != std::string::npos);
}

TEST_CASE("cards: admin add in any notation, CSV import, revoke; several cards per user",
          "[cards]") {
  Stack stack;
  // Decimal as printed on the card (little-endian reading) is the same card as its hex UID.
  Api r = stack.call("POST", "/api/v1/cards", R"({"uid":"decle:1008443908","user":"alice"})");
  REQUIRE(r.status == 201);
  CHECK(r.json("uid") == "04A21B3C");
  CHECK(r.json("decimal_be") == "77732668");
  CHECK(stack.call("POST", "/api/v1/cards", R"({"uid":"04a21b3c","user":"bob"})").status == 409);
  CHECK(stack.call("POST", "/api/v1/cards", R"({"uid":"04a21b","user":"bob"})").status == 400);
  CHECK(stack.call("POST", "/api/v1/cards", R"({"uid":"04112233","user":"bob"})", "alice:alicepw")
            .status == 403);

  // Import: a bad line refuses the whole file.
  std::string bad = "uid,username,format\n04:11:22:33:44:55:66,alice\nzz,bob\n";
  r = stack.call("POST", "/api/v1/cards/import", bad, "admin:adminpw", {}, "text/csv");
  CHECK(r.status == 400);
  CHECK(r.body.find("\"line\":3") != std::string::npos);
  std::string good =
      "uid,username,format\n04:11:22:33:44:55:66,alice\n77732669,bob,dec\n"
      "3C1BA205,bob,rev\n";
  r = stack.call("POST", "/api/v1/cards/import", good, "admin:adminpw", {}, "text/csv");
  REQUIRE(r.status == 200);
  CHECK(r.json("imported") == "3");
  Api bobs = stack.call("GET", "/api/v1/cards?user=bob");
  CHECK(bobs.body.find("\"04A21B3D\"") != std::string::npos);  // dec:77732669
  CHECK(bobs.body.find("\"05A21B3C\"") != std::string::npos);  // rev:3C1BA205
  Api alices = stack.call("GET", "/api/v1/cards?user=alice");
  CHECK(nlohmann::json::parse(alices.body)["cards"].size() == 2);

  // The owner revokes a lost card; a revoked card no longer releases.
  std::string secret = stack.createStation("st-1", {"lib-1"});
  int job = stack.holdJob("alice");
  CHECK(stack.call("DELETE", "/api/v1/cards/04:A2:1B:3C", "", "bob:bobpw").status == 404);
  REQUIRE(stack.call("DELETE", "/api/v1/cards/04:A2:1B:3C", "", "alice:alicepw").status == 200);
  CHECK(stack.signedRelease("st-1", secret, body("lib-1", "04A21B3C")).status == 404);
  CHECK(stack.jobState(job) == "held");
  // Her other card still works.
  r = stack.signedRelease("st-1", secret, body("lib-1", "04112233445566"));
  CHECK(r.status == 200);
  CHECK(r.json("jobs") == "1");
}
