// The real stack for card-release tests and the benchmark: pullprintd (the
// real binary, tests/integration/harness.h) with printer "lib-1" (and
// "lib-2") = an ippeveprinter, users admin/alice/bob, a registered station
// with its secret file, and helpers to call the JSON API, sign station
// requests, and run the pullprint-badge agent against a PrivatePcscd.
//
// Thread contract: one test thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/badge/pcsc_rig.h"
#include "tests/integration/harness.h"
#include "tests/support/ipp_eve_printer.h"

namespace pullprint::badgetest {

struct Api {
  int status = 0;
  std::string body;
  std::string json(const std::string& key) const;  // top-level string/number as text
};

struct StackOptions {
  std::string stationsToml;  // lines for [stations]
  std::string extraToml;     // more tables for pullprint.toml (e.g. [tls])
  // Maps ippeveprinter's URI to the one pullprintd is given (the benchmark
  // puts a timestamping proxy in between). Identity when unset.
  std::function<std::string(const std::string&)> printerUri;
};

class Stack {
 public:
  explicit Stack(StackOptions options = {});

  // One HTTP request (new connection) to pullprintd.
  Api call(const std::string& method, const std::string& path, const std::string& body = "",
           const std::string& basic = "admin:adminpw",
           const std::vector<std::pair<std::string, std::string>>& headers = {},
           const std::string& contentType = "application/json");
  // A station request signed with `secret` (timestamp offset, fixed nonce if given).
  Api signedRelease(const std::string& station, const std::string& secret, const std::string& body,
                    long long tsOffset = 0, std::string nonce = "");

  // POST /api/v1/stations; returns the secret and writes it to a 0600 file.
  std::string createStation(const std::string& name, const std::vector<std::string>& printers);
  std::filesystem::path secretFile(const std::string& station) const;
  void addCard(const std::string& uid, const std::string& user);

  // Submits a held job for `user` to the follow-me queue; returns its id.
  int holdJob(const std::string& user, const std::string& label = "doc");
  std::string jobState(int id);

  itest::PullprintServer& server() { return *server_; }
  testing::IppEvePrinter& printer() { return *printer_; }
  const std::filesystem::path& work() const { return work_.path(); }

 private:
  testing::TempDir work_;
  std::unique_ptr<testing::IppEvePrinter> printer_;
  std::unique_ptr<itest::PullprintServer> server_;
  std::string pdf_;
};

// The pullprint-badge agent as a process.
class BadgeAgent {
 public:
  BadgeAgent(Stack& stack, const PrivatePcscd& pcscd, const std::string& station,
             std::vector<std::string> extraArgs = {});
  ~BadgeAgent();
  std::vector<std::string> lines() const;  // stdout so far
  // Waits until stdout has at least n lines; returns line n-1 ("" on timeout).
  std::string waitLine(size_t n, std::chrono::milliseconds timeout = 15s) const;
  std::string stderrText() const;
  std::string describe() const;
  testing::Process& process() { return *process_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::Process> process_;
};

std::filesystem::path badgeBinary();

}  // namespace pullprint::badgetest
