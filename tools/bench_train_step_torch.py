#!/usr/bin/python3
"""PyTorch CPU training-step throughput, the counterpart of bench/bench_train_step.cpp.

One step = forward, cross-entropy loss, backward, SGD(momentum 0.9, weight decay 5e-4) step, on
random inputs and labels. Each configuration runs in its own process so its peak RSS is its own.
Usage: /usr/bin/python3 tools/bench_train_step_torch.py --model resnet18 --batch 64 [--steps 10]
       [--warmup 2] [--threads 2] [--size 32]
Prints: torch <model> batch <B>: <img/s> images/s (median of steps), peak RSS <MB> MB
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torchvision


def build(model_name, size):
    if model_name == "resnet18":
        model = torchvision.models.resnet18(num_classes=10)
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    elif model_name == "efficientnet_b0":
        model = torchvision.models.efficientnet_b0(num_classes=10)
    elif model_name == "mobilenet_v3_large":
        model = torchvision.models.mobilenet_v3_large(num_classes=10)
    else:
        raise SystemExit(f"unknown model {model_name}")
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.model, args.size)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if step >= args.warmup:
            times.append(elapsed)
    rate = args.batch / statistics.median(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {args.model} batch {args.batch}: {rate:.1f} images/s (median of {args.steps} steps), "
          f"peak RSS {peak_mb:.0f} MB, threads {torch.get_num_threads()}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
