#include "core/wire/station_wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

namespace pullprint::wire {

namespace {

std::string toHex(const unsigned char* p, size_t n, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

std::optional<std::vector<std::uint8_t>> parseHexBytes(std::string_view s, std::string* error) {
  std::string digits;
  for (char c : s) {
    if (c == ':' || c == '-' || c == ' ') continue;
    if (hexValue(c) < 0) {
      *error = "not a hex digit: '" + std::string(1, c) + "'";
      return std::nullopt;
    }
    digits.push_back(c);
  }
  if (digits.size() % 2 != 0) {
    *error = "odd number of hex digits";
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes;
  for (size_t i = 0; i < digits.size(); i += 2)
    bytes.push_back(static_cast<std::uint8_t>(hexValue(digits[i]) * 16 + hexValue(digits[i + 1])));
  return bytes;
}

// Decimal digits -> big-endian bytes (arbitrary length), nullopt if not digits.
std::optional<std::vector<std::uint8_t>> decimalToBytes(std::string_view s, std::string* error) {
  if (s.empty() || s.size() > 30) {
    *error = "decimal card number must have 1-30 digits";
    return std::nullopt;
  }
  std::vector<std::uint8_t> be;  // most significant first
  for (char c : s) {
    if (c < '0' || c > '9') {
      *error = "not a decimal digit: '" + std::string(1, c) + "'";
      return std::nullopt;
    }
    unsigned carry = static_cast<unsigned>(c - '0');
    for (auto it = be.rbegin(); it != be.rend(); ++it) {
      unsigned v = *it * 10u + carry;
      *it = static_cast<std::uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    while (carry) {
      be.insert(be.begin(), static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  // Shortest UID length that holds the number.
  size_t significant = be.size();
  size_t width = significant <= 4 ? 4 : significant <= 7 ? 7 : significant <= 10 ? 10 : 0;
  if (width == 0) {
    *error = "decimal card number is larger than a 10-byte UID";
    return std::nullopt;
  }
  be.insert(be.begin(), width - significant, 0);
  return be;
}

}  // namespace

std::string stringToSign(std::string_view method, std::string_view path, std::string_view timestamp,
                         std::string_view nonce, std::string_view body) {
  std::string s;
  s.reserve(128 + path.size());
  s.append(kSignatureScheme).append("\n");
  s.append(method).append("\n").append(path).append("\n");
  s.append(timestamp).append("\n").append(nonce).append("\n");
  s.append(sha256HexOf(body));
  return s;
}

std::string signRequest(std::string_view secret, std::string_view method, std::string_view path,
                        std::string_view timestamp, std::string_view nonce, std::string_view body) {
  return hmacSha256Hex(secret, stringToSign(method, path, timestamp, nonce, body));
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return toHex(mac, len, false);
}

std::string sha256HexOf(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return toHex(md, len, false);
}

bool timingSafeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string randomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) return {};
  return toHex(buf.data(), buf.size(), false);
}

bool validNonce(std::string_view nonce) {
  if (nonce.size() < 16 || nonce.size() > 64) return false;
  return std::all_of(nonce.begin(), nonce.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string uidFromBytes(const std::uint8_t* data, size_t size) { return toHex(data, size, true); }

std::optional<std::string> parseCardNumber(std::string_view text, std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  std::string_view s = trim(text);
  std::optional<std::vector<std::uint8_t>> bytes;
  if (startsWithNoCase(s, "decle:")) {
    bytes = decimalToBytes(trim(s.substr(6)), error);
    if (bytes) std::reverse(bytes->begin(), bytes->end());
  } else if (startsWithNoCase(s, "dec:")) {
    bytes = decimalToBytes(trim(s.substr(4)), error);
  } else if (startsWithNoCase(s, "rev:")) {
    bytes = parseHexBytes(trim(s.substr(4)), error);
    if (bytes) std::reverse(bytes->begin(), bytes->end());
  } else {
    if (startsWithNoCase(s, "hex:")) s = trim(s.substr(4));
    bytes = parseHexBytes(s, error);
  }
  if (!bytes) return std::nullopt;
  if (bytes->size() < kMinUidBytes || bytes->size() > kMaxUidBytes) {
    *error = "a card UID has 4 to 10 bytes, this has " + std::to_string(bytes->size());
    return std::nullopt;
  }
  return uidFromBytes(bytes->data(), bytes->size());
}

std::string uidToDecimal(std::string_view canonical, bool little_endian) {
  std::string err;
  auto bytes = parseHexBytes(canonical, &err);
  if (!bytes) return {};
  if (little_endian) std::reverse(bytes->begin(), bytes->end());
  // Repeated division of the big-endian byte string by 10.
  std::vector<std::uint8_t> n = *bytes;
  std::string digits;
  while (true) {
    bool zero = std::all_of(n.begin(), n.end(), [](std::uint8_t b) { return b == 0; });
    if (zero) break;
    unsigned rem = 0;
    for (auto& b : n) {
      unsigned cur = rem * 256u + b;
      b = static_cast<std::uint8_t>(cur / 10u);
      rem = cur % 10u;
    }
    digits.push_back(static_cast<char>('0' + rem));
  }
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string redactUid(std::string_view canonical) {
  if (canonical.size() <= 4) return std::string(canonical) + "…";
  return std::string(canonical.substr(0, 4)) + "…";
}

}  // namespace pullprint::wire
