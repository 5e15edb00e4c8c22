#pragma once
// Test corpus for the analysis tests: every document is generated at test
// time into a private temporary directory, each with a known page count.
// Ghostscript and qpdf make the "real world" files; the small writers here
// make the ones no tool would (forged /Count, broken xref, lying DSC, raster
// files with chosen compression, hostile PDFs).
//
// Thread contract: test-only; single-threaded use.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pullprint::spooler::analysis::testing {

// The corpus directory (created on first use, removed at process exit).
const std::filesystem::path& corpusDir();

// Runs a shell command; returns its exit status. Output is discarded unless
// `output` is given (stdout and stderr).
int run(const std::string& command, std::string* output = nullptr);

// Cached: generates once per test process.
// A Ghostscript PDF with `pages` pages; `sizes` cycles through page sizes (pt).
std::filesystem::path gsPdf(const std::string& name, int pages,
                            const std::vector<std::pair<int, int>>& sizes = {{595, 842}});
// qpdf transformation of `input` ("--object-streams=generate", ...).
std::filesystem::path qpdfVariant(const std::filesystem::path& input, const std::string& name,
                                  const std::string& args);
// ps2write of a PDF.
std::filesystem::path gsPs(const std::filesystem::path& pdf, const std::string& name);

struct PdfSpec {
  int pages = 3;
  int64_t forged_count = -1;   // root /Count value; -1 = the true count
  int fanout = 0;              // 0 = flat; else a balanced tree with this many kids per node
  bool cycle = false;          // a /Pages node lists an ancestor among its kids
  bool duplicate_kid = false;  // the last page is listed twice
  bool broken_xref = false;    // every xref offset is wrong (qpdf must reconstruct)
  bool missing_type = false;   // pages without /Type
  int chain_depth = 0;         // pages hang below a chain of this many /Pages nodes
  int dag_levels = 0;          // /Pages DAG: each level lists the next twice (2^levels pages)
  int nesting_depth = 0;       // a page carries an array nested this deep
  std::vector<std::pair<int, int>> sizes{{595, 842}};  // MediaBox per page, cycled
};
// Writes a small hand-made PDF (classic xref table).
std::filesystem::path writePdf(const std::string& name, const PdfSpec& spec);
// A PDF whose page objects live in an object stream padded with `pad_bytes`
// of spaces before compression (a "zip bomb" for the object-stream reader).
std::filesystem::path writeObjStmBombPdf(const std::string& name, int pages, uint64_t pad_bytes);

struct RasterPageSpec {
  uint32_t width = 64;
  uint32_t height = 40;
  uint32_t dpi = 72;
  uint32_t color_space = 18;  // PWG: 18 sgray, 19 srgb; URF: 0 sgray, 1 srgb
  uint32_t bits_per_pixel = 8;
  uint32_t seed = 1;
};
std::string pwgRaster(const std::vector<RasterPageSpec>& pages);
std::string urfRaster(const std::vector<RasterPageSpec>& pages, uint32_t declared_pages);
// Writes bytes to the corpus directory.
std::filesystem::path writeFile(const std::string& name, const std::string& bytes);

// A minimal JPEG header (SOI, APP0, SOF0 with `components`, EOI) and PNG header.
std::string tinyJpeg(int components);
std::string tinyPng(int color_type);

}  // namespace pullprint::spooler::analysis::testing
