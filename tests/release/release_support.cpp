#include "tests/release/release_support.h"

#include "tests/support/base64.h"

#include <arpa/inet.h>
#include <cups/cups.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.h"

#ifndef PULLPRINTD_PATH
#error "PULLPRINTD_PATH must name the pullprintd binary"
#endif

namespace pullprint::rtest {

using testing::waitFor;

// ---------------------------------------------------------------------------
// ReleaseServer

ReleaseServer::ReleaseServer(ReleaseServerOptions options)
    : options_(std::move(options)), dir_("pullprint-release") {
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  std::string toml = "[server]\nlog_level = \"" + options_.logLevel + "\"\n" + options_.serverToml +
                     "\n" + options_.toml + "\n";
  testing::writeFile(configPath(), toml);
}

ReleaseServer::~ReleaseServer() {
  if (process_) process_->terminate(3000ms);
}

std::string ReleaseServer::uri(const std::string& queue) const {
  return "ipp://127.0.0.1:" + std::to_string(port_) + "/printers/" + queue;
}

fs::path ReleaseServer::documentPath(std::int64_t jobId, int doc) const {
  char name[48];
  std::snprintf(name, sizeof name, "%08lld-%d.doc", static_cast<long long>(jobId), doc);
  return stateDir() / "spool" / name;
}

void ReleaseServer::start(std::chrono::milliseconds timeout) {
  if (running()) throw std::runtime_error("pullprintd is already running");
  const bool pickPort = port_ == 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (pickPort) port_ = testing::pickFreePort();
    testing::ProcessOptions po;
    po.argv = {PULLPRINTD_PATH,      "--listen",          "127.0.0.1:" + std::to_string(port_),
               "--state-dir",        stateDir().string(), "--config",
               configPath().string()};
    po.logDir = dir_.path();
    po.logName = "pullprintd";
    process_ = std::make_unique<testing::Process>(po);
    ++runs_;
    bool up = waitFor(
        [&] {
          return !process_->running() ||
                 httpRequest(port_, "GET", "/api/v1/health", "", "", 1s).status == 200;
        },
        timeout, 10ms);
    if (up && process_->running()) return;
    std::string err = log();
    process_->terminate(1000ms);
    if (!(pickPort && err.find("listen") != std::string::npos)) break;
  }
  throw std::runtime_error("pullprintd did not start: " + describe());
}

void ReleaseServer::kill9() {
  if (process_) process_->kill();
}

void ReleaseServer::stop() {
  if (process_) process_->terminate(5000ms);
}

bool ReleaseServer::running() const { return process_ && process_->running(); }

void ReleaseServer::addUser(const std::string& name, const std::string& password,
                            const std::string& role) const {
  testing::RunOptions ro;
  ro.stdinData = password + "\n";
  auto r = testing::runCommand({PULLPRINTD_PATH, "--state-dir", stateDir().string(), "--config",
                                configPath().string(), "--add-user", name, "--role", role},
                               30s, ro);
  if (!r.ok()) throw std::runtime_error("--add-user failed: " + r.describe());
}

std::string ReleaseServer::log() const {
  return testing::readFile(dir_ / "pullprintd.stderr") +
         testing::readFile(dir_ / "pullprintd.stdout");
}

std::string ReleaseServer::describe() const {
  std::ostringstream out;
  out << "pullprintd on port " << port_ << ", state " << stateDir() << ", runs " << runs_ << "\n";
  if (process_) out << process_->describe() << "\n";
  out << "--- config ---\n" << testing::readFile(configPath());
  out << "--- log tail ---\n" << testing::tailFile(dir_ / "pullprintd.stderr", 8000);
  return out.str();
}

// ---------------------------------------------------------------------------
// HTTP

using testing::base64;

json HttpResult::parsed() const { return json::parse(body, nullptr, false); }

HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, const std::string& basicAuth,
                       std::chrono::milliseconds timeout) {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return result;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  if (!basicAuth.empty()) req += "Authorization: Basic " + base64(basicAuth) + "\r\n";
  if (!body.empty() || method == "POST")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return result;
    off += static_cast<size_t>(n);
  }
  // Read the head, then Content-Length bytes (or until close).
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string in;
  size_t head_end = std::string::npos;
  long long length = -1;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = in.substr(0, head_end);
        for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (auto k = head.find("content-length:"); k != std::string::npos)
          length = std::atoll(head.c_str() + k + 15);
      }
    }
    if (head_end != std::string::npos && length >= 0 &&
        in.size() >= head_end + 4 + static_cast<size_t>(length))
      break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return result;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return result;
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  if (head_end == std::string::npos || in.compare(0, 5, "HTTP/") != 0) return result;
  result.status = std::atoi(in.c_str() + in.find(' ') + 1);
  result.body =
      in.substr(head_end + 4, length >= 0 ? static_cast<size_t>(length) : std::string::npos);
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

std::string sha256File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

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
