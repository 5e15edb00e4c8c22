#include "spooler/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace pullprint::spooler {

namespace {

// What a failed write to the spool means for the client: come back later
// (no room, a file system gone read-only or failing, no descriptors left),
// or a fault here. A site's CUPS keeps a job refused with a temporary error
// and sends it again by itself, but stops its whole queue on an internal
// error (docs/operations.md, "What a site's CUPS does with a refusal").
StatusCode storageErrorCode(int e) {
  switch (e) {
    case ENOSPC:
    case EDQUOT:
      return StatusCode::kResourceExhausted;
    case EROFS:
    case EIO:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<SpoolDir>> SpoolDir::open(const std::filesystem::path& dir, Naming naming) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status(StatusCode::kUnavailable,
                  dir.string() + ": cannot create spool directory: " + ec.message());
  ::chmod(dir.c_str(), 0700);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status(StatusCode::kUnavailable,
                  dir.string() + ": cannot open spool directory: " + std::strerror(errno));
  return std::unique_ptr<SpoolDir>(new SpoolDir(dir, UniqueFd(fd), naming));
}

std::filesystem::path SpoolDir::documentPath(JobId job, int document) const {
  char name[48];
  std::snprintf(name, sizeof name, "%08" PRId64 "-%d.doc", job, document);
  return dir_ / name;
}

Result<std::unique_ptr<SpoolWriter>> SpoolDir::create(JobId job, int document) {
  auto p = documentPath(job, document);
  bool named = false;
  int fd = -1;
  if (naming_ == Naming::kUnnamedUntilDone)
    fd = ::openat(dirfd_.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (naming_ == Naming::kNamedAtOnce ||
      (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))) {
    // Named from the start: asked for, or no O_TMPFILE on this file system.
    named = true;
    fd = ::open(p.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    int e = errno;
    return Status(storageErrorCode(e),
                  "spool: cannot create document file: " + std::string(std::strerror(e)));
  }
  return std::make_unique<SpoolWriter>(p, UniqueFd(fd), dirfd_.get(), named);
}

void SpoolDir::remove(JobId job, int document) { ::unlink(documentPath(job, document).c_str()); }

std::vector<std::pair<JobId, int>> SpoolDir::list() const {
  std::vector<std::pair<JobId, int>> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    long long job = 0;
    int doc = 0;
    char tail[8] = {0};
    if (std::sscanf(e->d_name, "%lld-%d.%4s", &job, &doc, tail) == 3 &&
        std::strcmp(tail, "doc") == 0)
      out.emplace_back(job, doc);
  }
  ::closedir(d);
  return out;
}

std::int64_t SpoolDir::freeBytes() const {
  struct statvfs st {};
  if (::fstatvfs(dirfd_.get(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

std::int64_t SpoolDir::totalBytes() const {
  struct statvfs st {};
  if (::fstatvfs(dirfd_.get(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_blocks) * static_cast<std::int64_t>(st.f_frsize);
}

Status SpoolDir::syncDirectory() const {
  if (::fsync(dirfd_.get()) != 0)
    return {StatusCode::kUnavailable,
            std::string("spool: fsync directory: ") + std::strerror(errno)};
  return Status::ok();
}

Status SpoolDir::syncFileSystem() const {
  if (::syncfs(dirfd_.get()) != 0)
    return {StatusCode::kUnavailable, std::string("spool: syncfs: ") + std::strerror(errno)};
  // On ext4 without a journal, syncfs() may write directory blocks after
  // its cache flush; the directory's own fsync() flushes once more.
  return syncDirectory();
}

SpoolWriter::SpoolWriter(std::filesystem::path path, UniqueFd fd, int dirfd, bool named)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      dirfd_(dirfd),
      named_(named),
      sha_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr);
}

Result<UniqueFd> SpoolWriter::publish() {
  if (!fd_.valid()) return Status(StatusCode::kInternal, "spool: document already published");
  if (!named_) {
    const std::string name = path_.filename().string();
    char proc[64];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_.get());
    int rc = ::linkat(AT_FDCWD, proc, dirfd_, name.c_str(), AT_SYMLINK_FOLLOW);
    // Without /proc, AT_EMPTY_PATH does the same (it needs CAP_DAC_READ_SEARCH).
    if (rc != 0 && errno == ENOENT)
      rc = ::linkat(fd_.get(), "", dirfd_, name.c_str(), AT_EMPTY_PATH);
    if (rc != 0) {
      int e = errno;
      return Status(storageErrorCode(e),
                    "spool: cannot name document file: " + std::string(std::strerror(e)));
    }
    named_ = true;
  }
  return std::move(fd_);
}

SpoolWriter::~SpoolWriter() { EVP_MD_CTX_free(sha_); }

Status SpoolWriter::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (e == ENOSPC || e == EDQUOT) return {StatusCode::kResourceExhausted, "spool disk is full"};
      return {storageErrorCode(e), std::string("spool write failed: ") + std::strerror(e)};
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  EVP_DigestUpdate(sha_, data, size);
  size_ += static_cast<std::int64_t>(size);
  return Status::ok();
}

namespace {

std::string hexDigest(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 15]);
  }
  return out;
}

}  // namespace

std::string SpoolWriter::finishSha256() { return hexDigest(sha_); }

Result<std::string> SpoolDir::documentSha256(JobId job, int document) const {
  const auto p = documentPath(job, document);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status(StatusCode::kNotFound, p.string() + ": " + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status(StatusCode::kInternal, p.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  return hexDigest(ctx.get());
}

}  // namespace pullprint::spooler
