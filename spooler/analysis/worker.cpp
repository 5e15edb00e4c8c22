#include "spooler/analysis/worker.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "spooler/analysis/child.h"
#include "spooler/analysis/process.h"
#include "spooler/analysis/runner.h"
#include "spooler/analysis/serialize.h"

namespace pullprint::spooler::analysis {
namespace {

void putU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t getU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a worker that died must not take the server with SIGPIPE.
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

enum class Read { kOk, kClosed, kTimedOut };

// Reads exactly `size` bytes before the deadline.
Read readExact(int fd, char* out, std::size_t size, const Deadline& deadline) {
  while (size > 0) {
    const auto left = deadline.remaining().count();
    if (left <= 0) return Read::kTimedOut;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) return Read::kClosed;
    if (ready <= 0) continue;
    const ssize_t n = read(fd, out, size);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Read::kClosed;
    out += n;
    size -= static_cast<std::size_t>(n);
  }
  return Read::kOk;
}

}  // namespace

std::string frameWorkerRequest(const std::vector<std::string>& args) {
  std::string body;
  for (const auto& a : args) {
    putU32(body, static_cast<std::uint32_t>(a.size()));
    body += a;
  }
  std::string out;
  putU32(out, static_cast<std::uint32_t>(body.size()));
  return out + body;
}

bool readWorkerRequest(const std::function<bool(char*, std::size_t)>& read_exact,
                       std::vector<std::string>& args) {
  char header[4];
  if (!read_exact(header, 4)) return false;
  const std::uint32_t total = getU32(header);
  if (total > kMaxWorkerRequest) return false;
  std::string body(total, '\0');
  if (total > 0 && !read_exact(body.data(), total)) return false;
  args.clear();
  std::size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < 4) return false;
    const std::uint32_t n = getU32(body.data() + at);
    at += 4;
    if (n > body.size() - at) return false;
    args.emplace_back(body, at, n);
    at += n;
  }
  return true;
}

std::string frameWorkerReply(std::string_view encoded) {
  std::string out;
  putU32(out, static_cast<std::uint32_t>(encoded.size()));
  out += encoded;
  return out;
}

AnalysisWorker::AnalysisWorker(WorkerOptions options) : options_(std::move(options)) {
  options_.documents_per_process = std::max(1, options_.documents_per_process);
}

AnalysisWorker::~AnalysisWorker() { stop(); }

bool AnalysisWorker::start(std::size_t memory_bytes) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  SpawnLimits limits;
  limits.address_space_bytes = kHelperBaseline + memory_bytes;
  limits.new_process_group = true;  // RLIMIT_CPU: re-armed by the worker per document
  limits.background = options_.background;
  const pid_t pid =
      spawnWithLimits({options_.helper.string(), "--serve"}, sv[1], -1, -1, limits, sv[1]);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return false;
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
  pid_ = pid;
  fd_ = sv[0];
  memory_bytes_ = memory_bytes;
  served_ = 0;
  ++started_;
  return true;
}

void AnalysisWorker::stop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (pid_ > 0) killAndReap(pid_, /*kill_group=*/true);
  pid_ = -1;
}

DocumentAnalysis AnalysisWorker::analyze(const std::filesystem::path& file, std::string_view mime,
                                         const AnalysisOptions& options) {
  if (pid_ > 0 &&
      (served_ >= options_.documents_per_process || memory_bytes_ != options.limits.memory_bytes))
    stop();
  const std::string request = frameWorkerRequest(helperArguments(file, mime, options));
  if (request.size() > kMaxWorkerRequest + 4)
    return childFailure(reason::kCrashed, "analysis request too large");
  bool sent = false;
  for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
    if (pid_ <= 0 && !start(options.limits.memory_bytes))
      return childFailure(reason::kCrashed, "could not start the analysis process");
    sent = sendAll(fd_, request);
    if (!sent) stop();  // an idle worker that is gone: one fresh process, once
  }
  if (!sent) return childFailure(reason::kCrashed, "could not reach the analysis process");

  const Deadline deadline = Deadline::after(options.limits.time + options_.grace);
  // Ends this process after a document without a verdict: reports how it died.
  auto died = [&](Read how) {
    close(fd_);
    fd_ = -1;
    ChildExit exit;
    if (how == Read::kTimedOut) {
      killAndReap(pid_, /*kill_group=*/true);
      exit.started = exit.timed_out = true;
    } else {
      exit = reapChild(pid_, Deadline::after(options_.grace), /*kill_group=*/true);
    }
    pid_ = -1;
    return verdictOfDeadChild(exit, options);
  };
  char header[4];
  if (Read r = readExact(fd_, header, 4, deadline); r != Read::kOk) return died(r);
  const std::uint32_t size = getU32(header);
  if (size > kMaxEncodedAnalysis) {
    stop();
    return childFailure(reason::kCrashed, "analysis process sent an oversized verdict");
  }
  std::string reply(size, '\0');
  if (Read r = readExact(fd_, reply.data(), size, deadline); r != Read::kOk) return died(r);
  auto decoded = decodeAnalysis(reply);
  if (!decoded) {
    stop();
    return childFailure(reason::kCrashed, "analysis process sent an unreadable verdict");
  }
  ++served_;
  // A limit hit inside the worker (qpdf's bad_alloc caught, Ghostscript cut
  // off) leaves a process that survived an extreme document: start afresh.
  if (decoded->reason == reason::kMemoryLimit || decoded->reason == reason::kTimeLimit) stop();
  return *decoded;
}

}  // namespace pullprint::spooler::analysis
