#pragma once
// Job ticket application: turns per-document page counts into impressions
// (printed sides) and sheets, the way a printer lays a job out.
//
// Order of operations, per "layout unit":
//   page-ranges select pages -> number-up packs N pages per side (a side is
//   an impression) -> sides puts 1 or 2 impressions on a sheet -> copies
//   repeat the whole unit.
// Layout units by multiple-document-handling (RFC 8011 5.2.4):
//   separate-documents-collated-copies / -uncollated-copies: each document is
//     its own unit (starts a new sheet); page-ranges apply per document;
//     collation changes the order only, never the counts.
//   single-document: all documents are one stream of pages: number-up and
//     two-sided continue across document boundaries; page-ranges apply to
//     the combined document.
//   single-document-new-sheet: one job whose documents each start on a new
//     sheet (so number-up and sides restart per document); page-ranges apply
//     to the combined document.
// Counting rules (see docs/accounting.md):
//   impressions count printed sides only: the blank back of an odd-length
//   two-sided unit is not an impression; sheets are physical paper.
//   *_per_copy is one copy of the job (IPP job-impressions excludes copies,
//   RFC 8011 5.3.17.2); *_total includes copies (job-media-sheets includes
//   copies, 5.3.17.3; accounting uses totals).
// Invariants: any unknown document count, an invalid ticket or an int64
// overflow yields all-unknown Counts with a note; never 0 for unknown.
// Thread contract: pure functions; reentrant.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sides.h"

namespace pullprint::spooler::analysis {

// IPP "sides" (core/sides.h), shared with the policies.
using pullprint::parseSides;
using pullprint::Sides;
using pullprint::toKeyword;

enum class MultipleDocumentHandling {
  kSeparateDocumentsUncollatedCopies,
  kSeparateDocumentsCollatedCopies,
  kSingleDocument,
  kSingleDocumentNewSheet,
};

// IPP keyword <-> enum ("two-sided-long-edge", "single-document-new-sheet", ...).
std::optional<MultipleDocumentHandling> parseMultipleDocumentHandling(std::string_view keyword);
std::string_view toKeyword(MultipleDocumentHandling handling);

// 1-based inclusive page range, as IPP page-ranges (rangeOfInteger).
struct PageRange {
  int64_t first = 1;
  int64_t last = 1;
};

struct Ticket {
  int64_t copies = 1;
  std::vector<PageRange> page_ranges;  // empty = all pages; overlaps count once
  int64_t number_up = 1;
  Sides sides = Sides::kOneSided;
  MultipleDocumentHandling multiple_document_handling =
      MultipleDocumentHandling::kSeparateDocumentsCollatedCopies;
};

struct Counts {
  std::optional<int64_t> impressions_per_copy;  // IPP job-impressions
  std::optional<int64_t> sheets_per_copy;
  std::optional<int64_t> impressions_total;  // accounting: printed sides
  std::optional<int64_t> sheets_total;       // IPP job-media-sheets; accounting: paper
  std::string note;                          // why unknown
  bool known() const { return sheets_total.has_value(); }
};

// Counts for one job: `pages_per_document` in submission order.
Counts applyTicket(const std::vector<std::optional<int64_t>>& pages_per_document,
                   const Ticket& ticket);

// Sheets saved by two-sided printing for a job as printed with `as_printed`
// (after policy changes): sheets one-sided minus sheets as printed; 0 for a
// one-sided job; unknown if either count is.
std::optional<int64_t> sheetsSavedByDuplex(
    const std::vector<std::optional<int64_t>>& pages_per_document, const Ticket& as_printed);

}  // namespace pullprint::spooler::analysis
