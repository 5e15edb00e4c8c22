// CSV as the admin API reads and writes it (RFC 4180): the user and card
// exports and imports, and the report exports.
//
// Thread contract: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pullprint::api {

// One field: quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& v);

// Splits one line (quotes as RFC 4180, no line breaks inside a field); each
// field trimmed of surrounding blanks. nullopt when a quote is left open.
std::optional<std::vector<std::string>> csvSplit(const std::string& line);

}  // namespace pullprint::api
