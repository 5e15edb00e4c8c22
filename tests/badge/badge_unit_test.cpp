// Unit tests: card-number conversions, request signing, the store's station
// and card tables, and the agent's configuration checks.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "badge-reader/agent_config.h"
#include "badge-reader/card_watcher.h"
#include "badge-reader/release_client.h"
#include "core/store.h"
#include "core/wire/station_wire.h"
#include "tests/support/temp_dir.h"

using namespace pullprint;

namespace {
std::string canon(const std::string& s) {
  std::string err;
  auto r = wire::parseCardNumber(s, &err);
  return r ? *r : "ERR: " + err;
}
}  // namespace

TEST_CASE("card numbers: hex forms become one canonical form", "[wire]") {
  CHECK(canon("04:A2:1B:3C") == "04A21B3C");
  CHECK(canon("04a21b3c") == "04A21B3C");
  CHECK(canon(" 04-a2-1b-3c ") == "04A21B3C");
  CHECK(canon("04 A2 1B 3C 5D 6E 80") == "04A21B3C5D6E80");
  CHECK(canon("hex:0102030405060708090A") == "0102030405060708090A");
  CHECK(canon("rev:3C1BA204") == "04A21B3C");
  CHECK(canon("REV:80:6E:5D:3C:1B:A2:04") == "04A21B3C5D6E80");
  CHECK(canon("12345678") == "12345678");  // digits alone are hex, never guessed decimal
}

TEST_CASE("card numbers: decimal is the big- or little-endian integer of the UID", "[wire]") {
  // 04A21B3C: big-endian 0x04A21B3C = 77732668; little-endian 0x3C1BA204 = 1008443908.
  CHECK(canon("dec:77732668") == "04A21B3C");
  CHECK(canon("decle:1008443908") == "04A21B3C");
  CHECK(wire::uidToDecimal("04A21B3C", false) == "77732668");
  CHECK(wire::uidToDecimal("04A21B3C", true) == "1008443908");
  // 7-byte UID round trip both ways (needs more than 32 bits).
  for (bool le : {false, true}) {
    std::string d = wire::uidToDecimal("04A21B3C5D6E80", le);
    CHECK(canon(std::string(le ? "decle:" : "dec:") + d) == "04A21B3C5D6E80");
  }
  // 10-byte UID (more than 64 bits).
  std::string d10 = wire::uidToDecimal("88041122334455667788", false);
  CHECK(d10 == "642316863252183023777672");
  CHECK(canon("dec:" + d10) == "88041122334455667788");
  // A small number is padded to 4 bytes.
  CHECK(canon("dec:1") == "00000001");
  CHECK(canon("decle:1") == "01000000");
}

TEST_CASE("card numbers: bad input is refused with a reason", "[wire]") {
  CHECK(canon("04A21B").rfind("ERR: a card UID has 4 to 10 bytes", 0) == 0);
  CHECK(canon("04A21B3").rfind("ERR: odd number", 0) == 0);
  CHECK(canon("04G21B3C").rfind("ERR: not a hex digit", 0) == 0);
  CHECK(canon("dec:12a").rfind("ERR: not a decimal digit", 0) == 0);
  CHECK(canon("dec:").rfind("ERR:", 0) == 0);
  CHECK(canon("dec:99999999999999999999999999").rfind("ERR: decimal card number is larger", 0) ==
        0);
  CHECK(canon("").rfind("ERR:", 0) == 0);
  CHECK(canon("0102030405060708090A0B").rfind("ERR: a card UID has 4 to 10 bytes", 0) == 0);
}

TEST_CASE("card numbers: logs and screens see only a prefix", "[wire]") {
  CHECK(wire::redactUid("04A21B3C5D6E80") == "04A2…");
  CHECK(wire::uidFromBytes(reinterpret_cast<const std::uint8_t*>("\x04\xa2\x1b\x3c"), 4) ==
        "04A21B3C");
}

TEST_CASE("signing: HMAC-SHA256 and the string to sign", "[wire]") {
  // RFC 4231 test case 2.
  CHECK(wire::hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(wire::stringToSign("POST", "/api/v1/stations/release", "1700000000", "n0nce-n0nce-n0nce",
                           "") ==
        "PULLPRINT-HMAC-SHA256\nPOST\n/api/v1/stations/release\n1700000000\nn0nce-n0nce-n0nce\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string a = wire::signRequest("secret", "POST", "/p", "1", "abcdefabcdefabcdef", "{}");
  CHECK(a.size() == 64);
  CHECK(a != wire::signRequest("secret", "POST", "/p", "1", "abcdefabcdefabcdef", "{ }"));
  CHECK(a != wire::signRequest("secret", "POST", "/p", "2", "abcdefabcdefabcdef", "{}"));
  CHECK(a != wire::signRequest("secreT", "POST", "/p", "1", "abcdefabcdefabcdef", "{}"));
  CHECK(wire::timingSafeEqual(a, a));
  CHECK_FALSE(wire::timingSafeEqual(a, a.substr(1)));
  CHECK(wire::validNonce(wire::randomHex(16)));
  CHECK_FALSE(wire::validNonce("short"));
  CHECK_FALSE(wire::validNonce("has space in it 0123"));
}

TEST_CASE("store: stations, cards, registrations and the nonce cache", "[store]") {
  testing::TempDir dir("pullprint-badge-store");
  auto opened = openSqliteStore((dir / "db").string());
  REQUIRE(opened);
  Store& s = **opened;
  Station st;
  st.name = "lib-1";
  st.secret = "s3cret";
  st.printers = {"lib-1", "lib-1b"};
  st.created_at = 100;
  REQUIRE(s.write([&](StoreWriter& w) { return w.insertStation(st); }));
  CHECK(s.write([&](StoreWriter& w) { return w.insertStation(st); }).code() ==
        StatusCode::kAlreadyExists);
  auto got = s.station("lib-1");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK((*got)->secret == "s3cret");
  CHECK((*got)->printers == std::vector<std::string>{"lib-1", "lib-1b"});
  REQUIRE(s.write([&](StoreWriter& w) { return w.revokeStation("lib-1", 200); }));
  CHECK((*s.station("lib-1"))->revoked_at == 200);
  CHECK(s.write([&](StoreWriter& w) { return w.revokeStation("lib-1", 201); }).code() ==
        StatusCode::kNotFound);

  Card c{"04A21B3C", "alice", 100, 0, "admin"};
  REQUIRE(s.write([&](StoreWriter& w) { return w.upsertCard(c); }));
  Card other{"04A21B3C", "bob", 101, 0, "admin"};
  CHECK(s.write([&](StoreWriter& w) { return w.upsertCard(other); }).code() ==
        StatusCode::kAlreadyExists);
  REQUIRE(s.write([&](StoreWriter& w) { return w.revokeCard("04A21B3C", 150); }));
  REQUIRE(s.write([&](StoreWriter& w) { return w.upsertCard(other); }));  // a revoked card can move
  CHECK((*s.card("04A21B3C"))->user == "bob");
  Card second{"0411223344", "bob", 102, 0, "import"};
  REQUIRE(s.write([&](StoreWriter& w) { return w.upsertCard(second); }));
  CHECK(s.cardsOfUser("bob")->size() == 2);

  CardRegistration r{0, "alice", "", 100, 220};
  REQUIRE(s.write([&](StoreWriter& w) { return w.insertCardRegistration(r); }));
  CHECK(s.pendingCardRegistrations(200)->size() == 1);
  CHECK(s.pendingCardRegistrations(220)->empty());

  REQUIRE(s.write([&](StoreWriter& w) { return w.insertStationNonce("lib-1", "n1", 160, 100); }));
  CHECK(s.write([&](StoreWriter& w) {
           return w.insertStationNonce("lib-1", "n1", 160, 100);
         }).code() == StatusCode::kAlreadyExists);
  CHECK(s.write([&](StoreWriter& w) { return w.insertStationNonce("lib-2", "n1", 160, 100); }));
  // Expired entries are pruned (the timestamp check refuses such requests anyway).
  CHECK(s.write([&](StoreWriter& w) { return w.insertStationNonce("lib-1", "n1", 400, 300); }));
}

TEST_CASE("agent config: a bad configuration is refused with a clear message", "[agent]") {
  testing::TempDir dir("pullprint-badge-config");
  auto secret = dir / "s";
  testing::writeFile(secret, std::string(64, 'a') + "\n");
  ::chmod(secret.c_str(), 0600);
  auto parse = [&](std::vector<std::string> args, std::string* err) {
    std::vector<char*> argv = {const_cast<char*>("pullprint-badge")};
    for (auto& a : args) argv.push_back(a.data());
    badge::AgentConfig c;
    bool help = false;
    bool ok = badge::parseAgentConfig(static_cast<int>(argv.size()), argv.data(), &c, err, &help);
    return ok ? std::optional<badge::AgentConfig>(c) : std::nullopt;
  };
  std::string err;
  auto ok =
      parse({"--server", "https://print.example.org:8631", "--station", "lib-1", "--secret-file",
             secret.string(), "--printer", "lib-1", "--reader-printer", "Spare=lib-2"},
            &err);
  REQUIRE(ok);
  CHECK(ok->url.tls);
  CHECK(ok->url.port == "8631");
  CHECK(ok->secret == std::string(64, 'a'));
  CHECK(ok->printerFor("Spare PCD 00 00") == "lib-2");
  CHECK(ok->printerFor("Virtual PCD 00 00") == "lib-1");

  CHECK_FALSE(parse(
      {"--server", "ftp://x", "--station", "a", "--secret-file", secret.string(), "--printer", "p"},
      &err));
  CHECK(err.find("http:// or https://") != std::string::npos);
  CHECK_FALSE(parse({"--server", "http://x", "--station", "a", "--printer", "p"}, &err));
  CHECK(err.find("secret_file") != std::string::npos);
  ::chmod(secret.c_str(), 0644);
  CHECK_FALSE(parse({"--server", "http://x", "--station", "a", "--secret-file", secret.string(),
                     "--printer", "p"},
                    &err));
  CHECK(err.find("chmod 600") != std::string::npos);
  ::chmod(secret.c_str(), 0600);

  // Station names follow the server's rule (1-64 characters): a longer one
  // could never have been registered, so the agent refuses it at start.
  CHECK(parse({"--server", "http://x", "--station", std::string(64, 's'), "--secret-file",
               secret.string(), "--printer", "p"},
              &err));
  CHECK_FALSE(parse({"--server", "http://x", "--station", std::string(65, 's'), "--secret-file",
                     secret.string(), "--printer", "p"},
                    &err));
  CHECK(err.find("1-64") != std::string::npos);
  CHECK_FALSE(parse({"--server", "http://x", "--station", "lib/1", "--secret-file", secret.string(),
                     "--printer", "p"},
                    &err));
  CHECK_FALSE(parse({"--server", "http://x", "--station", "a", "--secret-file", secret.string(),
                     "--printer", std::string(128, 'p')},
                    &err));
  CHECK(err.find("not a valid printer name") != std::string::npos);

  testing::writeFile(dir / "badge.toml",
                     "server = \"http://127.0.0.1:1\"\nstation = \"lib-1\"\nprinterr = \"x\"\n");
  CHECK_FALSE(parse({"--config", (dir / "badge.toml").string()}, &err));
  CHECK(err == (dir / "badge.toml").string() + ":3:1: unknown key 'printerr'");
  testing::writeFile(dir / "badge.toml",
                     "server = \"http://127.0.0.1:1\"\nstation = \"lib-1\"\n"
                     "printer = \"lib-1\"\nsecret_file = \"" +
                         secret.string() +
                         "\"\ndebounce_ms = 250\n[reader_printers]\n\"Spare\" = \"lib-2\"\n");
  auto fromFile = parse({"--config", (dir / "badge.toml").string(), "--debounce-ms", "100"}, &err);
  REQUIRE(fromFile);
  CHECK(fromFile->debounce_ms == 100);  // flags win
  CHECK(fromFile->printerFor("Spare PCD 00 01") == "lib-2");
}

TEST_CASE("agent: status words and tap lines read well", "[agent]") {
  CHECK(badge::describeStatusWord(0x6A, 0x81).rfind("6A 81: function not supported", 0) == 0);
  CHECK(badge::describeStatusWord(0x6D, 0x00).rfind("6D 00: instruction not supported", 0) == 0);
  CHECK(badge::describeStatusWord(0x6F, 0x00) == "6F 00: unexpected status word");
  badge::ReleaseReply ok{200, R"({"user":"alice","jobs":3,"pages":12})", ""};
  CHECK(badge::tapLine(ok, "lib-1", "04A21B3C") == "alice: 3 jobs, 12 pages released at lib-1");
  badge::ReleaseReply none{200, R"({"user":"alice","jobs":0,"pages":0})", ""};
  CHECK(badge::tapLine(none, "lib-1", "04A21B3C") == "alice: no held jobs");
  badge::ReleaseReply unknown{404, R"({"error":"unknown card"})", ""};
  CHECK(badge::tapLine(unknown, "lib-1", "04A21B3C") ==
        "unknown card 04A2…: register it in the portal");
  badge::ReleaseReply refused{403, R"({"error":"station revoked"})", ""};
  CHECK(badge::tapLine(refused, "lib-1", "04A21B3C") == "refused: station revoked");
  badge::ReleaseReply down{0, "", "connecting to http://x: Connection refused"};
  CHECK(badge::tapLine(down, "lib-1", "04A21B3C").rfind("refused: server unreachable", 0) == 0);
}
