// Password hashing for users who authenticate with HTTP Basic.
//
// Format: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>", PBKDF2-HMAC-SHA256
// (OpenSSL) with a 16-byte random salt. verifyPassword() compares in constant
// time. Iterations are stored per hash so they can be raised later.
//
// Thread contract: free functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pullprint {

inline constexpr int kPasswordIterations = 60000;

std::string hashPassword(std::string_view password, int iterations = kPasswordIterations);
bool verifyPassword(std::string_view password, std::string_view stored_hash);

// Lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// Constant-time comparison of two byte strings.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace pullprint
