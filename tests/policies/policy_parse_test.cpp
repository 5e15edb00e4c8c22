// Policy document parsing: what a valid document becomes, and that every
// kind of mistake is reported at its exact file:line:column.
#include <catch2/catch.hpp>

#include "policies/policy.h"

using namespace pullprint::policies;

namespace {

std::vector<PolicyError> errorsOf(const std::string& text) {
  std::vector<PolicyError> errors;
  auto p = parsePolicy(text, "p.toml", &errors);
  REQUIRE_FALSE(p.isOk());
  REQUIRE_FALSE(errors.empty());
  CHECK(p.status().code() == pullprint::StatusCode::kInvalidArgument);
  // The Status message carries the same errors, one per line.
  CHECK_THAT(p.status().message(), Catch::StartsWith(errors.front().toString()));
  return errors;
}

}  // namespace

TEST_CASE("parse: a full document") {
  const char* text = R"(version = 3
[defaults]
sides = "two-sided-long-edge"
color_mode = "monochrome"
hold_timeout_seconds = 86400
allow_direct = false

[[rule]]
name = "duplex-long-jobs"
description = "Long jobs print two-sided"
queues = ["followme"]
printer_groups = ["library"]
user_groups = ["staff"]
users = ["alice"]
min_pages = 11
max_pages = 500
min_copies = 2
formats = ["application/pdf"]
color = false
document_name = "*.xlsx"
sources = ["10.0.0.0/8"]
stage = "release"
force_two_sided = true
max_copies = 5
hold_timeout_seconds = 3600
require_printer_group = "library"
allow_direct = true

[[rule]]
name = "no-exe"
formats = ["application/x-ms*"]
deny = "Executables cannot be printed."
)";
  auto p = parsePolicy(text, "p.toml");
  REQUIRE(p.isOk());
  CHECK(p->version() == 3);
  CHECK(p->source() == "p.toml");
  CHECK(p->defaults().sides == Sides::kTwoSidedLongEdge);
  CHECK(p->defaults().color_mode == ColorMode::kMonochrome);
  CHECK(p->defaults().hold_timeout_seconds == 86400);
  CHECK(p->defaults().allow_direct == false);
  REQUIRE(p->rules().size() == 2);
  const Rule& r = p->rules()[0];
  CHECK(r.name == "duplex-long-jobs");
  CHECK(r.description == "Long jobs print two-sided");
  CHECK(r.position.line == 8);
  CHECK(r.scope.stage == Stage::kRelease);
  CHECK(r.scope.queues == std::vector<std::string>{"followme"});
  CHECK(r.scope.printer_groups == std::vector<std::string>{"library"});
  CHECK(r.scope.user_groups == std::vector<std::string>{"staff"});
  CHECK(r.scope.users == std::vector<std::string>{"alice"});
  CHECK(r.scope.min_pages == 11);
  CHECK(r.scope.max_pages == 500);
  CHECK(r.scope.min_copies == 2);
  CHECK(r.scope.formats == std::vector<std::string>{"application/pdf"});
  CHECK(r.scope.color == false);
  CHECK(r.scope.document_names == std::vector<std::string>{"*.xlsx"});
  CHECK(r.scope.sources == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(r.actions.force_two_sided);
  CHECK_FALSE(r.actions.force_one_sided);
  CHECK(r.actions.max_copies == 5);
  CHECK(r.actions.hold_timeout_seconds == 3600);
  CHECK(r.actions.require_printer_group == "library");
  CHECK(r.actions.allow_direct == true);
  CHECK(p->rules()[1].actions.deny == "Executables cannot be printed.");
  CHECK(p->rules()[1].position.line == 29);

  std::string summary = summarizePolicy(*p);
  CHECK_THAT(summary, Catch::Contains("version 3, 2 rules"));
  CHECK_THAT(summary,
             Catch::Contains("2. no-exe (line 29) when formats=application/x-ms* -> deny="));
}

TEST_CASE("parse: minimal document, no rules") {
  auto p = parsePolicy("version = 1\n", "p.toml");
  REQUIRE(p.isOk());
  CHECK(p->rules().empty());
  CHECK_FALSE(p->defaults().sides.has_value());
}

TEST_CASE("parse: document_name takes a string or an array") {
  auto p = parsePolicy(R"(version = 1
[[rule]]
name = "a"
document_name = ["*.ppt", "*.pptx"]
force_one_sided = true
)",
                       "p.toml");
  REQUIRE(p.isOk());
  CHECK(p->rules()[0].scope.document_names.size() == 2);
}

TEST_CASE("parse: every mistake is reported at its line and column") {
  struct Case {
    const char* what;
    const char* text;
    int line, column;
    const char* message;  // substring
  };
  // Each document's first error (in document order) is checked.
  const Case cases[] = {
      {"toml syntax", "version = 1\n[[rule]\nname = \"a\"\n", 2, 8, "expected ']'"},
      {"duplicate toml key", "version = 1\nversion = 2\n", 2, 11, "cannot redefine"},
      {"version missing", "[defaults]\nsides = \"one-sided\"\n", 1, 1, "version is required"},
      {"version not an integer", "version = \"3\"\n", 1, 11, "version must be an integer"},
      {"version zero", "version = 0\n", 1, 11, "version must be at least 1"},
      {"unknown top-level key", "version = 1\nrules = []\n", 2, 1, "unknown top-level key 'rules'"},
      {"[rule] instead of [[rule]]", "version = 1\n[rule]\nname = \"a\"\n", 2, 1,
       "rules are written as [[rule]] tables"},
      {"unknown key in defaults", "version = 1\n[defaults]\nsides = \"one-sided\"\nduplex = true\n",
       4, 1, "[defaults]: unknown key 'duplex'"},
      {"unknown sides keyword", "version = 1\n[defaults]\nsides = \"duplex\"\n", 3, 9,
       "unknown sides 'duplex'"},
      {"unknown color keyword", "version = 1\n[defaults]\ncolor_mode = \"colour\"\n", 3, 14,
       "unknown color_mode 'colour'"},
      {"defaults hold too short", "version = 1\n[defaults]\nhold_timeout_seconds = 10\n", 3, 24,
       "hold_timeout_seconds = 10 is impossible"},
      {"unknown key in rule",
       "version = 1\n[[rule]]\nname = \"a\"\nforce_duplex = true\nmax_copies = 2\n", 4, 1,
       "rule 'a': unknown key 'force_duplex'"},
      {"wrong type: bool as string",
       "version = 1\n[[rule]]\nname = \"a\"\nforce_two_sided = \"yes\"\n", 4, 19,
       "rule 'a': force_two_sided must be true"},
      {"wrong type: list as string",
       "version = 1\n[[rule]]\nname = \"a\"\nqueues = \"followme\"\nmax_copies = 2\n", 4, 10,
       "rule 'a': queues must be an array of strings"},
      {"wrong type: number in list",
       "version = 1\n[[rule]]\nname = \"a\"\nusers = [\"bob\", 7]\nmax_copies = 2\n", 4, 17,
       "rule 'a': users must be an array of strings"},
      {"wrong type: float", "version = 1\n[[rule]]\nname = \"a\"\nmax_copies = 2.5\n", 4, 14,
       "max_copies must be an integer"},
      {"max_copies = 0", "version = 1\n\n[[rule]]\nname = \"a\"\nmax_copies = 0\n", 5, 14,
       "rule 'a': max_copies = 0 is impossible"},
      {"force_two_sided with min_pages < 1",
       "version = 1\n[[rule]]\nname = \"duplex\"\nmin_pages = 0\nforce_two_sided = true\n", 4, 13,
       "rule 'duplex': min_pages = 0 is impossible"},
      {"min_pages above max_pages",
       "version = 1\n[[rule]]\nname = \"a\"\nmin_pages = 50\nmax_pages = 10\nforce_two_sided = "
       "true\n",
       5, 1, "max_pages 10 is below min_pages 50"},
      {"unknown stage keyword",
       "version = 1\n[[rule]]\nname = \"a\"\nstage = \"printing\"\nforce_monochrome = true\n", 4, 9,
       "unknown stage 'printing'"},
      {"force_monochrome and allow_color",
       "version = 1\n[[rule]]\nname = \"a\"\nforce_monochrome = true\nallow_color = true\n", 5, 1,
       "rule 'a': allow_color conflicts with force_monochrome (line 4)"},
      {"force_two_sided and force_one_sided",
       "version = 1\n[[rule]]\nname = \"a\"\nforce_one_sided = true\nqueues = "
       "[\"q\"]\nforce_two_sided = true\n",
       6, 1, "force_two_sided conflicts with force_one_sided (line 4)"},
      {"deny with another action",
       "version = 1\n[[rule]]\nname = \"a\"\ndeny = \"no\"\nmax_copies = 3\n", 5, 1,
       "max_copies conflicts with deny (line 4)"},
      {"empty deny message", "version = 1\n[[rule]]\nname = \"a\"\ndeny = \"\"\n", 4, 8,
       "deny must be a non-empty string"},
      {"force flag false",
       "version = 1\n[[rule]]\nname = \"a\"\nforce_monochrome = false\nmax_copies = 2\n", 4, 20,
       "force_monochrome = false does nothing"},
      {"rule without name", "version = 1\n\n\n[[rule]]\nmax_copies = 2\n", 4, 1,
       "rule #1: name is required"},
      {"rule without action", "version = 1\n[[rule]]\nname = \"a\"\nqueues = [\"q\"]\n", 2, 1,
       "rule 'a': the rule has no action"},
      {"duplicate rule name",
       "version = 1\n[[rule]]\nname = \"a\"\nmax_copies = 2\n[[rule]]\nname = \"a\"\nmax_copies = "
       "3\n",
       6, 8, "rule #2: name 'a' is already used by the rule at line 3"},
      {"reserved rule name", "version = 1\n[[rule]]\nname = \"defaults\"\nmax_copies = 2\n", 3, 8,
       "is reserved"},
      {"bad rule name", "version = 1\n[[rule]]\nname = \"two words\"\nmax_copies = 2\n", 3, 8,
       "must be 1-64 of"},
      {"empty list", "version = 1\n[[rule]]\nname = \"a\"\nuser_groups = []\nmax_copies = 2\n", 4,
       15, "user_groups = [] never matches"},
      {"bad CIDR (second element)",
       "version = 1\n[[rule]]\nname = \"a\"\nsources = [\"10.0.0.0/8\",\n  "
       "\"10.0.0.0/40\"]\nmax_copies = 2\n",
       5, 3, "rule 'a': sources: network prefix too long in '10.0.0.0/40'"},
      {"bad address",
       "version = 1\n[[rule]]\nname = \"a\"\nsources = [\"library\"]\nmax_copies = 2\n", 4, 12,
       "bad network address 'library'"},
      {"bad glob",
       "version = 1\n[[rule]]\nname = \"a\"\ndocument_name = \"x\\\\\"\nmax_copies = 2\n", 4, 17,
       "document_name pattern 'x\\'"},
      {"printer scope on a submit rule",
       "version = 1\n[[rule]]\nname = \"a\"\nstage = \"submit\"\nprinter_groups = "
       "[\"lib\"]\nforce_monochrome = true\n",
       5, 1, "printer_groups needs a printer"},
      {"required group outside printer_groups",
       "version = 1\n[[rule]]\nname = \"a\"\nprinter_groups = [\"lib\"]\nrequire_printer_group = "
       "\"eng\"\n",
       5, 1, "require_printer_group 'eng' is outside the rule's printer_groups"},
      {"rule hold timeout too long",
       "version = 1\n[[rule]]\nname = \"a\"\nhold_timeout_seconds = 99999999999\n", 4, 24,
       "is impossible: must be 60 .. 31622400"},
      {"rule entry not a table", "version = 1\nrule = [1, 2]\n", 2, 8,
       "rules are written as [[rule]] tables"},
      {"defaults not a table", "version = 1\ndefaults = 3\n", 2, 12, "[defaults] must be a table"},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      auto errors = errorsOf(c.text);
      INFO(errors.front().toString());
      CHECK(errors.front().source == "p.toml");
      CHECK(errors.front().line == c.line);
      CHECK(errors.front().column == c.column);
      CHECK_THAT(errors.front().message, Catch::Contains(c.message));
      CHECK_THAT(errors.front().toString(),
                 Catch::StartsWith("p.toml:" + std::to_string(c.line) + ":" +
                                   std::to_string(c.column) + ": "));
    }
  }
}

TEST_CASE("parse: all errors are reported, in document order") {
  const char* text = R"(version = 3
colour = 1
[defaults]
sides = "both"

[[rule]]
name = "a"
max_copies = 0
force_two_sided = true
min_pages = 0

[[rule]]
name = "b"
force_monochrome = true
allow_color = true
)";
  std::vector<PolicyError> errors;
  auto p = parsePolicy(text, "p.toml", &errors);
  REQUIRE_FALSE(p.isOk());
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].line == 2);
  CHECK(errors[1].line == 4);
  CHECK(errors[2].line == 8);
  CHECK(errors[3].line == 10);
  CHECK(errors[4].line == 15);
  CHECK(p.status().message() ==
        "p.toml:2:1: unknown top-level key 'colour' (expected version, [defaults], "
        "[printer_defaults], [[rule]])\n"
        "p.toml:4:9: [defaults]: unknown sides 'both' (expected one-sided, two-sided-long-edge, "
        "two-sided-short-edge)\n"
        "p.toml:8:14: rule 'a': max_copies = 0 is impossible: a job needs at least 1 copy (use "
        "deny to refuse jobs)\n"
        "p.toml:10:13: rule 'a': min_pages = 0 is impossible: pages start at 1 (leave it out to "
        "match any)\n"
        "p.toml:15:1: rule 'b': allow_color conflicts with force_monochrome (line 14): one rule "
        "cannot force and allow colour");
}

TEST_CASE("parse: the error list is capped") {
  std::string text = "version = 1\n";
  for (int i = 0; i < 80; ++i)
    text += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\nmax_copies = 0\n";
  std::vector<PolicyError> errors;
  auto p = parsePolicy(text, "p.toml", &errors);
  REQUIRE_FALSE(p.isOk());
  CHECK(errors.size() == kMaxPolicyErrors);
  CHECK_THAT(p.status().message(), Catch::EndsWith("only the first 50 are shown"));
}

TEST_CASE("load: files and replacement") {
  auto missing = loadPolicyFile("/nonexistent/policy.toml");
  CHECK(missing.status().code() == pullprint::StatusCode::kNotFound);

  auto v1 = parsePolicy("version = 1\n", "a.toml");
  auto v2 = parsePolicy("version = 2\n", "b.toml");
  REQUIRE(v1.isOk());
  REQUIRE(v2.isOk());
  CHECK(checkReplacement(*v1, *v2).isOk());
  pullprint::Status same = checkReplacement(*v2, *v2);
  CHECK(same.code() == pullprint::StatusCode::kFailedPrecondition);
  CHECK_THAT(same.message(),
             Catch::Contains("version 2 is not above the active policy's version 2"));
}
