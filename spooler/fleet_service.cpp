#include "spooler/fleet_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/password.h"  // sha256Hex
#include "core/thread_name.h"

namespace pullprint::spooler {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json settingJson(const SettingOutcome& s) {
  return {{"name", s.name},   {"expected", s.expected}, {"before", s.before},
          {"after", s.after}, {"status", s.status},     {"message", s.message}};
}

const std::vector<std::string>* observed(const policies::ObservedDefaults& d,
                                         const std::string& name) {
  auto it = d.find(name);
  return it == d.end() ? nullptr : &it->second;
}

}  // namespace

std::string settingsJson(const std::vector<SettingOutcome>& settings) {
  json a = json::array();
  for (const auto& s : settings) a.push_back(settingJson(s));
  return a.dump();
}

std::string toJson(const PushRun& run) {
  json results = json::array();
  for (const auto& r : run.results) {
    json settings = json::array();
    for (const auto& s : r.settings) settings.push_back(settingJson(s));
    results.push_back({{"printer", r.printer},
                       {"group", r.group},
                       {"transport", r.transport},
                       {"status", r.status},
                       {"message", r.message},
                       {"attempts", r.attempts},
                       {"duration_ms", r.duration_ms},
                       {"settings", settings}});
  }
  return json{{"id", run.id},
              {"started_at", run.started_at},
              {"finished_at", run.finished_at},
              {"actor", run.actor},
              {"trigger", run.trigger},
              {"group", run.group ? json(*run.group) : json(nullptr)},
              {"policy_version", run.policy_version},
              {"wall_ms", run.wall_ms},
              {"printers", run.results.size()},
              {"ok", run.ok},
              {"failed", run.failed},
              {"results", results}}
      .dump();
}

std::string toJson(const DriftReport& r) {
  json drifted = json::array();
  for (const auto& d : r.drifted) {
    json diffs = json::array();
    for (std::size_t i = 0; i < d.differences.size(); ++i) {
      const auto& x = d.differences[i];
      diffs.push_back({{"name", x.name},
                       {"expected", x.expected},
                       {"actual", x.actual},
                       {"settable", i < d.settable.size() && d.settable[i]}});
    }
    drifted.push_back({{"printer", d.printer},
                       {"group", d.group},
                       {"transport", d.transport},
                       {"differences", diffs}});
  }
  json unreachable = json::array();
  for (const auto& u : r.unreachable)
    unreachable.push_back({{"printer", u.printer}, {"group", u.group}, {"message", u.message}});
  return json{{"id", r.id},
              {"checked_at", r.checked_at},
              {"actor", r.actor},
              {"policy_version", r.policy_version},
              {"compliant", r.compliant},
              {"drifted", drifted},
              {"unreachable", unreachable},
              {"repush_run", r.repush_run ? json(*r.repush_run) : json(nullptr)}}
      .dump();
}

FleetService::FleetService(Store& store, FleetRepository& repository, const FleetClient& client,
                           const pullprint::Clock& clock, Logger& log, FleetOptions options)
    : store_(store),
      repository_(repository),
      client_(client),
      clock_(clock),
      log_(log),
      options_(options) {
  options_.concurrency = std::max(1, options_.concurrency);
  options_.attempts = std::max(1, options_.attempts);
}

FleetService::~FleetService() { stop(); }

void FleetService::setActivationHook(ActivationHook hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

std::shared_ptr<const policies::Policy> FleetService::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

Status FleetService::adoptStartupPolicy(std::shared_ptr<const policies::Policy> from_file,
                                        const std::string& file_text) {
  std::lock_guard replace(replace_mu_);
  auto latest = repository_.latestPolicyVersion();
  if (!latest) return latest.status();
  std::shared_ptr<const policies::Policy> chosen = from_file;
  if (*latest && (!from_file || (*latest)->version > from_file->version())) {
    auto parsed = policies::parsePolicy(
        (*latest)->document, "stored policy version " + std::to_string((*latest)->version));
    if (!parsed) return parsed.status();
    chosen = std::make_shared<const policies::Policy>(std::move(*parsed));
    log_.info("policy.adopted-stored",
              {{"version", chosen->version()}, {"actor", (*latest)->actor}});
  } else if (from_file) {
    auto same = repository_.policyVersion(from_file->version());
    if (!same) return same.status();
    std::string sha = sha256Hex(file_text);
    if (!*same) {
      PolicyVersion v{from_file->version(), sha,          "config-file",
                      from_file->source(),  clock_.now(), file_text};
      if (Status s = repository_.insertPolicyVersion(v); !s) return s;
    } else if ((*same)->sha256 != sha) {
      log_.warn("policy.version-reused",
                {{"version", from_file->version()},
                 {"file", from_file->source()},
                 {"detail",
                  "the file differs from the stored document of the same version; "
                  "the file is used. Increase version with every change."}});
    }
  }
  ActivationHook hook;
  {
    std::lock_guard lock(mu_);
    policy_ = chosen;
    hook = hook_;
  }
  if (hook && chosen) hook(chosen);
  return Status::ok();
}

Result<std::optional<PolicyVersion>> FleetService::activeRecord() const {
  auto p = policy();
  if (!p) return std::optional<PolicyVersion>();
  return repository_.policyVersion(p->version());
}

Result<PolicyVersion> FleetService::replacePolicy(const std::string& text, const std::string& actor,
                                                  std::vector<policies::PolicyError>* errors) {
  auto parsed = policies::parsePolicy(text, "policy", errors);
  if (!parsed) return parsed.status();
  std::lock_guard replace(replace_mu_);
  auto current = policy();
  if (current) {
    if (Status s = policies::checkReplacement(*current, *parsed); !s) return s;
  }
  PolicyVersion v{parsed->version(), sha256Hex(text), actor, "api", clock_.now(), text};
  if (Status s = repository_.insertPolicyVersion(v); !s) return s;
  auto shared = std::make_shared<const policies::Policy>(std::move(*parsed));
  ActivationHook hook;
  {
    std::lock_guard lock(mu_);
    policy_ = shared;
    hook = hook_;
  }
  if (hook) hook(shared);
  log_.info("audit.policy-replaced", {{"actor", actor},
                                      {"version", v.version},
                                      {"sha256", v.sha256},
                                      {"previous", current ? current->version() : 0}});
  v.document.clear();
  return v;
}

Result<std::vector<PolicyVersion>> FleetService::history(int limit) const {
  return repository_.policyVersions(limit, false);
}

Result<std::optional<PolicyVersion>> FleetService::policyDocument(std::int64_t version) const {
  return repository_.policyVersion(version);
}

Result<std::string> FleetService::pushRunsJson(int limit) const {
  auto runs = repository_.pushRuns(limit);
  if (!runs) return runs.status();
  json out = json::array();
  for (const auto& r : *runs) {
    json results = json::array();
    for (const auto& p : r.results)
      results.push_back({{"printer", p.printer},
                         {"transport", p.transport},
                         {"status", p.status},
                         {"message", p.message},
                         {"attempts", p.attempts},
                         {"duration_ms", p.duration_ms},
                         {"settings", json::parse(p.settings_json, nullptr, false)}});
    out.push_back({{"id", r.id},
                   {"started_at", r.started_at},
                   {"finished_at", r.finished_at},
                   {"actor", r.actor},
                   {"trigger", r.trigger},
                   {"group", r.group ? json(*r.group) : json(nullptr)},
                   {"policy_version", r.policy_version},
                   {"printers", r.printers},
                   {"ok", r.ok},
                   {"failed", r.failed},
                   {"results", results}});
  }
  return json{{"runs", out}}.dump();
}

void FleetService::forEachParallel(std::size_t n, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(options_.concurrency));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

bool FleetService::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(stop_mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

PrinterPushResult FleetService::pushOne(const Printer& printer, const policies::Policy& policy) {
  const auto started = Clock::now();
  PrinterPushResult r;
  r.printer = printer.name;
  r.group = printer.group;
  const auto& wanted = policy.printerDefaults();
  auto finish = [&](std::string status, std::string message) {
    r.status = std::move(status);
    r.message = std::move(message);
    r.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    return r;
  };
  auto allSettings = [&](const std::string& status, const std::string& message) {
    r.settings.clear();
    for (const auto& d : wanted) r.settings.push_back({d.name, d.value, {}, {}, status, message});
  };

  // Read, plan, set; an unreachable printer is tried again after a backoff.
  Status last;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    r.attempts = attempt;
    if (attempt > 1 && !sleepFor(options_.backoff * (1 << (attempt - 2)))) break;
    auto reading = client_.read(printer.uri);
    if (!reading) {
      last = reading.status();
      if (last.code() == StatusCode::kUnavailable) continue;
      allSettings("refused", last.message());
      return finish("refused", last.message());
    }
    auto transport = reading->cups_queue ? policies::Transport::kCups : policies::Transport::kIpp;
    r.transport = policies::transportName(transport);
    auto plan = policies::planPush(wanted, transport, reading->settable, reading->supported,
                                   reading->defaults);
    std::vector<const policies::PrinterDefault*> send;
    r.settings.clear();
    for (const auto& p : plan) {
      SettingOutcome o{p.setting->name, p.setting->value, {}, {}, "", p.reason};
      if (auto* v = observed(reading->defaults, p.setting->name)) o.before = *v;
      if (p.send)
        send.push_back(p.setting);
      else
        o.status = "unsupported";
      r.settings.push_back(std::move(o));
    }
    if (send.empty()) return finish("unsupported", "the printer can set none of the defaults");
    Status set = reading->cups_queue ? client_.setCups(printer.uri, send)
                                     : client_.setIpp(printer.uri, send, *reading);
    if (!set) {
      last = set;
      if (set.code() == StatusCode::kUnavailable) continue;
      for (auto& o : r.settings)
        if (o.status.empty()) {
          o.status = "refused";
          o.message = set.message();
        }
      return finish("refused", set.message());
    }
    // Read back: only what the printer reports counts.
    auto after = client_.read(printer.uri);
    int applied = 0, not_applied = 0;
    for (auto& o : r.settings) {
      if (!o.status.empty()) continue;
      if (!after) {
        o.status = "not-applied";
        o.message = "read-back failed: " + after.status().message();
        ++not_applied;
        continue;
      }
      if (auto* v = observed(after->defaults, o.name)) o.after = *v;
      if (o.after.size() == 1 && o.after.front() == o.expected) {
        o.status = "ok";
        o.message.clear();
        ++applied;
      } else {
        o.status = "not-applied";
        o.message = "the printer accepted the request but reports another value";
        ++not_applied;
      }
    }
    const int total = static_cast<int>(r.settings.size());
    if (applied == total) return finish("ok", "");
    if (applied == 0 && not_applied > 0)
      return finish("not-applied", "the printer accepted the request but did not change");
    return finish("partial",
                  std::to_string(applied) + " of " + std::to_string(total) + " defaults applied");
  }
  allSettings("unreachable", last.message());
  return finish("unreachable", last.message());
}

Result<PushRun> FleetService::push(const std::optional<std::string>& group,
                                   const std::string& actor, const std::string& trigger,
                                   const std::vector<std::string>* only) {
  auto policy = this->policy();
  if (!policy) return Status(StatusCode::kFailedPrecondition, "no policy is active");
  if (policy->printerDefaults().empty())
    return Status(StatusCode::kFailedPrecondition, "the active policy (version " +
                                                       std::to_string(policy->version()) +
                                                       ") has no [printer_defaults] to push");
  auto all = store_.printers();
  if (!all) return all.status();
  std::vector<Printer> targets;
  for (auto& p : *all) {
    if (group && p.group != *group) continue;
    if (only && std::find(only->begin(), only->end(), p.name) == only->end()) continue;
    targets.push_back(std::move(p));
  }
  if (targets.empty())
    return Status(StatusCode::kNotFound,
                  group ? "no printers in group '" + *group + "'" : "no printers are registered");
  std::sort(targets.begin(), targets.end(),
            [](const Printer& a, const Printer& b) { return a.name < b.name; });

  PushRun run;
  run.actor = actor;
  run.trigger = trigger;
  run.group = group;
  run.policy_version = policy->version();
  run.started_at = clock_.now();
  const auto started = Clock::now();
  run.results.resize(targets.size());
  forEachParallel(targets.size(),
                  [&](std::size_t i) { run.results[i] = pushOne(targets[i], *policy); });
  run.wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  run.finished_at = clock_.now();
  for (const auto& r : run.results) (r.status == "ok" ? run.ok : run.failed)++;

  PushRunRow row{0,
                 run.started_at,
                 run.finished_at,
                 run.actor,
                 run.trigger,
                 run.group,
                 run.policy_version,
                 static_cast<int>(run.results.size()),
                 run.ok,
                 run.failed,
                 {}};
  for (const auto& r : run.results)
    row.results.push_back({r.printer, r.transport, r.status, r.message, r.attempts, r.duration_ms,
                           settingsJson(r.settings)});
  auto id = repository_.insertPushRun(row);
  if (!id) return id.status();
  run.id = *id;
  log_.info("audit.fleet-push", {{"actor", actor},
                                 {"run", run.id},
                                 {"trigger", trigger},
                                 {"group", group.value_or("")},
                                 {"printers", static_cast<int>(run.results.size())},
                                 {"ok", run.ok},
                                 {"failed", run.failed}});
  return run;
}

Result<DriftReport> FleetService::check(const std::string& actor) {
  auto policy = this->policy();
  if (!policy) return Status(StatusCode::kFailedPrecondition, "no policy is active");
  if (policy->printerDefaults().empty())
    return Status(StatusCode::kFailedPrecondition,
                  "the active policy (version " + std::to_string(policy->version()) +
                      ") has no [printer_defaults] to compare with");
  auto all = store_.printers();
  if (!all) return all.status();
  std::vector<Printer> printers = std::move(*all);
  std::sort(printers.begin(), printers.end(),
            [](const Printer& a, const Printer& b) { return a.name < b.name; });

  struct One {
    Result<PrinterDefaultsReading> reading = Status(StatusCode::kInternal, "not read");
  };
  std::vector<One> readings(printers.size());
  forEachParallel(printers.size(),
                  [&](std::size_t i) { readings[i].reading = client_.read(printers[i].uri); });

  DriftReport report;
  report.actor = actor;
  report.policy_version = policy->version();
  report.checked_at = clock_.now();
  for (std::size_t i = 0; i < printers.size(); ++i) {
    const auto& r = readings[i].reading;
    if (!r) {
      report.unreachable.push_back({printers[i].name, printers[i].group, r.status().message()});
      continue;
    }
    auto diffs = policies::compareDefaults(policy->printerDefaults(), r->defaults);
    if (diffs.empty()) {
      report.compliant.push_back(printers[i].name);
    } else {
      auto transport = r->cups_queue ? policies::Transport::kCups : policies::Transport::kIpp;
      auto plan = policies::planPush(policy->printerDefaults(), transport, r->settable,
                                     r->supported, r->defaults);
      std::vector<bool> settable;
      for (const auto& d : diffs)
        for (const auto& p : plan)
          if (p.setting->name == d.name) settable.push_back(p.send);
      report.drifted.push_back({printers[i].name, printers[i].group,
                                policies::transportName(transport), std::move(diffs),
                                std::move(settable)});
    }
  }
  if (options_.auto_repush && !report.drifted.empty()) {
    std::vector<std::string> names;
    for (const auto& d : report.drifted) names.push_back(d.printer);
    auto run = push(std::nullopt, actor, "drift", &names);
    if (run) report.repush_run = run->id;
  }
  DriftCheckRow row{0,
                    report.checked_at,
                    actor,
                    report.policy_version,
                    static_cast<int>(report.compliant.size()),
                    static_cast<int>(report.drifted.size()),
                    static_cast<int>(report.unreachable.size()),
                    ""};
  row.report_json = toJson(report);
  auto id = repository_.insertDriftCheck(row);
  if (!id) return id.status();
  report.id = *id;
  log_.info("fleet.drift-checked", {{"actor", actor},
                                    {"compliant", row.compliant},
                                    {"drifted", row.drifted},
                                    {"unreachable", row.unreachable}});
  return report;
}

Result<std::optional<std::string>> FleetService::lastDriftJson() const {
  auto c = repository_.latestDriftCheck();
  if (!c) return c.status();
  if (!*c) return std::optional<std::string>();
  // The stored report was written before its id was known.
  auto j = json::parse((*c)->report_json, nullptr, false);
  if (j.is_object()) j["id"] = (*c)->id;
  return std::optional<std::string>(j.dump());
}

void FleetService::start() {
  if (options_.drift_interval.count() <= 0 || scheduler_.joinable()) return;
  scheduler_ = std::thread([this] {
    nameThisThread("pp-fleet");
    runSchedule();
  });
}

void FleetService::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

void FleetService::runSchedule() {
  while (sleepFor(options_.drift_interval)) {
    auto p = policy();
    if (!p || p->printerDefaults().empty()) continue;
    auto r = check("schedule");
    if (!r) log_.warn("fleet.drift-check-failed", {{"error", r.status().message()}});
  }
}

}  // namespace pullprint::spooler
