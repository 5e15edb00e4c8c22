// One handler per IPP operation. Each authorises first, then acts through
// JobService (the only place job state changes).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <memory>

#include "policies/evaluate.h"
#include "spooler/ipp_private.h"

namespace pullprint::spooler {

namespace {

// ---------------------------------------------------------------------------
// Shared pieces

PrinterState printerState(Context& c, const QueueInfo& q) {
  PrinterState st;
  st.now = c.s.jobs.clock().now();
  st.up_since = c.s.started_at;
  st.host = c.host;
  st.tls = c.peer.tls;
  st.server_name = c.s.config.server_name;
  st.max_document_bytes = c.s.config.max_document_bytes;
  // From the in-memory index: Get-Printer-Attributes is polled often and
  // must not load every active job's row.
  st.queued_jobs = static_cast<int>(c.s.jobs.activeCount(q.name));
  return st;
}

JobView jobView(Context& c, const Job& j) {
  JobView v;
  v.job = &j;
  v.host = c.host;
  v.tls = c.peer.tls;
  v.full = c.admin || (!c.user.empty() && c.user == j.owner);
  v.now = c.s.jobs.clock().now();
  v.up_since = c.s.started_at;
  return v;
}

// Answers with the job's identity and state (Print-Job, Create-Job, ...).
void replyWithJob(Context& c, ipp_status_t status, const std::string& message, JobId id) {
  auto job = c.s.jobs.store().job(id);
  ipp_t* resp = newResponse(c.req, status, message);
  if (job && job->has_value()) {
    Requested want(nullptr,
                   {"job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"});
    addJobAttributes(resp, jobView(c, **job), want);
  }
  c.reply(resp);
}

bool requireUser(Context& c, HandleResult& result) {
  if (!c.user.empty()) return true;
  // Untrusted source without credentials: ask for them (HTTP 401).
  result.needs_authentication = true;
  return false;
}

// Job Template attributes of a Print-Job/Create-Job/Validate-Job request.
struct Ticket {
  int copies = 1;
  std::string sides = "one-sided";
  std::string color_mode = "auto";
  nlohmann::json extra = nlohmann::json::object();  // page-ranges, number-up, media...
  std::vector<ipp_attribute_t*> unsupported;
  bool fidelity = false;
  bool no_hold = false;  // job-hold-until=no-hold was asked for
  bool hold = false;     // job-hold-until=indefinite on a queue that prints at once
  bool sides_given = false;
  bool color_given = false;
};

// Checks each Job Template attribute against what we support. Unsupported
// values are returned in the unsupported group and ignored, unless
// ipp-attribute-fidelity is true (then the request fails).
Ticket readTicket(ipp_t* req, bool queue_holds) {
  Ticket t;
  if (ipp_attribute_t* f = ippFindAttribute(req, "ipp-attribute-fidelity", IPP_TAG_BOOLEAN))
    t.fidelity = ippGetBoolean(f, 0);
  for (ipp_attribute_t* a = ippFirstAttribute(req); a; a = ippNextAttribute(req)) {
    if (ippGetGroupTag(a) != IPP_TAG_JOB || !ippGetName(a)) continue;
    std::string name = ippGetName(a);
    ipp_tag_t tag = ippGetValueTag(a);
    int count = ippGetCount(a);
    bool ok = true;
    if (name == "copies") {
      ok = tag == IPP_TAG_INTEGER && count == 1 && ippGetInteger(a, 0) >= 1 &&
           ippGetInteger(a, 0) <= 999;
      if (ok) t.copies = ippGetInteger(a, 0);
    } else if (name == "sides") {
      ok = tag == IPP_TAG_KEYWORD && count == 1 && isSupportedSides(ippGetString(a, 0, nullptr));
      if (ok) {
        t.sides = ippGetString(a, 0, nullptr);
        t.sides_given = true;
      }
    } else if (name == "print-color-mode") {
      ok =
          tag == IPP_TAG_KEYWORD && count == 1 && isSupportedColorMode(ippGetString(a, 0, nullptr));
      if (ok) {
        t.color_mode = ippGetString(a, 0, nullptr);
        t.color_given = true;
      }
    } else if (name == "media") {
      ok = (tag == IPP_TAG_KEYWORD || tag == IPP_TAG_NAME) && count == 1 &&
           isSupportedMedia(ippGetString(a, 0, nullptr));
      if (ok) t.extra["media"] = ippGetString(a, 0, nullptr);
    } else if (name == "number-up") {
      int v = ippGetInteger(a, 0);
      ok = tag == IPP_TAG_INTEGER && count == 1 &&
           (v == 1 || v == 2 || v == 4 || v == 6 || v == 9 || v == 16);
      if (ok) t.extra["number-up"] = v;
    } else if (name == "page-ranges") {
      ok = tag == IPP_TAG_RANGE && count >= 1;
      int prev = 0;
      nlohmann::json ranges = nlohmann::json::array();
      for (int i = 0; ok && i < count; ++i) {
        int upper = 0;
        int lower = ippGetRange(a, i, &upper);
        ok = lower >= 1 && upper >= lower && lower > prev;
        prev = upper;
        ranges.push_back({lower, upper});
      }
      if (ok) t.extra["page-ranges"] = ranges;
    } else if (name == "orientation-requested") {
      int v = ippGetInteger(a, 0);
      ok = tag == IPP_TAG_ENUM && count == 1 && v >= 3 && v <= 6;
      if (ok) t.extra["orientation-requested"] = v;
    } else if (name == "print-quality") {
      int v = ippGetInteger(a, 0);
      ok = tag == IPP_TAG_ENUM && count == 1 && v >= 3 && v <= 5;
      if (ok) t.extra["print-quality"] = v;
    } else if (name == "multiple-document-handling") {
      std::string v = tag == IPP_TAG_KEYWORD ? ippGetString(a, 0, nullptr) : "";
      ok = count == 1 && (v == "separate-documents-uncollated-copies" ||
                          v == "separate-documents-collated-copies" || v == "single-document" ||
                          v == "single-document-new-sheet");
      if (ok) t.extra["multiple-document-handling"] = v;
    } else if (name == "job-hold-until") {
      // Held queues hold every job until its owner releases it: "no-hold"
      // is substituted with indefinite and reported back in the
      // unsupported group, so the client knows. A queue that prints at once
      // (direct) holds a job that asks for "indefinite" until Release-Job,
      // as CUPS does. Timed holds are not offered.
      std::string v =
          (tag == IPP_TAG_KEYWORD || tag == IPP_TAG_NAME) ? ippGetString(a, 0, nullptr) : "";
      ok = count == 1 && (v == "indefinite" || (!queue_holds && v == "no-hold"));
      if (count == 1 && v == "no-hold") t.no_hold = true;
      if (ok && v == "indefinite" && !queue_holds) {
        t.hold = true;
        t.extra["job-hold-until"] = v;  // kept with the job for Create-Job + Send-Document
      }
    } else if (name == "printer-resolution" || name == "finishings" || name == "job-priority" ||
               name == "job-sheets" || name == "output-bin" || name == "media-col" ||
               name == "print-scaling" || name == "print-content-optimize" ||
               name == "print-rendering-intent" || name == "job-account-id" ||
               name == "job-accounting-user-id") {
      // Accepted and passed on to the printer at release time (not analysed).
      ok = true;
    } else {
      ok = false;
    }
    if (!ok) t.unsupported.push_back(a);
  }
  return t;
}

// Returns false (after replying) when the ticket must be refused.
bool checkTicket(Context& c, const Ticket& t, ipp_status_t* status) {
  *status = t.unsupported.empty() ? IPP_STATUS_OK : IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED;
  if (!t.unsupported.empty() && t.fidelity) {
    ipp_t* resp = newResponse(c.req, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                              "unsupported job attributes or values");
    for (auto* a : t.unsupported) ippCopyAttribute(resp, a, 0);
    // ippCopyAttribute keeps the group: move them to the unsupported group.
    for (ipp_attribute_t* a = ippFirstAttribute(resp); a; a = ippNextAttribute(resp))
      if (ippGetGroupTag(a) == IPP_TAG_JOB) ippSetGroupTag(resp, &a, IPP_TAG_UNSUPPORTED_GROUP);
    c.reply(resp);
    return false;
  }
  return true;
}

void addUnsupported(ipp_t* resp, const Ticket& t) {
  for (auto* a : t.unsupported) {
    ipp_attribute_t* copy = ippCopyAttribute(resp, a, 0);
    ippSetGroupTag(resp, &copy, IPP_TAG_UNSUPPORTED_GROUP);
  }
}

// document-format: absent means application/octet-stream.
bool readFormat(Context& c, std::string* format) {
  const char* f = strAttr(c.req, "document-format", IPP_TAG_OPERATION);
  *format = f ? f : "application/octet-stream";
  if (ipp_attribute_t* cmp = ippFindAttribute(c.req, "compression", IPP_TAG_ZERO)) {
    const char* v = ippGetString(cmp, 0, nullptr);
    if (!v || std::strcmp(v, "none") != 0) {
      ipp_t* resp = newResponse(c.req, IPP_STATUS_ERROR_COMPRESSION_NOT_SUPPORTED,
                                "only compression=none is supported");
      ipp_attribute_t* copy = ippCopyAttribute(resp, cmp, 0);
      ippSetGroupTag(resp, &copy, IPP_TAG_UNSUPPORTED_GROUP);
      c.reply(resp);
      return false;
    }
  }
  if (!isSupportedFormat(*format) ||
      (*format == "application/octet-stream" && !c.s.config.accept_unknown_formats)) {
    ipp_t* resp = newResponse(c.req, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                              "document-format '" + *format + "' is not supported");
    ipp_attribute_t* a = ippFindAttribute(c.req, "document-format", IPP_TAG_ZERO);
    if (a) {
      ipp_attribute_t* copy = ippCopyAttribute(resp, a, 0);
      ippSetGroupTag(resp, &copy, IPP_TAG_UNSUPPORTED_GROUP);
    }
    c.reply(resp);
    return false;
  }
  return true;
}

bool requireQueue(Context& c) {
  if (c.queue) return true;
  c.error(IPP_STATUS_ERROR_BAD_REQUEST, "this operation needs a printer-uri");
  return false;
}

Job newJob(Context& c, const Ticket& t, const std::string& format) {
  Job j;
  j.id = c.s.jobs.allocateId();
  j.queue = c.queue->name;
  j.owner = c.user;
  j.source_address = c.peer.address;
  const char* name = strAttr(c.req, "job-name", IPP_TAG_OPERATION);
  if (!name) name = strAttr(c.req, "document-name", IPP_TAG_OPERATION);
  j.name = name ? name : "Untitled";
  j.format = format;
  j.copies = t.copies;
  j.sides = t.sides;
  j.color_mode = t.color_mode;
  j.ticket_json = t.extra.dump();
  j.state = JobState::kReceiving;
  j.created_at = c.s.jobs.clock().now();
  j.hold_expires_at = c.queue->hold || t.hold ? j.created_at + c.s.config.hold_timeout_seconds : 0;
  for (const auto& q : c.s.config.queues)
    if (q.name == j.queue && q.hold_timeout_seconds > 0)
      j.hold_expires_at = j.created_at + q.hold_timeout_seconds;
  return j;
}

// Whether a job waits for release once its last document is stored: every
// job of a holding queue, and jobs that asked for job-hold-until=indefinite.
bool holdsAfterReceive(const QueueInfo& q, const Job& job) {
  if (q.hold) return true;
  auto t = nlohmann::json::parse(job.ticket_json, nullptr, false);
  return t.is_object() && t.value("job-hold-until", "") == "indefinite";
}

// ---------------------------------------------------------------------------
// Document sink: streams one document to the spool, then commits it.

// The answer for a document that was not stored. A site's CUPS sends every
// job as Create-Job + Send-Document. Its ipp backend (CUPS 2.4) takes a
// failed Send-Document as final, and then reports the job as completed once
// it has read the job's state, unless the status is
// server-error-service-unavailable (or busy): then it sends the job again.
// So a failure that can clear by itself (no room, a failing disk) is
// answered service-unavailable to Send-Document, and temporary-error to
// Print-Job, which CUPS tries again in any case (docs/operations.md, "What
// a site's CUPS does with a refusal").
ipp_status_t documentFailureStatus(const Status& why, bool too_large, bool send_document) {
  if (too_large) return IPP_STATUS_ERROR_REQUEST_ENTITY;
  const ipp_status_t status = ippStatusFor(why);
  if (send_document && status == IPP_STATUS_ERROR_TEMPORARY)
    return IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
  return status;
}

// Whether a document that was not stored could be sent again to the same
// job later (no room, a failing disk, the connection lost); not when it is
// too large or the failure is the server's own.
bool retryable(const Status& why, bool too_large) {
  return !too_large && ippStatusFor(why) == IPP_STATUS_ERROR_TEMPORARY;
}

// A document of at least `bytes` from `user` ran out of room: that user's
// new jobs are refused (checkSpace) until that much and a margin is free
// beyond min_free_bytes, or for a minute at most, so that a client that
// sends the job again (CUPS) is told at once, at Print-Job or Create-Job,
// instead of sending the whole document again only to fail. Not for a
// document larger than the whole file system: that can never fit, and
// the user's other jobs should not wait for it.
void noteNoRoom(IppService::Impl& s, const std::string& user, std::int64_t bytes) {
  constexpr std::int64_t kMargin = 1 << 20;
  constexpr auto kAtMost = std::chrono::minutes(1);
  constexpr size_t kUsersKept = 1000;
  const std::int64_t wanted = bytes + kMargin;
  const std::int64_t total = s.jobs.spool().totalBytes();
  if (total >= 0 && s.config.min_free_bytes + wanted > total) {
    s.log.warn("spool.no-room", {{"user", user},
                                 {"document_bytes", bytes},
                                 {"why", "larger than the spool's whole file system"}});
    return;
  }
  {
    std::lock_guard lock(s.room_mu);
    if (s.room_wanted.size() >= kUsersKept && !s.room_wanted.contains(user))
      s.room_wanted.erase(s.room_wanted.begin());
    IppService::Impl::RoomWanted& w = s.room_wanted[user];
    w.bytes = std::max(w.bytes, wanted);
    w.until = std::chrono::steady_clock::now() + kAtMost;
  }
  s.log.warn("spool.no-room",
             {{"user", user}, {"document_bytes", bytes}, {"new_jobs_wait_for_bytes", wanted}});
}

// A document that is not stored: a Print-Job's job ends with it, and so
// does a Send-Document's when sending it again cannot help (too large, a
// fault here), aborted at once with the reason. After a failure that may
// clear, a Send-Document's job stays open for the document to be sent
// again (until the multiple-operation time-out).
void endJobUnlessSentAgain(IppService::Impl& s, JobId id, bool send_document, bool may_send_again,
                           const std::string& why) {
  if (!send_document || !may_send_again)
    s.jobs.transition(id, JobState::kAborted, "aborted-by-system", why, "system", nullptr);
}

class DocumentUpload final : public DocumentSink {
 public:
  DocumentUpload(Context& c, Job job, int docno, std::unique_ptr<SpoolWriter> writer, bool last,
                 bool send_document, ipp_status_t ok_status, Ticket ticket)
      : s_(c.s),
        holder_(c.holder),
        peer_host_(c.host),
        tls_(c.peer.tls),
        user_(c.user),
        job_(std::move(job)),
        docno_(docno),
        writer_(std::move(writer)),
        last_(last),
        send_document_(send_document),
        ok_status_(ok_status),
        ticket_(std::move(ticket)),
        queue_hold_(c.queue ? holdsAfterReceive(*c.queue, job_) : true) {
    const char* fmt = strAttr(holder_->get(), "document-format", IPP_TAG_OPERATION);
    format_ = fmt ? fmt : "application/octet-stream";
    const char* dn = strAttr(holder_->get(), "document-name", IPP_TAG_OPERATION);
    doc_name_ = dn ? dn : job_.name;
  }

  ~DocumentUpload() override {
    if (!ended_) {
      s_.log.warn("job.upload-abandoned", {{"job", job_.id}, {"bytes", writer_->size()}});
      cleanUp("document upload was interrupted", /*may_send_again=*/true);
    }
  }

  Status write(const char* data, size_t size) override {
    if (writer_->size() + static_cast<std::int64_t>(size) > s_.config.max_document_bytes) {
      too_large_ = true;
      return {StatusCode::kResourceExhausted, "document is larger than the limit of " +
                                                  std::to_string(s_.config.max_document_bytes) +
                                                  " bytes"};
    }
    return writer_->write(data, size);
  }

  void finish(Respond respond) override {
    auto fd = writer_->publish();
    if (!fd) {
      fail(fd.status(), std::move(respond));
      return;
    }
    ended_ = true;
    Document doc;
    doc.job_id = job_.id;
    doc.number = docno_;
    doc.format = format_;
    doc.name = doc_name_;
    doc.size_bytes = writer_->size();
    doc.sha256 = writer_->finishSha256();
    Job updated = job_;
    JobState final_state = queue_hold_ ? JobState::kHeld : JobState::kPending;
    std::string reasons = queue_hold_ ? "job-hold-until-specified" : "";
    // What the client is told once the commit is durable: built here, so the
    // completion (on the committer thread) does not read the store.
    Job shown = job_;
    if (last_) {
      shown.state = final_state;
      shown.state_reasons = reasons;
    }
    auto* s = &s_;
    auto holder = holder_;
    auto host = peer_host_;
    bool tls = tls_;
    std::string user = user_;
    JobId id = job_.id;
    std::int64_t size = doc.size_bytes;
    std::string sha = doc.sha256;
    ipp_status_t ok_status = ok_status_;
    Ticket ticket = ticket_;
    bool send_document = send_document_;
    s_.jobs.documentReceived(
        updated, doc, std::move(*fd), last_, final_state, reasons, [=](Status st) {
          if (!st) {
            s->log.error("job.store-failed", {{"job", id}, {"error", st.toString()}});
            if (st.code() == StatusCode::kResourceExhausted) noteNoRoom(*s, user, size);
            // As for a failed upload (cleanUp), if the job's row ever committed.
            endJobUnlessSentAgain(*s, id, send_document, retryable(st, false), st.message());
            respond(errorBytes(holder->get(), documentFailureStatus(st, false, send_document),
                               st.message()));
            return;
          }
          s->log.info("job.accepted",
                      {{"job", id}, {"owner", user}, {"bytes", size}, {"sha256", sha}});
          ipp_t* resp = newResponse(holder->get(), ok_status, "");
          addUnsupported(resp, ticket);
          JobView v;
          v.job = &shown;
          v.host = host;
          v.tls = tls;
          v.full = true;
          v.now = s->jobs.clock().now();
          Requested want(nullptr, {"job-id", "job-uri", "job-state", "job-state-reasons",
                                   "job-state-message"});
          addJobAttributes(resp, v, want);
          respond(toBytes(resp));
        });
  }

  void fail(const Status& why, Respond respond) override {
    ended_ = true;
    if (why.code() == StatusCode::kResourceExhausted && !too_large_)
      noteNoRoom(s_, user_, writer_->size());
    cleanUp(why.message(), retryable(why, too_large_));
    s_.log.warn("job.upload-failed", {{"job", job_.id}, {"error", why.toString()}});
    respond(errorBytes(holder_->get(), documentFailureStatus(why, too_large_, send_document_),
                       why.message()));
  }

 private:
  void cleanUp(const std::string& why, bool may_send_again) {
    s_.jobs.abandonDocument(job_.id, docno_, why);
    endJobUnlessSentAgain(s_, job_.id, send_document_, may_send_again, why);
  }

  IppService::Impl& s_;
  std::shared_ptr<IppRequest> holder_;
  std::string peer_host_;
  bool tls_;
  std::string user_;
  Job job_;
  int docno_;
  std::unique_ptr<SpoolWriter> writer_;
  bool last_;
  bool send_document_;  // Send-Document (else Print-Job)
  ipp_status_t ok_status_;
  Ticket ticket_;
  bool queue_hold_;
  std::string format_;
  std::string doc_name_;
  bool ended_ = false;
  bool too_large_ = false;
};

// Refuses a new job or document when the spool's file system has less
// than min_free_bytes free, or less than that and what a document of the
// same user that did not fit needs (noteNoRoom, for a minute at most).
// `refusal`: the answer's status then (Send-Document's is
// service-unavailable, see documentFailureStatus).
bool checkSpace(Context& c, ipp_status_t refusal = IPP_STATUS_ERROR_TEMPORARY) {
  const std::int64_t free = c.s.jobs.spool().freeBytes();
  if (free < 0) return true;  // unknown: the writes themselves will tell
  std::int64_t wanted = 0;
  {
    std::lock_guard lock(c.s.room_mu);
    if (auto it = c.s.room_wanted.find(c.user); it != c.s.room_wanted.end()) {
      wanted = it->second.bytes;
      const bool room = free >= c.s.config.min_free_bytes + wanted;
      if (room || std::chrono::steady_clock::now() >= it->second.until) {
        c.s.room_wanted.erase(it);
        c.s.log.info("spool.room-back", {{"user", c.user},
                                         {"free_bytes", free},
                                         {"why", room ? "enough is free" : "a minute has passed"}});
        wanted = 0;
      }
    }
  }
  if (free < c.s.config.min_free_bytes + wanted) {
    c.error(refusal, "spool disk is full; try again later");
    return false;
  }
  return true;
}

// Applies the submission policy to a new job: sides, colour, copies and the
// hold timeout as decided (the deciding rules are kept in the ticket). A
// denied job is recorded (counted as denied, never queued) and the client
// gets the policy's message; returns false then.
bool applySubmitPolicy(Context& c, Job& job, Ticket& t) {
  auto policy = c.s.currentPolicy();
  if (!policy) return true;
  policies::JobFacts f;
  f.queue = job.queue;
  f.user = job.owner;
  f.source_address = job.source_address;
  f.copies = t.copies;
  f.format = job.format;
  if (t.color_given) f.color_mode = policies::parseColorMode(t.color_mode);
  if (t.sides_given) f.sides = policies::parseSides(t.sides);
  f.document_name = job.name;
  policies::Decision d = policies::evaluate(f, nullptr, *policy, job.created_at);
  t.extra["policy"] = {{"version", policy->version()}, {"decision", policies::describeDecision(d)}};
  job.ticket_json = t.extra.dump();
  if (d.denied) {
    std::string msg = d.deny_message.empty() ? "denied by print policy" : d.deny_message;
    c.s.log.info("policy.denied",
                 {{"job", job.id}, {"owner", job.owner}, {"rule", std::string(d.denied_by.name)}});
    // client-error-attributes-or-values-not-supported, not not-authorized:
    // the job as asked for is refused here, and asking again with other
    // credentials would not change that. A site's CUPS (2.4) cancels its
    // job on this status; on not-authorized or forbidden it holds the job
    // "for authentication", where it would stay, and desktop clients may
    // ask the user for a password. The policy's message goes with it.
    auto ctx = std::make_shared<Context>(c);
    c.s.jobs.recordDenied(
        job, msg, [ctx, msg](Status) { ctx->error(IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, msg); });
    return false;
  }
  job.sides = std::string(policies::toKeyword(d.sides.value));
  job.color_mode = std::string(policies::toKeyword(d.color_mode.value));
  job.copies = static_cast<int>(d.copies.value);
  if (d.hold_expires_at && job.hold_expires_at) job.hold_expires_at = *d.hold_expires_at;
  return true;
}

// ---------------------------------------------------------------------------
// Operations

HandleResult printJob(Context& c) {
  HandleResult r;
  if (!requireQueue(c) || !requireUser(c, r)) return r;
  std::string format;
  if (!readFormat(c, &format)) return r;
  Ticket t = readTicket(c.req, c.queue->hold);
  ipp_status_t ok_status;
  if (!checkTicket(c, t, &ok_status)) return r;
  if (!checkSpace(c)) return r;
  Job job = newJob(c, t, format);
  if (!applySubmitPolicy(c, job, t)) return r;
  int docno = 0;
  c.s.jobs.createJob(job, nullptr);
  if (Status s = c.s.jobs.beginDocument(job.id, &docno); !s) {
    // Its row could not be committed (a full disk, say), or a bug.
    c.error(
        s.code() == StatusCode::kFailedPrecondition ? IPP_STATUS_ERROR_INTERNAL : ippStatusFor(s),
        s.message());
    return r;
  }
  auto writer = c.s.jobs.spool().create(job.id, docno);
  if (!writer) {
    c.s.jobs.abandonDocument(job.id, docno);
    c.s.jobs.transition(job.id, JobState::kAborted, "aborted-by-system", writer.status().message(),
                        "system", nullptr);
    c.error(ippStatusFor(writer.status()), writer.status().message());
    return r;
  }
  r.sink = std::make_unique<DocumentUpload>(c, job, docno, std::move(*writer), /*last=*/true,
                                            /*send_document=*/false, ok_status, t);
  return r;
}

HandleResult validateJob(Context& c) {
  HandleResult r;
  if (!requireQueue(c) || !requireUser(c, r)) return r;
  std::string format;
  if (!readFormat(c, &format)) return r;
  Ticket t = readTicket(c.req, c.queue->hold);
  ipp_status_t status;
  if (!checkTicket(c, t, &status)) return r;
  ipp_t* resp = newResponse(c.req, status, "");
  addUnsupported(resp, t);
  c.reply(resp);
  return r;
}

HandleResult createJob(Context& c) {
  HandleResult r;
  if (!requireQueue(c) || !requireUser(c, r)) return r;
  Ticket t = readTicket(c.req, c.queue->hold);
  ipp_status_t status;
  if (!checkTicket(c, t, &status)) return r;
  // Refused here rather than at Send-Document: a site's CUPS tries a
  // refused Create-Job again, a refused Send-Document it does not.
  if (!checkSpace(c)) return r;
  Job job = newJob(c, t, "");
  if (!applySubmitPolicy(c, job, t)) return r;
  auto ctx = std::make_shared<Context>(c);
  c.s.jobs.createJob(job, [ctx, id = job.id, status, t](Status s) {
    if (!s) {
      ctx->error(ippStatusFor(s), s.message());
      return;
    }
    ctx->s.log.info("job.created", {{"job", id}, {"owner", ctx->user}});
    replyWithJob(*ctx, status, "", id);
  });
  return r;
}

// Loads the target job and checks the requester may act on it.
std::optional<Job> targetJob(Context& c, bool owner_may) {
  if (c.job_id <= 0) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "missing job-id");
    return std::nullopt;
  }
  auto job = c.s.jobs.store().job(c.job_id);
  if (!job) {
    c.error(ippStatusFor(job.status()), job.status().message());
    return std::nullopt;
  }
  if (!job->has_value() || (c.queue && (*job)->queue != c.queue->name)) {
    c.error(IPP_STATUS_ERROR_NOT_FOUND, "job " + std::to_string(c.job_id) + " does not exist");
    return std::nullopt;
  }
  bool allowed = c.admin || (owner_may && c.user == (*job)->owner);
  if (!allowed) {
    c.error(IPP_STATUS_ERROR_NOT_AUTHORIZED,
            owner_may ? "only the job's owner or an administrator may do this"
                      : "only an administrator may do this");
    return std::nullopt;
  }
  return **job;
}

HandleResult sendDocument(Context& c) {
  HandleResult r;
  if (!requireUser(c, r)) return r;
  auto job = targetJob(c, /*owner_may=*/true);
  if (!job) return r;
  ipp_attribute_t* last = ippFindAttribute(c.req, "last-document", IPP_TAG_ZERO);
  if (!last || ippGetValueTag(last) != IPP_TAG_BOOLEAN || ippGetCount(last) != 1) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "last-document (boolean) is required");
    return r;
  }
  std::string format;
  if (!readFormat(c, &format)) return r;
  if (!checkSpace(c, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE)) return r;
  const QueueInfo* q = c.s.queueByName(job->queue);
  c.queue = q;
  int docno = 0;
  if (Status s = c.s.jobs.beginDocument(job->id, &docno); !s) {
    c.error(IPP_STATUS_ERROR_NOT_POSSIBLE, s.message());
    return r;
  }
  auto writer = c.s.jobs.spool().create(job->id, docno);
  if (!writer) {
    c.s.jobs.abandonDocument(job->id, docno);
    c.error(documentFailureStatus(writer.status(), false, /*send_document=*/true),
            writer.status().message());
    return r;
  }
  Ticket none;
  r.sink = std::make_unique<DocumentUpload>(c, *job, docno, std::move(*writer),
                                            ippGetBoolean(last, 0) != 0,
                                            /*send_document=*/true, IPP_STATUS_OK, none);
  return r;
}

HandleResult closeJob(Context& c) {
  HandleResult r;
  if (!requireUser(c, r)) return r;
  auto job = targetJob(c, true);
  if (!job) return r;
  if (job->state != JobState::kReceiving) {
    c.error(IPP_STATUS_ERROR_NOT_POSSIBLE, "job is already closed");
    return r;
  }
  const QueueInfo* q = c.s.queueByName(job->queue);
  // A job closed without any document has nothing to print.
  const bool hold = holdsAfterReceive(*q, *job);
  JobState to = job->document_count == 0 ? JobState::kAborted
                : hold                   ? JobState::kHeld
                                         : JobState::kPending;
  std::string reasons =
      job->document_count == 0 ? "aborted-by-system" : (hold ? "job-hold-until-specified" : "");
  auto ctx = std::make_shared<Context>(c);
  c.s.jobs.transition(job->id, to, reasons,
                      job->document_count == 0 ? "job closed without documents" : "", c.user,
                      [ctx, id = job->id](Status s) {
                        if (!s)
                          ctx->error(ippStatusFor(s), s.message());
                        else
                          replyWithJob(*ctx, IPP_STATUS_OK, "", id);
                      });
  return r;
}

HandleResult cancelJob(Context& c) {
  HandleResult r;
  if (!requireUser(c, r)) return r;
  auto job = targetJob(c, true);
  if (!job) return r;
  if (isTerminal(job->state)) {
    c.error(IPP_STATUS_ERROR_NOT_POSSIBLE,
            std::string("job is already ") + jobStateName(job->state));
    return r;
  }
  bool by_owner = c.user == job->owner;
  auto ctx = std::make_shared<Context>(c);
  c.s.jobs.transition(job->id, JobState::kCanceled,
                      by_owner ? "job-canceled-by-user" : "job-canceled-by-operator",
                      by_owner ? "cancelled by its owner" : "cancelled by " + c.user, c.user,
                      [ctx, id = job->id](Status s) {
                        if (!s) {
                          ctx->error(ippStatusFor(s), s.message());
                          return;
                        }
                        ctx->s.log.info("job.canceled", {{"job", id}, {"by", ctx->user}});
                        ctx->reply(newResponse(ctx->req, IPP_STATUS_OK, ""));
                      });
  return r;
}

HandleResult cancelMyJobs(Context& c) {
  HandleResult r;
  if (!requireQueue(c) || !requireUser(c, r)) return r;
  JobFilter f;
  f.queue = c.queue->name;
  f.owner = c.user;
  auto jobs = c.s.jobs.store().jobs(f);
  if (!jobs) {
    c.error(ippStatusFor(jobs.status()), jobs.status().message());
    return r;
  }
  std::vector<JobId> ids;
  if (ipp_attribute_t* a = ippFindAttribute(c.req, "job-ids", IPP_TAG_INTEGER)) {
    std::set<JobId> mine;
    for (auto& j : *jobs) mine.insert(j.id);
    for (int i = 0; i < ippGetCount(a); ++i) {
      JobId id = ippGetInteger(a, i);
      if (!mine.count(id)) {
        c.error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                "job " + std::to_string(id) + " is not one of your active jobs");
        return r;
      }
      ids.push_back(id);
    }
  } else {
    for (auto& j : *jobs) ids.push_back(j.id);
  }
  if (ids.empty()) {
    c.reply(newResponse(c.req, IPP_STATUS_OK, "no jobs to cancel"));
    return r;
  }
  auto ctx = std::make_shared<Context>(c);
  auto pending = std::make_shared<std::atomic<int>>(static_cast<int>(ids.size()));
  auto failures = std::make_shared<std::atomic<int>>(0);
  for (JobId id : ids) {
    c.s.jobs.transition(id, JobState::kCanceled, "job-canceled-by-user", "cancelled by its owner",
                        c.user, [ctx, pending, failures](Status s) {
                          if (!s) failures->fetch_add(1);
                          if (pending->fetch_sub(1) == 1) {
                            if (failures->load())
                              ctx->error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                                         "some jobs could not be cancelled");
                            else
                              ctx->reply(newResponse(ctx->req, IPP_STATUS_OK, ""));
                          }
                        });
  }
  return r;
}

HandleResult holdOrReleaseJob(Context& c, bool hold) {
  HandleResult r;
  if (!requireUser(c, r)) return r;
  auto job = targetJob(c, /*owner_may=*/false);
  if (!job) return r;
  JobState from = hold ? JobState::kPending : JobState::kHeld;
  if (job->state != from) {
    if (hold && job->state == JobState::kHeld) {  // already held: nothing to do
      c.reply(newResponse(c.req, IPP_STATUS_OK, ""));
      return r;
    }
    c.error(IPP_STATUS_ERROR_NOT_POSSIBLE, std::string("job is ") + jobStateName(job->state));
    return r;
  }
  auto ctx = std::make_shared<Context>(c);
  if (!hold && c.s.release) {
    // Release-Job prints the job on its queue's printer; follow-me jobs have
    // no printer until their owner stands at one.
    std::string printer = c.s.release->printerForQueue(job->queue);
    if (printer.empty()) {
      c.error(IPP_STATUS_ERROR_NOT_POSSIBLE,
              "follow-me jobs are released at a printer: by card, in the portal, or with "
              "POST /api/v1/release");
      return r;
    }
    c.s.release->releaseJobAsync(job->id, printer, c.user, [ctx, id = job->id](Status s) {
      if (!s) {
        ctx->error(ippStatusFor(s), s.message());
        return;
      }
      ctx->s.log.info("job.released", {{"job", id}, {"by", ctx->user}});
      ctx->reply(newResponse(ctx->req, IPP_STATUS_OK, ""));
    });
    return r;
  }
  c.s.jobs.transition(
      job->id, hold ? JobState::kHeld : JobState::kPending, hold ? "job-hold-until-specified" : "",
      hold ? "held by " + c.user : "released by " + c.user + "; waiting for the release engine",
      c.user, [ctx, id = job->id, hold](Status s) {
        if (!s) {
          ctx->error(ippStatusFor(s), s.message());
          return;
        }
        ctx->s.log.info(hold ? "job.held" : "job.released", {{"job", id}, {"by", ctx->user}});
        ctx->reply(newResponse(ctx->req, IPP_STATUS_OK, ""));
      });
  return r;
}

HandleResult getJobAttributes(Context& c) {
  HandleResult r;
  if (!requireUser(c, r)) return r;
  if (c.job_id <= 0) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "missing job-id");
    return r;
  }
  auto job = c.s.jobs.store().job(c.job_id);
  if (!job || !job->has_value() || (c.queue && (*job)->queue != c.queue->name)) {
    c.error(IPP_STATUS_ERROR_NOT_FOUND, "job " + std::to_string(c.job_id) + " does not exist");
    return r;
  }
  ipp_t* resp = newResponse(c.req, IPP_STATUS_OK, "");
  Requested want(ippFindAttribute(c.req, "requested-attributes", IPP_TAG_ZERO), {"all"});
  addJobAttributes(resp, jobView(c, **job), want);
  c.reply(resp);
  return r;
}

HandleResult getJobs(Context& c) {
  HandleResult r;
  if (!requireQueue(c) || !requireUser(c, r)) return r;
  JobFilter f;
  f.queue = c.queue->name;
  std::string which = "not-completed";
  if (ipp_attribute_t* a = ippFindAttribute(c.req, "which-jobs", IPP_TAG_ZERO)) {
    const char* v = ippGetValueTag(a) == IPP_TAG_KEYWORD ? ippGetString(a, 0, nullptr) : nullptr;
    which = v ? v : "";
    if (which != "completed" && which != "not-completed" && which != "all") {
      ipp_t* resp = newResponse(c.req, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                                "which-jobs must be completed, not-completed or all");
      ipp_attribute_t* copy = ippCopyAttribute(resp, a, 0);
      ippSetGroupTag(resp, &copy, IPP_TAG_UNSUPPORTED_GROUP);
      c.reply(resp);
      return r;
    }
  }
  f.all = which == "all";
  f.not_completed = which == "not-completed";
  if (ipp_attribute_t* a = ippFindAttribute(c.req, "my-jobs", IPP_TAG_BOOLEAN))
    if (ippGetBoolean(a, 0)) f.owner = c.user;
  if (ipp_attribute_t* a = ippFindAttribute(c.req, "limit", IPP_TAG_INTEGER)) {
    if (ippGetInteger(a, 0) < 1) {
      c.error(IPP_STATUS_ERROR_BAD_REQUEST, "limit must be positive");
      return r;
    }
    f.limit = ippGetInteger(a, 0);
  }
  std::set<JobId> only;
  if (ipp_attribute_t* a = ippFindAttribute(c.req, "job-ids", IPP_TAG_INTEGER))
    for (int i = 0; i < ippGetCount(a); ++i) only.insert(ippGetInteger(a, i));
  auto jobs = c.s.jobs.store().jobs(f);
  if (!jobs) {
    c.error(ippStatusFor(jobs.status()), jobs.status().message());
    return r;
  }
  ipp_t* resp = newResponse(c.req, IPP_STATUS_OK, "");
  Requested want(ippFindAttribute(c.req, "requested-attributes", IPP_TAG_ZERO),
                 {"job-id", "job-uri"});
  bool first = true;
  for (const Job& j : *jobs) {
    if (!only.empty() && !only.count(j.id)) continue;
    if (!first) ippAddSeparator(resp);
    first = false;
    addJobAttributes(resp, jobView(c, j), want);
  }
  c.reply(resp);
  return r;
}

HandleResult getPrinterAttributes(Context& c) {
  HandleResult r;
  if (!requireQueue(c)) return r;
  ipp_t* resp = newResponse(c.req, IPP_STATUS_OK, "");
  Requested want(ippFindAttribute(c.req, "requested-attributes", IPP_TAG_ZERO), {"all"});
  addPrinterAttributes(resp, *c.queue, printerState(c, *c.queue), want);
  c.reply(resp);
  return r;
}

}  // namespace

HandleResult dispatchOperation(Context& c) {
  switch (c.op) {
    case IPP_OP_PRINT_JOB:
      return printJob(c);
    case IPP_OP_VALIDATE_JOB:
      return validateJob(c);
    case IPP_OP_CREATE_JOB:
      return createJob(c);
    case IPP_OP_SEND_DOCUMENT:
      return sendDocument(c);
    case IPP_OP_CLOSE_JOB:
      return closeJob(c);
    case IPP_OP_CANCEL_JOB:
      return cancelJob(c);
    case IPP_OP_CANCEL_MY_JOBS:
      return cancelMyJobs(c);
    case IPP_OP_HOLD_JOB:
      return holdOrReleaseJob(c, true);
    case IPP_OP_RELEASE_JOB:
      return holdOrReleaseJob(c, false);
    case IPP_OP_GET_JOB_ATTRIBUTES:
      return getJobAttributes(c);
    case IPP_OP_GET_JOBS:
      return getJobs(c);
    case IPP_OP_GET_PRINTER_ATTRIBUTES:
      return getPrinterAttributes(c);
    default: {
      c.error(IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED,
              std::string("operation ") + ippOpString(c.op) + " is not supported");
      return {};
    }
  }
}

}  // namespace pullprint::spooler
