#include "spooler/printer_client.h"

#include <cups/cups.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "spooler/ipp_connection.h"

namespace pullprint::spooler {

namespace {

ipp_t* request(ipp_op_t op, const std::string& uri, const std::string& user) {
  ipp_t* r = ippNewRequest(op);
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
               user.empty() ? "pullprint" : user.c_str());
  return r;
}

Status statusFromIpp(const char* what) {
  ipp_status_t s = cupsLastError();
  std::string msg =
      std::string(what) + ": " + ippErrorString(s) + " (" + cupsLastErrorString() + ")";
  if (s <= IPP_STATUS_OK_EVENTS_COMPLETE) return Status::ok();
  if (s == IPP_STATUS_ERROR_BUSY || s == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE ||
      s == IPP_STATUS_ERROR_TEMPORARY || s == IPP_STATUS_ERROR_INTERNAL ||
      s == IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS || s == IPP_STATUS_ERROR_PRINTER_IS_DEACTIVATED)
    return {StatusCode::kUnavailable, msg};
  if (s == IPP_STATUS_ERROR_NOT_FOUND) return {StatusCode::kNotFound, msg};
  return {StatusCode::kFailedPrecondition, msg};
}

std::vector<std::string> strings(ipp_t* r, const char* name) {
  std::vector<std::string> out;
  if (ipp_attribute_t* a = ippFindAttribute(r, name, IPP_TAG_ZERO))
    for (int i = 0; i < ippGetCount(a); ++i)
      if (const char* v = ippGetString(a, i, nullptr)) out.emplace_back(v);
  return out;
}

}  // namespace

bool PrinterCapabilities::supportsFormat(const std::string& mime) const {
  if (formats.empty()) return true;  // not reported: let the printer decide
  // Exact match only. "application/octet-stream" in the list means the printer
  // auto-detects the formats it knows by their first bytes; it is not a
  // promise to print anything (ippeveprinter and IPP Everywhere printers list
  // it and still refuse text/plain at Send-Document).
  return std::find(formats.begin(), formats.end(), mime) != formats.end();
}

bool PrinterCapabilities::supportsDuplex() const {
  return std::find(sides.begin(), sides.end(), "two-sided-long-edge") != sides.end();
}

std::string PrinterCapabilities::toJson() const {
  nlohmann::json j = {{"formats", formats},
                      {"sides", sides},
                      {"color_modes", color_modes},
                      {"media", media},
                      {"color", color},
                      {"make_and_model", make_and_model},
                      {"state", state},
                      {"state_message", state_message},
                      {"state_reasons", state_reasons},
                      {"accepting", accepting}};
  return j.dump();
}

PrinterCapabilities PrinterCapabilities::fromJson(const std::string& text) {
  PrinterCapabilities c;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return c;
  c.formats = j.value("formats", std::vector<std::string>{});
  c.sides = j.value("sides", std::vector<std::string>{});
  c.color_modes = j.value("color_modes", std::vector<std::string>{});
  c.media = j.value("media", std::vector<std::string>{});
  c.color = j.value("color", false);
  c.make_and_model = j.value("make_and_model", "");
  c.state = j.value("state", "unknown");
  c.state_message = j.value("state_message", "");
  c.state_reasons = j.value("state_reasons", std::vector<std::string>{});
  c.accepting = j.value("accepting", true);
  return c;
}

Result<PrinterCapabilities> PrinterClient::capabilities(const std::string& uri) const {
  auto t = parsePrinterUri(uri);
  if (!t) return t.status();
  auto http = connectPrinter(*t, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri, "pullprint");
  static const char* const want[] = {"document-format-supported",
                                     "sides-supported",
                                     "print-color-mode-supported",
                                     "media-supported",
                                     "color-supported",
                                     "printer-make-and-model",
                                     "printer-state",
                                     "printer-state-message",
                                     "printer-state-reasons",
                                     "printer-is-accepting-jobs"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                sizeof want / sizeof want[0], nullptr, want);
  IppPtr resp(cupsDoRequest(http->get(), req, t->resource.c_str()));
  if (!resp)
    return Status(StatusCode::kUnavailable,
                  std::string("Get-Printer-Attributes: ") + cupsLastErrorString());
  if (Status s = statusFromIpp("Get-Printer-Attributes"); !s) return s;
  PrinterCapabilities c;
  c.formats = strings(resp.get(), "document-format-supported");
  c.sides = strings(resp.get(), "sides-supported");
  c.color_modes = strings(resp.get(), "print-color-mode-supported");
  c.media = strings(resp.get(), "media-supported");
  if (auto* a = ippFindAttribute(resp.get(), "color-supported", IPP_TAG_BOOLEAN))
    c.color = ippGetBoolean(a, 0);
  if (auto v = strings(resp.get(), "printer-make-and-model"); !v.empty()) c.make_and_model = v[0];
  if (auto* a = ippFindAttribute(resp.get(), "printer-state", IPP_TAG_ENUM)) {
    int s = ippGetInteger(a, 0);
    c.state = s == IPP_PSTATE_IDLE ? "idle" : s == IPP_PSTATE_PROCESSING ? "processing" : "stopped";
  }
  if (auto v = strings(resp.get(), "printer-state-message"); !v.empty()) c.state_message = v[0];
  c.state_reasons = strings(resp.get(), "printer-state-reasons");
  if (auto* a = ippFindAttribute(resp.get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN))
    c.accepting = ippGetBoolean(a, 0);
  return c;
}

Result<std::int64_t> PrinterClient::createJob(const std::string& uri, const SendTicket& t) const {
  auto target = parsePrinterUri(uri);
  if (!target) return target.status();
  auto http = connectPrinter(*target, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_CREATE_JOB, uri, t.user);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, t.job_name.c_str());
  if (t.copies > 1) ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", t.copies);
  if (!t.sides.empty())
    ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", nullptr, t.sides.c_str());
  if (!t.color_mode.empty() && t.color_mode != "auto")
    ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-color-mode", nullptr,
                 t.color_mode.c_str());
  if (!t.media.empty())
    ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", nullptr, t.media.c_str());
  IppPtr resp(cupsDoRequest(http->get(), req, target->resource.c_str()));
  if (!resp)
    return Status(StatusCode::kUnavailable, std::string("Create-Job: ") + cupsLastErrorString());
  if (Status s = statusFromIpp("Create-Job"); !s) return s;
  auto* id = ippFindAttribute(resp.get(), "job-id", IPP_TAG_INTEGER);
  if (!id) return Status(StatusCode::kFailedPrecondition, "Create-Job: printer returned no job-id");
  return static_cast<std::int64_t>(ippGetInteger(id, 0));
}

Status PrinterClient::sendDocument(const std::string& uri, std::int64_t job_id,
                                   const std::string& user, const std::filesystem::path& file,
                                   const std::string& format, bool last_document) const {
  auto target = parsePrinterUri(uri);
  if (!target) return target.status();
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {StatusCode::kNotFound, "spool file missing: " + file.string()};
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  auto http = connectPrinter(*target, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_SEND_DOCUMENT, uri, user);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", static_cast<int>(job_id));
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               format.c_str());
  ippAddBoolean(req, IPP_TAG_OPERATION, "last-document", last_document ? 1 : 0);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
    ippDelete(req);
    return {StatusCode::kInternal,
            std::string("Send-Document: cannot read the spool file: ") + std::strerror(errno)};
  }
  http_status_t hs =
      cupsSendRequest(http->get(), req, target->resource.c_str(),
                      static_cast<size_t>(ippLength(req)) + static_cast<size_t>(size));
  ippDelete(req);
  if (hs != HTTP_STATUS_CONTINUE)
    return {StatusCode::kUnavailable, std::string("Send-Document: ") + httpStatus(hs)};
  // A printer that sees a document body end with a plain close may take it
  // as complete and print what it got (ippeveprinter does). So until the
  // last byte is written, any close of this socket is a reset: ours below,
  // or the kernel's if pullprintd dies mid-document (kill -9, a crash, the
  // host going down in an orderly way). A reset makes the printer fail the
  // request instead.
  const int sock = httpGetFd(http->get());
  const linger reset_on_close{1, 0}, normal_close{0, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  // Exactly the announced length: a read error or a file that shrank ends
  // the request unfinished rather than sending a short document, after
  // cancelling the job at the printer on a second connection while this one
  // still holds the request open. kInternal marks the fault as ours, not
  // the printer's.
  auto abandon = [&](std::string why) -> Status {
    (void)cancelJob(uri, job_id, user);
    return {StatusCode::kInternal, "Send-Document: " + why};
  };
  char buf[64 * 1024];
  const auto total = static_cast<std::uint64_t>(size);
  for (std::uint64_t done = 0; done < total;) {
    const ssize_t n =
        ::read(fd, buf, static_cast<size_t>(std::min<std::uint64_t>(sizeof buf, total - done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return abandon(std::string("cannot read the spool file: ") + std::strerror(errno));
    if (n == 0) return abandon("the spool file got shorter while it was sent");
    if (cupsWriteRequestData(http->get(), buf, static_cast<size_t>(n)) != HTTP_STATUS_CONTINUE)
      return {StatusCode::kUnavailable,
              std::string("Send-Document: printer stopped reading: ") + cupsLastErrorString()};
    done += static_cast<std::uint64_t>(n);
  }
  // The last bytes may still be in libcups's buffer: out with them first.
  if (httpFlushWrite(http->get()) < 0)
    return {StatusCode::kUnavailable,
            std::string("Send-Document: printer stopped reading: ") + cupsLastErrorString()};
  ::setsockopt(sock, SOL_SOCKET, SO_LINGER, &normal_close, sizeof normal_close);
  IppPtr resp(cupsGetResponse(http->get(), target->resource.c_str()));
  if (!resp)
    return {StatusCode::kUnavailable, std::string("Send-Document: ") + cupsLastErrorString()};
  return statusFromIpp("Send-Document");
}

Result<PrinterJobStatus> PrinterClient::jobStatus(const std::string& uri, std::int64_t job_id,
                                                  const std::string& user) const {
  auto target = parsePrinterUri(uri);
  if (!target) return target.status();
  auto http = connectPrinter(*target, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_GET_JOB_ATTRIBUTES, uri, user);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", static_cast<int>(job_id));
  static const char* const want[] = {"job-state", "job-state-reasons", "job-state-message",
                                     "job-impressions-completed", "job-media-sheets-completed"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 5, nullptr, want);
  IppPtr resp(cupsDoRequest(http->get(), req, target->resource.c_str()));
  if (!resp)
    return Status(StatusCode::kUnavailable,
                  std::string("Get-Job-Attributes: ") + cupsLastErrorString());
  if (Status s = statusFromIpp("Get-Job-Attributes"); !s) return s;
  PrinterJobStatus st;
  if (auto* a = ippFindAttribute(resp.get(), "job-state", IPP_TAG_ENUM))
    st.state = ippGetInteger(a, 0);
  st.reasons = strings(resp.get(), "job-state-reasons");
  if (auto v = strings(resp.get(), "job-state-message"); !v.empty()) st.message = v[0];
  if (auto* a = ippFindAttribute(resp.get(), "job-impressions-completed", IPP_TAG_INTEGER))
    st.impressions_completed = ippGetInteger(a, 0);
  if (auto* a = ippFindAttribute(resp.get(), "job-media-sheets-completed", IPP_TAG_INTEGER))
    st.sheets_completed = ippGetInteger(a, 0);
  return st;
}

Result<std::optional<std::int64_t>> PrinterClient::findJobByName(const std::string& uri,
                                                                 const std::string& name,
                                                                 const std::string& user) const {
  auto target = parsePrinterUri(uri);
  if (!target) return target.status();
  auto http = connectPrinter(*target, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_GET_JOBS, uri, user);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr, "all");
  static const char* const want[] = {"job-id", "job-name"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, nullptr, want);
  IppPtr resp(cupsDoRequest(http->get(), req, target->resource.c_str()));
  if (!resp)
    return Status(StatusCode::kUnavailable, std::string("Get-Jobs: ") + cupsLastErrorString());
  if (Status s = statusFromIpp("Get-Jobs"); !s) return s;
  std::optional<std::int64_t> found;
  int id = 0;
  for (ipp_attribute_t* a = ippFirstAttribute(resp.get()); a; a = ippNextAttribute(resp.get())) {
    if (!ippGetName(a)) {
      id = 0;
      continue;
    }
    if (!std::strcmp(ippGetName(a), "job-id")) id = ippGetInteger(a, 0);
    if (!std::strcmp(ippGetName(a), "job-name") && id > 0 && name == ippGetString(a, 0, nullptr))
      found = id;
  }
  return found;
}

Status PrinterClient::cancelJob(const std::string& uri, std::int64_t job_id,
                                const std::string& user) const {
  auto target = parsePrinterUri(uri);
  if (!target) return target.status();
  auto http = connectPrinter(*target, timeout_);
  if (!http) return http.status();
  ipp_t* req = request(IPP_OP_CANCEL_JOB, uri, user);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", static_cast<int>(job_id));
  IppPtr resp(cupsDoRequest(http->get(), req, target->resource.c_str()));
  if (!resp) return {StatusCode::kUnavailable, std::string("Cancel-Job: ") + cupsLastErrorString()};
  return statusFromIpp("Cancel-Job");
}

}  // namespace pullprint::spooler
