// bench_spooler: the held-job spooler benchmark and memory proof.
//
// Part 1 (throughput/latency): C client threads, each with its own libcups
// http_t (keep-alive), send N Print-Job requests with the same PDF to
//   - pullprintd's held queue  ipp://127.0.0.1:P/printers/followme
//     (every acknowledged job is fdatasync'ed and committed to SQLite first),
//   - a private cupsd's held queue (`-m everywhere` on an ippeveprinter,
//     job-hold-until-default=indefinite): default configuration (SyncOnClose
//     No), SyncOnClose Yes, and SyncOnClose Yes + DirtyCleanInterval 0.
// Same client code, same requesting-user-name, a fresh server per round; the
// order of the servers rotates from round to round and the table reports
// every round and the median. Latency is per Print-Job request: from
// cupsSendRequest to the end of cupsGetResponse. After each run the held
// jobs are counted with Get-Jobs: all N must be pending-held. Server CPU is
// user+system time from /proc/PID/stat of the server and the processes it
// started (pullprintd's analysis process), from the start of the run until
// the server is idle again, so work done after the answers counts too; for
// pullprintd it is also split by thread (its threads are named) and "child
// processes". Client CPU is this process's own user+system time while its
// client threads send the jobs: the same client code for every server, and
// on a 2-core host it shares the cores with the server under test.
//
// Part 2 (memory): a fresh pullprintd gets M held jobs (same client), then
// one document of B MB (application/octet-stream) streamed in 64 KiB chunks.
// VmRSS is sampled from /proc/PID/status during the upload; VmHWM (peak RSS
// over the process's life) must stay under the limit.
//
//   bench_spooler [--jobs N] [--rounds R] [--clients C] [--pages P]
//                 [--memory-jobs M] [--big-mb B] [--rss-limit-mb L]
//                 [--skip-pullprint] [--skip-cupsd] [--skip-sync] [--skip-dirty0]
//                 [--skip-memory] [--skip-throughput] [--pullprintd PATH]
//
// Defaults: N 2000, R 3, C 8, P 3, M 10000, B 200, L 100 (decimal MB).
// Exit status: 0 all checks passed; 1 a check failed (a job refused or not
// held, or RSS over the limit); 2 usage or start-up error. The throughput
// and latency targets are reported (PASS/MISS) but do not change the exit
// status: timings depend on the machine.
//
// Must run as root (cupsd). Everything runs on 127.0.0.1 in private temp
// dirs under /tmp; servers are stopped by PID (tests/support).
#include <cups/cups.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace fs = std::filesystem;

#ifndef PULLPRINTD_PATH
#error "PULLPRINTD_PATH must name the pullprintd binary (see CMakeLists.txt)"
#endif

namespace pullprint::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::PrivateCupsd;
using testing::Process;
using testing::TempDir;

constexpr const char* kUser = "bench";
constexpr size_t kChunk = 64 * 1024;

struct Options {
  int jobs = 2000;
  int rounds = 3;
  int clients = 8;
  int pages = 3;
  int memoryJobs = 10000;
  int bigMb = 200;
  double rssLimitMb = 100.0;  // decimal MB: 100,000,000 bytes
  bool pullprint = true;
  bool cupsd = true;
  bool cupsdSync = true;
  bool cupsdDirty0 = true;
  bool memory = true;
  bool throughput = true;
  std::string pullprintd = PULLPRINTD_PATH;  // --pullprintd: e.g. a baseline build
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "bench_spooler: %s\n"
      "usage: bench_spooler [--jobs N] [--rounds R] [--clients C] [--pages P] [--memory-jobs M]\n"
      "                     [--big-mb B] [--rss-limit-mb L] [--skip-cupsd] [--skip-sync] "
      "[--skip-dirty0]\n"
      "                     [--skip-pullprint] [--skip-memory] [--skip-throughput]\n"
      "                     [--pullprintd PATH]\n",
      why.c_str());
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&]() -> double {
      if (i + 1 >= argc) usage(a + " needs a value");
      char* end = nullptr;
      double v = std::strtod(argv[++i], &end);
      if (!end || *end || v <= 0) usage("bad value for " + a);
      return v;
    };
    if (a == "--jobs")
      o.jobs = static_cast<int>(num());
    else if (a == "--rounds")
      o.rounds = static_cast<int>(num());
    else if (a == "--clients")
      o.clients = static_cast<int>(num());
    else if (a == "--pages")
      o.pages = static_cast<int>(num());
    else if (a == "--memory-jobs")
      o.memoryJobs = static_cast<int>(num());
    else if (a == "--big-mb")
      o.bigMb = static_cast<int>(num());
    else if (a == "--rss-limit-mb")
      o.rssLimitMb = num();
    else if (a == "--skip-cupsd")
      o.cupsd = false;
    else if (a == "--skip-pullprint")
      o.pullprint = false;
    else if (a == "--skip-sync")
      o.cupsdSync = false;
    else if (a == "--skip-dirty0")
      o.cupsdDirty0 = false;
    else if (a == "--skip-memory")
      o.memory = false;
    else if (a == "--skip-throughput")
      o.throughput = false;
    else if (a == "--pullprintd" && i + 1 < argc)
      o.pullprintd = argv[++i];
    else if (a == "--help" || a == "-h")
      usage("help");
    else
      usage("unknown argument '" + a + "'");
  }
  return o;
}

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string readWholeFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---------------------------------------------------------------------------
// /proc/PID/status

struct Memory {
  long rssKb = -1;  // VmRSS
  long hwmKb = -1;  // VmHWM (peak RSS so far)
};

Memory readMemory(pid_t pid) {
  Memory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rssKb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) m.hwmKb = std::atol(line.c_str() + 6);
  }
  return m;
}

double mib(long kb) { return kb < 0 ? -1 : kb / 1024.0; }

// ---------------------------------------------------------------------------
// pullprintd, started privately (state dir in a TempDir, port picked here).

class Pullprintd {
 public:
  Pullprintd(const std::string& binary, const std::string& configText)
      : dir_("pullprint-bench-pp") {
    testing::writeFile(dir_ / "pullprint.toml", configText);
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::pickFreePort();
      testing::ProcessOptions po;
      po.argv = {binary,
                 "--listen",
                 "127.0.0.1:" + std::to_string(port_),
                 "--state-dir",
                 (dir_ / "state").string(),
                 "--config",
                 (dir_ / "pullprint.toml").string()};
      po.logDir = dir_.path();
      po.logName = "pullprintd";
      process_ = std::make_unique<Process>(std::move(po));
      bool up = testing::waitFor(
          [&] { return testing::tcpPortOpen(port_) || !process_->running(); }, 15s, 10ms);
      if (up && process_->running()) return;
      process_->terminate(1s);
    }
    throw std::runtime_error("pullprintd did not start:\n" + process_->describe());
  }
  ~Pullprintd() { stop(); }
  // Stops the server; its directory stays until destruction.
  void stop() {
    if (process_) process_->terminate(5s);
  }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string describe() const { return process_->describe(); }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// ---------------------------------------------------------------------------
// The IPP client (libcups), identical for both servers.

struct Target {
  std::string label;
  std::uint16_t port = 0;
  std::string resource;    // "/printers/followme", "/printers/held"
  std::string printerUri;  // ipp://127.0.0.1:P + resource
  pid_t serverPid = -1;    // for RSS
};

Target makeTarget(std::string label, std::uint16_t port, const std::string& queue, pid_t pid) {
  Target t;
  t.label = std::move(label);
  t.port = port;
  t.resource = "/printers/" + queue;
  t.printerUri = "ipp://127.0.0.1:" + std::to_string(port) + t.resource;
  t.serverPid = pid;
  return t;
}

http_t* connectTo(const Target& t) {
  http_t* http = httpConnect2("127.0.0.1", t.port, nullptr, AF_INET, HTTP_ENCRYPTION_NEVER,
                              /*blocking=*/1, /*msec=*/30000, nullptr);
  if (http) httpSetTimeout(http, 120.0, nullptr, nullptr);
  return http;
}

// Document bytes: either a buffer in memory or a generated stream of `size`.
struct Body {
  const std::string* bytes = nullptr;  // sent as is
  std::size_t generated = 0;           // else: this many pseudo-random bytes
  std::size_t size() const { return bytes ? bytes->size() : generated; }
};

struct JobOutcome {
  bool ok = false;
  bool heldAtAck = false;  // job-state pending-held in the response
  int jobId = 0;           // job-id in the response
  double ms = 0;
  std::string error;
};

// One Print-Job on an open connection.
JobOutcome printJob(http_t* http, const Target& t, const Body& body, const std::string& name,
                    const char* format) {
  JobOutcome out;
  ipp_t* req = ippNewRequest(IPP_OP_PRINT_JOB);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, t.printerUri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, kUser);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, name.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, format);

  auto t0 = Clock::now();
  http_status_t hs = cupsSendRequest(http, req, t.resource.c_str(), ippLength(req) + body.size());
  if (hs == HTTP_STATUS_CONTINUE) {
    if (body.bytes) {
      const std::string& b = *body.bytes;
      for (std::size_t off = 0; off < b.size() && hs == HTTP_STATUS_CONTINUE; off += kChunk)
        hs = cupsWriteRequestData(http, b.data() + off, std::min(kChunk, b.size() - off));
    } else {
      std::vector<char> chunk(kChunk);
      std::uint64_t x = 0x9E3779B97F4A7C15ull;
      for (std::size_t off = 0; off < body.generated && hs == HTTP_STATUS_CONTINUE; off += kChunk) {
        for (std::size_t i = 0; i + 8 <= chunk.size(); i += 8) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          std::memcpy(chunk.data() + i, &x, 8);
        }
        hs = cupsWriteRequestData(http, chunk.data(), std::min(kChunk, body.generated - off));
      }
    }
  }
  ipp_t* resp = nullptr;
  if (hs == HTTP_STATUS_CONTINUE) resp = cupsGetResponse(http, t.resource.c_str());
  out.ms = msSince(t0);
  ippDelete(req);
  if (!resp) {
    out.error =
        hs == HTTP_STATUS_CONTINUE ? cupsLastErrorString() : std::string("HTTP ") + httpStatus(hs);
    return out;
  }
  ipp_status_t st = ippGetStatusCode(resp);
  out.ok = st <= IPP_STATUS_OK_EVENTS_COMPLETE;
  if (!out.ok) out.error = std::string(ippErrorString(st)) + ": " + cupsLastErrorString();
  if (ipp_attribute_t* a = ippFindAttribute(resp, "job-state", IPP_TAG_ENUM))
    out.heldAtAck = ippGetInteger(a, 0) == IPP_JSTATE_HELD;
  if (ipp_attribute_t* a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER))
    out.jobId = ippGetInteger(a, 0);
  ippDelete(resp);
  return out;
}

struct LoadResult {
  int ok = 0;
  int failed = 0;
  int heldAtAck = 0;
  int newestJobId = 0;  // the highest job-id answered
  double wallS = 0;
  std::vector<double> ms;  // per request
  std::string firstError;

  double perSecond() const { return wallS > 0 ? ok / wallS : 0; }
  double percentile(double p) const {  // nearest rank
    if (ms.empty()) return 0;
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * s.size()));
    return s[std::clamp<std::size_t>(rank, 1, s.size()) - 1];
  }
  double max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
  // With C clients each waiting for its answer, jobs/s is about C / mean:
  // the mean, not the median, is what throughput pays for a slow tail.
  double mean() const {
    if (ms.empty()) return 0;
    double sum = 0;
    for (double v : ms) sum += v;
    return sum / static_cast<double>(ms.size());
  }
};

// `jobs` Print-Jobs from `clients` threads, each with its own keep-alive
// connection; jobs are handed out from one counter.
LoadResult runLoad(const Target& t, const std::string& doc, int jobs, int clients,
                   const std::string& tag) {
  LoadResult r;
  std::atomic<int> next{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<LoadResult> per(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      LoadResult& mine = per[c];
      http_t* http = connectTo(t);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      if (!http) {
        mine.firstError = "cannot connect";
        return;
      }
      Body body{&doc, 0};
      for (int i = next.fetch_add(1); i < jobs; i = next.fetch_add(1)) {
        JobOutcome o = printJob(http, t, body, tag + "-" + std::to_string(i), "application/pdf");
        mine.ms.push_back(o.ms);
        if (o.ok)
          ++mine.ok;
        else {
          ++mine.failed;
          if (mine.firstError.empty()) mine.firstError = o.error;
        }
        if (o.heldAtAck) ++mine.heldAtAck;
        mine.newestJobId = std::max(mine.newestJobId, o.jobId);
      }
      httpClose(http);
    });
  }
  while (ready.load() < clients) std::this_thread::yield();
  auto t0 = Clock::now();
  go = true;
  for (auto& th : threads) th.join();
  r.wallS = msSince(t0) / 1000.0;
  for (auto& p : per) {
    r.ok += p.ok;
    r.failed += p.failed;
    r.heldAtAck += p.heldAtAck;
    r.newestJobId = std::max(r.newestJobId, p.newestJobId);
    r.ms.insert(r.ms.end(), p.ms.begin(), p.ms.end());
    if (r.firstError.empty()) r.firstError = p.firstError;
  }
  return r;
}

// Polls Get-Job-Attributes (every 5 ms, one connection, at most 60 s) until
// the job has job-pages; the seconds that took, or -1.
double secondsUntilCounted(const Target& t, int jobId) {
  http_t* http = connectTo(t);
  if (!http || jobId <= 0) {
    if (http) httpClose(http);
    return -1;
  }
  const auto t0 = Clock::now();
  double out = -1;
  while (msSince(t0) < 60000) {
    ipp_t* req = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, t.printerUri.c_str());
    ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, kUser);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr,
                 "job-pages");
    ipp_t* resp = cupsDoRequest(http, req, t.resource.c_str());  // frees req
    const bool counted = resp && ippFindAttribute(resp, "job-pages", IPP_TAG_INTEGER);
    ippDelete(resp);
    if (counted) {
      out = msSince(t0) / 1000.0;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  httpClose(http);
  return out;
}

// Get-Jobs (not-completed): how many jobs are pending-held. -1 on error.
int countHeld(const Target& t) {
  http_t* http = connectTo(t);
  if (!http) return -1;
  ipp_t* req = ippNewRequest(IPP_OP_GET_JOBS);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, t.printerUri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, kUser);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr, "not-completed");
  const char* want[] = {"job-id", "job-state"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, nullptr, want);
  ipp_t* resp = cupsDoRequest(http, req, t.resource.c_str());  // frees req
  int held = -1;
  if (resp && ippGetStatusCode(resp) <= IPP_STATUS_OK_EVENTS_COMPLETE) {
    held = 0;
    for (ipp_attribute_t* a = ippFindAttribute(resp, "job-state", IPP_TAG_ENUM); a;
         a = ippFindNextAttribute(resp, "job-state", IPP_TAG_ENUM))
      if (ippGetInteger(a, 0) == IPP_JSTATE_HELD) ++held;
  }
  ippDelete(resp);
  httpClose(http);
  return held;
}

// ---------------------------------------------------------------------------
// Servers

std::string pullprintConfig(std::int64_t maxDocumentBytes) {
  std::ostringstream s;
  s << "# bench_spooler: pullprintd for the spooler benchmark (defaults otherwise).\n"
    << "[ipp]\n"
    << "max_document_bytes = " << maxDocumentBytes << "\n";
  return s.str();
}

// A private cupsd with nothing that throttles submission (MaxJobs 0 comes
// from PrivateCupsd). `syncOnClose` adds `SyncOnClose Yes` to
// cups-files.conf, where CUPS 2.4 reads it; `dirtyClean0` adds
// `DirtyCleanInterval 0` (job control files written at once instead of up to
// 30 s later). PrivateCupsd writes cups-files.conf itself and starts cupsd, so
// for those variants its cupsd is stopped, the directive appended and cupsd
// started again here on the same files and port (the PrivateCupsd keeps the
// directory and its tool helpers).
class Cupsd {
 public:
  Cupsd(bool syncOnClose, bool dirtyClean0) {
    testing::PrivateCupsdOptions o;
    o.logLevel = "warn";
    o.extraConf = {"MaxJobsPerUser 0", "MaxJobsPerPrinter 0", "MaxClients 200"};
    if (dirtyClean0) o.extraConf.push_back("DirtyCleanInterval 0");
    cups_ = std::make_unique<PrivateCupsd>(o);
    if (!syncOnClose) return;
    cups_->stop();
    {
      std::ofstream f(cups_->dir() / "cups-files.conf", std::ios::app);
      f << "SyncOnClose Yes\n";
    }
    testing::ProcessOptions po;
    po.argv = {"cupsd", "-f",
               "-c",    (cups_->dir() / "cupsd.conf").string(),
               "-s",    (cups_->dir() / "cups-files.conf").string()};
    po.logDir = cups_->dir();
    po.logName = "cupsd-sync";
    own_ = std::make_unique<Process>(std::move(po));
    bool up = testing::waitFor(
        [&] {
          if (!own_->running()) return true;
          return testing::tcpPortOpen(cups_->port()) &&
                 cups_->runTool({"lpstat", "-r"}, 5s).out.find("scheduler is running") !=
                     std::string::npos;
        },
        15s, 20ms);
    if (!up || !own_->running())
      throw std::runtime_error("cupsd (SyncOnClose Yes) did not start\n" + own_->describe() +
                               cups_->errorLogTail());
  }
  ~Cupsd() {
    own_.reset();  // stop our cupsd before PrivateCupsd removes the directory
    cups_.reset();
  }
  PrivateCupsd& tools() { return *cups_; }
  pid_t pid() const { return own_ ? own_->pid() : cups_->pid(); }
  void stop() {
    if (own_) own_->terminate(5s);
    cups_->stop();
  }
  std::string describe() const {
    return (own_ ? own_->describe() + "\n" + cups_->errorLogTail() : cups_->describe());
  }

 private:
  std::unique_ptr<PrivateCupsd> cups_;
  std::unique_ptr<Process> own_;
};

std::string dpkgVersion(const std::string& pkg) {
  auto r = testing::runCommand({"dpkg-query", "-W", "-f=${Version}", pkg}, 10s);
  return r.ok() ? r.out : "?";
}

struct Row {
  std::string label;
  int round = 0;
  LoadResult load;
  int heldAfter = -1;
  Memory mem;
  // user+system CPU of the server and every process it started (pullprintd's
  // analysis processes), from the start of the load until the server is idle
  // again (work deferred past the answers, such as page counting, included),
  // per accepted job
  double cpuMsPerJob = 0;
  std::map<std::string, double> cpuMsPerJobByThread;  // same, by thread name (pullprintd)
  // user+system CPU of this benchmark's client threads while they sent the
  // jobs, per accepted job (the same client code for every server)
  double clientCpuMsPerJob = 0;
  // pullprintd's group commit over the run (/metrics deltas); 0 for cupsd
  double writesPerTransaction = 0;  // durable writes per SQLite transaction
  double filesPerSyncRound = 0;     // spool files per sync round
  double journaledShare = 0;        // documents that went through the document journal / ok
  // pullprintd: seconds from the last answer until the job with the highest
  // id has its page count (jobs are analysed in the order they committed,
  // about that of their ids); -1 = not measured
  double countedAfterS = -1;
};

// pullprintd's counters from GET /metrics (loopback needs no credentials);
// empty when the server has none (cupsd).
std::map<std::string, double> scrapeCounters(std::uint16_t port) {
  std::map<std::string, double> out;
  try {
    testing::RawConn c(port);
    if (!c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
      return out;
    testing::HttpResponse r = c.readResponse(10s);
    if (r.status != 200) return out;
    std::istringstream lines(r.body);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#' || line.find('{') != std::string::npos) continue;
      auto sp = line.find(' ');
      if (sp != std::string::npos) out[line.substr(0, sp)] = std::atof(line.c_str() + sp + 1);
    }
  } catch (const std::exception&) {
  }
  return out;
}

// user + system CPU seconds of this process so far (the client threads).
double ownCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds in a /proc .../stat file: utime + stime (fields 14, 15), with
// `reaped_children` also cutime + cstime (16, 17).
// A thread or process that ends between listing and reading counts 0
// (readFile does not throw when the read fails with ESRCH).
double statCpuSeconds(const fs::path& stat, bool reaped_children) {
  const std::string text = testing::readFile(stat);
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  const int last = reaped_children ? 17 : 15;
  double ticks = 0;
  for (int i = 3; i <= last && rest >> field; ++i)
    if (i >= 14) ticks += std::atof(field.c_str());
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// user + system CPU seconds so far of a process, of its children that ended
// and, recursively, of the children still running.
double cpuSeconds(pid_t pid) {
  double seconds = statCpuSeconds("/proc/" + std::to_string(pid) + "/stat", true);
  for (pid_t child : testing::childProcesses(pid)) seconds += cpuSeconds(child);
  return seconds;
}

std::string commOf(const fs::path& comm) {
  std::string name = testing::readFile(comm);
  if (auto nl = name.find('\n'); nl != std::string::npos) name.resize(nl);
  return name;
}

// CPU seconds so far by thread name (/proc/PID/task/*/comm: pullprintd names
// its threads pp-io, pp-commit, ...), plus "child processes": every process
// the server started, running or ended (pullprintd's analysis processes are
// replaced every few hundred documents, so most of their CPU is in ended
// ones). Threads of the same name add up; the entries add up to cpuSeconds().
std::map<std::string, double> cpuByThread(pid_t pid) {
  std::map<std::string, double> out;
  double threads = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const double s = statCpuSeconds(task.path() / "stat", false);
    out[commOf(task.path() / "comm")] += s;
    threads += s;
  }
  // The process's own utime+stime is the sum over its threads, ended ones too;
  // the rest of cpuSeconds() is children. Ended threads (none in pullprintd
  // during a run) would show up there as well.
  out["child processes"] = std::max(0.0, cpuSeconds(pid) - threads);
  return out;
}

// Waits (at most 10 s) until the server's CPU time stops growing; returns it.
double cpuSecondsWhenIdle(pid_t pid) {
  double last = cpuSeconds(pid);
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double now = cpuSeconds(pid);
    if (now - last < 0.005) return now;
    last = now;
  }
  return last;
}

Row measure(const Target& t, const std::string& doc, const Options& o, int round,
            const std::string& tag) {
  Row row;
  row.label = t.label;
  row.round = round;
  const bool pullprint = t.resource == "/printers/followme";
  const auto counters0 = pullprint ? scrapeCounters(t.port) : std::map<std::string, double>{};
  double cpu0 = cpuSeconds(t.serverPid);
  const auto threads0 = cpuByThread(t.serverPid);
  const double client0 = ownCpuSeconds();
  row.load = runLoad(t, doc, o.jobs, o.clients, tag);
  const double client1 = ownCpuSeconds();
  if (pullprint) row.countedAfterS = secondsUntilCounted(t, row.load.newestJobId);
  double cpu1 = cpuSecondsWhenIdle(t.serverPid);
  const auto threads1 = cpuByThread(t.serverPid);
  row.heldAfter = countHeld(t);
  row.mem = readMemory(t.serverPid);
  row.cpuMsPerJob = row.load.ok > 0 ? (cpu1 - cpu0) * 1000.0 / row.load.ok : 0;
  row.clientCpuMsPerJob = row.load.ok > 0 ? (client1 - client0) * 1000.0 / row.load.ok : 0;
  if (pullprint) {
    const auto counters1 = scrapeCounters(t.port);
    auto delta = [&](const char* name) {
      auto before = counters0.find(name), after = counters1.find(name);
      return before == counters0.end() || after == counters1.end() ? 0.0
                                                                   : after->second - before->second;
    };
    if (double tx = delta("pullprint_store_transactions_total"); tx > 0)
      row.writesPerTransaction = delta("pullprint_store_writes_total") / tx;
    if (double rounds = delta("pullprint_spool_sync_rounds_total"); rounds > 0)
      row.filesPerSyncRound = delta("pullprint_spool_files_synced_total") / rounds;
    if (row.load.ok > 0)
      row.journaledShare = delta("pullprint_journaled_documents_total") / row.load.ok;
  }

  if (row.load.ok > 0 && threads1.size() > 1) {  // cupsd has one thread: nothing to split
    for (const auto& [name, seconds] : threads1) {
      auto before = threads0.find(name);
      const double used = seconds - (before == threads0.end() ? 0 : before->second);
      if (used > 0) row.cpuMsPerJobByThread[name] = used * 1000.0 / row.load.ok;
    }
  }
  return row;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void printRounds(const std::vector<Row>& rows, const Options& o) {
  std::printf("\n## Every round (%d Print-Jobs per server and round, %d clients, keep-alive)\n\n",
              o.jobs, o.clients);
  std::printf(
      "| round | server | ok | failed | held at ack | held after | wall s | jobs/s | mean ms | p50 "
      "ms "
      "| p90 ms | p99 ms | max ms | server CPU ms/job | client CPU ms/job | server RSS MiB (peak) "
      "|\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::printf(
        "| %d | %s | %d | %d | %d | %d | %.2f | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | "
        "%.2f | %.1f (%.1f) |\n",
        r.round, r.label.c_str(), r.load.ok, r.load.failed, r.load.heldAtAck, r.heldAfter,
        r.load.wallS, r.load.perSecond(), r.load.mean(), r.load.percentile(0.50),
        r.load.percentile(0.90), r.load.percentile(0.99), r.load.max(), r.cpuMsPerJob,
        r.clientCpuMsPerJob, mib(r.mem.rssKb), mib(r.mem.hwmKb));
  }
  bool any = false;
  for (const Row& r : rows) {
    if (r.cpuMsPerJobByThread.empty()) continue;
    if (!any)
      std::printf(
          "\n## Server CPU by thread, ms per job (same window as the server CPU column)\n\n"
          "| round | server | thread: ms/job |\n|---:|---|---|\n");
    any = true;
    std::string cells;
    for (const auto& [name, ms] : r.cpuMsPerJobByThread) {
      char cell[96];
      std::snprintf(cell, sizeof cell, "%s%s %.3f", cells.empty() ? "" : ", ", name.c_str(), ms);
      cells += cell;
    }
    std::printf("| %d | %s | %s |\n", r.round, r.label.c_str(), cells.c_str());
  }
  any = false;
  for (const Row& r : rows) {
    if (r.writesPerTransaction <= 0) continue;
    if (!any)
      std::printf(
          "\n## pullprintd group commit (GET /metrics before and after the run) and page "
          "counting\n\n"
          "| round | writes per SQLite transaction | documents in the journal (share) | spool "
          "files per sync round | newest job counted, s after the last answer |\n"
          "|---:|---:|---:|---:|---:|\n");
    any = true;
    std::printf("| %d | %.2f | %.2f | %.2f | %.2f |\n", r.round, r.writesPerTransaction,
                r.journaledShare, r.filesPerSyncRound, r.countedAfterS);
  }
  std::fflush(stdout);
}

struct Summary {
  std::string label;
  double jobsPerS = 0, p50 = 0, p99 = 0, cpu = 0, clientCpu = 0;
};

std::vector<Summary> printSummary(const std::vector<Row>& rows,
                                  const std::vector<std::string>& labels, const Options& o) {
  std::vector<Summary> out;
  std::printf("\n## Median of %d round(s): %d Print-Jobs per server and round, %d clients\n\n",
              o.rounds, o.jobs, o.clients);
  std::printf("| server | jobs/s | p50 ms | p99 ms | server CPU ms/job | client CPU ms/job |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const auto& label : labels) {
    std::vector<double> rate, p50, p99, cpu, client;
    for (const Row& r : rows) {
      if (r.label != label) continue;
      rate.push_back(r.load.perSecond());
      p50.push_back(r.load.percentile(0.50));
      p99.push_back(r.load.percentile(0.99));
      cpu.push_back(r.cpuMsPerJob);
      client.push_back(r.clientCpuMsPerJob);
    }
    Summary s{label, median(rate), median(p50), median(p99), median(cpu), median(client)};
    std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f |\n", label.c_str(), s.jobsPerS, s.p50,
                s.p99, s.cpu, s.clientCpu);
    out.push_back(s);
  }
  std::fflush(stdout);
  return out;
}

bool checkRow(const Row& r, int jobs) {
  bool ok = r.load.ok == jobs && r.load.failed == 0 && r.heldAfter == jobs;
  if (!ok)
    std::printf("FAIL %s (round %d): %d/%d accepted, %d held after the run%s%s\n", r.label.c_str(),
                r.round, r.load.ok, jobs, r.heldAfter,
                r.load.firstError.empty() ? "" : "; first error: ", r.load.firstError.c_str());
  return ok;
}

// ---------------------------------------------------------------------------

int run(const Options& o) {
  bool allOk = true;
  TempDir work("pullprint-bench");
  ::chmod(work.path().c_str(), 0755);
  auto pdf = work / "doc.pdf";
  testing::makePdf(pdf, o.pages, "bench");
  const std::string doc = readWholeFile(pdf);
  std::printf("# bench_spooler\n\ndocument: %d-page PDF (Ghostscript), %zu bytes; user '%s'\n",
              o.pages, doc.size(), kUser);
  std::printf("cups %s, pullprintd %s\n", dpkgVersion("cups-daemon").c_str(), o.pullprintd.c_str());
  std::fflush(stdout);

  // Servers are stopped after their phase but their directories are removed
  // only at the end: deleting thousands of spool files between phases would
  // make the next phase's file creation slower (ext4 without a journal skips
  // recently deleted inodes one by one when it allocates a new one).
  std::vector<std::unique_ptr<Pullprintd>> stoppedPullprintd;
  std::vector<std::unique_ptr<Cupsd>> stoppedCupsd;

  if (o.throughput) {
    const std::string ppLabel = "pullprint (SQLite WAL synchronous=FULL, document journal)";
    const std::string cdLabel = "cupsd (default: SyncOnClose No)";
    const std::string csLabel = "cupsd (SyncOnClose Yes)";
    const std::string c0Label = "cupsd (SyncOnClose Yes, DirtyCleanInterval 0)";
    std::vector<std::string> labels;
    if (o.pullprint) labels.push_back(ppLabel);
    if (o.cupsd) labels.push_back(cdLabel);
    if (o.cupsd && o.cupsdSync) labels.push_back(csLabel);
    if (o.cupsd && o.cupsdSync && o.cupsdDirty0) labels.push_back(c0Label);

    // The cupsd held queue's device: an IPP Everywhere printer (never
    // reached: every job stays held).
    std::unique_ptr<testing::IppEvePrinter> printer;
    if (o.cupsd) printer = std::make_unique<testing::IppEvePrinter>();

    std::vector<Row> rows;
    for (int round = 1; round <= o.rounds; ++round) {
      // Rotate the order so that no server always runs first or last.
      for (std::size_t k = 0; k < labels.size(); ++k) {
        const std::string& label = labels[(k + round - 1) % labels.size()];
        std::string tag = "r" + std::to_string(round) + "-" + std::to_string(k);
        if (label == ppLabel) {
          auto pp = std::make_unique<Pullprintd>(o.pullprintd, pullprintConfig(512LL << 20));
          Row row =
              measure(makeTarget(label, pp->port(), "followme", pp->pid()), doc, o, round, tag);
          if (!checkRow(row, o.jobs)) {
            allOk = false;
            std::printf("%s\n", pp->describe().c_str());
          }
          rows.push_back(row);
          pp->stop();
          stoppedPullprintd.push_back(std::move(pp));
        } else {
          bool sync = label == csLabel || label == c0Label;
          auto cups = std::make_unique<Cupsd>(sync, label == c0Label);
          testing::QueueOptions q;
          q.options = {{"job-hold-until-default", "indefinite"}};
          cups->tools().addQueue("held", printer->uri(), q);
          Row row = measure(makeTarget(label, cups->tools().port(), "held", cups->pid()), doc, o,
                            round, tag);
          if (!checkRow(row, o.jobs)) {
            allOk = false;
            std::printf("%s\n", cups->describe().c_str());
          }
          rows.push_back(row);
          cups->stop();
          stoppedCupsd.push_back(std::move(cups));
        }
        std::fprintf(stderr, "round %d: %s: %.0f jobs/s\n", round, label.c_str(),
                     rows.back().load.perSecond());
      }
    }
    printRounds(rows, o);
    auto summary = printSummary(rows, labels, o);
    if (o.pullprint) {
      const Summary& pp = summary.front();
      std::printf("\ntarget pullprint p99 < 20 ms (median of rounds): %.2f ms  %s\n", pp.p99,
                  pp.p99 < 20.0 ? "PASS" : "MISS");
      for (std::size_t i = 1; i < summary.size(); ++i)
        std::printf("target pullprint jobs/s >= %s: %.0f vs %.0f  %s\n", summary[i].label.c_str(),
                    pp.jobsPerS, summary[i].jobsPerS,
                    pp.jobsPerS >= summary[i].jobsPerS ? "PASS" : "MISS");
    }
    std::fflush(stdout);
  }

  if (o.memory) {
    std::int64_t big = static_cast<std::int64_t>(o.bigMb) * 1000 * 1000;
    Pullprintd pp(o.pullprintd,
                  pullprintConfig(std::max<std::int64_t>(512LL << 20, big + (16 << 20))));
    Target t = makeTarget("pullprint", pp.port(), "followme", pp.pid());
    Memory start = readMemory(pp.pid());
    LoadResult load = runLoad(t, doc, o.memoryJobs, o.clients, "mem");
    int held = countHeld(t);
    Memory afterJobs = readMemory(pp.pid());
    if (load.ok != o.memoryJobs || held != o.memoryJobs) {
      allOk = false;
      std::printf("FAIL memory: %d/%d jobs accepted, %d held%s%s\n", load.ok, o.memoryJobs, held,
                  load.firstError.empty() ? "" : "; first error: ", load.firstError.c_str());
    }

    // One big upload on its own connection; RSS sampled meanwhile.
    std::atomic<bool> done{false};
    JobOutcome bigJob;
    std::thread uploader([&] {
      http_t* http = connectTo(t);
      if (http) {
        bigJob = printJob(http, t, Body{nullptr, static_cast<std::size_t>(big)}, "big",
                          "application/octet-stream");
        httpClose(http);
      } else {
        bigJob.error = "cannot connect";
      }
      done = true;
    });
    long peakDuring = 0;
    int samples = 0;
    while (!done) {
      peakDuring = std::max(peakDuring, readMemory(pp.pid()).rssKb);
      ++samples;
      std::this_thread::sleep_for(5ms);
    }
    uploader.join();
    Memory end = readMemory(pp.pid());
    int heldEnd = countHeld(t);
    if (!bigJob.ok || heldEnd != o.memoryJobs + 1) {
      allOk = false;
      std::printf("FAIL big upload: %s, %d held afterwards\n",
                  bigJob.ok ? "accepted" : bigJob.error.c_str(), heldEnd);
    }
    double limitKb = o.rssLimitMb * 1e6 / 1024.0;
    bool rssOk = end.hwmKb > 0 && end.hwmKb < limitKb;
    allOk = allOk && rssOk;

    std::printf("\n## pullprintd memory (VmRSS / VmHWM from /proc/PID/status)\n\n");
    std::printf("| step | VmRSS MiB | VmHWM MiB |\n|---|---:|---:|\n");
    std::printf("| started, idle | %.1f | %.1f |\n", mib(start.rssKb), mib(start.hwmKb));
    std::printf(
        "| %d held jobs (%d accepted in %.1f s, %.0f jobs/s, p99 %.2f ms) | %.1f | %.1f |\n", held,
        load.ok, load.wallS, load.perSecond(), load.percentile(0.99), mib(afterJobs.rssKb),
        mib(afterJobs.hwmKb));
    std::printf("| during one %d MB upload (max of %d samples, every 5 ms) | %.1f | |\n", o.bigMb,
                samples, mib(peakDuring));
    std::printf("| after it (%s in %.1f s, %.0f MB/s) | %.1f | %.1f |\n",
                bigJob.ok ? "accepted" : "FAILED", bigJob.ms / 1000.0,
                bigJob.ms > 0 ? (big / 1e6) / (bigJob.ms / 1000.0) : 0.0, mib(end.rssKb),
                mib(end.hwmKb));
    std::printf("\npeak RSS (VmHWM) %.1f MiB = %.1f MB; limit %.0f MB: %s\n", mib(end.hwmKb),
                end.hwmKb * 1024 / 1e6, o.rssLimitMb, rssOk ? "PASS" : "FAIL");
    std::fflush(stdout);
  }
  std::printf("\nresult: %s\n", allOk ? "PASS" : "FAIL");
  std::fflush(stdout);
  return allOk ? 0 : 1;
}

}  // namespace
}  // namespace pullprint::bench

int main(int argc, char** argv) {
  auto o = pullprint::bench::parseOptions(argc, argv);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_spooler: must run as root (it starts a private cupsd)\n");
    return 2;
  }
  try {
    return pullprint::bench::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_spooler: %s\n", e.what());
    return 2;
  }
}
