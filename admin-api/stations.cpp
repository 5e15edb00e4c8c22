#include "admin-api/stations.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include "admin-api/csv.h"
#include "admin-api/url.h"
#include "core/names.h"
#include "core/wire/station_wire.h"

namespace pullprint::api {

namespace {

using nlohmann::json;

constexpr std::string_view kStations = "/api/v1/stations";
constexpr std::string_view kCards = "/api/v1/cards";

ApiResponse reply(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}
// Station refusals carry no Basic challenge (stations sign, they do not log in);
// for user routes Api has already authenticated.
ApiResponse error(int status, const std::string& message) {
  return reply(status, json{{"error", message}});
}

// One line of POST /api/v1/cards/import, split: the card number, or nullopt
// with *err. `exported`: the line is in the layout of GET /api/v1/cards.csv
// (uid,user,created_at,revoked_at,source), where a revoked card sets
// *revoked and is skipped; else uid,username[,format]. The user is cols[1].
std::optional<std::string> importedCard(const std::vector<std::string>& cols, bool exported,
                                        bool* revoked, std::string* err) {
  std::string text = cols[0];
  if (exported) {
    if (cols.size() != 5 || cols[1].empty()) {
      *err = "expected uid,user,created_at,revoked_at,source";
      return std::nullopt;
    }
    std::int64_t revoked_at = 0;
    auto [end, ec] = std::from_chars(cols[3].data(), cols[3].data() + cols[3].size(), revoked_at);
    if (ec != std::errc() || end != cols[3].data() + cols[3].size()) {
      *err = "revoked_at must be a number";
      return std::nullopt;
    }
    *revoked = revoked_at != 0;
  } else {
    if (cols.size() < 2 || cols.size() > 3 || cols[1].empty()) {
      *err = "expected uid,username[,format]";
      return std::nullopt;
    }
    if (cols.size() == 3 && !cols[2].empty() && cols[2] != "hex") {
      if (cols[2] != "dec" && cols[2] != "decle" && cols[2] != "rev") {
        *err = "format must be hex, dec, decle or rev";
        return std::nullopt;
      }
      text = cols[2] + ":" + text;
    }
  }
  return wire::parseCardNumber(text, err);
}

json cardJson(const Card& c) {
  return {{"uid", c.uid},
          {"user", c.user},
          {"created_at", c.created_at},
          {"revoked_at", c.revoked_at},
          {"active", c.revoked_at == 0},
          {"source", c.source},
          {"decimal_be", wire::uidToDecimal(c.uid, false)},
          {"decimal_le", wire::uidToDecimal(c.uid, true)}};
}

json stationJson(const Station& s) {
  return {{"name", s.name},
          {"printers", s.printers},
          {"created_at", s.created_at},
          {"revoked_at", s.revoked_at},
          {"active", s.revoked_at == 0}};
}

}  // namespace

StationApi::StationApi(const Config& config, Store& store, spooler::ReleaseEngine& release,
                       Authenticator& auth, const Clock& clock, Logger& log)
    : config_(config), store_(store), release_(release), auth_(auth), clock_(clock), log_(log) {}

bool StationApi::serves(std::string_view path) {
  auto under = [&](std::string_view base) {
    return path == base || (path.size() > base.size() && path.substr(0, base.size()) == base &&
                            path[base.size()] == '/');
  };
  return under(kStations) || under(kCards);
}

ApiResponse StationApi::handle(const ApiRequest& req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (path != wire::kReleasePath) return error(404, "no such route: " + req.method + " " + path);
  if (req.method != "POST") return error(405, "use POST");
  return stationRelease(req);
}

ApiResponse StationApi::handleUser(const ApiRequest& req, const User& user) {
  return adminOrUser(req, req.target.substr(0, req.target.find('?')), user);
}

void StationApi::audit(const User& actor, const char* action, const std::string& target,
                       const json& before, const json& after) {
  if (audit_) (void)audit_->record(actor.name, action, target, before, after);
}

// ---------------------------------------------------------------------------
// Signed station requests

ApiResponse StationApi::stationRelease(const ApiRequest& req) {
  const UnixSeconds now = clock_.now();
  const std::string station_name = req.header("x-pullprint-station");
  const std::string ts_text = req.header("x-pullprint-timestamp");
  const std::string nonce = req.header("x-pullprint-nonce");
  std::string signature = req.header("x-pullprint-signature");
  auto refuse = [&](int status, const char* reason, const std::string& message) {
    log_.warn("station.refused", {{"reason", reason},
                                  {"station", station_name.substr(0, 64)},
                                  {"peer", req.peer_address},
                                  {"status", status}});
    return error(status, message);
  };

  // --- Who is asking, and is the request fresh and genuine ---
  if (station_name.empty() || ts_text.empty() || nonce.empty() || signature.empty())
    return refuse(401, "unsigned",
                  "unsigned request: X-Pullprint-Station, -Timestamp, -Nonce "
                  "and -Signature are required");
  UnixSeconds ts = 0;
  auto [p, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
  if (ec != std::errc() || p != ts_text.data() + ts_text.size())
    return refuse(401, "bad-timestamp", "X-Pullprint-Timestamp must be Unix seconds");
  if (ts < now - config_.station_clock_skew_seconds ||
      ts > now + config_.station_clock_skew_seconds)
    return refuse(401, "stale",
                  "stale request: timestamp is " + std::to_string(ts - now) +
                      " s from the server's clock (allowed: ±" +
                      std::to_string(config_.station_clock_skew_seconds) + " s)");
  if (!wire::validNonce(nonce))
    return refuse(401, "bad-nonce", "X-Pullprint-Nonce must be 16-64 of [A-Za-z0-9_-]");
  auto st = store_.station(station_name);
  if (!st) return refuse(503, "store", st.status().message());
  if (!st->has_value()) return refuse(401, "unknown-station", "unknown station");
  const Station& station = **st;
  std::transform(signature.begin(), signature.end(), signature.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string expected =
      wire::signRequest(station.secret, req.method, req.target, ts_text, nonce, req.body);
  if (!wire::timingSafeEqual(expected, signature))
    return refuse(401, "bad-signature", "bad signature");
  if (station.revoked_at != 0) return refuse(403, "revoked", "station revoked");
  Status ns = store_.write([&](StoreWriter& w) {
    return w.insertStationNonce(station.name, nonce, ts + config_.station_clock_skew_seconds, now);
  });
  if (!ns) {
    if (ns.code() == StatusCode::kAlreadyExists)
      return refuse(409, "replayed", "replayed request (nonce already used)");
    return refuse(503, "store", ns.message());
  }

  // --- What is asked ---
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("printer") ||
      !body["printer"].is_string() || !body.contains("card_uid") || !body["card_uid"].is_string())
    return refuse(400, "bad-body", "body must be {\"printer\": string, \"card_uid\": string}");
  const std::string printer = body["printer"].get<std::string>();
  if (std::find(station.printers.begin(), station.printers.end(), printer) ==
      station.printers.end())
    return refuse(403, "foreign-printer",
                  "printer '" + printer.substr(0, 127) + "' is not served by this station");
  if (failedReads(station.name, now) >= config_.station_failed_reads_per_minute)
    return refuse(429, "rate-limited", "too many failed card reads at this station; wait a minute");
  std::string uid_error;
  auto uid = wire::parseCardNumber(body["card_uid"].get<std::string>(), &uid_error);
  if (!uid) {
    countFailedRead(station.name, now);
    return refuse(400, "bad-card", "card number: " + uid_error);
  }

  // --- Card -> user (or self-registration) ---
  auto card = store_.card(*uid);
  if (!card) return refuse(503, "store", card.status().message());
  std::string user;
  bool registered = false;
  if (card->has_value() && (*card)->revoked_at == 0) {
    user = (*card)->user;
  } else {
    auto pending = store_.pendingCardRegistrations(now);
    if (!pending) return refuse(503, "store", pending.status().message());
    std::set<std::string> candidates;
    for (const auto& r : *pending)
      if (r.printer.empty() || r.printer == printer) candidates.insert(r.user);
    if (candidates.size() > 1) {
      log_.warn("card.register-ambiguous", {{"station", station.name},
                                            {"printer", printer},
                                            {"card", wire::redactUid(*uid)},
                                            {"candidates", static_cast<int>(candidates.size())}});
      return error(409,
                   "several people are registering a card right now; start again "
                   "and choose this printer");
    }
    if (candidates.empty()) {
      countFailedRead(station.name, now);
      log_.info("station.unknown-card",
                {{"station", station.name}, {"printer", printer}, {"card", wire::redactUid(*uid)}});
      return reply(404,
                   {{"error", "unknown card"},
                    {"card", wire::redactUid(*uid)},
                    {"hint",
                     "register it in the portal: log in, choose \"register my card\", "
                     "then tap it here within " +
                         std::to_string(config_.card_register_window_seconds / 60) + " minutes"}});
    }
    user = *candidates.begin();
    Card c;
    c.uid = *uid;
    c.user = user;
    c.created_at = now;
    c.source = "self";
    Status s = store_.write([&](StoreWriter& w) {
      if (Status u = w.upsertCard(c); !u) return u;
      return w.deleteCardRegistrations(user);
    });
    if (!s) return error(httpStatusFor(s), s.message());
    registered = true;
    log_.info("audit.card-registered", {{"actor", user},
                                        {"user", user},
                                        {"card", wire::redactUid(*uid)},
                                        {"station", station.name},
                                        {"printer", printer}});
  }

  // --- Release ---
  auto r = release_.release(user, printer, {}, "station:" + station.name);
  json out = {
      {"user", user}, {"printer", printer}, {"station", station.name}, {"registered", registered}};
  if (!r) {
    if (r.status().code() == StatusCode::kNotFound) {
      // The printer is known (it is the station's), so: nothing held for this user.
      out["jobs"] = 0;
      out["pages"] = 0;
      out["message"] = "no held jobs";
      log_.info("station.release",
                {{"station", station.name}, {"printer", printer}, {"user", user}, {"jobs", 0}});
      return reply(200, out);
    }
    log_.warn("station.release-failed", {{"station", station.name},
                                         {"printer", printer},
                                         {"user", user},
                                         {"error", r.status().message()}});
    return error(httpStatusFor(r.status()), r.status().message());
  }
  out["jobs"] = r->jobs.size();
  out["job_ids"] = r->jobs;
  out["pages"] = r->pages ? json(*r->pages) : json(nullptr);
  out["sheets"] = r->sheets ? json(*r->sheets) : json(nullptr);
  log_.info("station.release", {{"station", station.name},
                                {"printer", printer},
                                {"user", user},
                                {"jobs", static_cast<int>(r->jobs.size())}});
  return reply(200, out);
}

std::int64_t StationApi::failedReads(const std::string& station, UnixSeconds now) {
  std::lock_guard lock(rate_mu_);
  auto it = failed_.find(station);
  if (it == failed_.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && q.front() <= now - 60) q.pop_front();
  return static_cast<std::int64_t>(q.size());
}

void StationApi::countFailedRead(const std::string& station, UnixSeconds now) {
  std::lock_guard lock(rate_mu_);
  auto& q = failed_[station];
  q.push_back(now);
  while (q.size() > 1000) q.pop_front();
}

// ---------------------------------------------------------------------------
// Admin and user routes (authenticated by Api)

ApiResponse StationApi::adminOrUser(const ApiRequest& req, const std::string& path, const User& u) {
  const User* user = &u;
  const bool admin = user->role == Role::kAdmin;
  const UnixSeconds now = clock_.now();

  json body;
  const bool csv = path == "/api/v1/cards/import";
  if (req.method == "POST" && !req.body.empty() && !csv) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return error(400, "body must be a JSON object");
  }
  auto str = [&](const char* key) -> std::optional<std::string> {
    if (body.contains(key) && body[key].is_string()) return body[key].get<std::string>();
    return std::nullopt;
  };

  // --- Stations ---
  if (path == kStations && req.method == "POST") {
    if (!admin) return error(403, "administrators only");
    auto name = str("name");
    if (!name || !isSafeName(*name, kMaxStationName) || *name == "release")
      return error(400, "name must be 1-64 of A-Z a-z 0-9 _ - (and not 'release')");
    if (!body.contains("printers") || !body["printers"].is_array() || body["printers"].empty())
      return error(400, "printers must be a non-empty array of printer names");
    Station s;
    s.name = *name;
    for (auto& v : body["printers"]) {
      if (!v.is_string()) return error(400, "printers must be a non-empty array of printer names");
      auto p = store_.printer(v.get<std::string>());
      if (!p) return error(httpStatusFor(p.status()), p.status().message());
      if (!p->has_value()) return error(400, "no printer named '" + v.get<std::string>() + "'");
      s.printers.push_back(v.get<std::string>());
    }
    s.secret = wire::randomHex(32);
    if (s.secret.empty()) return error(500, "no random bytes");
    s.created_at = now;
    if (Status w = store_.write([&](StoreWriter& wr) { return wr.insertStation(s); }); !w)
      return error(httpStatusFor(w), w.message());
    log_.info("audit.station-created", {{"actor", user->name},
                                        {"station", s.name},
                                        {"printers", static_cast<int>(s.printers.size())}});
    audit(*user, "station.create", s.name, nullptr, stationJson(s));
    json out = stationJson(s);
    out["secret"] = s.secret;
    out["note"] = "the secret is shown only now; put it in the station's secret file";
    return reply(201, out);
  }
  if (path == kStations && req.method == "GET") {
    if (!admin) return error(403, "administrators only");
    auto all = store_.stations();
    if (!all) return error(httpStatusFor(all.status()), all.status().message());
    json out = json::array();
    for (const auto& s : *all) out.push_back(stationJson(s));
    return reply(200, {{"stations", out}});
  }
  const std::string stations_prefix = std::string(kStations) + "/";
  if (req.method == "POST" && path.rfind(stations_prefix, 0) == 0 && path.ends_with("/revoke")) {
    if (!admin) return error(403, "administrators only");
    std::string name =
        urlDecode(path.substr(stations_prefix.size(), path.size() - stations_prefix.size() - 7));
    auto before = store_.station(name);
    Status s = store_.write([&](StoreWriter& w) { return w.revokeStation(name, now); });
    if (!s) return error(httpStatusFor(s), s.message());
    log_.info("audit.station-revoked", {{"actor", user->name}, {"station", name}});
    if (before && before->has_value()) {
      Station after = **before;
      after.revoked_at = now;
      audit(*user, "station.revoke", name, stationJson(**before), stationJson(after));
    }
    return reply(200, {{"name", name}, {"revoked_at", now}});
  }

  // --- Cards ---
  if (path == "/api/v1/cards/register-intent" && req.method == "POST") {
    CardRegistration r;
    r.user = user->name;
    r.printer = str("printer").value_or("");
    r.created_at = now;
    r.expires_at = now + config_.card_register_window_seconds;
    Status s = store_.write([&](StoreWriter& w) {
      if (Status d = w.deleteCardRegistrations(r.user); !d) return d;
      return w.insertCardRegistration(r);
    });
    if (!s) return error(httpStatusFor(s), s.message());
    log_.info("audit.card-register-intent", {{"actor", user->name}, {"printer", r.printer}});
    return reply(201, {{"user", r.user},
                       {"printer", r.printer},
                       {"expires_at", r.expires_at},
                       {"window_seconds", config_.card_register_window_seconds},
                       {"message", "tap your card at the printer now"}});
  }
  if (path == kCards && req.method == "POST") {
    if (!admin) return error(403, "administrators only");
    auto uid_text = str("uid");
    auto owner = str("user");
    if (!uid_text || !owner || owner->empty())
      return error(400, "uid and user are required strings");
    std::string err;
    auto uid = wire::parseCardNumber(*uid_text, &err);
    if (!uid) return error(400, "uid: " + err);
    Card c{*uid, *owner, now, 0, "admin"};
    auto before = store_.card(*uid);
    if (Status s = store_.write([&](StoreWriter& w) { return w.upsertCard(c); }); !s)
      return error(httpStatusFor(s), s.message());
    audit(*user, "card.save", wire::redactUid(*uid),
          before && before->has_value() ? cardJson(**before) : json(nullptr), cardJson(c));
    log_.info("audit.card-saved",
              {{"actor", user->name}, {"user", *owner}, {"card", wire::redactUid(*uid)}});
    return reply(201, cardJson(c));
  }
  if (path == kCards && req.method == "GET") {
    std::string who;
    for (const auto& [name, value] : queryParams(req.target))
      if (name == "user") who = value;
    if (who.empty()) who = user->name;
    if (who != user->name && !admin) return error(403, "you can list only your own cards");
    auto cards = store_.cardsOfUser(who);
    if (!cards) return error(httpStatusFor(cards.status()), cards.status().message());
    json out = json::array();
    for (const auto& c : *cards) out.push_back(cardJson(c));
    return reply(200, {{"user", who}, {"cards", out}});
  }
  if (path == "/api/v1/cards/import" && req.method == "POST") {
    if (!admin) return error(403, "administrators only");
    // Validate every line first: all or nothing. Two layouts: lines
    // `uid,username[,format]` (optional header `uid,...` or `card,...`), or
    // the export of GET /api/v1/cards.csv as it is (its header line
    // `uid,user,created_at,revoked_at,source`), where revoked cards are
    // skipped rather than brought back.
    std::vector<Card> cards;
    json errors = json::array();
    std::istringstream in(req.body);
    std::string line;
    int lineno = 0;
    bool exported = false;
    int skipped_revoked = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
      auto split = csvSplit(line);
      if (!split) {
        errors.push_back({{"line", lineno}, {"error", "a quoted field is not closed"}});
        continue;
      }
      const std::vector<std::string>& cols = *split;
      if (lineno == 1 && !cols.empty() && (cols[0] == "uid" || cols[0] == "card")) {
        exported =
            cols == std::vector<std::string>{"uid", "user", "created_at", "revoked_at", "source"};
        continue;
      }
      bool revoked = false;
      std::string err;
      std::optional<std::string> uid = importedCard(cols, exported, &revoked, &err);
      if (revoked) {
        ++skipped_revoked;
        continue;
      }
      if (!uid) {
        errors.push_back({{"line", lineno}, {"error", err}});
        continue;
      }
      cards.push_back(Card{*uid, cols[1], now, 0, "import"});
    }
    if (!errors.empty()) return reply(400, {{"error", "nothing imported"}, {"lines", errors}});
    int conflict_line = 0;
    Status s = store_.write([&](StoreWriter& w) {
      for (size_t i = 0; i < cards.size(); ++i) {
        if (Status u = w.upsertCard(cards[i]); !u) {
          conflict_line = static_cast<int>(i) + 1;
          return u;
        }
      }
      return Status::ok();
    });
    if (!s)
      return reply(httpStatusFor(s),
                   {{"error", "nothing imported: card " + std::to_string(conflict_line) + ": " +
                                  s.message()}});
    log_.info("audit.cards-imported",
              {{"actor", user->name}, {"cards", static_cast<int>(cards.size())}});
    json imported = json::array();
    for (const auto& c : cards)
      imported.push_back({{"user", c.user}, {"card", wire::redactUid(c.uid)}});
    audit(*user, "cards.import", std::to_string(cards.size()) + " cards", nullptr, imported);
    return reply(200, {{"imported", cards.size()}, {"skipped_revoked", skipped_revoked}});
  }
  const std::string cards_prefix = std::string(kCards) + "/";
  if (path.rfind(cards_prefix, 0) == 0 &&
      (req.method == "DELETE" || (req.method == "POST" && path.ends_with("/revoke")))) {
    std::string raw = path.substr(cards_prefix.size());
    if (req.method == "POST") raw = raw.substr(0, raw.size() - 7);
    std::string err;
    auto uid = wire::parseCardNumber(urlDecode(raw), &err);
    if (!uid) return error(400, "uid: " + err);
    auto c = store_.card(*uid);
    if (!c) return error(httpStatusFor(c.status()), c.status().message());
    if (!c->has_value() || (!admin && (*c)->user != user->name)) return error(404, "no such card");
    Status s = store_.write([&](StoreWriter& w) { return w.revokeCard(*uid, now); });
    if (!s) return error(httpStatusFor(s), s.message());
    log_.info("audit.card-revoked",
              {{"actor", user->name}, {"user", (*c)->user}, {"card", wire::redactUid(*uid)}});
    if (admin) {
      Card after = **c;
      after.revoked_at = now;
      audit(*user, "card.revoke", wire::redactUid(*uid), cardJson(**c), cardJson(after));
    }
    return reply(200, {{"uid", *uid}, {"revoked_at", now}});
  }
  return error(404, "no such route: " + req.method + " " + path);
}

}  // namespace pullprint::api
