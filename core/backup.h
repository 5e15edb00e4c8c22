// Online backup of pullprintd's database (pullprintd --backup FILE).
//
// backupDatabase() writes a consistent snapshot of the SQLite database to a
// new file while pullprintd keeps serving: SQLite's `VACUUM INTO` reads the
// database in one read transaction (in WAL mode that never blocks the
// server's writes), so the copy is the state after some commit, never a mix.
// A plain `cp` of pullprint.db is not a backup: the latest commits live in
// pullprint.db-wal until a checkpoint.
//
// The snapshot goes to `<dest>.partial-<pid>` first, is synced, checked
// (`PRAGMA quick_check`) and only then linked to `dest`, which is never
// overwritten: a failed backup leaves no file that looks like a good one.
//
// Documents are not in the database: back up the spool directory after the
// snapshot (docs/operations.md); on a restore, recovery removes documents
// without a row and aborts held jobs whose documents are missing.
//
// Thread contract: reentrant; uses its own SQLite connections.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/status.h"

namespace pullprint {

struct BackupReport {
  std::int64_t bytes = 0;          // size of the snapshot file
  std::int64_t jobs = 0;           // rows in jobs
  std::int64_t held_jobs = 0;      // jobs waiting for release (held or pending)
  std::int64_t usage_records = 0;  // accounting rows
  int schema_version = 0;          // PRAGMA user_version of the snapshot
};

// kNotFound: no database at `database`; kAlreadyExists: `dest` exists;
// kUnavailable: SQLite or the file system failed (the message says which);
// kInternal: the snapshot failed its check.
Result<BackupReport> backupDatabase(const std::filesystem::path& database,
                                    const std::filesystem::path& dest);

}  // namespace pullprint
