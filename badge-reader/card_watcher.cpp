#include "badge-reader/card_watcher.h"

#include <winscard.h>

#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "core/wire/station_wire.h"

namespace pullprint::badge {

namespace {

std::string rvText(LONG rv) { return pcsc_stringify_error(rv); }

bool serviceLost(LONG rv) {
  return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED ||
         rv == SCARD_E_INVALID_HANDLE || rv == SCARD_F_COMM_ERROR || rv == SCARD_F_INTERNAL_ERROR;
}

std::string hex2(unsigned v) {
  char b[4];
  std::snprintf(b, sizeof b, "%02X", v & 0xff);
  return b;
}

}  // namespace

std::string describeStatusWord(unsigned sw1, unsigned sw2) {
  std::string sw = hex2(sw1) + " " + hex2(sw2);
  if (sw1 == 0x6A && sw2 == 0x81)
    return sw + ": function not supported (the reader cannot read this card's UID)";
  if (sw1 == 0x6D && sw2 == 0x00)
    return sw +
           ": instruction not supported (the card, not the reader, answered; "
           "use a contactless reader that implements GET DATA FF CA)";
  if (sw1 == 0x63 && sw2 == 0x00) return sw + ": no UID available";
  if (sw1 == 0x6B && sw2 == 0x00) return sw + ": wrong parameters";
  return sw + ": unexpected status word";
}

CardWatcher::CardWatcher(WatcherOptions options, OnCard on_card, OnLog on_log)
    : options_(options), on_card_(std::move(on_card)), on_log_(std::move(on_log)) {}

void CardWatcher::stop() {
  stop_ = true;
  if (long c = context_.load()) SCardCancel(c);
}

void CardWatcher::run() {
  std::chrono::milliseconds backoff{50};
  bool reported = false;
  while (!stop_) {
    SCARDCONTEXT ctx = 0;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
    if (rv != SCARD_S_SUCCESS) {
      if (!reported) on_log_("pcscd not reachable (" + rvText(rv) + "); retrying");
      reported = true;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    on_log_("connected to pcscd");
    reported = false;
    backoff = std::chrono::milliseconds(50);
    context_ = ctx;
    session(ctx);
    context_ = 0;
    SCardReleaseContext(ctx);
  }
}

void CardWatcher::session(long context) {
  SCARDCONTEXT ctx = static_cast<SCARDCONTEXT>(context);
  std::map<std::string, Reader> readers;
  unsigned long pnp_state = SCARD_STATE_UNAWARE;
  bool relist = true;
  bool first_list = true;

  while (!stop_) {
    // --- Reader list (again after every PnP notification) ---
    if (relist) {
      relist = false;
      DWORD len = 0;
      LONG rv = SCardListReaders(ctx, nullptr, nullptr, &len);
      std::vector<char> buf;
      if (rv == SCARD_S_SUCCESS) {
        buf.resize(len);
        rv = SCardListReaders(ctx, nullptr, buf.data(), &len);
      }
      if (rv != SCARD_S_SUCCESS && rv != SCARD_E_NO_READERS_AVAILABLE) {
        on_log_((serviceLost(rv) ? "lost pcscd (" : "listing readers failed (") + rvText(rv) +
                "); reconnecting");
        return;
      }
      std::map<std::string, Reader> next;
      if (rv == SCARD_S_SUCCESS) {
        for (const char* p = buf.data(); p < buf.data() + len && *p; p += std::strlen(p) + 1) {
          auto it = readers.find(p);
          if (it != readers.end())
            next.emplace(p, it->second);
          else {
            on_log_(std::string("reader added: ") + p);
            next.emplace(p, Reader{});
          }
        }
      }
      for (const auto& [name, r] : readers)
        if (!next.count(name)) on_log_("reader removed: " + name);
      if (next.empty() && (!readers.empty() || first_list)) on_log_("no reader; waiting for one");
      first_list = false;
      readers = std::move(next);
    }

    // --- Wait for a change on any reader or in the reader list ---
    std::vector<SCARD_READERSTATE> states;
    std::vector<std::string> names;
    for (auto& [name, r] : readers) {
      names.push_back(name);
      SCARD_READERSTATE s{};
      s.dwCurrentState = r.seen ? r.state : SCARD_STATE_UNAWARE;
      states.push_back(s);
    }
    SCARD_READERSTATE pnp{};
    pnp.szReader = "\\\\?PnP?\\Notification";
    pnp.dwCurrentState = pnp_state;
    states.push_back(pnp);
    for (size_t i = 0; i < names.size(); ++i) states[i].szReader = names[i].c_str();

    LONG rv = SCardGetStatusChange(ctx, 60000, states.data(), static_cast<DWORD>(states.size()));
    if (stop_) return;
    if (rv == SCARD_E_TIMEOUT) continue;
    if (rv == SCARD_E_CANCELLED) return;
    if (rv == SCARD_E_UNKNOWN_READER) {  // a reader vanished between list and wait
      relist = true;
      continue;
    }
    if (rv != SCARD_S_SUCCESS) {
      on_log_("lost pcscd (" + rvText(rv) + "); reconnecting");
      return;
    }

    const SCARD_READERSTATE& p = states.back();
    if (p.dwEventState & SCARD_STATE_CHANGED) relist = true;
    pnp_state = p.dwEventState & ~SCARD_STATE_CHANGED;

    for (size_t i = 0; i < names.size(); ++i) {
      const SCARD_READERSTATE& s = states[i];
      if (!(s.dwEventState & SCARD_STATE_CHANGED)) continue;
      Reader& r = readers[names[i]];
      bool was_seen = r.seen;
      r.seen = true;
      r.state = s.dwEventState & ~SCARD_STATE_CHANGED;
      if (s.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE | SCARD_STATE_UNAVAILABLE)) {
        relist = true;
        continue;
      }
      bool present = (s.dwEventState & SCARD_STATE_PRESENT) && !(s.dwEventState & SCARD_STATE_MUTE);
      if (present && !r.present) {
        r.present = true;
        if (!was_seen) {
          on_log_("card already on " + names[i] + " when first seen: lift it and tap again");
          continue;
        }
        onInsert(context, names[i], r);
      } else if (!present && r.present) {
        r.present = false;
        r.removed_at = std::chrono::steady_clock::now();
      }
    }
  }
}

void CardWatcher::onInsert(long context, const std::string& name, Reader& r) {
  CardRead read;
  read.reader = name;
  read.at = std::chrono::steady_clock::now();
  SCARDCONTEXT ctx = static_cast<SCARDCONTEXT>(context);
  SCARDHANDLE card = 0;
  DWORD proto = 0;
  LONG rv = SCardConnect(ctx, name.c_str(), SCARD_SHARE_SHARED,
                         SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
  if (rv != SCARD_S_SUCCESS) {
    read.error = "cannot connect to the card: " + rvText(rv);
    on_card_(read);
    return;
  }
  const SCARD_IO_REQUEST* pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
  BYTE apdu[5] = {0xFF, 0xCA, 0x00, 0x00, 0x00};
  BYTE resp[260];
  DWORD n = sizeof resp;
  rv = SCardTransmit(card, pci, apdu, sizeof apdu, nullptr, resp, &n);
  if (rv == SCARD_S_SUCCESS && n == 2 &&
      resp[0] == 0x6C) {  // wrong Le: ask again with the right one
    apdu[4] = resp[1];
    n = sizeof resp;
    rv = SCardTransmit(card, pci, apdu, sizeof apdu, nullptr, resp, &n);
  }
  SCardDisconnect(card, SCARD_LEAVE_CARD);
  if (rv != SCARD_S_SUCCESS) {
    read.error = "GET DATA failed: " + rvText(rv);
  } else if (n < 2) {
    read.error = "empty answer to GET DATA";
  } else if (resp[n - 2] != 0x90 || resp[n - 1] != 0x00) {
    read.error = "the reader refused GET DATA UID: " + describeStatusWord(resp[n - 2], resp[n - 1]);
  } else if (n - 2 < wire::kMinUidBytes || n - 2 > wire::kMaxUidBytes) {
    read.error = "unexpected UID length " + std::to_string(n - 2) + " bytes";
  } else {
    read.uid = wire::uidFromBytes(resp, n - 2);
  }

  // Debounce: the same card coming back at once is the same tap.
  if (!read.uid.empty() && read.uid == r.last_uid && read.at - r.removed_at < options_.debounce) {
    on_log_("same card again within the debounce time on " + name + ": ignored");
    return;
  }
  if (!read.uid.empty()) r.last_uid = read.uid;
  on_card_(read);
}

}  // namespace pullprint::badge
