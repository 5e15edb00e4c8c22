#!/usr/bin/env bash
# Builds the libFuzzer targets of the document-analysis parsers with clang
# (ASan + UBSan) in their own build directory and runs each for a bounded time.
#
#   scripts/fuzz.sh                 # every target, 20 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh dsc text
#
# Environment: FUZZ_SECONDS (default 20), FUZZ_BUILD_DIR (default build-fuzz),
# CC/CXX (default clang-14/clang++-14, falling back to clang/clang++).
# Seeds: tests/analysis/fuzz_corpus/<target>/ (read only); new inputs go to
# $FUZZ_BUILD_DIR/fuzz-work/<target>/, crashes to $FUZZ_BUILD_DIR/fuzz-artifacts/.
# Exit status: non-zero if any target finds a crash.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(pwg_raster urf dsc text wire pdf_objects); fi

cc=${CC:-$(command -v clang-14 || command -v clang)}
cxx=${CXX:-$(command -v clang++-14 || command -v clang++)}

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPULLPRINT_BUILD_FUZZ=ON -DPULLPRINT_BUILD_BENCH=OFF \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target analysis_fuzz_targets

status=0
for t in "${targets[@]}"; do
  bin="$build/tests/analysis/fuzz/fuzz_$t"
  seeds="$root/tests/analysis/fuzz_corpus/$t"
  work="$build/fuzz-work/$t"
  artifacts="$build/fuzz-artifacts/$t/"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz_$t: ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$seeds" \
      >"$build/fuzz-$t.log" 2>&1; then
    echo "fuzz_$t FAILED; see $build/fuzz-$t.log and $artifacts"
    tail -40 "$build/fuzz-$t.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "$build/fuzz-$t.log" || true
  fi
done
exit $status
