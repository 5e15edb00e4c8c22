// RFC 4648 base64 (OpenSSL EVP_EncodeBlock), for Authorization: Basic in the
// tests' hand-made HTTP requests. One copy for every test area.
#pragma once

#include <string>

namespace pullprint::testing {

std::string base64(const std::string& in);

}  // namespace pullprint::testing
