#!/usr/bin/python3
"""SGEMM GFLOP/s of Debian's torch (oneDNN/OpenBLAS inside) on 2 threads, for BENCHMARKS.md.
Usage: /usr/bin/python3 tools/bench_gemm_torch.py [--threads 2] [--repeats 5]"""
import argparse
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for n in (256, 512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            torch.mm(a, b)
        iters = max(1, int(2e9 / (2 * n**3)))
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(iters):
                torch.mm(a, b)
            elapsed = time.perf_counter() - start
            rates.append(2 * n**3 * iters / elapsed / 1e9)
        rates.sort()
        print(f"torch_mm/{n}: median {rates[len(rates) // 2]:.1f} GFLOP/s (min {rates[0]:.1f}, max {rates[-1]:.1f})")


if __name__ == "__main__":
    main()
