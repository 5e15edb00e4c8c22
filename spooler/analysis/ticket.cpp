#include "spooler/analysis/ticket.h"

#include <algorithm>

namespace pullprint::spooler::analysis {
namespace {

using Ranges = std::vector<PageRange>;

bool add(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }
bool mul(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// Sorted, merged, non-overlapping copy of the ranges.
Ranges normalise(Ranges ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const PageRange& a, const PageRange& b) { return a.first < b.first; });
  Ranges merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

// Pages of [from, to] (1-based, inclusive) that the ranges select.
int64_t selectedIn(const Ranges& merged, int64_t from, int64_t to) {
  if (to < from) return 0;
  if (merged.empty()) return to - from + 1;
  int64_t n = 0;
  for (const auto& r : merged) {
    const int64_t lo = std::max(r.first, from);
    const int64_t hi = std::min(r.last, to);
    if (hi >= lo) n += hi - lo + 1;
  }
  return n;
}

struct Unit {
  int64_t impressions = 0;
  int64_t sheets = 0;
};

Unit layOut(int64_t pages, const Ticket& t) {
  Unit u;
  u.impressions = ceilDiv(pages, t.number_up);
  u.sheets = t.sides == Sides::kOneSided ? u.impressions : ceilDiv(u.impressions, 2);
  return u;
}

Counts unknownCounts(std::string note) {
  Counts c;
  c.note = std::move(note);
  return c;
}

}  // namespace

std::optional<MultipleDocumentHandling> parseMultipleDocumentHandling(std::string_view k) {
  using M = MultipleDocumentHandling;
  if (k == "separate-documents-uncollated-copies") return M::kSeparateDocumentsUncollatedCopies;
  if (k == "separate-documents-collated-copies") return M::kSeparateDocumentsCollatedCopies;
  if (k == "single-document") return M::kSingleDocument;
  if (k == "single-document-new-sheet") return M::kSingleDocumentNewSheet;
  return std::nullopt;
}

std::string_view toKeyword(MultipleDocumentHandling h) {
  using M = MultipleDocumentHandling;
  switch (h) {
    case M::kSeparateDocumentsUncollatedCopies:
      return "separate-documents-uncollated-copies";
    case M::kSeparateDocumentsCollatedCopies:
      return "separate-documents-collated-copies";
    case M::kSingleDocument:
      return "single-document";
    case M::kSingleDocumentNewSheet:
      return "single-document-new-sheet";
  }
  return "separate-documents-collated-copies";
}

Counts applyTicket(const std::vector<std::optional<int64_t>>& pages_per_document,
                   const Ticket& ticket) {
  if (ticket.copies < 1) return unknownCounts("copies must be at least 1");
  if (ticket.number_up < 1) return unknownCounts("number-up must be at least 1");
  for (const auto& r : ticket.page_ranges) {
    if (r.first < 1 || r.last < r.first) return unknownCounts("invalid page range");
  }
  for (std::size_t i = 0; i < pages_per_document.size(); ++i) {
    if (!pages_per_document[i] || *pages_per_document[i] < 0)
      return unknownCounts("page count of document " + std::to_string(i + 1) + " is unknown");
  }

  const Ranges ranges = normalise(ticket.page_ranges);
  const bool combined =
      ticket.multiple_document_handling == MultipleDocumentHandling::kSingleDocument ||
      ticket.multiple_document_handling == MultipleDocumentHandling::kSingleDocumentNewSheet;
  // Pages each document contributes after page-ranges.
  std::vector<int64_t> selected;
  int64_t offset = 0;  // pages before this document in the combined document
  for (const auto& pages : pages_per_document) {
    const int64_t n = *pages;
    if (combined) {
      int64_t end = 0;
      if (!add(offset, n, end)) return unknownCounts("page count overflow");
      selected.push_back(selectedIn(ranges, offset + 1, end));
      offset = end;
    } else {
      selected.push_back(selectedIn(ranges, 1, n));
    }
  }

  Unit per_copy;
  if (ticket.multiple_document_handling == MultipleDocumentHandling::kSingleDocument) {
    int64_t total = 0;
    for (int64_t s : selected) {
      if (!add(total, s, total)) return unknownCounts("page count overflow");
    }
    per_copy = layOut(total, ticket);
  } else {
    for (int64_t s : selected) {
      const Unit u = layOut(s, ticket);
      if (!add(per_copy.impressions, u.impressions, per_copy.impressions) ||
          !add(per_copy.sheets, u.sheets, per_copy.sheets))
        return unknownCounts("page count overflow");
    }
  }

  Counts c;
  int64_t impressions_total = 0, sheets_total = 0;
  if (!mul(per_copy.impressions, ticket.copies, impressions_total) ||
      !mul(per_copy.sheets, ticket.copies, sheets_total))
    return unknownCounts("count overflow with copies");
  c.impressions_per_copy = per_copy.impressions;
  c.sheets_per_copy = per_copy.sheets;
  c.impressions_total = impressions_total;
  c.sheets_total = sheets_total;
  return c;
}

std::optional<int64_t> sheetsSavedByDuplex(
    const std::vector<std::optional<int64_t>>& pages_per_document, const Ticket& as_printed) {
  Ticket one_sided = as_printed;
  one_sided.sides = Sides::kOneSided;
  const Counts simplex = applyTicket(pages_per_document, one_sided);
  const Counts printed = applyTicket(pages_per_document, as_printed);
  if (!simplex.sheets_total || !printed.sheets_total) return std::nullopt;
  return *simplex.sheets_total - *printed.sheets_total;
}

}  // namespace pullprint::spooler::analysis
