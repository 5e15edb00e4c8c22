#include "tests/badge/badge_stack.h"

#include "tests/support/base64.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/wire/station_wire.h"
#include "tests/support/wait.h"

namespace pullprint::badgetest {

using testing::base64;

std::filesystem::path badgeBinary() { return PULLPRINT_BADGE_PATH; }

std::string Api::json(const std::string& key) const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains(key)) return {};
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump();
}

Stack::Stack(StackOptions options) : work_("pullprint-badge-stack") {
  testing::IppEvePrinterOptions po;
  po.formats = {"application/pdf"};
  printer_ = std::make_unique<testing::IppEvePrinter>(po);
  const std::string uri =
      options.printerUri ? options.printerUri(printer_->uri()) : printer_->uri();
  itest::ServerOptions so;
  so.toml =
      "[release]\npoll_interval_ms = 20\n"
      "[stations]\n" +
      options.stationsToml +
      "\n"
      "[[printer]]\nname = \"lib-1\"\nuri = \"" +
      uri +
      "\"\n"
      "[[printer]]\nname = \"lib-2\"\nuri = \"" +
      uri + "\"\n" + options.extraToml;
  server_ = std::make_unique<itest::PullprintServer>(so);
  server_->start();
  server_->addUser("admin", "adminpw", "admin");
  server_->addUser("alice", "alicepw");
  server_->addUser("bob", "bobpw");
  pdf_ = itest::smallPdf(work_.path(), "badge test");
}

Api Stack::call(const std::string& method, const std::string& path, const std::string& body,
                const std::string& basic,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& contentType) {
  std::ostringstream req;
  req << method << " " << path << " HTTP/1.1\r\nHost: 127.0.0.1:" << server_->port()
      << "\r\nConnection: close\r\nContent-Type: " << contentType
      << "\r\nContent-Length: " << body.size() << "\r\n";
  if (!basic.empty()) req << "Authorization: Basic " << base64(basic) << "\r\n";
  for (const auto& [k, v] : headers) req << k << ": " << v << "\r\n";
  req << "\r\n" << body;
  itest::RawConn c(server_->port());
  c.send(req.str());
  auto r = c.readResponse(20s);
  return {r.status, r.body};
}

Api Stack::signedRelease(const std::string& station, const std::string& secret,
                         const std::string& body, long long tsOffset, std::string nonce) {
  if (nonce.empty()) nonce = wire::randomHex(16);
  std::string ts = std::to_string(static_cast<long long>(std::time(nullptr)) + tsOffset);
  std::string sig = wire::signRequest(secret, "POST", wire::kReleasePath, ts, nonce, body);
  return call("POST", wire::kReleasePath, body, "",
              {{wire::kHeaderStation, station},
               {wire::kHeaderTimestamp, ts},
               {wire::kHeaderNonce, nonce},
               {wire::kHeaderSignature, sig}});
}

std::string Stack::createStation(const std::string& name,
                                 const std::vector<std::string>& printers) {
  nlohmann::json b = {{"name", name}, {"printers", printers}};
  Api r = call("POST", "/api/v1/stations", b.dump());
  if (r.status != 201)
    throw std::runtime_error("create station: " + std::to_string(r.status) + " " + r.body);
  std::string secret = r.json("secret");
  testing::writeFile(secretFile(name), secret + "\n");
  ::chmod(secretFile(name).c_str(), 0600);
  return secret;
}

std::filesystem::path Stack::secretFile(const std::string& station) const {
  return work_.path() / (station + ".secret");
}

void Stack::addCard(const std::string& uid, const std::string& user) {
  Api r = call("POST", "/api/v1/cards", nlohmann::json{{"uid", uid}, {"user", user}}.dump());
  if (r.status != 201)
    throw std::runtime_error("add card: " + std::to_string(r.status) + " " + r.body);
}

int Stack::holdJob(const std::string& user, const std::string& label) {
  auto r = itest::printJob(server_->port(), user, pdf_);
  if (r.jobId <= 0) throw std::runtime_error("print job for " + user + " (" + label + ") refused");
  // Held once analysed: wait until the job is in 'held'.
  testing::waitFor([&] { return jobState(r.jobId) == "held"; }, 10s, 10ms);
  return r.jobId;
}

std::string Stack::jobState(int id) {
  return call("GET", "/api/v1/jobs/" + std::to_string(id)).json("state");
}

// ---------------------------------------------------------------------------

BadgeAgent::BadgeAgent(Stack& stack, const PrivatePcscd& pcscd, const std::string& station,
                       std::vector<std::string> extraArgs)
    : dir_("pullprint-badge-agent") {
  testing::ProcessOptions po;
  po.argv = {badgeBinary().string(),
             "--server",
             "http://127.0.0.1:" + std::to_string(stack.server().port()),
             "--station",
             station,
             "--secret-file",
             stack.secretFile(station).string(),
             "--printer",
             "lib-1",
             "--debounce-ms",
             "300",
             "--verbose"};
  for (auto& a : extraArgs) po.argv.push_back(a);
  po.env.set = {{"PCSCLITE_CSOCK_NAME", pcscd.socketPath()}};
  po.logDir = dir_.path();
  po.logName = "badge";
  process_ = std::make_unique<testing::Process>(po);
  // Ready when it has seen pcscd's readers.
  testing::waitFor(
      [&] {
        return stderrText().find("reader added") != std::string::npos || !process_->running();
      },
      10s, 10ms);
  if (!process_->running()) throw std::runtime_error("pullprint-badge exited: " + describe());
}

BadgeAgent::~BadgeAgent() {
  if (process_) process_->terminate(3000ms);
}

std::vector<std::string> BadgeAgent::lines() const {
  std::vector<std::string> out;
  std::istringstream in(process_->stdoutText());
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

std::string BadgeAgent::waitLine(size_t n, std::chrono::milliseconds timeout) const {
  testing::waitFor([&] { return lines().size() >= n; }, timeout, 10ms);
  auto l = lines();
  return l.size() >= n ? l[n - 1] : "";
}

std::string BadgeAgent::stderrText() const { return process_->stderrText(); }

std::string BadgeAgent::describe() const {
  return process_->describe() + "\nstdout:\n" + process_->stdoutText() + "\nstderr:\n" +
         stderrText();
}

}  // namespace pullprint::badgetest
