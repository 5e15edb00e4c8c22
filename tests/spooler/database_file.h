// Helpers for tests that look at what a SQLite database file itself holds,
// beside what it answers: whether deleted or blanked values are gone from
// the bytes on disk.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace pullprint::testing {

// Copies everything in the WAL into the database file now (as a checkpoint
// in a running server would), through a connection of its own.
inline void checkpointNow(const std::filesystem::path& database) {
  sqlite3* db = nullptr;
  // A connection finds the database in WAL mode on its first read; until
  // then a checkpoint does nothing.
  const bool opened = sqlite3_open(database.c_str(), &db) == SQLITE_OK &&
                      sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr,
                                   nullptr) == SQLITE_OK;
  const bool done = opened && sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_FULL,
                                                        nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  if (!done) throw std::runtime_error("checkpoint of " + database.string() + " failed");
}

// The file's bytes, whatever they are.
inline std::string fileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace pullprint::testing
