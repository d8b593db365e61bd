#!/usr/bin/python3
"""torchvision DataLoader throughput (augmented views/s) for the same SimCLR recipe as bench/bench_loader.cpp.

    /usr/bin/python3 tools/bench_loader_torch.py [--workers 2] [--seconds 10] [--batch 256] [--path pil,tensor]

Cases: "cifar" = 50000 random 32x32 RGB uint8 images in memory (CIFAR is not installed; content
does not change the augmentation cost), "fmnist" = Debian's Fashion-MNIST train split read from
/usr/share/datasets/fashion-mnist. Two views per image, batch 256, shuffle, drop_last,
DataLoader(num_workers=N) with torch.set_num_threads(1) in each worker.
Paths: "pil" = the usual recipe on PIL images (transforms on PIL, then ToTensor + Normalize);
"tensor" = ToTensor first, then the same transforms on float tensors (the semantics selfsup matches).
Recipe (SimCLR, CIFAR): RandomResizedCrop(32, scale=(0.08, 1)), RandomHorizontalFlip(),
RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), RandomGrayscale(0.2), Normalize.
For 1-channel Fashion-MNIST, saturation/hue/grayscale are dropped (no-ops on one channel), as in selfsup.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
FMNIST_MEAN, FMNIST_STD = (0.2860,), (0.3530,)
FMNIST_DIR = os.environ.get("SELFSUP_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def simclr(size, rgb, path):
    jitter = T.ColorJitter(0.4, 0.4, 0.4, 0.1) if rgb else T.ColorJitter(0.4, 0.4, 0.0, 0.0)
    mean, std = (CIFAR_MEAN, CIFAR_STD) if rgb else (FMNIST_MEAN, FMNIST_STD)
    aug = [T.RandomResizedCrop(size, scale=(0.08, 1.0)), T.RandomHorizontalFlip(), T.RandomApply([jitter], p=0.8)]
    if rgb:
        aug.append(T.RandomGrayscale(p=0.2))
    if path == "pil":
        return T.Compose(aug + [T.ToTensor(), T.Normalize(mean, std)])
    return T.Compose([T.ToTensor()] + aug + [T.Normalize(mean, std)])


class TwoViews(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform, mode):
        self.images, self.labels, self.transform, self.mode = images, labels, transform, mode

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i], mode=self.mode)
        return self.transform(img), self.transform(img), int(self.labels[i])


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def proc_cpu_seconds(pid):
    """utime + stime of a process from /proc (Linux), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_init(_):
    torch.set_num_threads(1)


def run(name, dataset, workers, batch, seconds, path):
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, drop_last=True,
                                         num_workers=workers, worker_init_fn=worker_init,
                                         persistent_workers=workers > 0, prefetch_factor=2 if workers > 0 else None)
    it = iter(loader)

    def next_batch():
        nonlocal it
        try:
            return next(it)
        except StopIteration:
            it = iter(loader)
            return next(it)

    for _ in range(2):
        next_batch()

    def cpu_now():
        pids = [w.pid for w in getattr(it, "_workers", [])]
        return time.process_time() + sum(proc_cpu_seconds(p) for p in pids)

    cpu_start = cpu_now()
    start = time.perf_counter()
    views = batches = 0
    elapsed = 0.0
    while elapsed < seconds:
        v1, v2, _ = next_batch()
        views += v1.shape[0] + v2.shape[0]
        batches += 1
        elapsed = time.perf_counter() - start
    cpu = cpu_now() - cpu_start  # main process + workers (an epoch boundary restarts no workers: persistent)
    print(f"torch    {name:<7} workers={workers} batch={batch} path={path} views/s={views / elapsed:.0f} "
          f"views/cpu-s={views / cpu:.0f} ({batches} batches, {elapsed:.1f} s, {cpu:.1f} cpu-s)", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--cases", default="cifar,fmnist")
    p.add_argument("--path", default="pil,tensor")
    a = p.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for path in a.path.split(","):
        if "cifar" in a.cases:
            images = rng.integers(0, 256, size=(50000, 32, 32, 3), dtype=np.uint8)
            labels = rng.integers(0, 10, size=50000)
            run("cifar", TwoViews(images, labels, simclr(32, True, path), "RGB"), a.workers, a.batch, a.seconds, path)
        if "fmnist" in a.cases:
            images = read_idx_gz(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz"))
            labels = read_idx_gz(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz"))
            run("fmnist", TwoViews(images, labels, simclr(28, False, path), "L"), a.workers, a.batch, a.seconds, path)


if __name__ == "__main__":
    main()
