// pullprintd: the print-release server.
//
//   pullprintd [--listen HOST:PORT] [--state-dir DIR] [--config FILE] [--log-level L]
//   pullprintd --state-dir DIR --add-user NAME [--role ROLE] [--department D]
//        (password read from the first line of standard input)
//   pullprintd --check-config FILE
//   pullprintd [--state-dir DIR] [--config FILE] --backup FILE
//
// main builds every object and passes it in; nothing is global.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

#include "admin-api/api.h"
#include "admin-api/fleet_api.h"
#include "admin-api/stations.h"
#include "core/authenticator.h"
#include "core/backup.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fleet_store.h"
#include "core/instance_lock.h"
#include "core/log.h"
#include "core/password.h"
#include "core/store.h"
#include "core/thread_name.h"
#include "policies/check.h"
#include "policies/policy.h"
#include "server/http_server.h"
#include "spooler/analysis_queue.h"
#include "spooler/committer.h"
#include "spooler/fleet_service.h"
#include "spooler/ipp_service.h"
#include "spooler/job_service.h"
#include "spooler/printer_client.h"
#include "spooler/release_engine.h"
#include "spooler/retention.h"
#include "spooler/spool.h"

using namespace pullprint;

namespace {

constexpr const char* kUsage =
    "usage: pullprintd [--listen HOST:PORT] [--state-dir DIR] [--config FILE] [--log-level LEVEL]\n"
    "       pullprintd [--state-dir DIR] --add-user NAME [--role user|admin|sustainability]\n"
    "                  [--department NAME]   (password: first line of standard input)\n"
    "       pullprintd [--state-dir DIR] [--config FILE] --backup FILE\n"
    "       pullprintd --check-config FILE\n"
    "       pullprintd --check-policy FILE\n"
    "       pullprintd --version\n";

struct Args {
  std::string listen;
  std::string state_dir;
  std::string config;
  std::string log_level;
  std::string add_user;
  std::string role = "user";
  std::string department;
  std::string check_config;
  std::string check_policy;
  std::string backup;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "pullprintd: %s\n", msg.c_str());
  return 2;
}

bool parseArgs(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *err = arg + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    if (arg == "--listen") {
      if (!value(&a->listen)) return false;
    } else if (arg == "--state-dir") {
      if (!value(&a->state_dir)) return false;
    } else if (arg == "--config") {
      if (!value(&a->config)) return false;
    } else if (arg == "--log-level") {
      if (!value(&a->log_level)) return false;
    } else if (arg == "--add-user") {
      if (!value(&a->add_user)) return false;
    } else if (arg == "--role") {
      if (!value(&a->role)) return false;
    } else if (arg == "--department") {
      if (!value(&a->department)) return false;
    } else if (arg == "--check-config") {
      if (!value(&a->check_config)) return false;
    } else if (arg == "--backup") {
      if (!value(&a->backup)) return false;
    } else if (arg == "--check-policy") {
      if (!value(&a->check_policy)) return false;
    } else {
      *err = "unknown argument '" + arg + "'";
      return false;
    }
  }
  return true;
}

// A new state directory gets the commented default config, so admins find
// every setting in one place.
void writeDefaultConfig(const std::filesystem::path& dir) {
  auto path = dir / "pullprint.toml";
  if (std::filesystem::exists(path)) return;
  std::ofstream out(path);
  out << defaultConfigText();
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version") {
      std::puts("pullprintd 0.1.0");
      return 0;
    }
  }
  Args args;
  std::string err;
  if (!parseArgs(argc, argv, &args, &err)) return fail(err + "\n" + kUsage);

  if (!args.check_policy.empty())
    return policies::runPolicyCheck(args.check_policy, std::cout, std::cerr);

  if (!args.check_config.empty()) {
    auto c = loadConfigFile(args.check_config);
    if (!c) return fail(c.status().message());
    // The [tls] files too, as the server (and SIGHUP) would load them: run it
    // on renewed files before reloading.
    if (!c->tls_certificate.empty()) {
      auto t = server::makeTlsContext(c->tls_certificate, c->tls_private_key);
      if (!t) return fail("[tls]: " + t.status().message());
      const auto info = server::describeTlsCertificate(**t);
      std::printf("%s: certificate %s, expires %s (%lld days)\n", c->tls_certificate.c_str(),
                  info.subject.c_str(), info.not_after.c_str(),
                  static_cast<long long>(info.days_left));
    }
    std::printf("%s: ok\n", args.check_config.c_str());
    return 0;
  }

  // --- Configuration: embedded defaults < config file < flags ---
  Config config;
  std::filesystem::path state_dir = args.state_dir.empty() ? "state" : args.state_dir;
  std::filesystem::path config_path = args.config;
  if (config_path.empty() && std::filesystem::exists(state_dir / "pullprint.toml"))
    config_path = state_dir / "pullprint.toml";
  if (!config_path.empty()) {
    auto c = loadConfigFile(config_path);
    if (!c) return fail(c.status().message());
    config = std::move(*c);
  }
  if (!args.state_dir.empty() || config.state_dir.empty()) config.state_dir = state_dir;
  if (!args.listen.empty()) {
    Status s = parseListen(args.listen, &config.listen_host, &config.listen_port);
    if (!s) return fail("--listen: " + s.message());
  }
  if (!args.log_level.empty()) config.log_level = args.log_level;
  config.resolvePaths();

  LogLevel level;
  if (!Logger::parseLevel(config.log_level, &level))
    return fail("bad log level '" + config.log_level + "'");
  Logger log(level);
  auto trusted = CidrSet::parse(config.trusted_sources);
  if (!trusted) return fail("[ipp].trusted_sources: " + trusted.status().message());

  if (!args.backup.empty()) {
    // Beside a running server or not: SQLite gives the snapshot its own read
    // transaction. Creates nothing but the backup file.
    auto started = std::chrono::steady_clock::now();
    auto r = backupDatabase(config.database, args.backup);
    if (!r) return fail("backup: " + r.status().message());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf(
        "backup: %s written (%lld bytes, schema %d, %lld jobs of which %lld waiting for release, "
        "%lld usage records) in %.2f s; back up the spool directory %s now (docs/operations.md)\n",
        args.backup.c_str(), static_cast<long long>(r->bytes), r->schema_version,
        static_cast<long long>(r->jobs), static_cast<long long>(r->held_jobs),
        static_cast<long long>(r->usage_records), secs, config.spool_dir.c_str());
    return 0;
  }

  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) return fail(config.state_dir.string() + ": " + ec.message());
  ::chmod(config.state_dir.c_str(), 0700);
  writeDefaultConfig(config.state_dir);

  // --- Store ---
  SqliteOptions store_options;
  // The server's WAL gets room for a checkpoint interval and a half, what
  // it holds at most between two starts from its beginning
  // (docs/ARCHITECTURE.md); `--add-user`, a one-off, none.
  if (args.add_user.empty())
    store_options.wal_reserve_frames = store_options.checkpoint_frames * 3 / 2;
  store_options.log = &log;
  auto store = openSqliteStore(config.database.string(), store_options);
  if (!store) return fail(store.status().message());
  SystemClock clock;

  if (!args.add_user.empty()) {
    auto role = parseRole(args.role);
    if (!role) return fail("--role must be user, admin or sustainability");
    std::string password;
    if (!std::getline(std::cin, password) || password.empty())
      return fail("--add-user reads the password from the first line of standard input");
    User u;
    u.name = args.add_user;
    u.password_hash = hashPassword(password);
    u.role = *role;
    u.department = args.department;
    u.created_at = clock.now();
    Status s = (*store)->write([&](StoreWriter& w) { return w.upsertUser(u); });
    if (!s) return fail(s.message());
    std::printf("user %s (%s) saved\n", u.name.c_str(), roleName(u.role));
    return 0;
  }

  // --- One server per database and spool (core/instance_lock.h) ---
  auto db_lock = InstanceLock::acquire(config.database.string() + ".lock",
                                       "database " + config.database.string());
  // Another server holding it ends this one; a file system without flock
  // (some network mounts) only loses the protection, said loudly.
  auto lockRefused = [&](const Result<InstanceLock>& lock) {
    if (lock) return false;
    if (lock.status().code() == StatusCode::kFailedPrecondition) return true;
    log.warn("server.lock-unavailable",
             {{"error", lock.status().message()},
              {"hint", "make sure no other pullprintd uses these files"}});
    return false;
  };
  if (lockRefused(db_lock)) return fail(db_lock.status().message());

  // --- Spool, committer, jobs, recovery ---
  auto spool = spooler::SpoolDir::open(config.spool_dir);
  if (!spool) return fail(spool.status().message());
  auto spool_lock = InstanceLock::acquireDirectory(config.spool_dir,
                                                   "spool directory " + config.spool_dir.string());
  if (lockRefused(spool_lock)) return fail(spool_lock.status().message());
  Metrics metrics;  // GET /metrics; declared first so that it outlives everything that counts
  // "server.stopped" is the last line: written once everything declared
  // below has stopped (the committer's last flush, page counting), whose
  // own lines come before it.
  struct StoppedLine {
    Logger& log;
    bool serving = false;
    ~StoppedLine() {
      if (serving) log.info("server.stopped");
    }
  } stopped_line{log};
  spooler::Committer::Options committer_options;
  committer_options.journal_sync_delay = std::chrono::milliseconds(config.journal_sync_delay_ms);
  spooler::Committer committer(**store, **spool, log, &metrics, committer_options);
  spooler::JobService jobs(**store, committer, **spool, clock, log);
  jobs.setJournalMaxBytes(config.journal_max_bytes);
  auto recovered = jobs.recover();
  if (!recovered) {
    std::string why = "recovery: " + recovered.status().message();
    if (recovered.status().code() == StatusCode::kResourceExhausted)
      why +=
          "; the disk of the state directory or the spool is full: free space there and start "
          "again (nothing is lost: the jobs and the document journal are as they were)";
    return fail(why);
  }
  log.info("spool.recovered", {{"active_jobs", recovered->active},
                               {"aborted_jobs", recovered->aborted},
                               {"orphan_files_removed", recovered->orphans_removed},
                               {"restored_from_journal", recovered->restored_from_journal},
                               {"documents_missing", recovered->documents_missing}});
  if (recovered->documents_missing > 0) {
    std::string ids;
    for (JobId j : recovered->missing_jobs) ids += (ids.empty() ? "" : ",") + std::to_string(j);
    log.error("spool.documents-missing",
              {{"documents", recovered->documents_missing},
               {"jobs", ids},
               {"spool_dir", config.spool_dir.string()},
               {"hint",
                "restore these files into the spool directory (docs/operations.md); the "
                "jobs stay held until then"}});
  }

  // --- Document analysis: counts every job once it has arrived ---
  spooler::analysis::RunnerOptions runner_options;
  {
    std::error_code self_ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", self_ec);
    // The helper is installed next to pullprintd (build: spooler/analysis/).
    for (auto candidate :
         {self.parent_path() / "pullprint-analyze",
          self.parent_path().parent_path() / "spooler" / "analysis" / "pullprint-analyze"}) {
      if (!self_ec && ::access(candidate.c_str(), X_OK) == 0) {
        runner_options.helper = candidate;
        break;
      }
    }
    runner_options.background = config.analysis_priority == "background";
    // Without the helper every document is analysed in a fork() of this
    // (large, many-threaded) process: correct, but several times the CPU
    // per job. Seen when pullprintd alone is copied somewhere.
    if (runner_options.helper.empty())
      log.warn("analysis.helper-missing",
               {{"expected", (self.parent_path() / "pullprint-analyze").string()},
                {"hint",
                 "install pullprint-analyze next to pullprintd; until then each document is "
                 "analysed in a fork of the server, at several times the CPU per job"}});
  }
  spooler::analysis::AnalysisOptions analysis_options;
  analysis_options.limits.time = std::chrono::milliseconds(config.analysis_time_limit_ms);
  analysis_options.limits.memory_bytes = static_cast<std::size_t>(config.analysis_memory_limit_mb)
                                         << 20;
  analysis_options.postscript = config.analysis_postscript == "interpret"
                                    ? spooler::analysis::PostScriptMode::kAlwaysInterpret
                                    : spooler::analysis::PostScriptMode::kDscWhenConsistent;
  analysis_options.text.lines_per_page = config.analysis_text_lines_per_page;
  spooler::AnalysisQueue analysis(jobs, log, runner_options, analysis_options, 1,
                                  config.analysis_documents_per_process);
  jobs.setReceivedHook([&analysis](const Job& job, const std::vector<Document>& documents) {
    analysis.enqueue(job, documents);
  });
  analysis.enqueueUnanalysed();

  // --- Release engine: printer registry, exactly-once reconciliation, expiry ---
  spooler::PrinterClient printer_client;
  spooler::ReleaseOptions release_options;
  release_options.poll_interval = std::chrono::milliseconds(config.release_poll_ms);
  release_options.busy_retry_for = std::chrono::seconds(config.release_busy_retry_seconds);
  release_options.expiry_interval = std::chrono::seconds(config.expiry_interval_seconds);
  spooler::ReleaseEngine release(config, jobs, printer_client, clock, log, release_options);
  release.setMetrics(&metrics);
  release.setCountNow([&analysis](JobId id) { return analysis.countNow(id); });
  if (Status s = release.start(); !s) return fail("release engine: " + s.message());

  // --- Retention of personal details ([retention]; nothing when off) ---
  spooler::Retention retention(**store, clock, log, config.retention_job_details_days);
  retention.start();

  Authenticator auth(**store, clock);
  spooler::IppService ipp(config, jobs, auth, log, &release);
  // --- Policy and fleet: versions in the store, printer defaults push, drift ---
  auto fleet_repository = openSqliteFleetRepository(config.database.string());
  if (!fleet_repository) return fail(fleet_repository.status().message());
  spooler::FleetClient fleet_client(std::chrono::milliseconds(config.fleet_timeout_ms));
  spooler::FleetOptions fleet_options;
  fleet_options.concurrency = config.fleet_concurrency;
  fleet_options.timeout = std::chrono::milliseconds(config.fleet_timeout_ms);
  fleet_options.attempts = config.fleet_attempts;
  fleet_options.backoff = std::chrono::milliseconds(config.fleet_backoff_ms);
  fleet_options.drift_interval = std::chrono::seconds(config.fleet_drift_interval_seconds);
  fleet_options.auto_repush = config.fleet_auto_repush;
  spooler::FleetService fleet(**store, **fleet_repository, fleet_client, clock, log, fleet_options);
  fleet.setActivationHook([&](std::shared_ptr<const policies::Policy> p) {
    log.info("policy.active",
             {{"version", p->version()}, {"rules", static_cast<int>(p->rules().size())}});
    ipp.setPolicy(p);
    release.setPolicy(p);
  });
  {
    std::shared_ptr<const policies::Policy> from_file;
    std::string text;
    if (!config.policy_file.empty()) {
      std::ifstream in(config.policy_file, std::ios::binary);
      if (!in) return fail(config.policy_file.string() + ": cannot open policy file");
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      auto policy = policies::parsePolicy(text, config.policy_file.string());
      if (!policy) return fail(policy.status().message());
      from_file = std::make_shared<const policies::Policy>(std::move(*policy));
      log.info("policy.loaded", {{"file", config.policy_file.string()},
                                 {"version", from_file->version()},
                                 {"rules", static_cast<int>(from_file->rules().size())}});
    }
    if (Status s = fleet.adoptStartupPolicy(from_file, text); !s)
      return fail("policy: " + s.message());
  }
  fleet.start();
  api::FleetApi fleet_api(fleet);
  api::Api api(config, jobs, release, auth, log);
  api::StationApi stations(config, **store, release, auth, clock, log);  // card release
  api.setStationApi(&stations);
  api.setFleetApi(&fleet_api);
  api.setMetrics(&metrics);

  // Logs what a TLS context serves and puts its expiry on /metrics; warns
  // when it expires within two weeks.
  const auto noteCertificate = [&log, &metrics](const char* event, boost::asio::ssl::context& ctx) {
    const auto info = server::describeTlsCertificate(ctx);
    metrics.tls_not_after = info.not_after_unix;
    log.info(
        event,
        {{"subject", info.subject}, {"not_after", info.not_after}, {"days_left", info.days_left}});
    if (info.days_left < 14)
      log.warn("tls.certificate-expiring",
               {{"subject", info.subject},
                {"not_after", info.not_after},
                {"days_left", info.days_left},
                {"hint", "renew it, then send SIGHUP to pullprintd to load it"}});
  };
  const bool tls_enabled = !config.tls_certificate.empty();
  std::shared_ptr<boost::asio::ssl::context> tls;  // handed to the server below
  if (tls_enabled) {
    auto t = server::makeTlsContext(config.tls_certificate, config.tls_private_key);
    if (!t) return fail("[tls]: " + t.status().message());
    tls = std::move(*t);
    noteCertificate("tls.certificate", *tls);
  }

  // --- Network ---
  boost::asio::io_context io(config.threads);
  server::HttpServer http(io, config, ipp, log, std::move(tls), &api);
  http.setMetrics(&metrics);
  if (Status s = http.start(config.listen_host, config.listen_port); !s) return fail(s.message());
  log.info("server.listening", {{"address", config.listen_host},
                                {"port", static_cast<int>(http.port())},
                                {"tls", tls_enabled},
                                {"state_dir", config.state_dir.string()},
                                {"queues", static_cast<int>(config.queues.size() + 2)}});

  // SIGTERM/SIGINT: drain (requests in progress finish, for up to
  // [server] shutdown_grace_seconds), then stop; a second signal, or a grace
  // of 0, stops at once. Handlers run one at a time (one wait is pending).
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  bool draining = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (draining || config.shutdown_grace_seconds == 0) {
          log.info("server.stopping", {{"signal", sig}, {"connections", http.connections()}});
          http.stop();
          io.stop();
          return;
        }
        draining = true;
        log.info("server.draining", {{"signal", sig},
                                     {"connections", http.connections()},
                                     {"grace_seconds", config.shutdown_grace_seconds}});
        http.drain(std::chrono::seconds(config.shutdown_grace_seconds), [&](int open_left) {
          if (open_left == 0)
            log.info("server.drained");
          else
            log.warn("server.drain-timeout", {{"connections_left", open_left}});
          io.stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  // SIGHUP: the [tls] certificate and key files are read again (a renewed
  // certificate) and new connections get them; open ones keep the old one.
  // Nothing else is re-read. A file that fails to load changes nothing.
  // (Unhandled, SIGHUP would end the server.)
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (!tls_enabled) {
          log.info("server.reload", {{"tls", false},
                                     {"hint",
                                      "nothing to reload without [tls]; other settings "
                                      "take effect at the next start"}});
        } else if (auto t = server::makeTlsContext(config.tls_certificate, config.tls_private_key);
                   !t) {
          log.error("tls.reload-failed", {{"error", t.status().message()},
                                          {"hint", "the certificate loaded before stays in use"}});
        } else {
          std::shared_ptr<boost::asio::ssl::context> fresh = std::move(*t);
          http.setTlsContext(fresh);
          noteCertificate("tls.reloaded", *fresh);
        }
        hangup.async_wait(on_hangup);
      };
  hangup.async_wait(on_hangup);

  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i)
    threads.emplace_back([&io] {
      nameThisThread("pp-io");
      io.run();
    });
  io.run();  // the main thread keeps the process's name, pullprintd
  for (auto& t : threads) t.join();
  fleet.stop();
  release.stop();
  stopped_line.serving = true;
  return 0;
}
