#!/usr/bin/env bash
# Builds and runs the policy evaluator benchmark (bench/policies) in its own
# Release build directory and prints a Markdown table (see
# docs/benchmarks.md ("Benchmark: policy evaluation")).
#
#   scripts/bench-policies.sh [--runs N] [--rounds N]
#
# Environment: BENCH_BUILD_DIR (default build-policies-bench).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-policies-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPULLPRINT_BUILD_BENCH=ON \
  -DPULLPRINT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_policies >/dev/null
echo "host: $(nproc) cores, $(uname -sr), $(c++ --version | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$build/bench/policies/bench_policies" "$@"
