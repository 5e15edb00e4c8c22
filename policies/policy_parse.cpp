// Policy document parser: TOML -> validated Policy + compiled form.
//
// Steps: toml++ parses (syntax errors stop here, with their position); the
// top level, [defaults] and each [[rule]] are read with a TableReader that
// type-checks every key and remembers which keys it read, so anything left
// over is an unknown key; then each rule is validated as a whole (required
// name, conflicting actions, impossible scopes) and compiled. All errors are
// collected with their file:line:column; the first kMaxPolicyErrors are kept.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/cidr.h"
#include "policies/compiled.h"
#include "policies/policy.h"

namespace pullprint::policies {

namespace detail {

namespace {

SourcePosition positionOf(const toml::source_region& r) {
  return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

bool before(SourcePosition a, SourcePosition b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

bool validRuleName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Names the decision record uses for deciders other than rules.
bool reservedName(std::string_view name) {
  return name == "request" || name == "defaults" || name == "printer-capabilities" ||
         name == "server-config";
}

// Built by appends: GCC 12 -O3 reports a false -Wrestrict for "'" + s + "'".
std::string inQuotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

}  // namespace

class PolicyParser {
 public:
  PolicyParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Result<Policy> run(std::vector<PolicyError>* out);

 private:
  class TableReader;

  void error(SourcePosition at, std::string message) {
    if (errors_.size() >= kMaxPolicyErrors) {
      truncated_ = true;
      return;
    }
    errors_.push_back({source_, at.line, at.column, std::move(message)});
  }
  void error(const toml::node& n, std::string message) {
    error(positionOf(n.source()), std::move(message));
  }

  void readDefaults(const toml::node& node);
  void readPrinterDefaults(const toml::node& node);
  void readRule(const toml::node& node);
  void compileRule(const Rule& rule, const TableReader& reader);
  std::int32_t globIndex(const std::string& pattern);

  std::string_view text_;
  const std::string& source_;
  std::vector<PolicyError> errors_;
  bool truncated_ = false;
  Policy policy_;
  CompiledPolicy* compiled_ = nullptr;
  std::map<std::string, SourcePosition> rule_names_;
  std::map<std::string, std::int32_t> glob_index_;
  std::map<std::string, std::int32_t> cidr_index_;
};

// Reads typed values from one table and reports type/range errors at the
// value's position. Every key read (present or not) is remembered;
// rejectUnknown() reports the rest.
class PolicyParser::TableReader {
 public:
  TableReader(const toml::table& t, std::string context, PolicyParser& parser)
      : t_(t), context_(std::move(context)), parser_(parser) {}

  const std::string& context() const { return context_; }
  void setContext(std::string context) { context_ = std::move(context); }

  // The key's own position, or the table's when the key is absent.
  SourcePosition keyPosition(std::string_view key) const {
    auto it = t_.find(key);
    if (it == t_.end()) return positionOf(t_.source());
    return positionOf(it->first.source());
  }
  const toml::node* node(std::string_view key) {
    seen_.insert(std::string(key));
    return t_.get(key);
  }
  bool has(std::string_view key) const { return t_.contains(key); }

  void fail(const toml::node& n, std::string_view key, std::string_view want) {
    parser_.error(n, context_ + ": " + std::string(key) + " must be " + std::string(want));
  }

  void getBool(std::string_view key, std::optional<bool>* out) {
    const toml::node* n = node(key);
    if (!n) return;
    if (auto v = n->value_exact<bool>())
      *out = *v;
    else
      fail(*n, key, "true or false");
  }

  // `true` is the only meaningful value of a force_* / allow_color flag.
  void getTrueFlag(std::string_view key, bool* out) {
    const toml::node* n = node(key);
    if (!n) return;
    auto v = n->value_exact<bool>();
    if (!v) return fail(*n, key, "true");
    if (!*v) {
      parser_.error(
          *n, context_ + ": " + std::string(key) + " = false does nothing; remove the key instead");
      return;
    }
    *out = true;
  }

  void getInt(std::string_view key, std::optional<std::int64_t>* out, std::int64_t min,
              std::int64_t max, std::string_view range_hint) {
    const toml::node* n = node(key);
    if (!n) return;
    auto v = n->value_exact<std::int64_t>();
    if (!v) return fail(*n, key, "an integer");
    if (*v < min || *v > max) {
      parser_.error(*n, context_ + ": " + std::string(key) + " = " + std::to_string(*v) +
                            " is impossible: " + std::string(range_hint));
      return;
    }
    *out = *v;
  }

  void getString(std::string_view key, std::optional<std::string>* out, std::size_t max_len) {
    const toml::node* n = node(key);
    if (!n) return;
    auto v = n->value_exact<std::string>();
    if (!v) return fail(*n, key, "a string");
    if (v->empty()) return fail(*n, key, "a non-empty string");
    if (v->size() > max_len) return fail(*n, key, "at most " + std::to_string(max_len) + " bytes");
    *out = std::move(*v);
  }

  // A non-empty array of non-empty strings (or, if allowed, one string).
  // `positions` receives each element's position.
  void getStringList(std::string_view key, std::vector<std::string>* out,
                     std::vector<SourcePosition>* positions, bool allow_single) {
    const toml::node* n = node(key);
    if (!n) return;
    const char* want = allow_single ? "a string or an array of strings" : "an array of strings";
    if (allow_single) {
      if (auto v = n->value_exact<std::string>()) {
        if (v->empty()) return fail(*n, key, "a non-empty string");
        out->push_back(std::move(*v));
        positions->push_back(positionOf(n->source()));
        return;
      }
    }
    const toml::array* arr = n->as_array();
    if (!arr) return fail(*n, key, want);
    if (arr->empty()) {
      parser_.error(*n, context_ + ": " + std::string(key) +
                            " = [] never matches; remove the key to match any");
      return;
    }
    std::vector<std::string> values;
    std::vector<SourcePosition> where;
    for (const toml::node& e : *arr) {
      auto v = e.value_exact<std::string>();
      if (!v) return fail(e, key, want);
      if (v->empty()) return fail(e, key, "made of non-empty strings");
      values.push_back(std::move(*v));
      where.push_back(positionOf(e.source()));
    }
    *out = std::move(values);
    *positions = std::move(where);
  }

  void rejectUnknown(std::string_view expected) {
    for (auto&& [k, v] : t_) {
      if (!seen_.count(std::string(k.str()))) {
        parser_.error(positionOf(k.source()), context_ + ": unknown key " + inQuotes(k.str()) +
                                                  " (expected one of: " + std::string(expected) +
                                                  ")");
      }
    }
  }

  // Element positions of list scopes, for error messages during compile.
  std::map<std::string, std::vector<SourcePosition>> list_positions;

 private:
  const toml::table& t_;
  std::string context_;
  PolicyParser& parser_;
  std::set<std::string> seen_;
};

Result<Policy> PolicyParser::run(std::vector<PolicyError>* out) {
  policy_.source_ = source_;
  policy_.compiled_ = std::make_unique<CompiledPolicy>();
  compiled_ = policy_.compiled_.get();

  toml::table root;
  try {
    root = toml::parse(text_, source_);
  } catch (const toml::parse_error& e) {
    error(positionOf(e.source()), std::string(e.description()));
  }

  if (errors_.empty()) {
    // Top level: version, [defaults], [[rule]].
    for (auto&& [k, v] : root) {
      std::string_view key = k.str();
      if (key != "version" && key != "defaults" && key != "rule" && key != "printer_defaults")
        error(positionOf(k.source()),
              "unknown top-level key " + inQuotes(key) +
                  " (expected version, [defaults], [printer_defaults], [[rule]])");
    }
    if (const toml::node* n = root.get("version")) {
      auto v = n->value_exact<std::int64_t>();
      if (!v)
        error(*n, "version must be an integer");
      else if (*v < 1)
        error(*n, "version must be at least 1");
      else
        policy_.version_ = *v;
    } else {
      error(SourcePosition{1, 1},
            "version is required (an integer that increases with every change)");
    }
    if (const toml::node* n = root.get("defaults")) readDefaults(*n);
    if (const toml::node* n = root.get("printer_defaults")) readPrinterDefaults(*n);
    if (const toml::node* n = root.get("rule")) {
      const toml::array* arr = n->as_array();
      if (!arr || !arr->is_array_of_tables()) {
        error(*n, "rules are written as [[rule]] tables");
      } else if (arr->size() > kMaxRules) {
        error(*n, "more than " + std::to_string(kMaxRules) + " rules");
      } else {
        for (const toml::node& e : *arr) readRule(e);
      }
    }
  }

  if (!errors_.empty()) {
    // Report in document order (toml++ iterates keys in name order).
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const PolicyError& a, const PolicyError& b) {
                       return a.line != b.line ? a.line < b.line : a.column < b.column;
                     });
    std::string message;
    for (const auto& e : errors_) {
      if (!message.empty()) message += '\n';
      message += e.toString();
    }
    if (truncated_)
      message += "\n" + source_ + ": too many errors; only the first " +
                 std::to_string(kMaxPolicyErrors) + " are shown";
    if (out) out->insert(out->end(), errors_.begin(), errors_.end());
    return Status(StatusCode::kInvalidArgument, message);
  }
  return std::move(policy_);
}

void PolicyParser::readDefaults(const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) return error(node, "[defaults] must be a table");
  TableReader r(*t, "[defaults]", *this);
  Defaults& d = policy_.defaults_;

  std::optional<std::string> sides, color;
  r.getString("sides", &sides, 64);
  if (sides) {
    d.sides = parseSides(*sides);
    if (!d.sides)
      error(*r.node("sides"),
            "[defaults]: unknown sides " + inQuotes(*sides) +
                " (expected one-sided, two-sided-long-edge, two-sided-short-edge)");
  }
  r.getString("color_mode", &color, 64);
  if (color) {
    d.color_mode = parseColorMode(*color);
    if (!d.color_mode)
      error(*r.node("color_mode"), "[defaults]: unknown color_mode " + inQuotes(*color) +
                                       " (expected auto, monochrome, color)");
  }
  r.getInt("hold_timeout_seconds", &d.hold_timeout_seconds, kMinHoldTimeoutSeconds,
           kMaxHoldTimeoutSeconds, "must be 60 .. 31622400 (one minute to one year)");
  r.getBool("allow_direct", &d.allow_direct);
  r.rejectUnknown("sides, color_mode, hold_timeout_seconds, allow_direct");
}

// [printer_defaults]: "<attribute>-default" = keyword | integer | boolean.
// Attributes whose values we know are checked strictly; any other xxx-default
// is accepted as long as its value is a plain keyword, integer or boolean
// (whether a printer supports it is known only when it is pushed).
void PolicyParser::readPrinterDefaults(const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) return error(node, "[printer_defaults] must be a table");
  auto keywordChars = [](std::string_view v) {
    if (v.empty() || v.size() > 255) return false;
    for (char c : v)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
        return false;
    return true;
  };
  struct Known {
    const char* name;
    std::vector<std::string_view> keywords;  // empty: an integer attribute
    std::int64_t min = 0, max = 0;
  };
  static const std::vector<Known> kKnown = {
      {"sides-default", {"one-sided", "two-sided-long-edge", "two-sided-short-edge"}},
      {"print-color-mode-default",
       {"auto", "auto-monochrome", "bi-level", "color", "highlight", "monochrome",
        "process-bi-level", "process-monochrome"}},
      {"print-quality-default", {"draft", "normal", "high"}},
      {"print-content-optimize-default", {"auto", "graphic", "photo", "text", "text-and-graphic"}},
      {"copies-default", {}, 1, 999},
      {"number-up-default", {}, 1, 16},
  };
  std::vector<PrinterDefault> out;
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    SourcePosition at = positionOf(k.source());
    std::string ctx = "[printer_defaults]: " + key;
    bool name_ok = key.size() > 8 && key.size() <= 64 && key.ends_with("-default") &&
                   keywordChars(key) && key[0] >= 'a' && key[0] <= 'z';
    if (!name_ok) {
      error(at, "[printer_defaults]: " + inQuotes(key) +
                    " is not an IPP default attribute (expected a name such as sides-default "
                    "or print-color-mode-default)");
      continue;
    }
    PrinterDefault d;
    d.name = key;
    d.position = at;
    if (auto s = v.value_exact<std::string>()) {
      if (!keywordChars(*s)) {
        error(v, ctx + " = " + inQuotes(*s) + " is not an IPP keyword (a-z 0-9 - _ .)");
        continue;
      }
      d.value = *s;
      d.kind = PrinterDefault::Kind::kKeyword;
    } else if (auto i = v.value_exact<std::int64_t>()) {
      if (*i < -2147483648LL || *i > 2147483647LL) {
        error(v, ctx + " = " + std::to_string(*i) + " does not fit an IPP integer");
        continue;
      }
      d.value = std::to_string(*i);
      d.kind = PrinterDefault::Kind::kInteger;
    } else if (auto b = v.value_exact<bool>()) {
      d.value = *b ? "true" : "false";
      d.kind = PrinterDefault::Kind::kBoolean;
    } else {
      error(v, ctx + " must be a keyword string, an integer or a boolean");
      continue;
    }
    auto known =
        std::find_if(kKnown.begin(), kKnown.end(), [&](const Known& kn) { return key == kn.name; });
    if (known != kKnown.end()) {
      if (known->keywords.empty()) {
        if (d.kind != PrinterDefault::Kind::kInteger) {
          error(v, ctx + " must be an integer");
          continue;
        }
        std::int64_t n = std::stoll(d.value);
        if (n < known->min || n > known->max) {
          error(v, ctx + " = " + d.value + " is impossible: must be " + std::to_string(known->min) +
                       " .. " + std::to_string(known->max));
          continue;
        }
      } else {
        if (d.kind != PrinterDefault::Kind::kKeyword ||
            std::find(known->keywords.begin(), known->keywords.end(), d.value) ==
                known->keywords.end()) {
          std::string list;
          for (auto kw : known->keywords) list += (list.empty() ? "" : ", ") + std::string(kw);
          error(v, ctx + ": unknown value " + inQuotes(d.value) + " (expected " + list + ")");
          continue;
        }
      }
    }
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const PrinterDefault& a, const PrinterDefault& b) {
    return before(a.position, b.position);
  });
  policy_.printer_defaults_ = std::move(out);
}

void PolicyParser::readRule(const toml::node& node) {
  const toml::table& t = *node.as_table();
  const std::size_t index = policy_.rules_.size() + 1;
  TableReader r(t, "rule #" + std::to_string(index), *this);
  Rule rule;
  rule.position = positionOf(t.source());

  // Identity.
  std::optional<std::string> name, description;
  const std::size_t errors_at_name = errors_.size();
  r.getString("name", &name, 64);
  if (name) {
    if (!validRuleName(*name)) {
      error(*r.node("name"),
            r.context() + ": name " + inQuotes(*name) + " must be 1-64 of A-Z a-z 0-9 . _ -");
    } else if (reservedName(*name)) {
      error(*r.node("name"), r.context() + ": name " + inQuotes(*name) +
                                 " is reserved (request, defaults, printer-capabilities and "
                                 "server-config name deciders in decisions)");
    } else if (auto [it, inserted] = rule_names_.try_emplace(*name, r.keyPosition("name"));
               !inserted) {
      error(*r.node("name"), r.context() + ": name " + inQuotes(*name) +
                                 " is already used by the rule at line " +
                                 std::to_string(it->second.line));
    }
    rule.name = *name;
    if (errors_.size() == errors_at_name) r.setContext("rule " + inQuotes(*name));
  } else if (!r.has("name")) {
    error(rule.position, r.context() + ": name is required");
  }
  r.getString("description", &description, 4096);
  if (description) rule.description = *description;

  // Scope.
  RuleScope& s = rule.scope;
  std::optional<std::string> stage;
  r.getString("stage", &stage, 64);
  if (stage) {
    if (*stage == "submit")
      s.stage = Stage::kSubmit;
    else if (*stage == "release")
      s.stage = Stage::kRelease;
    else
      error(*r.node("stage"), r.context() + ": unknown stage " + inQuotes(*stage) +
                                  " (expected submit or release; leave it out for both)");
  }
  auto list = [&](const char* key, std::vector<std::string>* out, bool allow_single = false) {
    r.getStringList(key, out, &r.list_positions[key], allow_single);
  };
  list("queues", &s.queues);
  list("printers", &s.printers);
  list("printer_groups", &s.printer_groups);
  list("user_groups", &s.user_groups);
  list("users", &s.users);
  list("formats", &s.formats);
  list("document_name", &s.document_names, /*allow_single=*/true);
  list("sources", &s.sources);
  constexpr std::int64_t kBig = std::int64_t{1} << 40;
  r.getInt("min_pages", &s.min_pages, 1, kBig, "pages start at 1 (leave it out to match any)");
  r.getInt("max_pages", &s.max_pages, 1, kBig, "must be at least 1");
  r.getInt("min_copies", &s.min_copies, 1, kBig, "copies start at 1 (leave it out to match any)");
  r.getBool("color", &s.color);

  // Actions.
  RuleActions& a = rule.actions;
  r.getString("deny", &a.deny, 1023);  // shown as job-state-message: text(1023)
  r.getTrueFlag("force_two_sided", &a.force_two_sided);
  r.getTrueFlag("force_one_sided", &a.force_one_sided);
  r.getTrueFlag("force_monochrome", &a.force_monochrome);
  r.getTrueFlag("allow_color", &a.allow_color);
  r.getInt("max_copies", &a.max_copies, 1, kBig,
           "a job needs at least 1 copy (use deny to refuse jobs)");
  r.getInt("hold_timeout_seconds", &a.hold_timeout_seconds, kMinHoldTimeoutSeconds,
           kMaxHoldTimeoutSeconds, "must be 60 .. 31622400 (one minute to one year)");
  r.getString("require_printer_group", &a.require_printer_group, 256);
  r.getBool("allow_direct", &a.allow_direct);

  r.rejectUnknown(
      "name, description, stage, queues, printers, printer_groups, user_groups, users, "
      "min_pages, max_pages, min_copies, formats, color, document_name, sources, deny, "
      "force_two_sided, force_one_sided, force_monochrome, allow_color, max_copies, "
      "hold_timeout_seconds, require_printer_group, allow_direct");

  // Whole-rule checks: conflicting actions, impossible scopes.
  const std::string& ctx = r.context();
  auto conflict = [&](const char* k1, const char* k2, const char* why) {
    SourcePosition p1 = r.keyPosition(k1), p2 = r.keyPosition(k2);
    const char* later = before(p1, p2) ? k2 : k1;
    const char* earlier = later == k1 ? k2 : k1;
    SourcePosition at = before(p1, p2) ? p2 : p1;
    SourcePosition other = before(p1, p2) ? p1 : p2;
    error(at, ctx + ": " + later + " conflicts with " + earlier + " (line " +
                  std::to_string(other.line) + "): " + why);
  };
  if (a.force_two_sided && a.force_one_sided)
    conflict("force_two_sided", "force_one_sided", "one rule cannot force both");
  if (a.force_monochrome && a.allow_color)
    conflict("force_monochrome", "allow_color", "one rule cannot force and allow colour");
  if (a.deny) {
    for (const char* k :
         {"force_two_sided", "force_one_sided", "force_monochrome", "allow_color", "max_copies",
          "hold_timeout_seconds", "require_printer_group", "allow_direct"}) {
      if (r.has(k))
        conflict("deny", k, "a denied job is not printed, so other actions mean nothing");
    }
  }
  const bool any_action = a.deny || a.force_two_sided || a.force_one_sided || a.force_monochrome ||
                          a.allow_color || a.max_copies || a.hold_timeout_seconds ||
                          a.require_printer_group || a.allow_direct;
  const bool any_action_key =
      r.has("deny") || r.has("force_two_sided") || r.has("force_one_sided") ||
      r.has("force_monochrome") || r.has("allow_color") || r.has("max_copies") ||
      r.has("hold_timeout_seconds") || r.has("require_printer_group") || r.has("allow_direct");
  if (!any_action && !any_action_key)
    error(rule.position, ctx +
                             ": the rule has no action (deny, force_two_sided, force_one_sided, "
                             "force_monochrome, allow_color, max_copies, hold_timeout_seconds, "
                             "require_printer_group, allow_direct)");
  if (s.min_pages && s.max_pages && *s.min_pages > *s.max_pages)
    error(r.keyPosition("max_pages"), ctx + ": max_pages " + std::to_string(*s.max_pages) +
                                          " is below min_pages " + std::to_string(*s.min_pages) +
                                          ": the rule can never match");
  if (s.stage == Stage::kSubmit) {
    for (const char* k : {"printers", "printer_groups", "require_printer_group"}) {
      if (r.has(k))
        error(r.keyPosition(k), ctx + ": " + k +
                                    " needs a printer, which is known only at "
                                    "release, but the rule has stage = \"submit\"");
    }
  }
  if (a.require_printer_group && !s.printer_groups.empty() &&
      std::find(s.printer_groups.begin(), s.printer_groups.end(), *a.require_printer_group) ==
          s.printer_groups.end())
    error(r.keyPosition("require_printer_group"),
          ctx + ": require_printer_group " + inQuotes(*a.require_printer_group) +
              " is outside the rule's printer_groups: every release it matches would be denied");

  // Compiled even when it has errors, so later rules keep their numbers and
  // further errors are still found; a policy with errors is never returned.
  compileRule(rule, r);
  policy_.rules_.push_back(std::move(rule));
}

std::int32_t PolicyParser::globIndex(const std::string& pattern) {
  auto it = glob_index_.find(pattern);
  if (it != glob_index_.end()) return it->second;
  auto g = Glob::compile(pattern);
  if (!g) return -1;
  auto index = static_cast<std::int32_t>(compiled_->globs.size());
  compiled_->globs.push_back(std::move(g.value()));
  glob_index_.emplace(pattern, index);
  return index;
}

void PolicyParser::compileRule(const Rule& rule, const TableReader& reader) {
  const RuleScope& s = rule.scope;
  const RuleActions& a = rule.actions;
  CompiledRule c;
  if (s.stage) c.stages = *s.stage == Stage::kSubmit ? 1 : 2;
  if (s.color) c.color = *s.color ? 1 : 0;
  c.min_pages = s.min_pages.value_or(-1);
  c.max_pages = s.max_pages.value_or(-1);
  c.min_copies = s.min_copies.value_or(-1);

  auto intern = [](Interner& in, const std::vector<std::string>& names) {
    std::vector<Id> ids;
    for (const auto& n : names) ids.push_back(in.intern(n));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  c.queues = intern(compiled_->queues, s.queues);
  c.users = intern(compiled_->users, s.users);
  c.user_groups = intern(compiled_->groups, s.user_groups);
  c.printers = intern(compiled_->printers, s.printers);
  c.printer_groups = intern(compiled_->printer_groups, s.printer_groups);

  auto globs = [&](const char* key, const std::vector<std::string>& patterns) {
    std::vector<std::int32_t> out;
    const auto& where = reader.list_positions.at(key);
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      std::int32_t g = globIndex(patterns[i]);
      if (g < 0) {
        auto why = Glob::compile(patterns[i]).status().message();
        error(where[i],
              reader.context() + ": " + key + " pattern " + inQuotes(patterns[i]) + ": " + why);
        continue;
      }
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    }
    return out;
  };
  c.formats = globs("formats", s.formats);
  c.document_names = globs("document_name", s.document_names);

  if (!s.sources.empty()) {
    const auto& where = reader.list_positions.at("sources");
    bool ok = true;
    for (std::size_t i = 0; i < s.sources.size(); ++i) {
      auto one = CidrSet::parse({s.sources[i]});
      if (!one) {
        error(where[i], reader.context() + ": sources: " + one.status().message() +
                            " (expected an IPv4 or IPv6 network such as 10.0.0.0/8)");
        ok = false;
      }
    }
    if (ok) {
      std::vector<std::string> sorted = s.sources;
      std::sort(sorted.begin(), sorted.end());
      std::string key;
      for (const auto& e : sorted) key += e + ",";
      auto it = cidr_index_.find(key);
      if (it == cidr_index_.end()) {
        auto set = NetworkSet::parse(s.sources);
        it = cidr_index_.emplace(key, static_cast<std::int32_t>(compiled_->cidr_sets.size())).first;
        compiled_->cidr_sets.push_back(std::move(set.value()));
      }
      c.sources = it->second;
    }
  }

  if (a.force_two_sided || a.force_one_sided) c.actions |= kActSides;
  if (a.force_monochrome || a.allow_color) c.actions |= kActColor;
  if (a.max_copies) c.actions |= kActMaxCopies;
  if (a.hold_timeout_seconds) c.actions |= kActHoldTimeout;
  if (a.require_printer_group) c.actions |= kActPrinterGroup;
  if (a.allow_direct) c.actions |= kActDirect;
  if (a.deny) c.actions |= kActDeny;
  compiled_->all_actions |= c.actions;
  compiled_->rules.push_back(std::move(c));
}

}  // namespace detail

Result<Policy> parsePolicy(std::string_view toml, const std::string& source,
                           std::vector<PolicyError>* errors) {
  detail::PolicyParser parser(toml, source);
  return parser.run(errors);
}

Result<Policy> loadPolicyFile(const std::filesystem::path& path, std::vector<PolicyError>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errors) errors->push_back({path.string(), 0, 0, "cannot open policy file"});
    return Status(StatusCode::kNotFound, path.string() + ": cannot open policy file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parsePolicy(ss.str(), path.string(), errors);
}

}  // namespace pullprint::policies
