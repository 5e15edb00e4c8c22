#include "spooler/analysis/pdf_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qpdf/Buffer.hh>
#include <qpdf/BufferInputSource.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <cmath>
#include <new>
#include <set>
#include <vector>

namespace pullprint::spooler::analysis {
namespace {

constexpr int64_t kBaseNodeBudget = 1'000'000;
// Files up to this size are read into memory; larger ones are mapped.
constexpr std::size_t kReadWholeLimit = std::size_t{16} << 20;

// The PDF's bytes for libqpdf. qpdf's own FileInputSource reads through
// stdio with a seek per object, which costs 3x the whole page-tree walk on a
// 500-page file; a memory-backed BufferInputSource avoids that. Small files
// are copied (immune to the file changing underneath); large ones are
// mmap()ed (lazy, no copy). The spool file must not be truncated while it is
// analysed (SIGBUS) -- the spooler writes it completely before analysis.
class PdfBytes {
 public:
  explicit PdfBytes(const std::filesystem::path& file) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      size_ = static_cast<std::size_t>(st.st_size);
      if (size_ <= kReadWholeLimit) {
        copy_.resize(size_);
        std::size_t got = 0;
        while (got < size_) {
          const ssize_t n = pread(fd, copy_.data() + got, size_ - got, static_cast<off_t>(got));
          if (n <= 0) break;
          got += static_cast<std::size_t>(n);
        }
        size_ = got;
        data_ = copy_.data();
      } else {
        void* map = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
          mapped_ = map;
          data_ = static_cast<unsigned char*>(map);
        }
      }
    }
    close(fd);
  }
  ~PdfBytes() {
    if (mapped_ != nullptr) munmap(mapped_, size_);
  }
  PdfBytes(const PdfBytes&) = delete;
  PdfBytes& operator=(const PdfBytes&) = delete;

  bool ok() const { return data_ != nullptr && size_ > 0; }
  // Non-owning qpdf view of the bytes; valid while this object lives.
  std::shared_ptr<InputSource> source(const std::string& name) const {
    // Buffer(unsigned char*, size_t) does not take ownership.
    return std::make_shared<BufferInputSource>(name, new Buffer(data_, size_), /*own=*/true);
  }

 private:
  std::vector<unsigned char> copy_;
  void* mapped_ = nullptr;
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};
constexpr int64_t kDeadlinePollNodes = 256;

struct Box {
  double width = 0;
  double height = 0;
  bool known = false;
};

std::optional<Box> rectangleOf(QPDFObjectHandle value) {
  if (!value.isArray() || value.getArrayNItems() != 4) return std::nullopt;
  double v[4];
  for (int i = 0; i < 4; ++i) {
    QPDFObjectHandle item = value.getArrayItem(i);
    if (!item.isNumber()) return std::nullopt;
    v[i] = item.getNumericValue();
  }
  return Box{std::fabs(v[2] - v[0]), std::fabs(v[3] - v[1]), true};
}

std::string nameOf(QPDFObjectHandle value) { return value.isName() ? value.getName() : ""; }

// One interior node being walked: its kids and the attributes it passes down.
struct Frame {
  QPDFObjectHandle kids;
  int next = 0;
  int count = 0;
  QPDFObjGen id;
  Box box;
};

class TreeWalker {
 public:
  TreeWalker(PdfScan& scan, const Deadline& deadline, int64_t max_pages)
      : scan_(scan),
        deadline_(deadline),
        max_pages_(max_pages),
        node_budget_(kBaseNodeBudget + 2 * max_pages) {}

  // Returns the page count, or nullopt if a limit stopped the walk.
  std::optional<int64_t> walk(QPDFObjectHandle root) {
    visit(root, Box{});
    while (!stack_.empty()) {
      if (stopped_) return std::nullopt;
      Frame& top = stack_.back();
      if (top.next >= top.count) {
        on_path_.erase(top.id);
        stack_.pop_back();
        continue;
      }
      QPDFObjectHandle kid = top.kids.getArrayItem(top.next++);
      const Box inherited = top.box;  // copy: visit() may grow stack_
      visit(kid, inherited);
    }
    if (stopped_) return std::nullopt;
    return pages_;
  }

 private:
  void visit(QPDFObjectHandle node, Box inherited) {
    if (++visits_ % kDeadlinePollNodes == 0 && deadline_.expired()) {
      scan_.hit_deadline = true;
      stopped_ = true;
      return;
    }
    if (visits_ > node_budget_) {
      scan_.hit_page_limit = true;
      stopped_ = true;
      return;
    }
    if (!node.isDictionary()) {
      ++scan_.bad_kids;
      return;
    }
    Box box = inherited;
    if (auto media = rectangleOf(node.getKey("/MediaBox"))) box = *media;

    const std::string type = nameOf(node.getKey("/Type"));
    QPDFObjectHandle kids = node.getKey("/Kids");
    const bool interior = type == "/Pages" || (type != "/Page" && kids.isArray());
    if (!interior) {
      countPage(node, box);
      return;
    }
    if (!kids.isArray()) {
      ++scan_.bad_kids;  // a /Pages node without kids prints nothing
      return;
    }
    const QPDFObjGen id = node.getObjGen();
    if (node.isIndirect() && !on_path_.insert(id).second) {
      ++scan_.cycles;
      return;
    }
    stack_.push_back(
        Frame{kids, 0, kids.getArrayNItems(), node.isIndirect() ? id : QPDFObjGen(), box});
  }

  void countPage(QPDFObjectHandle page, const Box& box) {
    if (++pages_ > max_pages_) {
      scan_.hit_page_limit = true;
      stopped_ = true;
      return;
    }
    if (!box.known) {
      scan_.sizes.add(0, 0);
      return;
    }
    double unit = 1.0;
    QPDFObjectHandle user_unit = page.getKey("/UserUnit");
    if (user_unit.isNumber() && user_unit.getNumericValue() > 0) unit = user_unit.getNumericValue();
    scan_.sizes.add(box.width * unit, box.height * unit);
  }

  PdfScan& scan_;
  const Deadline& deadline_;
  const int64_t max_pages_;
  const int64_t node_budget_;
  std::vector<Frame> stack_;
  std::set<QPDFObjGen> on_path_;
  int64_t pages_ = 0;
  int64_t visits_ = 0;
  bool stopped_ = false;
};

}  // namespace

PdfScan scanPdf(const std::filesystem::path& file, const Deadline& deadline, int64_t max_pages) {
  PdfScan scan;
  const PdfBytes bytes(file);
  if (!bytes.ok()) {
    scan.error = "cannot read the file (or it is empty)";
    return scan;
  }
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.setAttemptRecovery(true);
    try {
      pdf.processInputSource(bytes.source(file.filename().string()), "");
    } catch (const QPDFExc& e) {
      if (e.getErrorCode() == qpdf_e_password) {
        scan.password_required = true;
        scan.encrypted = true;
        scan.error = "encrypted; the empty user password does not open it";
        return scan;
      }
      throw;
    }
    scan.version = pdf.getPDFVersion();
    scan.encrypted = pdf.isEncrypted();

    QPDFObjectHandle pages = pdf.getRoot().getKey("/Pages");
    if (!pages.isDictionary()) {
      scan.error = "the catalog has no /Pages dictionary";
    } else {
      TreeWalker walker(scan, deadline, max_pages);
      scan.pages = walker.walk(pages);
      if (!scan.pages) {
        scan.sizes.clear();
        scan.error = scan.hit_deadline ? "time limit hit while walking the page tree"
                                       : "page tree exceeds the page/node budget";
      }
    }
    if (pdf.anyWarnings()) {
      scan.recovered = true;
      for (const auto& w : pdf.getWarnings()) {
        const std::string text = w.what();
        if (scan.warning.empty()) scan.warning = text;
        // qpdf turns allocation failures while decoding into warnings.
        if (text.find("bad_alloc") != std::string::npos ||
            text.find("out of memory") != std::string::npos) {
          scan.out_of_memory = true;
          scan.warning = text;
        }
      }
      if (scan.out_of_memory) {
        scan.pages.reset();
        scan.sizes.clear();
        scan.error = "out of memory while reading the PDF (" + scan.warning + ")";
      } else if (!scan.pages && !scan.warning.empty()) {
        scan.error += " (qpdf: " + scan.warning + ")";
      }
    }
  } catch (const std::bad_alloc&) {
    scan = PdfScan{};
    scan.out_of_memory = true;
    scan.error = "out of memory while reading the PDF";
  } catch (const std::exception& e) {
    scan.pages.reset();
    scan.sizes.clear();
    scan.error = e.what();
  }
  return scan;
}

}  // namespace pullprint::spooler::analysis
