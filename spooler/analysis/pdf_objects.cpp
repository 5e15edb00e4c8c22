#include "spooler/analysis/pdf_objects.h"

#include <charconv>

namespace pullprint::spooler::analysis::pdf {
namespace {

bool isWhite(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}
bool isDelimiter(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case '{':
    case '}':
    case '/':
    case '%':
      return true;
    default:
      return false;
  }
}
bool isRegular(char c) { return !isWhite(c) && !isDelimiter(c); }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnsignedInteger(std::string_view t) {
  if (t.empty() || t.size() > 18) return false;
  for (char c : t)
    if (c < '0' || c > '9') return false;
  return true;
}

int64_t toInteger(std::string_view t) {  // t passed isUnsignedInteger
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

// A number token: [+-]? digits [. digits*] | [+-]? . digits. Integers beyond
// 18 digits are refused rather than rounded.
std::optional<double> numberOf(std::string_view t) {
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  std::size_t digits = 0, dots = 0;
  for (char c : t) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c == '.')
      ++dots;
    else
      return std::nullopt;
  }
  if (digits == 0 || dots > 1) return std::nullopt;
  double v = 0;
  if (dots == 0) {
    if (digits > 18) return std::nullopt;
    v = static_cast<double>(toInteger(t));
  } else {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  }
  return negative ? -v : v;
}

class Parser {
 public:
  Parser(std::string_view text, std::size_t at) : text_(text), at_(at) {}
  std::size_t position() const { return at_; }

  void skipWhite() {
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (isWhite(c)) {
        ++at_;
      } else if (c == '%') {
        while (at_ < text_.size() && text_[at_] != '\n' && text_[at_] != '\r') ++at_;
      } else {
        break;
      }
    }
  }

  // A run of regular characters (may be empty).
  std::string_view regularToken() {
    const std::size_t start = at_;
    while (at_ < text_.size() && isRegular(text_[at_])) ++at_;
    return text_.substr(start, at_ - start);
  }

  bool object(Value& out, int depth) {
    if (depth > kMaxDepth) return false;
    skipWhite();
    if (at_ >= text_.size()) return false;
    const char c = text_[at_];
    if (c == '/') return name(out);
    if (c == '[') return array(out, depth);
    if (c == '(') return literalString(out);
    if (c == '<') {
      if (at_ + 1 < text_.size() && text_[at_ + 1] == '<') return dictionary(out, depth);
      return hexString(out);
    }
    if (isDelimiter(c)) return false;  // ) > ] { }
    const std::string_view token = regularToken();
    if (token == "true" || token == "false") {
      out.kind = Value::Kind::kBool;
      out.boolean = token == "true";
      return true;
    }
    if (token == "null") {
      out.kind = Value::Kind::kNull;
      return true;
    }
    const std::optional<double> number = numberOf(token);
    if (!number) return false;
    if (isUnsignedInteger(token) && reference(out, token)) return true;
    out.kind = Value::Kind::kNumber;
    out.number = *number;
    return true;
  }

 private:
  // After an unsigned integer: "gen R" makes it a reference; otherwise the
  // position is restored.
  bool reference(Value& out, std::string_view num) {
    const std::size_t saved = at_;
    skipWhite();
    const std::string_view gen = regularToken();
    if (isUnsignedInteger(gen)) {
      skipWhite();
      if (regularToken() == "R" && toInteger(gen) <= 65535) {
        out.kind = Value::Kind::kRef;
        out.ref_num = toInteger(num);
        out.ref_gen = static_cast<int>(toInteger(gen));
        return true;
      }
    }
    at_ = saved;
    return false;
  }

  bool name(Value& out) {
    ++at_;  // '/'
    const std::string_view raw = regularToken();
    out.kind = Value::Kind::kName;
    out.name.assign(1, '/');
    out.name.reserve(raw.size() + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '#') {
        out.name.push_back(raw[i]);
        continue;
      }
      const int hi = i + 1 < raw.size() ? hexValue(raw[i + 1]) : -1;
      const int lo = i + 2 < raw.size() ? hexValue(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
      out.name.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return true;
  }

  bool array(Value& out, int depth) {
    ++at_;  // '['
    out.kind = Value::Kind::kArray;
    for (;;) {
      skipWhite();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == ']') {
        ++at_;
        return true;
      }
      Value item;
      if (!object(item, depth + 1)) return false;
      out.items.push_back(std::move(item));
    }
  }

  bool dictionary(Value& out, int depth) {
    at_ += 2;  // "<<"
    out.kind = Value::Kind::kDict;
    for (;;) {
      skipWhite();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == '>') {
        if (at_ + 1 >= text_.size() || text_[at_ + 1] != '>') return false;
        at_ += 2;
        return true;
      }
      if (text_[at_] != '/') return false;
      Value key;
      if (!name(key)) return false;
      if (out.find(key.name) != nullptr) return false;  // duplicated key: let qpdf decide
      DictEntry entry{std::move(key.name), Value{}};
      if (!object(entry.value, depth + 1)) return false;
      out.entries.push_back(std::move(entry));
    }
  }

  bool literalString(Value& out) {
    ++at_;  // '('
    int open = 1;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '\\') {
        if (at_ >= text_.size()) return false;
        ++at_;  // the escaped character (octal digits that follow are plain)
      } else if (c == '(') {
        ++open;
      } else if (c == ')' && --open == 0) {
        out.kind = Value::Kind::kString;
        return true;
      }
    }
    return false;
  }

  bool hexString(Value& out) {
    ++at_;  // '<'
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '>') {
        out.kind = Value::Kind::kString;
        return true;
      }
      if (!isWhite(c) && hexValue(c) < 0) return false;
    }
    return false;
  }

  std::string_view text_;
  std::size_t at_;
};

}  // namespace

const Value* Value::find(std::string_view key) const {
  for (const DictEntry& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

std::optional<Value> parseObject(std::string_view text, std::size_t& at) {
  if (at > text.size()) return std::nullopt;
  Parser p(text, at);
  Value v;
  if (!p.object(v, 0)) return std::nullopt;
  at = p.position();
  return v;
}

std::optional<Value> parseIndirectObject(std::string_view file, std::size_t offset, int64_t num,
                                         int gen) {
  if (offset >= file.size()) return std::nullopt;
  Parser p(file, offset);
  p.skipWhite();
  const std::string_view n = p.regularToken();
  p.skipWhite();
  const std::string_view g = p.regularToken();
  p.skipWhite();
  if (!isUnsignedInteger(n) || !isUnsignedInteger(g) || toInteger(n) != num ||
      toInteger(g) != gen || p.regularToken() != "obj")
    return std::nullopt;
  Value v;
  if (!p.object(v, 0)) return std::nullopt;
  if (v.kind == Value::Kind::kDict) {
    p.skipWhite();
    if (p.regularToken() == "stream") v.kind = Value::Kind::kStream;
  }
  return v;
}

std::optional<std::vector<ObjectStreamEntry>> parseObjectStreamHeader(std::string_view data,
                                                                      int64_t n, int64_t first) {
  if (n <= 0 || first < 0 || static_cast<uint64_t>(first) > data.size()) return std::nullopt;
  // Each entry takes at least 4 bytes ("1 2 "), which also bounds a forged /N.
  if (static_cast<uint64_t>(n) > static_cast<uint64_t>(first) / 3 + 1) return std::nullopt;
  Parser p(data.substr(0, static_cast<std::size_t>(first)), 0);
  std::vector<ObjectStreamEntry> entries;
  entries.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    p.skipWhite();
    const std::string_view member = p.regularToken();
    p.skipWhite();
    const std::string_view offset = p.regularToken();
    if (!isUnsignedInteger(member) || !isUnsignedInteger(offset)) return std::nullopt;
    const uint64_t at = static_cast<uint64_t>(first) + static_cast<uint64_t>(toInteger(offset));
    if (at >= data.size()) return std::nullopt;
    entries.push_back({toInteger(member), static_cast<std::size_t>(at)});
  }
  return entries;
}

}  // namespace pullprint::spooler::analysis::pdf
