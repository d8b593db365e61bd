#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds and runs every test.
#   scripts/test.sh            release build in build/ (the README's test command; CI runs this)
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
# OpenMP threads sleep instead of spinning when idle: on these shared 2-core machines spinning
# threads steal the cores the work needs (measured in BENCHMARKS.md). Set it to override.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

preset=release
case "${1:-}" in
  "") ;;
  --asan) preset=asan-ubsan ;;
  *) echo "test.sh: unknown option '$1' (use --asan)" >&2; exit 2 ;;
esac

scripts/install_deps.sh
jobs=$(nproc)
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --preset "$preset" -j "$jobs"
