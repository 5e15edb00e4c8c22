// The agent's release client over HTTPS against the real pullprintd with a
// [tls] certificate (made with the openssl command for the test): the
// certificate and the host name are checked, a failed check is a clear
// error and releases nothing, a good one releases the card holder's job.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "badge-reader/agent_config.h"
#include "badge-reader/release_client.h"
#include "tests/badge/badge_stack.h"
#include "tests/support/process.h"

using namespace pullprint;
using namespace pullprint::badgetest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A self-signed certificate for `san` in dir/NAME.crt, dir/NAME.key.
void makeCertificate(const fs::path& dir, const std::string& name, const std::string& san) {
  auto r = testing::runCommand(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       (dir / (name + ".key")).string(), "-out", (dir / (name + ".crt")).string(), "-days", "2",
       "-subj", "/CN=pullprint test " + name, "-addext", "subjectAltName=" + san},
      60s);
  REQUIRE(r.ok());
}

badge::AgentConfig agentConfig(std::uint16_t port, const std::string& host,
                               const std::string& secret, const std::string& ca) {
  badge::AgentConfig c;
  c.server = "https://" + host + ":" + std::to_string(port);
  std::string error;
  REQUIRE(badge::parseServerUrl(c.server, &c.url, &error));
  c.station = "st-tls";
  c.secret = secret;
  c.printer = "lib-1";
  c.ca_file = ca;
  c.http_timeout_ms = 5000;
  return c;
}

}  // namespace

TEST_CASE("the agent releases over HTTPS and checks the server's certificate and name",
          "[badge][tls]") {
  testing::TempDir certs("badge-tls");
  makeCertificate(certs.path(), "server", "IP:127.0.0.1");
  makeCertificate(certs.path(), "other", "IP:127.0.0.1");
  StackOptions so;
  so.extraToml = "[tls]\ncertificate = \"" + (certs.path() / "server.crt").string() +
                 "\"\nprivate_key = \"" + (certs.path() / "server.key").string() + "\"\n";
  Stack stack(so);
  std::string secret = stack.createStation("st-tls", {"lib-1"});
  stack.addCard("04:A2:1B:3C:5D:6E:7F", "alice");
  int job = stack.holdJob("alice");
  const std::uint16_t port = stack.server().port();
  INFO(stack.server().describe());

  SECTION("a certificate no CA vouches for: refused before anything is sent") {
    auto c = agentConfig(port, "127.0.0.1", secret, (certs.path() / "other.crt").string());
    badge::ReleaseClient client(c);
    badge::ReleaseReply r = client.release("lib-1", "04A21B3C5D6E7F");
    INFO(r.error);
    CHECK(r.status == 0);
    CHECK(r.error.find("TLS handshake") != std::string::npos);
    CHECK(r.error.find("certificate verify failed") != std::string::npos);
    CHECK(stack.jobState(job) == "held");
  }
  SECTION("the right CA but another name than the certificate's: refused") {
    auto c = agentConfig(port, "localhost", secret, (certs.path() / "server.crt").string());
    badge::ReleaseClient client(c);
    badge::ReleaseReply r = client.release("lib-1", "04A21B3C5D6E7F");
    INFO(r.error);
    CHECK(r.status == 0);
    CHECK(r.error.find("TLS handshake") != std::string::npos);
    CHECK(stack.jobState(job) == "held");
  }
  SECTION("the server's certificate as CA: the card holder's job is released") {
    auto c = agentConfig(port, "127.0.0.1", secret, (certs.path() / "server.crt").string());
    badge::ReleaseClient client(c);
    badge::ReleaseReply r = client.release("lib-1", "04A21B3C5D6E7F");
    INFO(r.error << " " << r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["user"] == "alice");
    CHECK(body["jobs"].size() == 1);
    CHECK(badge::tapLine(r, "lib-1", "04A21B3C5D6E7F").rfind("alice: 1 job", 0) == 0);
    CHECK(stack.printer().waitForJobs(1, 20s));
  }
}
