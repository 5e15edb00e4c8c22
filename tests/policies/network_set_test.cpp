// The evaluator's compiled `sources` must answer exactly as core's CidrSet.
#include <catch2/catch.hpp>

#include "core/cidr.h"
#include "policies/network_set.h"

using pullprint::CidrSet;
using pullprint::policies::detail::IpBytes;
using pullprint::policies::detail::NetworkSet;

TEST_CASE("NetworkSet agrees with CidrSet") {
  const std::vector<std::vector<std::string>> sets = {
      {"10.0.0.0/8"},
      {"192.0.2.0/24", "2001:db8::/32"},
      {"10.1.2.3"},
      {"0.0.0.0/0"},
      {"::/0"},
      {"172.16.0.0/12", "::1/128"},
      {"192.0.2.128/25"},
      {"2001:db8:abcd::/47"},
      {"::ffff:10.0.0.0/104"},
  };
  const std::vector<std::string> addresses = {"10.0.0.1",
                                              "10.255.255.255",
                                              "11.0.0.1",
                                              "10.1.2.3",
                                              "10.1.2.4",
                                              "192.0.2.1",
                                              "192.0.2.200",
                                              "192.0.3.1",
                                              "2001:db8::1",
                                              "2001:db9::1",
                                              "::1",
                                              "::2",
                                              "::ffff:10.1.2.3",
                                              "[::1]",
                                              "fe80::1%eth0",
                                              "172.31.255.255",
                                              "172.32.0.0",
                                              "2001:db8:abcd::1",
                                              "2001:db8:abce::1",
                                              "2001:db8:abcc::1",
                                              "127.0.0.1",
                                              "0.0.0.0",
                                              "255.255.255.255"};
  for (const auto& networks : sets) {
    auto reference = CidrSet::parse(networks);
    auto compiled = NetworkSet::parse(networks);
    REQUIRE(reference.isOk());
    REQUIRE(compiled.isOk());
    for (const auto& a : addresses) {
      IpBytes bytes{};
      bool v4 = false;
      bool parsed = pullprint::parseIpAddress(a, &bytes, &v4);
      INFO(networks.front() << " contains " << a);
      CHECK(reference->contains(a) == (parsed && compiled->contains(bytes)));
    }
  }
}

TEST_CASE("NetworkSet refuses what CidrSet refuses") {
  for (const char* bad : {"10.0.0.0/33", "::/129", "library", "10.0.0.0/x", "10.0.0.0/"}) {
    INFO(bad);
    CHECK_FALSE(CidrSet::parse({bad}).isOk());
    CHECK_FALSE(NetworkSet::parse({bad}).isOk());
  }
}
