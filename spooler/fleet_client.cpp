#include "spooler/fleet_client.h"

#include <cups/cups.h>
#include <cups/ppd.h>
#include <unistd.h>

#include <cstring>
#include <memory>

// The PPD API is deprecated in libcups 2.4 but is what cupsd's own PPD queues
// (and lpadmin) still use; there is no replacement for changing a queue's
// driver defaults.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "spooler/ipp_connection.h"

namespace pullprint::spooler {

namespace {

// The outcome of the last request on this thread. No response at all, or an
// HTTP-level failure without IPP status, means the printer could not be
// reached (or the connection broke): kUnavailable. A refusal carries the IPP
// status, the printer's own status-message and the attributes it listed as
// unsupported.
Status lastStatus(const char* what, ipp_t* response) {
  ipp_status_t s = cupsLastError();
  std::string msg = std::string(what) + ": " + ippErrorString(s);
  std::string detail;
  if (response) {
    if (ipp_attribute_t* m = ippFindAttribute(response, "status-message", IPP_TAG_ZERO))
      if (const char* t = ippGetString(m, 0, nullptr)) detail = t;
    std::string unsupported;
    for (ipp_attribute_t* a = ippFirstAttribute(response); a; a = ippNextAttribute(response))
      if (ippGetGroupTag(a) == IPP_TAG_UNSUPPORTED_GROUP && ippGetName(a))
        unsupported += (unsupported.empty() ? "" : ", ") + std::string(ippGetName(a));
    if (!unsupported.empty())
      detail += (detail.empty() ? "" : "; ") + std::string("unsupported: ") + unsupported;
  }
  if (detail.empty()) {
    const char* m = cupsLastErrorString();
    if (m && *m && std::strcmp(m, ippErrorString(s)) != 0) detail = m;
  }
  if (!detail.empty()) msg += " (" + detail + ")";
  if (!response) return {StatusCode::kUnavailable, msg};
  if (s <= IPP_STATUS_OK_EVENTS_COMPLETE) return Status::ok();
  if (s == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE || s == IPP_STATUS_ERROR_BUSY)
    return {StatusCode::kUnavailable, msg};
  return {StatusCode::kFailedPrecondition, msg};
}

std::string valueText(ipp_attribute_t* a, int i, const std::string& option) {
  switch (ippGetValueTag(a)) {
    case IPP_TAG_ENUM:
      return ippEnumString(option.c_str(), ippGetInteger(a, i));
    case IPP_TAG_INTEGER:
      return std::to_string(ippGetInteger(a, i));
    case IPP_TAG_BOOLEAN:
      return ippGetBoolean(a, i) ? "true" : "false";
    case IPP_TAG_RANGE: {
      int upper = 0;
      int lower = ippGetRange(a, i, &upper);
      return std::to_string(lower) + "-" + std::to_string(upper);
    }
    case IPP_TAG_RESOLUTION: {
      ipp_res_t units;
      int y = 0;
      int x = ippGetResolution(a, i, &y, &units);
      return std::to_string(x) + "x" + std::to_string(y) +
             (units == IPP_RES_PER_INCH ? "dpi" : "dpcm");
    }
    case IPP_TAG_BEGIN_COLLECTION:
      return "(collection)";
    default:
      if (const char* s = ippGetString(a, i, nullptr)) return s;
      return "";
  }
}

std::string queueName(const std::string& resource) {
  constexpr std::string_view kPrefix = "/printers/";
  if (resource.rfind(kPrefix, 0) != 0) return "";
  return resource.substr(kPrefix.size());
}

void addValue(ipp_t* req, ipp_tag_t group, const policies::PrinterDefault& d, int tag) {
  using Kind = policies::PrinterDefault::Kind;
  if (tag == IPP_TAG_ENUM) {
    int v = d.kind == Kind::kInteger ? std::stoi(d.value)
                                     : ippEnumValue(d.option().c_str(), d.value.c_str());
    ippAddInteger(req, group, IPP_TAG_ENUM, d.name.c_str(), v);
  } else if (d.kind == Kind::kInteger) {
    ippAddInteger(req, group, IPP_TAG_INTEGER, d.name.c_str(), std::stoi(d.value));
  } else if (d.kind == Kind::kBoolean) {
    ippAddBoolean(req, group, d.name.c_str(), d.value == "true");
  } else {
    ipp_tag_t t = (tag == IPP_TAG_NAME || tag == IPP_TAG_TEXT || tag == IPP_TAG_MIMETYPE ||
                   tag == IPP_TAG_NAMELANG || tag == IPP_TAG_TEXTLANG)
                      ? static_cast<ipp_tag_t>(tag == IPP_TAG_NAMELANG   ? IPP_TAG_NAME
                                               : tag == IPP_TAG_TEXTLANG ? IPP_TAG_TEXT
                                                                         : tag)
                      : IPP_TAG_KEYWORD;
    ippAddString(req, group, t, d.name.c_str(), nullptr, d.value.c_str());
  }
}

}  // namespace

Result<PrinterDefaultsReading> FleetClient::read(const std::string& uri) const {
  auto t = parsePrinterUri(uri);
  if (!t) return t.status();
  auto http = connectPrinter(*t, timeout_);
  if (!http) return http.status();
  ipp_t* req = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "pullprint");
  static const char* const want[] = {"job-template", "printer-description",
                                     "printer-settable-attributes-supported",
                                     "printer-settable-attributes", "printer-type"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                sizeof want / sizeof want[0], nullptr, want);
  IppPtr resp(cupsDoRequest(http->get(), req, t->resource.c_str()));
  if (Status s = lastStatus("Get-Printer-Attributes", resp.get()); !s) return s;

  PrinterDefaultsReading r;
  bool printer_type = false;
  for (ipp_attribute_t* a = ippFirstAttribute(resp.get()); a; a = ippNextAttribute(resp.get())) {
    const char* n = ippGetName(a);
    if (!n || ippGetGroupTag(a) != IPP_TAG_PRINTER) continue;
    std::string name = n;
    if (name == "printer-type") printer_type = true;
    if (name == "printer-settable-attributes-supported" || name == "printer-settable-attributes") {
      for (int i = 0; i < ippGetCount(a); ++i)
        if (const char* v = ippGetString(a, i, nullptr)) r.settable.insert(v);
      continue;
    }
    if (name.size() > 10 && name.ends_with("-supported")) {
      std::string option = name.substr(0, name.size() - 10);
      auto& values = r.supported[option];
      ipp_tag_t tag = ippGetValueTag(a);
      if (tag == IPP_TAG_KEYWORD || tag == IPP_TAG_ENUM)
        for (int i = 0; i < ippGetCount(a); ++i) values.push_back(valueText(a, i, option));
      continue;
    }
    if (name.size() > 8 && name.ends_with("-default")) {
      ipp_tag_t tag = ippGetValueTag(a);
      if (tag == IPP_TAG_NOVALUE || tag == IPP_TAG_UNKNOWN || tag == IPP_TAG_NOTSETTABLE ||
          tag == IPP_TAG_DELETEATTR || tag == IPP_TAG_ADMINDEFINE)
        continue;
      std::string option = name.substr(0, name.size() - 8);
      std::vector<std::string> values;
      for (int i = 0; i < ippGetCount(a); ++i) values.push_back(valueText(a, i, option));
      auto& slot = r.defaults[name];  // cupsd may report one attribute twice
      slot.insert(slot.end(), values.begin(), values.end());
      r.value_tags[name] = tag;
    }
  }
  r.cups_queue = printer_type && !queueName(t->resource).empty();
  return r;
}

Status FleetClient::setIpp(const std::string& uri,
                           const std::vector<const policies::PrinterDefault*>& settings,
                           const PrinterDefaultsReading& reading) const {
  auto t = parsePrinterUri(uri);
  if (!t) return t.status();
  auto http = connectPrinter(*t, timeout_);
  if (!http) return http.status();
  ipp_t* req = ippNewRequest(IPP_OP_SET_PRINTER_ATTRIBUTES);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "pullprint");
  for (const auto* d : settings) {
    auto it = reading.value_tags.find(d->name);
    addValue(req, IPP_TAG_PRINTER, *d, it == reading.value_tags.end() ? 0 : it->second);
  }
  IppPtr resp(cupsDoRequest(http->get(), req, t->resource.c_str()));
  return lastStatus("Set-Printer-Attributes", resp.get());
}

Status FleetClient::setCups(const std::string& uri,
                            const std::vector<const policies::PrinterDefault*>& settings) const {
  auto t = parsePrinterUri(uri);
  if (!t) return t.status();
  std::string queue = queueName(t->resource);
  if (queue.empty())
    return {StatusCode::kInvalidArgument, "not a CUPS queue URI (no /printers/NAME): " + uri};
  auto http = connectPrinter(*t, timeout_);
  if (!http) return http.status();

  // The options as lpadmin -o would get them: "sides=two-sided-long-edge".
  int num_options = 0;
  cups_option_t* options = nullptr;
  for (const auto* d : settings)
    num_options = cupsAddOption(d->option().c_str(), d->value.c_str(), num_options, &options);
  struct OptionsFree {
    int n;
    cups_option_t* o;
    ~OptionsFree() { cupsFreeOptions(n, o); }
  } options_free{num_options, options};

  ipp_t* req = ippNewRequest(IPP_OP_CUPS_ADD_MODIFY_PRINTER);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "pullprint");

  // The queue's PPD (a temporary copy).
  char ppdfile[1024] = "";
  time_t modtime = 0;
  http_status_t got = cupsGetPPD3(http->get(), queue.c_str(), &modtime, ppdfile, sizeof ppdfile);
  if (got != HTTP_STATUS_OK) {
    if (got != HTTP_STATUS_NOT_FOUND) {
      ippDelete(req);
      if (got == HTTP_STATUS_ERROR)
        return {StatusCode::kUnavailable,
                "reading the queue's PPD: " + std::string(cupsLastErrorString())};
      return {StatusCode::kFailedPrecondition, "reading the queue's PPD: HTTP " +
                                                   std::to_string(static_cast<int>(got)) + " " +
                                                   httpStatus(got)};
    }
    // No PPD (raw queue): the xxx-default attributes are all there is.
    for (const auto* d : settings) addValue(req, IPP_TAG_PRINTER, *d, 0);
    IppPtr resp(cupsDoRequest(http->get(), req, "/admin/"));
    return lastStatus("CUPS-Add-Modify-Printer", resp.get());
  }
  struct Unlink {
    std::string path;
    ~Unlink() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } ppd_unlink{ppdfile};

  ppd_file_t* ppd = ppdOpenFile(ppdfile);
  if (!ppd) {
    ippDelete(req);
    int line = 0;
    ppd_status_t ps = ppdLastError(&line);
    return {StatusCode::kFailedPrecondition,
            "the queue's PPD cannot be read: " + std::string(ppdErrorString(ps)) + " on line " +
                std::to_string(line)};
  }
  ppdMarkDefaults(ppd);
  cupsMarkOptions(ppd, num_options, options);
  // print-color-mode: cupsMarkOptions knows only the PPD's own names for
  // colour; map it onto ColorModel when the PPD has one (as cupsd's generated
  // IPP Everywhere PPDs do: Gray / RGB).
  if (const char* mode = cupsGetOption("print-color-mode", num_options, options)) {
    if (ppd_option_t* cm = ppdFindOption(ppd, "ColorModel")) {
      bool mono = std::strcmp(mode, "color") != 0 && std::strcmp(mode, "auto") != 0;
      static const char* const kMono[] = {"Gray", "Grayscale", "FastGray", "Black", nullptr};
      static const char* const kColor[] = {"RGB", "CMYK", "Color", nullptr};
      const char* const* wanted = mono ? kMono : kColor;
      for (; *wanted; ++wanted)
        if (ppdFindChoice(cm, *wanted)) {
          ppdMarkOption(ppd, "ColorModel", *wanted);
          break;
        }
    }
  }

  // Rewrite the *Default lines whose marked choice differs (as lpadmin does).
  char tempfile[1024];
  cups_file_t* out = cupsTempFile2(tempfile, sizeof tempfile);
  if (!out) {
    ppdClose(ppd);
    ippDelete(req);
    return {StatusCode::kInternal, "cannot create a temporary PPD file"};
  }
  Unlink temp_unlink{tempfile};
  cups_file_t* in = cupsFileOpen(ppdfile, "r");
  if (!in) {
    cupsFileClose(out);
    ppdClose(ppd);
    ippDelete(req);
    return {StatusCode::kInternal, "cannot reopen the queue's PPD"};
  }
  char line[2048];
  while (cupsFileGets(in, line, sizeof line)) {
    if (std::strncmp(line, "*Default", 8) != 0) {
      cupsFilePrintf(out, "%s\n", line);
      continue;
    }
    std::string keyword(line + 8);
    std::size_t end = keyword.find_first_of(": \t");
    std::string current;
    if (end != std::string::npos) {
      std::size_t v = keyword.find_first_not_of(": \t", end);
      current = v == std::string::npos ? "" : keyword.substr(v);
      keyword.resize(end);
    }
    ppd_choice_t* choice = nullptr;
    if (keyword == "PageRegion" || keyword == "PageSize" || keyword == "PaperDimension" ||
        keyword == "ImageableArea") {
      choice = ppdFindMarkedChoice(ppd, "PageSize");
      if (!choice) choice = ppdFindMarkedChoice(ppd, "PageRegion");
    } else {
      choice = ppdFindMarkedChoice(ppd, keyword.c_str());
    }
    if (choice && current != choice->choice && std::strcmp(choice->choice, "Custom") != 0)
      cupsFilePrintf(out, "*Default%s: %s\n", keyword.c_str(), choice->choice);
    else
      cupsFilePrintf(out, "%s\n", line);
  }
  cupsFileClose(in);
  cupsFileClose(out);
  ppdClose(ppd);

  // Printer group, found by trying against cupsd 2.4 (docs/policies.md):
  //  - sides-default is derived from the PPD's *DefaultDuplex. An explicit
  //    sides-default becomes a second, separate value that jobs ignore (the
  //    DESIGN.md pitfall), so it is deleted instead (as lpadmin -R does),
  //    which also repairs a queue where someone set it by hand.
  //  - every other default is also sent as xxx-default: cupsd keeps those as
  //    queue options that win over the PPD (a stale print-color-mode option
  //    would otherwise survive the PPD change).
  cupsEncodeOptions2(req, num_options, options, IPP_TAG_OPERATION);
  for (const auto* d : settings) {
    if (d->name == "sides-default")
      ippAddInteger(req, IPP_TAG_PRINTER, IPP_TAG_DELETEATTR, "sides-default", 0);
    else
      addValue(req, IPP_TAG_PRINTER, *d, 0);
  }
  IppPtr resp(cupsDoFileRequest(http->get(), req, "/admin/", tempfile));
  return lastStatus("CUPS-Add-Modify-Printer", resp.get());
}

}  // namespace pullprint::spooler
