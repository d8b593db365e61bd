#!/usr/bin/env bash
# conv2d on the ResNet-18 CIFAR shapes (batch 128 unless BATCH is set, f32): selfsup (bench/bench_conv.cpp) with
# OMP_WAIT_POLICY=PASSIVE and with the default policy, and torch (tools/bench_conv_torch.py,
# oneDNN, 2 threads), in one run. Each program runs under scripts/with_cpu_report.sh, which
# reports the CPU time other processes used meanwhile (the machine is shared; a noisy run shows).
# Prints one table: median wall ms, process CPU ms per call, and torch / selfsup wall-time ratios
# under the same policy (> 1 means selfsup is faster). torch runs under the same policies.
# Within a round the programs alternate per layer shape (see below).
# Usage: scripts/bench_conv.sh [rounds] [filter]
#   env: BUILD_DIR=build, MIN_TIME=0.5, BATCH=128, POLICIES="PASSIVE default" (OMP_WAIT_POLICY values)
#   rounds: how many times every shape is run by both programs (default 2); the table shows the
#   best median of each case over the rounds. filter: a substring/regex of case names.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/blas_env.sh
rounds=${1:-2}
filter=${2:-}
build=${BUILD_DIR:-build}
min_time=${MIN_TIME:-0.5}
batch=${BATCH:-128}
policies=${POLICIES:-PASSIVE default}
export SELFSUP_BENCH_BATCH=$batch
scripts/install_deps.sh --with-torch >/dev/null  # the comparison runs Debian's torch
[[ -f "$build/CMakeCache.txt" ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_conv >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The host's speed drifts by 20-30 % over tens of seconds (other VMs share the socket), so each
# round interleaves the programs per layer shape: selfsup and torch run the same shape (forward and
# forward+backward) back to back, under each policy, before the next shape.
shapes=$("$build/bench/bench_conv" --benchmark_list_tests | sed -n 's|^fwd/\([^/]*\).*|\1|p' | grep -E "${filter:-.}" || true)
[[ -n $shapes ]] || { echo "bench_conv.sh: no shape matches '$filter'" >&2; exit 1; }
echo "$shapes" >"$out/shapes"  # table order
run() {  # run <label> <policy> <shape> <command...>: appends the CPU report to $out/<label>.cpu
  local label=$1 policy=$2 shape=$3
  shift 3
  local env_args=(OMP_NUM_THREADS=2)
  [[ $policy != default ]] && env_args+=("OMP_WAIT_POLICY=$policy")
  env "${env_args[@]}" scripts/with_cpu_report.sh "$@" >/dev/null 2>"$out/last.err" || { cat "$out/last.err" >&2; exit 1; }
  grep cpu-report "$out/last.err" | sed "s|^|$shape: |" >>"$out/$label.cpu"
}
for round in $(seq 1 "$rounds"); do
  echo "== round $round" >&2
  for shape in $shapes; do
    for policy in $policies; do  # torch uses libgomp too, so it gets the same policies
      run "selfsup_${policy}_$round" "$policy" "$shape" "$build/bench/bench_conv" \
        --benchmark_filter="^(fwd|fwdbwd)/${shape}/" --benchmark_min_time="$min_time" \
        --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_out="$out/selfsup_${policy}_${round}_${shape}.json" --benchmark_out_format=json
      run "torch_${policy}_$round" "$policy" "$shape" /usr/bin/python3 tools/bench_conv_torch.py --threads 2 --batch "$batch" \
        --min-time "$min_time" --filter "/${shape}\$" --json "$out/torch_${policy}_${round}_${shape}.json"
    done
  done
done

/usr/bin/python3 - "$out" "$rounds" "$batch" "$policies" <<'EOF'
import glob, json, os, re, sys

out, rounds, batch, policies = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split()

def selfsup(policy):
    """case -> (best median wall ms, its process CPU ms) over the rounds."""
    best = {}
    for path in glob.glob(os.path.join(out, f"selfsup_{policy}_*.json")):
        for b in json.load(open(path))["benchmarks"]:
            if b.get("aggregate_name") != "median":
                continue
            case = re.sub(r"/process_time.*|/real_time.*", "", b["run_name"])
            entry = (b["real_time"], b["cpu_time"])
            if case not in best or entry[0] < best[case][0]:
                best[case] = entry
    return best

def torch(policy):
    best = {}
    for path in glob.glob(os.path.join(out, f"torch_{policy}_*.json")):
        for case, r in json.load(open(path)).items():
            entry = (r["ms"], r["cpu_ms"])
            if case not in best or entry[0] < best[case][0]:
                best[case] = entry
    return best

results = [(policy, selfsup(policy), torch(policy)) for policy in policies]
print(f"\nconv2d, batch {batch}, f32, 2 threads; best of {rounds} round(s); wall = median ms, cpu = process CPU ms per call;"
      " ratio = torch wall / selfsup wall under the same OMP_WAIT_POLICY (> 1: selfsup faster)")
cols = f"{'ours':>8s} {'cpu':>7s} {'torch':>8s} {'cpu':>7s} {'ratio':>5s}"
print(f"{'':28s} |" + "".join(f" {'OMP_WAIT_POLICY=' + policy:^38s} |" for policy, _, _ in results))
print(f"{'case':28s} |" + "".join(f" {cols} |" for _ in results))
shapes = open(os.path.join(out, "shapes")).read().split()
for case in [f"{kind}/{shape}" for kind in ("fwd", "fwdbwd") for shape in shapes]:
    row = f"{case:28s} |"
    for _, mine, ref in results:
        m, t = mine.get(case), ref.get(case)
        if m and t:
            row += f" {m[0]:8.2f} {m[1]:7.1f} {t[0]:8.2f} {t[1]:7.1f} {t[0] / m[0]:5.2f} |"
        else:
            row += f" {'-':>38s} |"
    print(row)
print("\nother processes' CPU during the runs (from scripts/with_cpu_report.sh; one line per program run):")
for path in sorted(glob.glob(os.path.join(out, "*.cpu"))):
    shares = [float(m) for m in re.findall(r"= (\d+)% of one core", open(path).read())]
    if shares:
        print(f"  {os.path.basename(path)[:-4]:22s} {len(shares)} runs, other processes at {min(shares):.0f}-{max(shares):.0f} % "
              f"(mean {sum(shares) / len(shares):.0f} %) of one core")
EOF
