#pragma once
// Counts PostScript pages by really interpreting the program: Ghostscript as
// a subprocess (-dSAFER) under RLIMIT_AS / RLIMIT_CPU and a wall-clock
// deadline, killed by PID when the deadline passes.
//
// The count comes from the output device, not from anything the document
// controls: the `inkcov` device (at 10 dpi, cheap) writes one line per page
// it emits to a pipe on fd 3, which the document cannot truncate. An EndPage
// hook prints each page's /PageSize on stdout for the size table; if the
// document replaces that hook, sizes are dropped (the count is unaffected).
// inkcov's per-page C/M/Y coverage sets `color` = true when a page carries
// chromatic ink (RGB grey maps to C=M=Y and is not colour); colour is never
// reported as false from here, since 10 dpi can miss small marks.
//
// Thread contract: reentrant; each call runs its own process.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "spooler/analysis/byte_source.h"
#include "spooler/analysis/page_sizes.h"

namespace pullprint::spooler::analysis {

struct GhostscriptCount {
  bool started = false;          // the executable ran
  std::optional<int64_t> pages;  // pages emitted by the device (set even after an error)
  bool clean_exit = false;       // exit status 0
  bool timed_out = false;
  bool out_of_memory = false;  // VMerror or killed under RLIMIT_AS
  bool hit_page_limit = false;
  std::string error;  // tail of Ghostscript's messages, or why it did not run
  SizeTally sizes;
  bool sizes_complete = false;  // one size per counted page
  std::optional<bool> color;    // true or unknown, see above
};

GhostscriptCount countWithGhostscript(const std::string& executable,
                                      const std::filesystem::path& file, const Deadline& deadline,
                                      std::size_t memory_bytes, int64_t max_pages);

}  // namespace pullprint::spooler::analysis
