#pragma once
// Document format detection: maps a client-declared MIME type to a format,
// recognises formats by their magic bytes, and checks that declared formats
// match their content.
//
// Invariants: detection reads only the first kSniffBytes of the document.
// Thread contract: pure functions; reentrant.

#include <cstddef>
#include <string_view>

namespace pullprint::spooler::analysis {

enum class Format { kUnknown, kPdf, kPostScript, kPwgRaster, kUrf, kJpeg, kPng, kText };

inline constexpr std::size_t kSniffBytes = 4096;

// Canonical MIME type of a format ("" for kUnknown).
std::string_view mimeOf(Format format);

struct DeclaredFormat {
  Format format = Format::kUnknown;
  bool detect = false;  // empty or application/octet-stream: detect from content
};
// Case-insensitive; ignores parameters (";charset=..."); knows common aliases.
DeclaredFormat parseMime(std::string_view mime);

// Recognises a format from the first bytes of a document; kUnknown if none.
Format sniffFormat(std::string_view head);

// Whether `head` carries the magic bytes of `format` (text always matches).
bool magicMatches(Format format, std::string_view head);

// Heuristic for text: no NUL bytes and few control characters in `head`.
bool looksLikeText(std::string_view head);

}  // namespace pullprint::spooler::analysis
