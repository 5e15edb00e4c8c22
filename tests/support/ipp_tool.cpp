#include "tests/support/ipp_tool.h"

#include <sstream>
#include <stdexcept>

namespace pullprint::testing {

CommandResult runIppTool(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                         const EnvChanges& env) {
  std::vector<std::string> argv = {"ipptool"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions ro;
  ro.env = env;
  return runCommand(argv, timeout, ro);
}

std::vector<std::string> ippToolValues(const std::string& output, const std::string& name) {
  std::vector<std::string> values;
  std::istringstream in(output);
  std::string line;
  const std::string key = name + " (";
  while (std::getline(in, line)) {
    auto p = line.find_first_not_of(" \t");
    if (p == std::string::npos || line.compare(p, key.size(), key) != 0) continue;
    auto eq = line.find(") = ", p);
    if (eq != std::string::npos) values.push_back(line.substr(eq + 4));
  }
  return values;
}

namespace {

// PostScript string literal: escape the characters PostScript treats specially.
std::string psString(const std::string& s) {
  std::string out = "(";
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

void makeDocument(const std::filesystem::path& path, int pages, const std::string& label,
                  const char* device) {
  if (pages < 1) throw std::runtime_error("makeDocument: pages must be >= 1");
  const std::string text = label.empty() ? path.stem().string() : label;
  std::ostringstream ps;
  ps << "/Helvetica findfont 28 scalefont setfont\n";
  for (int i = 1; i <= pages; ++i) {
    ps << "72 720 moveto "
       << psString(text + " page " + std::to_string(i) + " of " + std::to_string(pages))
       << " show 72 680 moveto " << psString("pullprint test document") << " show showpage\n";
  }
  CommandResult r = runCommand({"gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sPAPERSIZE=a4",
                                "-sDEVICE=" + std::string(device), "-o", path.string(), "-"},
                               60000ms, RunOptions{{}, {}, ps.str()});
  if (!r.ok()) throw std::runtime_error("Ghostscript failed: " + r.describe());
}

}  // namespace

void makePdf(const std::filesystem::path& path, int pages, const std::string& label) {
  makeDocument(path, pages, label, "pdfwrite");
}

void makePostScript(const std::filesystem::path& path, int pages, const std::string& label) {
  makeDocument(path, pages, label, "ps2write");
}

}  // namespace pullprint::testing
