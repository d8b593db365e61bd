#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a ResNet on Fashion-MNIST
# (Debian's dataset-fashion-mnist) on the CPU, printing progress and the test accuracy.
# Extra arguments are passed to the training program (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/blas_env.sh
# OpenMP threads sleep instead of spinning when idle: on these shared 2-core machines spinning
# threads steal the cores the work needs (measured in BENCHMARKS.md). Set it to override.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
scripts/install_deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target train_supervised_fashion_mnist
exec build/examples/train_supervised_fashion_mnist "$@"
