#include "spooler/analysis/ghostscript.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "spooler/analysis/process.h"

namespace pullprint::spooler::analysis {
namespace {

constexpr std::size_t kMaxLine = 512;
constexpr std::size_t kMaxErrorTail = 2048;
constexpr double kChromaticThreshold = 0.0005;
constexpr std::string_view kSizeTag = "PULLPRINT-PAGESIZE ";

// Prints each emitted page's size; returns the default EndPage answer.
constexpr const char* kEndPageHook =
    "<< /EndPage { exch pop dup 2 ne { (PULLPRINT-PAGESIZE ) print "
    "currentpagedevice /PageSize get { =only ( ) print } forall (\\n) print flush } if 2 ne } "
    "bind >> setpagedevice";

// Splits a byte stream into bounded lines.
class LineSplitter {
 public:
  template <typename F>
  void feed(std::string_view chunk, F&& onLine) {
    for (char c : chunk) {
      if (c == '\n') {
        onLine(std::string_view(line_));
        line_.clear();
      } else if (line_.size() < kMaxLine) {
        line_.push_back(c);
      }
    }
  }

 private:
  std::string line_;
};

struct Parsed {
  int64_t pages = 0;
  bool chromatic = false;
  int64_t size_lines = 0;
  SizeTally sizes;
  std::string err_tail;
  std::string first_error;  // Ghostscript reports PostScript errors on stdout
};

void parseInkLine(std::string_view line, Parsed& p) {
  // " 0.00000  0.00000  0.00000  0.02337 CMYK OK"
  std::istringstream in{std::string(line)};
  double c = 0, m = 0, y = 0, k = 0;
  std::string tag;
  if (!(in >> c >> m >> y >> k >> tag) || tag != "CMYK") return;
  ++p.pages;
  const double lo = std::min({c, m, y});
  const double hi = std::max({c, m, y});
  if (hi - lo > kChromaticThreshold) p.chromatic = true;
}

void parseSizeLine(std::string_view line, Parsed& p) {
  if (p.first_error.empty() && line.substr(0, 7) == "Error: ") p.first_error = std::string(line);
  const auto at = line.find(kSizeTag);
  if (at == std::string_view::npos) return;
  std::istringstream in{std::string(line.substr(at + kSizeTag.size()))};
  double w = 0, h = 0;
  if (!(in >> w >> h)) return;
  ++p.size_lines;
  p.sizes.add(w, h);
}

}  // namespace

GhostscriptCount countWithGhostscript(const std::string& executable,
                                      const std::filesystem::path& file, const Deadline& deadline,
                                      std::size_t memory_bytes, int64_t max_pages) {
  GhostscriptCount result;
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  const std::vector<std::string> argv = {executable,
                                         "-q",
                                         "-dSAFER",
                                         "-dBATCH",
                                         "-dNOPAUSE",
                                         "-dNOINTERPOLATE",
                                         "-r10",
                                         "-sDEVICE=inkcov",
                                         "-sOutputFile=/dev/fd/3",
                                         "-c",
                                         kEndPageHook,
                                         "-f",
                                         ec ? file.string() : absolute.string()};

  int out_pipe[2], err_pipe[2], ink_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.error = "pipe failed";
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    result.error = "pipe failed";
    return result;
  }
  if (pipe2(ink_pipe, O_CLOEXEC) != 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    result.error = "pipe failed";
    return result;
  }
  SpawnLimits limits;
  limits.address_space_bytes = memory_bytes;
  limits.cpu_seconds = static_cast<long>(deadline.remaining().count() / 1000) + 1;
  const pid_t pid = spawnWithLimits(argv, out_pipe[1], err_pipe[1], ink_pipe[1], limits);
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(ink_pipe[1]);
  if (pid < 0) {
    for (int fd : {out_pipe[0], err_pipe[0], ink_pipe[0]}) close(fd);
    result.error = "could not start " + executable;
    return result;
  }

  Parsed parsed;
  bool stop = false;
  LineSplitter ink_lines, out_lines;
  std::vector<ChildOutput> outputs;
  outputs.push_back({ink_pipe[0], [&](std::string_view chunk) {
                       ink_lines.feed(chunk, [&](std::string_view l) { parseInkLine(l, parsed); });
                       if (parsed.pages > max_pages) stop = true;
                     }});
  outputs.push_back({out_pipe[0], [&](std::string_view chunk) {
                       out_lines.feed(chunk, [&](std::string_view l) { parseSizeLine(l, parsed); });
                     }});
  outputs.push_back({err_pipe[0], [&](std::string_view chunk) {
                       parsed.err_tail.append(chunk);
                       if (parsed.err_tail.size() > 2 * kMaxErrorTail)
                         parsed.err_tail.erase(0, parsed.err_tail.size() - kMaxErrorTail);
                     }});
  const ChildExit exit = superviseChild(pid, std::move(outputs), deadline, &stop);

  if (parsed.err_tail.size() > kMaxErrorTail)
    parsed.err_tail.erase(0, parsed.err_tail.size() - kMaxErrorTail);
  result.error =
      parsed.first_error.empty() ? parsed.err_tail : parsed.first_error + "; " + parsed.err_tail;
  if (exit.exit_code == 127) {
    result.error = "could not run " + executable;
    return result;
  }
  result.started = true;
  result.timed_out = exit.timed_out || (exit.signal && (*exit.signal == SIGXCPU));
  result.hit_page_limit = exit.stopped || parsed.pages > max_pages;
  result.out_of_memory = result.error.find("VMerror") != std::string::npos ||
                         result.error.find("out of memory") != std::string::npos;
  result.clean_exit = exit.exit_code == 0;
  result.pages = parsed.pages;
  result.sizes = parsed.sizes;
  result.sizes_complete = parsed.size_lines == parsed.pages;
  if (parsed.chromatic) result.color = true;
  return result;
}

}  // namespace pullprint::spooler::analysis
