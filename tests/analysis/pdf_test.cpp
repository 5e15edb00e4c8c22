// PDF page counting: real files from Ghostscript and qpdf, and hand-made lies.
#include <catch2/catch.hpp>

#include <chrono>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/pdf_pages.h"
#include "tests/analysis/corpus.h"

namespace pullprint::spooler::analysis {
namespace {

using namespace testing;

std::optional<int64_t> qpdfShowNpages(const std::filesystem::path& file) {
  std::string out;
  const int status = run("qpdf --show-npages " + file.string(), &out);
  if (status != 0 && status != 3) return std::nullopt;
  return std::stoll(out);
}

// The fast walk (own node reader) and the libqpdf walk agree on `file`;
// returns whether the fast reader was used (it may fall back to libqpdf).
bool walksAgree(const std::filesystem::path& file) {
  const PdfScan fast = scanPdf(file, Deadline{}, 100000, PdfWalk::kFast);
  const PdfScan slow = scanPdf(file, Deadline{}, 100000, PdfWalk::kQpdf);
  INFO(file.string());
  CHECK_FALSE(slow.fast_path);
  CHECK(fast.pages == slow.pages);
  CHECK(fast.sizes.sizes() == slow.sizes.sizes());
  CHECK(fast.sizes.otherPages() == slow.sizes.otherPages());
  CHECK(fast.cycles == slow.cycles);
  CHECK(fast.bad_kids == slow.bad_kids);
  CHECK(fast.recovered == slow.recovered);
  CHECK(fast.encrypted == slow.encrypted);
  CHECK(fast.hit_page_limit == slow.hit_page_limit);
  CHECK(fast.error == slow.error);
  return fast.fast_path;
}

int64_t sizeCount(const DocumentAnalysis& a, int w, int h) {
  for (const auto& s : a.sizes)
    if (s.width_pt == w && s.height_pt == h) return s.pages;
  return 0;
}

TEST_CASE("PDF variants made by Ghostscript and qpdf count exactly", "[pdf]") {
  const auto plain = gsPdf("plain7.pdf", 7);
  struct Case {
    std::filesystem::path file;
    const char* what;
  };
  const std::vector<Case> cases = {
      {plain, "Ghostscript pdfwrite"},
      {qpdfVariant(plain, "objstm7.pdf", "--object-streams=generate"), "object streams"},
      {qpdfVariant(plain, "linear7.pdf", "--linearize"), "linearized"},
      {qpdfVariant(plain, "enc-empty7.pdf", "--encrypt '' owner 256 --"),
       "AES-256, empty user password"},
      {qpdfVariant(plain, "enc-rc4-7.pdf",
                   "--allow-weak-crypto --encrypt '' owner 128 --use-aes=n --"),
       "RC4-128, empty user password"},
      {qpdfVariant(plain, "pdf20-7.pdf", "--force-version=2.0"), "PDF 2.0"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const DocumentAnalysis a = analyzeFile(c.file, "application/pdf");
    CHECK(a.format == "application/pdf");
    REQUIRE(a.pages.has_value());
    CHECK(*a.pages == 7);
    CHECK(a.confidence == Confidence::kExact);
    CHECK(a.method == "pdf-page-tree");
    CHECK(a.reason.empty());
    CHECK(sizeCount(a, 595, 842) == 7);
    // Cross-check against qpdf on honest files.
    CHECK(qpdfShowNpages(c.file) == a.pages);
    // The files every producer writes are read by the fast node reader.
    CHECK(walksAgree(c.file));
  }
}

TEST_CASE("PDF page sizes tell A4, A3 and Letter apart", "[pdf]") {
  const auto mixed = gsPdf("mixed.pdf", 6, {{595, 842}, {842, 1191}, {612, 792}});
  const DocumentAnalysis a = analyzeFile(mixed, "application/pdf");
  REQUIRE(a.pages == 6);
  CHECK(sizeCount(a, 595, 842) == 2);
  CHECK(sizeCount(a, 842, 1191) == 2);
  CHECK(sizeCount(a, 612, 792) == 2);
  // Landscape pages are normalised to portrait.
  PdfSpec spec;
  spec.pages = 2;
  spec.sizes = {{842, 595}};
  CHECK(sizeCount(analyzeFile(writePdf("landscape.pdf", spec), "application/pdf"), 595, 842) == 2);
}

TEST_CASE("a forged root /Count does not change the count", "[pdf]") {
  PdfSpec spec;
  spec.pages = 500;
  spec.forged_count = 1;
  const auto forged = writePdf("forged-count.pdf", spec);
  CHECK(qpdfShowNpages(forged) == 1);  // the tools that trust /Count are fooled
  const DocumentAnalysis a = analyzeFile(forged, "application/pdf");
  CHECK(a.pages == 500);
  CHECK(a.confidence == Confidence::kExact);
  CHECK(walksAgree(forged));
  // The same lie inside object streams (the fast reader parses them itself).
  const auto forged_objstm =
      qpdfVariant(forged, "forged-count-objstm.pdf", "--object-streams=generate");
  CHECK(analyzeFile(forged_objstm, "application/pdf").pages == 500);
  CHECK(walksAgree(forged_objstm));

  spec.pages = 3;
  spec.forged_count = 2147483647;  // huge /Count
  CHECK(analyzeFile(writePdf("huge-count.pdf", spec), "application/pdf").pages == 3);

  spec.forged_count = 1;  // nested tree with lying counts at every level
  spec.pages = 100;
  spec.fanout = 3;
  const auto tree = writePdf("forged-tree.pdf", spec);
  CHECK(analyzeFile(tree, "application/pdf").pages == 100);
  CHECK(walksAgree(tree));
}

TEST_CASE("page tree oddities", "[pdf]") {
  PdfSpec spec;
  spec.pages = 4;
  SECTION("a kid that loops to an ancestor is skipped") {
    spec.cycle = true;
    const auto a = analyzeFile(writePdf("cycle.pdf", spec), "application/pdf");
    CHECK(walksAgree(writePdf("cycle.pdf", spec)));
    CHECK(a.pages == 4);
    CHECK(a.confidence == Confidence::kEstimated);
    CHECK(a.note.find("looping") != std::string::npos);
  }
  SECTION("a page listed twice prints twice") {
    spec.duplicate_kid = true;
    CHECK(analyzeFile(writePdf("dup.pdf", spec), "application/pdf").pages == 5);
    CHECK(walksAgree(writePdf("dup.pdf", spec)));
  }
  SECTION("pages without /Type still count") {
    spec.missing_type = true;
    CHECK(analyzeFile(writePdf("notype.pdf", spec), "application/pdf").pages == 4);
    CHECK(walksAgree(writePdf("notype.pdf", spec)));
  }
  SECTION("deep chain of /Pages nodes") {
    spec.chain_depth = 5000;
    CHECK(analyzeFile(writePdf("chain.pdf", spec), "application/pdf").pages == 4);
    CHECK(walksAgree(writePdf("chain.pdf", spec)));
  }
  SECTION("broken xref table recovered by qpdf") {
    spec.broken_xref = true;
    spec.pages = 9;
    const auto a = analyzeFile(writePdf("broken-xref.pdf", spec), "application/pdf");
    CHECK(a.pages == 9);
    CHECK(a.confidence == Confidence::kEstimated);
    CHECK(a.note.find("recovered") != std::string::npos);
    walksAgree(writePdf("broken-xref.pdf", spec));
  }
}

TEST_CASE("broken xref of a Ghostscript file is recovered", "[pdf]") {
  std::string out;
  const auto plain = gsPdf("plain7.pdf", 7);
  REQUIRE(run("cat " + plain.string(), &out) == 0);
  // Damage every xref offset digit block and the startxref value.
  const auto xref = out.rfind("\nxref");
  REQUIRE(xref != std::string::npos);
  for (std::size_t i = xref + 5; i < out.size() && i < xref + 400; ++i)
    if (out[i] >= '1' && out[i] <= '8') out[i] = static_cast<char>(out[i] + 1);
  const auto a = analyzeFile(writeFile("gs-broken-xref.pdf", out), "application/pdf");
  CHECK(a.pages == 7);
  CHECK(a.confidence == Confidence::kEstimated);
  walksAgree(writeFile("gs-broken-xref.pdf", out));
}

TEST_CASE("PDF that cannot be opened or parsed is unknown with a reason", "[pdf]") {
  const auto plain = gsPdf("plain7.pdf", 7);
  const auto locked = qpdfVariant(plain, "enc-user7.pdf", "--encrypt user owner 256 --");
  const auto a = analyzeFile(locked, "application/pdf");
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.confidence == Confidence::kUnknown);
  CHECK(a.reason == reason::kPasswordRequired);

  const auto garbage =
      analyzeFile(writeFile("garbage.pdf", "%PDF-1.4\nnothing here\n"), "application/pdf");
  CHECK_FALSE(garbage.pages.has_value());
  CHECK(garbage.reason == reason::kMalformed);
}

TEST_CASE("page-tree DAG blow-up ends at the page limit, quickly", "[pdf][hostile]") {
  PdfSpec spec;
  spec.pages = 1;
  spec.dag_levels = 60;  // 2^60 pages from 62 objects
  AnalysisOptions options;
  options.limits.max_pages = 100000;
  const auto start = std::chrono::steady_clock::now();
  const auto a = analyzeFile(writePdf("dag.pdf", spec), "application/pdf", options);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK_FALSE(a.pages.has_value());
  CHECK(a.reason == reason::kPageLimit);

  spec.dag_levels = 10;  // 1024 pages is fine
  CHECK(analyzeFile(writePdf("dag10.pdf", spec), "application/pdf").pages == 1024);
  CHECK(walksAgree(writePdf("dag10.pdf", spec)));
}

}  // namespace
}  // namespace pullprint::spooler::analysis
