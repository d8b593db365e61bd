#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a ResNet on Fashion-MNIST
# (Debian's dataset-fashion-mnist) on the CPU, printing progress and the test accuracy.
# Extra arguments are passed to the training program (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target train_supervised_fashion_mnist
exec build/examples/train_supervised_fashion_mnist "$@"
