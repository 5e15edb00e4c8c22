// Percent-decoding for path segments and query values (RFC 3986; '+' is a
// space, as HTML forms send it), and query strings. One implementation for
// every route file.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pullprint::api {

// True when every '%' in `s` is followed by two hex digits. Api::handle
// answers 400 to a request target that is not, before any route runs, so
// the decoding below never has to guess.
bool validPercentEncoding(std::string_view s);

// Decodes %XX escapes and '+'; a malformed escape (only possible outside a
// checked request target) is kept as it is.
std::string urlDecode(std::string_view s);

// Query parameters of a request target (percent-decoded), in order.
std::vector<std::pair<std::string, std::string>> queryParams(const std::string& target);

}  // namespace pullprint::api
