#!/usr/bin/env bash
# Builds and runs the page-counting benchmark (bench/analysis) in its own
# build directory and prints a Markdown table (see docs/benchmarks.md, "Benchmark: page counting").
#
#   scripts/bench-analysis.sh [--runs N] [--pages N] [--inner K] [--pdf-only]
#
# Environment: BENCH_BUILD_DIR (default build-analysis).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-analysis}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPULLPRINT_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_analysis >/dev/null
echo "host: $(nproc) cores, $(uname -sr), qpdf $(qpdf --version | head -1 | awk '{print $3}'), gs $(gs --version)"
exec "$build/bench/analysis/bench_analysis" "$@"
