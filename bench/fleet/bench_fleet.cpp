// bench_fleet: wall time of one fleet push to N IPP printers (one PAPPL
// printer application) + M queues of a private cupsd, with per-printer
// p50/p99, and of one drift check over all of them. Every round changes the
// defaults (policy versions alternate monochrome/colour and two-/one-sided),
// so every push really sets something.
//
//   bench_fleet [--ipp N] [--cups M] [--concurrency C] [--rounds R]
//
// Must run as root (cupsd). Prints a Markdown table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/fleet_store.h"
#include "core/log.h"
#include "core/store.h"
#include "spooler/fleet_service.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::testing;

namespace {

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int fail(const std::string& m) {
  std::fprintf(stderr, "bench_fleet: %s\n", m.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int ipp = 100, cups_queues = 100, concurrency = 16, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--ipp")
      ipp = v;
    else if (a == "--cups")
      cups_queues = v;
    else if (a == "--concurrency")
      concurrency = v;
    else if (a == "--rounds")
      rounds = v;
    else
      return fail("unknown argument " + a);
  }
  if (ipp < 1 || cups_queues < 0 || concurrency < 1 || rounds < 1) return fail("bad arguments");

  TempDir work("bench-fleet");
  // --- IPP printers: one PAPPL printer application ---
  const std::uint16_t port = pickFreePort();
  std::filesystem::create_directories(work / "pappl");
  ProcessOptions po;
  po.argv = {PAPPL_PRINTER_PATH, std::to_string(port), std::to_string(ipp),
             (work / "pappl").string()};
  po.logDir = work.path();
  Process pappl(po);
  if (!waitForTcpPort(port, std::chrono::seconds(30))) return fail("PAPPL did not start");
  auto papplUri = [&](int n) {
    return "ipp://127.0.0.1:" + std::to_string(port) + "/ipp/print/fleet-" + std::to_string(n);
  };

  // --- CUPS queues: one IPP Everywhere queue, its PPD copied to the others ---
  std::unique_ptr<PrivateCupsd> cupsd;
  if (cups_queues > 0) {
    cupsd = std::make_unique<PrivateCupsd>();
    cupsd->addQueue("q1", papplUri(1));
    auto ppd = cupsd->dir() / "etc" / "ppd" / "q1.ppd";
    for (int n = 2; n <= cups_queues; ++n) {
      auto r = cupsd->runTool({"lpadmin", "-p", "q" + std::to_string(n), "-E", "-v",
                               papplUri(1 + (n - 1) % ipp), "-P", ppd.string()});
      if (!r.ok()) return fail(r.describe());
    }
  }

  // --- Store with the registry ---
  auto store = openSqliteStore((work / "bench.db").string(), SqliteOptions{4, false});
  if (!store) return fail(store.status().message());
  auto repo = openSqliteFleetRepository((work / "bench.db").string());
  if (!repo) return fail(repo.status().message());
  Status s = (*store)->write([&](StoreWriter& w) {
    for (int n = 1; n <= ipp; ++n) {
      Printer p;
      p.name = "ipp-" + std::to_string(n);
      p.uri = papplUri(n);
      p.group = "ipp";
      if (Status st = w.upsertPrinter(p); !st) return st;
    }
    for (int n = 1; n <= cups_queues; ++n) {
      Printer p;
      p.name = "cups-" + std::to_string(n);
      p.uri = cupsd->queueUri("q" + std::to_string(n));
      p.group = "cups";
      if (Status st = w.upsertPrinter(p); !st) return st;
    }
    return Status::ok();
  });
  if (!s) return fail(s.message());

  SystemClock clock;
  Logger log(LogLevel::kWarn);
  spooler::FleetClient client(std::chrono::seconds(10));
  spooler::FleetOptions options;
  options.concurrency = concurrency;
  options.attempts = 1;
  options.drift_interval = std::chrono::seconds(0);
  spooler::FleetService fleet(**store, **repo, client, clock, log, options);

  std::printf(
      "endpoints: %d IPP (PAPPL, one process) + %d CUPS queues (one cupsd), concurrency %d\n\n",
      ipp, cups_queues, concurrency);
  std::printf("| round | what | wall ms | IPP p50 / p99 ms | CUPS p50 / p99 ms | ok | not ok |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int round = 1; round <= rounds; ++round) {
    bool odd = round % 2 == 1;
    std::string policy =
        "version = " + std::to_string(round) + "\n[printer_defaults]\nsides-default = \"" +
        (odd ? "two-sided-long-edge" : "one-sided") + "\"\nprint-color-mode-default = \"" +
        (odd ? "monochrome" : "color") + "\"\n";
    auto v = fleet.replacePolicy(policy, "bench");
    if (!v) return fail(v.status().message());
    auto run = fleet.push(std::nullopt, "bench");
    if (!run) return fail(run.status().message());
    std::vector<std::int64_t> ipp_ms, cups_ms;
    for (const auto& r : run->results)
      (r.transport == "cups" ? cups_ms : ipp_ms).push_back(r.duration_ms);
    std::printf("| %d | push | %lld | %lld / %lld | %lld / %lld | %d | %d |\n", round,
                static_cast<long long>(run->wall_ms),
                static_cast<long long>(percentile(ipp_ms, 0.5)),
                static_cast<long long>(percentile(ipp_ms, 0.99)),
                static_cast<long long>(percentile(cups_ms, 0.5)),
                static_cast<long long>(percentile(cups_ms, 0.99)), run->ok, run->failed);
    // The first CUPS queue that did not end ok, for the reader.
    for (const auto& r : run->results)
      if (r.transport == "cups" && r.status != "ok") {
        std::fprintf(stderr, "note: round %d %s: %s %s %s\n", round, r.printer.c_str(),
                     r.status.c_str(), r.message.c_str(),
                     spooler::settingsJson(r.settings).c_str());
        break;
      }
    auto t0 = std::chrono::steady_clock::now();
    auto report = fleet.check("bench");
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    if (!report) return fail(report.status().message());
    std::printf("| %d | drift check | %lld | | | %zu compliant | %zu drifted, %zu unreachable |\n",
                round, static_cast<long long>(ms), report->compliant.size(), report->drifted.size(),
                report->unreachable.size());
  }
  std::printf(
      "\n\"ok\" counts printers where every default applied; PAPPL 1.3 cannot set "
      "sides-default, so its printers end \"partial\".\n");
  return 0;
}
