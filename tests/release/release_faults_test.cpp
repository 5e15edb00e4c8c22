// Release engine faults, with real printers that fail for real:
//  - printer down before the release: the job goes back on hold with the
//    reason, and prints at another printer;
//  - printer killed mid-transfer (a TcpProxy stalls the line once the
//    document is flowing, then the printer is SIGKILLed): back on hold,
//    spool file intact, prints byte-identical once the printer is back;
//  - pullprintd SIGKILLed while the printer is printing, and while the
//    document is in flight: after a restart on the same state directory the
//    job is never sent twice;
//  - a printer that lacks the job's format: refused before anything is sent;
//  - a document missing from the spool, before the release or gone between
//    the check and Send-Document: held as document-access-error, never
//    blamed on the printer;
//  - a damaged spool file: written again from the document journal when its
//    copy is there, else held, never printed.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/release/release_support.h"
#include "tests/release/tcp_proxy.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/wait.h"

using namespace pullprint;
using namespace pullprint::rtest;
using testing::IppEvePrinter;
using testing::IppEvePrinterOptions;
using testing::TempDir;

namespace {

const std::string kAlice = "alice:alice-password";

std::string printerToml(const std::string& name, const std::string& uri) {
  return "[[printer]]\nname = \"" + name + "\"\nuri = \"" + uri + "\"\n\n";
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::function<bool(const json&)> heldWithReason(const std::string& reason) {
  return [reason](const json& j) {
    return j["state"] == "held" && contains(j.value("state_reasons", ""), reason);
  };
}

// pullprintd polling its printers every 50 ms, configured with `toml`
// (printers, queues, ...), with user alice; started.
class FaultServer : public ReleaseServer {
 public:
  explicit FaultServer(const std::string& toml) : ReleaseServer(options(toml)) {
    addUser("alice", "alice-password");
    start();
  }

 private:
  static ReleaseServerOptions options(const std::string& toml) {
    ReleaseServerOptions so;
    so.toml = "[release]\npoll_interval_ms = 50\n\n" + toml;
    return so;
  }
};

// POST /api/v1/release of one job to `printer` as alice.
HttpResult release(const ReleaseServer& server, const std::string& printer, std::int64_t id) {
  return releaseJobs(server.port(), kAlice, printer, "alice", {id});
}

std::int64_t submit(ReleaseServer& server, const fs::path& file, const std::string& format) {
  IppJobOptions o;
  o.format = format;
  IppResult r = ippPrintJob(server.port(), file, o);
  INFO("Print-Job: " << r.status << " " << r.message);
  REQUIRE(r.ok());
  REQUIRE(r.jobId > 0);
  json held = waitJob(server.port(), kAlice, r.jobId, stateIs("held"));
  REQUIRE(held["state"] == "held");
  return r.jobId;
}

// A printer that takes application/octet-stream, for large random documents.
IppEvePrinterOptions octetStreamPrinter() {
  IppEvePrinterOptions po;
  po.formats = {"application/pdf", "application/octet-stream"};
  return po;
}

// `size` random bytes, to be sent as application/octet-stream. ippeveprinter
// types such data by its first bytes and refuses what it cannot recognise,
// so it starts like a PDF.
void writeOctetStreamDocument(const fs::path& path, size_t size, std::uint32_t seed) {
  writeRandomFile(path, size, seed);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.write("%PDF-1.4\n", 9);
}

// Releases `id` to `printer_name` and checks that it printed there once,
// byte for byte `original`.
void releaseAndExpectPrinted(const ReleaseServer& server, const IppEvePrinter& printer,
                             const std::string& printer_name, std::int64_t id,
                             const fs::path& original) {
  REQUIRE(release(server, printer_name, id).status == 200);
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"), 60s);
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  REQUIRE(printer.receivedJobCount() == 1);
  CHECK(sha256File(printer.receivedJobs()[0].file) == sha256File(original));
}

// Releases job `id` to `printer_name` and expects it back on hold with
// `reason` and a message containing `message`, before any request reached
// the printer (not even Create-Job).
void expectHeldBeforePrinter(const ReleaseServer& server, const IppEvePrinter& printer,
                             const std::string& printer_name, std::int64_t id,
                             const std::string& reason, const std::string& message) {
  REQUIRE(release(server, printer_name, id).status == 200);
  json back = waitJob(server.port(), kAlice, id, heldWithReason(reason));
  INFO("job: " << back.dump());
  REQUIRE(back["state"] == "held");
  CHECK(contains(back["state_message"], message));
  CHECK(back["printer_job_id"] == 0);
  CHECK(back["usage"].empty());
  auto ids = printerJobIds(printer.uri());
  REQUIRE(ids.has_value());
  CHECK(ids->empty());
}

// The set-up of the tests that break something while a big document is on
// its way: a held 30 MiB application/octet-stream job of alice's, and
// printer "eve" (ippeveprinter) behind a proxy that can stall the line.
struct BigDocumentRelease {
  IppEvePrinter printer{octetStreamPrinter()};
  TcpProxy proxy{printer.port()};
  FaultServer server{printerToml("eve", proxy.uri())};
  TempDir work;
  fs::path big;
  std::int64_t id = 0;

  BigDocumentRelease(const std::string& dir, std::uint32_t seed)
      : work(dir), big(work / "big.bin") {
    writeOctetStreamDocument(big, 30u << 20, seed);
    id = submit(server, big, "application/octet-stream");
  }

  // Releases the job at eve; returns once more than 1 MiB of the document
  // has passed the proxy, with the line stalled there.
  void releaseAndStallAfterOneMebibyte() {
    // Shared with the hook: the proxy may still be running a copy of it
    // after this returns.
    auto tripped = std::make_shared<std::atomic<bool>>(false);
    proxy.setDocumentHook([this, tripped](const ProxiedRequest& r) {
      if (r.op == kOpSendDocument && r.document_bytes > (1u << 20) && !tripped->exchange(true))
        proxy.stall(true);
    });
    REQUIRE(release(server, "eve", id).status == 200);
    REQUIRE(testing::waitFor([&] { return tripped->load(); }, 20s));
    proxy.setDocumentHook(nullptr);
  }
};

}  // namespace

TEST_CASE("printer down before the release: back on hold with the reason, then prints elsewhere",
          "[release][faults]") {
  IppEvePrinter down, spare;
  FaultServer server(printerToml("eve1", down.uri()) + printerToml("eve2", spare.uri()));
  INFO(server.describe());

  TempDir work("release-down");
  testing::makePdf(work / "doc.pdf", 1);
  auto id = submit(server, work / "doc.pdf", "application/pdf");

  down.kill();  // the printer vanishes (registered while it was up)
  HttpResult rel = release(server, "eve1", id);
  REQUIRE(rel.status == 200);
  json back = waitJob(server.port(), kAlice, id, heldWithReason("printer-unreachable"));
  INFO("job: " << back.dump());
  REQUIRE(back["state"] == "held");
  CHECK(contains(back["state_message"], "unreachable"));
  CHECK(contains(back["state_message"], "eve1"));
  CHECK(back["usage"].empty());
  CHECK(sha256File(server.documentPath(id)) == back["sha256"].get<std::string>());

  rel = release(server, "eve2", id);
  REQUIRE(rel.status == 200);
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  CHECK(done["printer"] == "eve2");
  REQUIRE(spare.receivedJobCount() == 1);
  CHECK(sha256File(spare.receivedJobs()[0].file) == sha256File(work / "doc.pdf"));
  CHECK(contains(spare.receivedJobs()[0].jobName, "(pullprint " + std::to_string(id) + ".2)"));
  REQUIRE(done["usage"].size() == 1);
  CHECK(done["usage"][0]["printer"] == "eve2");
}

TEST_CASE("printer killed mid-transfer: back on hold, nothing lost, prints once it is back",
          "[release][faults]") {
  BigDocumentRelease t("release-midway", 42);
  auto& [printer, proxy, server, work, big, id] = t;
  INFO(server.describe() << printer.describe());
  const std::string sha = sha256File(big);
  CHECK(sha256File(server.documentPath(id)) == sha);

  // Once 1 MiB of the document has passed, stop the line; then the printer dies.
  t.releaseAndStallAfterOneMebibyte();
  printer.kill();
  proxy.cutAll();
  proxy.stall(false);

  json back = waitJob(server.port(), kAlice, id, heldWithReason("printer-unreachable"));
  INFO("job: " << back.dump());
  REQUIRE(back["state"] == "held");
  CHECK(contains(back["state_message"], "failed while receiving"));
  CHECK(printer.receivedJobCount() == 0);
  // Nothing lost: the spool file is there, byte for byte.
  CHECK(sha256File(server.documentPath(id)) == sha);
  CHECK(back["sha256"] == sha);

  // The printer comes back on the same port: release again, it prints in full.
  printer.restart();
  REQUIRE(release(server, "eve", id).status == 200);
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"), 60s);
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  REQUIRE(printer.receivedJobCount() == 1);
  CHECK(sha256File(printer.receivedJobs()[0].file) == sha);
  CHECK(done["usage"].size() == 1);
}

TEST_CASE("pullprintd killed while the printer prints: after restart the job completes once",
          "[release][faults][exactly-once]") {
  IppEvePrinterOptions po;
  po.printDelay = 3000ms;  // the job stays "processing" at the printer this long
  IppEvePrinter printer(po);
  FaultServer server(printerToml("eve", printer.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-crash");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  REQUIRE(release(server, "eve", id).status == 200);

  // The document is at the printer, which is still printing it; pullprint tracks it.
  REQUIRE(printer.waitForJobs(1, 20s));
  json printing = waitJob(server.port(), kAlice, id, stateIs("printing"), 10s);
  REQUIRE(printing["state"] == "printing");
  REQUIRE(printing["printer_job_id"].get<std::int64_t>() > 0);

  server.kill9();
  server.start();  // same state directory and port; reconcile() runs first

  json done = waitJob(server.port(), kAlice, id, stateIs("completed"), 30s);
  INFO("job: " << done.dump() << "\n" << server.log());
  REQUIRE(done["state"] == "completed");
  CHECK(done["printer_job_id"] == printing["printer_job_id"]);
  CHECK(done["usage"].size() == 1);
  // Exactly one copy at the printer; and no second Create-Job reached it.
  CHECK(printer.receivedJobCount() == 1);
  auto ids = printerJobIds(printer.uri());
  REQUIRE(ids.has_value());
  CHECK(ids->size() == 1);
}

TEST_CASE("pullprintd killed while the document is in flight: held after restart, sent once",
          "[release][faults][exactly-once]") {
  IppEvePrinter printer;
  TcpProxy proxy(printer.port());
  FaultServer server(printerToml("eve", proxy.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-inflight");
  testing::makePdf(work / "doc.pdf", 2);
  const std::string sha = sha256File(work / "doc.pdf");
  auto id = submit(server, work / "doc.pdf", "application/pdf");

  // Stall the line at the first document byte: Create-Job is done and its job
  // id stored, the document has not arrived.
  std::atomic<bool> tripped{false};
  proxy.setDocumentHook([&](const ProxiedRequest& r) {
    if (r.op == kOpSendDocument && !tripped.exchange(true)) proxy.stall(true);
  });
  REQUIRE(release(server, "eve", id).status == 200);
  REQUIRE(testing::waitFor([&] { return tripped.load(); }, 20s));
  json sending = getJob(server.port(), kAlice, id);
  INFO("before the kill: " << sending.dump());
  CHECK(sending["state"] == "sending");
  CHECK(sending["printer_job_id"].get<std::int64_t>() > 0);  // durable before the first byte

  server.kill9();
  proxy.cutAll();  // the half-sent request dies with the server's connection
  proxy.stall(false);
  proxy.setDocumentHook(nullptr);
  server.start();

  // Recovery asks the printer first: the job did not print there, so it is
  // held again (never re-sent on its own).
  json back = waitJob(server.port(), kAlice, id, [](const json& j) {
    return j["state"] == "held" || j["state"] == "completed";
  });
  INFO("after restart: " << back.dump() << "\n" << server.log());
  REQUIRE(back["state"] == "held");
  CHECK(printer.receivedJobCount() == 0);
  CHECK(sha256File(server.documentPath(id)) == sha);

  // Released again it prints exactly once.
  REQUIRE(release(server, "eve", id).status == 200);
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  REQUIRE(done["state"] == "completed");
  REQUIRE(printer.receivedJobCount() == 1);
  CHECK(sha256File(printer.receivedJobs()[0].file) == sha);
  CHECK(done["usage"].size() == 1);
}

TEST_CASE("a printer without the job's format is refused before anything is sent",
          "[release][faults][format]") {
  IppEvePrinterOptions po;
  po.formats = {"application/pdf"};
  IppEvePrinter printer(po);
  FaultServer server(printerToml("pdfonly", printer.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-format");
  testing::writeFile(work / "note.txt", "a plain text note\nsecond line\n");
  auto id = submit(server, work / "note.txt", "text/plain");

  expectHeldBeforePrinter(server, printer, "pdfonly", id, "document-format-not-supported",
                          "cannot print text/plain");
  CHECK(fs::exists(server.documentPath(id)));
}

TEST_CASE("a job whose document left the spool stays held, and prints once the file is back",
          "[release][faults][spool]") {
  IppEvePrinter printer;
  FaultServer server(printerToml("eve1", printer.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-missing");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  // The file disappears behind the server's back (an unmounted or
  // half-restored spool directory).
  fs::rename(server.documentPath(id), work / "kept.doc");

  expectHeldBeforePrinter(server, printer, "eve1", id, "document-access-error",
                          "missing from the print server's spool");
  CHECK(contains(server.log(), "event=release.document-missing"));

  fs::rename(work / "kept.doc", server.documentPath(id));
  releaseAndExpectPrinted(server, printer, "eve1", id, work / "doc.pdf");
}

namespace {

// Flips bytes in the middle of a spool file, size unchanged: what a failed
// write-back or a bad disk can leave.
void damage(const fs::path& file) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  const auto size = static_cast<std::streamoff>(fs::file_size(file));
  REQUIRE(size > 64);
  f.seekp(size / 2);
  f.write("DAMAGED!", 8);
}

}  // namespace

TEST_CASE("a damaged spool file is written again from the document journal, and prints as sent",
          "[release][faults][spool]") {
  IppEvePrinter printer;
  // The background sync never comes during the test: the document's copy
  // stays in the journal, as after a failed sync.
  FaultServer server(printerToml("eve1", printer.uri()) +
                     "[spool]\njournal_sync_delay_ms = 3600000\n");
  INFO(server.describe() << printer.describe());

  TempDir work("release-damaged");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  damage(server.documentPath(id));
  REQUIRE(sha256File(server.documentPath(id)) != sha256File(work / "doc.pdf"));

  releaseAndExpectPrinted(server, printer, "eve1", id, work / "doc.pdf");
  CHECK(contains(server.log(), "event=release.document-restored"));
  const std::string metrics = httpRequest(server.port(), "GET", "/metrics").body;
  CHECK(contains(metrics, "\npullprint_documents_damaged_total 1\n"));
  CHECK(contains(metrics, "\npullprint_documents_restored_total 1\n"));
}

TEST_CASE("a damaged spool file with no journal copy keeps its job held, never printed",
          "[release][faults][spool]") {
  IppEvePrinter printer;
  // Every document synced before its row: nothing is kept in the journal.
  FaultServer server(printerToml("eve1", printer.uri()) + "[spool]\njournal_max_bytes = 0\n");
  INFO(server.describe() << printer.describe());

  TempDir work("release-damaged-nocopy");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  fs::copy_file(server.documentPath(id), work / "kept.doc");
  damage(server.documentPath(id));

  expectHeldBeforePrinter(server, printer, "eve1", id, "document-access-error",
                          "damaged in the print server's spool");
  CHECK(contains(server.log(), "event=release.document-damaged"));
  const std::string metrics = httpRequest(server.port(), "GET", "/metrics").body;
  CHECK(contains(metrics, "\npullprint_documents_damaged_total 1\n"));
  CHECK(contains(metrics, "\npullprint_documents_restored_total 0\n"));

  // Repaired, it prints.
  fs::copy_file(work / "kept.doc", server.documentPath(id), fs::copy_options::overwrite_existing);
  releaseAndExpectPrinted(server, printer, "eve1", id, work / "doc.pdf");
}

TEST_CASE("a document that leaves the spool after the check is a spool fault, not the printer's",
          "[release][faults][spool]") {
  IppEvePrinter printer;
  TcpProxy proxy(printer.port());
  FaultServer server(printerToml("eve1", proxy.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-vanish");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  // The engine has checked the spool and decided to send when its Create-Job
  // reaches the proxy: the file goes away at exactly that moment.
  std::atomic<bool> moved{false};
  proxy.setOperationHook([&](int op) {
    if (op == kOpCreateJob && !moved.exchange(true))
      fs::rename(server.documentPath(id), work / "kept.doc");
  });

  REQUIRE(release(server, "eve1", id).status == 200);
  json back = waitJob(server.port(), kAlice, id, heldWithReason("document-access-error"));
  INFO("job: " << back.dump());
  REQUIRE(moved.load());
  REQUIRE(back["state"] == "held");
  CHECK(contains(back["state_message"], "missing from the print server's spool"));
  CHECK_FALSE(contains(back["state_message"], "printer eve1"));
  CHECK(back["usage"].empty());
  CHECK(printer.receivedJobCount() == 0);
  CHECK(contains(server.log(), "event=release.document-missing"));

  // Restored, it prints.
  proxy.setOperationHook(nullptr);
  fs::rename(work / "kept.doc", server.documentPath(id));
  releaseAndExpectPrinted(server, printer, "eve1", id, work / "doc.pdf");
}

TEST_CASE("a spool file that shrinks while it is sent is never sent short",
          "[release][faults][spool]") {
  BigDocumentRelease t("release-shrink", 7);
  auto& [printer, proxy, server, work, big, id] = t;
  INFO(server.describe() << printer.describe());

  // Once 1 MiB has passed, hold the line, cut the spool file to 1 byte (a
  // damaged spool), then let the line go on.
  t.releaseAndStallAfterOneMebibyte();
  fs::resize_file(server.documentPath(id), 1);
  proxy.stall(false);

  json back = waitJob(server.port(), kAlice, id, heldWithReason("document-access-error"));
  INFO("job: " << back.dump());
  REQUIRE(back["state"] == "held");
  CHECK(contains(back["state_message"], "got shorter"));
  CHECK(back["usage"].empty());
  CHECK(printer.receivedJobCount() == 0);
  CHECK(contains(server.log(), "event=release.document-unreadable"));

  // Repaired, it prints in full.
  fs::copy_file(big, server.documentPath(id), fs::copy_options::overwrite_existing);
  releaseAndExpectPrinted(server, printer, "eve", id, big);
}

TEST_CASE("IPP Release-Job after a failed attempt sends under a new attempt number",
          "[release][faults][queue]") {
  IppEvePrinter printer;
  FaultServer server(
      "[ipp]\nadmin_users = [\"boss\"]\n\n[[queue]]\nname = \"q1\"\nprinter_uri = \"" +
      printer.uri() + "\"\n");
  INFO(server.describe() << printer.describe());

  TempDir work("release-attempts");
  testing::makePdf(work / "doc.pdf", 1);
  IppJobOptions o;
  o.queue = "q1";
  IppResult submitted = ippPrintJob(server.port(), work / "doc.pdf", o);
  REQUIRE(submitted.ok());
  const auto id = submitted.jobId;
  REQUIRE(waitJob(server.port(), kAlice, id, stateIs("held"))["state"] == "held");

  printer.kill();
  REQUIRE(ippReleaseJob(server.port(), "q1", id, "boss").ok());
  json back = waitJob(server.port(), kAlice, id, heldWithReason("printer-unreachable"));
  REQUIRE(back["state"] == "held");

  printer.restart();
  REQUIRE(ippReleaseJob(server.port(), "q1", id, "boss").ok());
  json done = waitJob(server.port(), kAlice, id, stateIs("completed"));
  INFO("job: " << done.dump());
  REQUIRE(done["state"] == "completed");
  REQUIRE(printer.receivedJobCount() == 1);
  // Attempt 1 failed; the printer-side name of the second send must differ
  // from the first, or crash recovery could mistake one for the other.
  CHECK(contains(printer.receivedJobs()[0].jobName, "(pullprint " + std::to_string(id) + ".2)"));
}

TEST_CASE("a printer that refuses the document at Send-Document: held as refused, not unreachable",
          "[release][faults][format]") {
  IppEvePrinterOptions po;
  po.formats = {"application/pdf", "application/octet-stream"};  // auto-typing printer
  IppEvePrinter printer(po);
  FaultServer server(printerToml("eve", printer.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-refused");
  writeRandomFile(work / "blob.bin", 64 << 10, 7);  // nothing ippeveprinter can recognise
  auto id = submit(server, work / "blob.bin", "application/octet-stream");
  REQUIRE(release(server, "eve", id).status == 200);
  json back = waitJob(server.port(), kAlice, id, heldWithReason("job-refused-by-printer"));
  INFO("job: " << back.dump());
  REQUIRE(back["state"] == "held");
  CHECK_FALSE(contains(back["state_reasons"], "printer-unreachable"));
  CHECK(contains(back["state_message"], "refused the document"));
  CHECK(printer.receivedJobCount() == 0);
  CHECK(sha256File(server.documentPath(id)) == sha256File(work / "blob.bin"));
}

TEST_CASE("a job cancelled while the printer prints it is cancelled at the printer too",
          "[release][faults][cancel]") {
  IppEvePrinterOptions po;
  po.printDelay = 8000ms;  // long enough to cancel while "processing"
  IppEvePrinter printer(po);
  FaultServer server(printerToml("eve", printer.uri()));
  INFO(server.describe() << printer.describe());

  TempDir work("release-cancel-printing");
  testing::makePdf(work / "doc.pdf", 2);
  auto id = submit(server, work / "doc.pdf", "application/pdf");
  REQUIRE(release(server, "eve", id).status == 200);
  json printing = waitJob(server.port(), kAlice, id, stateIs("printing"), 20s);
  REQUIRE(printing["state"] == "printing");
  const int pjid = printing["printer_job_id"].get<int>();

  IppResult cancelled = ippCancelJob(server.port(), "followme", id, "alice");
  INFO(cancelled.message);
  REQUIRE(cancelled.ok());

  // The printer's copy ends cancelled (7), not completed (9). ippeveprinter
  // keeps a cancelled job "processing-to-stop-point" until its print command ends.
  auto start = std::chrono::steady_clock::now();
  int state = 0;
  while (std::chrono::steady_clock::now() - start < 20s) {
    auto states = printerJobStates(printer.uri());
    if (states && states->count(pjid)) state = states->at(pjid);
    if (state >= 7) break;
    std::this_thread::sleep_for(50ms);
  }
  INFO(server.log());
  CHECK(state == 7);  // IPP job-state canceled
  json after = getJob(server.port(), kAlice, id);
  CHECK(after["state"] == "canceled");
  CHECK(after["usage"].empty());  // nothing accounted as printed
  CHECK(server.log().find("event=release.cancelled-at-printer") != std::string::npos);
}
