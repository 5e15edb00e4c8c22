// Policy evaluation: a table of job facts x one realistic policy, each row
// with the decision expected and who must have decided each attribute.
#include <catch2/catch.hpp>

#include "policies/evaluate.h"

using namespace pullprint::policies;

namespace {

constexpr pullprint::UnixSeconds kNow = 1'800'000'000;

// Rule order matters: see the comments on each rule for the rows that
// exercise it.
const char* kPolicy = R"(version = 7
[defaults]
sides = "two-sided-long-edge"
color_mode = "monochrome"
hold_timeout_seconds = 86400

[[rule]]
name = "no-huge"
min_pages = 1001
deny = "Jobs over 1000 pages go to the print shop."

[[rule]]
name = "no-executables"
formats = ["application/x-ms*", "application/vnd.microsoft.portable-executable"]
deny = "Executables cannot be printed."

[[rule]]
name = "lab-network"
sources = ["192.0.2.0/24", "2001:db8::/32"]
max_copies = 2
hold_timeout_seconds = 3600

[[rule]]
name = "posters-one-sided"
document_name = ["*.ppt?", "poster*"]
force_one_sided = true

[[rule]]
name = "staff-colour"
user_groups = ["staff", "research"]
allow_color = true
max_copies = 50

[[rule]]
name = "duplex-long-jobs"
queues = ["followme"]
min_pages = 11
force_two_sided = true

[[rule]]
name = "students-mono"
user_groups = ["students"]
force_monochrome = true
max_copies = 5

[[rule]]
name = "thesis-library-only"
users = ["carol"]
document_name = "thesis*"
require_printer_group = "library"
hold_timeout_seconds = 604800

[[rule]]
name = "library-colour-at-release"
stage = "release"
printer_groups = ["library"]
color = true
force_monochrome = true

[[rule]]
name = "bulk-short-hold"
min_copies = 10
hold_timeout_seconds = 7200

[[rule]]
name = "direct-for-root"
users = ["root"]
queues = ["direct"]
allow_direct = true

[[rule]]
name = "suspended"
users = ["mallory"]
deny = "Your printing account is suspended."

[[rule]]
name = "students-colour-too-late"
user_groups = ["students"]
allow_color = true
)";

const Policy& policy() {
  static const Policy p = [] {
    auto r = parsePolicy(kPolicy, "table.toml");
    if (!r) FAIL(r.status().message());
    return std::move(r).value();
  }();
  return p;
}

JobFacts job(std::string user, std::vector<std::string> groups, std::optional<std::int64_t> pages) {
  JobFacts f;
  f.queue = "followme";
  f.user = std::move(user);
  f.user_groups = std::move(groups);
  f.source_address = "10.1.2.3";
  f.pages = pages;
  f.format = "application/pdf";
  f.document_name = "notes.pdf";
  return f;
}

PrinterFacts printer(std::string group, bool duplex = true, bool color = true) {
  return {"p-" + group, std::move(group), duplex, color};
}

// Expected value and decider ("request", "defaults", "printer-capabilities",
// "server-config" or a rule name).
template <typename T>
struct Want {
  T value;
  const char* by;
};

struct Row {
  const char* what;
  JobFacts job;
  std::optional<PrinterFacts> printer;
  const char* denied_by;  // nullptr: not denied
  Want<Sides> sides;
  Want<ColorMode> color;
  Want<std::int64_t> copies;
  Want<std::optional<std::int64_t>> hold;
  std::optional<const char*> required_group = std::nullopt;
  Want<bool> direct = {false, "defaults"};
};

template <typename F>
JobFacts with(JobFacts f, F change) {
  change(f);
  return f;
}

}  // namespace

TEST_CASE("evaluate: decision table") {
  using S = Sides;
  using C = ColorMode;
  const auto one = S::kOneSided;
  const auto longEdge = S::kTwoSidedLongEdge;
  const auto shortEdge = S::kTwoSidedShortEdge;
  const std::optional<std::int64_t> day = 86400;

  const Row rows[] = {
      // Defaults vs request.
      {"short job, nothing asked: defaults decide",
       job("sam", {"students"}, 5),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "students-mono"},
       {1, "request"},
       {day, "defaults"}},
      {"guest asks one-sided colour on a short job: request stands",
       with(job("gail", {"guests"}, 3),
            [](JobFacts& f) {
              f.sides = S::kOneSided;
              f.color_mode = C::kColor;
            }),
       {},
       nullptr,
       {one, "request"},
       {C::kColor, "request"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: pages.
      {"long job asked one-sided: duplex-long-jobs forces two-sided",
       with(job("gail", {"guests"}, 20), [](JobFacts& f) { f.sides = S::kOneSided; }),
       {},
       nullptr,
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      {"force_two_sided keeps the short edge the job asked for",
       with(job("gail", {"guests"}, 20), [](JobFacts& f) { f.sides = S::kTwoSidedShortEdge; }),
       {},
       nullptr,
       {shortEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      {"unknown page count never matches a pages scope",
       with(job("gail", {"guests"}, std::nullopt), [](JobFacts& f) { f.sides = S::kOneSided; }),
       {},
       nullptr,
       {one, "request"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      {"1500 pages: denied",
       job("sam", {"students"}, 1500),
       {},
       "no-huge",
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "students-mono"},
       {1, "request"},
       {day, "defaults"}},
      {"exactly 1000 pages: not denied",
       job("gail", {}, 1000),
       {},
       nullptr,
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: queue.
      {"long job on another queue: duplex rule does not apply",
       with(job("gail", {}, 20),
            [](JobFacts& f) {
              f.queue = "library-1";
              f.sides = S::kOneSided;
            }),
       {},
       nullptr,
       {one, "request"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: format glob.
      {"executable: denied by format",
       with(job("gail", {}, 2), [](JobFacts& f) { f.format = "application/x-msdownload"; }),
       {},
       "no-executables",
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: document name glob; precedence (earlier rule wins the attribute).
      {"slides (case-insensitive glob) beat the later duplex rule",
       with(job("gail", {}, 20), [](JobFacts& f) { f.document_name = "Lecture 3.PPTX"; }),
       {},
       nullptr,
       {one, "posters-one-sided"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: source CIDR (IPv4, IPv6, IPv4-mapped), max_copies, hold override.
      {"lab network (IPv4): copies capped, short hold",
       with(job("gail", {}, 2),
            [](JobFacts& f) {
              f.source_address = "192.0.2.55";
              f.copies = 4;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {2, "lab-network"},
       {3600, "lab-network"}},
      {"lab network (IPv6)",
       with(job("gail", {}, 2),
            [](JobFacts& f) {
              f.source_address = "2001:db8::5";
              f.copies = 4;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {2, "lab-network"},
       {3600, "lab-network"}},
      {"lab network (IPv4-mapped IPv6)",
       with(job("gail", {}, 2),
            [](JobFacts& f) {
              f.source_address = "::ffff:192.0.2.9";
              f.copies = 4;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {2, "lab-network"},
       {3600, "lab-network"}},
      {"copies within the cap: decided by the request",
       with(job("gail", {}, 2),
            [](JobFacts& f) {
              f.source_address = "192.0.2.55";
              f.copies = 2;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {2, "request"},
       {3600, "lab-network"}},
      {"outside the lab network",
       with(job("gail", {}, 2), [](JobFacts& f) { f.copies = 4; }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {4, "request"},
       {day, "defaults"}},
      {"garbage source address matches no network",
       with(job("gail", {}, 2),
            [](JobFacts& f) {
              f.source_address = "not-an-ip";
              f.copies = 4;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {4, "request"},
       {day, "defaults"}},
      // Scope: user groups; allow_color.
      {"staff asking colour: allowed",
       with(job("sue", {"staff"}, 3),
            [](JobFacts& f) {
              f.color_mode = C::kColor;
              f.copies = 60;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kColor, "staff-colour"},
       {50, "staff-colour"},
       {7200, "bulk-short-hold"}},  // scopes see the copies asked for, not the capped ones
      {"staff (second group) not asking colour: default monochrome stands",
       job("rita", {"x", "research"}, 3),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // Conflicting rules: students-mono comes before students-colour-too-late.
      {"students asking colour: the first rule that sets colour wins",
       with(job("sam", {"students"}, 3),
            [](JobFacts& f) {
              f.color_mode = C::kColor;
              f.copies = 8;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "students-mono"},
       {5, "students-mono"},
       {day, "defaults"}},
      {"user in staff and students: staff-colour is earlier",
       with(job("tom", {"students", "staff"}, 3),
            [](JobFacts& f) {
              f.color_mode = C::kColor;
              f.copies = 8;
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kColor, "staff-colour"},
       {8, "request"},
       {day, "defaults"}},
      // Deny wins over attributes set by earlier rules.
      {"suspended user: late deny wins",
       with(job("mallory", {"students"}, 20), [](JobFacts&) {}),
       {},
       "suspended",
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "students-mono"},
       {1, "request"},
       {day, "defaults"}},
      // Scope: min_copies; hold timeout precedence (lab-network is earlier).
      {"bulk copies: short hold",
       with(job("gail", {}, 1), [](JobFacts& f) { f.copies = 12; }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {12, "request"},
       {7200, "bulk-short-hold"}},
      {"bulk copies from the lab: lab-network's earlier hold and cap win",
       with(job("gail", {}, 1),
            [](JobFacts& f) {
              f.copies = 12;
              f.source_address = "192.0.2.1";
            }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {2, "lab-network"},
       {3600, "lab-network"}},
      {"copies < 1 count as 1",
       with(job("gail", {}, 1), [](JobFacts& f) { f.copies = 0; }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      // allow_direct.
      {"root on the direct queue",
       with(job("root", {}, 1), [](JobFacts& f) { f.queue = "direct"; }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"},
       std::nullopt,
       {true, "direct-for-root"}},
      // Required printer group: at submit it is recorded, at release enforced.
      {"thesis at submit: group required, long hold",
       with(job("carol", {}, 80), [](JobFacts& f) { f.document_name = "Thesis-final.pdf"; }),
       {},
       nullptr,
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {604800, "thesis-library-only"},
       "library"},
      {"thesis released in engineering: denied",
       with(job("carol", {}, 80), [](JobFacts& f) { f.document_name = "Thesis-final.pdf"; }),
       printer("engineering"),
       "thesis-library-only",
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {604800, "thesis-library-only"},
       "library"},
      {"thesis released in the library: printed",
       with(job("carol", {}, 80), [](JobFacts& f) { f.document_name = "Thesis-final.pdf"; }),
       printer("library"),
       nullptr,
       {longEdge, "duplex-long-jobs"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {604800, "thesis-library-only"},
       "library"},
      // Release-only rules and printer scopes.
      {"guest colour at submit: request stands",
       with(job("gail", {}, 3), [](JobFacts& f) { f.color_mode = C::kColor; }),
       {},
       nullptr,
       {longEdge, "defaults"},
       {C::kColor, "request"},
       {1, "request"},
       {day, "defaults"}},
      {"guest colour released in the library: release rule forces monochrome",
       with(job("gail", {}, 3), [](JobFacts& f) { f.color_mode = C::kColor; }),
       printer("library"),
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "library-colour-at-release"},
       {1, "request"},
       {day, "defaults"}},
      {"colour from analysis (auto + has_color) matches color = true",
       with(job("gail", {}, 3),
            [](JobFacts& f) {
              f.color_mode = C::kAuto;
              f.has_color = true;
            }),
       printer("library"),
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "library-colour-at-release"},
       {1, "request"},
       {day, "defaults"}},
      {"auto with unknown content does not match color = true",
       with(job("gail", {}, 3), [](JobFacts& f) { f.color_mode = C::kAuto; }),
       printer("library"),
       nullptr,
       {longEdge, "defaults"},
       {C::kAuto, "request"},
       {1, "request"},
       {day, "defaults"}},
      {"staff colour in the library: staff-colour is earlier than the release rule",
       with(job("sue", {"staff"}, 3), [](JobFacts& f) { f.color_mode = C::kColor; }),
       printer("library"),
       nullptr,
       {longEdge, "defaults"},
       {C::kColor, "staff-colour"},
       {1, "request"},
       {day, "defaults"}},
      // Printer capabilities: the final word at release.
      {"simplex printer + force_two_sided: one-sided by printer-capabilities",
       with(job("gail", {}, 20), [](JobFacts& f) { f.sides = S::kOneSided; }),
       printer("engineering", /*duplex=*/false),
       nullptr,
       {one, "printer-capabilities"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      {"mono printer + allowed staff colour: monochrome by printer-capabilities",
       with(job("sue", {"staff"}, 3), [](JobFacts& f) { f.color_mode = C::kColor; }),
       printer("engineering", true, /*color=*/false),
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "printer-capabilities"},
       {1, "request"},
       {day, "defaults"}},
      {"mono printer + auto: monochrome by printer-capabilities",
       with(job("gail", {}, 3), [](JobFacts& f) { f.color_mode = C::kAuto; }),
       printer("engineering", true, false),
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "printer-capabilities"},
       {1, "request"},
       {day, "defaults"}},
      {"mono printer + default monochrome: unchanged",
       job("gail", {}, 3),
       printer("engineering", true, false),
       nullptr,
       {longEdge, "defaults"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
      {"one-sided job on a simplex printer: unchanged",
       with(job("gail", {}, 3), [](JobFacts& f) { f.sides = S::kOneSided; }),
       printer("engineering", false, false),
       nullptr,
       {one, "request"},
       {C::kMonochrome, "defaults"},
       {1, "request"},
       {day, "defaults"}},
  };

  for (const Row& row : rows) {
    SECTION(row.what) {
      const PrinterFacts* p = row.printer ? &*row.printer : nullptr;
      Decision d = evaluate(row.job, p, policy(), kNow);
      INFO(describeDecision(d));
      if (row.denied_by) {
        CHECK(d.denied);
        CHECK(d.denied_by.kind == DeciderKind::kRule);
        CHECK(d.denied_by.name == row.denied_by);
        CHECK_FALSE(d.deny_message.empty());
      } else {
        CHECK_FALSE(d.denied);
      }
      CHECK(d.sides.value == row.sides.value);
      CHECK(d.sides.by.name == row.sides.by);
      CHECK(d.color_mode.value == row.color.value);
      CHECK(d.color_mode.by.name == row.color.by);
      CHECK(d.copies.value == row.copies.value);
      CHECK(d.copies.by.name == row.copies.by);
      CHECK(d.hold_timeout_seconds.value == row.hold.value);
      CHECK(d.hold_timeout_seconds.by.name == row.hold.by);
      CHECK(d.hold_expires_at == kNow + *row.hold.value);
      if (row.required_group) {
        REQUIRE(d.required_printer_group.value);
        CHECK(*d.required_printer_group.value == *row.required_group);
      } else {
        CHECK_FALSE(d.required_printer_group.value);
      }
      CHECK(d.allow_direct.value == row.direct.value);
      CHECK(d.allow_direct.by.name == row.direct.by);
    }
  }
}

TEST_CASE("evaluate: deny messages and deciders are recorded") {
  Decision d = evaluate(job("mallory", {}, 2), nullptr, policy(), kNow);
  CHECK(d.deny_message == "Your printing account is suspended.");
  CHECK(d.denied_by.kind == DeciderKind::kRule);
  CHECK(d.denied_by.rule_index == 11);
  CHECK(describeDecider(d.denied_by) == "rule:suspended");

  JobFacts thesis = job("carol", {}, 80);
  thesis.document_name = "thesis.pdf";
  PrinterFacts eng = printer("engineering");
  Decision r = evaluate(thesis, &eng, policy(), kNow);
  CHECK(r.denied);
  CHECK(r.deny_message == "This job can be released only at a printer of group 'library'.");
  CHECK(describeDecision(r) ==
        "denied=\"This job can be released only at a printer of group 'library'.\""
        "(rule:thesis-library-only) sides=two-sided-long-edge(rule:duplex-long-jobs) "
        "color_mode=monochrome(defaults) copies=1(request) "
        "hold_timeout_seconds=604800(rule:thesis-library-only) "
        "require_printer_group=library(rule:thesis-library-only) allow_direct=false(defaults)");
}

TEST_CASE("evaluate: a deny rule beats the required-group denial") {
  auto p = parsePolicy(R"(version = 1
[[rule]]
name = "lib"
require_printer_group = "library"
[[rule]]
name = "no"
users = ["x"]
deny = "no"
)",
                       "p.toml");
  REQUIRE(p.isOk());
  JobFacts f;
  f.user = "x";
  PrinterFacts eng{"e1", "engineering", true, true};
  Decision d = evaluate(f, &eng, *p, kNow);
  CHECK(d.denied);
  CHECK(d.denied_by.name == "no");
}

TEST_CASE("evaluate: built-in defaults when the policy has none") {
  auto p = parsePolicy("version = 1\n", "p.toml");
  REQUIRE(p.isOk());
  JobFacts f;
  f.copies = 3;
  Decision d = evaluate(f, nullptr, *p, kNow);
  CHECK_FALSE(d.denied);
  CHECK(d.sides.value == Sides::kOneSided);
  CHECK(d.sides.by.kind == DeciderKind::kDefaults);
  CHECK(d.color_mode.value == ColorMode::kAuto);
  CHECK(d.copies.value == 3);
  CHECK_FALSE(d.hold_timeout_seconds.value);
  CHECK(d.hold_timeout_seconds.by.kind == DeciderKind::kServerConfig);
  CHECK(d.hold_timeout_seconds.by.name == "server-config");
  CHECK_FALSE(d.hold_expires_at);
  CHECK_FALSE(d.allow_direct.value);
}

TEST_CASE("evaluate: force_two_sided uses the defaults' edge") {
  auto p = parsePolicy(R"(version = 1
[defaults]
sides = "two-sided-short-edge"
[[rule]]
name = "duplex"
force_two_sided = true
)",
                       "p.toml");
  REQUIRE(p.isOk());
  JobFacts f;
  f.sides = Sides::kOneSided;
  Decision d = evaluate(f, nullptr, *p, kNow);
  CHECK(d.sides.value == Sides::kTwoSidedShortEdge);
  CHECK(d.sides.by.name == "duplex");
}

TEST_CASE("evaluate: allow_direct = false in an early rule blocks a later true") {
  auto p = parsePolicy(R"(version = 1
[defaults]
allow_direct = true
[[rule]]
name = "guests-held"
user_groups = ["guests"]
allow_direct = false
[[rule]]
name = "everyone-direct"
allow_direct = true
)",
                       "p.toml");
  REQUIRE(p.isOk());
  JobFacts guest;
  guest.user_groups = {"guests"};
  Decision d = evaluate(guest, nullptr, *p, kNow);
  CHECK_FALSE(d.allow_direct.value);
  CHECK(d.allow_direct.by.name == "guests-held");
  Decision other = evaluate(JobFacts{}, nullptr, *p, kNow);
  CHECK(other.allow_direct.value);
  CHECK(other.allow_direct.by.name == "everyone-direct");
}

TEST_CASE("evaluate: printer names and stage = submit") {
  auto p = parsePolicy(R"(version = 1
[[rule]]
name = "submit-only"
stage = "submit"
max_copies = 3
[[rule]]
name = "lib-1-mono"
printers = ["lib-1"]
force_monochrome = true
)",
                       "p.toml");
  REQUIRE(p.isOk());
  JobFacts f;
  f.copies = 9;
  f.color_mode = ColorMode::kColor;
  Decision submit = evaluate(f, nullptr, *p, kNow);
  CHECK(submit.copies.value == 3);
  CHECK(submit.color_mode.value == ColorMode::kColor);
  PrinterFacts lib1{"lib-1", "library", true, true}, lib2{"lib-2", "library", true, true};
  Decision at1 = evaluate(f, &lib1, *p, kNow);
  CHECK(at1.copies.value == 9);  // the submit-only rule does not apply at release
  CHECK(at1.color_mode.value == ColorMode::kMonochrome);
  CHECK(at1.color_mode.by.name == "lib-1-mono");
  Decision at2 = evaluate(f, &lib2, *p, kNow);
  CHECK(at2.color_mode.value == ColorMode::kColor);
  CHECK(matchingRules(f, &lib1, *p) == std::vector<int>{1});
  CHECK(matchingRules(f, nullptr, *p) == std::vector<int>{0});
}

TEST_CASE("evaluate: pure (same inputs, same decision; now only moves the expiry)") {
  JobFacts f = job("sue", {"staff"}, 30);
  f.color_mode = ColorMode::kColor;
  Decision a = evaluate(f, nullptr, policy(), kNow);
  Decision b = evaluate(f, nullptr, policy(), kNow);
  CHECK(describeDecision(a) == describeDecision(b));
  Decision later = evaluate(f, nullptr, policy(), kNow + 100);
  CHECK(describeDecision(later) == describeDecision(a));
  CHECK(*later.hold_expires_at == *a.hold_expires_at + 100);
}

TEST_CASE("evaluate: matchingRules lists every match, in order") {
  JobFacts f = job("mallory", {"students"}, 20);
  CHECK(matchingRules(f, nullptr, policy()) == std::vector<int>{5, 6, 11, 12});
}
