#pragma once
// A small, strict reader of PDF object syntax (ISO 32000-1 7.3), used by the
// page-tree walk (pdf_pages.cpp) to read page-tree nodes without having
// libqpdf materialise every object of every object stream it touches (qpdf
// parses a whole object stream to read one object of it; on a 500-page file
// with object streams that was ~70 % of the count's time).
//
// It reads direct objects only: it never follows a reference (the caller
// does, through the xref that libqpdf read and, if need be, repaired) and
// never decodes a stream (libqpdf does). It is deliberately strict: anything
// it does not fully understand -- an unknown keyword, a malformed number or
// name, a duplicated dictionary key, nesting deeper than kMaxDepth, a missing
// delimiter, an object header that does not match the expected number --
// makes it fail, and the caller falls back to libqpdf for the whole file. It
// never guesses, so it cannot count differently from the libqpdf walk on any
// file it accepts.
//
// Invariants: parsing is linear in the input, never reads outside the given
// view, and recursion is bounded by kMaxDepth.
// Thread contract: stateless functions; values are plain data.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pullprint::spooler::analysis::pdf {

struct Value;

struct DictEntry;

struct Value {
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kNumber,
    kName,
    kString,  // content not kept: the page walk never needs one
    kRef,
    kArray,
    kDict,
    kStream,  // a dictionary followed by `stream`: entries hold the dictionary
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  int64_t ref_num = 0;             // kRef
  int ref_gen = 0;                 // kRef
  std::string name;                // kName, decoded (#xx), with its leading '/'
  std::vector<Value> items;        // kArray
  std::vector<DictEntry> entries;  // kDict, kStream

  bool isDict() const { return kind == Kind::kDict; }
  // The value of `key` (with its leading '/') in a dictionary, or nullptr.
  const Value* find(std::string_view key) const;
};

struct DictEntry {
  std::string key;
  Value value;
};

constexpr int kMaxDepth = 32;

// Parses one direct object starting at `at` (leading white space and
// comments skipped); on success `at` is just past it.
std::optional<Value> parseObject(std::string_view text, std::size_t& at);

// Parses the indirect object "num gen obj <object>" at `offset` of a file;
// fails unless the header names exactly (num, gen). A dictionary followed by
// the `stream` keyword comes back as kStream.
std::optional<Value> parseIndirectObject(std::string_view file, std::size_t offset, int64_t num,
                                         int gen);

struct ObjectStreamEntry {
  int64_t num = 0;     // object number
  std::size_t at = 0;  // where the object starts in the decoded stream
};

// The header of a decoded object stream with /N `n` and /First `first`:
// the n (object number, offset) pairs, offsets made absolute. Fails if a
// pair is malformed or points outside the data.
std::optional<std::vector<ObjectStreamEntry>> parseObjectStreamHeader(std::string_view data,
                                                                      int64_t n, int64_t first);

}  // namespace pullprint::spooler::analysis::pdf
