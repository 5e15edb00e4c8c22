// Ticket application: impressions and sheets as a printer lays the job out.
#include <catch2/catch.hpp>

#include "spooler/analysis/ticket.h"

namespace pullprint::spooler::analysis {
namespace {

using M = MultipleDocumentHandling;
using Docs = std::vector<std::optional<int64_t>>;

struct Row {
  const char* what;
  Docs docs;
  Ticket ticket;
  int64_t impressions_per_copy, sheets_per_copy, impressions_total, sheets_total;
};

Ticket t(int64_t copies, Sides sides, int64_t up = 1, std::vector<PageRange> ranges = {},
         M mdh = M::kSeparateDocumentsCollatedCopies) {
  Ticket ticket;
  ticket.copies = copies;
  ticket.sides = sides;
  ticket.number_up = up;
  ticket.page_ranges = std::move(ranges);
  ticket.multiple_document_handling = mdh;
  return ticket;
}

constexpr Sides k1 = Sides::kOneSided;
constexpr Sides k2 = Sides::kTwoSidedLongEdge;

TEST_CASE("ticket table: impressions and sheets", "[ticket]") {
  const std::vector<Row> rows = {
      {"5 pages, 2 copies, two-sided = 10 sides on 6 sheets", {5}, t(2, k2), 5, 3, 10, 6},
      {"7 pages 2-up two-sided = 4 sides on 2 sheets", {7}, t(1, k2, 2), 4, 2, 4, 2},
      {"one page one-sided", {1}, t(1, k1), 1, 1, 1, 1},
      {"odd two-sided: blank back is not an impression", {3}, t(1, k2), 3, 2, 3, 2},
      {"short edge counts like long edge", {3}, t(1, Sides::kTwoSidedShortEdge), 3, 2, 3, 2},
      {"4-up, 9 pages one-sided", {9}, t(1, k1, 4), 3, 3, 3, 3},
      {"4-up, 9 pages two-sided", {9}, t(1, k2, 4), 3, 2, 3, 2},
      {"4-up, 5 pages two-sided, 3 copies", {5}, t(3, k2, 4), 2, 1, 6, 3},
      {"number-up 16 with fewer pages", {3}, t(1, k1, 16), 1, 1, 1, 1},
      {"page-ranges 2-4 of 10", {10}, t(1, k1, 1, {{2, 4}}), 3, 3, 3, 3},
      {"page-ranges beyond the end are clipped", {5}, t(1, k1, 1, {{4, 100}}), 2, 2, 2, 2},
      {"overlapping page-ranges count once", {10}, t(1, k1, 1, {{1, 5}, {3, 7}}), 7, 7, 7, 7},
      {"two page-ranges, 2-up two-sided", {20}, t(2, k2, 2, {{1, 3}, {10, 12}}), 3, 2, 6, 4},
      {"page-ranges selecting nothing", {3}, t(1, k1, 1, {{5, 9}}), 0, 0, 0, 0},
      {"empty document", {0}, t(3, k2), 0, 0, 0, 0},
      {"no documents", {}, t(1, k1), 0, 0, 0, 0},
      // Several documents.
      {"separate collated: each document on new sheets", {3, 3}, t(2, k2), 6, 4, 12, 8},
      {"separate uncollated: same counts as collated",
       {3, 3},
       t(2, k2, 1, {}, M::kSeparateDocumentsUncollatedCopies),
       6,
       4,
       12,
       8},
      {"single-document: two-sided across documents",
       {3, 3},
       t(2, k2, 1, {}, M::kSingleDocument),
       6,
       3,
       12,
       6},
      {"single-document-new-sheet: documents restart sheets",
       {3, 3},
       t(2, k2, 1, {}, M::kSingleDocumentNewSheet),
       6,
       4,
       12,
       8},
      {"single-document: number-up packs across documents",
       {3, 2},
       t(1, k1, 4, {}, M::kSingleDocument),
       2,
       2,
       2,
       2},
      {"separate: number-up per document", {3, 2}, t(1, k1, 4), 2, 2, 2, 2},
      {"single-document 4-up two-sided across docs",
       {5, 5, 5},
       t(1, k2, 4, {}, M::kSingleDocument),
       4,
       2,
       4,
       2},
      {"separate 4-up two-sided, 3 docs of 5", {5, 5, 5}, t(1, k2, 4), 6, 3, 6, 3},
      {"page-ranges per document when separate", {4, 4}, t(1, k1, 1, {{1, 2}}), 4, 4, 4, 4},
      {"page-ranges on the combined document when single",
       {4, 4},
       t(1, k1, 1, {{3, 6}}, M::kSingleDocument),
       4,
       4,
       4,
       4},
      {"page-ranges on the combined document, new-sheet",
       {3, 3},
       t(1, k2, 1, {{3, 4}}, M::kSingleDocumentNewSheet),
       2,
       2,
       2,
       2},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const Counts c = applyTicket(row.docs, row.ticket);
    REQUIRE(c.known());
    CHECK(*c.impressions_per_copy == row.impressions_per_copy);
    CHECK(*c.sheets_per_copy == row.sheets_per_copy);
    CHECK(*c.impressions_total == row.impressions_total);
    CHECK(*c.sheets_total == row.sheets_total);
  }
}

TEST_CASE("unknown pages or invalid tickets give unknown, never 0", "[ticket]") {
  const Counts unknown_doc = applyTicket({5, std::nullopt}, t(1, k1));
  CHECK_FALSE(unknown_doc.known());
  CHECK_FALSE(unknown_doc.impressions_total.has_value());
  CHECK(unknown_doc.note.find("document 2") != std::string::npos);

  CHECK_FALSE(applyTicket({5}, t(0, k1)).known());
  CHECK_FALSE(applyTicket({5}, t(1, k1, 0)).known());
  CHECK_FALSE(applyTicket({5}, t(1, k1, 1, {{3, 2}})).known());
  CHECK_FALSE(applyTicket({5}, t(1, k1, 1, {{0, 2}})).known());
  // Overflow is unknown, not a wrapped number.
  CHECK_FALSE(
      applyTicket({INT64_MAX / 2, INT64_MAX / 2, 10}, t(1, k1, 1, {}, M::kSingleDocument)).known());
  CHECK_FALSE(applyTicket({INT64_MAX / 4}, t(1000, k1)).known());
}

TEST_CASE("sheets saved by duplex and recounting under a policy ticket", "[ticket]") {
  const Docs docs = {5};
  // As submitted: one-sided, 2 copies -> 10 sheets.
  Ticket submitted = t(2, k1);
  CHECK(*applyTicket(docs, submitted).sheets_total == 10);
  CHECK(*sheetsSavedByDuplex(docs, submitted) == 0);
  // Policy forces two-sided: accounting uses the post-policy counts.
  Ticket forced = submitted;
  forced.sides = k2;
  const Counts after = applyTicket(docs, forced);
  CHECK(*after.sheets_total == 6);
  CHECK(*after.impressions_total == 10);
  CHECK(*sheetsSavedByDuplex(docs, forced) == 4);
  // 2-up two-sided 7 pages: one-sided 2-up would be 4 sheets, as printed 2.
  CHECK(*sheetsSavedByDuplex({7}, t(1, k2, 2)) == 2);
  CHECK_FALSE(sheetsSavedByDuplex({std::nullopt}, forced).has_value());
}

TEST_CASE("IPP keywords map both ways", "[ticket]") {
  for (auto s : {Sides::kOneSided, Sides::kTwoSidedLongEdge, Sides::kTwoSidedShortEdge})
    CHECK(parseSides(toKeyword(s)) == s);
  for (auto m : {M::kSeparateDocumentsCollatedCopies, M::kSeparateDocumentsUncollatedCopies,
                 M::kSingleDocument, M::kSingleDocumentNewSheet})
    CHECK(parseMultipleDocumentHandling(toKeyword(m)) == m);
  CHECK_FALSE(parseSides("three-sided").has_value());
  CHECK_FALSE(parseMultipleDocumentHandling("").has_value());
}

}  // namespace
}  // namespace pullprint::spooler::analysis
