// IppService: the spooler's IPP front door (RFC 8011, PWG 5100.11 hold/release).
//
// The HTTP layer (server/) hands it the bytes of a POST body; it never sees
// libcups types. A request goes through two steps:
//
//   1. parse(): the IPP message header (version, operation, attributes) is
//      decoded with libcups ippReadIO() from the bytes received so far;
//      kNeedMore until the attributes are complete. Any document data after
//      them is not buffered here.
//   2. handle(): one front door checks what every request must have
//      (version, request-id, charset and language first, a target), resolves
//      the queue and the requester's identity, then a flat switch dispatches
//      to one handler per operation; each handler authorises first. A handler
//      either answers through `respond` (at once or later, from any thread)
//      or returns a DocumentSink into which the HTTP layer streams the
//      document; the sink answers when the document is durable.
//
// Identity: requesting-user-name is believed only from trusted sources
// ([ipp].trusted_sources); others authenticate with HTTP Basic. When a
// request needs an identity and has none, handle() says so and the HTTP
// layer answers 401 with a Basic challenge.
//
// Thread contract: all methods are thread-safe; respond may be called on
// the committer thread (see committer.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/authenticator.h"
#include "core/cidr.h"
#include "core/config.h"
#include "core/log.h"
#include "policies/policy.h"
#include "spooler/job_service.h"

namespace pullprint::spooler {

// A decoded IPP request (opaque: holds the libcups message).
class IppRequest;

// Who is asking, as the HTTP layer saw it.
struct Peer {
  std::string address;                    // client IP, text form
  bool tls = false;                       // the connection is TLS
  std::string host;                       // HTTP Host header (sanitised), for URIs we return
  std::optional<std::string> basic_user;  // from Authorization: Basic
  std::optional<std::string> basic_password;
};

struct ParseResult {
  enum class Kind { kNeedMore, kMalformed, kComplete };
  Kind kind = Kind::kNeedMore;
  size_t consumed = 0;  // bytes of the IPP message (document data follows)
  std::string error;    // why it is malformed
  std::shared_ptr<IppRequest> request;
};

using Respond = std::function<void(std::string ipp_response)>;

// Receives one document as it arrives.
class DocumentSink {
 public:
  // Destroyed without finish()/fail(): the connection went away; the
  // partial document is removed and the job aborted (nothing was acknowledged).
  virtual ~DocumentSink() = default;
  // Appends bytes; a non-ok status (size limit, disk full) ends the upload:
  // call fail() with it.
  virtual Status write(const char* data, size_t size) = 0;
  // The body ended: make the document durable, then respond.
  virtual void finish(Respond respond) = 0;
  // Ends the upload with an error response (partial document removed).
  virtual void fail(const Status& why, Respond respond) = 0;
};

struct HandleResult {
  bool needs_authentication = false;   // answer HTTP 401
  std::unique_ptr<DocumentSink> sink;  // stream the rest of the body here
};

class IppService {
 public:
  // `release` may be null (then Release-Job only moves a job to pending).
  IppService(const Config& config, JobService& jobs, Authenticator& auth, Logger& log,
             class ReleaseEngine* release = nullptr);
  ~IppService();
  IppService(const IppService&) = delete;
  IppService& operator=(const IppService&) = delete;

  // Tries to decode the IPP message at the start of `data`. `complete`: the
  // body has ended (so running out of bytes means truncated, not "wait").
  ParseResult parse(const char* data, size_t size, bool complete) const;

  // The policy applied at submission (null: none). Thread-safe; in-flight
  // requests keep the policy they started with.
  void setPolicy(std::shared_ptr<const policies::Policy> policy);

  // Dispatches a parsed request. Exactly one of: respond is called (now or
  // later), a sink is returned, or needs_authentication is set.
  HandleResult handle(const std::shared_ptr<IppRequest>& request, const Peer& peer,
                      Respond respond);

  // An IPP error response for a request that could not be handled (e.g. the
  // HTTP layer gave up on the body). request may be null.
  std::string errorResponse(const std::shared_ptr<IppRequest>& request, const Status& status) const;

  struct Impl;  // opaque; defined in ipp_private.h

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pullprint::spooler
