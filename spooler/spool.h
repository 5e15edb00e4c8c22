// SpoolDir: where documents live on disk between submission and printing.
//
// File names are made from job ids and document numbers only
// ("00000042-1.doc"); nothing from a request ever becomes part of a path.
// A SpoolWriter streams one document to disk as it arrives, hashing it
// (SHA-256) on the way, so memory stays bounded whatever the document size.
// The file has no name while it arrives (O_TMPFILE): a document cut off
// mid-upload, by a crash or a full disk, leaves nothing behind, and creating
// it does not hold the spool directory's lock while ext4 allocates the inode
// (the lock is taken only to link the finished file under its name).
// File systems without O_TMPFILE get the name at once (O_CREAT|O_EXCL).
// Durability: the committer fdatasync()s each finished file and fsync()s the
// directory before the job row that names it commits, or, for a small
// document, commits a copy of its bytes with that row and syncs the file
// afterwards (the document journal; see committer.h).
//
// Thread contract: SpoolDir methods are thread-safe (they touch distinct
// files). A SpoolWriter is used by one thread at a time.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/status.h"

namespace pullprint::spooler {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

class SpoolWriter;

class SpoolDir {
 public:
  // How document files get their names: kUnnamedUntilDone uses O_TMPFILE
  // where the file system has it and falls back to kNamedAtOnce (O_CREAT |
  // O_EXCL) where it does not; kNamedAtOnce always names the file at once
  // (the fallback path, chosen directly by tests).
  enum class Naming { kUnnamedUntilDone, kNamedAtOnce };

  // Creates the directory (0700) if needed.
  static Result<std::unique_ptr<SpoolDir>> open(const std::filesystem::path& dir,
                                                Naming naming = Naming::kUnnamedUntilDone);

  std::filesystem::path documentPath(JobId job, int document) const;

  // Starts a new, empty document file (unnamed until SpoolWriter::publish).
  Result<std::unique_ptr<SpoolWriter>> create(JobId job, int document);

  // Removes a document file; missing files are fine.
  void remove(JobId job, int document);

  // SHA-256 (lower-case hex) of a document file as it is now; kNotFound
  // when there is no such file.
  Result<std::string> documentSha256(JobId job, int document) const;

  // Every document file present, as (job, document) pairs.
  std::vector<std::pair<JobId, int>> list() const;

  // Bytes available to us on the spool file system.
  std::int64_t freeBytes() const;
  // Size of the file system the spool is on, or -1 if unknown.
  std::int64_t totalBytes() const;

  // fsync() of the directory itself (makes new names durable).
  Status syncDirectory() const;

  // syncfs() of the file system the spool is on, then syncDirectory(): every
  // file written and named before the call is durable when it returns ok.
  // Reports a write-back error of any file on that file system since the
  // previous call (Linux 5.8 and later).
  Status syncFileSystem() const;

  const std::filesystem::path& path() const { return dir_; }

 private:
  SpoolDir(std::filesystem::path dir, UniqueFd dirfd, Naming naming)
      : dir_(std::move(dir)), dirfd_(std::move(dirfd)), naming_(naming) {}
  std::filesystem::path dir_;
  UniqueFd dirfd_;
  Naming naming_;
};

// Streams one document into its spool file.
class SpoolWriter {
 public:
  // `named`: the file already has its name (no O_TMPFILE); `dirfd` is the
  // spool directory, borrowed (the SpoolDir outlives its writers).
  SpoolWriter(std::filesystem::path path, UniqueFd fd, int dirfd, bool named);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Appends bytes. ENOSPC/EDQUOT give kResourceExhausted.
  Status write(const void* data, size_t size);
  std::int64_t size() const { return size_; }
  // Finishes the hash; call once after the last write.
  std::string finishSha256();
  // Gives the finished file its name in the spool directory (fails if that
  // name exists) and hands over the descriptor, for the committer's
  // fdatasync. Call once, after the last write.
  Result<UniqueFd> publish();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  int dirfd_;
  bool named_;
  EVP_MD_CTX* sha_;
  std::int64_t size_ = 0;
};

}  // namespace pullprint::spooler
