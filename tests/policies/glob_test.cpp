#include <catch2/catch.hpp>

#include "policies/glob.h"

using pullprint::policies::Glob;

namespace {
bool m(const char* pattern, const char* text) { return Glob::compile(pattern)->matches(text); }
}  // namespace

TEST_CASE("glob: wildcards, case and escapes") {
  CHECK(m("*.xlsx", "Budget 2026.xlsx"));
  CHECK(m("*.xlsx", "BUDGET.XLSX"));
  CHECK_FALSE(m("*.xlsx", "budget.xlsx.pdf"));
  CHECK(m("*.ppt?", "talk.pptx"));
  CHECK_FALSE(m("*.ppt?", "talk.ppt"));
  CHECK(m("poster*", "Poster A0.pdf"));
  CHECK(m("*", ""));
  CHECK_FALSE(m("?", ""));
  CHECK(m("a*b*c", "aXXbYYbZZc"));
  CHECK_FALSE(m("a*b*c", "aXXbYYbZZ"));
  CHECK(m("image/*", "image/jpeg"));
  CHECK_FALSE(m("image/*", "application/pdf"));
  CHECK(m("100\\*", "100*"));
  CHECK_FALSE(m("100\\*", "1000"));
  CHECK(m("r?sum?.pdf", "r\xC3\xA9sum\xC3\xA9.pdf"));  // ? is one UTF-8 code point
  CHECK(m("**a", "bba"));
}

TEST_CASE("glob: invalid patterns") {
  CHECK_FALSE(Glob::compile("").isOk());
  CHECK_FALSE(Glob::compile("abc\\").isOk());
  CHECK_FALSE(Glob::compile(std::string(2000, 'a')).isOk());
}
