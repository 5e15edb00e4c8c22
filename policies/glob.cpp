#include "policies/glob.h"

namespace pullprint::policies {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

Result<Glob> Glob::compile(std::string_view pattern) {
  if (pattern.empty()) return Status(StatusCode::kInvalidArgument, "empty pattern");
  if (pattern.size() > 1024)
    return Status(StatusCode::kInvalidArgument, "pattern longer than 1024 bytes");
  Glob g;
  g.pattern_ = std::string(pattern);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size())
        return Status(StatusCode::kInvalidArgument, "pattern ends with an escaping '\\'");
      g.tokens_.push_back({Kind::kLiteral, lower(pattern[++i])});
    } else if (c == '*') {
      // Collapse runs of '*': they match the same as one.
      if (g.tokens_.empty() || g.tokens_.back().kind != Kind::kAnyRun)
        g.tokens_.push_back({Kind::kAnyRun, 0});
    } else if (c == '?') {
      g.tokens_.push_back({Kind::kAnyOne, 0});
    } else {
      g.tokens_.push_back({Kind::kLiteral, lower(c)});
    }
  }
  return g;
}

// Iterative matcher with one backtrack point (the last '*'): linear for the
// usual patterns, O(pattern x text) worst case, no allocation.
bool Glob::matches(std::string_view text) const {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string::npos, star_t = 0;
  const std::size_t np = tokens_.size(), nt = text.size();
  while (t < nt) {
    if (p < np) {
      const Token& tok = tokens_[p];
      if (tok.kind == Kind::kAnyRun) {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (tok.kind == Kind::kAnyOne) {
        ++t;
        while (t < nt && isContinuation(text[t])) ++t;
        ++p;
        continue;
      }
      if (tok.c == lower(text[t])) {
        ++t;
        ++p;
        continue;
      }
    }
    if (star_p == std::string::npos) return false;
    // Let the last '*' swallow one more character and retry after it.
    p = star_p + 1;
    ++star_t;
    while (star_t < nt && isContinuation(text[star_t])) ++star_t;
    t = star_t;
  }
  while (p < np && tokens_[p].kind == Kind::kAnyRun) ++p;
  return p == np;
}

}  // namespace pullprint::policies
