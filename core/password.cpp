#include "core/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <vector>

namespace pullprint {

namespace {

std::string toHex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

bool fromHex(std::string_view hex, std::vector<unsigned char>* out) {
  if (hex.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto r = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != hex.data() + i + 2) return false;
    out->push_back(static_cast<unsigned char>(v));
  }
  return true;
}

std::string derive(std::string_view password, const std::vector<unsigned char>& salt,
                   int iterations) {
  unsigned char key[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof key, key);
  return toHex(key, sizeof key);
}

}  // namespace

std::string hashPassword(std::string_view password, int iterations) {
  std::vector<unsigned char> salt(16);
  RAND_bytes(salt.data(), static_cast<int>(salt.size()));
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + toHex(salt.data(), salt.size()) +
         "$" + derive(password, salt, iterations);
}

bool verifyPassword(std::string_view password, std::string_view stored) {
  // pbkdf2-sha256$ITER$SALT$HASH
  constexpr std::string_view kPrefix = "pbkdf2-sha256$";
  if (stored.substr(0, kPrefix.size()) != kPrefix) return false;
  stored.remove_prefix(kPrefix.size());
  auto d1 = stored.find('$');
  if (d1 == std::string_view::npos) return false;
  auto d2 = stored.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  int iterations = 0;
  auto r = std::from_chars(stored.data(), stored.data() + d1, iterations);
  if (r.ec != std::errc() || iterations < 1 || iterations > 10'000'000) return false;
  std::vector<unsigned char> salt;
  if (!fromHex(stored.substr(d1 + 1, d2 - d1 - 1), &salt)) return false;
  return constantTimeEquals(derive(password, salt, iterations), stored.substr(d2 + 1));
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return toHex(md, sizeof md);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace pullprint
