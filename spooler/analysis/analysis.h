#pragma once
// Document analysis: how many pages a spooled document holds, at which paper
// sizes, and whether it declares colour -- counted the way a printer would
// print it, never the way the document claims.
//
// Invariants
// - A count that could not be determined is std::nullopt with Confidence
//   kUnknown, never 0. A known empty document (an empty text file) is 0.
// - Counts come from the document's structure, never from its own summary
//   fields: PDF page trees are walked (root /Count is ignored), raster files
//   are walked page header by page header (the URF file header's count is
//   ignored), PostScript DSC is only trusted when %%Pages: agrees with the
//   %%Page: markers (otherwise Ghostscript interprets the program).
// - Storage is bounded: at most kMaxDistinctSizes page sizes are kept; pages of
//   further sizes are tallied in pages_of_other_sizes.
// - No exception leaves this module; failures are values (reason + note).
//
// Thread contract
// - analyzeFile() and AnalysisRunner (runner.h) are reentrant and share no
//   state: call them from any number of worker threads at once. They block
//   (file I/O, maybe a Ghostscript subprocess) for up to limits.time, so call
//   them from a blocking-work executor, never from a network thread.
// - analyzeFile() enforces the time limit cooperatively and bounds its own data
//   structures, but cannot cap what libqpdf allocates. On the server, prefer
//   AnalysisRunner, which runs the same code in a child process under
//   RLIMIT_AS/RLIMIT_CPU and a wall-clock kill.
//
// See docs/accounting.md for the counting rules.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pullprint::spooler::analysis {

// How far a page count can be trusted.
enum class Confidence {
  kExact,      // counted from the document's own page structure
  kEstimated,  // derived from claims or layout assumptions; `method`/`note` say how
  kUnknown,    // pages is std::nullopt; `reason`/`note` say why
};
std::string_view toString(Confidence confidence);

// One paper size and how many pages use it. Sizes are in PostScript points,
// rounded to the nearest point and normalised to portrait (width <= height),
// so A4 is 595x842 whatever the page orientation.
struct PageSizeCount {
  int width_pt = 0;
  int height_pt = 0;
  int64_t pages = 0;
  friend bool operator==(const PageSizeCount&, const PageSizeCount&) = default;
};
inline constexpr std::size_t kMaxDistinctSizes = 16;

// Machine-readable reasons, suitable for job-state-reasons and logs.
namespace reason {
inline constexpr std::string_view kTimeLimit = "analysis-time-limit";
inline constexpr std::string_view kMemoryLimit = "analysis-memory-limit";
inline constexpr std::string_view kPageLimit = "analysis-page-limit";
inline constexpr std::string_view kCrashed = "analysis-crashed";
inline constexpr std::string_view kInterpreterFailed = "analysis-interpreter-failed";
inline constexpr std::string_view kUnsupportedFormat = "document-format-not-supported";
inline constexpr std::string_view kFormatMismatch = "document-format-mismatch";
inline constexpr std::string_view kUnreadable = "document-unreadable";
inline constexpr std::string_view kMalformed = "document-format-error";
inline constexpr std::string_view kPasswordRequired = "document-password-required";
}  // namespace reason

struct DocumentAnalysis {
  std::string format;  // detected MIME type ("application/pdf", ...); "" if not recognised
  std::optional<int64_t> pages;
  Confidence confidence = Confidence::kUnknown;
  // How the count was obtained: "pdf-page-tree", "dsc", "ghostscript",
  // "pwg-headers", "urf-headers", "image", "text-lines", or "" when unknown.
  std::string method;
  // Empty when the analysis went as planned; otherwise one of reason::k*.
  // Can be set together with a count (e.g. raster truncated after N pages).
  std::string reason;
  // Human-readable: why estimated or unknown, which limit was hit, what was recovered.
  std::string note;
  std::vector<PageSizeCount> sizes;  // in order of first appearance; empty if unknown
  int64_t pages_of_other_sizes = 0;  // pages beyond the kMaxDistinctSizes table
  // Declared colour use: true = colour, false = monochrome, nullopt = not known cheaply.
  std::optional<bool> color;
};

struct AnalysisLimits {
  std::chrono::milliseconds time{10000};              // wall clock for one document
  std::size_t memory_bytes = std::size_t{512} << 20;  // address space (isolated runs, Ghostscript)
  int64_t max_pages = 1'000'000;  // more pages than this -> unknown, reason kPageLimit
};

// When PostScript is interpreted by Ghostscript rather than counted from DSC.
enum class PostScriptMode {
  kDscWhenConsistent,  // DSC count (Estimated) if consistent, otherwise Ghostscript
  kAlwaysInterpret,    // always Ghostscript (Exact, ~0.6 ms/page)
};

// Plain-text layout assumptions (what a text filter would do).
struct TextLayout {
  int lines_per_page = 60;
  int columns = 0;  // wrap long lines at this many columns; 0 = never wrap
  int tab_width = 8;
};

struct AnalysisOptions {
  AnalysisLimits limits;
  PostScriptMode postscript = PostScriptMode::kDscWhenConsistent;
  TextLayout text;
  std::string ghostscript = "gs";  // executable name (PATH) or absolute path
};

// Analyses `file` in the calling thread. `mime` is the document-format given by
// the client (parameters such as ";charset=utf-8" are ignored); empty or
// "application/octet-stream" means: detect the format from magic bytes. A
// declared format whose magic bytes disagree yields reason kFormatMismatch.
DocumentAnalysis analyzeFile(const std::filesystem::path& file, std::string_view mime,
                             const AnalysisOptions& options = {});

// The same on a memory buffer (tests, tools): the bytes go to a private
// temporary file ($TMPDIR or /tmp) that is removed afterwards. The parsers
// themselves also work on memory (raster.h, dsc.h, text_pages.h).
DocumentAnalysis analyzeBuffer(std::string_view data, std::string_view mime,
                               const AnalysisOptions& options = {});

}  // namespace pullprint::spooler::analysis
