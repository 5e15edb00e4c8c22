#pragma once
// Wire encoding of DocumentAnalysis between an isolated analysis child and
// the server (AnalysisRunner), and for the pullprint-analyze helper's stdout.
//
// Format: "PPA1", then fields in a fixed order; strings are a u32 length and
// bytes, integers are little-endian i64, optionals a u8 flag first.
// Invariants: decode() never trusts the input (the child may be compromised):
// it bounds every length and rejects trailing garbage.
// Thread contract: pure functions; reentrant.

#include <optional>
#include <string>
#include <string_view>

#include "spooler/analysis/analysis.h"

namespace pullprint::spooler::analysis {

inline constexpr std::size_t kMaxEncodedAnalysis = 1 << 20;

std::string encodeAnalysis(const DocumentAnalysis& analysis);
std::optional<DocumentAnalysis> decodeAnalysis(std::string_view bytes);

}  // namespace pullprint::spooler::analysis
