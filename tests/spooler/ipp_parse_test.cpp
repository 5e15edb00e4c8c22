// IppService::parse(): incremental decoding of the IPP message in front of
// the document, with libcups doing the decoding.
#include <catch2/catch.hpp>

#include <cups/ipp.h>

#include <cstring>
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

namespace {

// Sends a Validate-Job with the given natural language and document format
// and returns the status code of the answer.
ipp_status_t validateWith(Fixture& f, const char* language, const char* format) {
  ipp_t* req = ippNew();
  ippSetOperation(req, IPP_OP_VALIDATE_JOB);
  ippSetRequestId(req, 1);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_CHARSET, "attributes-charset", nullptr, "utf-8");
  // libcups normalises a language as it is added ("EN_us" -> "en-us"); a
  // placeholder of the same length is added and replaced in the bytes.
  std::string placeholder;
  for (std::size_t i = 0; i < std::strlen(language); ++i) placeholder += i % 2 ? 'z' : 'q';
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", nullptr,
               placeholder.c_str());
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr,
               "ipp://localhost/printers/followme");
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, "alice");
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, format);
  std::string bytes;
  ippWriteIO(&bytes, appendTo, 1, nullptr, req);
  ippDelete(req);
  const auto at = bytes.find(placeholder);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, placeholder.size(), language);
  auto parsed = f.ipp->parse(bytes.data(), bytes.size(), true);
  REQUIRE(parsed.kind == ParseResult::Kind::kComplete);
  std::string answer;
  Peer peer;
  peer.address = "127.0.0.1";
  f.ipp->handle(parsed.request, peer, [&](std::string r) { answer = std::move(r); });
  REQUIRE(answer.size() >= 4);
  return static_cast<ipp_status_t>((static_cast<unsigned char>(answer[2]) << 8) |
                                   static_cast<unsigned char>(answer[3]));
}

}  // namespace

TEST_CASE("attribute validation: remembered good values, bad values still refused") {
  Fixture f;
  // The same good values many times (the second and later ones from memory).
  for (int i = 0; i < 3; ++i) CHECK(validateWith(f, "en", "application/pdf") == IPP_STATUS_OK);
  CHECK(validateWith(f, "en-us", "text/plain;charset=utf-8") != IPP_STATUS_ERROR_BAD_REQUEST);
  // Values libcups' checks refuse are refused, before and after good ones.
  CHECK(validateWith(f, "EN", "application/pdf") == IPP_STATUS_ERROR_BAD_REQUEST);
  CHECK(validateWith(f, "en_US", "application/pdf") == IPP_STATUS_ERROR_BAD_REQUEST);
  CHECK(validateWith(f, "en", "application/pdf;") == IPP_STATUS_ERROR_BAD_REQUEST);
  CHECK(validateWith(f, "en", "application") == IPP_STATUS_ERROR_BAD_REQUEST);
  CHECK(validateWith(f, "en", "application/pdf") == IPP_STATUS_OK);
  // A value that is only a prefix or an extension of a remembered one.
  CHECK(validateWith(f, "e", "application/pdf") == IPP_STATUS_ERROR_BAD_REQUEST);
  CHECK(validateWith(f, "en", "application/pdf x") == IPP_STATUS_ERROR_BAD_REQUEST);
  // Many distinct good values: beyond the memory's size, still validated.
  for (int i = 0; i < 80; ++i) {
    const std::string fmt = "application/x-test" + std::to_string(i);
    CHECK(validateWith(f, "en", fmt.c_str()) != IPP_STATUS_ERROR_BAD_REQUEST);
  }
  CHECK(validateWith(f, "en", "bad format") == IPP_STATUS_ERROR_BAD_REQUEST);
}
