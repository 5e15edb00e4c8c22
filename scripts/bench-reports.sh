#!/usr/bin/env bash
# Builds and runs the reports benchmark (bench/reports) in its own build
# directory: a generated KU Leuven-scale year (1,000,000 jobs, ~33 million
# pages, 2,500 printers, 40,000 users) in SQLite, summary latencies cold and
# warm, and the streamed CSV export with its peak memory. Prints Markdown
# (see docs/benchmarks.md, "Reports"). No root, no services.
#
#   scripts/bench-reports.sh [--jobs N] [--users U] [--printers P] [--seed S]
#                            [--runs R] [--skip-export] [--only-generate]
#
# The generated database is cached in $BENCH_CACHE_DIR (default
# build-release/bench-cache) under a hash of the generation parameters, so
# only the first run pays for generation (about a minute).
# Environment: BENCH_BUILD_DIR (default build-release).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-release}
cache=${BENCH_CACHE_DIR:-$build/bench-cache}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPULLPRINT_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_reports >/dev/null
echo "host: $(nproc) cores, $(uname -sr), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$build/bench/reports/bench_reports" --cache-dir "$cache" "$@"
