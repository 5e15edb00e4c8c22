// ipptool runner and test documents made with Ghostscript.
//
// runIppTool: `ipptool ARGS...` with a time limit, output captured. ipptool's
// test files are in /usr/share/cups/ipptool (ipp-1.1.test, ipp-2.0.test,
// ipp-everywhere.test, one file per operation, ...). Useful flags: -t (test
// report), -v (show request/response attributes), -I (continue after a failed
// test), -R (retry on server-error-busy), -d name=value (define a variable,
// before the URI), -f FILE (document for $filename), -c/-j (CSV/JSON output).
//
// makePdf / makePostScript: small documents whose every page carries distinct
// text ("<label> page i of N"), so documents and pages differ in content.
//
// Thread contract: all functions are reentrant.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace pullprint::testing {

// Runs `ipptool args...`; see CommandResult (exitCode 0 = all tests passed).
CommandResult runIppTool(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = 30000ms, const EnvChanges& env = {});

// Values of every "NAME (type) = VALUE" line in ipptool -t/-v output (DISPLAY
// or -v attribute dumps), in order.
std::vector<std::string> ippToolValues(const std::string& output, const std::string& name);

// Writes a PDF with `pages` A4 pages (Ghostscript pdfwrite). `label` defaults
// to the file's stem. Throws std::runtime_error (with gs output) on failure.
void makePdf(const std::filesystem::path& path, int pages, const std::string& label = "");

// Same as makePdf, as PostScript (Ghostscript ps2write).
void makePostScript(const std::filesystem::path& path, int pages, const std::string& label = "");

}  // namespace pullprint::testing
