// Own parsers on memory buffers: DSC scanning, wire encoding, and the
// checked-in fuzz seeds (each must parse without trouble).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "spooler/analysis/dsc.h"
#include "spooler/analysis/pdf_objects.h"
#include "spooler/analysis/raster.h"
#include "spooler/analysis/serialize.h"
#include "spooler/analysis/text_pages.h"

namespace pullprint::spooler::analysis {
namespace {

TEST_CASE("DSC scanner: header, trailer, markers, nesting", "[dsc]") {
  const std::string ps =
      "%!PS-Adobe-3.0\r\n%%Pages: (atend)\r\n%%DocumentMedia: Letter 612 792 0 () ()\r\n"
      "%%+ A4 595 842 0 () ()\r\n%%EndComments\r\n%%Page: 1 1\r\n"
      "%%BeginDocument: inner.eps\n%!PS-Adobe-3.0 EPSF-3.0\n%%Pages: 9\n%%Page: 1 1\n"
      "%%EndDocument\n%%Page: 2 2\r%%Trailer\n%%Pages: 2\n%%EOF";
  const DscSummary d = scanDsc(ps);
  CHECK(d.conforming);
  CHECK_FALSE(d.eps);
  CHECK(d.header_atend);
  CHECK_FALSE(d.header_pages.has_value());
  CHECK(d.trailer_pages == 2);
  CHECK(d.page_markers == 2);  // the embedded EPS's marker is not ours
  CHECK(d.media_entries == 2);
  CHECK(d.media_width_pt == 612.0);
  CHECK(d.media_height_pt == 792.0);

  // Same summary for every chunking (CR/LF pairs split across chunks too).
  for (std::size_t step : {1, 2, 5, 13}) {
    DscScanner scanner;
    for (std::size_t i = 0; i < ps.size(); i += step)
      scanner.feed(std::string_view(ps).substr(i, step));
    const DscSummary& s = scanner.finish();
    CHECK(s.page_markers == d.page_markers);
    CHECK(s.trailer_pages == d.trailer_pages);
    CHECK(s.lines == d.lines);
  }

  CHECK(scanDsc("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n").eps);
  CHECK_FALSE(scanDsc("%!PS\n%%Pages: 3\n").conforming);
  // A %%Pages: after the header (in the body) is not the header's claim.
  CHECK_FALSE(scanDsc("%!PS-Adobe-3.0\n%%EndComments\n%%Pages: 3\n").header_pages.has_value());
  // Very long lines are truncated, not buffered.
  CHECK(scanDsc("%!PS-Adobe-3.0\n" + std::string(1 << 20, 'x') + "\n%%Page: 1 1\n").page_markers ==
        1);
}

TEST_CASE("wire encoding round-trips and rejects garbage", "[runner]") {
  DocumentAnalysis a;
  a.format = "application/pdf";
  a.pages = 12;
  a.confidence = Confidence::kEstimated;
  a.method = "pdf-page-tree";
  a.reason = "document-format-error";
  a.note = std::string("with \0 bytes", 12);
  a.sizes = {{595, 842, 10}, {842, 1191, 2}};
  a.pages_of_other_sizes = 3;
  a.color = false;
  const std::string wire = encodeAnalysis(a);
  const auto back = decodeAnalysis(wire);
  REQUIRE(back.has_value());
  CHECK(back->pages == a.pages);
  CHECK(back->confidence == a.confidence);
  CHECK(back->note == a.note);
  CHECK(back->sizes == a.sizes);
  CHECK(back->pages_of_other_sizes == 3);
  CHECK(back->color == std::optional<bool>(false));
  for (std::size_t cut = 0; cut < wire.size(); ++cut)
    CHECK_FALSE(decodeAnalysis(wire.substr(0, cut)));
  CHECK_FALSE(decodeAnalysis(wire + "x"));
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_CASE("PDF object reader: the syntax a page tree uses", "[pdfobj]") {
  using Kind = pdf::Value::Kind;
  const std::string page =
      "<< /Type /Page /Parent 4 0 R /MediaBox [ 0 0 595.5 -.5 ] /UserUnit +2 % comment\n"
      "/Resources << /Font << /F1 7 0 R >> /ProcSet [/PDF/Text] >> /T (a (b) c\\) d) /H <41 42>"
      "/N#61me true /Z null /Kids[1 0 R 2 0 R 3] >>";
  std::size_t at = 0;
  const auto v = pdf::parseObject(page, at);
  REQUIRE(v.has_value());
  CHECK(at == page.size());
  CHECK(v->kind == Kind::kDict);
  CHECK(v->find("/Type")->name == "/Page");
  CHECK(v->find("/Parent")->kind == Kind::kRef);
  CHECK(v->find("/Parent")->ref_num == 4);
  const pdf::Value* box = v->find("/MediaBox");
  REQUIRE(box->items.size() == 4);
  CHECK(box->items[2].number == 595.5);
  CHECK(box->items[3].number == -0.5);
  CHECK(v->find("/UserUnit")->number == 2);
  CHECK(v->find("/T")->kind == Kind::kString);
  CHECK(v->find("/Name")->boolean);
  CHECK(v->find("/Z")->kind == Kind::kNull);
  const pdf::Value* kids = v->find("/Kids");
  REQUIRE(kids->items.size() == 3);
  CHECK(kids->items[1].kind == Kind::kRef);
  CHECK(kids->items[1].ref_num == 2);
  CHECK(kids->items[2].kind == Kind::kNumber);
  CHECK(v->find("/Count") == nullptr);

  // Indirect objects: the header must match; a dictionary before `stream` is a stream.
  const std::string file = "%PDF-1.4\n5 0 obj\n<< /Length 1 >>\nstream\nx\nendstream\nendobj\n";
  CHECK(pdf::parseIndirectObject(file, 9, 5, 0)->kind == Kind::kStream);
  CHECK_FALSE(pdf::parseIndirectObject(file, 9, 6, 0).has_value());
  CHECK_FALSE(pdf::parseIndirectObject(file, 9, 5, 1).has_value());
  CHECK_FALSE(pdf::parseIndirectObject(file, 3, 5, 0).has_value());

  // Object stream header.
  const std::string stream = "10 0 11 11 << /A 1 >> [ 2 ]";
  const auto header = pdf::parseObjectStreamHeader(stream, 2, 11);
  REQUIRE(header.has_value());
  REQUIRE(header->size() == 2);
  CHECK((*header)[1].num == 11);
  std::size_t pos = (*header)[1].at;
  CHECK(pdf::parseObject(stream, pos)->kind == Kind::kArray);
  CHECK_FALSE(pdf::parseObjectStreamHeader(stream, 3, 11).has_value());
  CHECK_FALSE(pdf::parseObjectStreamHeader(stream, 2, 1000).has_value());
  CHECK_FALSE(pdf::parseObjectStreamHeader("10 0 11 99 ", 2, 11).has_value());
}

TEST_CASE("PDF object reader refuses what it does not fully understand", "[pdfobj]") {
  for (const std::string bad : {
           "<< /A 1 /A 2 >>",        // duplicated key: qpdf decides
           "<< /A >>",               // key without value
           "<< /A 1 ",               // unterminated
           "[ 1 2 ",                 // unterminated
           "(abc",                   // unterminated string
           "<4G>",                   // bad hex string
           "/A#4",                   // bad name escape
           "/A#00",                  // NUL in a name
           "1.2.3",                  // not a number
           "--1",                    // not a number
           "1234567890123456789",    // integer too long to be exact
           "{ }",                    // PostScript procedure
           "<< /A obj >>",           // keyword
           "<< 1 2 >>",              // key not a name
           ">>",                     //
           "",                       //
           "   % only a comment\n",  //
       }) {
    INFO(bad);
    std::size_t at = 0;
    CHECK_FALSE(pdf::parseObject(bad, at).has_value());
  }
  std::string deep(pdf::kMaxDepth + 2, '[');
  deep += std::string(pdf::kMaxDepth + 2, ']');
  std::size_t at = 0;
  CHECK_FALSE(pdf::parseObject(deep, at).has_value());
  std::string shallow(pdf::kMaxDepth, '[');
  shallow += std::string(pdf::kMaxDepth, ']');
  at = 0;
  CHECK(pdf::parseObject(shallow, at).has_value());
}

TEST_CASE("fuzz seed corpus parses cleanly", "[fuzz-seeds]") {
  const std::filesystem::path root = PULLPRINT_FUZZ_CORPUS;
  REQUIRE(std::filesystem::exists(root));
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string data = slurp(entry.path());
    const std::string target = entry.path().parent_path().filename().string();
    INFO(entry.path().string());
    ++files;
    MemorySource source(data);
    if (target == "pwg_raster") {
      CHECK(scanPwgRaster(source, RasterLimits{}).valid_header);
    } else if (target == "urf") {
      CHECK(scanUrf(source, RasterLimits{}).valid_header);
    } else if (target == "dsc") {
      scanDsc(data);
    } else if (target == "text") {
      countTextPages(data, TextLayout{});
    } else if (target == "pdf_objects") {
      std::size_t at = 0;
      const bool deep = entry.path().filename().string().starts_with("deep");
      CHECK(pdf::parseObject(data, at).has_value() == !deep);
    }
  }
  CHECK(files >= 8);
}

}  // namespace
}  // namespace pullprint::spooler::analysis
