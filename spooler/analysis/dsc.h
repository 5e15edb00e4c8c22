#pragma once
// DscScanner: streaming scan of PostScript Document Structuring Conventions
// (DSC 3.0) comments, to count pages without interpreting the program and to
// spot documents whose comments contradict themselves.
//
// What is collected (only at nesting depth 0, i.e. outside
// %%BeginDocument/%%EndDocument blocks of embedded files):
// - the %!PS-Adobe-x.y header (and whether it says EPSF),
// - %%Pages: in the header (a number or "(atend)") and in the trailer
//   (after %%Trailer),
// - the number of %%Page: markers,
// - the first %%DocumentMedia: entry and how many entries there are.
// The decision what to trust is made by the caller (see analyze.cpp and
// docs/accounting.md); the scanner only reports.
//
// Invariants: O(1) memory (lines are truncated to kMaxLine bytes, which DSC
// limits lines to anyway); any split of the input into chunks gives the same
// summary. Lines end at LF, CR or CRLF.
// Thread contract: confined to one thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pullprint::spooler::analysis {

struct DscSummary {
  bool conforming = false;               // first line starts with "%!PS-Adobe-"
  bool eps = false;                      // header line says EPSF
  std::optional<int64_t> header_pages;   // numeric %%Pages: in the header
  bool header_atend = false;             // %%Pages: (atend) in the header
  std::optional<int64_t> trailer_pages;  // numeric %%Pages: after %%Trailer
  int64_t page_markers = 0;              // %%Page: lines at depth 0
  int64_t media_entries = 0;             // %%DocumentMedia: entries (incl. %%+ lines)
  std::optional<double> media_width_pt;  // first %%DocumentMedia: entry
  std::optional<double> media_height_pt;
  int64_t lines = 0;
};

class DscScanner {
 public:
  static constexpr std::size_t kMaxLine = 256;

  void feed(std::string_view chunk);
  // Ends the input (a last line without newline is processed) and returns the summary.
  const DscSummary& finish();
  const DscSummary& summary() const { return summary_; }

 private:
  void endLine();
  void processLine(std::string_view line);

  DscSummary summary_;
  std::string line_;          // current line, at most kMaxLine bytes kept
  bool previous_cr_ = false;  // last byte was CR (so a following LF ends nothing)
  bool in_trailer_ = false;
  bool in_header_ = true;        // until %%EndComments or the first non-comment line
  bool last_was_media_ = false;  // %%+ continues %%DocumentMedia:
  int depth_ = 0;                // %%BeginDocument nesting
  bool finished_ = false;
};

// Convenience: scans a whole buffer.
DscSummary scanDsc(std::string_view data);

}  // namespace pullprint::spooler::analysis
