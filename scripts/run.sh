#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root) to a running server:
# installs what is missing, builds, and runs pullprintd in the foreground
# with its embedded defaults (state, SQLite and spool under ./state; a
# commented config file is written to ./state/pullprint.toml).
#   LISTEN=0.0.0.0:8631 STATE_DIR=/var/lib/pullprint bash scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
LISTEN=${LISTEN:-127.0.0.1:8631}
STATE_DIR=${STATE_DIR:-state}
echo "pullprintd: print to ipp://${LISTEN}/printers/followme (Ctrl-C stops)"
exec ./build/server/pullprintd --listen "$LISTEN" --state-dir "$STATE_DIR" "$@"
