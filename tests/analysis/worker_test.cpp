// AnalysisWorker: a long-lived pullprint-analyze --serve process, with the
// same limits and verdicts as one process per document.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/runner.h"
#include "spooler/analysis/worker.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

WorkerOptions helperOptions(int documents_per_process = 500) {
  WorkerOptions o;
  o.helper = PULLPRINT_ANALYZE_HELPER;
  o.documents_per_process = documents_per_process;
  return o;
}

AnalysisOptions withLimits(milliseconds time, std::size_t memory_mib = 512) {
  AnalysisOptions o;
  o.limits.time = time;
  o.limits.memory_bytes = memory_mib << 20;
  return o;
}

bool alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

// user + system CPU seconds of a process (/proc/PID/stat fields 14 and 15).
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST_CASE("worker: one process analyses many documents, same verdicts as in-process", "[worker]") {
  const auto pdf = gsPdf("worker7.pdf", 7);
  const auto text = writeFile("worker.txt", std::string(130, '\n'));
  AnalysisWorker worker(helperOptions());
  const auto direct = analyzeFile(pdf, "application/pdf");
  pid_t first = -1;
  for (int i = 0; i < 20; ++i) {
    const auto a = worker.analyze(i % 2 == 0 ? pdf : text, i % 2 == 0 ? "application/pdf" : "");
    if (i % 2 == 0) {
      CHECK(a.pages == direct.pages);
      CHECK(a.sizes == direct.sizes);
      CHECK(a.method == direct.method);
    } else {
      CHECK(a.pages == 3);  // 130 lines at 60 per page
    }
    if (i == 0) first = worker.pid();
    CHECK(worker.pid() == first);
  }
  CHECK(worker.processesStarted() == 1);
  CHECK(alive(first));
}

TEST_CASE("worker: replaced after documents_per_process documents", "[worker]") {
  const auto pdf = gsPdf("worker3.pdf", 3);
  AnalysisWorker worker(helperOptions(4));
  std::vector<pid_t> pids;
  for (int i = 0; i < 10; ++i) {
    CHECK(worker.analyze(pdf, "application/pdf").pages == 3);
    pids.push_back(worker.pid());
  }
  CHECK(worker.processesStarted() == 3);
  CHECK(pids[0] == pids[3]);
  CHECK(pids[4] != pids[3]);
  CHECK(pids[4] == pids[7]);
  CHECK(pids[8] != pids[7]);
  CHECK_FALSE(alive(pids[0]));  // the old one was reaped, not left behind
}

TEST_CASE("worker: an endless document hits the time limit, the next one counts", "[worker]") {
  const auto loop = writeFile("worker-loop.ps", "%!PS\n{} loop\n");
  const auto pdf = gsPdf("worker5.pdf", 5);
  AnalysisWorker worker(helperOptions());
  AnalysisOptions o = withLimits(milliseconds(800));
  o.postscript = PostScriptMode::kAlwaysInterpret;
  CHECK(worker.analyze(pdf, "application/pdf", o).pages == 5);
  const pid_t before = worker.pid();
  const auto start = Clock::now();
  const auto a = worker.analyze(loop, "application/postscript", o);
  CHECK(Clock::now() - start < milliseconds(2500));
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kTimeLimit);
  CHECK(worker.analyze(pdf, "application/pdf", o).pages == 5);
  // The worker reported the limit itself, and was replaced all the same.
  CHECK(worker.pid() != before);
  CHECK_FALSE(alive(before));
  CHECK(worker.processesStarted() == 2);
}

TEST_CASE("worker: a zip bomb ends the process at its memory limit, the next one counts",
          "[worker]") {
  const auto bomb = writeObjStmBombPdf("worker-bomb.pdf", 4, uint64_t{1} << 30);
  const auto small = writeObjStmBombPdf("worker-small.pdf", 4, 0);
  AnalysisWorker worker(helperOptions());
  const auto o = withLimits(milliseconds(8000), 256);
  CHECK(worker.analyze(small, "application/pdf", o).pages == 4);
  const pid_t before = worker.pid();
  const auto start = Clock::now();
  const auto a = worker.analyze(bomb, "application/pdf", o);
  CHECK(Clock::now() - start < milliseconds(10000));
  INFO(a.reason << ": " << a.note);
  CHECK_FALSE(a.pages.has_value());
  CHECK((a.reason == reason::kMemoryLimit || a.reason == reason::kTimeLimit));
  CHECK_FALSE(alive(before));
  CHECK(worker.analyze(small, "application/pdf", o).pages == 4);
  CHECK(worker.processesStarted() == 2);
}

TEST_CASE("worker: killed from outside while idle or busy, the analysis still answers",
          "[worker]") {
  const auto pdf = gsPdf("worker4.pdf", 4);
  AnalysisWorker worker(helperOptions());
  CHECK(worker.analyze(pdf, "application/pdf").pages == 4);
  // Idle: the next document goes to a fresh process.
  REQUIRE(kill(worker.pid(), SIGKILL) == 0);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(worker.analyze(pdf, "application/pdf").pages == 4);
  CHECK(worker.processesStarted() == 2);

  // Busy: a crash mid-document is reported as one, never as a count.
  const auto loop = writeFile("worker-loop2.ps", "%!PS\n{} loop\n");
  AnalysisOptions o = withLimits(milliseconds(5000));
  o.postscript = PostScriptMode::kAlwaysInterpret;
  const pid_t victim = worker.pid();
  std::thread killer([victim] {
    std::this_thread::sleep_for(milliseconds(300));
    kill(victim, SIGSEGV);
  });
  const auto a = worker.analyze(loop, "application/postscript", o);
  killer.join();
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kCrashed);
  CHECK(a.note.find("signal " + std::to_string(SIGSEGV)) != std::string::npos);
  CHECK(worker.analyze(pdf, "application/pdf").pages == 4);
  CHECK(worker.processesStarted() == 3);
}

TEST_CASE("worker: the CPU limit is per document, not per process lifetime", "[worker]") {
  // With a 1 s time limit each document may use 2 s of CPU. A worker
  // that has used more than that in total must still analyse the next one.
  std::string page(60 * 71, 'x');
  for (std::size_t i = 70; i < page.size(); i += 71) page[i] = '\n';
  std::string big;
  for (int i = 0; i < 5000; ++i) big += page;  // 21 MB, 5,000 pages of text
  const auto text = writeFile("worker-big.txt", big);
  AnalysisWorker worker(helperOptions(100000));
  const auto o = withLimits(milliseconds(1000));
  int documents = 0;
  for (; documents < 2000; ++documents) {
    const auto a = worker.analyze(text, "text/plain", o);
    INFO(a.reason << ": " << a.note);
    REQUIRE(a.pages == 5000);
    if (cpuSeconds(worker.pid()) > 3.0) break;
  }
  INFO(documents << " documents");
  CHECK(cpuSeconds(worker.pid()) > 3.0);
  CHECK(worker.processesStarted() == 1);
}

TEST_CASE("worker: request frames are bounded and checked", "[worker]") {
  const std::vector<std::string> args{"--mime", "application/pdf", "--", "/spool/00000001-1.doc"};
  const std::string frame = frameWorkerRequest(args);
  auto reader = [](const std::string& bytes) {
    auto at = std::make_shared<std::size_t>(0);
    return [bytes, at](char* out, std::size_t n) {
      if (bytes.size() - *at < n) return false;
      std::copy_n(bytes.data() + *at, n, out);
      *at += n;
      return true;
    };
  };
  std::vector<std::string> back;
  REQUIRE(readWorkerRequest(reader(frame), back));
  CHECK(back == args);
  // Truncated, oversized, and an argument running past the frame: refused.
  CHECK_FALSE(readWorkerRequest(reader(frame.substr(0, frame.size() - 1)), back));
  std::string huge = frame;
  huge[0] = huge[1] = huge[2] = '\xff';
  CHECK_FALSE(readWorkerRequest(reader(huge), back));
  std::string overrun = frame;
  overrun[4] = '\x7f';
  CHECK_FALSE(readWorkerRequest(reader(overrun), back));
}

TEST_CASE("worker: a helper that cannot start gives a clear verdict", "[worker]") {
  WorkerOptions o;
  o.helper = "/nonexistent/pullprint-analyze";
  AnalysisWorker worker(o);
  const auto a = worker.analyze(gsPdf("worker2.pdf", 2), "application/pdf");
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kCrashed);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
