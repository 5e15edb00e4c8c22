// pullprint-analyze: the helper executable of the document analysis.
// - With a file: analyses it in-process and writes the encoded verdict
//   (serialize.h) to stdout (AnalysisRunner's exec mode); with --text prints
//   it readably instead (for humans and scripts).
// - With --serve: a long-lived analysis process for AnalysisWorker
//   (worker.h), one document per request read from stdin.
// Exit status 0 when a verdict was written (or --serve reached EOF), 2 on bad
// usage, 3 out of memory, 4 internal error.

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/child.h"
#include "spooler/analysis/process.h"
#include "spooler/analysis/serialize.h"
#include "spooler/analysis/worker.h"

namespace analysis = pullprint::spooler::analysis;

namespace {

int usage() {
  std::cerr << "usage: pullprint-analyze [--text] [--mime M] [--time-ms N] [--memory BYTES]\n"
               "       [--max-pages N] [--postscript dsc|interpret] [--lines N] [--columns N]\n"
               "       [--tab N] [--gs PATH] [--] FILE\n"
               "       pullprint-analyze --serve\n";
  return 2;
}

bool number(const std::string& s, long long& out) {
  char* end = nullptr;
  out = std::strtoll(s.c_str(), &end, 10);
  return end != s.c_str() && *end == '\0';
}

struct Request {
  analysis::AnalysisOptions options;
  std::string mime;
  std::string file;
  bool text = false;
};

// Parses the one-document arguments (also the payload of a --serve request).
bool parse(const std::vector<std::string>& args, Request& r) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--text") {
      r.text = true;
      continue;
    }
    if (arg == "--") {
      if (i + 1 != args.size() - 1) return false;
      r.file = args[++i];
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      if (!r.file.empty()) return false;
      r.file = arg;
      continue;
    }
    if (i + 1 >= args.size()) return false;
    const std::string& value = args[++i];
    long long n = 0;
    if (arg == "--mime")
      r.mime = value;
    else if (arg == "--gs")
      r.options.ghostscript = value;
    else if (arg == "--postscript")
      r.options.postscript = value == "interpret" ? analysis::PostScriptMode::kAlwaysInterpret
                                                  : analysis::PostScriptMode::kDscWhenConsistent;
    else if (!number(value, n) || n < 0)
      return false;
    else if (arg == "--time-ms")
      r.options.limits.time = std::chrono::milliseconds(n);
    else if (arg == "--memory")
      r.options.limits.memory_bytes = static_cast<std::size_t>(n);
    else if (arg == "--max-pages")
      r.options.limits.max_pages = n;
    else if (arg == "--lines")
      r.options.text.lines_per_page = static_cast<int>(n);
    else if (arg == "--columns")
      r.options.text.columns = static_cast<int>(n);
    else if (arg == "--tab")
      r.options.text.tab_width = static_cast<int>(n);
    else
      return false;
  }
  return !r.file.empty();
}

// Reads exactly `size` bytes; false on EOF or error.
bool readAll(int fd, char* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// --serve: analyses one document per request from fd 0 until EOF, answering
// each on fd 1 (framing in worker.h). The CPU limit is re-armed per document;
// the address-space limit was set by the server for the whole process.
int serve() {
  for (;;) {
    std::vector<std::string> args;
    if (!analysis::readWorkerRequest([](char* out, std::size_t n) { return readAll(0, out, n); },
                                     args))
      return 0;  // EOF: the server is done with this process
    Request r;
    if (!parse(args, r) || r.text) return 2;
    struct rusage used {};
    getrusage(RUSAGE_SELF, &used);
    const rlim_t spent = static_cast<rlim_t>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) + 1;
    struct rlimit cpu {};
    getrlimit(RLIMIT_CPU, &cpu);
    cpu.rlim_cur = spent + static_cast<rlim_t>(analysis::cpuSeconds(r.options));
    if (cpu.rlim_max != RLIM_INFINITY && cpu.rlim_cur > cpu.rlim_max) cpu.rlim_cur = cpu.rlim_max;
    setrlimit(RLIMIT_CPU, &cpu);
    std::string reply;
    try {
      reply = analysis::frameWorkerReply(
          analysis::encodeAnalysis(analysis::analyzeFile(r.file, r.mime, r.options)));
    } catch (const std::bad_alloc&) {
      return analysis::kExitOutOfMemory;  // the heap may be in any state: start afresh
    } catch (...) {
      return analysis::kExitInternal;
    }
    if (!analysis::writeAll(1, reply)) return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--serve") return serve();
  Request r;
  if (!parse(std::vector<std::string>(argv + 1, argv + argc), r)) return usage();
  const analysis::DocumentAnalysis a = analysis::analyzeFile(r.file, r.mime, r.options);
  if (r.text) {
    std::cout << "format: " << a.format
              << "\npages: " << (a.pages ? std::to_string(*a.pages) : std::string("unknown"))
              << "\nconfidence: " << analysis::toString(a.confidence) << "\nmethod: " << a.method
              << "\nreason: " << a.reason << "\nnote: " << a.note
              << "\ncolor: " << (a.color ? (*a.color ? "yes" : "no") : "unknown") << "\n";
    for (const auto& s : a.sizes)
      std::cout << "size: " << s.width_pt << "x" << s.height_pt << " pt: " << s.pages << "\n";
    if (a.pages_of_other_sizes > 0) std::cout << "other sizes: " << a.pages_of_other_sizes << "\n";
    return 0;
  }
  return analysis::writeAll(1, analysis::encodeAnalysis(a)) ? 0 : 1;
}
