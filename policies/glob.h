// Glob: the compiled form of a document-name or document-format pattern.
//
// Syntax: `*` matches any run of characters (including none and '/'), `?`
// exactly one character (one UTF-8 code point), `\` makes the next character
// literal. Matching is ASCII case-insensitive ("*.XLSX" matches
// "Budget.xlsx"); other bytes compare exactly.
//
// Invariants: the pattern is stored lowercased with escapes resolved into
// (literal, wildcard) tokens, so matching never allocates.
// Thread contract: immutable after compile(); matches() is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pullprint::policies {

class Glob {
 public:
  // Fails on an empty pattern, a trailing '\', or a pattern over 1024 bytes.
  static Result<Glob> compile(std::string_view pattern);

  bool matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  enum class Kind : unsigned char { kLiteral, kAnyOne, kAnyRun };
  struct Token {
    Kind kind;
    char c;  // lowercased, for kLiteral
  };
  std::string pattern_;  // as written
  std::vector<Token> tokens_;
};

}  // namespace pullprint::policies
