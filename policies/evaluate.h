// Policy evaluation: JobFacts (+ the printer at release) -> Decision, with
// the decider of every attribute named.
//
// Design notes: how an attribute is decided (docs/policies.md has examples)
//
//   step | who                    | what
//   -----+------------------------+-------------------------------------------------
//   1    | "request"              | what the job asked for (sides, print-color-mode,
//        |                        | copies), when it said
//   2    | "defaults"             | [defaults] (or the built-in default) when it did not
//   3    | rule (first match)     | rules are walked in document order; for each
//        |                        | attribute the FIRST matching rule that sets it
//        |                        | wins; later rules cannot change it
//   4    | rule (first deny)      | deny wins over everything: the job is denied
//        |                        | even if an earlier rule set attributes
//   5    | "printer-capabilities" | at release only: a simplex printer is never asked
//        |                        | for duplex, a mono printer never for colour
//   6    | require_printer_group  | at release only: a printer outside the required
//        |                        | group denies the release (unless already denied)
//
// Stages: `printer == nullptr` is the submit-time evaluation; rules scoped to
// printers or printer groups, and rules with stage = "release", do not match
// then. With a printer it is the release-time evaluation (the final word).
// Unknown facts (pages, colour content) never match a scope that asks for
// them.
//
// Purity: evaluate() does no I/O and reads no clock (`now` is a parameter);
// the same inputs always give the same Decision. It allocates only when it
// denies (the message) or when a job has more than 32 user groups.
//
// Lifetimes: DecidedBy::name and Decision::required_printer_group view
// strings owned by the Policy (or static strings); they stay valid while the
// Policy lives. Copy them (describeDecision(), std::string) to keep longer.
//
// Thread contract: evaluate() is reentrant; any number of threads may
// evaluate against one Policy at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "policies/policy.h"

namespace pullprint::policies {

// What is known about a job when it is evaluated.
struct JobFacts {
  std::string queue;                     // queue it was submitted to
  std::string user;                      // authenticated / trusted user name
  std::vector<std::string> user_groups;  // the user's groups
  std::string source_address;            // submitting client, text form ("10.1.2.3", "::1")
  std::optional<std::int64_t> pages;     // one copy, all documents; nullopt: unknown
  std::int64_t copies = 1;               // IPP copies (values < 1 are treated as 1)
  std::string format;                    // document-format
  std::optional<ColorMode> color_mode;   // print-color-mode asked for; nullopt: not said
  std::optional<bool> has_color;         // analysis: the document has colour; nullopt: unknown
  std::string document_name;             // document-name (or job-name)
  std::optional<Sides> sides;            // sides asked for; nullopt: not said

  // The `color` scope: 1 wants colour, 0 wants monochrome, -1 unknown.
  // print-color-mode color/monochrome decide; auto (or not said) falls back
  // to the analysed content.
  int wantsColor() const;
};

// The printer a job is being released to.
struct PrinterFacts {
  std::string name;
  std::string group;
  bool supports_duplex = true;
  bool supports_color = true;
};

enum class DeciderKind {
  kRequest,              // name "request"
  kDefaults,             // name "defaults": [defaults] or the built-in default
  kRule,                 // name = the rule's name, rule_index = its 0-based position
  kPrinterCapabilities,  // name "printer-capabilities"
  kServerConfig,         // name "server-config": the server's own setting applies
};

struct DecidedBy {
  DeciderKind kind = DeciderKind::kDefaults;
  int rule_index = -1;  // for kRule
  std::string_view name = "defaults";
};

template <typename T>
struct Decided {
  T value{};
  DecidedBy by;
};

struct Decision {
  // Denial. denied_by is the deny rule, or the rule whose
  // require_printer_group the printer does not satisfy; meaningless (and
  // deny_message empty) when !denied. Other attributes are still decided for
  // a denied job, so the record shows what it would have been.
  bool denied = false;
  std::string deny_message;  // shown to the user (job-state-message)
  DecidedBy denied_by;

  Decided<Sides> sides;
  Decided<ColorMode> color_mode;
  Decided<std::int64_t> copies;                     // after max_copies
  Decided<std::optional<std::int64_t>> max_copies;  // the cap that applied, if any
  // nullopt: no policy value, the server's [hold].timeout_seconds applies
  // (decided by "server-config").
  Decided<std::optional<std::int64_t>> hold_timeout_seconds;
  std::optional<UnixSeconds> hold_expires_at;  // now + hold_timeout_seconds
  Decided<std::optional<std::string_view>> required_printer_group;
  Decided<bool> allow_direct;
};

Decision evaluate(const JobFacts& job, const PrinterFacts* printer, const Policy& policy,
                  UnixSeconds now);

// 0-based indexes of every rule whose scope matches (whether or not it
// decided anything): for "why did this happen" tooling, not the hot path.
std::vector<int> matchingRules(const JobFacts& job, const PrinterFacts* printer,
                               const Policy& policy);

// "sides=two-sided-long-edge(rule:duplex) color_mode=monochrome(defaults) ..."
// One line, stable field order; what the server records with the job.
std::string describeDecision(const Decision& decision);
std::string describeDecider(const DecidedBy& by);  // "request", "rule:NAME", ...

}  // namespace pullprint::policies
