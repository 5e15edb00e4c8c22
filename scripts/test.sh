#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root) to every test:
# installs what is missing, builds, runs the unit and integration tests
# (which start their own cupsd, ippeveprinter, ... on 127.0.0.1), then the
# bounded fuzz runs. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
status=0
(cd build && ctest --output-on-failure --timeout 600 -j1) || status=$?
if [[ -x scripts/fuzz.sh && $status -eq 0 ]]; then
  bash scripts/fuzz.sh || status=$?
fi
exit $status
