#!/usr/bin/env bash
# Loader throughput (augmented views/s), selfsup vs torchvision's DataLoader on the same SimCLR
# recipe with 2 workers, in one run; each side wrapped in a report of other processes' CPU use.
#   scripts/bench_loader.sh [seconds per case]      (default 10)
# Builds only the bench_loader target, in build-bench-loader/ (override with BUILD_DIR=...).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
build=${BUILD_DIR:-build-bench-loader}
scripts/install_deps.sh --with-torch >/dev/null  # the comparison runs Debian's torchvision
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSELFSUP_BUILD_BENCH=ON >/dev/null
nice -n 10 ninja -C "$build" -j 2 bench_loader >/dev/null
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== selfsup (bench/bench_loader.cpp), 2 worker threads"
scripts/with_cpu_report.sh "$build/bench/bench_loader" --workers 2 --seconds "$seconds"
echo "== selfsup, 1 worker thread (for scale)"
scripts/with_cpu_report.sh "$build/bench/bench_loader" --workers 1 --seconds "$seconds"
echo "== torchvision $(/usr/bin/python3 -c 'import torchvision; print(torchvision.__version__)') DataLoader (tools/bench_loader_torch.py), num_workers=2"
scripts/with_cpu_report.sh /usr/bin/python3 tools/bench_loader_torch.py --workers 2 --seconds "$seconds"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"
