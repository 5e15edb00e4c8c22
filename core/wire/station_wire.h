// station_wire: what a release station (pullprint-badge) and pullprintd
// must agree on, and nothing else: the signed-request scheme and the
// canonical form of card numbers.
//
// This is the only project header the badge agent includes (STYLE.md 12);
// it depends on OpenSSL's libcrypto and the standard library only.
//
// Signing (see docs/badge-reader.md)
//   string to sign = "PULLPRINT-HMAC-SHA256\n" METHOD "\n" PATH "\n"
//                    TIMESTAMP "\n" NONCE "\n" hex(SHA-256(body))
//   X-Pullprint-Signature = hex(HMAC-SHA256(station secret, string to sign))
//   TIMESTAMP is Unix seconds (decimal), NONCE 16-64 of [A-Za-z0-9_-],
//   METHOD upper case, PATH the request target as sent (query included).
//
// Card numbers
//   The canonical form is upper-case hex of the UID bytes in the order the
//   reader returns them (ISO 14443 anticollision order, what
//   `FF CA 00 00 00` answers): "04A21B3C" (4 bytes), "04A21B3C5D6E80"
//   (7), 10 bytes likewise. Accepted inputs (parseCardNumber):
//     "04:A2:1B:3C", "04-a2-1b-3c", "04a21b3c"   hex, separators ignored
//     "rev:3C1BA204"                              hex in reversed byte order
//     "dec:77732668"                              decimal, the big-endian integer
//     "decle:1008443908"                          decimal, the little-endian integer
//   A decimal number becomes the shortest of 4, 7 or 10 bytes that holds it.
//   A bare string of digits is hex (never guessed to be decimal).
//
// Thread contract: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pullprint::wire {

inline constexpr const char* kHeaderStation = "X-Pullprint-Station";
inline constexpr const char* kHeaderTimestamp = "X-Pullprint-Timestamp";
inline constexpr const char* kHeaderNonce = "X-Pullprint-Nonce";
inline constexpr const char* kHeaderSignature = "X-Pullprint-Signature";
inline constexpr const char* kReleasePath = "/api/v1/stations/release";
inline constexpr const char* kSignatureScheme = "PULLPRINT-HMAC-SHA256";

// The exact bytes that are signed.
std::string stringToSign(std::string_view method, std::string_view path, std::string_view timestamp,
                         std::string_view nonce, std::string_view body);
// hex(HMAC-SHA256(secret, stringToSign(...))), lower case.
std::string signRequest(std::string_view secret, std::string_view method, std::string_view path,
                        std::string_view timestamp, std::string_view nonce, std::string_view body);

std::string hmacSha256Hex(std::string_view key, std::string_view data);
std::string sha256HexOf(std::string_view data);
// Constant-time comparison (length is not secret).
bool timingSafeEqual(std::string_view a, std::string_view b);
// `bytes` random bytes from the OpenSSL CSPRNG, lower-case hex.
std::string randomHex(size_t bytes);
// 16-64 characters of [A-Za-z0-9_-].
bool validNonce(std::string_view nonce);

// ---- card numbers ----

inline constexpr size_t kMinUidBytes = 4;
inline constexpr size_t kMaxUidBytes = 10;

// Canonical form of UID bytes in reader order.
std::string uidFromBytes(const std::uint8_t* data, size_t size);
// Canonical form of any accepted input; nullopt with *error set otherwise.
std::optional<std::string> parseCardNumber(std::string_view text, std::string* error);
// The canonical UID as a decimal integer (big- or little-endian reading).
std::string uidToDecimal(std::string_view canonical, bool little_endian);
// What logs and screens show: the first 2 bytes, then "…" ("04A2…").
std::string redactUid(std::string_view canonical);

}  // namespace pullprint::wire
