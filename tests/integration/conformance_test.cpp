// Acceptance 3: CUPS's own IPP conformance files against the follow-me queue.
//
// `ipptool -t -I` runs /usr/share/cups/ipptool/ipp-1.1.test and ipp-2.0.test
// (`-V 2.0`), unmodified, from a copy of the directory in which every
// reference document the files name (FILE ...) is generated with
// Ghostscript. A held queue never completes a job, so the steps that wait
// for completion or need a completed job fail, and only those:
//
//   unmodified files        the four steps in kCompletionSteps
//   "Until Job Complete"    (its 30 polls take ~150 s: the slow part)
//   block removed           the three steps in kNeedsCompletedJob
//
// For comparison the same files run against a private cupsd queue held with
// job-hold-until-default=indefinite in front of ippeveprinter. Results and
// the reasons are in docs/ipp-conformance.md; this test prints a summary.
//
// Everything runs at once (one pullprintd / cupsd per run, so that no run
// sees another's jobs): the wall time is that of the slowest run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

const fs::path kIppToolDir = "/usr/share/cups/ipptool";

// ipptool -t prints test names cut to 68 characters.
std::string shortName(const std::string& name) { return name.substr(0, 68); }

const std::string kUntilComplete = "Get-Job-Attributes Until Job Complete";
// Steps that only pass once a job of this run has completed (or was
// cancelled/aborted), which a held queue does not do on its own.
const std::set<std::string> kNeedsCompletedJob = {
    shortName("RFC 8011 section 4.2.6: Get-Jobs Operation (which-jobs=completed)"),
    shortName("RFC 8011 section 4.2.6: Get-Jobs Operation (which-jobs, requested-attributes)"),
    shortName("RFC 8011 section 4.3.3: Cancel-Job Operation (completed job)"),
};

std::set<std::string> completionSteps() {
  std::set<std::string> s = kNeedsCompletedJob;
  s.insert(kUntilComplete);
  return s;
}

// Generates one reference document named `name` (by extension and name).
void makeReferenceDocument(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string ext = path.extension().string();
  const bool letter = name.find("letter") != std::string::npos;
  std::string device;
  if (ext == ".pdf")
    device = "pdfwrite";
  else if (ext == ".ps")
    device = "ps2write";
  else if (ext == ".jpg" || ext == ".jpeg")
    device = name.find("gray") != std::string::npos ? "jpeggray" : "jpeg";
  else
    throw std::runtime_error("no generator for reference document " + name);
  const std::string ps =
      "/Helvetica findfont 36 scalefont setfont 72 600 moveto (" + path.stem().string() +
      ") show 1 0 0 setrgbcolor 72 500 moveto (pullprint conformance) show showpage\n";
  std::vector<std::string> argv = {
      "gs",        "-q",      "-dBATCH",
      "-dNOPAUSE", "-dSAFER", std::string("-sPAPERSIZE=") + (letter ? "letter" : "a4")};
  if (device.rfind("jpeg", 0) == 0) argv.push_back("-r72");
  argv.insert(argv.end(), {"-sDEVICE=" + device, "-o", path.string(), "-"});
  auto r = runCommand(argv, 60s, RunOptions{{}, {}, ps});
  if (!r.ok()) throw std::runtime_error("gs failed for " + name + ": " + r.describe());
}

// FILE names used by a test file (not $variables).
std::set<std::string> referencedFiles(const fs::path& testFile) {
  std::set<std::string> out;
  std::ifstream in(testFile);
  std::string line;
  static const std::regex re(R"RE(^\s*FILE\s+"?([^"\s$][^"\s]*)"?\s*$)RE");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, re)) out.insert(m[1]);
  return out;
}

// Removes every { ... } block whose NAME is `name` (top-level blocks only).
std::string withoutBlock(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line, out, block;
  bool inBlock = false;
  while (std::getline(in, line)) {
    if (!inBlock && line.rfind("{", 0) == 0) {
      inBlock = true;
      block = line + "\n";
      continue;
    }
    if (inBlock) {
      block += line + "\n";
      if (line.rfind("}", 0) == 0) {
        if (block.find("NAME \"" + name + "\"") == std::string::npos) out += block;
        inBlock = false;
      }
      continue;
    }
    out += line + "\n";
  }
  return out;
}

// A copy of the two test files with every reference document generated.
// `removeCompletionWait`: drop the "Until Job Complete" block from ipp-1.1.test.
void prepareTestDir(const fs::path& dir, bool removeCompletionWait) {
  fs::create_directories(dir);
  std::set<std::string> files;
  for (const char* t : {"ipp-1.1.test", "ipp-2.0.test"}) {
    std::string text = readFile(kIppToolDir / t);
    REQUIRE_FALSE(text.empty());
    if (removeCompletionWait && std::string(t) == "ipp-1.1.test") {
      std::string cut = withoutBlock(text, kUntilComplete);
      REQUIRE(cut.size() < text.size());
      text = cut;
    }
    writeFile(dir / t, text);
    auto refs = referencedFiles(dir / t);
    files.insert(refs.begin(), refs.end());
  }
  REQUIRE(files.count("document-a4.pdf"));
  for (const auto& f : files) makeReferenceDocument(dir / f);
}

struct Step {
  std::string name;
  std::string result;  // PASS, FAIL, SKIP
};

struct Run {
  std::string label;
  CommandResult cmd;
  std::vector<Step> steps;
  std::set<std::string> failed() const {
    std::set<std::string> f;
    for (auto& s : steps)
      if (s.result == "FAIL") f.insert(s.name);
    return f;
  }
  int count(const std::string& result) const {
    return static_cast<int>(std::count_if(steps.begin(), steps.end(),
                                          [&](const Step& s) { return s.result == result; }));
  }
  std::string summary() const {
    std::ostringstream o;
    o << label << ": " << steps.size() << " steps, " << count("PASS") << " pass, " << count("FAIL")
      << " fail, " << count("SKIP") << " skip, " << cmd.elapsed.count() << " ms, exit "
      << cmd.exitCode << (cmd.timedOut ? " (TIMED OUT)" : "") << "\n";
    for (auto& f : failed()) o << "    FAIL: " << f << "\n" << failureDetail(f);
    return o.str();
  }
  // ipptool -t prints what it expected and got under a failed step.
  std::string failureDetail(const std::string& name) const {
    std::istringstream in(cmd.out);
    std::string line, out;
    int left = 0;
    while (std::getline(in, line)) {
      if (left > 0 && line.find("[PASS]") == std::string::npos &&
          line.find("[FAIL]") == std::string::npos && line.find("[SKIP]") == std::string::npos) {
        out += "      " + line + "\n";
        --left;
      } else {
        left = 0;
      }
      if (line.find(name) != std::string::npos && line.find("[FAIL]") != std::string::npos)
        left = 8;
    }
    return out;
  }
};

std::vector<Step> parseSteps(const std::string& out) {
  std::vector<Step> steps;
  static const std::regex re(R"(^    (\S.*?)\s+\[(PASS|FAIL|SKIP)\]\s*$)");
  std::istringstream in(out);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, re)) steps.push_back({m[1], m[2]});
  return steps;
}

// ipptool -t -I [-V 2.0] -f document-a4.pdf URI FILE, run inside `dir`.
std::future<Run> startRun(std::string label, fs::path dir, std::string uri, std::string file,
                          EnvChanges env) {
  return std::async(std::launch::async, [=] {
    std::vector<std::string> argv = {"ipptool", "-t", "-I"};
    if (file == "ipp-2.0.test") argv.insert(argv.end(), {"-V", "2.0"});
    argv.insert(argv.end(), {"-f", "document-a4.pdf", uri, file});
    RunOptions ro;
    ro.workDir = dir;
    ro.env = env;
    Run r;
    r.label = label;
    r.cmd = runCommand(argv, 280s, ro);
    r.steps = parseSteps(r.cmd.out);
    return r;
  });
}

// A private cupsd queue held by default, in front of ippeveprinter.
struct CupsHeldQueue {
  PrivateCupsd cups;
  IppEvePrinter printer;
  CupsHeldQueue() {
    QueueOptions q;
    q.options = {{"job-hold-until-default", "indefinite"}};
    cups.addQueue("held", printer.uri(), q);
  }
  std::string uri() const { return cups.queueUri("held"); }
};

}  // namespace

TEST_CASE("ipptool ipp-1.1 / ipp-2.0 against the follow-me queue and a cupsd held queue",
          "[conformance][slow]") {
  TempDir work("itest-conformance");
  fs::permissions(work.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  const fs::path unmodified = work / "ipptool";
  const fs::path modified = work / "ipptool-no-completion-wait";
  prepareTestDir(unmodified, false);
  prepareTestDir(modified, true);

  // One server per run: results must not depend on another run's jobs.
  PullprintServer pp11, pp20, ppm11, ppm20;
  for (auto* s : {&pp11, &pp20, &ppm11, &ppm20}) s->start();
  CupsHeldQueue cq11, cq20, cqm11;

  EnvChanges ppEnv;
  ppEnv.set = {{"CUPS_SERVERROOT", (work / "client").string()},
               {"HOME", (work / "client").string()}};
  fs::create_directories(work / "client");

  std::vector<std::future<Run>> futures;
  futures.push_back(
      startRun("pullprint ipp-1.1 (unmodified)", unmodified, pp11.uri(), "ipp-1.1.test", ppEnv));
  futures.push_back(
      startRun("pullprint ipp-2.0 (unmodified)", unmodified, pp20.uri(), "ipp-2.0.test", ppEnv));
  futures.push_back(startRun("cupsd held ipp-1.1 (unmodified)", unmodified, cq11.uri(),
                             "ipp-1.1.test", cq11.cups.clientEnv()));
  futures.push_back(startRun("cupsd held ipp-2.0 (unmodified)", unmodified, cq20.uri(),
                             "ipp-2.0.test", cq20.cups.clientEnv()));
  futures.push_back(startRun("pullprint ipp-1.1 (no completion wait)", modified, ppm11.uri(),
                             "ipp-1.1.test", ppEnv));
  futures.push_back(startRun("pullprint ipp-2.0 (no completion wait)", modified, ppm20.uri(),
                             "ipp-2.0.test", ppEnv));
  futures.push_back(startRun("cupsd held ipp-1.1 (no completion wait)", modified, cqm11.uri(),
                             "ipp-1.1.test", cqm11.cups.clientEnv()));
  std::vector<Run> runs;
  for (auto& f : futures) runs.push_back(f.get());

  std::ostringstream all;
  for (auto& r : runs) all << r.summary();
  std::cout << "--- ipptool conformance summary ---\n" << all.str() << std::flush;
  INFO(all.str());

  for (auto& r : runs) {
    INFO(r.label << "\n" << r.cmd.out.substr(0, 200) << "\n" << r.cmd.err);
    CHECK_FALSE(r.cmd.timedOut);
    CHECK(r.steps.size() > 60);  // the files ran to their end
  }

  const Run& pp11r = runs[0];
  const Run& pp20r = runs[1];
  const Run& cq11r = runs[2];
  const Run& cq20r = runs[3];
  const Run& ppm11r = runs[4];
  const Run& ppm20r = runs[5];
  const Run& cqm11r = runs[6];

  // pullprint, unmodified files: only completion steps fail, and all of them do.
  CHECK(pp11r.failed() == completionSteps());
  CHECK(pp20r.failed() == completionSteps());
  // The IPP/2.0 file adds PWG 5100.12 required attributes: passed.
  CHECK(std::any_of(pp20r.steps.begin(), pp20r.steps.end(), [](const Step& s) {
    return s.name.rfind("PWG 5100.12 section 6.2", 0) == 0 && s.result == "PASS";
  }));
  // Without the wait: exactly the three steps that need a completed job.
  CHECK(ppm11r.failed() == kNeedsCompletedJob);
  CHECK(ppm20r.failed() == kNeedsCompletedJob);
  // Hold and release as ipptool tests them.
  for (const Run* r : {&pp11r, &ppm11r}) {
    for (const char* name : {"Print-Job with job-hold-until", "Release-Job"}) {
      INFO(r->label << ": " << name);
      CHECK(std::any_of(r->steps.begin(), r->steps.end(),
                        [&](const Step& s) { return s.name == name && s.result == "PASS"; }));
    }
  }

  // cupsd's held queue, for comparison: it, too, fails the completion wait,
  // and nothing outside the completion steps.
  for (const Run* r : {&cq11r, &cq20r}) {
    INFO(r->label);
    CHECK(r->failed().count(kUntilComplete) == 1);
    for (auto& f : r->failed()) CHECK(completionSteps().count(f) == 1);
  }
  for (auto& f : cqm11r.failed()) CHECK(kNeedsCompletedJob.count(f) == 1);
}

// The direct queue prints at once (release engine, printer behind it), so
// jobs complete and the unmodified files must pass in full: no step is
// excused here.
TEST_CASE("ipptool ipp-1.1 / ipp-2.0 pass completely against the direct queue",
          "[conformance][slow]") {
  TempDir work("itest-conformance-direct");
  fs::permissions(work.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  const fs::path unmodified = work / "ipptool";
  prepareTestDir(unmodified, false);

  IppEvePrinter eve11, eve20;
  auto directTo = [](const IppEvePrinter& eve) {
    ServerOptions so;
    so.toml =
        "[release]\ndirect_printer = \"eve\"\npoll_interval_ms = 50\n\n"
        "[[printer]]\nname = \"eve\"\nuri = \"" +
        eve.uri() + "\"\n";
    return so;
  };
  PullprintServer pp11(directTo(eve11)), pp20(directTo(eve20));
  pp11.start();
  pp20.start();

  EnvChanges env;
  env.set = {{"CUPS_SERVERROOT", (work / "client").string()}, {"HOME", (work / "client").string()}};
  fs::create_directories(work / "client");
  auto f11 =
      startRun("pullprint direct ipp-1.1", unmodified, pp11.uri("direct"), "ipp-1.1.test", env);
  auto f20 =
      startRun("pullprint direct ipp-2.0", unmodified, pp20.uri("direct"), "ipp-2.0.test", env);
  std::vector<Run> runs = {f11.get(), f20.get()};

  for (const Run& r : runs) {
    std::cout << r.summary() << std::flush;
    INFO(r.summary() << r.cmd.out.substr(0, 400) << "\n"
                     << r.cmd.err << "\nserver log:\n"
                     << (&r == &runs[0] ? pp11 : pp20).log().substr(0, 4000));
    CHECK_FALSE(r.cmd.timedOut);
    CHECK(r.steps.size() > 60);
    CHECK(r.failed().empty());
    CHECK(r.cmd.exitCode == 0);
  }
}
