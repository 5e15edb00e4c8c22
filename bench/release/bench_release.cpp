// bench_release: release latency, pullprint against cupsd, to the first byte
// of the document at the printer.
//
// One real printer (ippeveprinter, print command returns at once) sits behind
// a timestamping TCP proxy (tests/release/tcp_proxy.h). The proxy reads the
// HTTP/IPP requests going to the printer and records when the first byte of
// document data (after the IPP end-of-attributes tag) arrives, and when the
// printer answered each request.
//
// pullprint: N_JOBS held jobs are written straight into a fresh store before
// pullprintd starts (one prepared INSERT per row in one transaction; every
// job already analysed; spool files are hard links of one 1-page PDF, one
// copy per 10,000 jobs), spread over N_USERS owners. Then, one at a time:
// POST /api/v1/release (admin on behalf of the owner, one job) -> first
// document byte at the proxy. The next release starts when the previous job
// is completed (printer idle).
//
// cupsd: a private cupsd, queue `-m everywhere` whose device is the same proxy
// URI, job-hold-until-default=indefinite, with the same PDF submitted with lp.
// Then, one at a time: IPP Release-Job (libcups, in process, like the
// pullprint client) -> first document byte at the proxy; next when the cupsd
// job is completed. cupsd holds only the jobs of the benchmark (it is not
// given 100,000 jobs: that takes far too long through lp), which favours it.
//
// Figures per side: end to end (request sent -> first document byte at the
// printer), request answered (release call returned), and server time = end
// to end minus the time the printer took to answer the requests it got in
// that window (e.g. Create-Job, or cupsd's Get-Printer-Attributes/Validate-Job):
// what the server itself spent, loopback hops included.
//
//   bench_release [--jobs N] [--users U] [--releases R] [--warmup W]
//                 [--poll-ms MS] [--skip-cupsd] [--markdown FILE]
//
// Exit status: 0 ran (targets reported, not enforced); 1 a release failed;
// 2 start-up error. Must run as root (cupsd).
#include <cups/cups.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/release/release_support.h"
#include "tests/release/tcp_proxy.h"
#include "tests/support/ipp_eve_printer.h"
#include "tests/support/ipp_tool.h"
#include "tests/support/private_cupsd.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace pullprint::bench {
namespace {

using namespace std::chrono_literals;
using rtest::json;
using rtest::ProxiedRequest;
using rtest::SteadyTime;
using rtest::TcpProxy;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Options {
  int jobs = 100000;
  int users = 1000;
  int releases = 200;
  int warmup = 5;
  int pollMs = 50;
  bool cupsd = true;
  std::string markdown;
};

struct Sample {
  double e2e_ms = 0;       // release request sent -> first document byte at the printer
  double answered_ms = 0;  // release request sent -> its response read
  double printer_ms = 0;   // printer's own answer time inside that window
  double server_ms() const { return e2e_ms - printer_ms; }
};

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

struct Summary {
  std::string name;
  int n = 0;
  double e2e50, e2e99, srv50, srv99, ans50, ans99, prn50;
};

Summary summarize(const std::string& name, const std::vector<Sample>& s) {
  std::vector<double> e, sv, a, p;
  for (const auto& x : s) {
    e.push_back(x.e2e_ms);
    sv.push_back(x.server_ms());
    a.push_back(x.answered_ms);
    p.push_back(x.printer_ms);
  }
  return {name,
          static_cast<int>(s.size()),
          percentile(e, 0.5),
          percentile(e, 0.99),
          percentile(sv, 0.5),
          percentile(sv, 0.99),
          percentile(a, 0.5),
          percentile(a, 0.99),
          percentile(p, 0.5)};
}

// Waits for the first request after index `from` that carries document data;
// fills the sample's printer time from the requests in [from, that one].
bool measureAtPrinter(const TcpProxy& proxy, size_t from, SteadyTime t0, Sample* s) {
  std::optional<SteadyTime> doc;
  bool ok = proxy.waitFor(
      [&](const std::vector<ProxiedRequest>& rs) {
        for (size_t i = from; i < rs.size(); ++i)
          if (rs[i].first_document_byte) return true;
        return false;
      },
      30s);
  if (!ok) return false;
  auto rs = proxy.requests();
  for (size_t i = from; i < rs.size(); ++i) {
    if (rs[i].first_document_byte) {
      doc = rs[i].first_document_byte;
      break;
    }
  }
  s->e2e_ms = ms(*doc - t0);
  s->printer_ms = 0;
  for (size_t i = from; i < rs.size(); ++i) {
    const auto& r = rs[i];
    if (r.head >= *doc) break;
    if (r.body_complete && r.response && *r.response <= *doc)
      s->printer_ms += ms(*r.response - *r.body_complete);
  }
  return true;
}

// --- Store population -------------------------------------------------------

bool exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "sqlite: " << (err ? err : "?") << " in " << sql << "\n";
    sqlite3_free(err);
    return false;
  }
  return true;
}

std::string owner(int id, int users) { return "u" + std::to_string(id % users); }

// Writes `jobs` held, analysed jobs of one 1-page PDF into the store and
// hard-links the PDF as each job's spool file.
bool populate(const fs::path& database, const fs::path& spool, const fs::path& pdf, int jobs,
              int users) {
  const std::string sha = rtest::sha256File(pdf);
  const auto size = static_cast<sqlite3_int64>(fs::file_size(pdf));
  sqlite3* db = nullptr;
  if (sqlite3_open(database.c_str(), &db) != SQLITE_OK) return false;
  const auto now = static_cast<sqlite3_int64>(std::time(nullptr));
  bool ok = exec(db, "PRAGMA journal_mode=WAL") && exec(db, "BEGIN");
  sqlite3_stmt* job = nullptr;
  sqlite3_stmt* doc = nullptr;
  ok = ok && sqlite3_prepare_v2(db,
                                "INSERT INTO jobs (id, queue, owner, source_address, name, format, "
                                "size_bytes, sha256, document_count, copies, sides, color_mode, "
                                "ticket, state, state_reasons, state_message, created_at, "
                                "hold_expires_at, pages, impressions, sheets, "
                                "last_document_received, impressions_total, count_confidence, "
                                "count_note) VALUES (?1, 'followme', ?2, '127.0.0.1', ?3, "
                                "'application/pdf', ?4, ?5, 1, 1, 'one-sided', 'auto', '{}', "
                                "'held', 'job-hold-until-specified', '', ?6, ?7, 1, 1, 1, 1, 1, "
                                "'exact', 'bench')",
                                -1, &job, nullptr) == SQLITE_OK;
  ok = ok && sqlite3_prepare_v2(db,
                                "INSERT INTO documents (job_id, number, format, name, size_bytes, "
                                "sha256, pages) VALUES (?1, 1, 'application/pdf', 'bench.pdf', ?2, "
                                "?3, 1)",
                                -1, &doc, nullptr) == SQLITE_OK;
  for (int id = 1; ok && id <= jobs; ++id) {
    std::string who = owner(id, users);
    std::string name = "bench job " + std::to_string(id);
    sqlite3_bind_int64(job, 1, id);
    sqlite3_bind_text(job, 2, who.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(job, 3, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(job, 4, size);
    sqlite3_bind_text(job, 5, sha.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(job, 6, now);
    sqlite3_bind_int64(job, 7, now + 7 * 86400);
    ok = sqlite3_step(job) == SQLITE_DONE;
    sqlite3_reset(job);
    sqlite3_bind_int64(doc, 1, id);
    sqlite3_bind_int64(doc, 2, size);
    sqlite3_bind_text(doc, 3, sha.c_str(), -1, SQLITE_TRANSIENT);
    ok = ok && sqlite3_step(doc) == SQLITE_DONE;
    sqlite3_reset(doc);
    // ext4 allows 65,000 links per inode: one copy of the PDF per 10,000 jobs.
    fs::path source = spool.parent_path() / ("bench-source-" + std::to_string(id / 10000) + ".pdf");
    if (ok && (id == 1 || id % 10000 == 0)) {
      std::error_code ec;
      fs::copy_file(pdf, source, fs::copy_options::overwrite_existing, ec);
      ok = !ec;
    }
    char file[48];
    std::snprintf(file, sizeof file, "%08d-1.doc", id);
    if (ok && ::link(source.c_str(), (spool / file).c_str()) != 0) {
      std::cerr << "link " << (spool / file) << ": " << std::strerror(errno) << "\n";
      ok = false;
    }
  }
  sqlite3_finalize(job);
  sqlite3_finalize(doc);
  ok = ok && exec(db, "COMMIT");
  sqlite3_close(db);
  return ok;
}

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// --- pullprint ---------------------------------------------------------------

int runPullprint(const Options& o, TcpProxy& proxy, const fs::path& pdf, std::vector<Sample>* out) {
  rtest::ReleaseServerOptions so;
  so.logLevel = "info";
  so.toml = "[release]\npoll_interval_ms = " + std::to_string(o.pollMs) +
            "\n\n[[printer]]\nname = \"eve\"\nuri = \"" + proxy.uri() + "\"\n";
  rtest::ReleaseServer server(so);
  const std::string auth = "admin:bench-password";
  server.addUser("admin", "bench-password", "admin");  // also creates and migrates the store

  auto t = Steady::now();
  fs::create_directories(server.stateDir() / "spool");
  ::chmod((server.stateDir() / "spool").c_str(), 0700);
  if (!populate(server.database(), server.stateDir() / "spool", pdf, o.jobs, o.users)) {
    std::cerr << "populating the store failed\n";
    return 2;
  }
  std::printf("store: %d held jobs, %d owners, written in %.1f s\n", o.jobs, o.users,
              ms(Steady::now() - t) / 1000);

  t = Steady::now();
  server.start(120s);
  std::printf("pullprintd start with %d held jobs (recovery + reconcile): %.0f ms\n", o.jobs,
              ms(Steady::now() - t));

  const int total = o.warmup + o.releases;
  const int stride = std::max(1, o.jobs / total);
  for (int k = 0; k < total; ++k) {
    const int id = 1 + k * stride;
    Sample s;
    size_t from = proxy.requestCount();
    auto t0 = Steady::now();
    auto r = rtest::releaseJobs(server.port(), auth, "eve", owner(id, o.users), {id});
    s.answered_ms = ms(Steady::now() - t0);
    if (r.status != 200) {
      std::cerr << "release of job " << id << " failed: " << r.status << " " << r.body << "\n"
                << server.describe();
      return 1;
    }
    if (!measureAtPrinter(proxy, from, t0, &s)) {
      std::cerr << "job " << id << " never reached the printer\n" << server.describe();
      return 1;
    }
    json done = rtest::waitJob(server.port(), auth, id, rtest::stateIs("completed"), 30s);
    if (done.value("state", "") != "completed") {
      std::cerr << "job " << id << " did not complete: " << done.dump() << "\n";
      return 1;
    }
    if (k >= o.warmup) out->push_back(s);
  }
  std::printf("pullprintd RSS after the run (%d held jobs): %.1f MB\n", o.jobs - total,
              static_cast<double>(rssKb(server.pid())) / 1024.0);
  return 0;
}

// --- cupsd -------------------------------------------------------------------

int runCupsd(const Options& o, TcpProxy& proxy, const fs::path& pdf, std::vector<Sample>* out) {
  testing::PrivateCupsdOptions co;
  co.logLevel = "warn";  // a production log level; debug logging would slow cupsd down
  testing::PrivateCupsd cups(co);
  testing::QueueOptions qo;
  qo.options = {{"job-hold-until-default", "indefinite"}};
  cups.addQueue("held", proxy.uri(), qo);

  const int total = o.warmup + o.releases;
  std::vector<int> ids;
  auto t = Steady::now();
  for (int k = 0; k < total; ++k) ids.push_back(cups.lp("held", pdf));
  std::printf("cupsd: %d held jobs submitted with lp in %.1f s\n", total,
              ms(Steady::now() - t) / 1000);

  for (int k = 0; k < total; ++k) {
    if (cups.jobState(ids[k]) != "pending-held") {
      std::cerr << "cupsd job " << ids[k] << " is not held\n";
      return 1;
    }
    Sample s;
    size_t from = proxy.requestCount();
    auto t0 = Steady::now();
    http_t* http = httpConnect2("127.0.0.1", cups.port(), nullptr, AF_INET,
                                HTTP_ENCRYPTION_IF_REQUESTED, 1, 10000, nullptr);
    ipp_t* req = ippNewRequest(IPP_OP_RELEASE_JOB);
    std::string uri =
        "ipp://127.0.0.1:" + std::to_string(cups.port()) + "/jobs/" + std::to_string(ids[k]);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", nullptr, uri.c_str());
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "root");
    ipp_t* resp = cupsDoRequest(http, req, "/jobs");
    s.answered_ms = ms(Steady::now() - t0);
    int status = resp ? ippGetStatusCode(resp) : -1;
    ippDelete(resp);
    httpClose(http);
    if (status < 0 || status >= 0x100) {
      std::cerr << "cupsd Release-Job " << ids[k] << " failed: " << status << "\n";
      return 1;
    }
    if (!measureAtPrinter(proxy, from, t0, &s)) {
      std::cerr << "cupsd job " << ids[k] << " never reached the printer\n" << cups.describe();
      return 1;
    }
    if (!cups.waitForJobState(ids[k], "completed", 60s)) {
      std::cerr << "cupsd job " << ids[k] << " did not complete\n" << cups.describe();
      return 1;
    }
    if (k >= o.warmup) out->push_back(s);
  }
  return 0;
}

void printTable(const std::vector<Summary>& rows, std::ostream& out) {
  char line[512];
  out << "| release path | n | end to end p50 | p99 | server time p50 | p99 | "
         "release call answered p50 | p99 | printer's own time p50 |\n"
         "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    std::snprintf(
        line, sizeof line,
        "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms |\n",
        r.name.c_str(), r.n, r.e2e50, r.e2e99, r.srv50, r.srv99, r.ans50, r.ans99, r.prn50);
    out << line;
  }
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--jobs")
      o.jobs = std::stoi(next());
    else if (a == "--users")
      o.users = std::stoi(next());
    else if (a == "--releases")
      o.releases = std::stoi(next());
    else if (a == "--warmup")
      o.warmup = std::stoi(next());
    else if (a == "--poll-ms")
      o.pollMs = std::stoi(next());
    else if (a == "--skip-cupsd")
      o.cupsd = false;
    else if (a == "--markdown")
      o.markdown = next();
    else {
      std::cerr << "usage: bench_release [--jobs N] [--users U] [--releases R] [--warmup W] "
                   "[--poll-ms MS] [--skip-cupsd] [--markdown FILE]\n";
      return 2;
    }
  }
  if (o.jobs < o.warmup + o.releases) {
    std::cerr << "--jobs must be at least --warmup + --releases\n";
    return 2;
  }

  testing::TempDir work("bench-release");
  ::chmod(work.path().c_str(), 0755);  // cupsd's filters (user lp) read the PDF from here
  const fs::path pdf = work / "one-page.pdf";
  testing::makePdf(pdf, 1);
  ::chmod(pdf.c_str(), 0644);

  testing::IppEvePrinterOptions po;
  po.formats = {"application/pdf"};
  po.keepFiles = false;
  po.verbosity = 0;
  testing::IppEvePrinter printer(po);
  TcpProxy proxy(printer.port());
  std::printf("printer: ippeveprinter on %u behind proxy %s\n", printer.port(),
              proxy.uri().c_str());

  std::vector<Summary> rows;
  std::vector<Sample> pp;
  if (int rc = runPullprint(o, proxy, pdf, &pp); rc != 0) return rc;
  rows.push_back(summarize(
      "pullprint: POST /api/v1/release, " + std::to_string(o.jobs) + " held jobs in the store",
      pp));
  if (o.cupsd) {
    std::vector<Sample> cs;
    if (int rc = runCupsd(o, proxy, pdf, &cs); rc != 0) return rc;
    rows.push_back(summarize(
        "cupsd 2.4: IPP Release-Job, " + std::to_string(o.warmup + o.releases) + " held jobs", cs));
  }
  std::ostringstream table;
  printTable(rows, table);
  std::cout << "\n" << table.str();
  std::printf("\ntarget: pullprint server time p50 < 10 ms: %s (%.2f ms)\n",
              rows[0].srv50 < 10 ? "PASS" : "MISS", rows[0].srv50);
  if (rows.size() > 1)
    std::printf("target: pullprint faster end to end than cupsd (p50): %s (%.2f vs %.2f ms)\n",
                rows[0].e2e50 < rows[1].e2e50 ? "PASS" : "MISS", rows[0].e2e50, rows[1].e2e50);
  if (!o.markdown.empty()) std::ofstream(o.markdown) << table.str();
  return 0;
}

}  // namespace
}  // namespace pullprint::bench

int main(int argc, char** argv) {
  try {
    return pullprint::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_release: " << e.what() << "\n";
    return 2;
  }
}
