#!/usr/bin/env bash
# Builds and runs the fleet push benchmark (bench/fleet): FleetService pushing
# printer defaults to 100 PAPPL printers (IPP Set-Printer-Attributes) and 100
# queues of a private cupsd (CUPS-Add-Modify-Printer with the queue's PPD),
# then a drift check. Prints a Markdown table (docs/benchmarks.md,
# "Fleet push"). Must run as root (cupsd).
#
#   scripts/bench-fleet.sh [--ipp N] [--cups M] [--concurrency C] [--rounds R]
#
# Environment: BENCH_BUILD_DIR (default build-release).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-release}
cmake -S "$root" -B "$build" -DPULLPRINT_BUILD_BENCH=ON -DPULLPRINT_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_fleet pappl_printer >/dev/null
echo "host: $(nproc) cores, $(uname -sr), $(cupsd -v 2>/dev/null | head -1 || echo 'cupsd 2.4')"
exec "$build/bench/fleet/bench_fleet" "$@"
