// Hostile documents: limits on time and memory, isolation in a child process.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/runner.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

AnalysisOptions withLimits(milliseconds time, std::size_t memory_mib = 512) {
  AnalysisOptions o;
  o.limits.time = time;
  o.limits.memory_bytes = memory_mib << 20;
  return o;
}

TEST_CASE("PostScript infinite loop hits the time limit and returns promptly", "[hostile]") {
  const auto loop = writeFile("loop.ps", "%!PS\n{} loop\n");
  const auto options = withLimits(milliseconds(1000));

  auto start = Clock::now();
  const auto a = analyzeFile(loop, "application/postscript", options);
  CHECK(Clock::now() - start < milliseconds(2500));
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kTimeLimit);
  CHECK(a.note.find("Ghostscript did not finish") != std::string::npos);

  start = Clock::now();
  const auto b = analyzeIsolated(loop, "application/postscript", options);
  CHECK(Clock::now() - start < milliseconds(3000));
  CHECK(b.reason == reason::kTimeLimit);

  // Loop after lying DSC: the fallback runs and is cut off just the same.
  const auto lying =
      writeFile("lying-loop.ps", "%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\n{} loop\n%%EOF\n");
  CHECK(analyzeFile(lying, "", options).reason == reason::kTimeLimit);
}

TEST_CASE("PostScript memory hog hits the memory limit", "[hostile]") {
  const auto hog =
      writeFile("hog.ps", "%!PS\n[ 1 1 100000 { pop 65000 string } for ] pop showpage\n");
  const auto a = analyzeFile(hog, "application/postscript", withLimits(milliseconds(5000), 128));
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kMemoryLimit);
}

TEST_CASE("object-stream zip bomb is bounded by the isolated runner", "[hostile]") {
  // 4 pages inside an object stream that inflates to ~1 GiB.
  const auto bomb = writeObjStmBombPdf("objstm-bomb.pdf", 4, uint64_t{1} << 30);
  REQUIRE(std::filesystem::file_size(bomb) < (8u << 20));
  const auto start = Clock::now();
  const auto a = analyzeIsolated(bomb, "application/pdf", withLimits(milliseconds(8000), 256));
  CHECK(Clock::now() - start < milliseconds(10000));
  INFO(a.reason << ": " << a.note);
  CHECK_FALSE(a.pages.has_value());
  CHECK((a.reason == reason::kMemoryLimit || a.reason == reason::kTimeLimit));

  // The same structure without padding is an ordinary 4-page file.
  const auto small = writeObjStmBombPdf("objstm-small.pdf", 4, 0);
  CHECK(analyzeFile(small, "application/pdf").pages == 4);
  CHECK(analyzeIsolated(small, "application/pdf").pages == 4);
}

TEST_CASE("deeply nested PDF objects stay bounded", "[hostile]") {
  PdfSpec spec;
  spec.pages = 4;
  spec.nesting_depth = 100000;
  const auto deep = writePdf("deep-nesting.pdf", spec);
  const auto start = Clock::now();
  const auto a = analyzeIsolated(deep, "application/pdf", withLimits(milliseconds(5000), 256));
  CHECK(Clock::now() - start < milliseconds(6000));
  // qpdf refuses the object holding the nested value (it becomes null, as in
  // qpdf-based print pipelines); the other pages count, flagged as estimated.
  CHECK(a.pages == 3);
  CHECK(a.confidence == Confidence::kEstimated);
  CHECK(a.note.find("deeply nested") != std::string::npos);
}

TEST_CASE("isolated results equal in-process results", "[hostile][runner]") {
  const auto plain = gsPdf("plain7.pdf", 7);
  const auto direct = analyzeFile(plain, "application/pdf");
  const auto forked = analyzeIsolated(plain, "application/pdf");
  CHECK(forked.pages == direct.pages);
  CHECK(forked.sizes == direct.sizes);
  CHECK(forked.method == direct.method);
  CHECK(forked.confidence == direct.confidence);

  RunnerOptions exec;
  exec.helper = PULLPRINT_ANALYZE_HELPER;
  const AnalysisRunner runner(exec);
  const auto helped = runner.analyze(plain, "application/pdf");
  CHECK(helped.pages == direct.pages);
  CHECK(helped.sizes == direct.sizes);
  const auto loop = writeFile("loop2.ps", "%!PS\n{} loop\n");
  const auto start = Clock::now();
  CHECK(runner.analyze(loop, "application/postscript", withLimits(milliseconds(800))).reason ==
        reason::kTimeLimit);
  CHECK(Clock::now() - start < milliseconds(2500));
}

TEST_CASE("analyses run concurrently from worker threads", "[hostile][runner]") {
  const auto plain = gsPdf("plain7.pdf", 7);
  const auto ps = gsPs(plain, "plain7.ps");
  std::vector<std::future<std::optional<int64_t>>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      AnalysisOptions o;
      o.postscript = PostScriptMode::kAlwaysInterpret;
      if (i % 2 == 0) return analyzeIsolated(i % 4 == 0 ? plain : ps, "", o).pages;
      return analyzeFile(i % 4 == 1 ? plain : ps, "", o).pages;
    }));
  }
  for (auto& r : results) CHECK(r.get() == 7);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
