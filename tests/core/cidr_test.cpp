#include <catch2/catch.hpp>

#include "core/cidr.h"

using namespace pullprint;

TEST_CASE("CidrSet matches IPv4, IPv6 and mapped addresses") {
  auto s = CidrSet::parse({"127.0.0.0/8", "::1/128", "10.20.0.0/16", "192.168.1.7"});
  REQUIRE(s.isOk());
  CHECK(s->contains("127.0.0.1"));
  CHECK(s->contains("127.255.1.2"));
  CHECK(s->contains("::1"));
  CHECK(s->contains("::ffff:127.0.0.1"));
  CHECK(s->contains("10.20.200.1"));
  CHECK_FALSE(s->contains("10.21.0.1"));
  CHECK(s->contains("192.168.1.7"));
  CHECK_FALSE(s->contains("192.168.1.8"));
  CHECK_FALSE(s->contains("::2"));
  CHECK_FALSE(s->contains("not an address"));
  CHECK_FALSE(s->contains(""));
}

TEST_CASE("CidrSet rejects bad networks") {
  CHECK_FALSE(CidrSet::parse({"10.0.0.0/33"}).isOk());
  CHECK_FALSE(CidrSet::parse({"10.0.0/8"}).isOk());
  CHECK_FALSE(CidrSet::parse({"::1/129"}).isOk());
  CHECK_FALSE(CidrSet::parse({"1.2.3.4/x"}).isOk());
}

TEST_CASE("loopback") {
  CHECK(isLoopbackAddress("127.0.0.1"));
  CHECK(isLoopbackAddress("::1"));
  CHECK_FALSE(isLoopbackAddress("10.0.0.1"));
}
