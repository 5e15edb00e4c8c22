// Policy document: the rules admins write (TOML, docs/policies.md), parsed
// once into a validated, immutable Policy that the evaluator
// (policies/evaluate.h) reads.
//
// What the parser guarantees (invariants of every Policy it returns):
//   - version >= 1; every key is known and has the right type; every value is
//     in range (max_copies >= 1, min_pages >= 1, min_pages <= max_pages,
//     hold timeouts 60 s .. 1 year, ...);
//   - every rule has a unique, non-reserved name and at least one action, and
//     no two of its actions contradict each other (force_two_sided with
//     force_one_sided, force_monochrome with allow_color, deny with anything);
//   - no scope can never match (empty lists, a submit-only rule scoped to
//     printers, a required printer group outside the rule's printer_groups);
//   - globs, CIDR networks and name lists are compiled for evaluation.
// Every problem is reported as "file:line:column: message"; the parser
// collects all of them (up to kMaxPolicyErrors), not only the first.
//
// Thread contract: parsing is reentrant. A Policy is immutable after parsing
// and may be read (evaluated) from any number of threads at once. It is
// move-only: share one with std::shared_ptr<const Policy>.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sides.h"
#include "core/status.h"

namespace pullprint::policies {

// IPP "sides" (core/sides.h), shared with the document analysis.
using pullprint::isTwoSided;
using pullprint::parseSides;
using pullprint::Sides;
using pullprint::toKeyword;
// IPP "print-color-mode" (PWG 5100.13), the three values policies act on.
enum class ColorMode { kAuto, kMonochrome, kColor };
// When a rule applies: at submit (no printer known yet) or at release.
enum class Stage { kSubmit, kRelease };

std::optional<ColorMode> parseColorMode(
    std::string_view keyword);  // "auto" | "monochrome" | "color"
std::string_view toKeyword(ColorMode mode);
std::string_view toKeyword(Stage stage);  // "submit" | "release"

// Limits the parser enforces.
inline constexpr std::int64_t kMinHoldTimeoutSeconds = 60;
inline constexpr std::int64_t kMaxHoldTimeoutSeconds = 366LL * 24 * 3600;
inline constexpr std::size_t kMaxPolicyErrors = 50;
inline constexpr std::size_t kMaxRules = 10000;

// Where something was written in the policy file (1-based; 0 = unknown).
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// One problem found while parsing. toString(): "file:line:column: message".
struct PolicyError {
  std::string source;
  int line = 0;
  int column = 0;
  std::string message;
  std::string toString() const;
};

// [defaults]: applied when the job does not say. Unset members fall back to
// the built-in defaults: one-sided, auto colour, the server's hold timeout,
// no direct printing.
struct Defaults {
  std::optional<Sides> sides;
  std::optional<ColorMode> color_mode;
  std::optional<std::int64_t> hold_timeout_seconds;
  std::optional<bool> allow_direct;
};

// Which jobs a rule applies to. Every member given must match (AND); within
// a list any element may match (OR). An empty list / nullopt is "any".
// A fact that is unknown (pages not counted, colour not analysed, no printer
// at submit) never matches a scope that asks about it.
struct RuleScope {
  std::optional<Stage> stage;               // nullopt: submit and release
  std::vector<std::string> queues;          // exact, case-sensitive
  std::vector<std::string> printers;        // printer names (release only)
  std::vector<std::string> printer_groups;  // printer groups (release only)
  std::vector<std::string> user_groups;     // any of the user's groups
  std::vector<std::string> users;           // exact, case-sensitive
  std::optional<std::int64_t> min_pages;    // pages of one copy, all documents
  std::optional<std::int64_t> max_pages;
  std::optional<std::int64_t> min_copies;
  std::vector<std::string> formats;         // document-format globs, case-insensitive
  std::optional<bool> color;                // the job wants colour (see evaluate.h)
  std::vector<std::string> document_names;  // document-name globs, case-insensitive
  std::vector<std::string> sources;         // CIDR networks of the submitting client
};

// What a rule does when it matches. At least one is set; see the header
// comment for the combinations the parser refuses.
struct RuleActions {
  std::optional<std::string> deny;  // message the user sees
  bool force_two_sided = false;
  bool force_one_sided = false;
  bool force_monochrome = false;
  bool allow_color = false;                // keep the colour the job asked for
  std::optional<std::int64_t> max_copies;  // copies are capped to this
  std::optional<std::int64_t> hold_timeout_seconds;
  std::optional<std::string> require_printer_group;  // release only there
  std::optional<bool> allow_direct;                  // may use the direct (unheld) queue
};

struct Rule {
  std::string name;  // unique; [A-Za-z0-9._-]{1,64}; not a reserved decider name
  std::string description;
  SourcePosition position;  // of the [[rule]] header
  RuleScope scope;
  RuleActions actions;
};

// [printer_defaults]: printer defaults the fleet push sets on every printer
// (docs/policies.md "Fleet push and drift"). Keys are IPP attribute names
// ending in "-default"; values are kept as text in their IPP form: a keyword
// ("two-sided-long-edge"), an enum keyword ("draft" for print-quality-default),
// an integer ("1") or a boolean ("true"/"false"). Document order is kept.
struct PrinterDefault {
  enum class Kind { kKeyword, kInteger, kBoolean };
  std::string name;   // "sides-default"
  std::string value;  // "two-sided-long-edge"
  Kind kind = Kind::kKeyword;
  SourcePosition position;  // of the key
  // The job-template attribute the default is for: "sides" for "sides-default".
  std::string option() const { return name.substr(0, name.size() - 8); }
};

namespace detail {
struct CompiledPolicy;  // policies/compiled.h (private to the module)
class PolicyParser;
}  // namespace detail

class Policy {
 public:
  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;
  ~Policy();

  std::int64_t version() const { return version_; }
  const std::string& source() const { return source_; }  // file name given to the parser
  const Defaults& defaults() const { return defaults_; }
  const std::vector<Rule>& rules() const { return rules_; }  // in document (precedence) order
  // [printer_defaults], in document order; empty when the table is absent.
  const std::vector<PrinterDefault>& printerDefaults() const { return printer_defaults_; }

  // The compiled form the evaluator uses; not part of the public API.
  const detail::CompiledPolicy& compiled() const { return *compiled_; }

 private:
  friend class detail::PolicyParser;
  Policy();

  std::int64_t version_ = 0;
  std::string source_;
  Defaults defaults_;
  std::vector<Rule> rules_;
  std::vector<PrinterDefault> printer_defaults_;
  std::unique_ptr<detail::CompiledPolicy> compiled_;
};

// Parses and validates a policy document. `source` names it in errors
// (usually the file path). On failure the Status is kInvalidArgument and its
// message holds every error, one "file:line:column: message" per line; the
// same errors are appended to `errors` when it is not null.
Result<Policy> parsePolicy(std::string_view toml, const std::string& source,
                           std::vector<PolicyError>* errors = nullptr);

// Reads `path` and parses it (kNotFound if it cannot be read).
Result<Policy> loadPolicyFile(const std::filesystem::path& path,
                              std::vector<PolicyError>* errors = nullptr);

// A policy may replace the active one only with a higher version.
Status checkReplacement(const Policy& current, const Policy& next);

// Human-readable summary: version, defaults, one line per rule.
std::string summarizePolicy(const Policy& policy);

}  // namespace pullprint::policies
