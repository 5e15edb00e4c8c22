#pragma once
// TextPageCounter: how many pages a plain-text document fills when printed by
// a text filter with a fixed layout (see TextLayout in analysis.h and
// docs/accounting.md).
//
// Rules: a line ends at LF (CRLF counts once; a lone CR returns to column 0
// and starts no line); a page holds lines_per_page lines; a form feed ends
// the current page if it holds anything (a form feed on an empty page is
// ignored); with columns > 0 long lines wrap (UTF-8 aware: continuation bytes
// take no column; tabs advance to the next tab stop). An empty document is 0
// pages; a last line without LF still counts.
//
// Invariants: O(1) memory; any split into chunks gives the same count.
// Thread contract: confined to one thread.

#include <cstdint>
#include <string_view>

#include "spooler/analysis/analysis.h"

namespace pullprint::spooler::analysis {

class TextPageCounter {
 public:
  explicit TextPageCounter(const TextLayout& layout);
  void feed(std::string_view chunk);
  int64_t finish() const;

 private:
  void newLine();

  int lines_per_page_;
  int columns_;
  int tab_width_;
  int64_t pages_done_ = 0;
  int64_t lines_on_page_ = 0;
  int64_t column_ = 0;
  bool line_has_content_ = false;
};

int64_t countTextPages(std::string_view data, const TextLayout& layout);

}  // namespace pullprint::spooler::analysis
