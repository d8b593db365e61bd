#!/usr/bin/env bash
# Training-step images/s and peak RSS, selfsup vs PyTorch (Debian torch, 2 threads), each
# configuration in its own process and wrapped in a report of other processes' CPU use.
# Usage: scripts/bench_train_step.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-8}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
cmake --preset release >/dev/null
cmake --build --preset release --target bench_train_step >/dev/null
for config in "resnet18 64" "resnet18 256" "efficientnet_b0 64"; do
  set -- $config
  echo "== $1, batch $2"
  OMP_NUM_THREADS=2 scripts/with_cpu_report.sh build/bench/bench_train_step --model "$1" --batch "$2" --steps "$steps"
  scripts/with_cpu_report.sh /usr/bin/python3 tools/bench_train_step_torch.py --model "$1" --batch "$2" \
    --steps "$steps" --threads 2
done
