// IPP "sides" (RFC 8011 5.2.8): one vocabulary for the policies (what a job
// is made to print as) and the document analysis (how many sheets that
// takes). Header-only, so the analysis helper links nothing more for it.
#pragma once

#include <optional>
#include <string_view>

namespace pullprint {

enum class Sides { kOneSided, kTwoSidedLongEdge, kTwoSidedShortEdge };

// "one-sided" | "two-sided-long-edge" | "two-sided-short-edge"; nullopt else.
inline std::optional<Sides> parseSides(std::string_view keyword) {
  if (keyword == "one-sided") return Sides::kOneSided;
  if (keyword == "two-sided-long-edge") return Sides::kTwoSidedLongEdge;
  if (keyword == "two-sided-short-edge") return Sides::kTwoSidedShortEdge;
  return std::nullopt;
}

inline std::string_view toKeyword(Sides sides) {
  switch (sides) {
    case Sides::kOneSided:
      return "one-sided";
    case Sides::kTwoSidedLongEdge:
      return "two-sided-long-edge";
    case Sides::kTwoSidedShortEdge:
      return "two-sided-short-edge";
  }
  return "one-sided";
}

inline bool isTwoSided(Sides sides) { return sides != Sides::kOneSided; }

}  // namespace pullprint
