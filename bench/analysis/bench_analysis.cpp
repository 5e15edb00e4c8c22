// bench_analysis: milliseconds per page count, median of several runs, for
// pullprint's in-process analysis and for the command-line tools that do the
// same job, on the same generated files in the same run.
//
//   bench_analysis [--runs N] [--pages N] [--inner K] [--pdf-only]
//
// Each run times K back-to-back counts (--inner, default 1) and reports the
// median per count, both wall-clock and CPU time (this process's CPU time for
// in-process counting, the children's for command-line tools), because a
// busy machine inflates wall-clock figures. --pdf-only skips the PostScript
// and Ghostscript rows.
//
// Files (made in a temporary directory, removed at exit): a PDF of N pages
// made by Ghostscript (pdfwrite), the same with object streams (qpdf
// --object-streams=generate), the same with root /Count forged to 1, and a
// PostScript file made by ps2write. Command-line tools are timed as processes
// (posix_spawn + wait, output read through a pipe), start-up included.

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <qpdf/QPDF.hh>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/runner.h"

extern char** environ;

namespace analysis = pullprint::spooler::analysis;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Runs argv, returns stdout+stderr (or "" if it could not start).
std::string runTool(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  if (rc != 0) return "";
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

std::string countLines(const std::string& out, const std::string& needle) {
  int64_t n = 0;
  for (auto at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) ++n;
  return std::to_string(n);
}

std::string firstNumber(const std::string& out) {
  std::istringstream in(out);
  std::string word;
  while (in >> word)
    if (!word.empty() && std::all_of(word.begin(), word.end(), ::isdigit)) return word;
  return "?";
}

std::string pdfinfoPages(const std::string& out) {
  const auto at = out.find("Pages:");
  return at == std::string::npos ? "?" : firstNumber(out.substr(at + 6, 32));
}

struct Row {
  std::string file, tool;
  double median_ms;
  double median_cpu_ms;
  std::string pages;
};

// CPU time of this process plus its waited-for children, in ms.
double cpuMs() {
  timespec self{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &self);
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  auto tv = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return self.tv_sec * 1e3 + self.tv_nsec / 1e6 + tv(children.ru_utime) + tv(children.ru_stime);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median wall and CPU ms per count over `runs` runs of `inner` counts each.
std::pair<double, double> medianMs(int runs, int inner, const std::function<std::string()>& body,
                                   std::string& answer) {
  std::vector<double> wall, cpu;
  answer = body();  // warm-up (page cache), not timed
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    const double cpu_start = cpuMs();
    for (int k = 0; k < inner; ++k) answer = body();
    cpu.push_back((cpuMs() - cpu_start) / inner);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / inner);
  }
  return {median(wall), median(cpu)};
}

bool haveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string pages(const analysis::DocumentAnalysis& a) {
  return a.pages
             ? std::to_string(*a.pages) + " (" + std::string(analysis::toString(a.confidence)) + ")"
             : "unknown: " + a.reason;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 11;
  int npages = 500;
  int inner = 1;
  bool pdf_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--pdf-only") {
      pdf_only = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (arg == "--runs")
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--pages")
      npages = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--inner")
      inner = std::max(1, std::atoi(argv[++i]));
  }

  // --- Generate the files -------------------------------------------------
  std::string templ = (fs::temp_directory_path() / "pullprint-bench-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) return 1;
  const fs::path dir = templ;
  const fs::path src = dir / "src.ps", plain = dir / "plain.pdf", objstm = dir / "objstm.pdf",
                 forged = dir / "forged.pdf", ps = dir / "plain.ps";
  std::ofstream(src) << "%!PS\n/Helvetica findfont 24 scalefont setfont\n1 1 " << npages
                     << " { 72 720 moveto (Page ) show 10 string cvs show showpage } for\n";
  auto sh = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  if (sh("gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=pdfwrite -sPAPERSIZE=a4 -o " + plain.string() +
         " " + src.string()) != 0 ||
      sh("qpdf --object-streams=generate " + plain.string() + " " + objstm.string()) > 3 ||
      sh("gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=ps2write -o " + ps.string() + " " +
         plain.string()) != 0) {
    std::cerr << "bench_analysis: could not generate the files (gs, qpdf needed)\n";
    fs::remove_all(dir);
    return 1;
  }
  {  // root /Count forged to 1 (object streams off so the root is plain text)
    std::ifstream in(plain, std::ios::binary);
    std::string pdf((std::istreambuf_iterator<char>(in)), {});
    const std::string from = "/Count " + std::to_string(npages);
    std::string to = "/Count 1";
    to.resize(from.size(), ' ');
    for (auto at = pdf.find(from); at != std::string::npos; at = pdf.find(from, at + 1))
      pdf.replace(at, from.size(), to);
    std::ofstream(forged, std::ios::binary) << pdf;
  }

  // --- Measure ------------------------------------------------------------
  std::vector<Row> rows;
  auto add = [&](const std::string& file, const std::string& tool,
                 const std::function<std::string()>& body, int n = -1) {
    std::string answer;
    const auto [ms, cpu_ms] = medianMs(n > 0 ? n : runs, inner, body, answer);
    rows.push_back({file, tool, ms, cpu_ms, answer});
    std::cerr << "." << std::flush;
  };
  const analysis::AnalysisOptions defaults;
  analysis::AnalysisOptions interpret;
  interpret.postscript = analysis::PostScriptMode::kAlwaysInterpret;

  for (const auto& [name, file] : std::vector<std::pair<std::string, fs::path>>{
           {"plain PDF", plain}, {"object streams", objstm}, {"/Count forged to 1", forged}}) {
    add(name, "pullprint analyzeFile (in-process)",
        [&] { return pages(analysis::analyzeFile(file, "application/pdf", defaults)); });
    add(name, "pullprint analyzeIsolated (fork + rlimits)",
        [&] { return pages(analysis::analyzeIsolated(file, "application/pdf", defaults)); });
    add(name, "libqpdf getAllPages() (in-process)", [&] {
      QPDF q;
      q.setSuppressWarnings(true);
      q.processFile(file.c_str());
      return std::to_string(q.getAllPages().size());
    });
    add(name, "qpdf --show-npages", [&] {
      return firstNumber(runTool({"qpdf", "--show-npages", file.string()}));
    });
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "(" + std::string.
    std::string program = "(";
    program.append(file.string()).append(") (r) file runpdfbegin pdfpagecount = quit");
    add(name, "gs runpdfbegin pdfpagecount", [&] {
      return firstNumber(runTool({"gs", "-dNODISPLAY", "-dNOSAFER", "-q", "-c", program}));
    });
    if (haveTool("pdfinfo"))
      add(name, "pdfinfo", [&] { return pdfinfoPages(runTool({"pdfinfo", file.string()})); });
  }
  const int slow_runs = std::max(3, runs / 3);
  if (!pdf_only) {
    add("PostScript (ps2write)", "pullprint analyzeFile, DSC (in-process)",
        [&] { return pages(analysis::analyzeFile(ps, "application/postscript", defaults)); });
    add(
        "PostScript (ps2write)", "pullprint analyzeFile, always interpret (gs inkcov)",
        [&] { return pages(analysis::analyzeFile(ps, "application/postscript", interpret)); },
        slow_runs);
    add(
        "PostScript (ps2write)", "gs -sDEVICE=bbox, count %%BoundingBox",
        [&] {
          return countLines(runTool({"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox",
                                     "-sOutputFile=/dev/null", ps.string()}),
                            "%%BoundingBox");
        },
        slow_runs);
    add(
        "PostScript (ps2write)", "gs -sDEVICE=nullpage (no count, floor)",
        [&] {
          runTool(
              {"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=nullpage", ps.string()});
          return std::string("-");
        },
        slow_runs);
  }
  std::cerr << "\n";

  std::cout << "Page counting, " << npages << "-page files, median of " << runs << " runs ("
            << slow_runs << " for Ghostscript on PostScript) of " << inner
            << " count(s) each, ms per count\n\n";
  std::cout << "| file | tool | ms (wall) | ms (CPU) | pages counted |\n|---|---|---:|---:|---|\n";
  for (const auto& r : rows) {
    char ms[64];
    std::snprintf(ms, sizeof ms, "%.2f | %.2f", r.median_ms, r.median_cpu_ms);
    std::cout << "| " << r.file << " | " << r.tool << " | " << ms << " | " << r.pages << " |\n";
  }
  fs::remove_all(dir);
  return 0;
}
