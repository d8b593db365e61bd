#!/usr/bin/env bash
# GEMM GFLOP/s: selfsup (OpenBLAS through Eigen), Eigen's own kernel, and torch, in one run,
# each wrapped in a report of other processes' CPU use. Usage: scripts/bench_gemm.sh [repeats]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/blas_env.sh
repeats=${1:-5}
scripts/install_deps.sh --with-torch >/dev/null  # the comparison runs Debian's torch
cmake --preset release >/dev/null
cmake --build --preset release --target bench_gemm >/dev/null
for policy in PASSIVE ACTIVE; do
  echo "== selfsup, OMP_WAIT_POLICY=$policy, 2 threads"
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=$policy scripts/with_cpu_report.sh build/bench/bench_gemm \
    --benchmark_repetitions="$repeats" --benchmark_report_aggregates_only=true 2>&1 | grep -E 'median|cpu-report'
done
echo "== torch"
scripts/with_cpu_report.sh /usr/bin/python3 tools/bench_gemm_torch.py --threads 2 --repeats "$repeats"
