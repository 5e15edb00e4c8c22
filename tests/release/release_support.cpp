#include "tests/release/release_support.h"

#include "tests/support/base64.h"

#include <cups/cups.h>

#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "tests/support/http_client.h"
#include "tests/support/wait.h"

namespace pullprint::rtest {

using testing::waitFor;

// ---------------------------------------------------------------------------
// ReleaseServer

namespace {

testing::PullprintdOptions daemonOptions() {
  testing::PullprintdOptions o;
  o.dirPrefix = "pullprint-release";
  return o;
}

}  // namespace

ReleaseServer::ReleaseServer(ReleaseServerOptions options) : testing::Pullprintd(daemonOptions()) {
  writeConfig("[server]\nlog_level = \"" + options.logLevel + "\"\n" + options.serverToml + "\n" +
              options.toml + "\n");
}

void ReleaseServer::start(std::chrono::milliseconds timeout) {
  startUntil(
      [](std::uint16_t port) {
        return httpRequest(port, "GET", "/api/v1/health", "", "", 1s).status == 200;
      },
      timeout);
}

// ---------------------------------------------------------------------------
// HTTP

using testing::base64;

json HttpResult::parsed() const { return json::parse(body, nullptr, false); }

HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, const std::string& basicAuth,
                       std::chrono::milliseconds timeout) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  if (!basicAuth.empty()) req += "Authorization: Basic " + base64(basicAuth) + "\r\n";
  if (!body.empty() || method == "POST")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  HttpResult result;
  try {
    testing::RawConn conn(port);
    if (!conn.send(req)) return result;
    testing::HttpResponse r = conn.readResponse(timeout);
    result.status = r.status;
    result.body = std::move(r.body);
  } catch (const std::exception&) {
    // No connection (or a malformed head): status 0.
  }
  return result;
}

HttpResult releaseJobs(std::uint16_t port, const std::string& auth, const std::string& printer,
                       const std::string& user, const std::vector<std::int64_t>& jobs) {
  json body = {{"printer", printer}, {"user", user}, {"jobs", jobs}};
  return httpRequest(port, "POST", "/api/v1/release", body.dump(), auth);
}

json getJob(std::uint16_t port, const std::string& auth, std::int64_t id) {
  auto r = httpRequest(port, "GET", "/api/v1/jobs/" + std::to_string(id), "", auth);
  if (r.status != 200) return nullptr;
  return r.parsed();
}

json waitJob(std::uint16_t port, const std::string& auth, std::int64_t id,
             const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout) {
  json last;
  waitFor(
      [&] {
        last = getJob(port, auth, id);
        return last.is_object() && pred(last);
      },
      timeout, 25ms);
  return last;
}

std::function<bool(const json&)> stateIs(const std::string& state) {
  return [state](const json& j) { return j.value("state", "") == state; };
}

std::function<bool(const json&)> analysed() {
  return [](const json& j) { return !j.value("count_confidence", "").empty(); };
}

// ---------------------------------------------------------------------------
// IPP

namespace {

http_t* connectTo(std::uint16_t port) {
  return httpConnect2("127.0.0.1", port, nullptr, AF_INET, HTTP_ENCRYPTION_IF_REQUESTED, 1, 10000,
                      nullptr);
}

ipp_t* newRequest(ipp_op_t op, std::uint16_t port, const std::string& queue,
                  const std::string& user) {
  ipp_t* req = ippNewRequest(op);
  std::string uri = "ipp://127.0.0.1:" + std::to_string(port) + "/printers/" + queue;
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, user.c_str());
  return req;
}

IppResult finishRequest(ipp_t* resp) {
  IppResult r;
  r.status = cupsLastError();
  r.message = cupsLastErrorString() ? cupsLastErrorString() : "";
  if (resp) {
    r.status = ippGetStatusCode(resp);
    if (auto* a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER)) r.jobId = ippGetInteger(a, 0);
    if (auto* m = ippFindAttribute(resp, "status-message", IPP_TAG_TEXT))
      r.message = ippGetString(m, 0, nullptr);
    ippDelete(resp);
  } else {
    r.status = -1;
  }
  return r;
}

}  // namespace

IppResult ippPrintJob(std::uint16_t port, const fs::path& file, const IppJobOptions& o) {
  http_t* http = connectTo(port);
  if (!http) return {-1, "cannot connect to pullprintd", 0};
  ipp_t* req = newRequest(IPP_OP_PRINT_JOB, port, o.queue, o.user);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, o.jobName.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               o.format.c_str());
  if (!o.sides.empty())
    ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", nullptr, o.sides.c_str());
  if (!o.colorMode.empty())
    ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-color-mode", nullptr,
                 o.colorMode.c_str());
  if (o.copies > 0) ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", o.copies);
  std::string resource = "/printers/" + o.queue;
  ipp_t* resp = cupsDoFileRequest(http, req, resource.c_str(), file.c_str());
  IppResult r = finishRequest(resp);
  httpClose(http);
  return r;
}

namespace {

// One job operation (job-id on the queue's printer-uri) as `user`.
IppResult ippJobOperation(ipp_op_t op, std::uint16_t port, const std::string& queue,
                          std::int64_t jobId, const std::string& user) {
  http_t* http = connectTo(port);
  if (!http) return {-1, "cannot connect to pullprintd", 0};
  ipp_t* req = newRequest(op, port, queue, user);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", static_cast<int>(jobId));
  std::string resource = "/printers/" + queue;
  ipp_t* resp = cupsDoRequest(http, req, resource.c_str());
  IppResult r = finishRequest(resp);
  httpClose(http);
  return r;
}

}  // namespace

IppResult ippReleaseJob(std::uint16_t port, const std::string& queue, std::int64_t jobId,
                        const std::string& user) {
  return ippJobOperation(IPP_OP_RELEASE_JOB, port, queue, jobId, user);
}

IppResult ippCancelJob(std::uint16_t port, const std::string& queue, std::int64_t jobId,
                       const std::string& user) {
  return ippJobOperation(IPP_OP_CANCEL_JOB, port, queue, jobId, user);
}

std::optional<std::map<int, int>> printerJobStates(const std::string& printerUri) {
  char scheme[32], userpass[64], host[256], resource[1024];
  int port = 0;
  if (httpSeparateURI(HTTP_URI_CODING_ALL, printerUri.c_str(), scheme, sizeof scheme, userpass,
                      sizeof userpass, host, sizeof host, &port, resource,
                      sizeof resource) < HTTP_URI_STATUS_OK)
    return std::nullopt;
  http_t* http = connectTo(static_cast<std::uint16_t>(port));
  if (!http) return std::nullopt;
  ipp_t* req = ippNewRequest(IPP_OP_GET_JOBS);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, printerUri.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "root");
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr, "all");
  static const char* const want[] = {"job-id", "job-state"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, nullptr, want);
  ipp_t* resp = cupsDoRequest(http, req, resource);
  httpClose(http);
  if (!resp) return std::nullopt;
  // One job per attribute group; groups are separated by unnamed attributes.
  std::map<int, int> states;
  int id = 0, state = 0;
  auto flush = [&] {
    if (id > 0) states[id] = state;
    id = state = 0;
  };
  for (ipp_attribute_t* a = ippFirstAttribute(resp); a; a = ippNextAttribute(resp)) {
    const char* name = ippGetName(a);
    if (!name) {
      flush();
    } else if (ippGetGroupTag(a) == IPP_TAG_JOB && std::strcmp(name, "job-id") == 0) {
      id = ippGetInteger(a, 0);
    } else if (ippGetGroupTag(a) == IPP_TAG_JOB && std::strcmp(name, "job-state") == 0) {
      state = ippGetInteger(a, 0);
    }
  }
  flush();
  ippDelete(resp);
  return states;
}

std::optional<std::vector<int>> printerJobIds(const std::string& printerUri) {
  auto states = printerJobStates(printerUri);
  if (!states) return std::nullopt;
  std::vector<int> ids;
  for (const auto& [id, state] : *states) ids.push_back(id);
  return ids;
}

// ---------------------------------------------------------------------------
// Bytes

void writeRandomFile(const fs::path& path, size_t size, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(8192);
  size_t written = 0;
  while (written < size) {
    for (auto& v : block) v = rng();
    size_t n = std::min(size - written, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    written += n;
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace pullprint::rtest
