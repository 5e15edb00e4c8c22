// SHA-256 digests (lower-case hex) for tests that check bytes arrived intact:
// spool files, printed documents, request bodies. Computed with OpenSSL, not
// with pullprint's own hashing, so a test does not check the code with itself.
// Thread contract: plain functions, reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pullprint::testing {

std::string sha256Hex(std::string_view bytes);
// The digest of a file's bytes (read in blocks); "" when it cannot be read.
std::string sha256File(const std::filesystem::path& path);

}  // namespace pullprint::testing
