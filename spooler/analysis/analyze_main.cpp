// pullprint-analyze: the exec'd helper of AnalysisRunner (RunnerOptions::helper).
// Analyses one file in-process and writes the encoded verdict (serialize.h) to
// stdout; with --text prints it readably instead (for humans and scripts).
// Exit status 0 when a verdict was written, 2 on bad usage.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/serialize.h"

namespace analysis = pullprint::spooler::analysis;

namespace {

int usage() {
  std::cerr << "usage: pullprint-analyze [--text] [--mime M] [--time-ms N] [--memory BYTES]\n"
               "       [--max-pages N] [--postscript dsc|interpret] [--lines N] [--columns N]\n"
               "       [--tab N] [--gs PATH] [--] FILE\n";
  return 2;
}

bool number(const char* s, long long& out) {
  char* end = nullptr;
  out = std::strtoll(s, &end, 10);
  return end != s && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  analysis::AnalysisOptions options;
  std::string mime;
  std::string file;
  bool text = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--text") {
      text = true;
      continue;
    }
    if (arg == "--") {
      if (i + 1 != argc - 1) return usage();
      file = argv[++i];
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      if (!file.empty()) return usage();
      file = arg;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const char* value = argv[++i];
    long long n = 0;
    if (arg == "--mime")
      mime = value;
    else if (arg == "--gs")
      options.ghostscript = value;
    else if (arg == "--postscript")
      options.postscript = std::string(value) == "interpret"
                               ? analysis::PostScriptMode::kAlwaysInterpret
                               : analysis::PostScriptMode::kDscWhenConsistent;
    else if (!number(value, n) || n < 0)
      return usage();
    else if (arg == "--time-ms")
      options.limits.time = std::chrono::milliseconds(n);
    else if (arg == "--memory")
      options.limits.memory_bytes = static_cast<std::size_t>(n);
    else if (arg == "--max-pages")
      options.limits.max_pages = n;
    else if (arg == "--lines")
      options.text.lines_per_page = static_cast<int>(n);
    else if (arg == "--columns")
      options.text.columns = static_cast<int>(n);
    else if (arg == "--tab")
      options.text.tab_width = static_cast<int>(n);
    else
      return usage();
  }
  if (file.empty()) return usage();

  const analysis::DocumentAnalysis a = analysis::analyzeFile(file, mime, options);
  if (text) {
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
  const std::string bytes = analysis::encodeAnalysis(a);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(1, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return 1;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}
