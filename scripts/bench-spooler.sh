#!/usr/bin/env bash
# Builds and runs the held-job spooler benchmark (bench/spooler): pullprintd
# against a private cupsd (default, SyncOnClose Yes, SyncOnClose Yes +
# DirtyCleanInterval 0), 8 libcups clients, 2,000 Print-Jobs per server and
# round, then the memory proof (10,000 held jobs + one 200 MB upload under
# 100 MB RSS), then bench_sync_floor (what the syncs alone cost on this
# host: pullprintd's durable writes in one thread, with and without syncing).
# Prints Markdown tables; see docs/benchmarks.md (spooler).
#
#   sudo scripts/bench-spooler.sh [bench_spooler options, e.g. --rounds 1 --jobs 500]
#
# Must run as root (cupsd). Environment: BENCH_BUILD_DIR (default build-bench).
# Exit status: bench_spooler's (0 pass, 1 a check failed, 2 set-up error), or
# bench_sync_floor's when it fails to run (2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPULLPRINT_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_spooler bench_sync_floor >/dev/null

# Machine description: cores, kernel, the file system under /tmp (where every
# spool lives) and what one small synchronous write costs there.
fs=$(findmnt -n -o SOURCE,FSTYPE,OPTIONS --target /tmp | cut -c1-120)
probe=$(mktemp /tmp/pullprint-fsync-probe.XXXXXX)
dd_out=$(dd if=/dev/zero of="$probe" bs=4k count=200 oflag=dsync 2>&1 | tail -1)
rm -f "$probe"
secs=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) print $(i-1)}' <<<"$dd_out" | head -1)
echo "host: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"\
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "/tmp: $fs"
echo "4 KiB O_DSYNC append (dd, 200 writes): $(awk -v s="$secs" 'BEGIN {printf "%.2f ms per write", s * 1000 / 200}')"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# The floor first, its files kept until the end: deleting thousands of files
# slows down file creation for the next minutes on ext4 without a journal,
# which would put whatever runs next at a disadvantage.
status=0
floor_dir=$(mktemp -d /tmp/pullprint-bench-floor.XXXXXX)
trap 'rm -rf "$floor_dir"' EXIT
"$build/bench/spooler/bench_sync_floor" --keep-in "$floor_dir" >"$floor_dir/report.md" || status=$?
"$build/bench/spooler/bench_spooler" "$@" || status=$?
echo
cat "$floor_dir/report.md"
exit "$status"
