#!/usr/bin/env bash
# Installs every Debian 12 package pullprint needs to build, run and test.
# Idempotent: packages already present are skipped; apt runs only when
# something is missing. Must run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git
  # libraries the server links against
  libcups2-dev libboost-dev libsqlite3-dev libssl-dev libqpdf-dev
  nlohmann-json3-dev libtomlplusplus-dev libpcsclite-dev
  # tests: framework and the real components they drive
  catch2 cups cups-client cups-bsd cups-ipp-utils cups-filters dbus
  sqlite3 qpdf ghostscript poppler-utils procps curl openssl
  # fleet tests: a PAPPL printer application (Set-Printer-Attributes target)
  libpappl-dev
  # card release tests: PC/SC daemon, virtual reader driver, pcsc_scan; unshare/ip
  pcscd vsmartcard-vpcd pcsc-tools util-linux iproute2
  # web pages: Chart.js (embedded at build time); browser tests: headless Chromium + WebDriver
  libjs-chart.js chromium chromium-driver
  # fuzzing (libFuzzer) for the parsers we wrote ourselves
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
