#include "spooler/ipp_attributes.h"

#include <openssl/sha.h>

#include <cstdio>
#include <cstring>

namespace pullprint::spooler {

const char* const kDocumentFormats[] = {"application/pdf",
                                        "application/postscript",
                                        "image/pwg-raster",
                                        "image/urf",
                                        "image/jpeg",
                                        "image/png",
                                        "text/plain",
                                        "application/octet-stream",
                                        nullptr};

namespace {

const char* const kSides[] = {"one-sided", "two-sided-long-edge", "two-sided-short-edge"};
const char* const kColorModes[] = {"auto", "monochrome", "color"};
const char* const kMedia[] = {"iso_a4_210x297mm", "na_letter_8.5x11in", "iso_a3_297x420mm",
                              "na_legal_8.5x14in", "iso_a5_148x210mm"};
// Job Template attributes (RFC 8011 5.2 and PWG 5100.x) we accept.
const char* const kJobCreation[] = {"copies",
                                    "sides",
                                    "print-color-mode",
                                    "media",
                                    "number-up",
                                    "page-ranges",
                                    "orientation-requested",
                                    "print-quality",
                                    "job-hold-until",
                                    "multiple-document-handling",
                                    "printer-resolution",
                                    "finishings"};
const std::set<std::string> kTemplateNames = {"copies-default",
                                              "copies-supported",
                                              "sides-default",
                                              "sides-supported",
                                              "print-color-mode-default",
                                              "print-color-mode-supported",
                                              "media-default",
                                              "media-supported",
                                              "media-ready",
                                              "number-up-default",
                                              "number-up-supported",
                                              "page-ranges-supported",
                                              "orientation-requested-default",
                                              "orientation-requested-supported",
                                              "print-quality-default",
                                              "print-quality-supported",
                                              "job-hold-until-default",
                                              "job-hold-until-supported",
                                              "multiple-document-handling-default",
                                              "multiple-document-handling-supported",
                                              "printer-resolution-default",
                                              "printer-resolution-supported",
                                              "finishings-default",
                                              "finishings-supported",
                                              "job-priority-default",
                                              "job-priority-supported",
                                              "job-sheets-default",
                                              "job-sheets-supported",
                                              "output-bin-default",
                                              "output-bin-supported",
                                              "media-col-default",
                                              "media-col-supported",
                                              "media-col-ready",
                                              "media-size-supported"};

bool inList(const char* const* list, size_t n, const std::string& v) {
  for (size_t i = 0; i < n; ++i)
    if (v == list[i]) return true;
  return false;
}

std::string uuidFor(const std::string& seed) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), md);
  md[6] = (md[6] & 0x0f) | 0x50;  // name-based
  md[8] = (md[8] & 0x3f) | 0x80;
  char buf[64];
  std::snprintf(buf, sizeof buf,
                "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
                md[11], md[12], md[13], md[14], md[15]);
  return buf;
}

}  // namespace

bool isSupportedFormat(const std::string& mime) {
  for (const char* const* f = kDocumentFormats; *f; ++f)
    if (mime == *f) return true;
  return false;
}
bool isSupportedSides(const std::string& v) { return inList(kSides, 3, v); }
bool isSupportedColorMode(const std::string& v) { return inList(kColorModes, 3, v); }
bool isSupportedMedia(const std::string& v) { return inList(kMedia, 5, v); }

std::vector<QueueInfo> queuesFromConfig(const Config& config) {
  std::vector<QueueInfo> out;
  out.push_back({"followme", true, true, "",
                 config.server_name + " follow-me queue: release your jobs at any printer", ""});
  out.push_back({"direct", false, false, "",
                 config.server_name + " direct queue: prints without a release step", ""});
  for (const auto& q : config.queues) {
    out.push_back({q.name, q.hold, false, q.printer_uri,
                   q.info.empty() ? config.server_name + " held queue for " + q.name : q.info,
                   q.location});
  }
  return out;
}

Requested::Requested(ipp_attribute_t* requested, std::set<std::string> defaults) {
  if (!requested) {
    names_ = std::move(defaults);
    if (names_.count("all")) all_ = true;
    return;
  }
  for (int i = 0; i < ippGetCount(requested); ++i) {
    const char* v = ippGetString(requested, i, nullptr);
    if (!v) continue;
    std::string s = v;
    if (s == "all")
      all_ = true;
    else if (s == "job-template")
      templates_ = true;
    else if (s == "printer-description" || s == "job-description")
      descriptions_ = true;
    else
      names_.insert(s);
  }
}

bool Requested::wants(const std::string& name, bool is_template) const {
  if (all_ || names_.count(name)) return true;
  return is_template ? templates_ : descriptions_;
}

void addPrinterAttributes(ipp_t* r, const QueueInfo& q, const PrinterState& st,
                          const Requested& want) {
  const ipp_tag_t P = IPP_TAG_PRINTER;
  auto w = [&](const char* name) { return want.wants(name, kTemplateNames.count(name) > 0); };
  auto kw = [&](const char* name, const char* v) {
    if (w(name)) ippAddString(r, P, IPP_TAG_KEYWORD, name, nullptr, v);
  };
  auto kws = [&](const char* name, const char* const* v, int n) {
    if (w(name)) ippAddStrings(r, P, IPP_TAG_KEYWORD, name, n, nullptr, v);
  };
  auto integer = [&](const char* name, int v) {
    if (w(name)) ippAddInteger(r, P, IPP_TAG_INTEGER, name, v);
  };
  auto boolean = [&](const char* name, bool v) {
    if (w(name)) ippAddBoolean(r, P, name, v ? 1 : 0);
  };
  auto text = [&](const char* name, const std::string& v) {
    if (w(name)) ippAddString(r, P, IPP_TAG_TEXT, name, nullptr, v.c_str());
  };

  std::string uri = std::string(st.tls ? "ipps://" : "ipp://") + st.host + "/printers/" + q.name;
  if (w("printer-uri-supported"))
    ippAddString(r, P, IPP_TAG_URI, "printer-uri-supported", nullptr, uri.c_str());
  kw("uri-security-supported", st.tls ? "tls" : "none");
  kw("uri-authentication-supported", st.tls ? "basic" : "requesting-user-name");
  if (w("printer-name")) ippAddString(r, P, IPP_TAG_NAME, "printer-name", nullptr, q.name.c_str());
  text("printer-info", q.info);
  text("printer-location", q.location);
  text("printer-make-and-model", st.server_name + (q.hold ? " held queue" : " direct queue"));
  if (w("printer-more-info")) {
    std::string more = std::string(st.tls ? "https://" : "http://") + st.host + "/";
    ippAddString(r, P, IPP_TAG_URI, "printer-more-info", nullptr, more.c_str());
  }
  if (w("printer-uuid"))
    ippAddString(r, P, IPP_TAG_URI, "printer-uuid", nullptr,
                 uuidFor(st.server_name + "/" + q.name).c_str());
  if (w("printer-state")) ippAddInteger(r, P, IPP_TAG_ENUM, "printer-state", IPP_PSTATE_IDLE);
  kw("printer-state-reasons", "none");
  text("printer-state-message", q.hold ? "Jobs are held until their owner releases them" : "Ready");
  boolean("printer-is-accepting-jobs", true);
  integer("queued-job-count", st.queued_jobs);
  integer("printer-up-time", static_cast<int>(st.now));
  if (w("printer-current-time")) ippAddDate(r, P, "printer-current-time", ippTimeToDate(st.now));
  if (w("printer-state-change-time"))
    ippAddInteger(r, P, IPP_TAG_INTEGER, "printer-state-change-time", 1);
  {
    static const char* const versions[] = {"1.0", "1.1", "2.0"};
    kws("ipp-versions-supported", versions, 3);
  }
  if (w("ipp-features-supported")) {
    static const char* const features[] = {"job-release-action"};
    ippAddStrings(r, P, IPP_TAG_KEYWORD, "ipp-features-supported", 1, nullptr, features);
  }
  if (w("operations-supported")) {
    static const int ops[] = {IPP_OP_PRINT_JOB,      IPP_OP_VALIDATE_JOB,
                              IPP_OP_CREATE_JOB,     IPP_OP_SEND_DOCUMENT,
                              IPP_OP_CANCEL_JOB,     IPP_OP_GET_JOB_ATTRIBUTES,
                              IPP_OP_GET_JOBS,       IPP_OP_GET_PRINTER_ATTRIBUTES,
                              IPP_OP_HOLD_JOB,       IPP_OP_RELEASE_JOB,
                              IPP_OP_CANCEL_MY_JOBS, IPP_OP_CLOSE_JOB};
    ippAddIntegers(r, P, IPP_TAG_ENUM, "operations-supported", sizeof ops / sizeof ops[0], ops);
  }
  if (w("charset-configured"))
    ippAddString(r, P, IPP_TAG_CHARSET, "charset-configured", nullptr, "utf-8");
  if (w("charset-supported")) {
    static const char* const cs[] = {"us-ascii", "utf-8"};
    ippAddStrings(r, P, IPP_TAG_CHARSET, "charset-supported", 2, nullptr, cs);
  }
  if (w("natural-language-configured"))
    ippAddString(r, P, IPP_TAG_LANGUAGE, "natural-language-configured", nullptr, "en");
  if (w("generated-natural-language-supported"))
    ippAddString(r, P, IPP_TAG_LANGUAGE, "generated-natural-language-supported", nullptr, "en");
  if (w("document-format-default"))
    ippAddString(r, P, IPP_TAG_MIMETYPE, "document-format-default", nullptr,
                 "application/octet-stream");
  if (w("document-format-supported")) {
    int n = 0;
    while (kDocumentFormats[n]) ++n;
    ippAddStrings(r, P, IPP_TAG_MIMETYPE, "document-format-supported", n, nullptr,
                  kDocumentFormats);
  }
  // The raster formats listed above must be described (PWG 5100.14 5.1): a
  // client that finds image/pwg-raster or image/urf without these refuses
  // the queue (CUPS 2.4 `lpadmin -m everywhere`: "Printer does not support
  // required IPP attributes or document formats").
  if (w("pwg-raster-document-resolution-supported")) {
    static const int res[] = {300, 600};
    ippAddResolutions(r, P, "pwg-raster-document-resolution-supported", 2, IPP_RES_PER_INCH, res,
                      res);
  }
  {
    static const char* const types[] = {"black_1", "sgray_8", "srgb_8"};
    kws("pwg-raster-document-type-supported", types, 3);
  }
  kw("pwg-raster-document-sheet-back", "normal");
  {
    static const char* const urf[] = {"V1.4", "CP1", "W8", "SRGB24", "RS300-600", "DM1"};
    kws("urf-supported", urf, 6);
  }
  kw("pdl-override-supported", "attempted");
  kw("compression-supported", "none");
  boolean("multiple-document-jobs-supported", true);
  integer("multiple-operation-time-out", 300);
  {
    static const char* const mdh[] = {"separate-documents-uncollated-copies",
                                      "separate-documents-collated-copies", "single-document",
                                      "single-document-new-sheet"};
    kw("multiple-document-handling-default", "separate-documents-collated-copies");
    kws("multiple-document-handling-supported", mdh, 4);
  }
  if (w("job-k-octets-supported"))
    ippAddRange(r, P, "job-k-octets-supported", 0,
                static_cast<int>(std::min<std::int64_t>(st.max_document_bytes / 1024, 2147483647)));
  if (w("job-creation-attributes-supported"))
    ippAddStrings(r, P, IPP_TAG_KEYWORD, "job-creation-attributes-supported",
                  sizeof kJobCreation / sizeof kJobCreation[0], nullptr, kJobCreation);
  {
    static const char* const which[] = {"completed", "not-completed", "all"};
    kws("which-jobs-supported", which, 3);
  }
  boolean("job-ids-supported", true);
  // A held queue prints nothing itself; these describe a nominal device so
  // IPP Everywhere clients accept the queue. Real speeds are per printer.
  integer("pages-per-minute", 1);
  integer("pages-per-minute-color", 1);
  boolean("color-supported", true);
  kw("output-bin-default", "face-down");
  {
    static const char* const bins[] = {"face-down"};
    kws("output-bin-supported", bins, 1);
  }

  // Holding and release (PWG 5100.11).
  if (q.hold) {
    if (w("job-hold-until-default"))
      ippAddString(r, P, IPP_TAG_KEYWORD, "job-hold-until-default", nullptr, "indefinite");
    // no-hold is listed because IPP Everywhere clients expect it; on a held
    // queue it is substituted with indefinite (see readTicket()).
    if (w("job-hold-until-supported")) {
      static const char* const holds[] = {"indefinite", "no-hold"};
      ippAddStrings(r, P, IPP_TAG_KEYWORD, "job-hold-until-supported", 2, nullptr, holds);
    }
    kw("job-release-action-default", "owner-authorized");
    {
      static const char* const actions[] = {"owner-authorized"};
      kws("job-release-action-supported", actions, 1);
    }
  } else {
    if (w("job-hold-until-default"))
      ippAddString(r, P, IPP_TAG_KEYWORD, "job-hold-until-default", nullptr, "no-hold");
    if (w("job-hold-until-supported")) {
      static const char* const holds[] = {"no-hold", "indefinite"};
      ippAddStrings(r, P, IPP_TAG_KEYWORD, "job-hold-until-supported", 2, nullptr, holds);
    }
    kw("job-release-action-default", "none");
    {
      static const char* const actions[] = {"none"};
      kws("job-release-action-supported", actions, 1);
    }
  }

  // Job template: what a client may ask for.
  integer("copies-default", 1);
  if (w("copies-supported")) ippAddRange(r, P, "copies-supported", 1, 999);
  kw("sides-default", "one-sided");
  kws("sides-supported", kSides, 3);
  kw("print-color-mode-default", "auto");
  kws("print-color-mode-supported", kColorModes, 3);
  kw("media-default", "iso_a4_210x297mm");
  kws("media-supported", kMedia, 5);
  kws("media-ready", kMedia, 2);
  if (w("media-col-supported")) {
    static const char* const mc[] = {"media-size", "media-type"};
    ippAddStrings(r, P, IPP_TAG_KEYWORD, "media-col-supported", 2, nullptr, mc);
  }
  if (w("media-col-default")) {
    ipp_t* size = ippNew();
    ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", 21000);
    ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", 29700);
    ipp_t* col = ippNew();
    ippAddCollection(col, IPP_TAG_ZERO, "media-size", size);
    ippAddString(col, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "media-type", nullptr, "stationery");
    ippAddCollection(r, P, "media-col-default", col);
    ippDelete(size);
    ippDelete(col);
  }
  if (w("media-size-supported")) {
    // x/y in hundredths of mm for each media-supported entry.
    static const int dims[][2] = {
        {21000, 29700}, {21590, 27940}, {29700, 42000}, {21590, 35560}, {14800, 21000}};
    ipp_attribute_t* attr = nullptr;
    for (const auto& d : dims) {
      ipp_t* size = ippNew();
      ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", d[0]);
      ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", d[1]);
      if (!attr)
        attr = ippAddCollection(r, P, "media-size-supported", size);
      else
        ippSetCollection(r, &attr, ippGetCount(attr), size);
      ippDelete(size);
    }
  }
  if (w("media-type-supported"))
    ippAddString(r, P, IPP_TAG_KEYWORD, "media-type-supported", nullptr, "stationery");
  integer("number-up-default", 1);
  if (w("number-up-supported")) {
    static const int ups[] = {1, 2, 4, 6, 9, 16};
    ippAddIntegers(r, P, IPP_TAG_INTEGER, "number-up-supported", 6, ups);
  }
  boolean("page-ranges-supported", true);
  if (w("orientation-requested-default"))
    ippAddInteger(r, P, IPP_TAG_ENUM, "orientation-requested-default", IPP_ORIENT_PORTRAIT);
  if (w("orientation-requested-supported")) {
    static const int o[] = {IPP_ORIENT_PORTRAIT, IPP_ORIENT_LANDSCAPE, IPP_ORIENT_REVERSE_LANDSCAPE,
                            IPP_ORIENT_REVERSE_PORTRAIT};
    ippAddIntegers(r, P, IPP_TAG_ENUM, "orientation-requested-supported", 4, o);
  }
  if (w("print-quality-default"))
    ippAddInteger(r, P, IPP_TAG_ENUM, "print-quality-default", IPP_QUALITY_NORMAL);
  if (w("print-quality-supported")) {
    static const int pq[] = {IPP_QUALITY_DRAFT, IPP_QUALITY_NORMAL, IPP_QUALITY_HIGH};
    ippAddIntegers(r, P, IPP_TAG_ENUM, "print-quality-supported", 3, pq);
  }
  if (w("printer-resolution-default"))
    ippAddResolution(r, P, "printer-resolution-default", IPP_RES_PER_INCH, 600, 600);
  if (w("printer-resolution-supported"))
    ippAddResolution(r, P, "printer-resolution-supported", IPP_RES_PER_INCH, 600, 600);
  if (w("finishings-default"))
    ippAddInteger(r, P, IPP_TAG_ENUM, "finishings-default", IPP_FINISHINGS_NONE);
  if (w("finishings-supported"))
    ippAddInteger(r, P, IPP_TAG_ENUM, "finishings-supported", IPP_FINISHINGS_NONE);
}

std::vector<std::string> jobStateReasons(const Job& job) {
  std::vector<std::string> out;
  if (!job.state_reasons.empty()) {
    size_t start = 0;
    while (start <= job.state_reasons.size()) {
      size_t comma = job.state_reasons.find(',', start);
      if (comma == std::string::npos) comma = job.state_reasons.size();
      if (comma > start) out.push_back(job.state_reasons.substr(start, comma - start));
      start = comma + 1;
    }
  }
  auto add = [&](const char* k) {
    for (auto& s : out)
      if (s == k) return;
    out.push_back(k);
  };
  switch (job.state) {
    case JobState::kReceiving:
      add("job-incoming");
      break;
    case JobState::kHeld:
      add("job-hold-until-specified");
      break;
    case JobState::kSending:
    case JobState::kPrinting:
      add("job-printing");
      break;
    case JobState::kCompleted:
      add("job-completed-successfully");
      break;
    case JobState::kCanceled:
    case JobState::kExpired:
      if (out.empty()) add("job-canceled-by-user");
      break;
    case JobState::kAborted:
      if (out.empty()) add("aborted-by-system");
      break;
    case JobState::kPending:
      break;
  }
  // An analysis limit hit (time, memory, pages) is visible to the client.
  for (const char* limit : {"analysis-time-limit", "analysis-memory-limit", "analysis-page-limit"})
    if (job.count_note.find(limit) != std::string::npos) add(limit);
  if (out.empty()) out.push_back("none");
  return out;
}

void addJobAttributes(ipp_t* r, const JobView& v, const Requested& want) {
  const Job& j = *v.job;
  const ipp_tag_t J = IPP_TAG_JOB;
  auto w = [&](const char* name, bool tmpl = false) { return want.wants(name, tmpl); };
  std::string base = std::string(v.tls ? "ipps://" : "ipp://") + v.host;

  if (w("job-id")) ippAddInteger(r, J, IPP_TAG_INTEGER, "job-id", static_cast<int>(j.id));
  if (w("job-uri"))
    ippAddString(r, J, IPP_TAG_URI, "job-uri", nullptr,
                 (base + "/jobs/" + std::to_string(j.id)).c_str());
  if (w("job-printer-uri"))
    ippAddString(r, J, IPP_TAG_URI, "job-printer-uri", nullptr,
                 (base + "/printers/" + j.queue).c_str());
  if (w("job-state")) ippAddInteger(r, J, IPP_TAG_ENUM, "job-state", ippJobState(j.state));
  if (w("job-state-reasons")) {
    auto reasons = jobStateReasons(j);
    std::vector<const char*> p;
    for (auto& s : reasons) p.push_back(s.c_str());
    ippAddStrings(r, J, IPP_TAG_KEYWORD, "job-state-reasons", static_cast<int>(p.size()), nullptr,
                  p.data());
  }
  if (w("job-printer-up-time"))
    ippAddInteger(r, J, IPP_TAG_INTEGER, "job-printer-up-time", static_cast<int>(v.now));
  if (w("time-at-creation"))
    ippAddInteger(r, J, IPP_TAG_INTEGER, "time-at-creation", static_cast<int>(j.created_at));
  if (w("time-at-processing")) {
    if (j.processing_at)
      ippAddInteger(r, J, IPP_TAG_INTEGER, "time-at-processing", static_cast<int>(j.processing_at));
    else
      ippAddOutOfBand(r, J, IPP_TAG_NOVALUE, "time-at-processing");
  }
  if (w("time-at-completed")) {
    if (j.completed_at)
      ippAddInteger(r, J, IPP_TAG_INTEGER, "time-at-completed", static_cast<int>(j.completed_at));
    else
      ippAddOutOfBand(r, J, IPP_TAG_NOVALUE, "time-at-completed");
  }
  if (!v.full) return;  // someone else's job: identity and state only

  if (w("job-name")) ippAddString(r, J, IPP_TAG_NAME, "job-name", nullptr, j.name.c_str());
  if (w("job-originating-user-name"))
    ippAddString(r, J, IPP_TAG_NAME, "job-originating-user-name", nullptr, j.owner.c_str());
  if (w("job-originating-host-name"))
    ippAddString(r, J, IPP_TAG_NAME, "job-originating-host-name", nullptr,
                 j.source_address.c_str());
  if (w("job-state-message") && !j.state_message.empty())
    ippAddString(r, J, IPP_TAG_TEXT, "job-state-message", nullptr, j.state_message.c_str());
  if (w("date-time-at-creation"))
    ippAddDate(r, J, "date-time-at-creation", ippTimeToDate(j.created_at));
  if (w("job-uuid"))
    ippAddString(
        r, J, IPP_TAG_URI, "job-uuid", nullptr,
        uuidFor("job/" + std::to_string(j.id) + "/" + std::to_string(j.created_at)).c_str());
  if (w("job-k-octets"))
    ippAddInteger(r, J, IPP_TAG_INTEGER, "job-k-octets",
                  static_cast<int>((j.size_bytes + 1023) / 1024));
  if (w("number-of-documents"))
    ippAddInteger(r, J, IPP_TAG_INTEGER, "number-of-documents", j.document_count);
  if (w("document-format") && !j.format.empty())
    ippAddString(r, J, IPP_TAG_MIMETYPE, "document-format", nullptr, j.format.c_str());
  if (w("job-hold-until", true)) {
    const char* hold =
        j.state == JobState::kHeld || (j.state == JobState::kReceiving && j.queue != "direct")
            ? "indefinite"
            : "no-hold";
    ippAddString(r, J, IPP_TAG_KEYWORD, "job-hold-until", nullptr, hold);
  }
  if (w("job-release-action"))
    ippAddString(r, J, IPP_TAG_KEYWORD, "job-release-action", nullptr,
                 j.queue == "direct" ? "none" : "owner-authorized");
  if (w("copies", true)) ippAddInteger(r, J, IPP_TAG_INTEGER, "copies", j.copies);
  if (w("sides", true)) ippAddString(r, J, IPP_TAG_KEYWORD, "sides", nullptr, j.sides.c_str());
  if (w("print-color-mode", true))
    ippAddString(r, J, IPP_TAG_KEYWORD, "print-color-mode", nullptr, j.color_mode.c_str());
  // Counts: present only when known ("unknown" is never reported as 0).
  if (w("job-impressions") && j.impressions)
    ippAddInteger(r, J, IPP_TAG_INTEGER, "job-impressions", static_cast<int>(*j.impressions));
  if (w("job-media-sheets") && j.sheets)
    ippAddInteger(r, J, IPP_TAG_INTEGER, "job-media-sheets", static_cast<int>(*j.sheets));
  if (w("job-pages") && j.pages)
    ippAddInteger(r, J, IPP_TAG_INTEGER, "job-pages", static_cast<int>(*j.pages));
}

}  // namespace pullprint::spooler
