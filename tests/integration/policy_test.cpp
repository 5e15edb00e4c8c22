// Policies end to end: a policy file loaded by pullprintd decides sides and
// colour at submission and at release (with the chosen printer's
// capabilities), and a denied job's message reaches the client through
// CUPS's own ipptool. Real pullprintd, real ippeveprinter printers.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include "tests/integration/harness.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

std::string basic(const std::string& userpass) {
  std::string out(4 * ((userpass.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(userpass.data()),
                          static_cast<int>(userpass.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

HttpResponse apiPost(std::uint16_t port, const std::string& path, const std::string& body) {
  RawConn c(port);
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " +
                    basic("admin:secret") + "\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  REQUIRE(c.send(req));
  return c.readResponse(20s);
}

// Print-Job through ipptool (a real IPP client) with the given job-name and
// print-color-mode; returns ipptool's output.
CommandResult ipptoolPrint(const fs::path& dir, const std::string& uri, const fs::path& pdf,
                           const std::string& job_name, const std::string& color) {
  fs::path test = dir / ("print-" + job_name + ".test");
  writeFile(test, R"({
  NAME "Print-Job under policy"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name alice
  ATTR name job-name $jobname
  ATTR mimeMediaType document-format application/pdf
  GROUP job-attributes-tag
  ATTR keyword print-color-mode $color
  FILE $filename
  STATUS successful-ok
  STATUS client-error-attributes-or-values-not-supported
  DISPLAY job-id
  DISPLAY status-message
})");
  return runIppTool({"-t", "-d", "jobname=" + job_name, "-d", "color=" + color, "-f", pdf.string(),
                     uri, test.string()},
                    30s);
}

}  // namespace

TEST_CASE("policy decides sides and colour at submit and release; deny reaches ipptool") {
  IppEvePrinterOptions duplex_opts;
  duplex_opts.name = "duplex";
  IppEvePrinter duplex(duplex_opts);
  IppEvePrinterOptions simplex_opts;
  simplex_opts.name = "simplex";
  simplex_opts.duplex = false;
  IppEvePrinter simplex(simplex_opts);

  TempDir work("pullprint-policy");
  fs::path policy = work / "policy.toml";
  writeFile(policy, R"(version = 1
[defaults]
sides = "two-sided-long-edge"
color_mode = "monochrome"

[[rule]]
name = "no-spreadsheets"
document_name = "*.xlsx"
deny = "Spreadsheets are not printed here: export what you need as PDF."

[[rule]]
name = "mono-everything"
force_monochrome = true
)");
  ServerOptions o;
  o.toml = "[release]\npoll_interval_ms = 100\n[policy]\nfile = \"" + policy.string() +
           "\"\n[[printer]]\nname = \"duplex\"\nuri = \"" + duplex.uri() +
           "\"\n[[printer]]\nname = \"simplex\"\nuri = \"" + simplex.uri() + "\"\n";
  PullprintServer server(o);
  server.start();
  server.addUser("admin", "secret", "admin");
  fs::path pdf = work / "three.pdf";
  makePdf(pdf, 3, "policy");

  SECTION("colour asked for, policy forces monochrome and defaults to two-sided") {
    auto out = ipptoolPrint(work.path(), server.uri(), pdf, "report.pdf", "color");
    INFO(out.describe());
    REQUIRE(out.exitCode == 0);
    auto ids = ippToolValues(out.out, "job-id");
    REQUIRE(ids.size() == 1);
    auto r = apiPost(server.port(), "/api/v1/release", R"({"printer":"duplex","user":"alice"})");
    REQUIRE(r.status == 200);
    REQUIRE(duplex.waitForJobs(1, 20s));
    auto got = duplex.receivedJobs().at(0);
    CHECK(got.effectiveSides() == "two-sided-long-edge");
    CHECK(got.effectiveColorMode() == "monochrome");
    CHECK(sha256File(got.file) == sha256File(pdf));
    // The decision, with the rule that made it, is kept with the job.
    auto row = jobRow(server.database(), std::stoi(ids[0]));
    REQUIRE(row);
    CHECK_THAT(server.log(), Catch::Contains("color_mode=monochrome(rule:mono-everything)"));
  }

  SECTION("a simplex printer is never asked for duplex") {
    auto out = ipptoolPrint(work.path(), server.uri(), pdf, "notes.pdf", "monochrome");
    REQUIRE(out.exitCode == 0);
    auto r = apiPost(server.port(), "/api/v1/release", R"({"printer":"simplex","user":"alice"})");
    REQUIRE(r.status == 200);
    REQUIRE(simplex.waitForJobs(1, 20s));
    auto got = simplex.receivedJobs().at(0);
    CHECK(got.effectiveSides() == "one-sided");
    CHECK_THAT(server.log(), Catch::Contains("sides=one-sided(printer-capabilities)"));
  }

  SECTION("a denied job gets the policy's message and is recorded, never queued") {
    auto out = ipptoolPrint(work.path(), server.uri(), pdf, "budget.xlsx", "auto");
    INFO(out.describe());
    CHECK_THAT(out.out, Catch::Contains("Spreadsheets are not printed here"));
    CHECK(ippToolValues(out.out, "job-id").empty());
    bool found = false;
    for (const auto& row : jobRows(server.database()))
      if (row.state == "aborted") found = true;
    CHECK(found);
    auto r = apiPost(server.port(), "/api/v1/release", R"({"printer":"duplex","user":"alice"})");
    CHECK(r.status == 404);  // nothing held to release
    CHECK(duplex.receivedJobs().empty());
  }
}
