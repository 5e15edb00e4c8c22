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
#include <qpdf/QPDFXRefEntry.hh>

#include "spooler/analysis/pdf_objects.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <string_view>
#include <unordered_map>
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
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
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

// ---- Object access ---------------------------------------------------------
// The walk reads page-tree nodes through one of two accessors with the same
// interface: QpdfAccess (libqpdf objects: slow on object streams, but
// accepts everything qpdf can read) and FastAccess (pdf_objects.h over the
// xref libqpdf read: reads only the page-tree nodes). FastAccess signals
// anything it does not understand with `unsupported()`, and the caller then
// walks again with QpdfAccess.

class QpdfAccess {
 public:
  using Node = QPDFObjectHandle;
  bool unsupported() const { return false; }
  bool isDict(Node& n) { return n.isDictionary(); }
  bool isArray(Node& n) { return n.isArray(); }
  bool isNumber(Node& n) { return n.isNumber(); }
  double number(Node& n) { return n.getNumericValue(); }
  bool isName(Node& n, std::string_view name) { return n.isName() && n.getName() == name; }
  Node key(Node& dict, const std::string& key) { return dict.getKey(key); }
  int size(Node& array) { return array.getArrayNItems(); }
  Node item(Node& array, int i) { return array.getArrayItem(i); }
  bool isIndirect(Node& n) { return n.isIndirect(); }
  QPDFObjGen id(Node& n) { return n.getObjGen(); }
};

class FastAccess {
 public:
  struct Node {
    const pdf::Value* value;
    QPDFObjGen id;  // (0, 0) for a direct object
  };

  FastAccess(QPDF& pdf, std::string_view file) : pdf_(pdf), file_(file) {
    for (const auto& [id, entry] : pdf.getXRefTable()) xref_.emplace(key(id), entry);
  }

  bool unsupported() const { return unsupported_; }

  // The indirect object `id`, or nullopt (and unsupported()) if it cannot be
  // read here.
  std::optional<Node> object(QPDFObjGen id) {
    const pdf::Value* v = resolve(id);
    if (v == nullptr) return std::nullopt;
    return Node{v, id};
  }

  bool isDict(Node& n) { return n.value->kind == pdf::Value::Kind::kDict; }
  bool isArray(Node& n) { return n.value->kind == pdf::Value::Kind::kArray; }
  bool isNumber(Node& n) { return n.value->kind == pdf::Value::Kind::kNumber; }
  double number(Node& n) { return n.value->number; }
  bool isName(Node& n, std::string_view name) {
    return n.value->kind == pdf::Value::Kind::kName && n.value->name == name;
  }
  Node key(Node& dict, const std::string& key) {
    const pdf::Value* v = dict.value->find(key);
    return v == nullptr ? Node{&null_, QPDFObjGen()} : follow(*v);
  }
  int size(Node& array) { return static_cast<int>(array.value->items.size()); }
  Node item(Node& array, int i) { return follow(array.value->items[static_cast<std::size_t>(i)]); }
  bool isIndirect(Node& n) { return n.id.getObj() != 0; }
  QPDFObjGen id(Node& n) { return n.id; }

 private:
  struct ObjectStream {
    std::shared_ptr<Buffer> data;
    std::vector<pdf::ObjectStreamEntry> entries;
  };

  static uint64_t key(QPDFObjGen id) {
    return (static_cast<uint64_t>(id.getObj()) << 32) | static_cast<uint32_t>(id.getGen());
  }

  Node follow(const pdf::Value& v) {
    if (v.kind != pdf::Value::Kind::kRef) return Node{&v, QPDFObjGen()};
    if (v.ref_num <= 0 || v.ref_num > std::numeric_limits<int>::max()) {
      unsupported_ = true;
      return Node{&null_, QPDFObjGen()};
    }
    const QPDFObjGen id(static_cast<int>(v.ref_num), v.ref_gen);
    const pdf::Value* target = resolve(id);
    return Node{target != nullptr ? target : &null_, id};
  }

  // Reads (once) the object `id`. An object absent from the xref is null, as
  // in qpdf; one that cannot be read here sets unsupported_.
  const pdf::Value* resolve(QPDFObjGen id) {
    if (unsupported_) return nullptr;
    auto [cached, inserted] = objects_.try_emplace(key(id));
    if (!inserted) return cached->second.get();
    std::optional<pdf::Value> value;
    const auto entry = xref_.find(key(id));
    if (entry == xref_.end() || entry->second.getType() == 0) {
      value = pdf::Value{};  // null
    } else if (entry->second.getType() == 1) {
      const qpdf_offset_t at = entry->second.getOffset();
      if (at >= 0)
        value =
            pdf::parseIndirectObject(file_, static_cast<std::size_t>(at), id.getObj(), id.getGen());
    } else if (entry->second.getType() == 2 && id.getGen() == 0) {
      value = fromObjectStream(entry->second.getObjStreamNumber(),
                               entry->second.getObjStreamIndex(), id.getObj());
    }
    // A bare reference as an object's value is left to qpdf.
    if (!value || value->kind == pdf::Value::Kind::kRef) {
      unsupported_ = true;
      return nullptr;
    }
    cached->second = std::make_unique<pdf::Value>(std::move(*value));
    return cached->second.get();
  }

  std::optional<pdf::Value> fromObjectStream(int stream, int index, int num) {
    auto [it, inserted] = streams_.try_emplace(stream);
    ObjectStream& os = it->second;
    if (inserted) {
      // The stream object itself is read and decoded (decrypted) by qpdf.
      QPDFObjectHandle h = pdf_.getObjectByID(stream, 0);
      if (!h.isStream()) return std::nullopt;
      QPDFObjectHandle dict = h.getDict();
      QPDFObjectHandle n = dict.getKey("/N"), first = dict.getKey("/First");
      if (!dict.getKey("/Type").isNameAndEquals("/ObjStm") || !n.isInteger() || !first.isInteger())
        return std::nullopt;
      try {
        os.data = h.getStreamData(qpdf_dl_generalized);
      } catch (const std::bad_alloc&) {
        throw;  // reported as out of memory by scanPdf
      } catch (const std::exception&) {
        return std::nullopt;  // qpdf's walk decides what an undecodable stream means
      }
      if (!os.data) return std::nullopt;
      auto entries = pdf::parseObjectStreamHeader(view(os), n.getIntValue(), first.getIntValue());
      if (!entries) return std::nullopt;
      // An object listed twice: which copy qpdf keeps is its business.
      std::vector<int64_t> nums;
      nums.reserve(entries->size());
      for (const auto& e : *entries) nums.push_back(e.num);
      std::sort(nums.begin(), nums.end());
      if (std::adjacent_find(nums.begin(), nums.end()) != nums.end()) return std::nullopt;
      os.entries = std::move(*entries);
    }
    if (!os.data || index < 0 || static_cast<std::size_t>(index) >= os.entries.size() ||
        os.entries[static_cast<std::size_t>(index)].num != num)
      return std::nullopt;
    std::size_t at = os.entries[static_cast<std::size_t>(index)].at;
    return pdf::parseObject(view(os), at);
  }

  static std::string_view view(const ObjectStream& os) {
    return {reinterpret_cast<const char*>(os.data->getBuffer()), os.data->getSize()};
  }

  QPDF& pdf_;
  std::string_view file_;
  std::unordered_map<uint64_t, QPDFXRefEntry> xref_;
  std::unordered_map<uint64_t, std::unique_ptr<pdf::Value>> objects_;
  std::unordered_map<int, ObjectStream> streams_;
  pdf::Value null_;
  bool unsupported_ = false;
};

// ---- The walk ------------------------------------------------------------

template <typename Access>
class TreeWalker {
 public:
  using Node = typename Access::Node;

  TreeWalker(Access& access, PdfScan& scan, const Deadline& deadline, int64_t max_pages)
      : access_(access),
        scan_(scan),
        deadline_(deadline),
        max_pages_(max_pages),
        node_budget_(kBaseNodeBudget + 2 * max_pages) {}

  // Returns the page count, or nullopt if a limit stopped the walk (or the
  // accessor gave up: access.unsupported()).
  std::optional<int64_t> walk(Node root) {
    visit(root, Box{});
    while (!stack_.empty()) {
      if (stopped_ || access_.unsupported()) return std::nullopt;
      Frame& top = stack_.back();
      if (top.next >= top.count) {
        on_path_.erase(top.id);
        stack_.pop_back();
        continue;
      }
      Node kid = access_.item(top.kids, top.next++);
      const Box inherited = top.box;  // copy: visit() may grow stack_
      visit(kid, inherited);
    }
    if (stopped_ || access_.unsupported()) return std::nullopt;
    return pages_;
  }

 private:
  // One interior node being walked: its kids and the attributes it passes down.
  struct Frame {
    Node kids;
    int next = 0;
    int count = 0;
    QPDFObjGen id;
    Box box;
  };

  std::optional<Box> rectangleOf(Node value) {
    if (!access_.isArray(value) || access_.size(value) != 4) return std::nullopt;
    double v[4];
    for (int i = 0; i < 4; ++i) {
      Node item = access_.item(value, i);
      if (!access_.isNumber(item)) return std::nullopt;
      v[i] = access_.number(item);
    }
    return Box{std::fabs(v[2] - v[0]), std::fabs(v[3] - v[1]), true};
  }

  void visit(Node node, Box inherited) {
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
    if (!access_.isDict(node)) {
      ++scan_.bad_kids;
      return;
    }
    Box box = inherited;
    if (auto media = rectangleOf(access_.key(node, kMediaBox))) box = *media;

    Node type = access_.key(node, kType);
    Node kids = access_.key(node, kKids);
    const bool is_pages = access_.isName(type, "/Pages");
    const bool interior = is_pages || (!access_.isName(type, "/Page") && access_.isArray(kids));
    if (!interior) {
      countPage(node, box);
      return;
    }
    if (!access_.isArray(kids)) {
      ++scan_.bad_kids;  // a /Pages node without kids prints nothing
      return;
    }
    const bool indirect = access_.isIndirect(node);
    const QPDFObjGen id = indirect ? access_.id(node) : QPDFObjGen();
    if (indirect && !on_path_.insert(id).second) {
      ++scan_.cycles;
      return;
    }
    stack_.push_back(Frame{kids, 0, access_.size(kids), id, box});
  }

  void countPage(Node page, const Box& box) {
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
    Node user_unit = access_.key(page, kUserUnit);
    if (access_.isNumber(user_unit) && access_.number(user_unit) > 0)
      unit = access_.number(user_unit);
    scan_.sizes.add(box.width * unit, box.height * unit);
  }

  inline static const std::string kMediaBox = "/MediaBox";
  inline static const std::string kType = "/Type";
  inline static const std::string kKids = "/Kids";
  inline static const std::string kUserUnit = "/UserUnit";

  Access& access_;
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

// The fast walk. Returns false (scan untouched) when the file needs libqpdf's
// own object reading: then the caller walks with QpdfAccess. The catalog
// must be an indirect dictionary with /Type /Catalog (qpdf repairs a missing
// one with a warning, which the qpdf walk reports) and /Pages a dictionary.
bool walkFast(QPDF& pdf, std::string_view file, PdfScan& scan, const Deadline& deadline,
              int64_t max_pages) {
  QPDFObjectHandle root = pdf.getTrailer().getKey("/Root");
  if (!root.isIndirect()) return false;
  FastAccess access(pdf, file);
  std::optional<FastAccess::Node> catalog = access.object(root.getObjGen());
  if (!catalog || !access.isDict(*catalog)) return false;
  FastAccess::Node type = access.key(*catalog, "/Type");
  FastAccess::Node pages = access.key(*catalog, "/Pages");
  if (access.unsupported() || !access.isName(type, "/Catalog") || !access.isDict(pages))
    return false;
  PdfScan attempt;
  TreeWalker<FastAccess> walker(access, attempt, deadline, max_pages);
  attempt.pages = walker.walk(pages);
  if (access.unsupported()) return false;
  scan.pages = attempt.pages;
  scan.hit_deadline = attempt.hit_deadline;
  scan.hit_page_limit = attempt.hit_page_limit;
  scan.cycles = attempt.cycles;
  scan.bad_kids = attempt.bad_kids;
  scan.sizes = std::move(attempt.sizes);
  scan.fast_path = true;
  return true;
}

}  // namespace

namespace {

// One pass over the file with a fresh QPDF. With `fast`, returns nullopt if
// the fast reader declined, so the caller can redo the pass without it: the
// libqpdf walk then starts from a QPDF the attempt never touched.
std::optional<PdfScan> scanOnce(const PdfBytes& bytes, const std::filesystem::path& file,
                                const Deadline& deadline, int64_t max_pages, bool fast) {
  PdfScan scan;
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

    bool walked = false;
    if (fast) {
      try {
        walked = walkFast(pdf, bytes.view(), scan, deadline, max_pages);
      } catch (const std::bad_alloc&) {
        throw;
      } catch (const std::exception&) {
        walked = false;  // whatever qpdf objected to, its own walk reports
      }
      if (!walked) return std::nullopt;
    }
    QPDFObjectHandle pages;
    if (!walked) pages = pdf.getRoot().getKey("/Pages");
    if (!walked && !pages.isDictionary()) {
      scan.error = "the catalog has no /Pages dictionary";
    } else {
      if (!walked) {
        QpdfAccess access;
        TreeWalker<QpdfAccess> walker(access, scan, deadline, max_pages);
        scan.pages = walker.walk(pages);
      }
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

}  // namespace

PdfScan scanPdf(const std::filesystem::path& file, const Deadline& deadline, int64_t max_pages,
                PdfWalk mode) {
  const PdfBytes bytes(file);
  if (!bytes.ok()) {
    PdfScan scan;
    scan.error = "cannot read the file (or it is empty)";
    return scan;
  }
  if (mode == PdfWalk::kFast) {
    if (std::optional<PdfScan> scan = scanOnce(bytes, file, deadline, max_pages, true))
      return std::move(*scan);
  }
  return *scanOnce(bytes, file, deadline, max_pages, false);
}

}  // namespace pullprint::spooler::analysis
