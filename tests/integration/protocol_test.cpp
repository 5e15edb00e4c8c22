// Acceptance 5 and 8: HTTP details real IPP clients depend on, and TLS.
//
//   keep-alive          several requests, one connection
//   chunked             a Print-Job whose body is Transfer-Encoding: chunked
//   100-continue        headers with Expect, wait for "100 Continue", then the body
//   TLS                 ipptool Get-Printer-Attributes and Print-Job over
//                       ipps:// (self-signed certificate made with the openssl
//                       CLI), and plain ipp:// on the same port
//   TLS renewal         SIGHUP loads replaced certificate files (the one
//                       served read back with openssl s_client); files that
//                       fail to load change nothing; SIGHUP without TLS
#include <signal.h>
#include <catch2/catch.hpp>

#include <sstream>

#include "tests/integration/harness.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/wait.h"

using namespace pullprint::itest;
using namespace pullprint::testing;

namespace {

std::string printBody(const PullprintServer& srv, const std::string& user, const std::string& doc) {
  Ipp req = Ipp::request(IPP_OP_PRINT_JOB, srv.uri(), user);
  ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               "application/octet-stream");
  return req.encode() + doc;
}

void checkHeld(const PullprintServer& srv, int id, const std::string& sha) {
  REQUIRE(id > 0);
  auto row = jobRow(srv.database(), id);
  REQUIRE(row);
  CHECK(row->state == "held");
  CHECK(row->sha256 == sha);
  CHECK(sha256File(srv.documentPath(id)) == sha);
}

}  // namespace

TEST_CASE("HTTP keep-alive: several requests on one connection", "[protocol]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  RawConn c(srv.port());
  std::string gpa = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, srv.uri()).encode();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(gpa.size())) +
                   gpa));
    HttpResponse r = c.readResponse(10s);
    REQUIRE(r.status == 200);
    CHECK(r.header("connection") != "close");
    Ipp ipp = Ipp::decode(r.body);
    REQUIRE(ipp);
    CHECK(ipp.status() == IPP_STATUS_OK);
  }
  // A Print-Job and then its Get-Job-Attributes, still on the same connection.
  std::string doc = randomBytes(70000, 21);
  std::string body = printBody(srv, "alice", doc);
  REQUIRE(c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(body.size())) +
                 body));
  HttpResponse pr = c.readResponse(10s);
  REQUIRE(pr.status == 200);
  Ipp pj = Ipp::decode(pr.body);
  REQUIRE(pj);
  int id = pj.integer("job-id").value_or(0);
  checkHeld(srv, id, sha256Hex(doc));
  // The document (70 kB, under [spool].journal_max_bytes) went into the
  // document journal with its rows, through the group commit, and so into no
  // spool sync round before them: GET /metrics (no credentials from
  // loopback), same connection.
  REQUIRE(c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  HttpResponse mr = c.readResponse(10s);
  REQUIRE(mr.status == 200);
  CHECK(mr.body.find("\npullprint_journaled_documents_total 1\n") != std::string::npos);
  CHECK(mr.body.find("\npullprint_spool_files_synced_total 0\n") != std::string::npos);
  CHECK(mr.body.find("\npullprint_spool_sync_rounds_total 0\n") != std::string::npos);
  const auto counter = [&](const std::string& name) {
    auto at = mr.body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(mr.body.substr(at + name.size() + 2));
  };
  // The job row, then its document (and maybe already its page counts).
  CHECK(counter("pullprint_store_writes_total") >= 2);
  CHECK(counter("pullprint_store_transactions_total") >= 1);
  CHECK(counter("pullprint_store_transactions_total") <= counter("pullprint_store_writes_total"));
  Ipp gja = Ipp::request(IPP_OP_GET_JOB_ATTRIBUTES, srv.uri(), "alice");
  ippAddInteger(gja.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
  std::string gjaBytes = gja.encode();
  REQUIRE(
      c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(gjaBytes.size())) +
             gjaBytes));
  HttpResponse jr = c.readResponse(10s);
  REQUIRE(jr.status == 200);
  Ipp j = Ipp::decode(jr.body);
  REQUIRE(j);
  CHECK(j.integer("job-state") == 4);
  // Two requests sent back to back (pipelined) are answered in order.
  REQUIRE(
      c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(gpa.size())) + gpa +
             httpHead(srv.port(), "/printers/followme", static_cast<long long>(gjaBytes.size())) +
             gjaBytes));
  HttpResponse p1 = c.readResponse(10s);
  HttpResponse p2 = c.readResponse(10s);
  REQUIRE(p1.status == 200);
  REQUIRE(p2.status == 200);
  CHECK(Ipp::decode(p1.body).has("printer-state"));
  CHECK(Ipp::decode(p2.body).integer("job-id") == id);
}

TEST_CASE("chunked request body", "[protocol]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  std::string doc = randomBytes(200000, 22);
  PostOptions po;
  po.chunked = true;
  PrintResult r = printJob(srv.port(), "alice", doc, "followme", "application/octet-stream", po);
  REQUIRE(r.reply.ipp);
  CHECK(r.reply.ipp.status() == IPP_STATUS_OK);
  checkHeld(srv, r.jobId, sha256Hex(doc));

  // Chunk boundaries inside the IPP header itself (1-byte chunks at first).
  std::string body = printBody(srv, "alice", "tiny chunked document");
  std::string wire = httpHead(srv.port(), "/printers/followme", -1);
  for (size_t i = 0; i < body.size(); ++i) {
    wire += "1\r\n";
    wire += body[i];
    wire += "\r\n";
  }
  wire += "0\r\n\r\n";
  RawConn c(srv.port());
  REQUIRE(c.send(wire));
  HttpResponse h = c.readResponse(10s);
  REQUIRE(h.status == 200);
  Ipp ipp = Ipp::decode(h.body);
  REQUIRE(ipp);
  CHECK(ipp.status() == IPP_STATUS_OK);
  checkHeld(srv, ipp.integer("job-id").value_or(0), sha256Hex("tiny chunked document"));
}

TEST_CASE("Expect: 100-continue", "[protocol]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  std::string doc = randomBytes(120000, 23);
  std::string body = printBody(srv, "alice", doc);
  RawConn c(srv.port());
  REQUIRE(c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(body.size()),
                          "Expect: 100-continue\r\n")));
  HttpResponse cont = c.readResponse(10s);
  REQUIRE(cont.status == 100);
  REQUIRE(c.send(body));
  HttpResponse r = c.readResponse(10s);
  REQUIRE(r.status == 200);
  Ipp ipp = Ipp::decode(r.body);
  REQUIRE(ipp);
  CHECK(ipp.status() == IPP_STATUS_OK);
  checkHeld(srv, ipp.integer("job-id").value_or(0), sha256Hex(doc));

  // The same connection carries on (keep-alive after a 100-continue exchange).
  std::string gpa = Ipp::request(IPP_OP_GET_PRINTER_ATTRIBUTES, srv.uri()).encode();
  REQUIRE(c.send(httpHead(srv.port(), "/printers/followme", static_cast<long long>(gpa.size()),
                          "Expect: 100-continue\r\n")));
  REQUIRE(c.readResponse(10s).status == 100);
  REQUIRE(c.send(gpa));
  HttpResponse g = c.readResponse(10s);
  REQUIRE(g.status == 200);
  CHECK(Ipp::decode(g.body).status() == IPP_STATUS_OK);
}

namespace {

// A self-signed certificate for 127.0.0.1 with common name `cn`, valid for
// `days`, into <dir>/<name>.crt and <dir>/<name>.key.
void makeCertificate(const fs::path& dir, const std::string& name, const std::string& cn,
                     int days = 30) {
  auto gen = runCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                         (dir / (name + ".key")).string(), "-out", (dir / (name + ".crt")).string(),
                         "-days", std::to_string(days), "-subj", "/CN=" + cn, "-addext",
                         "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                        60s);
  REQUIRE(gen.ok());
}

// The subject of the certificate the server presents to a new connection
// (openssl s_client), e.g. "subject=CN = renewed"; "" if no handshake.
std::string presentedSubject(const PullprintServer& srv) {
  auto r = runCommand(
      {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(srv.port())}, 30s);
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("subject=", 0) == 0) return line;
  return "";
}

// A certificate file's notAfter, Unix seconds (openssl x509, then date).
std::int64_t notAfter(const fs::path& crt) {
  auto r = runCommand(
      {"sh", "-c",
       "date -d \"$(openssl x509 -enddate -noout -in '" + crt.string() + "' | cut -d= -f2)\" +%s"});
  REQUIRE(r.ok());
  return std::stoll(r.out);
}

// pullprint_tls_certificate_not_after_seconds from /metrics; -1 if absent.
std::int64_t servedExpiry(const PullprintServer& srv) {
  const std::string metrics = metricsText(srv.port());
  const std::string key = "\npullprint_tls_certificate_not_after_seconds ";
  const auto at = metrics.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + key.size()));
}

}  // namespace

TEST_CASE("TLS: ipps:// with a self-signed certificate, plain ipp:// on the same port",
          "[protocol][tls]") {
  TempDir work("itest-tls");
  makeCertificate(work.path(), "server", "127.0.0.1", 2);
  ServerOptions o;
  o.toml = "[tls]\ncertificate = \"" + (work / "server.crt").string() + "\"\nprivate_key = \"" +
           (work / "server.key").string() + "\"\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());

  // ipptool with an empty client configuration (CUPS_SERVERROOT, HOME): CUPS
  // 2.4 accepts a self-signed server certificate by default (trust on first
  // use; nothing is stored in an empty HOME).
  fs::create_directories(work / "client");
  EnvChanges env;
  env.set = {{"CUPS_SERVERROOT", (work / "client").string()}, {"HOME", (work / "client").string()}};
  writeFile(work / "security.test", R"TEST({
  NAME "Get-Printer-Attributes (uri-security-supported)"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes uri-security-supported,printer-state
  STATUS successful-ok
  EXPECT printer-state
  DISPLAY uri-security-supported
})TEST");

  auto tls =
      runIppTool({"-t", srv.uri("followme", true), (work / "security.test").string()}, 30s, env);
  INFO(tls.describe());
  CHECK(tls.ok());
  CHECK(ippToolValues(tls.out, "uri-security-supported") == std::vector<std::string>{"tls"});

  auto stock = runIppTool(
      {"-t", srv.uri("followme", true), "/usr/share/cups/ipptool/get-printer-attributes.test"}, 30s,
      env);
  INFO(stock.describe());
  CHECK(stock.ok());

  makePdf(work / "tls-doc.pdf", 1);
  auto pj = runIppTool({"-t", "-f", (work / "tls-doc.pdf").string(), srv.uri("followme", true),
                        "/usr/share/cups/ipptool/print-job.test"},
                       30s, env);
  INFO(pj.describe());
  CHECK(pj.ok());
  std::vector<JobRow> rows;
  REQUIRE(waitFor(
      [&] {
        rows = jobRows(srv.database());
        return !rows.empty();
      },
      5s));
  CHECK(rows.back().state == "held");
  CHECK(rows.back().sha256 == sha256File(work / "tls-doc.pdf"));

  // Plain ipp:// on the same port: ipptool, and a raw HTTP client.
  auto plain =
      runIppTool({"-t", srv.uri("followme", false), (work / "security.test").string()}, 30s, env);
  INFO(plain.describe());
  CHECK(plain.ok());
  CHECK(ippToolValues(plain.out, "uri-security-supported") == std::vector<std::string>{"none"});
  CHECK(printerAnswers(srv.port()));
}

TEST_CASE("TLS: SIGHUP loads a renewed certificate; one that fails to load changes nothing",
          "[protocol][tls]") {
  TempDir work("itest-tls-reload");
  makeCertificate(work.path(), "first", "first");
  makeCertificate(work.path(), "renewed", "renewed", 7);  // expires within two weeks
  makeCertificate(work.path(), "other", "other");
  const fs::path crt = work / "server.crt", key = work / "server.key";
  fs::copy_file(work / "first.crt", crt);
  fs::copy_file(work / "first.key", key);
  ServerOptions o;
  o.toml =
      "[tls]\ncertificate = \"" + crt.string() + "\"\nprivate_key = \"" + key.string() + "\"\n";
  PullprintServer srv(o);
  srv.start();
  INFO(srv.describe());
  CHECK(contains(srv.log(), "event=tls.certificate subject=\"/CN=first\""));
  CHECK(servedExpiry(srv) == notAfter(work / "first.crt"));
  CHECK(presentedSubject(srv) == "subject=CN = first");
  CHECK_FALSE(contains(srv.log(), "event=tls.certificate-expiring"));  // 30 days left

  const auto reloads = [&](const std::string& event) {
    std::size_t n = 0;
    std::istringstream lines(srv.log());
    for (std::string line; std::getline(lines, line);)
      if (line.find("event=" + event + " ") != std::string::npos) ++n;
    return n;
  };
  const auto hangUp = [&](const std::string& event, std::size_t before) {
    REQUIRE(::kill(srv.pid(), SIGHUP) == 0);
    REQUIRE(waitFor([&] { return reloads(event) > before; }, 10s));
  };

  // Renewed: both files replaced, as certbot's deploy hook would, then SIGHUP.
  fs::copy_file(work / "renewed.crt", crt, fs::copy_options::overwrite_existing);
  fs::copy_file(work / "renewed.key", key, fs::copy_options::overwrite_existing);
  hangUp("tls.reloaded", 0);
  CHECK(contains(srv.log(), "event=tls.reloaded subject=\"/CN=renewed\""));
  CHECK(servedExpiry(srv) == notAfter(work / "renewed.crt"));
  CHECK(presentedSubject(srv) == "subject=CN = renewed");
  CHECK(contains(srv.log(), "event=tls.certificate-expiring subject=\"/CN=renewed\""));

  SECTION("a certificate whose key was not replaced with it is refused") {
    fs::copy_file(work / "other.crt", crt, fs::copy_options::overwrite_existing);
    hangUp("tls.reload-failed", 0);
    CHECK(contains(srv.log(), "does not match the certificate"));
  }
  SECTION("a file that is not a certificate is refused") {
    writeFile(crt, "not a certificate\n");
    hangUp("tls.reload-failed", 0);
  }
  // Either way the renewed certificate stays in use, and the server serves.
  CHECK(presentedSubject(srv) == "subject=CN = renewed");
  CHECK(servedExpiry(srv) == notAfter(work / "renewed.crt"));
  CHECK(printerAnswers(srv.port()));
  CHECK(srv.running());
}

TEST_CASE("SIGHUP without TLS: logged, and the server keeps serving", "[protocol]") {
  PullprintServer srv;
  srv.start();
  INFO(srv.describe());
  REQUIRE(::kill(srv.pid(), SIGHUP) == 0);
  REQUIRE(waitFor([&] { return contains(srv.log(), "event=server.reload tls=false"); }, 10s));
  CHECK(servedExpiry(srv) == -1);  // no certificate, no gauge
  CHECK(printerAnswers(srv.port()));
  CHECK(srv.running());
}

TEST_CASE("pullprintd --check-config loads the [tls] files as the server would",
          "[protocol][tls]") {
  TempDir work("itest-check-config");
  makeCertificate(work.path(), "a", "checked");
  makeCertificate(work.path(), "b", "other");
  const auto check = [&](const fs::path& crt, const fs::path& key) {
    writeFile(work / "c.toml", "[tls]\ncertificate = \"" + crt.string() + "\"\nprivate_key = \"" +
                                   key.string() + "\"\n");
    return runCommand({PULLPRINTD_PATH, "--check-config", (work / "c.toml").string()}, 30s);
  };

  auto good = check(work / "a.crt", work / "a.key");
  INFO(good.describe());
  CHECK(good.exitCode == 0);
  CHECK(contains(good.out, "certificate /CN=checked, expires "));
  CHECK(contains(good.out, "c.toml: ok"));

  // A renewal half done: the new certificate, the old key.
  auto mismatch = check(work / "b.crt", work / "a.key");
  INFO(mismatch.describe());
  CHECK(mismatch.exitCode == 2);
  CHECK(contains(mismatch.err, "does not match the certificate"));
  CHECK_FALSE(contains(mismatch.out, ": ok"));

  auto missing = check(work / "none.crt", work / "a.key");
  INFO(missing.describe());
  CHECK(missing.exitCode == 2);
  CHECK(contains(missing.err, "none.crt"));

  // And what it checked before: the file itself.
  writeFile(work / "typo.toml", "[server]\nidle_timeout_secs = 30\n");
  auto typo = runCommand({PULLPRINTD_PATH, "--check-config", (work / "typo.toml").string()}, 30s);
  INFO(typo.describe());
  CHECK(typo.exitCode == 2);
  CHECK(contains(typo.err, "typo.toml:2:1: unknown key 'idle_timeout_secs'"));
}
