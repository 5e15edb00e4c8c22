// FleetService: the active policy and the fleet-wide printer settings.
//
//  - Policy versions: every accepted policy document is stored (version,
//    SHA-256, actor, time; core/fleet_store.h). replacePolicy() parses an
//    uploaded document, requires a higher version (policies::checkReplacement),
//    stores it and swaps the active policy; the activation hook (main) hands
//    the new shared_ptr to the IPP service and the release engine.
//  - Push: sets the policy's [printer_defaults] on every registered printer
//    (or one group), `concurrency` printers at a time, each with its own
//    timeout; an unreachable printer is tried `attempts` times with a backoff
//    that doubles. After setting, the printer is read back: a setting counts
//    as applied only when the printer reports it (cupsd answers success to
//    Set-Printer-Attributes and changes nothing). Runs and per-printer results
//    are stored and returned.
//  - Drift: reads every printer's defaults (on demand, and every
//    drift_interval when > 0) and lists printers whose defaults differ from
//    the policy (expected vs actual), unreachable ones apart. With
//    auto_repush, drifted printers are pushed to again.
//
// Per-printer push status (docs/policies.md):
//   ok           every setting applied and read back
//   partial      some applied; others unsupported or not applied
//   unsupported  the printer can set none of the settings
//   not-applied  the printer accepted the request but reports other values
//   refused      the printer answered with an error (IPP status + message)
//   unreachable  no connection after every attempt
//
// Thread contract: every public method is safe from any thread and blocks
// (printers, SQLite); call from a worker pool, never a network thread. Pushes
// and checks may run concurrently. start()/stop() once each.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/fleet_store.h"
#include "core/log.h"
#include "core/store.h"
#include "policies/fleet.h"
#include "policies/policy.h"
#include "spooler/fleet_client.h"

namespace pullprint::spooler {

struct FleetOptions {
  int concurrency = 16;
  std::chrono::milliseconds timeout{10000};
  int attempts = 3;
  std::chrono::milliseconds backoff{1000};
  std::chrono::seconds drift_interval{3600};  // 0: no scheduled checks
  bool auto_repush = false;
};

struct SettingOutcome {
  std::string name;
  std::string expected;
  std::vector<std::string> before;  // as reported before the push
  std::vector<std::string> after;   // as read back after it
  std::string status;               // ok | unsupported | not-applied | refused | unreachable
  std::string message;
};

struct PrinterPushResult {
  std::string printer;
  std::string group;
  std::string transport;  // "ipp" | "cups" | "" (never reached)
  std::string status;     // see the header comment
  std::string message;
  int attempts = 0;
  std::int64_t duration_ms = 0;
  std::vector<SettingOutcome> settings;
};

struct PushRun {
  std::int64_t id = 0;
  UnixSeconds started_at = 0;
  UnixSeconds finished_at = 0;
  std::string actor;
  std::string trigger;  // "api" | "drift"
  std::optional<std::string> group;
  std::int64_t policy_version = 0;
  std::int64_t wall_ms = 0;
  int ok = 0;
  int failed = 0;                          // every status other than ok
  std::vector<PrinterPushResult> results;  // in printer name order
};

struct DriftPrinter {
  std::string printer;
  std::string group;
  std::string transport;
  std::vector<policies::DefaultDifference> differences;
  // Per difference: can a push change it (listed settable / supported)?
  std::vector<bool> settable;
};

struct UnreachablePrinter {
  std::string printer;
  std::string group;
  std::string message;
};

struct DriftReport {
  std::int64_t id = 0;
  UnixSeconds checked_at = 0;
  std::string actor;  // user name or "schedule"
  std::int64_t policy_version = 0;
  std::vector<std::string> compliant;
  std::vector<DriftPrinter> drifted;
  std::vector<UnreachablePrinter> unreachable;  // includes printers that answered with an error
  std::optional<std::int64_t> repush_run;       // auto_repush: the push run it started
};

std::string toJson(const PushRun& run);
std::string toJson(const DriftReport& report);
std::string settingsJson(const std::vector<SettingOutcome>& settings);

class FleetService {
 public:
  using ActivationHook = std::function<void(std::shared_ptr<const policies::Policy>)>;

  FleetService(Store& store, FleetRepository& repository, const FleetClient& client,
               const Clock& clock, Logger& log, FleetOptions options);
  ~FleetService();
  FleetService(const FleetService&) = delete;
  FleetService& operator=(const FleetService&) = delete;

  // Called with every newly active policy (startup and uploads).
  void setActivationHook(ActivationHook hook);

  // Start-up: `from_file` (may be null) is the policy of [policy].file. The
  // store's newest version wins when it is higher (it was uploaded after the
  // file was written); otherwise the file's policy is active and recorded in
  // the store when its version is new. The chosen policy goes to the hook.
  Status adoptStartupPolicy(std::shared_ptr<const policies::Policy> from_file,
                            const std::string& file_text);

  std::shared_ptr<const policies::Policy> policy() const;
  // The stored record of the active policy (nullopt: none, or not stored).
  Result<std::optional<PolicyVersion>> activeRecord() const;

  // Parses `text` (named `source` in errors); on success replaces the active
  // policy. kInvalidArgument with every "source:line:column: message" (also
  // in *errors), kFailedPrecondition when the version does not increase,
  // kAlreadyExists when that version was stored before.
  Result<PolicyVersion> replacePolicy(const std::string& text, const std::string& actor,
                                      std::vector<policies::PolicyError>* errors = nullptr);

  Result<std::vector<PolicyVersion>> history(int limit) const;
  // One stored version with its document.
  Result<std::optional<PolicyVersion>> policyDocument(std::int64_t version) const;
  // Stored push runs, newest first, as {"runs":[...]} JSON.
  Result<std::string> pushRunsJson(int limit) const;

  // Pushes [printer_defaults] to every printer, or those of `group`, or (when
  // `only` is given) those named. kFailedPrecondition without a policy or
  // without [printer_defaults]; kNotFound when no printer matches.
  Result<PushRun> push(const std::optional<std::string>& group, const std::string& actor,
                       const std::string& trigger = "api",
                       const std::vector<std::string>* only = nullptr);

  // Reads every printer's defaults now, stores and returns the report.
  Result<DriftReport> check(const std::string& actor);
  // The last stored report as JSON (nullopt: never checked).
  Result<std::optional<std::string>> lastDriftJson() const;

  // Scheduled drift checks (when drift_interval > 0).
  void start();
  void stop();

 private:
  PrinterPushResult pushOne(const Printer& printer, const policies::Policy& policy);
  // Runs fn(i) for i in [0, n) on up to `concurrency` threads.
  void forEachParallel(std::size_t n, const std::function<void(std::size_t)>& fn);
  // Waits `d` unless stop() is called first; false when stopping.
  bool sleepFor(std::chrono::milliseconds d);
  void runSchedule();

  Store& store_;
  FleetRepository& repository_;
  const FleetClient& client_;
  const Clock& clock_;
  Logger& log_;
  FleetOptions options_;

  mutable std::mutex mu_;  // guards policy_, hook_
  std::shared_ptr<const policies::Policy> policy_;
  ActivationHook hook_;
  std::mutex replace_mu_;  // serialises replacePolicy (check version, store, swap)

  std::mutex stop_mu_;  // guards stopping_ (with stop_cv_)
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread scheduler_;
};

}  // namespace pullprint::spooler
