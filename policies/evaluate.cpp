// Policy evaluation (see evaluate.h for the precedence table).
//
// Hot path layout: the job's names are turned into interned ids once, then
// the compiled rules are walked in order. A rule whose actions are all
// already decided is skipped before its scope is even looked at; scope
// checks go from cheap (integers) to dearer (memoised glob / CIDR answers).
#include "policies/evaluate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/cidr.h"
#include "policies/compiled.h"

namespace pullprint::policies {

namespace {

using detail::CompiledPolicy;
using detail::CompiledRule;
using detail::Id;
using detail::kNoId;

constexpr DecidedBy kByRequest{DeciderKind::kRequest, -1, "request"};
constexpr DecidedBy kByDefaults{DeciderKind::kDefaults, -1, "defaults"};
constexpr DecidedBy kByPrinter{DeciderKind::kPrinterCapabilities, -1, "printer-capabilities"};
constexpr DecidedBy kByServer{DeciderKind::kServerConfig, -1, "server-config"};

// Per-evaluation tri-state cache (-1 unknown, 0 no, 1 yes), inline for the
// usual sizes so evaluation does not allocate.
class Memo {
 public:
  explicit Memo(std::size_t n) {
    if (n > inline_.size()) {
      heap_.assign(n, -1);
      data_ = heap_.data();
    } else {
      std::memset(inline_.data(), -1, n);
      data_ = inline_.data();
    }
  }
  std::int8_t& operator[](std::size_t i) { return data_[i]; }

 private:
  std::array<std::int8_t, 256> inline_;
  std::vector<std::int8_t> heap_;
  std::int8_t* data_;
};

// The job (and printer) as ids and cached answers.
struct Context {
  const JobFacts& job;
  const PrinterFacts* printer;
  const CompiledPolicy& cp;
  std::uint8_t stage_bit;  // 1 submit, 2 release
  int wants_color;
  Id queue, user, printer_name, printer_group;
  std::array<Id, 32> group_inline{};
  std::vector<Id> group_heap;
  const Id* groups = nullptr;
  std::size_t group_count = 0;
  Memo globs;
  Memo cidrs;
  int address_state = 0;  // 0 not parsed yet, 1 parsed, -1 not an address
  detail::IpBytes address{};

  Context(const JobFacts& j, const PrinterFacts* p, const CompiledPolicy& c)
      : job(j),
        printer(p),
        cp(c),
        stage_bit(p ? 2 : 1),
        wants_color(j.wantsColor()),
        queue(c.queues.find(j.queue)),
        user(c.users.find(j.user)),
        printer_name(p ? c.printers.find(p->name) : kNoId),
        printer_group(p ? c.printer_groups.find(p->group) : kNoId),
        globs(c.globs.size()),
        cidrs(c.cidr_sets.size()) {
    // Only groups some rule names matter; the rest are dropped here.
    Id* out = group_inline.data();
    if (c.groups.size() > 0) {
      if (j.user_groups.size() > group_inline.size()) {
        group_heap.resize(j.user_groups.size());
        out = group_heap.data();
      }
      for (const auto& g : j.user_groups) {
        Id id = c.groups.find(g);
        if (id != kNoId) out[group_count++] = id;
      }
    }
    groups = out;
  }

  bool glob(std::int32_t index, std::string_view text) {
    std::int8_t& m = globs[static_cast<std::size_t>(index)];
    if (m < 0) m = cp.globs[static_cast<std::size_t>(index)].matches(text) ? 1 : 0;
    return m == 1;
  }
  bool anyGlob(const std::vector<std::int32_t>& list, std::string_view text) {
    for (std::int32_t g : list)
      if (glob(g, text)) return true;
    return false;
  }
  bool source(std::int32_t index) {
    std::int8_t& m = cidrs[static_cast<std::size_t>(index)];
    if (m < 0) {
      if (address_state == 0) {
        bool v4 = false;
        address_state = parseIpAddress(job.source_address, &address, &v4) ? 1 : -1;
      }
      m = address_state > 0 && cp.cidr_sets[static_cast<std::size_t>(index)].contains(address) ? 1
                                                                                               : 0;
    }
    return m == 1;
  }
};

bool contains(const std::vector<Id>& sorted, Id id) {
  if (id == kNoId) return false;
  if (sorted.size() <= 8) return std::find(sorted.begin(), sorted.end(), id) != sorted.end();
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

bool matches(const CompiledRule& r, Context& c) {
  // Integers first.
  if (!(r.stages & c.stage_bit)) return false;
  if (r.min_pages >= 0 || r.max_pages >= 0) {
    if (!c.job.pages) return false;
    if (r.min_pages >= 0 && *c.job.pages < r.min_pages) return false;
    if (r.max_pages >= 0 && *c.job.pages > r.max_pages) return false;
  }
  if (r.min_copies >= 0 && std::max<std::int64_t>(c.job.copies, 1) < r.min_copies) return false;
  if (r.color >= 0 && c.wants_color != r.color) return false;
  // Interned names.
  if (!r.queues.empty() && !contains(r.queues, c.queue)) return false;
  if (!r.users.empty() && !contains(r.users, c.user)) return false;
  if (!r.user_groups.empty()) {
    bool any = false;
    for (std::size_t i = 0; i < c.group_count && !any; ++i)
      any = contains(r.user_groups, c.groups[i]);
    if (!any) return false;
  }
  if (!r.printers.empty() && !contains(r.printers, c.printer_name)) return false;
  if (!r.printer_groups.empty() && !contains(r.printer_groups, c.printer_group)) return false;
  // Memoised patterns and networks.
  if (!r.formats.empty() && !c.anyGlob(r.formats, c.job.format)) return false;
  if (!r.document_names.empty() && !c.anyGlob(r.document_names, c.job.document_name)) return false;
  if (r.sources >= 0 && !c.source(r.sources)) return false;
  return true;
}

DecidedBy byRule(const Policy& policy, std::size_t index) {
  return {DeciderKind::kRule, static_cast<int>(index), policy.rules()[index].name};
}

// Steps 1 and 2: the request, else the defaults.
void startFromRequest(const JobFacts& job, const Defaults& defaults, Decision* d) {
  if (job.sides)
    d->sides = {*job.sides, kByRequest};
  else
    d->sides = {defaults.sides.value_or(Sides::kOneSided), kByDefaults};
  if (job.color_mode)
    d->color_mode = {*job.color_mode, kByRequest};
  else
    d->color_mode = {defaults.color_mode.value_or(ColorMode::kAuto), kByDefaults};
  d->copies = {std::max<std::int64_t>(job.copies, 1), kByRequest};
  d->max_copies = {std::nullopt, kByDefaults};
  if (defaults.hold_timeout_seconds)
    d->hold_timeout_seconds = {defaults.hold_timeout_seconds, kByDefaults};
  else
    d->hold_timeout_seconds = {std::nullopt, kByServer};
  d->required_printer_group = {std::nullopt, kByDefaults};
  d->allow_direct = {defaults.allow_direct.value_or(false), kByDefaults};
}

// Step 3/4: one matching rule claims the attributes in `apply`.
void applyRule(const Policy& policy, std::size_t index, std::uint8_t apply, Decision* d) {
  const RuleActions& a = policy.rules()[index].actions;
  const DecidedBy by = byRule(policy, index);
  if (apply & detail::kActDeny) {
    d->denied = true;
    d->deny_message = *a.deny;
    d->denied_by = by;
  }
  if (apply & detail::kActSides) {
    if (a.force_one_sided) {
      d->sides = {Sides::kOneSided, by};
    } else {
      // Keep the edge the job (or the defaults) chose; else the defaults'
      // two-sided edge; else long edge.
      Sides s = d->sides.value;
      if (!isTwoSided(s)) {
        auto def = policy.defaults().sides;
        s = (def && isTwoSided(*def)) ? *def : Sides::kTwoSidedLongEdge;
      }
      d->sides = {s, by};
    }
  }
  if (apply & detail::kActColor) {
    if (a.force_monochrome)
      d->color_mode = {ColorMode::kMonochrome, by};
    else if (d->color_mode.by.kind == DeciderKind::kRequest)
      d->color_mode.by = by;  // allow_color
    // allow_color without a request: the default stands, recorded as such;
    // the rule still claims the attribute so no later rule changes it.
  }
  if (apply & detail::kActMaxCopies) {
    d->max_copies = {*a.max_copies, by};
    if (d->copies.value > *a.max_copies) d->copies = {*a.max_copies, by};
  }
  if (apply & detail::kActHoldTimeout) d->hold_timeout_seconds = {*a.hold_timeout_seconds, by};
  if (apply & detail::kActPrinterGroup)
    d->required_printer_group = {std::string_view(*a.require_printer_group), by};
  if (apply & detail::kActDirect) d->allow_direct = {*a.allow_direct, by};
}

}  // namespace

int JobFacts::wantsColor() const {
  if (color_mode == ColorMode::kColor) return 1;
  if (color_mode == ColorMode::kMonochrome) return 0;
  if (has_color) return *has_color ? 1 : 0;
  return -1;
}

Decision evaluate(const JobFacts& job, const PrinterFacts* printer, const Policy& policy,
                  UnixSeconds now) {
  const CompiledPolicy& cp = policy.compiled();
  Decision d;
  startFromRequest(job, policy.defaults(), &d);

  // Rules, in order; `remaining` holds what no rule has decided yet.
  std::uint8_t remaining = cp.all_actions;
  if (remaining) {
    Context ctx(job, printer, cp);
    for (std::size_t i = 0; i < cp.rules.size(); ++i) {
      const CompiledRule& r = cp.rules[i];
      const std::uint8_t apply = r.actions & remaining;
      if (!apply || !matches(r, ctx)) continue;
      applyRule(policy, i, apply, &d);
      remaining &= static_cast<std::uint8_t>(~apply);
      if (!remaining) break;
    }
  }

  // Release: the printer's capabilities and the required group.
  if (printer) {
    if (!printer->supports_duplex && isTwoSided(d.sides.value))
      d.sides = {Sides::kOneSided, kByPrinter};
    if (!printer->supports_color && d.color_mode.value != ColorMode::kMonochrome)
      d.color_mode = {ColorMode::kMonochrome, kByPrinter};
    const auto& required = d.required_printer_group;
    if (!d.denied && required.value && printer->group != *required.value) {
      d.denied = true;
      d.deny_message = "This job can be released only at a printer of group '" +
                       std::string(*required.value) + "'.";
      d.denied_by = required.by;
    }
  }

  if (const auto& t = d.hold_timeout_seconds.value) {
    if (now <= std::numeric_limits<UnixSeconds>::max() - *t) d.hold_expires_at = now + *t;
  }
  return d;
}

std::vector<int> matchingRules(const JobFacts& job, const PrinterFacts* printer,
                               const Policy& policy) {
  const CompiledPolicy& cp = policy.compiled();
  Context ctx(job, printer, cp);
  std::vector<int> out;
  for (std::size_t i = 0; i < cp.rules.size(); ++i)
    if (matches(cp.rules[i], ctx)) out.push_back(static_cast<int>(i));
  return out;
}

std::string describeDecider(const DecidedBy& by) {
  if (by.kind == DeciderKind::kRule) return "rule:" + std::string(by.name);
  return std::string(by.name);
}

std::string describeDecision(const Decision& d) {
  std::string s;
  auto field = [&](std::string_view key, const std::string& value, const DecidedBy& by) {
    if (!s.empty()) s += ' ';
    s += key;
    s += '=';
    s += value;
    s += '(';
    s += describeDecider(by);
    s += ')';
  };
  if (d.denied) field("denied", "\"" + d.deny_message + "\"", d.denied_by);
  field("sides", std::string(toKeyword(d.sides.value)), d.sides.by);
  field("color_mode", std::string(toKeyword(d.color_mode.value)), d.color_mode.by);
  field("copies", std::to_string(d.copies.value), d.copies.by);
  if (d.max_copies.value) field("max_copies", std::to_string(*d.max_copies.value), d.max_copies.by);
  field("hold_timeout_seconds",
        d.hold_timeout_seconds.value ? std::to_string(*d.hold_timeout_seconds.value) : "server",
        d.hold_timeout_seconds.by);
  if (d.required_printer_group.value)
    field("require_printer_group", std::string(*d.required_printer_group.value),
          d.required_printer_group.by);
  field("allow_direct", d.allow_direct.value ? "true" : "false", d.allow_direct.by);
  return s;
}

}  // namespace pullprint::policies
