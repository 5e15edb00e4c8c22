// Differential test: the compiled evaluator (interned ids, memoised globs
// and networks, rule skipping) must decide exactly what the naive reference
// evaluator (reference_evaluator.h, written from docs/policies.md) decides,
// on seeded random policies and jobs drawn from a small vocabulary (so that
// rules overlap, conflict and match often).
#include <random>

#include <catch2/catch.hpp>

#include "tests/policies/reference_evaluator.h"

using namespace pullprint::policies;

namespace {

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}
  int below(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(static_cast<int>(N))];
  }

 private:
  std::mt19937_64 rng_;
};

const char* kQueues[] = {"followme", "direct", "q1"};
const char* kUsers[] = {"alice", "bob", "carol", "mallory"};
const char* kGroups[] = {"staff", "students", "guests", "research"};
const char* kPrinters[] = {"p1", "p2", "p3"};
const char* kPrinterGroups[] = {"library", "eng"};
const char* kFormats[] = {"application/pdf", "image/*", "application/*", "text/plain"};
const char* kNames[] = {"*.pdf", "report*", "*.ppt?", "x?z*", "*"};
const char* kSources[] = {"10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "10.1.2.3"};

std::string list(Gen& g, const char* const* values, int count) {
  std::string s = "[";
  int n = 1 + g.below(2);
  for (int i = 0; i < n; ++i)
    s += std::string(i ? ", " : "") + "\"" + values[g.below(count)] + "\"";
  return s + "]";
}

std::string randomPolicy(Gen& g) {
  std::string t = "version = 1\n[defaults]\n";
  if (g.chance(60))
    t += g.chance(50) ? "sides = \"two-sided-long-edge\"\n" : "sides = \"two-sided-short-edge\"\n";
  if (g.chance(60))
    t += g.chance(70) ? "color_mode = \"monochrome\"\n" : "color_mode = \"color\"\n";
  if (g.chance(50)) t += "hold_timeout_seconds = 86400\n";
  if (g.chance(30)) t += "allow_direct = true\n";
  int rules = 1 + g.below(25);
  for (int i = 0; i < rules; ++i) {
    t += "\n[[rule]]\nname = \"r" + std::to_string(i) + "\"\n";
    // Scope.
    int stage = g.below(6);  // 0 submit, 1 release, else both
    if (stage == 0) t += "stage = \"submit\"\n";
    if (stage == 1) t += "stage = \"release\"\n";
    if (g.chance(25)) t += "queues = " + list(g, kQueues, 3) + "\n";
    if (g.chance(20)) t += "users = " + list(g, kUsers, 4) + "\n";
    if (g.chance(30)) t += "user_groups = " + list(g, kGroups, 4) + "\n";
    std::string printer_groups;
    if (stage != 0 && g.chance(15)) t += "printers = " + list(g, kPrinters, 3) + "\n";
    if (stage != 0 && g.chance(20)) {
      printer_groups = g.pick(kPrinterGroups);
      t += "printer_groups = [\"" + printer_groups + "\"]\n";
    }
    if (g.chance(25)) {
      int lo = 1 + g.below(20);
      t += "min_pages = " + std::to_string(lo) + "\n";
      if (g.chance(40)) t += "max_pages = " + std::to_string(lo + g.below(15)) + "\n";
    } else if (g.chance(15)) {
      t += "max_pages = " + std::to_string(1 + g.below(20)) + "\n";
    }
    if (g.chance(15)) t += "min_copies = " + std::to_string(1 + g.below(8)) + "\n";
    if (g.chance(20)) t += "formats = " + list(g, kFormats, 4) + "\n";
    if (g.chance(20)) t += std::string("color = ") + (g.chance(50) ? "true" : "false") + "\n";
    if (g.chance(20)) t += "document_name = " + list(g, kNames, 5) + "\n";
    if (g.chance(20)) t += "sources = " + list(g, kSources, 4) + "\n";
    // Actions: deny alone, or a consistent set of others.
    if (g.chance(12)) {
      t += "deny = \"denied by r" + std::to_string(i) + "\"\n";
      continue;
    }
    bool any = false;
    if (g.chance(35)) {
      t += g.chance(60) ? "force_two_sided = true\n" : "force_one_sided = true\n";
      any = true;
    }
    if (g.chance(35)) {
      t += g.chance(60) ? "force_monochrome = true\n" : "allow_color = true\n";
      any = true;
    }
    if (g.chance(30)) {
      t += "max_copies = " + std::to_string(1 + g.below(6)) + "\n";
      any = true;
    }
    if (g.chance(25)) {
      t += "hold_timeout_seconds = " + std::to_string(60 * (1 + g.below(100))) + "\n";
      any = true;
    }
    if (stage != 0 && g.chance(15)) {
      std::string group = printer_groups.empty() ? g.pick(kPrinterGroups) : printer_groups;
      t += "require_printer_group = \"" + group + "\"\n";
      any = true;
    }
    if (!any || g.chance(15))
      t += std::string("allow_direct = ") + (g.chance(50) ? "true" : "false") + "\n";
  }
  return t;
}

JobFacts randomJob(Gen& g) {
  const char* users[] = {"alice", "bob", "carol", "mallory", "zed"};
  const char* groups[] = {"staff", "students", "guests", "research", "other"};
  const char* formats[] = {"application/pdf", "image/jpeg", "text/plain", "APPLICATION/PDF", ""};
  const char* names[] = {"report.pdf", "Report 2.PDF", "talk.pptx", "xyz", "x\xC3\xA9z-1",
                         "",           "notes.txt"};
  const char* sources[] = {"10.1.2.3",        "10.200.0.1",   "192.0.2.77", "2001:db8::9",
                           "::ffff:10.9.9.9", "198.51.100.1", "garbage",    ""};
  JobFacts f;
  f.queue = g.pick(kQueues);
  if (g.chance(10)) f.queue = "elsewhere";
  f.user = g.pick(users);
  int ng = g.below(3);
  for (int i = 0; i < ng; ++i) f.user_groups.push_back(g.pick(groups));
  f.source_address = g.pick(sources);
  if (g.chance(85)) f.pages = 1 + g.below(35);
  f.copies = g.below(14);  // includes 0 (treated as 1)
  f.format = g.pick(formats);
  int c = g.below(4);
  if (c == 1) f.color_mode = ColorMode::kAuto;
  if (c == 2) f.color_mode = ColorMode::kMonochrome;
  if (c == 3) f.color_mode = ColorMode::kColor;
  if (g.chance(50)) f.has_color = g.chance(50);
  f.document_name = g.pick(names);
  int s = g.below(4);
  if (s == 1) f.sides = Sides::kOneSided;
  if (s == 2) f.sides = Sides::kTwoSidedLongEdge;
  if (s == 3) f.sides = Sides::kTwoSidedShortEdge;
  return f;
}

std::string full(const Decision& d) {
  // describeDecision plus what it leaves out: rule indexes and the expiry.
  return describeDecision(d) + " | denied_by=" + std::to_string(d.denied_by.rule_index) +
         " sides#" + std::to_string(d.sides.by.rule_index) + " color#" +
         std::to_string(d.color_mode.by.rule_index) + " copies#" +
         std::to_string(d.copies.by.rule_index) + " max#" +
         std::to_string(d.max_copies.by.rule_index) + " hold#" +
         std::to_string(d.hold_timeout_seconds.by.rule_index) +
         " expires=" + (d.hold_expires_at ? std::to_string(*d.hold_expires_at) : "-") + " group#" +
         std::to_string(d.required_printer_group.by.rule_index) + " direct#" +
         std::to_string(d.allow_direct.by.rule_index);
}

}  // namespace

TEST_CASE("evaluate agrees with the reference evaluator on random policies and jobs") {
  Gen g(0x5eed2026);
  const PrinterFacts printers[] = {{"p1", "library", true, true},
                                   {"p2", "eng", false, true},
                                   {"p3", "library", true, false},
                                   {"p9", "elsewhere", false, false}};
  int compared = 0, denied = 0, by_rule = 0;
  for (int round = 0; round < 300; ++round) {
    std::string text = randomPolicy(g);
    auto policy = parsePolicy(text, "random.toml");
    INFO(text);
    REQUIRE(policy.isOk());
    for (int j = 0; j < 60; ++j) {
      JobFacts job = randomJob(g);
      for (int p = -1; p < 4; ++p) {
        const PrinterFacts* printer = p < 0 ? nullptr : &printers[p];
        Decision fast = evaluate(job, printer, *policy, 1000);
        Decision slow = reference::evaluate(job, printer, *policy, 1000);
        if (full(fast) != full(slow)) {
          INFO("printer " << (printer ? printer->name : "none"));
          CHECK(full(fast) == full(slow));
        }
        ++compared;
        denied += fast.denied ? 1 : 0;
        by_rule += fast.sides.by.kind == DeciderKind::kRule ? 1 : 0;
      }
    }
  }
  // The generator must exercise the interesting paths, not only defaults.
  CHECK(compared == 300 * 60 * 5);
  CHECK(denied > compared / 20);
  CHECK(by_rule > compared / 10);
}
