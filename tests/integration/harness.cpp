#include "tests/integration/harness.h"

#include "tests/support/base64.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tests/support/ipp_tool.h"

namespace pullprint::itest {

// ---------------------------------------------------------------------------
// PullprintServer

namespace {

testing::PullprintdOptions daemonOptions(const ServerOptions& options) {
  testing::PullprintdOptions o;
  o.dirPrefix = "pullprint-itest";
  o.stateDir = options.stateDir;
  o.spoolDir = options.spoolDir;
  o.binary = options.binary;
  o.launcher = options.launcher;
  return o;
}

}  // namespace

PullprintServer::PullprintServer(ServerOptions options)
    : testing::Pullprintd(daemonOptions(options)) {
  std::string toml = "[server]\nlog_level = \"debug\"\n" + options.serverToml + "\n";
  toml += "[spool]\n";
  if (!options.spoolDir.empty()) toml += "directory = \"" + spoolDir().string() + "\"\n";
  toml += options.spoolToml + "\n" + options.toml + "\n";
  writeConfig(toml);
}

void PullprintServer::start() { startUntil(printerAnswers, 20s); }

// ---------------------------------------------------------------------------
// Ipp

void Ipp::reset() {
  if (ipp_) ippDelete(ipp_);
  ipp_ = nullptr;
}

Ipp Ipp::request(ipp_op_t op, const std::string& printerUri, const std::string& user) {
  ipp_t* r = ippNewRequest(op);
  ippSetVersion(r, 2, 0);
  ippSetRequestId(r, 1);
  if (!printerUri.empty())
    ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, printerUri.c_str());
  if (!user.empty())
    ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, user.c_str());
  return Ipp(r);
}

namespace {

ssize_t writeToString(void* ctx, ipp_uchar_t* buffer, size_t bytes) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(buffer), bytes);
  return static_cast<ssize_t>(bytes);
}

struct ReadCtx {
  const std::string* s;
  size_t pos = 0;
};

ssize_t readFromString(void* ctx, ipp_uchar_t* buffer, size_t bytes) {
  auto* c = static_cast<ReadCtx*>(ctx);
  size_t n = std::min(bytes, c->s->size() - c->pos);
  std::memcpy(buffer, c->s->data() + c->pos, n);
  c->pos += n;
  return static_cast<ssize_t>(n);
}

}  // namespace

std::string Ipp::encode() const {
  std::string out;
  ippSetState(ipp_, IPP_STATE_IDLE);
  ippWriteIO(&out, writeToString, 1, nullptr, ipp_);
  return out;
}

Ipp Ipp::decode(const std::string& bytes) {
  ReadCtx ctx{&bytes};
  ipp_t* ipp = ippNew();
  ipp_state_t st = ippReadIO(&ctx, readFromString, 1, nullptr, ipp);
  if (st != IPP_STATE_DATA) {
    ippDelete(ipp);
    return Ipp();
  }
  return Ipp(ipp);
}

ipp_status_t Ipp::status() const { return ippGetStatusCode(ipp_); }

std::optional<int> Ipp::integer(const char* name) const {
  ipp_attribute_t* a = ippFindAttribute(ipp_, name, IPP_TAG_ZERO);
  if (!a) return std::nullopt;
  ipp_tag_t t = ippGetValueTag(a);
  if (t != IPP_TAG_INTEGER && t != IPP_TAG_ENUM) return std::nullopt;
  return ippGetInteger(a, 0);
}

std::optional<std::string> Ipp::string(const char* name) const {
  ipp_attribute_t* a = ippFindAttribute(ipp_, name, IPP_TAG_ZERO);
  if (!a) return std::nullopt;
  const char* s = ippGetString(a, 0, nullptr);
  if (!s) return std::nullopt;
  return std::string(s);
}

std::vector<std::string> Ipp::strings(const char* name) const {
  std::vector<std::string> out;
  ipp_attribute_t* a = ippFindAttribute(ipp_, name, IPP_TAG_ZERO);
  if (!a) return out;
  for (int i = 0; i < ippGetCount(a); ++i) {
    const char* s = ippGetString(a, i, nullptr);
    if (s) out.emplace_back(s);
  }
  return out;
}

bool Ipp::has(const char* name) const {
  return ippFindAttribute(ipp_, name, IPP_TAG_ZERO) != nullptr;
}

std::vector<int> Ipp::jobIds() const {
  std::vector<int> ids;
  for (ipp_attribute_t* a = ippFindAttribute(ipp_, "job-id", IPP_TAG_INTEGER); a;
       a = ippFindNextAttribute(ipp_, "job-id", IPP_TAG_INTEGER))
    ids.push_back(ippGetInteger(a, 0));
  return ids;
}

int Ipp::jobCount() const { return static_cast<int>(jobIds().size()); }

// ---------------------------------------------------------------------------
// POST

std::string httpHead(std::uint16_t port, const std::string& resource, long long bodyLength,
                     const std::string& extraHeaders) {
  std::string h = "POST " + resource + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                  "\r\nContent-Type: application/ipp\r\n";
  if (bodyLength >= 0)
    h += "Content-Length: " + std::to_string(bodyLength) + "\r\n";
  else
    h += "Transfer-Encoding: chunked\r\n";
  return h + extraHeaders + "\r\n";
}

using testing::base64;

namespace {

std::string chunk(std::string_view body, size_t size) {
  std::string out;
  char hex[32];
  for (size_t pos = 0; pos < body.size(); pos += size) {
    size_t n = std::min(size, body.size() - pos);
    std::snprintf(hex, sizeof hex, "%zx\r\n", n);
    out += hex;
    out.append(body.substr(pos, n));
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

}  // namespace

IppReply ippPost(std::uint16_t port, const Ipp& request, std::string_view document,
                 const PostOptions& options) {
  std::string body = request.encode();
  body.append(document);
  std::string extra;
  if (!options.basicAuth.empty())
    extra += "Authorization: Basic " + base64(options.basicAuth) + "\r\n";
  RawConn conn(port);
  if (options.chunked) {
    conn.send(httpHead(port, options.resource, -1, extra) + chunk(body, 4096));
  } else {
    conn.send(httpHead(port, options.resource, static_cast<long long>(body.size()), extra) + body);
  }
  IppReply reply;
  reply.http = conn.readResponse(options.timeout);
  if (reply.http.status == 200) reply.ipp = Ipp::decode(reply.http.body);
  return reply;
}

PrintResult printJob(std::uint16_t port, const std::string& user, std::string_view document,
                     const std::string& queue, const std::string& format,
                     const PostOptions& options) {
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB,
                         "ipp://127.0.0.1:" + std::to_string(port) + "/printers/" + queue, user);
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "itest");
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               format.c_str());
  PostOptions po = options;
  if (po.resource == "/printers/followme") po.resource = "/printers/" + queue;
  PrintResult r;
  r.reply = ippPost(port, req, document, po);
  if (r.reply.ipp && ippGetStatusCode(r.reply.ipp.get()) < 0x100)
    r.jobId = r.reply.ipp.integer("job-id").value_or(0);
  return r;
}

IppReply getJob(std::uint16_t port, int jobId, const std::string& user, const std::string& queue) {
  Ipp req = Ipp::request(IPP_OP_GET_JOB_ATTRIBUTES,
                         "ipp://127.0.0.1:" + std::to_string(port) + "/printers/" + queue, user);
  ippAddInteger(req.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
  PostOptions po;
  po.resource = "/printers/" + queue;
  return ippPost(port, req, {}, po);
}

std::string metricsText(std::uint16_t port) {
  RawConn c(port);
  if (!c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    throw std::runtime_error("GET /metrics: cannot send");
  HttpResponse m = c.readResponse(10s);
  if (m.status != 200)
    throw std::runtime_error("GET /metrics: status " + std::to_string(m.status) + " " + m.body);
  return m.body;
}

bool printerAnswers(std::uint16_t port) {
  try {
    Ipp req = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES,
                           "ipp://127.0.0.1:" + std::to_string(port) + "/printers/followme");
    PostOptions po;
    po.timeout = 5s;
    IppReply r = ippPost(port, req, {}, po);
    return r.ipp && r.ipp.status() == IPP_STATUS_OK && r.ipp.has("printer-state");
  } catch (const std::exception&) {
    return false;
  }
}

// ---------------------------------------------------------------------------
// SQLite

namespace {

std::vector<JobRow> queryJobs(const fs::path& database, const std::string& where, std::int64_t id) {
  std::vector<JobRow> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + database.string());
  }
  sqlite3_busy_timeout(db, 5000);
  std::string sql = "SELECT id, owner, state, sha256, size_bytes, document_count FROM jobs " +
                    where + " ORDER BY id";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("sqlite: " + err);
  }
  if (!where.empty()) sqlite3_bind_int64(st, 1, id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    JobRow r;
    r.id = sqlite3_column_int64(st, 0);
    r.owner = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    r.state = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    r.sha256 = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    r.size = sqlite3_column_int64(st, 4);
    r.documents = sqlite3_column_int(st, 5);
    out.push_back(r);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

std::optional<JobRow> jobRow(const fs::path& database, std::int64_t id) {
  auto rows = queryJobs(database, "WHERE id = ?1", id);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<JobRow> jobRows(const fs::path& database) { return queryJobs(database, "", 0); }

std::vector<std::int64_t> journaledJobs(const fs::path& database) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + database.string());
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT job_id FROM journal_slots ORDER BY job_id", -1, &st,
                         nullptr) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("sqlite: " + err);
  }
  std::vector<std::int64_t> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// ---------------------------------------------------------------------------
// Bytes

std::string randomBytes(size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed ? seed : 0x9e3779b9u;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

std::string smallPdf(const fs::path& workDir, const std::string& label, int pages) {
  fs::path p = workDir / (label + ".pdf");
  testing::makePdf(p, pages, label);
  return testing::readFile(p);
}

std::vector<std::string> listFiles(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------
// A small file system

SmallDisk::SmallDisk(const std::string& prefix, const std::string& size)
    : dir_(prefix), path_(dir_ / "disk") {
  fs::create_directories(path_);
  const std::string options = "size=" + size + ",mode=0700";
  if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0)
    throw std::runtime_error("mount tmpfs on " + path_.string() + ": " + std::strerror(errno));
}

SmallDisk::~SmallDisk() { ::umount2(path_.c_str(), MNT_DETACH); }

void SmallDisk::fill(off_t spare) {
  const fs::path filler = path_ / "filler";
  const int fd = ::open(filler.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("open " + filler.string() + ": " + std::strerror(errno));
  const std::string block(65536, 'f');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  const off_t size = static_cast<off_t>(fs::file_size(filler));
  const int rc = ::ftruncate(fd, std::max<off_t>(0, size - spare));
  ::close(fd);
  if (rc != 0)
    throw std::runtime_error("ftruncate " + filler.string() + ": " + std::strerror(errno));
}

void SmallDisk::free() { fs::remove(path_ / "filler"); }

}  // namespace pullprint::itest
