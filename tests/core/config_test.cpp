#include <catch2/catch.hpp>

#include "core/config.h"

using namespace pullprint;

TEST_CASE("empty config gives the documented defaults") {
  auto c = parseConfig("", "t.toml");
  REQUIRE(c.isOk());
  CHECK(c->listen_host == "127.0.0.1");
  CHECK(c->listen_port == 8631);
  CHECK(c->hold_timeout_seconds == 86400);
  CHECK(c->trusted_sources == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  CHECK(c->max_document_bytes == 512LL << 20);
  CHECK(c->shutdown_grace_seconds == 10);
  CHECK(c->retention_job_details_days == 0);
  CHECK(c->analysis_priority == "background");
  CHECK(c->journal_max_bytes == 256 * 1024);
  CHECK(c->journal_sync_delay_ms == 100);
}

TEST_CASE("the embedded default file parses to the defaults") {
  auto c = parseConfig(defaultConfigText(), "default");
  REQUIRE(c.isOk());
  CHECK(c->listen_port == 8631);
}

TEST_CASE("config values are read") {
  auto c = parseConfig(R"(
[server]
listen = "0.0.0.0:9100"
threads = 4
shutdown_grace_seconds = 0
[retention]
job_details_days = 90
[ipp]
trusted_sources = ["10.0.0.0/8"]
max_document_bytes = 1000
[hold]
timeout_seconds = 3600
[analysis]
priority = "normal"
[spool]
journal_max_bytes = 0
journal_sync_delay_ms = 250
[[queue]]
name = "lib-1"
printer_uri = "ipp://printer.example/ipp/print"
location = "Library"
)",
                       "t.toml");
  REQUIRE(c.isOk());
  CHECK(c->listen_host == "0.0.0.0");
  CHECK(c->listen_port == 9100);
  CHECK(c->threads == 4);
  CHECK(c->shutdown_grace_seconds == 0);
  CHECK(c->retention_job_details_days == 90);
  CHECK(c->trusted_sources == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(c->max_document_bytes == 1000);
  CHECK(c->hold_timeout_seconds == 3600);
  CHECK(c->analysis_priority == "normal");
  CHECK(c->journal_max_bytes == 0);
  CHECK(c->journal_sync_delay_ms == 250);
  REQUIRE(c->queues.size() == 1);
  CHECK(c->queues[0].name == "lib-1");
  CHECK(c->queues[0].location == "Library");
}

TEST_CASE("config errors name the file, line and problem") {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[server]\nlisen = \"x\"\n", "t.toml:2:1: unknown key 'lisen' in [server]"},
      {"[servr]\n", "t.toml:1:2: unknown section 'servr'"},
      {"[server]\nthreads = \"two\"\n", "t.toml:2:11: [server].threads must be an integer"},
      {"[server]\nlisten = \"nohost\"\n", "t.toml:2:10: listen address must be HOST:PORT"},
      {"[hold]\ntimeout_seconds = 5\n", "[hold].timeout_seconds must be at least 60"},
      {"[server]\nshutdown_grace_seconds = -1\n", "[server].shutdown_grace_seconds must be 0-3600"},
      {"[server]\nshutdown_grace_seconds = 3601\n",
       "[server].shutdown_grace_seconds must be 0-3600"},
      {"[retention]\njob_details_days = -1\n", "[retention].job_details_days must be 0..36500"},
      {"[retention]\nkeep = 1\n", "unknown key 'keep' in [retention]"},
      {"[spool]\njournal_max_bytes = -1\n", "[spool].journal_max_bytes must be 0..16777216"},
      {"[spool]\njournal_max_bytes = 16777217\n", "[spool].journal_max_bytes must be 0..16777216"},
      {"[spool]\njournal_sync_delay_ms = 5\n",
       "[spool].journal_sync_delay_ms must be 10..3600000"},
      {"[analysis]\npriority = \"idle\"\n",
       "t.toml:1:1: [analysis].priority must be \"background\" or \"normal\""},
      {"[[queue]]\nname = \"bad name\"\nprinter_uri = \"ipp://x\"\n", "[[queue]].name must be"},
      {"[[queue]]\nname = \"followme\"\nprinter_uri = \"ipp://x\"\n",
       "queue name 'followme' is used twice"},
      {"[[queue]]\nname = \"a\"\nprinter_uri = \"http://x\"\n",
       "printer_uri must start with ipp://"},
      {"[queue]\nname = \"a\"\n", "t.toml:1:1: use [[queue]] for queues"},
      {"queue = [1]\n", "t.toml:1:10: [[queue]] entries must be tables"},
      {"[printer]\nname = \"p\"\n", "t.toml:1:1: use [[printer]] for printers"},
      {"printer = [\"p\"]\n", "t.toml:1:12: [[printer]] entries must be tables"},
      {"[[printer]]\nname = \"p\"\nuri = \"ipp://x\"\nmodel = \"m\"\n",
       "t.toml:4:1: unknown key 'model' in [[printer]]"},
      {"[[printer]]\nname = \"p q\"\nuri = \"ipp://x\"\n", "[[printer]].name must be"},
      {"[[printer]]\nname = \"p/q\"\nuri = \"ipp://x\"\n", "[[printer]].name must be"},
      {"[[printer]]\nname = \"p\"\nuri = \"lpd://x\"\n",
       "[[printer]].uri must start with ipp:// or ipps://"},
      {"[[printer]]\nname = \"p\"\nuri = \"ipp://x\"\n[[printer]]\nname = \"p\"\nuri = "
       "\"ipp://y\"\n",
       "t.toml:4:1: printer name 'p' is used twice"},
      {"[reports]\nfactor = 1\n", "t.toml:2:10: use [[reports.factor]] for report factors"},
      {"[tls]\ncertificate = \"a.pem\"\n", "[tls] needs both certificate and private_key"},
      {"[server\n", "t.toml:1:"},
  };
  for (const auto& k : cases) {
    INFO(k.text);
    auto c = parseConfig(k.text, "t.toml");
    REQUIRE_FALSE(c.isOk());
    CHECK_THAT(c.status().message(), Catch::Contains(k.expect));
  }
}

TEST_CASE("printer and queue names: 1-127 of A-Z a-z 0-9 _ -") {
  auto printer = [](const std::string& name) {
    return parseConfig("[[printer]]\nname = \"" + name + "\"\nuri = \"ipp://x\"\n", "t.toml");
  };
  auto ok = printer("Lib_1-" + std::string(121, 'a'));  // 127 characters
  REQUIRE(ok.isOk());
  CHECK(ok->printers.at(0).name.size() == 127);
  CHECK_FALSE(printer(std::string(128, 'a')).isOk());
  CHECK_FALSE(printer("").isOk());
  CHECK_FALSE(printer("..").isOk());
  auto queue = parseConfig(
      "[[queue]]\nname = \"" + std::string(127, 'q') + "\"\nprinter_uri = \"ipp://x\"\n", "t.toml");
  CHECK(queue.isOk());
}

TEST_CASE("parseListen") {
  std::string host;
  std::uint16_t port = 0;
  CHECK(parseListen("127.0.0.1:631", &host, &port).isOk());
  CHECK(host == "127.0.0.1");
  CHECK(port == 631);
  CHECK(parseListen("[::1]:0", &host, &port).isOk());
  CHECK(host == "::1");
  CHECK(port == 0);
  CHECK_FALSE(parseListen("127.0.0.1:70000", &host, &port).isOk());
  CHECK_FALSE(parseListen("127.0.0.1:", &host, &port).isOk());
}

TEST_CASE("[api]: defaults, values and errors") {
  auto d = parseConfig("", "t.toml");
  REQUIRE(d.isOk());
  CHECK(d->session_idle_seconds == 1800);
  CHECK(d->session_lifetime_seconds == 43200);
  CHECK(d->token_max_lifetime_days == 365);
  CHECK(d->login_failures_per_window == 5);
  CHECK(d->login_failure_window_seconds == 300);
  CHECK(d->metrics_allow == std::vector<std::string>{"127.0.0.0/8", "::1/128"});

  auto c = parseConfig(R"(
[api]
session_idle_seconds = 600
session_lifetime_seconds = 3600
token_max_lifetime_days = 30
login_failures_per_window = 3
login_failure_window_seconds = 60
metrics_allow = ["10.1.0.0/16"]
)",
                       "t.toml");
  REQUIRE(c.isOk());
  CHECK(c->session_idle_seconds == 600);
  CHECK(c->session_lifetime_seconds == 3600);
  CHECK(c->token_max_lifetime_days == 30);
  CHECK(c->login_failures_per_window == 3);
  CHECK(c->login_failure_window_seconds == 60);
  CHECK(c->metrics_allow == std::vector<std::string>{"10.1.0.0/16"});

  for (const char* bad :
       {"[api]\nsession_idle_seconds = 10\n",
        "[api]\nsession_idle_seconds = 600\nsession_lifetime_seconds = 300\n",
        "[api]\ntoken_max_lifetime_days = 0\n", "[api]\nlogin_failures_per_window = 0\n",
        "[api]\nmetrics_allow = [\"not-an-address\"]\n", "[api]\nsesion_idle_seconds = 600\n"}) {
    INFO(bad);
    auto e = parseConfig(bad, "t.toml");
    REQUIRE_FALSE(e.isOk());
    CHECK(e.status().message().find("t.toml:") == 0);
    CHECK(e.status().message().find("[api]") != std::string::npos);
  }
}

TEST_CASE("[reports] factors: defaults, replacement and errors") {
  auto d = parseConfig("", "t.toml");
  REQUIRE(d.isOk());
  REQUIRE(d->report_factors.size() == 4);
  CHECK(d->report_factors[1].key == "co2e_g");
  CHECK(d->report_factors[1].per_sheet == 12.7);
  for (const auto& f : d->report_factors) CHECK_FALSE(f.source.empty());

  auto c = parseConfig(R"(
[reports]
[[reports.factor]]
key = "water_l"
unit = "l"
per_sheet = 0.5
source = "Supplier declaration 2025"
[[reports.factor]]
key = "co2e_g"
unit = "g CO2e"
per_sheet = 4
source = "Recycled paper, supplier LCA"
)",
                       "r.toml");
  REQUIRE(c.isOk());
  REQUIRE(c->report_factors.size() == 2);  // replaces the defaults
  CHECK(c->report_factors[0].key == "water_l");
  CHECK(c->report_factors[0].per_sheet == 0.5);
  CHECK(c->report_factors[1].per_sheet == 4.0);  // integers are accepted
  CHECK(c->report_factors[1].source == "Recycled paper, supplier LCA");

  for (const char* bad : {
           "[reports]\nfactors = 1\n",
           "[reports]\nfactor = 1\n",
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = 1\n",  // no source
           "[[reports.factor]]\nkey = \"X Y\"\nunit = \"u\"\nper_sheet = 1\nsource = \"s\"\n",
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = -1\nsource = \"s\"\n",
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = \"1\"\nsource = \"s\"\n",
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = 1\nsource = \"s\"\nwat "
           "= "
           "1\n",
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = 1\nsource = \"s\"\n"
           "[[reports.factor]]\nkey = \"x\"\nunit = \"u\"\nper_sheet = 2\nsource = \"s\"\n",
       }) {
    INFO(bad);
    auto r = parseConfig(bad, "bad.toml");
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().message().rfind("bad.toml:", 0) == 0);
  }
}
