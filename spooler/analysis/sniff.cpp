#include "spooler/analysis/sniff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace pullprint::spooler::analysis {
namespace {

std::string normalise(std::string_view mime) {
  const auto semicolon = mime.find(';');
  if (semicolon != std::string_view::npos) mime = mime.substr(0, semicolon);
  while (!mime.empty() && std::isspace(static_cast<unsigned char>(mime.front())))
    mime.remove_prefix(1);
  while (!mime.empty() && std::isspace(static_cast<unsigned char>(mime.back())))
    mime.remove_suffix(1);
  std::string out(mime);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool isPdf(std::string_view head) {
  // PDF readers accept the header anywhere in the first 1024 bytes.
  return head.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

bool isPostScript(std::string_view head) {
  if (startsWith(head, "\x04")) head.remove_prefix(1);  // leading Ctrl-D from some drivers
  return startsWith(head, "%!") || startsWith(head, "\xC5\xD0\xD3\xC6");
}

}  // namespace

std::string_view mimeOf(Format format) {
  switch (format) {
    case Format::kPdf:
      return "application/pdf";
    case Format::kPostScript:
      return "application/postscript";
    case Format::kPwgRaster:
      return "image/pwg-raster";
    case Format::kUrf:
      return "image/urf";
    case Format::kJpeg:
      return "image/jpeg";
    case Format::kPng:
      return "image/png";
    case Format::kText:
      return "text/plain";
    case Format::kUnknown:
      break;
  }
  return "";
}

DeclaredFormat parseMime(std::string_view mime) {
  const std::string m = normalise(mime);
  if (m.empty() || m == "application/octet-stream") return {Format::kUnknown, true};
  if (m == "application/pdf" || m == "application/x-pdf" || m == "application/vnd.cups-pdf")
    return {Format::kPdf, false};
  if (m == "application/postscript" || m == "application/vnd.cups-postscript")
    return {Format::kPostScript, false};
  if (m == "image/pwg-raster") return {Format::kPwgRaster, false};
  if (m == "image/urf") return {Format::kUrf, false};
  if (m == "image/jpeg" || m == "image/pjpeg") return {Format::kJpeg, false};
  if (m == "image/png") return {Format::kPng, false};
  if (m == "text/plain") return {Format::kText, false};
  return {Format::kUnknown, false};
}

bool looksLikeText(std::string_view head) {
  std::size_t control = 0;
  for (unsigned char c : head) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b) ++control;
  }
  return control * 20 <= head.size();  // at most 5% stray control characters
}

bool magicMatches(Format format, std::string_view head) {
  switch (format) {
    case Format::kPdf:
      return isPdf(head);
    case Format::kPostScript:
      return isPostScript(head);
    case Format::kPwgRaster:
      return startsWith(head, "RaS2");
    case Format::kUrf:
      return startsWith(head, std::string_view("UNIRAST\0", 8));
    case Format::kJpeg:
      return startsWith(head, "\xFF\xD8\xFF");
    case Format::kPng:
      return startsWith(head, "\x89PNG\r\n\x1A\n");
    case Format::kText:
      return true;
    case Format::kUnknown:
      return false;
  }
  return false;
}

Format sniffFormat(std::string_view head) {
  head = head.substr(0, kSniffBytes);
  static constexpr std::array kBinary = {Format::kPwgRaster, Format::kUrf, Format::kJpeg,
                                         Format::kPng, Format::kPostScript};
  for (Format f : kBinary) {
    if (magicMatches(f, head)) return f;
  }
  if (isPdf(head)) return Format::kPdf;
  if (!head.empty() && looksLikeText(head)) return Format::kText;
  return Format::kUnknown;
}

}  // namespace pullprint::spooler::analysis
