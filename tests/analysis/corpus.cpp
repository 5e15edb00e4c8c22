#include "tests/analysis/corpus.h"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace pullprint::spooler::analysis::testing {
namespace fs = std::filesystem;

namespace {

struct CorpusDir {
  fs::path path;
  CorpusDir() {
    std::string templ = (fs::temp_directory_path() / "pullprint-analysis-test-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = templ;
  }
  ~CorpusDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::map<std::string, fs::path>& cache() {
  static std::map<std::string, fs::path> files;
  return files;
}

void require(int status, const std::string& what) {
  if (status != 0) throw std::runtime_error("corpus: failed to " + what);
}

void put32(std::string& s, std::size_t at, uint32_t v) {
  s[at] = static_cast<char>(v >> 24);
  s[at + 1] = static_cast<char>(v >> 16);
  s[at + 2] = static_cast<char>(v >> 8);
  s[at + 3] = static_cast<char>(v);
}

void append32(std::string& s, uint32_t v) {
  s.resize(s.size() + 4);
  put32(s, s.size() - 4, v);
}

// Deterministic pixel lines with runs, literals, repeated lines and white tails.
class LineMaker {
 public:
  explicit LineMaker(uint32_t seed) : state_(seed * 2654435761u + 12345u) {}
  uint32_t next() {
    state_ = state_ * 1664525u + 1013904223u;
    return state_ >> 8;
  }
  std::string line(uint32_t width, uint32_t bpp) {
    std::string px(static_cast<std::size_t>(width) * bpp, '\xff');
    uint32_t x = 0;
    const uint32_t painted = width - (next() % 3 == 0 ? width / 3 : 0);  // white tail
    while (x < painted) {
      const uint32_t len = 1 + next() % 200;
      const bool run = next() % 2 == 0;
      const char v = static_cast<char>(next());
      for (uint32_t i = 0; i < len && x < painted; ++i, ++x)
        for (uint32_t b = 0; b < bpp; ++b)
          px[static_cast<std::size_t>(x) * bpp + b] = run ? v : static_cast<char>(next());
    }
    return px;
  }

 private:
  uint32_t state_;
};

// CUPS/PWG PackBits line encoding (see spooler/analysis/raster.h).
std::string encodeLine(const std::string& px, uint32_t bpp) {
  std::string out;
  const std::size_t n = px.size() / bpp;
  auto pixel = [&](std::size_t i) { return std::string_view(px).substr(i * bpp, bpp); };
  std::size_t i = 0;
  while (i < n) {
    // Rest of the line white -> 128.
    if (px.find_first_not_of('\xff', i * bpp) == std::string::npos && n - i > 1) {
      out.push_back(static_cast<char>(128));
      return out;
    }
    std::size_t run = 1;
    while (i + run < n && run < 128 && pixel(i + run) == pixel(i)) ++run;
    if (run >= 2) {
      out.push_back(static_cast<char>(run - 1));
      out.append(pixel(i));
      i += run;
      continue;
    }
    std::size_t lit = 1;
    while (i + lit < n && lit < 128 && !(i + lit + 1 < n && pixel(i + lit) == pixel(i + lit + 1)))
      ++lit;
    out.push_back(static_cast<char>(257 - lit));
    out.append(px, i * bpp, lit * bpp);
    i += lit;
  }
  return out;
}

std::string encodePage(const RasterPageSpec& p) {
  LineMaker maker(p.seed);
  const uint32_t bpp = p.bits_per_pixel / 8;
  std::string out;
  uint32_t y = 0;
  while (y < p.height) {
    const std::string line = maker.line(p.width, bpp);
    uint32_t repeat = 1 + (maker.next() % 4 == 0 ? maker.next() % 300 : 0);
    if (repeat > 256) repeat = 256;
    if (repeat > p.height - y) repeat = p.height - y;
    out.push_back(static_cast<char>(repeat - 1));
    out += encodeLine(line, bpp);
    y += repeat;
  }
  return out;
}

std::string deflateString(const std::string& head, uint64_t pad) {
  z_stream z{};
  deflateInit(&z, 9);
  std::string out;
  std::array<unsigned char, 1 << 16> buf{};
  const std::string spaces(1 << 20, ' ');
  auto pump = [&](const std::string& in, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    do {
      z.next_out = buf.data();
      z.avail_out = buf.size();
      deflate(&z, flush);
      out.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  pump(head, Z_NO_FLUSH);
  for (uint64_t done = 0; done < pad; done += spaces.size()) pump(spaces, Z_NO_FLUSH);
  pump(std::string(), Z_FINISH);
  deflateEnd(&z);
  return out;
}

}  // namespace

const fs::path& corpusDir() {
  static CorpusDir dir;
  return dir.path;
}

int run(const std::string& command, std::string* output) {
  if (output == nullptr) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) output->append(buf.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path writeFile(const std::string& name, const std::string& bytes) {
  const fs::path path = corpusDir() / name;
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

fs::path gsPdf(const std::string& name, int pages, const std::vector<std::pair<int, int>>& sizes) {
  auto& c = cache();
  if (auto it = c.find(name); it != c.end()) return it->second;
  std::ostringstream ps;
  ps << "%!PS\n/Helvetica findfont 24 scalefont setfont\n/sizes [";
  for (const auto& [w, h] : sizes) ps << "[" << w << " " << h << "] ";
  ps << "] def\n1 1 " << pages
     << " { /n exch def << /PageSize sizes n 1 sub sizes length mod get >> setpagedevice\n"
        "72 300 moveto (Page ) show n 10 string cvs show showpage } for\n";
  const fs::path src = writeFile(name + ".src.ps", ps.str());
  const fs::path out = corpusDir() / name;
  require(run("gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=pdfwrite -o " + out.string() + " " +
              src.string()),
          "make " + name);
  c[name] = out;
  return out;
}

fs::path qpdfVariant(const fs::path& input, const std::string& name, const std::string& args) {
  auto& c = cache();
  if (auto it = c.find(name); it != c.end()) return it->second;
  const fs::path out = corpusDir() / name;
  const int status = run("qpdf " + args + " " + input.string() + " " + out.string());
  require(status == 0 || status == 3 ? 0 : status, "make " + name);  // 3 = warnings
  c[name] = out;
  return out;
}

fs::path gsPs(const fs::path& pdf, const std::string& name) {
  auto& c = cache();
  if (auto it = c.find(name); it != c.end()) return it->second;
  const fs::path out = corpusDir() / name;
  require(run("gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=ps2write -o " + out.string() + " " +
              pdf.string()),
          "make " + name);
  c[name] = out;
  return out;
}

fs::path writePdf(const std::string& name, const PdfSpec& spec) {
  // objects[i] is the body of object i+1.
  std::vector<std::string> objects;
  auto reserve = [&objects]() {
    objects.emplace_back();
    return static_cast<int>(objects.size());
  };
  auto ref = [](int id) { return std::to_string(id) + " 0 R"; };
  const int catalog = reserve();
  const int root = reserve();
  const int content = reserve();
  objects[content - 1] = "<< /Length 0 >>\nstream\n\nendstream";

  std::string nested;
  for (int i = 0; i < spec.nesting_depth; ++i) nested += "[";
  for (int i = 0; i < spec.nesting_depth; ++i) nested += "]";

  std::vector<int> pages;
  for (int i = 0; i < spec.pages; ++i) {
    const int id = reserve();
    const auto& size = spec.sizes[static_cast<std::size_t>(i) % spec.sizes.size()];
    std::string body = "<< ";
    if (!spec.missing_type) body += "/Type /Page ";
    body += "/MediaBox [0 0 " + std::to_string(size.first) + " " + std::to_string(size.second) +
            "] /Contents " + ref(content);
    if (i == 0 && spec.nesting_depth > 0) body += " /PieceInfo " + nested;
    objects[id - 1] = body + " >>";
    pages.push_back(id);
  }
  auto pagesNode = [&](int id, const std::vector<int>& kids, int64_t count) {
    std::string body = "<< /Type /Pages /Kids [";
    for (int k : kids) body += ref(k) + " ";
    objects[id - 1] = body + "] /Count " + std::to_string(count) + " >>";
  };

  std::vector<int> top = pages;
  int64_t truth = spec.pages;
  if (spec.dag_levels > 0) {
    int below = pages.front();
    for (int level = 0; level < spec.dag_levels; ++level) {
      const int id = reserve();
      pagesNode(id, {below, below}, int64_t{2} << level);
      below = id;
    }
    top = {below};
    truth = int64_t{1} << spec.dag_levels;
  }
  if (spec.fanout > 0) {
    while (static_cast<int>(top.size()) > spec.fanout) {
      std::vector<int> next;
      for (std::size_t i = 0; i < top.size(); i += spec.fanout) {
        const int id = reserve();
        std::vector<int> kids(top.begin() + i, top.begin() + std::min(top.size(), i + spec.fanout));
        pagesNode(id, kids, static_cast<int64_t>(kids.size()));  // subtree counts not needed
        next.push_back(id);
      }
      top = next;
    }
  }
  for (int d = 0; d < spec.chain_depth; ++d) {
    const int id = reserve();
    pagesNode(id, top, truth);
    top = {id};
  }
  if (spec.duplicate_kid) top.push_back(pages.back());
  if (spec.cycle) top.push_back(root);
  pagesNode(root, top, spec.forged_count >= 0 ? spec.forged_count : truth);
  objects[catalog - 1] = "<< /Type /Catalog /Pages " + ref(root) + " >>";

  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", spec.broken_xref ? off + 3 : off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root " + ref(catalog) +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return writeFile(name, pdf);
}

fs::path writeObjStmBombPdf(const std::string& name, int pages, uint64_t pad_bytes) {
  // 1 catalog (plain), 2 /Pages and 4.. pages (in object stream 3), xref stream last.
  std::string header, body;
  std::vector<int> in_stream = {2};
  for (int i = 0; i < pages; ++i) in_stream.push_back(4 + i);
  std::vector<std::string> bodies;
  std::string kids;
  for (int i = 0; i < pages; ++i) kids += std::to_string(4 + i) + " 0 R ";
  bodies.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages) +
                   " /MediaBox [0 0 595 842] >>");
  for (int i = 0; i < pages; ++i) bodies.push_back("<< /Type /Page /Parent 2 0 R >>");
  for (std::size_t i = 0; i < in_stream.size(); ++i) {
    header += std::to_string(in_stream[i]) + " " + std::to_string(body.size()) + " ";
    body += bodies[i] + "\n";
  }
  const std::string data = deflateString(header + body, pad_bytes);

  std::string pdf = "%PDF-1.5\n%\xE2\xE3\xCF\xD3\n";
  const std::size_t off1 = pdf.size();
  pdf += "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n";
  const std::size_t off3 = pdf.size();
  pdf += "3 0 obj\n<< /Type /ObjStm /N " + std::to_string(in_stream.size()) + " /First " +
         std::to_string(header.size()) + " /Filter /FlateDecode /Length " +
         std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream\nendobj\n";
  const int xref_id = 4 + pages;
  const std::size_t xref_off = pdf.size();
  std::string entries;
  auto entry = [&entries](int type, uint64_t field2, uint16_t field3) {
    entries.push_back(static_cast<char>(type));
    for (int b = 7; b >= 0; --b) entries.push_back(static_cast<char>(field2 >> (8 * b)));
    entries.push_back(static_cast<char>(field3 >> 8));
    entries.push_back(static_cast<char>(field3));
  };
  entry(0, 0, 65535);
  entry(1, off1, 0);
  entry(2, 3, 0);
  entry(1, off3, 0);
  for (int i = 0; i < pages; ++i) entry(2, 3, static_cast<uint16_t>(1 + i));
  entry(1, xref_off, 0);
  pdf += std::to_string(xref_id) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(xref_id + 1) +
         " /W [1 8 2] /Root 1 0 R /Length " + std::to_string(entries.size()) + " >>\nstream\n" +
         entries + "\nendstream\nendobj\nstartxref\n" + std::to_string(xref_off) + "\n%%EOF\n";
  return writeFile(name, pdf);
}

std::string pwgRaster(const std::vector<RasterPageSpec>& pages) {
  std::string out = "RaS2";
  for (const auto& p : pages) {
    std::string h(1796, '\0');
    h.replace(0, 9, "PwgRaster");
    const uint32_t bpp = p.bits_per_pixel;
    put32(h, 276, p.dpi);
    put32(h, 280, p.dpi);
    put32(h, 352, static_cast<uint32_t>(p.width * 72.0 / p.dpi + 0.5));
    put32(h, 356, static_cast<uint32_t>(p.height * 72.0 / p.dpi + 0.5));
    put32(h, 372, p.width);
    put32(h, 376, p.height);
    put32(h, 384, 8);
    put32(h, 388, bpp);
    put32(h, 392, p.width * bpp / 8);
    put32(h, 396, 0);
    put32(h, 400, p.color_space);
    put32(h, 420, bpp / 8);
    put32(h, 452, static_cast<uint32_t>(pages.size()));
    out += h;
    out += encodePage(p);
  }
  return out;
}

std::string urfRaster(const std::vector<RasterPageSpec>& pages, uint32_t declared_pages) {
  std::string out("UNIRAST\0", 8);
  append32(out, declared_pages);
  for (const auto& p : pages) {
    std::string h(32, '\0');
    h[0] = static_cast<char>(p.bits_per_pixel);
    h[1] = static_cast<char>(p.color_space);
    h[2] = 1;  // one-sided
    h[3] = 4;  // normal quality
    put32(h, 12, p.width);
    put32(h, 16, p.height);
    put32(h, 20, p.dpi);
    out += h;
    out += encodePage(p);
  }
  return out;
}

std::string tinyJpeg(int components) {
  std::string j = "\xFF\xD8";
  j += std::string("\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 18);
  const int length = 8 + 3 * components;
  j += "\xFF\xC0";
  j.push_back(static_cast<char>(length >> 8));
  j.push_back(static_cast<char>(length));
  j += std::string("\x08\x00\x10\x00\x10", 5);
  j.push_back(static_cast<char>(components));
  for (int c = 0; c < components; ++c) j += std::string{static_cast<char>(c + 1), '\x11', '\x00'};
  j += "\xFF\xD9";
  return j;
}

std::string tinyPng(int color_type) {
  std::string p = "\x89PNG\r\n\x1A\n";
  p += std::string("\x00\x00\x00\x0DIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08", 17);
  p.push_back(static_cast<char>(color_type));
  p += std::string("\x00\x00\x00\x00\x00\x00\x00", 7);
  return p;
}

}  // namespace pullprint::spooler::analysis::testing
