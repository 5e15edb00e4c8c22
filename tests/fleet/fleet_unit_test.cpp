// [printer_defaults] parsing (line-numbered errors), drift comparison and
// the push plan: the pure part of the fleet push (policies/fleet.h).
#include <catch2/catch.hpp>

#include "policies/fleet.h"
#include "policies/policy.h"

using namespace pullprint::policies;

namespace {

std::string errorsOf(const std::string& toml) {
  std::vector<PolicyError> errors;
  auto p = parsePolicy(toml, "p.toml", &errors);
  REQUIRE_FALSE(p);
  return p.status().message();
}

}  // namespace

TEST_CASE("[printer_defaults] is parsed in document order with typed values") {
  auto p = parsePolicy(R"(version = 3
[printer_defaults]
sides-default = "two-sided-long-edge"
print-color-mode-default = "monochrome"
copies-default = 1
print-quality-default = "draft"
some-vendor-default = true
)",
                       "p.toml");
  REQUIRE(p);
  const auto& d = p->printerDefaults();
  REQUIRE(d.size() == 5);
  CHECK(d[0].name == "sides-default");
  CHECK(d[0].option() == "sides");
  CHECK(d[0].value == "two-sided-long-edge");
  CHECK(d[0].position.line == 3);
  CHECK(d[1].value == "monochrome");
  CHECK(d[2].kind == PrinterDefault::Kind::kInteger);
  CHECK(d[2].value == "1");
  CHECK(d[4].kind == PrinterDefault::Kind::kBoolean);
  CHECK(d[4].value == "true");
  CHECK_THAT(summarizePolicy(*p), Catch::Contains("printer_defaults: sides-default=two-sided"));
}

TEST_CASE("bad [printer_defaults] entries are reported with file:line:column") {
  auto msg = errorsOf(R"(version = 1
[printer_defaults]
sides-default = "duplex"
print-color-mode-default = 3
copies-default = 0
sides = "one-sided"
media-default = "Not A Keyword"
)");
  CHECK_THAT(msg, Catch::Contains("p.toml:3:17: [printer_defaults]: sides-default: unknown value "
                                  "'duplex' (expected one-sided"));
  CHECK_THAT(msg, Catch::Contains("p.toml:4:"));
  CHECK_THAT(msg,
             Catch::Contains("p.toml:5:18: [printer_defaults]: copies-default = 0 is impossible"));
  CHECK_THAT(msg, Catch::Contains("p.toml:6:1: [printer_defaults]: 'sides' is not an IPP default"));
  CHECK_THAT(msg, Catch::Contains("p.toml:7:"));
  CHECK_THAT(errorsOf("version = 1\nprinter_defaults = 3\n"),
             Catch::Contains("p.toml:2:20: [printer_defaults] must be a table"));
}

TEST_CASE("compareDefaults lists every difference with expected and actual values") {
  auto p = parsePolicy(
      "version = 1\n[printer_defaults]\nsides-default = \"two-sided-long-edge\"\n"
      "print-color-mode-default = \"monochrome\"\ncopies-default = 1\n",
      "p.toml");
  REQUIRE(p);
  ObservedDefaults seen = {{"sides-default", {"one-sided"}},
                           {"print-color-mode-default", {"monochrome"}}};
  auto diffs = compareDefaults(p->printerDefaults(), seen);
  REQUIRE(diffs.size() == 2);
  CHECK(diffs[0].name == "sides-default");
  CHECK(diffs[0].expected == "two-sided-long-edge");
  CHECK(diffs[0].actual == std::vector<std::string>{"one-sided"});
  CHECK(diffs[1].name == "copies-default");
  CHECK(diffs[1].actual.empty());  // not reported

  // Two values for one default (cupsd after -o sides-default on a PPD queue) is drift.
  seen["sides-default"] = {"two-sided-long-edge", "one-sided"};
  seen["copies-default"] = {"1"};
  diffs = compareDefaults(p->printerDefaults(), seen);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].actual.size() == 2);
  seen["sides-default"] = {"two-sided-long-edge"};
  CHECK(compareDefaults(p->printerDefaults(), seen).empty());
}

TEST_CASE("planPush sends over IPP only what the printer lists as settable") {
  auto p = parsePolicy(
      "version = 1\n[printer_defaults]\nsides-default = \"two-sided-long-edge\"\n"
      "print-color-mode-default = \"monochrome\"\n",
      "p.toml");
  REQUIRE(p);
  ObservedDefaults seen = {{"sides-default", {"one-sided"}}};
  SupportedValues supported = {{"sides", {}}, {"print-color-mode", {}}};
  auto ipp = planPush(p->printerDefaults(), Transport::kIpp, {"print-color-mode-default"},
                      supported, seen);
  REQUIRE(ipp.size() == 2);
  CHECK_FALSE(ipp[0].send);
  CHECK_THAT(ipp[0].reason, Catch::Contains("printer-settable-attributes"));
  CHECK(ipp[1].send);
  // A CUPS queue takes what it supports (PPD options), settable list or not.
  auto cups = planPush(p->printerDefaults(), Transport::kCups, {}, {{"sides", {}}}, seen);
  CHECK(cups[0].send);
  CHECK_FALSE(cups[1].send);
  // A value the printer does not list is unsupported (two-sided on a simplex queue).
  auto simplex =
      planPush(p->printerDefaults(), Transport::kCups, {},
               {{"sides", {"one-sided"}}, {"print-color-mode", {"monochrome", "color"}}}, seen);
  CHECK_FALSE(simplex[0].send);
  CHECK_THAT(simplex[0].reason,
             Catch::Contains("does not support two-sided-long-edge (sides-supported: one-sided)"));
  CHECK(simplex[1].send);
  CHECK(std::string(transportName(Transport::kCups)) == "cups");
}
