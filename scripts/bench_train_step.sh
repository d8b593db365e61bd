#!/usr/bin/env bash
# Training-step images/s and peak RSS, selfsup vs PyTorch (Debian torch, 2 threads), each
# configuration in its own process and wrapped in a report of other processes' CPU use.
# The host's speed drifts over tens of seconds, so each round runs every configuration with
# selfsup and torch back to back; compare the best round of each (the summary at the end).
# Usage: scripts/bench_train_step.sh [steps] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/blas_env.sh
steps=${1:-8}
rounds=${2:-1}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
scripts/install_deps.sh --with-torch >/dev/null  # the comparison runs Debian's torch
cmake --preset release >/dev/null
cmake --build --preset release --target bench_train_step >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq 1 "$rounds"); do
  for config in "resnet18 64" "resnet18 256" "efficientnet_b0 64"; do
    read -r model batch <<<"$config"
    echo "== round $round: $model, batch $batch"
    OMP_NUM_THREADS=2 scripts/with_cpu_report.sh build/bench/bench_train_step --model "$model" --batch "$batch" \
      --steps "$steps" 2>&1 | tee -a "$log"
    scripts/with_cpu_report.sh /usr/bin/python3 tools/bench_train_step_torch.py --model "$model" --batch "$batch" \
      --steps "$steps" --threads 2 2>&1 | tee -a "$log"
  done
done
echo "== best of $rounds round(s): images/s (peak RSS of that run)"
grep -E '^(selfsup|torch) ' "$log" | sed -E 's/^(selfsup|torch) ([a-z0-9_]+) batch ([0-9]+): ([0-9.]+) images.*peak RSS ([0-9]+) MB.*/\2 \3 \1 \4 \5/' |
  sort -k1,1 -k2,2n -k3,3 -k4,4gr | awk '!seen[$1" "$2" "$3]++ {printf "%-16s batch %-4s %-8s %7.1f images/s  %5s MB\n", $1, $2, $3, $4, $5}'
