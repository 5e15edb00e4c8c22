// A deliberately naive policy evaluator, written straight from the
// precedence table in docs/policies.md: it reads the authored Rule values
// (strings, not interned ids), compiles globs and parses CIDR sets on every
// call, uses core's CidrSet::contains, and never skips a rule.
//
// Used as the oracle of the differential test (evaluate_differential_test.cpp)
// and as the "uncompiled" baseline in bench/policies. Not for production.
//
// Thread contract: pure function, reentrant.
#pragma once

#include <algorithm>
#include <limits>

#include "core/cidr.h"
#include "policies/evaluate.h"
#include "policies/glob.h"

namespace pullprint::policies::reference {

inline bool anyGlob(const std::vector<std::string>& patterns, const std::string& text) {
  for (const auto& p : patterns)
    if (Glob::compile(p)->matches(text)) return true;
  return false;
}

inline bool has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

inline bool scopeMatches(const RuleScope& s, const JobFacts& job, const PrinterFacts* printer) {
  const bool release = printer != nullptr;
  if (s.stage && (*s.stage == Stage::kRelease) != release) return false;
  if (!s.queues.empty() && !has(s.queues, job.queue)) return false;
  if (!s.printers.empty() && (!printer || !has(s.printers, printer->name))) return false;
  if (!s.printer_groups.empty() && (!printer || !has(s.printer_groups, printer->group)))
    return false;
  if (!s.user_groups.empty()) {
    bool any = false;
    for (const auto& g : job.user_groups) any = any || has(s.user_groups, g);
    if (!any) return false;
  }
  if (!s.users.empty() && !has(s.users, job.user)) return false;
  if ((s.min_pages || s.max_pages) && !job.pages) return false;
  if (s.min_pages && *job.pages < *s.min_pages) return false;
  if (s.max_pages && *job.pages > *s.max_pages) return false;
  if (s.min_copies && std::max<std::int64_t>(job.copies, 1) < *s.min_copies) return false;
  if (!s.formats.empty() && !anyGlob(s.formats, job.format)) return false;
  if (s.color) {
    int want = job.wantsColor();
    if (want < 0 || (want == 1) != *s.color) return false;
  }
  if (!s.document_names.empty() && !anyGlob(s.document_names, job.document_name)) return false;
  if (!s.sources.empty() && !CidrSet::parse(s.sources)->contains(job.source_address)) return false;
  return true;
}

inline Decision evaluate(const JobFacts& job, const PrinterFacts* printer, const Policy& policy,
                         UnixSeconds now) {
  const DecidedBy request{DeciderKind::kRequest, -1, "request"};
  const DecidedBy defaults{DeciderKind::kDefaults, -1, "defaults"};
  const DecidedBy caps{DeciderKind::kPrinterCapabilities, -1, "printer-capabilities"};
  const DecidedBy server{DeciderKind::kServerConfig, -1, "server-config"};
  const Defaults& def = policy.defaults();
  Decision d;
  // 1-2: request, else defaults.
  d.sides = job.sides ? Decided<Sides>{*job.sides, request}
                      : Decided<Sides>{def.sides.value_or(Sides::kOneSided), defaults};
  d.color_mode = job.color_mode
                     ? Decided<ColorMode>{*job.color_mode, request}
                     : Decided<ColorMode>{def.color_mode.value_or(ColorMode::kAuto), defaults};
  d.copies = {std::max<std::int64_t>(job.copies, 1), request};
  d.max_copies = {std::nullopt, defaults};
  d.hold_timeout_seconds =
      def.hold_timeout_seconds
          ? Decided<std::optional<std::int64_t>>{def.hold_timeout_seconds, defaults}
          : Decided<std::optional<std::int64_t>>{std::nullopt, server};
  d.required_printer_group = {std::nullopt, defaults};
  d.allow_direct = {def.allow_direct.value_or(false), defaults};

  // 3-4: every rule, in order; first setter of each attribute wins; first deny wins.
  bool sides_set = false, color_set = false, copies_set = false, hold_set = false,
       group_set = false, direct_set = false;
  for (std::size_t i = 0; i < policy.rules().size(); ++i) {
    const Rule& r = policy.rules()[i];
    if (!scopeMatches(r.scope, job, printer)) continue;
    const DecidedBy by{DeciderKind::kRule, static_cast<int>(i), r.name};
    const RuleActions& a = r.actions;
    if (a.deny && !d.denied) {
      d.denied = true;
      d.deny_message = *a.deny;
      d.denied_by = by;
    }
    if ((a.force_one_sided || a.force_two_sided) && !sides_set) {
      sides_set = true;
      if (a.force_one_sided) {
        d.sides = {Sides::kOneSided, by};
      } else if (isTwoSided(d.sides.value)) {
        d.sides.by = by;
      } else {
        d.sides = {def.sides && isTwoSided(*def.sides) ? *def.sides : Sides::kTwoSidedLongEdge, by};
      }
    }
    if ((a.force_monochrome || a.allow_color) && !color_set) {
      color_set = true;
      if (a.force_monochrome)
        d.color_mode = {ColorMode::kMonochrome, by};
      else if (job.color_mode)
        d.color_mode.by = by;
    }
    if (a.max_copies && !copies_set) {
      copies_set = true;
      d.max_copies = {*a.max_copies, by};
      if (d.copies.value > *a.max_copies) d.copies = {*a.max_copies, by};
    }
    if (a.hold_timeout_seconds && !hold_set) {
      hold_set = true;
      d.hold_timeout_seconds = {*a.hold_timeout_seconds, by};
    }
    if (a.require_printer_group && !group_set) {
      group_set = true;
      d.required_printer_group = {std::string_view(*a.require_printer_group), by};
    }
    if (a.allow_direct && !direct_set) {
      direct_set = true;
      d.allow_direct = {*a.allow_direct, by};
    }
  }
  // 5-6: the printer at release.
  if (printer) {
    if (!printer->supports_duplex && isTwoSided(d.sides.value)) d.sides = {Sides::kOneSided, caps};
    if (!printer->supports_color && d.color_mode.value != ColorMode::kMonochrome)
      d.color_mode = {ColorMode::kMonochrome, caps};
    if (!d.denied && d.required_printer_group.value &&
        printer->group != *d.required_printer_group.value) {
      d.denied = true;
      d.deny_message = "This job can be released only at a printer of group '" +
                       std::string(*d.required_printer_group.value) + "'.";
      d.denied_by = d.required_printer_group.by;
    }
  }
  if (d.hold_timeout_seconds.value) d.hold_expires_at = now + *d.hold_timeout_seconds.value;
  return d;
}

}  // namespace pullprint::policies::reference
