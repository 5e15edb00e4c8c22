// IppService::parse(): incremental decoding of the IPP message in front of
// the document, with libcups doing the decoding.
#include <catch2/catch.hpp>

#include <cups/ipp.h>

#include <filesystem>

#include "core/authenticator.h"
#include "spooler/ipp_service.h"

using namespace pullprint;
using namespace pullprint::spooler;

namespace {

ssize_t appendTo(void* ctx, ipp_uchar_t* buf, size_t n) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<char*>(buf), n);
  return static_cast<ssize_t>(n);
}

std::string printJobBytes() {
  ipp_t* req = ippNewRequest(IPP_OP_PRINT_JOB);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr,
               "ipp://localhost/printers/followme");
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "alice");
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr,
               std::string(300, 'n').c_str());
  std::string out;
  ippWriteIO(&out, appendTo, 1, nullptr, req);
  ippDelete(req);
  return out;
}

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/pullprint-parse-XXXXXX";
    dir = mkdtemp(tmpl);
    store = std::move(*openSqliteStore(dir + "/db"));
    spool = std::move(*SpoolDir::open(dir + "/spool"));
    committer = std::make_unique<Committer>(*store, *spool, log);
    jobs = std::make_unique<JobService>(*store, *committer, *spool, clock, log);
    auth = std::make_unique<Authenticator>(*store, clock);
    config.max_ipp_header_bytes = 4096;
    ipp = std::make_unique<IppService>(config, *jobs, *auth, log);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::string dir;
  Logger log{LogLevel::kError};
  ManualClock clock{1'700'000'000};
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<SpoolDir> spool;
  std::unique_ptr<Committer> committer;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<IppService> ipp;
};

}  // namespace

TEST_CASE("parse waits for more bytes, then finds where the document starts") {
  Fixture f;
  std::string msg = printJobBytes();
  std::string body = msg + "%PDF-1.7 document bytes";
  for (size_t cut : {size_t{0}, size_t{1}, size_t{8}, size_t{9}, msg.size() / 2, msg.size() - 1}) {
    INFO("cut at " << cut);
    auto r = f.ipp->parse(body.data(), cut, /*complete=*/false);
    CHECK(r.kind == ParseResult::Kind::kNeedMore);
  }
  auto r = f.ipp->parse(body.data(), body.size(), false);
  REQUIRE(r.kind == ParseResult::Kind::kComplete);
  CHECK(r.consumed == msg.size());
  CHECK(body.substr(r.consumed) == "%PDF-1.7 document bytes");
}

TEST_CASE("a truncated message with the body complete is malformed") {
  Fixture f;
  std::string msg = printJobBytes();
  auto r = f.ipp->parse(msg.data(), msg.size() - 3, /*complete=*/true);
  CHECK(r.kind == ParseResult::Kind::kMalformed);
  CHECK(r.error == "IPP message is truncated");
}

TEST_CASE("garbage is malformed, not a crash") {
  Fixture f;
  std::string junk = "\x02\x00\x00\x0b\x00\x00\x00\x01\x01\x47\xff\xff";  // name length 65535
  junk += std::string(100, 'x');
  auto r = f.ipp->parse(junk.data(), junk.size(), true);
  CHECK(r.kind == ParseResult::Kind::kMalformed);
}

TEST_CASE("an attribute section over the limit is refused") {
  Fixture f;
  std::string msg = printJobBytes();
  std::string big = msg.substr(0, 9);
  // Many attributes that never end the message.
  while (big.size() < 5000) big += std::string("\x42\x00\x01x\x00\x01y", 7);
  auto r = f.ipp->parse(big.data(), big.size(), false);
  CHECK(r.kind == ParseResult::Kind::kMalformed);
  CHECK(r.error == "IPP attributes exceed max_ipp_header_bytes");
}
