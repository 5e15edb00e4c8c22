// IppService implementation: the front door, one handler per operation, and
// the document sinks. libcups types stay in this file and ipp_attributes.cpp.
#include "spooler/ipp_service.h"

#include <cups/cups.h>
#include <cups/ipp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "spooler/ipp_private.h"

namespace pullprint::spooler {
namespace {

// ---------------------------------------------------------------------------
// Attribute validation: libcups' ippValidateAttribute() for every attribute,
// with its verdict memoised for naturalLanguage and mimeMediaType values.
// libcups checks those two syntaxes with a regular expression that it
// compiles (regcomp) on every call; every request carries
// attributes-natural-language and most carry document-format, so that was
// ~9 % of the server's CPU per Print-Job. The same few values come again and
// again ("en", "application/pdf"): a value libcups accepted once, under the
// same attribute name, is accepted again without asking it. The verdict is
// libcups' own, so what is accepted and refused, and the message, do not
// change. Only accepted single-valued attributes are remembered, in a small
// per-thread set (no lock; at most kMaxRemembered entries, then no more are
// added).

constexpr std::size_t kMaxRemembered = 64;
constexpr std::size_t kMaxRememberedValue = 256;

// Unambiguous key: tag, then length-prefixed name and value.
bool rememberKey(ipp_attribute_t* attr, std::string* key) {
  const char* name = ippGetName(attr);
  const char* value = ippGetString(attr, 0, nullptr);
  if (!name || !value || ippGetCount(attr) != 1) return false;
  const std::size_t name_len = std::strlen(name), value_len = std::strlen(value);
  if (name_len > kMaxRememberedValue || value_len > kMaxRememberedValue) return false;
  key->clear();
  key->push_back(static_cast<char>(ippGetValueTag(attr)));
  key->push_back(static_cast<char>(name_len >> 8));
  key->push_back(static_cast<char>(name_len & 0xff));
  key->append(name, name_len);
  key->append(value, value_len);
  return true;
}

bool validAttributes(ipp_t* req, std::string* error) {
  thread_local std::set<std::string, std::less<>> accepted;
  thread_local std::string key;
  for (ipp_attribute_t* a = ippFirstAttribute(req); a; a = ippNextAttribute(req)) {
    const ipp_tag_t tag = ippGetValueTag(a);
    const bool memo = (tag == IPP_TAG_LANGUAGE || tag == IPP_TAG_MIMETYPE) && rememberKey(a, &key);
    if (memo && accepted.count(key)) continue;
    if (!ippValidateAttribute(a)) {
      *error = cupsLastErrorString();
      return false;
    }
    if (memo && accepted.size() < kMaxRemembered) accepted.insert(key);
  }
  return true;
}

}  // namespace

IppService::IppService(const Config& config, JobService& jobs, Authenticator& auth, Logger& log,
                       ReleaseEngine* release)
    : impl_(std::make_unique<Impl>(config, jobs, auth, log)) {
  impl_->release = release;
}

IppService::~IppService() = default;

void IppService::setPolicy(std::shared_ptr<const policies::Policy> policy) {
  std::lock_guard lock(impl_->policy_mu);
  impl_->policy = std::move(policy);
}

ParseResult IppService::parse(const char* data, size_t size, bool complete) const {
  ParseResult r;
  MemSource src{data, size};
  ipp_t* ipp = ippNew();
  ipp_state_t state = ippReadIO(&src, readMem, 1, nullptr, ipp);
  if (state == IPP_STATE_DATA) {
    r.kind = ParseResult::Kind::kComplete;
    r.consumed = src.pos;
    r.request = std::make_shared<IppRequest>(ipp);
    return r;
  }
  ippDelete(ipp);
  if (src.starved && !complete) {
    if (size > static_cast<size_t>(impl_->config.max_ipp_header_bytes)) {
      r.kind = ParseResult::Kind::kMalformed;
      r.error = "IPP attributes exceed max_ipp_header_bytes";
      return r;
    }
    r.kind = ParseResult::Kind::kNeedMore;
    return r;
  }
  r.kind = ParseResult::Kind::kMalformed;
  r.error = src.starved ? "IPP message is truncated" : "IPP message is malformed";
  return r;
}

std::string IppService::errorResponse(const std::shared_ptr<IppRequest>& request,
                                      const Status& status) const {
  ipp_status_t code = ippStatusFor(status);
  return errorBytes(request ? request->get() : nullptr, code, status.message());
}

HandleResult IppService::handle(const std::shared_ptr<IppRequest>& request, const Peer& peer,
                                Respond respond) {
  HandleResult result;
  ipp_t* req = request->get();
  Context c{*impl_, req, request, peer, std::move(respond), ippGetOperation(req), nullptr,
            0,      "",  false,   ""};
  c.host = peer.host.empty()
               ? impl_->config.listen_host + ":" + std::to_string(impl_->config.listen_port)
               : peer.host;

  // --- Common checks (RFC 8011 4.1) ---
  int minor = 0;
  int major = ippGetVersion(req, &minor);
  if (major < 1 || major > 2) {
    c.error(IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED, "IPP version must be 1.x or 2.x");
    return result;
  }
  if (ippGetRequestId(req) <= 0) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "request-id must be greater than zero");
    return result;
  }
  ipp_attribute_t* first = ippFirstAttribute(req);
  ipp_attribute_t* second = ippNextAttribute(req);
  if (!first || ippGetGroupTag(first) != IPP_TAG_OPERATION ||
      std::strcmp(ippGetName(first) ? ippGetName(first) : "", "attributes-charset") != 0 ||
      ippGetValueTag(first) != IPP_TAG_CHARSET) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "attributes-charset must be the first attribute");
    return result;
  }
  if (!second || ippGetGroupTag(second) != IPP_TAG_OPERATION ||
      std::strcmp(ippGetName(second) ? ippGetName(second) : "", "attributes-natural-language") !=
          0 ||
      ippGetValueTag(second) != IPP_TAG_LANGUAGE) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST,
            "attributes-natural-language must be the second attribute");
    return result;
  }
  const char* charset = ippGetString(first, 0, nullptr);
  if (!charset || (strcasecmp(charset, "utf-8") != 0 && strcasecmp(charset, "us-ascii") != 0)) {
    c.error(IPP_STATUS_ERROR_CHARSET, "attributes-charset must be utf-8");
    return result;
  }
  // Every attribute must be well-formed for its syntax (lengths, characters).
  if (std::string why; !validAttributes(req, &why)) {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, why);
    return result;
  }

  // --- Target: printer-uri (+ job-id) or job-uri ---
  const char* printer_uri = strAttr(req, "printer-uri", IPP_TAG_OPERATION);
  const char* job_uri = strAttr(req, "job-uri", IPP_TAG_OPERATION);
  if (job_uri) {
    std::string res = uriResource(job_uri);
    constexpr std::string_view kJobs = "/jobs/";
    if (res.rfind(kJobs, 0) != 0 || res.size() == kJobs.size() ||
        res.find_first_not_of("0123456789", kJobs.size()) != std::string::npos) {
      c.error(IPP_STATUS_ERROR_NOT_FOUND, "job-uri does not name a job of this server");
      return result;
    }
    c.job_id = std::stoll(res.substr(kJobs.size()));
  } else if (printer_uri) {
    c.queue = impl_->queueForResource(uriResource(printer_uri));
    if (!c.queue) {
      c.error(IPP_STATUS_ERROR_NOT_FOUND, "printer-uri does not name a queue of this server");
      return result;
    }
    if (ipp_attribute_t* jid = ippFindAttribute(req, "job-id", IPP_TAG_ZERO)) {
      if (ippGetGroupTag(jid) != IPP_TAG_OPERATION || ippGetValueTag(jid) != IPP_TAG_INTEGER ||
          ippGetCount(jid) != 1 || ippGetInteger(jid, 0) < 1) {
        c.error(IPP_STATUS_ERROR_BAD_REQUEST, "job-id must be one positive integer");
        return result;
      }
      c.job_id = ippGetInteger(jid, 0);
    }
  } else {
    c.error(IPP_STATUS_ERROR_BAD_REQUEST, "missing printer-uri or job-uri");
    return result;
  }

  // --- Identity ---
  if (peer.basic_user) {
    auto a = impl_->auth.attempt(*peer.basic_user, peer.basic_password.value_or(""), peer.address);
    const std::optional<User>& u = a.user;
    bool transport_ok =
        peer.tls || isLoopbackAddress(peer.address) || impl_->config.allow_basic_without_tls;
    if (!u || !transport_ok) {
      const char* reason = a.verdict == Authenticator::Verdict::kLimited ? "too many failed logins"
                           : u                                           ? "basic auth needs TLS"
                                                                         : "bad credentials";
      impl_->log.warn(
          "ipp.auth-failed",
          {{"user", peer.basic_user->substr(0, 64)}, {"peer", peer.address}, {"reason", reason}});
      result.needs_authentication = true;
      return result;
    }
    c.user = u->name;
    c.admin = u->role == Role::kAdmin;
  } else if (impl_->trusted.contains(peer.address)) {
    const char* name = strAttr(req, "requesting-user-name", IPP_TAG_OPERATION);
    c.user = (name && *name) ? name : "anonymous";
    const auto& admins = impl_->config.admin_users;
    c.admin = std::find(admins.begin(), admins.end(), c.user) != admins.end();
  }

  return dispatchOperation(c);
}

}  // namespace pullprint::spooler
