#include "tests/support/ipp_eve_printer.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.h"

namespace pullprint::testing {

namespace {

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// The `-c` print command. ippeveprinter runs it once per document with the
// spool file as $1 and the job's attributes as IPP_* environment variables.
std::string printCommandScript(const std::filesystem::path& dir, std::chrono::milliseconds delay,
                               int exitCode) {
  std::ostringstream s;
  s << "#!/bin/sh\n"
       "# Written by pullprint's test support (tests/support/ipp_eve_printer.cpp).\n"
       "# Copies the document to received/ and appends one record to jobs.log.\n"
       "dir='"
    << dir.string()
    << "'\n"
       "src=\"$1\"\n"
       "name=\"job-${IPP_JOB_ID:-0}-$(date +%s%N)-$(basename \"$src\")\"\n"
       "cp \"$src\" \"$dir/received/.$name.part\" &&\n"
       "  mv \"$dir/received/.$name.part\" \"$dir/received/$name\" || exit 1\n"
       "c() { printf '%s' \"$1\" | tr '\\t\\r\\n' '   '; }\n"
       "printf 'file=%s\\tjob-id=%s\\tjob-name=%s\\tuser=%s\\tformat=%s\\tdocument-format=%s"
       "\\tsides=%s\\tsides-default=%s\\tprint-color-mode=%s\\tprint-color-mode-default=%s"
       "\\tcopies=%s\\tmedia=%s\\tpage-ranges=%s\\tnumber-up=%s\\tbytes=%s\\n' \\\n"
       "  \"$dir/received/$name\" \"$(c \"${IPP_JOB_ID:-}\")\" \"$(c \"${IPP_JOB_NAME:-}\")\" \\\n"
       "  \"$(c \"${IPP_JOB_ORIGINATING_USER_NAME:-}\")\" \"$(c \"${CONTENT_TYPE:-}\")\" \\\n"
       "  \"$(c \"${IPP_DOCUMENT_FORMAT:-${IPP_DOCUMENT_FORMAT_SUPPLIED:-}}\")\" \\\n"
       "  \"$(c \"${IPP_SIDES:-}\")\" \"$(c \"${IPP_SIDES_DEFAULT:-}\")\" \\\n"
       "  \"$(c \"${IPP_PRINT_COLOR_MODE:-}\")\" \"$(c \"${IPP_PRINT_COLOR_MODE_DEFAULT:-}\")\" "
       "\\\n"
       "  \"$(c \"${IPP_COPIES:-}\")\" \"$(c \"${IPP_MEDIA:-}\")\" \"$(c "
       "\"${IPP_PAGE_RANGES:-}\")\" \\\n"
       "  \"$(c \"${IPP_NUMBER_UP:-}\")\" \"$(wc -c < \"$src\" | tr -d ' ')\" >> "
       "\"$dir/jobs.log\"\n";
  if (delay.count() > 0) {
    s << "sleep " << delay.count() / 1000 << "."
      << std::to_string(1000 + delay.count() % 1000).substr(1) << "\n";
  }
  s << "exit " << exitCode << "\n";
  return s.str();
}

int toInt(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoi(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

ReceivedJob parseReceivedJob(const std::string& line) {
  ReceivedJob job;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, '\t')) {
    auto eq = field.find('=');
    if (eq == std::string::npos) continue;
    job.fields[field.substr(0, eq)] = field.substr(eq + 1);
  }
  auto get = [&](const char* k) {
    auto it = job.fields.find(k);
    return it == job.fields.end() ? std::string() : it->second;
  };
  job.file = get("file");
  job.jobId = toInt(get("job-id"));
  job.jobName = get("job-name");
  job.user = get("user");
  job.format = get("format");
  job.documentFormat = get("document-format");
  job.sides = get("sides");
  job.sidesDefault = get("sides-default");
  job.colorMode = get("print-color-mode");
  job.colorModeDefault = get("print-color-mode-default");
  job.copies = toInt(get("copies"));
  job.media = get("media");
  try {
    job.bytes = get("bytes").empty() ? 0 : std::stoull(get("bytes"));
  } catch (...) {
    job.bytes = 0;
  }
  return job;
}

IppEvePrinter::IppEvePrinter(IppEvePrinterOptions options)
    : options_(std::move(options)), dir_("pullprint-ippeve", options_.parentDir) {
  std::filesystem::create_directories(dir_ / "spool");  // ippeveprinter does not create -d
  std::filesystem::create_directories(dir_ / "received");
  writeFile(dir_ / "jobs.log", "");
  const auto script = dir_ / "print-command.sh";
  writeFile(script, printCommandScript(dir_.path(), options_.printDelay, options_.printExitCode));
  ::chmod(script.c_str(), 0755);

  if (options_.dbusAddress.empty()) {
    PrivateDbusOptions bo;
    bo.parentDir = options_.parentDir;
    dbus_ = std::make_unique<PrivateDbus>(bo);
    dbusAddress_ = dbus_->address();
  } else {
    dbusAddress_ = options_.dbusAddress;
  }

  for (int attempt = 0; attempt < std::max(1, options_.portAttempts); ++attempt) {
    port_ = pickFreePort();
    if (startOnce()) return;
  }
  std::string why = describe();
  throw std::runtime_error("IppEvePrinter: ippeveprinter did not start\n" + why);
}

IppEvePrinter::~IppEvePrinter() {
  stop();
  if (dbus_) dbus_->stop();
}

bool IppEvePrinter::startOnce() {
  ProcessOptions po;
  po.argv = {"ippeveprinter", "-n", "localhost", "-r", "off", "-p", std::to_string(port_)};
  if (options_.duplex) po.argv.push_back("-2");
  po.argv.insert(po.argv.end(), {"-s", options_.color ? "10,10" : "10,0"});
  if (!options_.formats.empty()) po.argv.insert(po.argv.end(), {"-f", join(options_.formats, ',')});
  if (options_.keepFiles) po.argv.push_back("-k");
  po.argv.insert(po.argv.end(),
                 {"-d", (dir_ / "spool").string(), "-c", (dir_ / "print-command.sh").string()});
  if (options_.verbosity > 0) po.argv.push_back("-" + std::string(options_.verbosity, 'v'));
  po.argv.insert(po.argv.end(), options_.extraArgs.begin(), options_.extraArgs.end());
  po.argv.push_back(options_.name);
  po.env.set = {{"DBUS_SYSTEM_BUS_ADDRESS", dbusAddress_}};
  po.logDir = dir_.path();
  po.logName = "ippeveprinter";
  process_ = std::make_unique<Process>(std::move(po));

  const bool up = waitFor([&] { return tcpPortOpen(port_) || !process_->running(); },
                          options_.startTimeout, 10ms);
  if (up && process_->running()) return true;
  process_->terminate(1000ms);
  return false;
}

std::string IppEvePrinter::uri() const {
  return "ipp://127.0.0.1:" + std::to_string(port_) + "/ipp/print";
}

std::vector<std::filesystem::path> IppEvePrinter::receivedFiles() const {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(receivedDir(), ec)) {
    const auto name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<ReceivedJob> IppEvePrinter::receivedJobs() const {
  std::vector<ReceivedJob> jobs;
  std::ifstream in(dir_ / "jobs.log");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) jobs.push_back(parseReceivedJob(line));
  }
  return jobs;
}

std::size_t IppEvePrinter::receivedJobCount() const {
  std::string log = readFile(dir_ / "jobs.log");
  return static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n'));
}

bool IppEvePrinter::waitForJobs(std::size_t n, std::chrono::milliseconds timeout) {
  return waitFor([&] { return receivedJobCount() >= n; }, timeout, 20ms);
}

void IppEvePrinter::stop(std::chrono::milliseconds grace) {
  if (process_) process_->terminate(grace);
}

void IppEvePrinter::kill() {
  if (process_) process_->kill();
}

void IppEvePrinter::restart() {
  stop();
  if (!startOnce()) {
    throw std::runtime_error("IppEvePrinter: restart on port " + std::to_string(port_) +
                             " failed\n" + describe());
  }
}

std::string IppEvePrinter::describe() const {
  std::ostringstream os;
  os << "ippeveprinter at " << uri() << " (dir " << dir_.path().string() << ")\n";
  if (process_) os << process_->describe() << "\n";
  os << "--- jobs.log ---\n" << tailFile(dir_ / "jobs.log", 2000);
  return os.str();
}

}  // namespace pullprint::testing
