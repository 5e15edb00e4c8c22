// Percent-decoding for path segments and query values (RFC 3986; '+' is a
// space, as HTML forms send it). One implementation for every route file.
#pragma once

#include <string>
#include <string_view>

namespace pullprint::api {

std::string urlDecode(std::string_view s);

}  // namespace pullprint::api
