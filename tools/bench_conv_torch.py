#!/usr/bin/python3
"""Times torch.nn.functional.conv2d on the shapes of bench/bench_conv.cpp (ResNet-18 CIFAR convs,
batch 128, f32, no bias): forward, and forward + backward (input and weight gradients).

Run with the system interpreter (Debian torch, oneDNN on CPU):
    /usr/bin/python3 tools/bench_conv_torch.py [--threads 2] [--batch 128] [--min-time 0.5] [--json out.json]
Prints one line per case; with --json also writes {"name": {"ms": wall, "cpu_ms": process CPU}}
for scripts/bench_conv.sh.
"""
import argparse
import json
import re
import time

import torch
import torch.nn.functional as F

# (name, in, out, kernel, stride, padding, size): same names as bench/bench_conv.cpp.
SHAPES = [
    ("3-64_3x3_s1_32", 3, 64, 3, 1, 1, 32),
    ("64-64_3x3_s1_32", 64, 64, 3, 1, 1, 32),
    ("64-128_3x3_s2_32", 64, 128, 3, 2, 1, 32),
    ("64-128_1x1_s2_32", 64, 128, 1, 2, 0, 32),
    ("128-128_3x3_s1_16", 128, 128, 3, 1, 1, 16),
    ("128-256_3x3_s2_16", 128, 256, 3, 2, 1, 16),
    ("128-256_1x1_s2_16", 128, 256, 1, 2, 0, 16),
    ("256-256_3x3_s1_8", 256, 256, 3, 1, 1, 8),
    ("256-512_3x3_s2_8", 256, 512, 3, 2, 1, 8),
    ("256-512_1x1_s2_8", 256, 512, 1, 2, 0, 8),
    ("512-512_3x3_s1_4", 512, 512, 3, 1, 1, 4),
]


def time_it(fn, min_time):
    """(median wall ms, mean process CPU ms) per call over repeated calls for at least min_time
    seconds, after warm-up. Process CPU time counts every thread, like bench_conv's CPU column."""
    fn()
    fn()
    samples = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    while time.perf_counter() - start < min_time or len(samples) < 5:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    cpu_ms = (time.process_time() - cpu_start) * 1e3 / len(samples)
    samples.sort()
    return samples[len(samples) // 2], cpu_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--filter", default="", help="regex searched in the case names (as --benchmark_filter)")
    parser.add_argument("--json", help="write {case: {ms, cpu_ms}} here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, mkldnn {torch.backends.mkldnn.is_available()}")
    results = {}
    for name, cin, cout, k, stride, pad, size in SHAPES:
        x = torch.randn(args.batch, cin, size, size)
        w = torch.randn(cout, cin, k, k) * 0.05
        y = F.conv2d(x, w, None, stride, pad)
        gy = torch.randn_like(y)
        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def forward():
            with torch.no_grad():
                F.conv2d(x, w, None, stride, pad)

        def forward_backward():
            xg.grad = None
            wg.grad = None
            F.conv2d(xg, wg, None, stride, pad).backward(gy)

        for mode, fn in (("fwd", forward), ("fwdbwd", forward_backward)):
            case = f"{mode}/{name}"
            if args.filter and not re.search(args.filter, case):
                continue
            ms, cpu_ms = time_it(fn, args.min_time)
            results[case] = {"ms": ms, "cpu_ms": cpu_ms}
            print(f"{case:28s} {ms:9.3f} ms  (process CPU {cpu_ms:9.3f} ms)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
