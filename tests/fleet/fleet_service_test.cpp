// FleetService without printers that answer: policy versions at start-up and
// upload (which one wins), the scheduled drift check, unreachable printers
// retried with backoff, and [fleet] config errors. Real SQLite store in a
// temporary directory; the only "printer" is a port nobody listens on.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/fleet_store.h"
#include "core/store.h"
#include "spooler/fleet_service.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::testing;

namespace {

std::string policyText(int version) {
  return "version = " + std::to_string(version) +
         "\n[printer_defaults]\nsides-default = \"two-sided-long-edge\"\n";
}

std::shared_ptr<const policies::Policy> parsed(const std::string& text) {
  auto p = policies::parsePolicy(text, "file.toml");
  REQUIRE(p);
  return std::make_shared<const policies::Policy>(std::move(*p));
}

struct Rig {
  TempDir dir{"fleet-service-test"};
  std::unique_ptr<Store> store;
  std::unique_ptr<FleetRepository> repo;
  ManualClock clock{1'800'000'000};
  Logger log{LogLevel::kError};
  spooler::FleetClient client{std::chrono::milliseconds(500)};
  Rig() {
    auto s = openSqliteStore((dir / "db").string(), SqliteOptions{2, false});
    REQUIRE(s);
    store = std::move(*s);
    auto r = openSqliteFleetRepository((dir / "db").string());
    REQUIRE(r);
    repo = std::move(*r);
  }
  std::unique_ptr<spooler::FleetService> service(spooler::FleetOptions o = {}) {
    o.drift_interval = o.drift_interval.count() ? o.drift_interval : std::chrono::seconds(0);
    return std::make_unique<spooler::FleetService>(*store, *repo, client, clock, log, o);
  }
};

}  // namespace

TEST_CASE("start-up: the file's policy is recorded; a higher stored version wins") {
  Rig rig;
  std::vector<std::int64_t> activated;
  {
    auto f = rig.service();
    f->setActivationHook([&](auto p) { activated.push_back(p->version()); });
    REQUIRE(f->adoptStartupPolicy(parsed(policyText(1)), policyText(1)));
    CHECK(f->policy()->version() == 1);
    auto v2 = f->replacePolicy(policyText(2), "admin");
    REQUIRE(v2);
    CHECK(v2->actor == "admin");
    CHECK(v2->sha256.size() == 64);
    // Not above the active version: refused, nothing changes.
    auto again = f->replacePolicy(policyText(2), "admin");
    REQUIRE_FALSE(again);
    CHECK(again.status().code() == StatusCode::kFailedPrecondition);
    std::vector<policies::PolicyError> errors;
    auto bad = f->replacePolicy("version = 3\n[printer_defaults]\nx = 1\n", "admin", &errors);
    REQUIRE_FALSE(bad);
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 3);
    CHECK(f->policy()->version() == 2);
  }
  CHECK(activated == std::vector<std::int64_t>{1, 2});
  auto hist = rig.repo->policyVersions(10, true);
  REQUIRE(hist);
  REQUIRE(hist->size() == 2);
  CHECK((*hist)[1].actor == "config-file");
  CHECK((*hist)[1].document == policyText(1));

  // Restart with the old file: the uploaded version 2 stays active.
  {
    auto f = rig.service();
    REQUIRE(f->adoptStartupPolicy(parsed(policyText(1)), policyText(1)));
    CHECK(f->policy()->version() == 2);
  }
  // A newer file wins and is recorded.
  {
    auto f = rig.service();
    REQUIRE(f->adoptStartupPolicy(parsed(policyText(5)), policyText(5)));
    CHECK(f->policy()->version() == 5);
    auto latest = rig.repo->latestPolicyVersion();
    REQUIRE(latest);
    CHECK((*latest)->version == 5);
  }
  // No file at all: the stored newest.
  auto f = rig.service();
  REQUIRE(f->adoptStartupPolicy(nullptr, ""));
  CHECK(f->policy()->version() == 5);
}

TEST_CASE("an unreachable printer is tried `attempts` times with doubling backoff") {
  Rig rig;
  const auto dead = pickFreePort();
  REQUIRE(rig.store->write([&](StoreWriter& w) {
    Printer p;
    p.name = "gone";
    p.uri = "ipp://127.0.0.1:" + std::to_string(dead) + "/ipp/print";
    return w.upsertPrinter(p);
  }));
  spooler::FleetOptions o;
  o.attempts = 3;
  o.backoff = std::chrono::milliseconds(100);
  auto f = rig.service(o);
  // No policy yet: nothing to push.
  CHECK(f->push(std::nullopt, "admin").status().code() == StatusCode::kFailedPrecondition);
  REQUIRE(f->adoptStartupPolicy(parsed(policyText(1)), policyText(1)));
  CHECK(f->push(std::string("nowhere"), "admin").status().code() == StatusCode::kNotFound);
  auto run = f->push(std::nullopt, "admin");
  REQUIRE(run);
  REQUIRE(run->results.size() == 1);
  const auto& r = run->results[0];
  CHECK(r.status == "unreachable");
  CHECK(r.attempts == 3);
  CHECK(r.duration_ms >= 300);  // 100 + 200 ms of backoff
  CHECK(r.settings.at(0).status == "unreachable");
  auto stored = rig.repo->pushRuns(5);
  REQUIRE(stored);
  REQUIRE(stored->size() == 1);
  CHECK((*stored)[0].results.at(0).status == "unreachable");
  CHECK((*stored)[0].results.at(0).attempts == 3);
}

TEST_CASE("the scheduled drift check runs and stores its report") {
  Rig rig;
  const auto dead = pickFreePort();
  REQUIRE(rig.store->write([&](StoreWriter& w) {
    Printer p;
    p.name = "gone";
    p.uri = "ipp://127.0.0.1:" + std::to_string(dead) + "/ipp/print";
    return w.upsertPrinter(p);
  }));
  spooler::FleetOptions o;
  o.drift_interval = std::chrono::seconds(1);
  auto f = rig.service(o);
  REQUIRE(f->adoptStartupPolicy(parsed(policyText(1)), policyText(1)));
  f->start();
  std::optional<std::string> report;
  REQUIRE(waitFor(
      [&] {
        auto r = f->lastDriftJson();
        if (r && *r) report = **r;
        return report.has_value();
      },
      10s, 50ms));
  f->stop();
  auto j = nlohmann::json::parse(*report);
  CHECK(j["actor"] == "schedule");
  REQUIRE(j["unreachable"].size() == 1);
  CHECK(j["unreachable"][0]["printer"] == "gone");
}

TEST_CASE("[fleet] config values are checked with the file position") {
  auto ok = parseConfig("[fleet]\nconcurrency = 4\ndrift_interval_seconds = 0\n", "c.toml");
  REQUIRE(ok);
  CHECK(ok->fleet_concurrency == 4);
  CHECK(ok->fleet_drift_interval_seconds == 0);
  auto bad = parseConfig("[fleet]\nconcurrency = 0\n", "c.toml");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.status().message(), Catch::Contains("c.toml:1:1: [fleet].concurrency must be"));
  auto unknown = parseConfig("[fleet]\nconcurency = 3\n", "c.toml");
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.status().message(), Catch::Contains("concurency"));
  CHECK_FALSE(parseConfig("[fleet]\ndrift_interval_seconds = 5\n", "c.toml"));
  CHECK(parseConfig(defaultConfigText(), "default.toml"));
}
