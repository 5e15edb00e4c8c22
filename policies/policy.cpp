#include "policies/policy.h"

#include "policies/compiled.h"

namespace pullprint::policies {

std::optional<ColorMode> parseColorMode(std::string_view k) {
  if (k == "auto") return ColorMode::kAuto;
  if (k == "monochrome") return ColorMode::kMonochrome;
  if (k == "color") return ColorMode::kColor;
  return std::nullopt;
}

std::string_view toKeyword(ColorMode mode) {
  switch (mode) {
    case ColorMode::kAuto:
      return "auto";
    case ColorMode::kMonochrome:
      return "monochrome";
    case ColorMode::kColor:
      return "color";
  }
  return "auto";
}

std::string_view toKeyword(Stage stage) { return stage == Stage::kSubmit ? "submit" : "release"; }

std::string PolicyError::toString() const {
  if (line <= 0) return source + ": " + message;
  return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Policy::Policy() = default;
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Status checkReplacement(const Policy& current, const Policy& next) {
  if (next.version() <= current.version())
    return Status(StatusCode::kFailedPrecondition,
                  next.source() + ": version " + std::to_string(next.version()) +
                      " is not above the active policy's version " +
                      std::to_string(current.version()) + "; increase version with every change");
  return Status::ok();
}

namespace {

void appendList(std::string* out, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  *out += ' ';
  *out += key;
  *out += '=';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) *out += ',';
    *out += values[i];
  }
}

void appendInt(std::string* out, const char* key, const std::optional<std::int64_t>& v) {
  if (!v) return;
  *out += ' ';
  *out += key;
  *out += '=';
  *out += std::to_string(*v);
}

}  // namespace

std::string summarizePolicy(const Policy& policy) {
  const Defaults& d = policy.defaults();
  std::string s = policy.source() + ": version " + std::to_string(policy.version()) + ", " +
                  std::to_string(policy.rules().size()) + " rule" +
                  (policy.rules().size() == 1 ? "" : "s") + "\n";
  s += "defaults: sides=" + std::string(toKeyword(d.sides.value_or(Sides::kOneSided))) +
       (d.sides ? "" : " (built-in)") +
       " color_mode=" + std::string(toKeyword(d.color_mode.value_or(ColorMode::kAuto))) +
       (d.color_mode ? "" : " (built-in)") + " hold_timeout_seconds=" +
       (d.hold_timeout_seconds ? std::to_string(*d.hold_timeout_seconds)
                               : std::string("server-config")) +
       " allow_direct=" + (d.allow_direct.value_or(false) ? "true" : "false") + "\n";
  if (!policy.printerDefaults().empty()) {
    s += "printer_defaults:";
    for (const PrinterDefault& pd : policy.printerDefaults()) s += " " + pd.name + "=" + pd.value;
    s += "\n";
  }
  int n = 0;
  for (const Rule& r : policy.rules()) {
    const RuleScope& sc = r.scope;
    const RuleActions& a = r.actions;
    s += std::to_string(++n) + ". " + r.name + " (line " + std::to_string(r.position.line) + ")";
    std::string scope;
    if (sc.stage) scope += " stage=" + std::string(toKeyword(*sc.stage));
    appendList(&scope, "queues", sc.queues);
    appendList(&scope, "printers", sc.printers);
    appendList(&scope, "printer_groups", sc.printer_groups);
    appendList(&scope, "user_groups", sc.user_groups);
    appendList(&scope, "users", sc.users);
    appendInt(&scope, "min_pages", sc.min_pages);
    appendInt(&scope, "max_pages", sc.max_pages);
    appendInt(&scope, "min_copies", sc.min_copies);
    appendList(&scope, "formats", sc.formats);
    if (sc.color) scope += std::string(" color=") + (*sc.color ? "true" : "false");
    appendList(&scope, "document_name", sc.document_names);
    appendList(&scope, "sources", sc.sources);
    s += " when" + (scope.empty() ? std::string(" any job") : scope);
    std::string act;
    if (a.deny) act += " deny=\"" + *a.deny + "\"";
    if (a.force_two_sided) act += " force_two_sided";
    if (a.force_one_sided) act += " force_one_sided";
    if (a.force_monochrome) act += " force_monochrome";
    if (a.allow_color) act += " allow_color";
    appendInt(&act, "max_copies", a.max_copies);
    appendInt(&act, "hold_timeout_seconds", a.hold_timeout_seconds);
    if (a.require_printer_group) act += " require_printer_group=" + *a.require_printer_group;
    if (a.allow_direct) act += std::string(" allow_direct=") + (*a.allow_direct ? "true" : "false");
    s += " ->" + act + "\n";
  }
  return s;
}

}  // namespace pullprint::policies
