// Private to the IPP layer: the decoded request, the service state, the
// per-request context and the helpers the handlers share. libcups types
// appear only here and in the ipp_*.cpp files.
#pragma once

#include <cups/cups.h>
#include <cups/ipp.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "spooler/ipp_attributes.h"
#include "spooler/ipp_service.h"
#include "spooler/release_engine.h"

namespace pullprint::spooler {

// ---------------------------------------------------------------------------
// Decoding

class IppRequest {
 public:
  explicit IppRequest(ipp_t* ipp) : ipp_(ipp) {}
  ~IppRequest() { ippDelete(ipp_); }
  IppRequest(const IppRequest&) = delete;
  IppRequest& operator=(const IppRequest&) = delete;
  ipp_t* get() const { return ipp_; }

 private:
  ipp_t* ipp_;
};

// ippReadIO() source over a byte range: hands out bytes until they run out.
struct MemSource {
  const char* data;
  size_t size;
  size_t pos = 0;
  bool starved = false;  // ippReadIO asked for more than we have
};

inline ssize_t readMem(void* ctx, ipp_uchar_t* buffer, size_t bytes) {
  auto* s = static_cast<MemSource*>(ctx);
  size_t left = s->size - s->pos;
  if (left < bytes) {
    s->starved = true;
    // Give nothing: libcups treats a short read as an error, and we retry
    // from the start when more bytes have arrived.
    return 0;
  }
  std::memcpy(buffer, s->data + s->pos, bytes);
  s->pos += bytes;
  return static_cast<ssize_t>(bytes);
}

inline ssize_t writeString(void* ctx, ipp_uchar_t* buffer, size_t bytes) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(buffer), bytes);
  return static_cast<ssize_t>(bytes);
}

inline std::string encode(ipp_t* ipp) {
  std::string out;
  out.reserve(1024);
  ippWriteIO(&out, writeString, 1, nullptr, ipp);
  return out;
}

// The single mapping from pullprint errors to IPP status codes.
inline ipp_status_t ippStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return IPP_STATUS_OK;
    case StatusCode::kInvalidArgument:
      return IPP_STATUS_ERROR_BAD_REQUEST;
    case StatusCode::kNotFound:
      return IPP_STATUS_ERROR_NOT_FOUND;
    case StatusCode::kAlreadyExists:
      return IPP_STATUS_ERROR_NOT_POSSIBLE;
    case StatusCode::kPermissionDenied:
      return IPP_STATUS_ERROR_NOT_AUTHORIZED;
    case StatusCode::kUnauthenticated:
      return IPP_STATUS_ERROR_NOT_AUTHENTICATED;
    case StatusCode::kFailedPrecondition:
      return IPP_STATUS_ERROR_NOT_POSSIBLE;
    case StatusCode::kResourceExhausted:
      return IPP_STATUS_ERROR_TEMPORARY;
    case StatusCode::kUnimplemented:
      return IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED;
    case StatusCode::kUnavailable:
      return IPP_STATUS_ERROR_TEMPORARY;
    case StatusCode::kInternal:
      return IPP_STATUS_ERROR_INTERNAL;
  }
  return IPP_STATUS_ERROR_INTERNAL;
}

inline ipp_t* newResponse(ipp_t* request, ipp_status_t status, const std::string& message) {
  ipp_t* resp = request ? ippNewResponse(request) : ippNew();
  if (!request) {
    ippSetVersion(resp, 2, 0);
    ippAddString(resp, IPP_TAG_OPERATION, IPP_TAG_CHARSET, "attributes-charset", nullptr, "utf-8");
    ippAddString(resp, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", nullptr,
                 "en");
  }
  ippSetStatusCode(resp, status);
  if (!message.empty())
    ippAddString(resp, IPP_TAG_OPERATION, IPP_TAG_TEXT, "status-message", nullptr, message.c_str());
  return resp;
}

inline std::string toBytes(ipp_t* resp) {
  std::string out = encode(resp);
  ippDelete(resp);
  return out;
}

inline std::string errorBytes(ipp_t* request, ipp_status_t status, const std::string& message) {
  return toBytes(newResponse(request, status, message));
}

inline const char* strAttr(ipp_t* ipp, const char* name, ipp_tag_t group = IPP_TAG_ZERO) {
  ipp_attribute_t* a = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  if (!a || (group != IPP_TAG_ZERO && ippGetGroupTag(a) != group)) return nullptr;
  return ippGetString(a, 0, nullptr);
}

// Extracts the resource path from an ipp:// URI.
inline std::string uriResource(const char* uri) {
  if (!uri) return {};
  char scheme[32], userpass[256], host[256], resource[1024];
  int port = 0;
  if (httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof scheme, userpass, sizeof userpass,
                      host, sizeof host, &port, resource, sizeof resource) < HTTP_URI_STATUS_OK)
    return {};
  // CUPS device URIs carry backend options as a query
  // (ipp://host/printers/followme?waitjob=false), and cupsd sends that URI
  // as printer-uri when it builds an everywhere PPD: the query names no queue.
  std::string path = resource;
  return path.substr(0, path.find('?'));
}

// ---------------------------------------------------------------------------
// Impl

struct IppService::Impl {
  const Config& config;
  JobService& jobs;
  Authenticator& auth;
  Logger& log;
  CidrSet trusted;
  std::vector<QueueInfo> queues;
  UnixSeconds started_at;
  ReleaseEngine* release = nullptr;  // null in unit tests
  std::mutex policy_mu;              // guards policy
  std::shared_ptr<const policies::Policy> policy;
  std::shared_ptr<const policies::Policy> currentPolicy() {
    std::lock_guard lock(policy_mu);
    return policy;
  }
  // Free space a user's new jobs need on the spool's file system beyond
  // min_free_bytes, set when one of their documents ran out of room (about
  // its size): until that much is free, or for a minute at most, that
  // user's new jobs are refused at once instead of being accepted and
  // failing on their document. Other users are not held back by it.
  struct RoomWanted {
    std::int64_t bytes = 0;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex room_mu;                             // guards room_wanted
  std::map<std::string, RoomWanted> room_wanted;  // by user

  Impl(const Config& c, JobService& j, Authenticator& a, Logger& l)
      : config(c), jobs(j), auth(a), log(l), started_at(j.clock().now()) {
    auto t = CidrSet::parse(c.trusted_sources);
    if (t) trusted = *t;  // validated at start-up by main
    queues = queuesFromConfig(c);
  }

  const QueueInfo* queueByName(const std::string& name) const {
    for (const auto& q : queues)
      if (q.name == name) return &q;
    return nullptr;
  }

  // "/printers/NAME" -> queue. "/ipp/print" is the follow-me queue (the
  // IPP Everywhere default path), so driverless clients find it too.
  const QueueInfo* queueForResource(const std::string& resource) const {
    if (resource == "/ipp/print") return queueByName("followme");
    constexpr std::string_view kPrefix = "/printers/";
    if (resource.rfind(kPrefix, 0) != 0) return nullptr;
    return queueByName(resource.substr(kPrefix.size()));
  }
};

// Everything one request needs while it is handled.
struct Context {
  IppService::Impl& s;
  ipp_t* req;
  std::shared_ptr<IppRequest> holder;
  Peer peer;
  Respond respond;
  ipp_op_t op;
  const QueueInfo* queue = nullptr;  // target queue (printer-uri), if any
  JobId job_id = 0;                  // target job, if any
  std::string user;                  // effective requesting user; "" = anonymous
  bool admin = false;
  std::string host;  // for URIs in responses

  void reply(ipp_t* resp) { respond(toBytes(resp)); }
  void error(ipp_status_t status, const std::string& msg) {
    s.log.info("ipp.error", {{"op", ippOpString(op)},
                             {"status", ippErrorString(status)},
                             {"message", msg},
                             {"peer", peer.address}});
    reply(newResponse(req, status, msg));
  }
};

// Handlers, one per operation (ipp_handlers.cpp).
HandleResult dispatchOperation(Context& c);

}  // namespace pullprint::spooler
