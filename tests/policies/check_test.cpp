#include <sstream>

#include <catch2/catch.hpp>

#include "policies/check.h"

using namespace pullprint::policies;

TEST_CASE("policy check: valid file prints a summary, exit 0") {
  std::ostringstream out, err;
  CHECK(runPolicyCheck(POLICIES_TEST_DATA "/valid.toml", out, err) == kPolicyCheckOk);
  CHECK(err.str().empty());
  CHECK_THAT(out.str(), Catch::Contains("version 3, 3 rules"));
  CHECK_THAT(out.str(), Catch::Contains("2. duplex-long-jobs (line 13)"));
}

TEST_CASE("policy check: invalid file prints file:line:column, exit 2") {
  std::ostringstream out, err;
  CHECK(runPolicyCheck(POLICIES_TEST_DATA "/invalid.toml", out, err) == kPolicyCheckInvalid);
  CHECK(out.str().empty());
  CHECK_THAT(err.str(), Catch::StartsWith(POLICIES_TEST_DATA
                                          "/invalid.toml:8:14: rule 'too-strict': max_copies = 0"));
}

TEST_CASE("policy check: missing file, exit 2") {
  std::ostringstream out, err;
  CHECK(runPolicyCheck(POLICIES_TEST_DATA "/does-not-exist.toml", out, err) == kPolicyCheckInvalid);
  CHECK_THAT(err.str(), Catch::Contains("cannot open policy file"));
}
