#include "spooler/analysis/text_pages.h"

namespace pullprint::spooler::analysis {

TextPageCounter::TextPageCounter(const TextLayout& layout)
    : lines_per_page_(layout.lines_per_page > 0 ? layout.lines_per_page : 60),
      columns_(layout.columns > 0 ? layout.columns : 0),
      tab_width_(layout.tab_width > 0 ? layout.tab_width : 8) {}

void TextPageCounter::newLine() {
  column_ = 0;
  line_has_content_ = false;
  if (++lines_on_page_ == lines_per_page_) {
    ++pages_done_;
    lines_on_page_ = 0;
  }
}

void TextPageCounter::feed(std::string_view chunk) {
  for (char ch : chunk) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        newLine();
        break;
      case '\r':
        column_ = 0;
        break;
      case '\f':
        if (lines_on_page_ > 0 || line_has_content_) {
          ++pages_done_;
          lines_on_page_ = 0;
          column_ = 0;
          line_has_content_ = false;
        }
        break;
      default: {
        int64_t width = 0;
        if (c == '\t') {
          width = tab_width_ - column_ % tab_width_;
        } else if (c >= 0x20 && (c & 0xC0) != 0x80) {
          width = 1;  // printable ASCII or the first byte of a UTF-8 sequence
        }
        if (columns_ > 0 && width > 0 && column_ + width > columns_ && column_ > 0) {
          newLine();  // wrap
          if (c == '\t') width = tab_width_;
        }
        column_ += width;
        line_has_content_ = true;
        break;
      }
    }
  }
}

int64_t TextPageCounter::finish() const {
  return pages_done_ + ((lines_on_page_ > 0 || line_has_content_) ? 1 : 0);
}

int64_t countTextPages(std::string_view data, const TextLayout& layout) {
  TextPageCounter counter(layout);
  counter.feed(data);
  return counter.finish();
}

}  // namespace pullprint::spooler::analysis
