#pragma once
// Counts the pages of a PDF by walking its page tree with libqpdf, ignoring
// every /Count entry (the field that qpdf --show-npages, pdfinfo and poppler
// trust, and that a forged file sets to 1).
//
// Walk rules (an iterative depth-first walk from the catalog's /Pages):
// - a dictionary with /Type /Pages, or without /Type /Page but with a /Kids
//   array, is an interior node; any other dictionary is a page (so a page
//   missing its /Type still prints, as in qpdf);
// - a kid that is an ancestor of itself (a cycle) is skipped and noted;
// - a page object listed twice counts twice (it prints twice: qpdf, and so
//   cups-filters, copy duplicated pages);
// - non-dictionary kids are skipped and noted;
// - /MediaBox is inherited down the tree and scaled by /UserUnit.
// Visits are budgeted (max_pages and a node budget) and the deadline is polled,
// so DAG blow-ups and huge trees end with a limit flag, not a hang.
//
// Reading the nodes (PdfWalk::kFast, the default): libqpdf opens the file
// (xref, repair, decryption), then the page-tree nodes are read straight from
// the file, or from object streams that libqpdf decodes, by the strict reader
// in pdf_objects.h, through libqpdf's xref. This skips having libqpdf parse
// and later free every object of every object stream that holds a page node
// (most of the time on object-stream files). Whenever that reader meets
// anything it does not accept (a damaged object, an odd catalog, a bare
// reference, ...) the walk is redone with libqpdf's own objects
// (PdfWalk::kQpdf), which is also what damaged files that qpdf repairs while
// reading get. Both walks apply the rules above identically (one template).
//
// libqpdf runs with recovery on and warnings suppressed; a file that needed
// recovery (broken xref, ...) is flagged `recovered` with qpdf's first warning.
// The xref is read when the file is opened; objects are parsed lazily, so only
// the page tree (and the object streams holding it) is read.
//
// Thread contract: reentrant (one QPDF object per call). Exceptions from
// libqpdf are caught here; none escapes.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "spooler/analysis/byte_source.h"
#include "spooler/analysis/page_sizes.h"

namespace pullprint::spooler::analysis {

struct PdfScan {
  std::optional<int64_t> pages;
  bool password_required = false;
  bool out_of_memory = false;
  bool hit_deadline = false;
  bool hit_page_limit = false;
  bool recovered = false;  // qpdf had to repair the file
  int64_t cycles = 0;      // kids skipped because they loop
  int64_t bad_kids = 0;    // kids that are not dictionaries / /Pages without /Kids
  std::string error;       // why pages is unknown
  std::string warning;     // first qpdf warning when recovered
  std::string version;     // PDF version from the header
  bool encrypted = false;
  bool fast_path = false;  // the nodes were read by pdf_objects.h, not by libqpdf
  SizeTally sizes;
};

enum class PdfWalk {
  kFast,  // own reader of page-tree nodes, libqpdf as fallback (default)
  kQpdf,  // libqpdf objects only (reference for tests and benchmarks)
};

PdfScan scanPdf(const std::filesystem::path& file, const Deadline& deadline, int64_t max_pages,
                PdfWalk mode = PdfWalk::kFast);

}  // namespace pullprint::spooler::analysis
