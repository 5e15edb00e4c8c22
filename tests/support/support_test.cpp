// Tests of pullprint's test-support library against the real programs:
// dbus-daemon, ippeveprinter, cupsd, the CUPS tools, ipptool, Ghostscript.
// Every test waits for conditions with deadlines (no fixed sleeps) and stops
// every process it starts through RAII, also when an assertion fails.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/private_dbus.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

using namespace pullprint::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

long msSince(Clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// First child of `parent` whose command name (/proc/PID/comm) is `comm`; 0 if none.
pid_t childNamed(pid_t parent, const std::string& comm) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = readFile(e.path() / "stat");
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > stat.size())
      continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && stat.substr(open + 1, close - open - 1) == comm) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

// An ipptool Print-Job test with job template attributes given as variables.
const char* kPrintJobTest = R"({
  NAME "print with sides/color/copies"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $requser
  ATTR name job-name $title
  ATTR mimeMediaType document-format application/pdf
  GROUP job-attributes-tag
  ATTR keyword sides $sides
  ATTR keyword print-color-mode $color
  ATTR integer copies $copies
  FILE $filename
  STATUS successful-ok
  DISPLAY job-id
}
)";

}  // namespace

// ---- TempDir, ports, waiting ------------------------------------------------

TEST_CASE("TempDir is created private and removed on destruction", "[support][tempdir]") {
  std::filesystem::path p;
  {
    TempDir dir("support-test");
    p = dir.path();
    REQUIRE(std::filesystem::is_directory(p));
    CHECK(p.parent_path() == "/tmp");
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    std::filesystem::create_directories(dir / "a" / "b");
    writeFile(dir / "a" / "b" / "f.txt", "hello");
    CHECK(readFile(dir / "a" / "b" / "f.txt") == "hello");
    TempDir moved = std::move(dir);
    CHECK(moved.path() == p);
  }
  if (!TempDir::keepRequested()) CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("pickFreePort, waitForTcpPort and waitFor", "[support][wait]") {
  const auto port = pickFreePort();
  CHECK(port > 0);
  CHECK_FALSE(tcpPortOpen(port));
  CHECK_FALSE(waitForTcpPort(port, 100ms));

  // A real listener, started by a child, shows up.
  TempDir dir("support-test");
  ProcessOptions lo;
  lo.logDir = dir.path();
  lo.logName = "listener";
  lo.argv = {"/usr/bin/python3", "-c",
             "import socket,time\n"
             "s=socket.socket()\n"
             "s.bind(('127.0.0.1'," +
                 std::to_string(port) +
                 "))\n"
                 "s.listen(5)\n"
                 "time.sleep(60)\n"};
  Process listener(std::move(lo));
  CHECK(waitForTcpPort(port, 5000ms));

  const auto t0 = Clock::now();
  CHECK_FALSE(waitFor([] { return false; }, 150ms, 10ms));
  const long waited = msSince(t0);
  CHECK(waited >= 150);
  CHECK(waited < 1000);
  int calls = 0;
  CHECK(waitFor([&] { return ++calls == 3; }, 2000ms, 1ms));
  CHECK(calls == 3);
}

// ---- Process and runCommand -------------------------------------------------

TEST_CASE("Process logs output, reports its pid and stops its whole group", "[support][process]") {
  TempDir dir("support-test");
  ProcessOptions po;
  po.argv = {"sh", "-c",
             "echo to-stdout; echo to-stderr >&2; echo \"$PP_TEST_VAR\"; "
             "sleep 30 & echo $! > grandchild.pid; wait"};
  po.env.set = {{"PP_TEST_VAR", "from-env"}};
  po.logDir = dir.path();
  po.logName = "shell";
  po.workDir = dir.path();
  Process p(std::move(po));
  INFO(p.describe());
  REQUIRE(p.pid() > 0);
  CHECK(::getpgid(p.pid()) == p.pid());  // own process group
  REQUIRE(waitFor([&] { return !readFile(dir / "grandchild.pid").empty(); }, 5000ms));
  const pid_t grandchild = std::stoi(readFile(dir / "grandchild.pid"));
  CHECK(processRunning(grandchild));
  CHECK(p.running());
  CHECK(p.stdoutText() == "to-stdout\nfrom-env\n");
  CHECK(p.stderrText() == "to-stderr\n");

  p.terminate(2000ms);
  CHECK_FALSE(p.running());
  CHECK(p.termSignal().value_or(0) == SIGTERM);
  CHECK(waitFor([&] { return !processRunning(grandchild); }, 2000ms));
  p.terminate();  // idempotent
}

TEST_CASE("Process escalates to SIGKILL when SIGTERM is ignored", "[support][process]") {
  Process p(std::vector<std::string>{"sh", "-c", "trap '' TERM; sleep 30"});
  REQUIRE(p.running());
  // Give sh time to install the trap: wait until its /proc status shows TERM ignored.
  REQUIRE(waitFor(
      [&] {
        std::ifstream in("/proc/" + std::to_string(p.pid()) + "/status");
        std::string line;
        while (std::getline(in, line)) {
          if (line.rfind("SigIgn:", 0) == 0) {
            return (std::stoull(line.substr(7), nullptr, 16) & (1ull << (SIGTERM - 1))) != 0;
          }
        }
        return false;
      },
      5000ms, 5ms));
  const auto t0 = Clock::now();
  p.terminate(300ms);
  const long took = msSince(t0);
  CHECK(p.termSignal().value_or(0) == SIGKILL);
  CHECK(took >= 300);
  CHECK(took < 3000);
}

TEST_CASE("Process kill() and destructor stop the child", "[support][process]") {
  pid_t pid;
  {
    Process p(std::vector<std::string>{"sleep", "30"});
    pid = p.pid();
    CHECK(processRunning(pid));
    Process moved = std::move(p);
    CHECK(moved.pid() == pid);
    CHECK(p.pid() == -1);
  }
  CHECK_FALSE(processRunning(pid));

  Process p(std::vector<std::string>{"sleep", "30"});
  p.kill();
  CHECK(p.termSignal().value_or(0) == SIGKILL);
  CHECK_FALSE(p.running());
}

TEST_CASE("Process reports a program that cannot be executed", "[support][process]") {
  CHECK_THROWS_WITH(Process(std::vector<std::string>{"pullprint-no-such-program"}),
                    Catch::Contains("not found"));
  CHECK_THROWS_WITH(Process(std::vector<std::string>{"/etc/hostname"}),
                    Catch::Contains("not found") || Catch::Contains("execute"));
}

TEST_CASE("runCommand captures output and exit code, feeds stdin, honours env", "[support][run]") {
  CommandResult r = runCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5000ms);
  CHECK(r.exitCode == 3);
  CHECK_FALSE(r.ok());
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");

  RunOptions ro;
  ro.stdinData = std::string(200000, 'x');  // more than a pipe buffer
  r = runCommand({"wc", "-c"}, 5000ms, ro);
  CHECK(r.ok());
  CHECK(r.out.find("200000") != std::string::npos);

  RunOptions env;
  env.env.set = {{"PP_A", "1"}};
  env.env.unset = {"HOME"};
  r = runCommand({"sh", "-c", "echo \"${PP_A}-${HOME:-nohome}\""}, 5000ms, env);
  CHECK(r.out == "1-nohome\n");

  // stdin is /dev/null, not the test's stdin.
  r = runCommand({"cat"}, 5000ms);
  CHECK(r.ok());
  CHECK(r.out.empty());
}

TEST_CASE("runCommand kills the group at the timeout", "[support][run]") {
  const auto t0 = Clock::now();
  CommandResult r = runCommand({"sh", "-c", "sleep 30 & sleep 30"}, 300ms);
  CHECK(r.timedOut);
  CHECK(r.termSignal == SIGKILL);
  CHECK(msSince(t0) < 3000);

  // A leader that exits while a grandchild holds stdout open: bounded too.
  const auto t1 = Clock::now();
  r = runCommand({"sh", "-c", "echo early; sleep 30 &"}, 10000ms);
  CHECK(r.exitCode == 0);
  CHECK(r.out == "early\n");
  CHECK(msSince(t1) < 3000);
}

// ---- PrivateDbus and ippeveprinter's need for it ------------------------------

TEST_CASE("ippeveprinter -r off still needs a D-Bus system bus", "[support][dbus][ippeve]") {
  RunOptions ro;
  ro.env.set = {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/pullprint-no-bus"}};
  const auto port = pickFreePort();
  // Its own spool directory: without -d ippeveprinter makes /tmp/ippeveprinter.PID
  // and, when it fails at start, leaves it behind.
  TempDir dir("support-test");
  std::filesystem::create_directories(dir / "spool");
  CommandResult r = runCommand({"ippeveprinter", "-n", "localhost", "-r", "off", "-p",
                                std::to_string(port), "-d", (dir / "spool").string(), "pp-nobus"},
                               10000ms, ro);
  INFO(r.describe());
  CHECK_FALSE(r.timedOut);
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("Unable to initialize DNS-SD.") != std::string::npos);
}

TEST_CASE("PrivateDbus starts a private bus that answers", "[support][dbus]") {
  const auto t0 = Clock::now();
  PrivateDbus bus;
  std::cerr << "[timing] dbus-daemon ready in " << msSince(t0) << " ms\n";
  INFO(bus.address());
  CHECK(bus.address().rfind("unix:path=" + (bus.dir() / "bus.sock").string(), 0) == 0);
  CHECK(bus.running());
  CommandResult r = runCommand(
      {"dbus-send", "--bus=" + bus.address(), "--print-reply", "--dest=org.freedesktop.DBus",
       "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames"},
      5000ms);
  INFO(r.describe());
  CHECK(r.ok());
  CHECK(r.out.find("org.freedesktop.DBus") != std::string::npos);
  const pid_t pid = bus.pid();
  bus.stop();
  CHECK_FALSE(processRunning(pid));
}

// ---- Documents ---------------------------------------------------------------

TEST_CASE("makePdf and makePostScript produce distinct multi-page documents", "[support][docs]") {
  TempDir dir("support-test");
  makePdf(dir / "a.pdf", 3);
  makePdf(dir / "b.pdf", 3);
  makePostScript(dir / "c.ps", 2);
  CHECK(readFile(dir / "a.pdf").rfind("%PDF-", 0) == 0);
  CHECK(readFile(dir / "c.ps").rfind("%!PS", 0) == 0);
  CHECK(readFile(dir / "a.pdf") != readFile(dir / "b.pdf"));
  CommandResult n = runCommand({"qpdf", "--show-npages", (dir / "a.pdf").string()}, 10000ms);
  CHECK(n.out == "3\n");
  // Pages differ in content: the text of page 2 is in the file.
  CommandResult t = runCommand({"gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=txtwrite",
                                "-o", "-", (dir / "a.pdf").string()},
                               20000ms);
  CHECK(t.out.find("a page 2 of 3") != std::string::npos);
}

// ---- IppEvePrinter ---------------------------------------------------------------

TEST_CASE("IppEvePrinter receives and records jobs", "[support][ippeve]") {
  const auto t0 = Clock::now();
  IppEvePrinter printer;
  std::cerr << "[timing] ippeveprinter (incl. its dbus-daemon) ready in " << msSince(t0) << " ms\n";
  INFO(printer.describe());
  REQUIRE(printer.running());
  CHECK(printer.uri() == "ipp://127.0.0.1:" + std::to_string(printer.port()) + "/ipp/print");

  // Conformance basics with the stock ipptool test file.
  CommandResult attrs = runIppTool(
      {"-t", printer.uri(), "/usr/share/cups/ipptool/get-printer-attributes.test"}, 15000ms);
  INFO(attrs.describe());
  CHECK(attrs.ok());

  TempDir work("support-test");
  makePdf(work / "doc.pdf", 2);
  writeFile(work / "print.test", kPrintJobTest);
  CommandResult r =
      runIppTool({"-t", "-f", (work / "doc.pdf").string(), "-d", "requser=alice", "-d",
                  "title=report", "-d", "sides=two-sided-long-edge", "-d", "color=monochrome", "-d",
                  "copies=2", printer.uri(), (work / "print.test").string()},
                 15000ms);
  INFO(r.describe());
  REQUIRE(r.ok());

  REQUIRE(printer.waitForJobs(1, 10000ms));
  auto jobs = printer.receivedJobs();
  REQUIRE(jobs.size() == 1);
  const ReceivedJob& j = jobs[0];
  CHECK(j.jobId == 1);
  CHECK(j.user == "alice");
  CHECK(j.jobName == "report");
  CHECK(j.format == "application/pdf");
  CHECK(j.sides == "two-sided-long-edge");
  CHECK(j.sidesDefault == "one-sided");
  CHECK(j.colorMode == "monochrome");
  CHECK(j.copies == 2);
  CHECK(j.bytes == std::filesystem::file_size(work / "doc.pdf"));
  CHECK(readFile(j.file) == readFile(work / "doc.pdf"));
  REQUIRE(printer.receivedFiles().size() == 1);
  CHECK(printer.receivedFiles()[0] == j.file);

  // The printer vanishes: port closed, pid gone; then it comes back on the same port.
  const pid_t pid = printer.pid();
  const auto port = printer.port();
  printer.kill();
  CHECK_FALSE(printer.running());
  CHECK_FALSE(processRunning(pid));
  CHECK_FALSE(tcpPortOpen(port));
  printer.restart();
  CHECK(printer.port() == port);
  CHECK(tcpPortOpen(port));
  CHECK(printer.pid() != pid);
}

TEST_CASE("IppEvePrinter is busy while a job is processing", "[support][ippeve]") {
  IppEvePrinterOptions o;
  o.printDelay = 1500ms;
  IppEvePrinter printer(o);
  INFO(printer.describe());
  TempDir work("support-test");
  makePdf(work / "doc.pdf", 1);
  writeFile(work / "print.test", kPrintJobTest);
  auto submit = [&] {
    return runIppTool({"-t", "-f", (work / "doc.pdf").string(), "-d", "requser=bob", "-d",
                       "title=t", "-d", "sides=one-sided", "-d", "color=monochrome", "-d",
                       "copies=1", printer.uri(), (work / "print.test").string()},
                      15000ms);
  };
  CommandResult first = submit();
  INFO(first.describe());
  REQUIRE(first.ok());
  REQUIRE(printer.waitForJobs(1, 5000ms));  // recorded, now sleeping in the print command
  CommandResult second = submit();
  INFO(second.describe());
  CHECK_FALSE(second.ok());
  CHECK(second.out.find("server-error-busy") != std::string::npos);
}

// ---- PrivateCupsd ------------------------------------------------------------------

TEST_CASE("PrivateCupsd prints through a real queue to ippeveprinter", "[support][cupsd]") {
  const auto t0 = Clock::now();
  PrivateCupsd cups;
  std::cerr << "[timing] cupsd ready (lpstat -r) in " << msSince(t0) << " ms\n";
  IppEvePrinter printer;
  INFO(cups.describe());
  INFO(printer.describe());

  // Environment isolation: the tools see only our scheduler.
  CommandResult r = cups.runTool({"lpstat", "-H"});
  CHECK(r.out == cups.server() + "\n");

  const auto t1 = Clock::now();
  cups.addQueue("direct", printer.uri());
  std::cerr << "[timing] lpadmin -m everywhere + PPD generated in " << msSince(t1) << " ms\n";
  CHECK(cups.printerState("direct") == "idle");

  TempDir work("support-test");
  makePdf(work / "doc.pdf", 2);
  const auto t2 = Clock::now();
  const int id =
      cups.lp("direct", work / "doc.pdf", {{"sides", "two-sided-long-edge"}}, "carol", "quarterly");
  CHECK(id > 0);
  REQUIRE(printer.waitForJobs(1, 20000ms));
  std::cerr << "[timing] lp -> ippeveprinter received in " << msSince(t2) << " ms\n";
  auto jobs = printer.receivedJobs();
  CHECK(jobs[0].user == "carol");
  CHECK(jobs[0].jobName == "quarterly");
  CHECK(jobs[0].sides == "two-sided-long-edge");
  CHECK(jobs[0].format == "application/pdf");
  CHECK(readFile(jobs[0].file).rfind("%PDF-", 0) == 0);
  const auto t4 = Clock::now();
  CHECK(cups.waitForJobState(id, "completed", 20000ms));
  std::cerr << "[timing] ...CUPS job completed " << msSince(t4) << " ms after arrival\n";

  // PostScript goes through filters that run as lp (proves the directory permissions).
  makePostScript(work / "doc.ps", 1);
  const auto t5 = Clock::now();
  const int psId = cups.lp("direct", work / "doc.ps");
  REQUIRE(printer.waitForJobs(2, 30000ms));
  std::cerr << "[timing] PostScript lp -> (gstopdf, pdftopdf as lp) -> received in " << msSince(t5)
            << " ms\n";
  CHECK(printer.receivedJobs()[1].format == "application/pdf");
  CHECK(cups.waitForJobState(psId, "completed", 20000ms));
  CHECK(cups.waitUntilIdle(10000ms));

  // A held queue: the job waits in CUPS until released.
  cups.addQueue("held", printer.uri(), {"everywhere", {{"job-hold-until-default", "indefinite"}}});
  const int heldId = cups.lp("held", work / "doc.pdf", {}, "dave");
  REQUIRE(cups.waitForJobState(heldId, "pending-held", 10000ms));
  CHECK(cups.jobStatus(heldId).reasons.find("job-hold-until-specified") != std::string::npos);
  CHECK(cups.waitUntilIdle(5000ms));  // held jobs do not count as activity
  CHECK(printer.receivedJobCount() == 2);
  cups.release(heldId);
  REQUIRE(printer.waitForJobs(3, 20000ms));
  CHECK(printer.receivedJobs()[2].user == "dave");
  CHECK(cups.waitForJobState(heldId, "completed", 20000ms));

  // cancel and an unknown job.
  const int cancelId = cups.lp("held", work / "doc.pdf");
  REQUIRE(cups.waitForJobState(cancelId, "pending-held", 10000ms));
  cups.cancel(cancelId);
  CHECK(cups.waitForJobState(cancelId, "canceled", 10000ms));
  CHECK(cups.jobState(99999).empty());

  const pid_t pid = cups.pid();
  const auto t3 = Clock::now();
  cups.stop();
  std::cerr << "[timing] cupsd stop (SIGTERM -> exit) in " << msSince(t3) << " ms\n";
  CHECK_FALSE(processRunning(pid));
}

TEST_CASE("lpadmin -m everywhere with an unreachable device gives a queue without PPD",
          "[support][cupsd]") {
  PrivateCupsd cups;
  INFO(cups.describe());
  const std::string uri =
      "ipp://127.0.0.1:" + std::to_string(pickFreePort()) + "/printers/followme";
  QueueOptions q;
  q.waitForDriver = false;
  cups.addQueue("later", uri, q);  // lpadmin exits 0
  CHECK(cups.printerState("later") == "idle");
  // ...but cupsd could not generate the PPD: it logs the failure and keeps a PPD-less queue.
  CHECK(waitFor(
      [&] {
        return readFile(cups.errorLogPath()).find("later: Unable to connect") != std::string::npos;
      },
      10000ms));
  CommandResult r = cups.runTool({"lpoptions", "-p", "later", "-l"});
  INFO(r.describe());
  CHECK(r.out.empty());
  CHECK(r.err.find("Not Found") != std::string::npos);
  // A job on that queue keeps CUPS's ipp backend retrying; the backend runs in
  // a process group of its own, and stop() must still take it down.
  TempDir work("support-test");
  makePdf(work / "doc.pdf", 1);
  const int id = cups.lp("later", work / "doc.pdf");
  CHECK(id > 0);
  pid_t backend = 0;
  REQUIRE(waitFor([&] { return (backend = childNamed(cups.pid(), "ipp")) > 0; }, 10000ms));
  CHECK(::getpgid(backend) != cups.pid());

  // And addQueue with waitForDriver reports it.
  q.waitForDriver = true;
  q.timeout = 1500ms;
  CHECK_THROWS_WITH(cups.addQueue("later2", uri, q), Catch::Contains("no IPP Everywhere PPD"));

  cups.stop();
  CHECK_FALSE(processRunning(backend));
}

TEST_CASE("CUPS queue defaults: -o sides works, -o sides-default does not (DESIGN.md pitfall)",
          "[support][cupsd][pitfall]") {
  PrivateCupsd cups;
  IppEvePrinter printer;
  INFO(cups.describe());
  INFO(printer.describe());
  TempDir work("support-test");
  makePdf(work / "doc.pdf", 1);

  cups.addQueue("driverdefault", printer.uri(), {"everywhere", {{"sides", "two-sided-long-edge"}}});
  cups.lp("driverdefault", work / "doc.pdf");
  REQUIRE(printer.waitForJobs(1, 20000ms));
  CHECK(printer.receivedJobs()[0].effectiveSides() == "two-sided-long-edge");
  REQUIRE(cups.waitUntilIdle(10000ms));

  cups.addQueue("ippdefault", printer.uri(),
                {"everywhere", {{"sides-default", "two-sided-long-edge"}}});
  cups.lp("ippdefault", work / "doc.pdf");
  REQUIRE(printer.waitForJobs(2, 20000ms));
  CHECK(printer.receivedJobs()[1].effectiveSides() == "one-sided");
  REQUIRE(cups.waitUntilIdle(10000ms));

  // -o sides given in the same lpadmin that creates an everywhere queue is
  // lost: the PPD it maps onto is generated only after lpadmin returns.
  QueueOptions oneStep{"everywhere", {{"sides", "two-sided-long-edge"}}};
  oneStep.waitForDriver = false;
  cups.addQueue("onestep", printer.uri(), oneStep);
  REQUIRE(waitFor(
      [&] {
        return !cups.runTool({"lpoptions", "-p", "onestep", "-l"}).out.empty();
      },
      10000ms));
  cups.lp("onestep", work / "doc.pdf");
  REQUIRE(printer.waitForJobs(3, 20000ms));
  CHECK(printer.receivedJobs()[2].effectiveSides() == "one-sided");
}
