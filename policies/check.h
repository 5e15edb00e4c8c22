// The policy check shared by `pullprint-policy-check FILE` and (later)
// `pullprintd --check-policy FILE`: load, validate, print a summary or every
// error.
//
// Thread contract: reentrant; writes only to the streams it is given.
#pragma once

#include <filesystem>
#include <ostream>

namespace pullprint::policies {

inline constexpr int kPolicyCheckOk = 0;
inline constexpr int kPolicyCheckUsage = 1;
inline constexpr int kPolicyCheckInvalid = 2;  // unreadable or invalid policy

// Returns the process exit code: 0 valid (summary on `out`), 2 invalid
// (one "file:line:column: message" per line on `err`).
int runPolicyCheck(const std::filesystem::path& file, std::ostream& out, std::ostream& err);

}  // namespace pullprint::policies
