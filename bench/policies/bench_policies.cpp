// Policy evaluator throughput: decisions per second over a generated
// 200-rule policy, single thread. Run scripts/bench-policies.sh; figures in
// docs/benchmarks-policies.md.
//
// The policy is shaped like a large campus's: ~180 narrow rules first
// (suspended users, department queues, lab networks, document-type globs,
// building printers) that most jobs do not match, then ~20 broad rules at the
// end (students monochrome, duplex for long jobs, staff colour, hold
// timeouts) that most jobs do match. So a typical evaluation walks nearly the
// whole list and decides its attributes late: the expensive case.
//
// Scenarios:
//   submit  - evaluate(job, nullptr, ...): what every Print-Job costs
//   release - evaluate(job, &printer, ...): at the release station
//   naive   - the same submit jobs through tests/policies/reference_evaluator.h
//             (no interning, globs/CIDRs parsed per call, no skipping): what
//             precompiling buys
//   worst   - 200 deny rules that each need a CIDR and a glob test and never
//             match: nothing can be skipped (the memo still dedups)
// Jobs and printers come from a seeded generator (same inputs every run).
// Allocations are counted by replacing operator new in this binary.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "policies/evaluate.h"
#include "tests/policies/reference_evaluator.h"

namespace {

std::atomic<std::uint64_t> g_allocations{0};

}  // namespace

// Counting allocator for this binary only. GCC cannot see that the replaced
// operator new below is malloc, hence the pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using namespace pullprint::policies;
using Clock = std::chrono::steady_clock;

constexpr int kDepartments = 40;
constexpr int kBuildings = 50;

std::string realisticPolicy() {
  std::string t = R"(version = 42
[defaults]
sides = "two-sided-long-edge"
color_mode = "monochrome"
hold_timeout_seconds = 86400
)";
  auto rule = [&](const std::string& name, const std::string& body) {
    t += "\n[[rule]]\nname = \"" + name + "\"\n" + body;
  };
  int n = 0;
  // 40 suspended / restricted accounts (users jobs rarely come from).
  for (int i = 0; i < 40; ++i, ++n)
    rule("suspended-" + std::to_string(i),
         "users = [\"blocked" + std::to_string(i) + "\", \"blocked" + std::to_string(i + 100) +
             "\"]\ndeny = \"Your printing account is suspended.\"\n");
  // 40 department queues: copies, hold and colour per department.
  for (int i = 0; i < kDepartments; ++i, ++n)
    rule("dept-queue-" + std::to_string(i),
         "queues = [\"dept-" + std::to_string(i) + "\"]\nuser_groups = [\"dept-" +
             std::to_string(i) + "\"]\nmax_copies = " + std::to_string(20 + i) +
             "\nhold_timeout_seconds = " + std::to_string(3600 * (1 + i % 12)) + "\n");
  // 40 document-type rules (globs and formats) with page bounds.
  const char* globs[] = {"*.dwg",  "poster*", "*.ppt?",    "*banner*", "*.xls?",
                         "scan_*", "*.tif?",  "invoice-*", "*.svg",    "draft*"};
  const char* formats[] = {"image/*", "application/vnd.ms-*", "application/postscript",
                           "application/x-*"};
  for (int i = 0; i < 40; ++i, ++n) {
    std::string body = "document_name = \"" + std::string(globs[i % 10]) + "\"\n";
    body += "formats = [\"" + std::string(formats[i % 4]) + "\"]\n";
    body += "min_pages = " + std::to_string(200 + i * 5) + "\n";
    body += (i % 2) ? "force_one_sided = true\n" : "max_copies = 3\n";
    rule("doc-type-" + std::to_string(i), body);
  }
  // 40 lab networks: short hold, few copies.
  for (int i = 0; i < 40; ++i, ++n)
    rule("lab-" + std::to_string(i), "sources = [\"10." + std::to_string(100 + i) +
                                         ".0.0/16\", \"2001:db8:" + std::to_string(100 + i) +
                                         "::/48\"]\nmax_copies = 2\nhold_timeout_seconds = 3600\n");
  // 20 building printer rules at release.
  for (int i = 0; i < 20; ++i, ++n)
    rule("building-" + std::to_string(i) + "-mono",
         "stage = \"release\"\nprinter_groups = [\"building-" + std::to_string(i) +
             "\"]\ncolor = true\nuser_groups = [\"guests\"]\nforce_monochrome = true\n");
  // 20 broad rules, last: these decide most jobs.
  rule("no-huge", "min_pages = 1001\ndeny = \"Jobs over 1000 pages go to the print shop.\"\n");
  rule("no-executables",
       "formats = [\"application/x-msdownload\", \"application/x-executable\"]\n"
       "deny = \"Executables cannot be printed.\"\n");
  rule("guests-on-visitor-wifi",
       "user_groups = [\"guests\"]\nsources = [\"192.0.2.0/24\"]\ndeny = \"Not from the visitor "
       "Wi-Fi.\"\n");
  rule("thesis-library", "document_name = \"thesis*\"\nrequire_printer_group = \"building-0\"\n");
  rule("posters-one-sided", "document_name = [\"poster*\", \"*.ppt?\"]\nforce_one_sided = true\n");
  rule("staff-colour", "user_groups = [\"staff\"]\nallow_color = true\nmax_copies = 50\n");
  rule("research-colour", "user_groups = [\"research\"]\nallow_color = true\n");
  rule("students-mono", "user_groups = [\"students\"]\nforce_monochrome = true\nmax_copies = 10\n");
  rule("guests-mono", "user_groups = [\"guests\"]\nforce_monochrome = true\nmax_copies = 5\n");
  rule("duplex-long-jobs", "queues = [\"followme\"]\nmin_pages = 11\nforce_two_sided = true\n");
  rule("duplex-medium-pdf",
       "formats = [\"application/pdf\"]\nmin_pages = 3\nmax_pages = 10\nforce_two_sided = true\n");
  rule("bulk-copies-short-hold", "min_copies = 10\nhold_timeout_seconds = 7200\n");
  rule("big-jobs-short-hold", "min_pages = 300\nhold_timeout_seconds = 14400\n");
  rule("students-hold", "user_groups = [\"students\"]\nhold_timeout_seconds = 43200\n");
  rule("guests-hold", "user_groups = [\"guests\"]\nhold_timeout_seconds = 21600\n");
  rule("admins-direct", "users = [\"root\", \"printadmin\"]\nallow_direct = true\n");
  rule("direct-queue-staff",
       "queues = [\"direct\"]\nuser_groups = [\"staff\"]\nallow_direct = true\n");
  rule("everyone-held", "allow_direct = false\n");
  rule("everyone-copies", "max_copies = 100\n");
  rule("everyone-hold", "hold_timeout_seconds = 86400\n");
  return t;
}

std::string worstPolicy() {
  std::string t = "version = 1\n";
  for (int i = 0; i < 200; ++i)
    t += "\n[[rule]]\nname = \"w" + std::to_string(i) + "\"\nsources = [\"172.16." +
         std::to_string(i) + ".0/24\"]\ndocument_name = \"zz" + std::to_string(i) +
         "*\"\ndeny = \"no\"\n";
  return t;
}

std::vector<JobFacts> makeJobs(std::size_t count) {
  std::mt19937_64 rng(20261122);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  const char* names[] = {"Report-%d.pdf",   "lecture%d.pdf", "slides-%d.pptx", "Budget %d.xlsx",
                         "thesis-ch%d.pdf", "poster_%d.pdf", "scan_%d.tiff",   "notes %d.docx",
                         "invoice-%d.pdf",  "paper%d.pdf"};
  const char* fmts[] = {"application/pdf", "application/pdf",          "application/pdf",
                        "application/pdf", "application/pdf",          "application/pdf",
                        "application/pdf", "application/pdf",          "application/postscript",
                        "image/jpeg",      "application/vnd.ms-excel", "image/urf"};
  std::vector<JobFacts> jobs;
  for (std::size_t i = 0; i < count; ++i) {
    JobFacts f;
    int r = pick(100);
    f.user = "user" + std::to_string(pick(50000));
    int dept = pick(kDepartments);
    if (r < 70)
      f.user_groups = {"students", "dept-" + std::to_string(dept)};
    else if (r < 95)
      f.user_groups = {"staff", "dept-" + std::to_string(dept), "all-staff"};
    else
      f.user_groups = {"guests"};
    if (pick(20) == 0) f.user_groups.push_back("research");
    f.queue = pick(10) == 0 ? "dept-" + std::to_string(dept) : "followme";
    int s = pick(100);
    if (s < 85)
      f.source_address = "10.200." + std::to_string(pick(256)) + "." + std::to_string(pick(256));
    else if (s < 95)
      f.source_address = "10." + std::to_string(100 + pick(40)) + ".3." + std::to_string(pick(256));
    else
      f.source_address = "2001:db8:ffff::" + std::to_string(pick(9999));
    int p = pick(100);
    if (p < 5)
      f.pages = std::nullopt;
    else if (p < 6)
      f.pages = 1000 + pick(2000);
    else if (p < 60)
      f.pages = 1 + pick(10);
    else
      f.pages = 1 + pick(80);
    f.copies = pick(10) == 0 ? 2 + pick(20) : 1;
    f.format = fmts[pick(12)];
    char buf[64];
    std::snprintf(buf, sizeof buf, names[pick(10)], pick(1000));
    f.document_name = buf;
    if (pick(4) == 0) f.color_mode = ColorMode::kColor;
    if (pick(3) == 0) f.sides = pick(2) ? Sides::kOneSided : Sides::kTwoSidedLongEdge;
    jobs.push_back(std::move(f));
  }
  return jobs;
}

std::vector<PrinterFacts> makePrinters(std::size_t count) {
  std::mt19937_64 rng(7);
  std::vector<PrinterFacts> printers;
  for (std::size_t i = 0; i < count; ++i)
    printers.push_back({"printer-" + std::to_string(i),
                        "building-" + std::to_string(i % kBuildings), rng() % 10 != 0,
                        rng() % 10 < 3});
  return printers;
}

struct Figures {
  double decisions_per_second;       // per second of this thread's CPU time
  double wall_decisions_per_second;  // per wall-clock second (shared machines: lower)
  double ns_per_decision;            // CPU time
  double allocations_per_decision;
};

// This thread's CPU time: on a shared (loaded) machine wall time also counts
// the time other processes had the core.
double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Median over `runs` passes of `rounds` x all jobs.
using EvaluateFn = Decision (*)(const JobFacts&, const PrinterFacts*, const Policy&,
                                pullprint::UnixSeconds);

Figures measure(const Policy& policy, const std::vector<JobFacts>& jobs,
                const std::vector<PrinterFacts>* printers, int runs, int rounds,
                std::uint64_t* sink, EvaluateFn evaluateFn = &evaluate) {
  std::vector<double> rates, wall_rates;
  std::uint64_t allocs = 0, decisions = 0;
  for (int run = 0; run < runs; ++run) {
    std::uint64_t a0 = g_allocations.load();
    auto t0 = Clock::now();
    double c0 = threadCpuSeconds();
    std::uint64_t n = 0;
    for (int round = 0; round < rounds; ++round) {
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        const PrinterFacts* p = printers ? &(*printers)[i % printers->size()] : nullptr;
        Decision d = evaluateFn(jobs[i], p, policy, 1'800'000'000 + static_cast<std::int64_t>(i));
        *sink += static_cast<std::uint64_t>(d.copies.value) + (d.denied ? 7 : 0) +
                 static_cast<std::uint64_t>(d.sides.value) + d.sides.by.name.size();
        ++n;
      }
    }
    double cpu = threadCpuSeconds() - c0;
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    allocs += g_allocations.load() - a0;
    decisions += n;
    rates.push_back(static_cast<double>(n) / cpu);
    wall_rates.push_back(static_cast<double>(n) / wall);
  }
  std::sort(rates.begin(), rates.end());
  std::sort(wall_rates.begin(), wall_rates.end());
  double median = rates[rates.size() / 2];
  return {median, wall_rates[wall_rates.size() / 2], 1e9 / median,
          static_cast<double>(allocs) / static_cast<double>(decisions)};
}

struct Shape {
  double matching_rules;  // rules whose scope matches, per job
  double last_match;      // 1-based position of the last matching rule
  double denied;          // fraction denied
};

Shape shapeOf(const Policy& policy, const std::vector<JobFacts>& jobs,
              const std::vector<PrinterFacts>* printers) {
  double matches = 0, last = 0, denied = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const PrinterFacts* p = printers ? &(*printers)[i % printers->size()] : nullptr;
    auto m = matchingRules(jobs[i], p, policy);
    matches += static_cast<double>(m.size());
    last += m.empty() ? 0 : m.back() + 1;
    denied += evaluate(jobs[i], p, policy, 0).denied ? 1 : 0;
  }
  auto n = static_cast<double>(jobs.size());
  return {matches / n, last / n, denied / n};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7, rounds = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--runs")
      runs = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--rounds")
      rounds = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: bench_policies [--runs N] [--rounds N]\n");
      return 1;
    }
  }

  std::string text = realisticPolicy();
  auto t0 = Clock::now();
  auto realistic = parsePolicy(text, "generated-200.toml");
  double parse_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!realistic) {
    std::fprintf(stderr, "%s\n", realistic.status().message().c_str());
    return 1;
  }
  auto worst = parsePolicy(worstPolicy(), "generated-worst.toml");
  if (!worst) {
    std::fprintf(stderr, "%s\n", worst.status().message().c_str());
    return 1;
  }
  const auto jobs = makeJobs(4096);
  const auto printers = makePrinters(2500);

  Shape submit_shape = shapeOf(*realistic, jobs, nullptr);
  Shape release_shape = shapeOf(*realistic, jobs, &printers);
  std::printf("policy: %zu rules (%zu bytes of TOML), parsed and compiled in %.2f ms\n",
              realistic->rules().size(), text.size(), parse_ms);
  std::printf(
      "jobs: %zu generated (seeded); %d runs x %d rounds x %zu jobs per scenario; median run\n\n",
      jobs.size(), runs, rounds, jobs.size());

  std::uint64_t sink = 0;
  // Warm-up (caches, branch predictors).
  measure(*realistic, jobs, nullptr, 1, 5, &sink);

  struct Row {
    const char* name;
    Figures f;
    Shape s;
  };
  std::vector<Row> rows;
  rows.push_back({"submit (no printer)", measure(*realistic, jobs, nullptr, runs, rounds, &sink),
                  submit_shape});
  rows.push_back({"release (with printer)",
                  measure(*realistic, jobs, &printers, runs, rounds, &sink), release_shape});
  // Baseline: the naive reference evaluator (strings, globs and CIDR sets
  // parsed per call, no rule skipping), fewer rounds: it is slow.
  rows.push_back({"submit, naive reference evaluator (baseline)",
                  measure(*realistic, jobs, nullptr, runs, std::max(1, rounds / 10), &sink,
                          &reference::evaluate),
                  submit_shape});
  rows.push_back({"worst: 200 non-matching CIDR+glob deny rules",
                  measure(*worst, jobs, nullptr, runs, rounds, &sink),
                  shapeOf(*worst, jobs, nullptr)});

  std::printf(
      "| scenario | decisions/s (CPU) | decisions/s (wall) | ns/decision (CPU) | "
      "allocations/decision | matching rules/job | last match (rule #) | denied |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows)
    std::printf("| %s | %.0f | %.0f | %.0f | %.3f | %.1f | %.0f | %.1f%% |\n", r.name,
                r.f.decisions_per_second, r.f.wall_decisions_per_second, r.f.ns_per_decision,
                r.f.allocations_per_decision, r.s.matching_rules, r.s.last_match,
                100.0 * r.s.denied);
  std::printf("\n(checksum %llu)\n", static_cast<unsigned long long>(sink));
  return 0;
}
