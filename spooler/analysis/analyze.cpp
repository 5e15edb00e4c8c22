// analyzeFile(): format detection and dispatch to the per-format counters,
// and the mapping of their findings to DocumentAnalysis (confidence, method,
// reason, note). See analysis.h for the contract, docs/accounting.md for
// the rules.

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "spooler/analysis/analysis.h"
#include "spooler/analysis/byte_source.h"
#include "spooler/analysis/dsc.h"
#include "spooler/analysis/ghostscript.h"
#include "spooler/analysis/image_info.h"
#include "spooler/analysis/pdf_pages.h"
#include "spooler/analysis/raster.h"
#include "spooler/analysis/sniff.h"
#include "spooler/analysis/text_pages.h"

namespace pullprint::spooler::analysis {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

DocumentAnalysis unknown(std::string format, std::string_view why, std::string note) {
  DocumentAnalysis a;
  a.format = std::move(format);
  a.reason = std::string(why);
  a.note = std::move(note);
  return a;
}

void setSizes(DocumentAnalysis& a, const SizeTally& sizes) {
  a.sizes = sizes.sizes();
  a.pages_of_other_sizes = sizes.otherPages();
}

std::string ms(const AnalysisOptions& o) { return std::to_string(o.limits.time.count()) + " ms"; }

// Streams a file through `consume` in chunks, polling the deadline.
// Returns false if the deadline passed first.
template <typename F>
bool streamFile(FileSource& source, const Deadline& deadline, F&& consume) {
  std::array<uint8_t, kChunk> buffer{};
  for (;;) {
    if (deadline.expired()) return false;
    const std::size_t n = source.read(buffer.data(), buffer.size());
    if (n == 0) return true;
    consume(std::string_view(reinterpret_cast<const char*>(buffer.data()), n));
  }
}

// ---- PDF ----------------------------------------------------------------

DocumentAnalysis analyzePdf(const std::filesystem::path& file, const AnalysisOptions& options,
                            const Deadline& deadline) {
  const std::string format(mimeOf(Format::kPdf));
  const PdfScan scan = scanPdf(file, deadline, options.limits.max_pages);
  if (scan.password_required)
    return unknown(format, reason::kPasswordRequired, "PDF " + scan.error);
  if (scan.out_of_memory) return unknown(format, reason::kMemoryLimit, scan.error);
  if (scan.hit_deadline)
    return unknown(format, reason::kTimeLimit, "PDF page tree not walked within " + ms(options));
  if (scan.hit_page_limit)
    return unknown(format, reason::kPageLimit,
                   "PDF page tree larger than " + std::to_string(options.limits.max_pages) +
                       " pages (or its node budget)");
  if (!scan.pages) return unknown(format, reason::kMalformed, "PDF not readable: " + scan.error);

  DocumentAnalysis a;
  a.format = format;
  a.pages = scan.pages;
  a.method = "pdf-page-tree";
  a.confidence = Confidence::kExact;
  setSizes(a, scan.sizes);
  std::string note;
  if (scan.recovered) {
    a.confidence = Confidence::kEstimated;
    note = "damaged PDF recovered by qpdf (" + scan.warning + ")";
  }
  if (scan.cycles > 0 || scan.bad_kids > 0) {
    a.confidence = Confidence::kEstimated;
    if (!note.empty()) note += "; ";
    note += "page tree: " + std::to_string(scan.cycles) + " looping and " +
            std::to_string(scan.bad_kids) + " invalid kids skipped";
  }
  a.note = std::move(note);
  return a;
}

// ---- PostScript ----------------------------------------------------------

// Why the DSC count cannot be used; empty when it can.
std::string whyInterpret(const DscSummary& d, PostScriptMode mode,
                         std::optional<int64_t>& claimed) {
  claimed = d.header_atend ? d.trailer_pages : d.header_pages;
  if (mode == PostScriptMode::kAlwaysInterpret) return "configured to always interpret PostScript";
  if (!d.conforming) return "not DSC-conforming (no %!PS-Adobe- header)";
  if (d.header_atend && !d.trailer_pages) return "%%Pages: (atend) but no %%Pages: in the trailer";
  if (!claimed) return "no %%Pages: comment";
  if (d.header_pages && d.trailer_pages && *d.header_pages != *d.trailer_pages)
    return "DSC inconsistent: header %%Pages: " + std::to_string(*d.header_pages) +
           ", trailer %%Pages: " + std::to_string(*d.trailer_pages);
  if (d.page_markers != *claimed)
    return "DSC inconsistent: %%Pages: " + std::to_string(*claimed) + " but " +
           std::to_string(d.page_markers) + " %%Page: markers";
  if (*claimed == 0) return "DSC declares no pages";
  return "";
}

DocumentAnalysis analyzePostScript(const std::filesystem::path& file,
                                   const AnalysisOptions& options, const Deadline& deadline) {
  const std::string format(mimeOf(Format::kPostScript));
  FileSource source(file);
  DscScanner scanner;
  if (!streamFile(source, deadline, [&](std::string_view chunk) { scanner.feed(chunk); }))
    return unknown(format, reason::kTimeLimit, "DSC scan not finished within " + ms(options));
  if (source.failed()) return unknown(format, reason::kUnreadable, "read error");
  const DscSummary& dsc = scanner.finish();

  std::optional<int64_t> claimed;
  const std::string why = whyInterpret(dsc, options.postscript, claimed);
  if (why.empty() || (options.postscript == PostScriptMode::kDscWhenConsistent && dsc.eps &&
                      dsc.page_markers == 0 && claimed.value_or(1) == 1)) {
    DocumentAnalysis a;
    a.format = format;
    a.method = "dsc";
    a.confidence = Confidence::kEstimated;
    if (why.empty()) {
      a.pages = claimed;
      a.note = "DSC comments, not interpreted: %%Pages: " + std::to_string(*claimed) +
               " agrees with the %%Page: markers";
    } else {
      a.pages = 1;
      a.note = "EPS file without page markers: one page";
    }
    if (dsc.media_entries == 1 && dsc.media_width_pt && dsc.media_height_pt) {
      SizeTally sizes;
      sizes.add(*dsc.media_width_pt, *dsc.media_height_pt, *a.pages);
      setSizes(a, sizes);
    }
    if (*a.pages > options.limits.max_pages)
      return unknown(format, reason::kPageLimit, "DSC claims more than the page limit");
    return a;
  }

  // Fallback: interpret the program.
  const GhostscriptCount gs = countWithGhostscript(
      options.ghostscript, file, deadline, options.limits.memory_bytes, options.limits.max_pages);
  const std::string after = " (" + std::to_string(gs.pages.value_or(0)) + " pages emitted)";
  if (!gs.started)
    return unknown(format, reason::kInterpreterFailed, why + "; Ghostscript: " + gs.error);
  if (gs.timed_out)
    return unknown(format, reason::kTimeLimit,
                   why + "; Ghostscript did not finish within " + ms(options) + after);
  if (gs.hit_page_limit)
    return unknown(format, reason::kPageLimit,
                   why + "; more than " + std::to_string(options.limits.max_pages) + " pages");
  if (gs.out_of_memory)
    return unknown(format, reason::kMemoryLimit,
                   why + "; Ghostscript ran out of memory (" +
                       std::to_string(options.limits.memory_bytes >> 20) + " MiB)" + after);
  DocumentAnalysis a;
  a.format = format;
  a.pages = gs.pages;
  a.method = "ghostscript";
  a.color = gs.color;
  if (gs.sizes_complete) setSizes(a, gs.sizes);
  if (gs.clean_exit) {
    a.confidence = Confidence::kExact;
    a.note = why;
  } else {
    a.confidence = Confidence::kEstimated;
    a.reason = std::string(reason::kMalformed);
    std::string tail = gs.error.substr(0, 300);
    a.note = why + "; PostScript error after " + std::to_string(*gs.pages) + " pages: " + tail;
  }
  return a;
}

// ---- Raster ---------------------------------------------------------------

DocumentAnalysis analyzeRaster(const std::filesystem::path& file, Format format,
                               const AnalysisOptions& options, const Deadline& deadline) {
  const std::string mime(mimeOf(format));
  FileSource source(file);
  RasterLimits limits{deadline, options.limits.max_pages};
  const RasterScan scan =
      format == Format::kPwgRaster ? scanPwgRaster(source, limits) : scanUrf(source, limits);
  if (!scan.valid_header) return unknown(mime, reason::kMalformed, scan.error);
  if (scan.hit_deadline)
    return unknown(mime, reason::kTimeLimit, "raster not walked within " + ms(options));
  if (scan.hit_page_limit) return unknown(mime, reason::kPageLimit, "more pages than the limit");
  if (source.failed()) return unknown(mime, reason::kUnreadable, "read error");

  DocumentAnalysis a;
  a.format = mime;
  a.method = format == Format::kPwgRaster ? "pwg-headers" : "urf-headers";
  a.pages = scan.complete_pages + (scan.truncated_page ? 1 : 0);
  a.confidence = Confidence::kExact;
  a.color = scan.color;
  setSizes(a, scan.sizes);
  if (scan.truncated_page || scan.stopped_on_error) {
    a.confidence = Confidence::kEstimated;
    a.reason = std::string(reason::kMalformed);
    a.note = scan.error + (scan.truncated_page ? " (the partial page is counted)" : "");
  }
  if (scan.declared_pages && *scan.declared_pages != *a.pages) {
    if (!a.note.empty()) a.note += "; ";
    a.note += "file header claims " + std::to_string(*scan.declared_pages) + " pages";
  }
  if (*a.pages == 0 && a.reason.empty()) a.note = "no pages";
  return a;
}

// ---- Images and text ------------------------------------------------------

DocumentAnalysis analyzeImage(const std::filesystem::path& file, Format format) {
  const std::string mime(mimeOf(format));
  FileSource source(file);
  const ImageInfo info = format == Format::kJpeg ? inspectJpeg(source) : inspectPng(source);
  if (!info.valid) return unknown(mime, reason::kMalformed, info.error);
  DocumentAnalysis a;
  a.format = mime;
  a.pages = 1;
  a.confidence = Confidence::kExact;
  a.method = "image";
  a.color = info.color;
  a.note = "one image, one page; paper size set by the job";
  return a;
}

DocumentAnalysis analyzeText(const std::filesystem::path& file, const AnalysisOptions& options,
                             const Deadline& deadline) {
  const std::string mime(mimeOf(Format::kText));
  FileSource source(file);
  TextPageCounter counter(options.text);
  if (!streamFile(source, deadline, [&](std::string_view chunk) { counter.feed(chunk); }))
    return unknown(mime, reason::kTimeLimit, "text not read within " + ms(options));
  if (source.failed()) return unknown(mime, reason::kUnreadable, "read error");
  DocumentAnalysis a;
  a.format = mime;
  a.pages = counter.finish();
  a.confidence = Confidence::kEstimated;
  a.method = "text-lines";
  a.color = false;
  const int lines = options.text.lines_per_page > 0 ? options.text.lines_per_page : 60;
  a.note =
      std::to_string(lines) + " lines per page, form feed ends a page, " +
      (options.text.columns > 0 ? "wrapped at " + std::to_string(options.text.columns) + " columns"
                                : std::string("no wrapping"));
  return a;
}

DocumentAnalysis analyzeChecked(const std::filesystem::path& file, std::string_view mime,
                                const AnalysisOptions& options) {
  const Deadline deadline = Deadline::after(options.limits.time);
  std::string head;
  {
    FileSource probe(file);
    if (!probe.isOpen())
      return unknown("", reason::kUnreadable,
                     "cannot open " + file.string() + ": " + std::strerror(errno));
    head.resize(kSniffBytes);
    std::size_t got = 0;
    while (got < head.size()) {
      const std::size_t n =
          probe.read(reinterpret_cast<uint8_t*>(head.data()) + got, head.size() - got);
      if (n == 0) break;
      got += n;
    }
    if (probe.failed()) return unknown("", reason::kUnreadable, "read error");
    head.resize(got);
  }

  const DeclaredFormat declared = parseMime(mime);
  Format format = declared.format;
  if (declared.detect) {
    format = sniffFormat(head);
    if (format == Format::kUnknown)
      return unknown("", reason::kUnsupportedFormat, "content not recognised");
  } else if (format == Format::kUnknown) {
    return unknown("", reason::kUnsupportedFormat,
                   "document-format " + std::string(mime) + " not supported");
  } else if (!magicMatches(format, head)) {
    const Format seen = sniffFormat(head);
    return unknown(
        std::string(mimeOf(format)), reason::kFormatMismatch,
        "declared " + std::string(mimeOf(format)) + " but the content " +
            (seen == Format::kUnknown ? std::string("is not") : "is " + std::string(mimeOf(seen))));
  }

  switch (format) {
    case Format::kPdf:
      return analyzePdf(file, options, deadline);
    case Format::kPostScript:
      return analyzePostScript(file, options, deadline);
    case Format::kPwgRaster:
    case Format::kUrf:
      return analyzeRaster(file, format, options, deadline);
    case Format::kJpeg:
    case Format::kPng:
      return analyzeImage(file, format);
    case Format::kText:
      return analyzeText(file, options, deadline);
    case Format::kUnknown:
      break;
  }
  return unknown("", reason::kUnsupportedFormat, "content not recognised");
}

}  // namespace

std::string_view toString(Confidence confidence) {
  switch (confidence) {
    case Confidence::kExact:
      return "exact";
    case Confidence::kEstimated:
      return "estimated";
    case Confidence::kUnknown:
      return "unknown";
  }
  return "unknown";
}

DocumentAnalysis analyzeFile(const std::filesystem::path& file, std::string_view mime,
                             const AnalysisOptions& options) {
  try {
    return analyzeChecked(file, mime, options);
  } catch (const std::bad_alloc&) {
    return unknown("", reason::kMemoryLimit, "out of memory during analysis");
  } catch (const std::exception& e) {
    return unknown("", reason::kCrashed, std::string("internal error: ") + e.what());
  } catch (...) {
    return unknown("", reason::kCrashed, "internal error");
  }
}

DocumentAnalysis analyzeBuffer(std::string_view data, std::string_view mime,
                               const AnalysisOptions& options) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/pullprint-analysis-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return unknown("", reason::kUnreadable, "cannot create a temporary file");
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      close(fd);
      unlink(path.c_str());
      return unknown("", reason::kUnreadable, "cannot write a temporary file");
    }
    written += static_cast<std::size_t>(n);
  }
  close(fd);
  DocumentAnalysis result = analyzeFile(path, mime, options);
  unlink(path.c_str());
  return result;
}

}  // namespace pullprint::spooler::analysis
