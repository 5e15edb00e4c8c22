#!/usr/bin/env bash
# Builds and runs the release-latency benchmark (bench/release) in its own
# build directory: pullprint (100,000 held jobs) vs a private cupsd, release
# call -> first document byte at the printer. Prints a Markdown table (see
# docs/benchmarks.md, "Release"). Must run as root (cupsd).
#
#   scripts/bench-release.sh [--jobs N] [--releases R] [--poll-ms MS] [--skip-cupsd] ...
#
# Environment: BENCH_BUILD_DIR (default build-release).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-release}
cmake -S "$root" -B "$build" -DPULLPRINT_BUILD_BENCH=ON -DPULLPRINT_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_release pullprintd pullprint-analyze >/dev/null
echo "host: $(nproc) cores, $(uname -sr), $(cupsd -v 2>/dev/null | head -1 || echo 'cupsd 2.4')"
exec "$build/bench/release/bench_release" "$@"
