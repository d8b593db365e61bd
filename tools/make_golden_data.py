#!/usr/bin/python3
"""Golden fixtures for the data transforms: torchvision.transforms.functional on fixed parameters.

Run with Debian's interpreter (python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 tools/make_golden_data.py            # writes tests/golden/data_*.safetensors
    /usr/bin/python3 tools/make_golden_data.py --check    # regenerates into a temp dir and diffs

Each file holds several cases: tensors "<case>.input" and "<case>.output" (f32, CHW), and metadata
"args" = JSON {"<case>": {parameters...}, ...}, plus script/torch/torchvision versions and the seed.
Only the float path is used: torchvision's uint8 paths compute in f32 and truncate
(ecosystem.md section 10.5). The safetensors writer is the 20 lines below (no package needed).
"""
import argparse
import filecmp
import json
import os
import sys
import tempfile

import torch
import torchvision
import torchvision.transforms.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torch_to_safetensors import save_safetensors  # noqa: E402

SEED = 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "golden")


def write_safetensors(path, tensors, metadata):
    for name, t in tensors.items():
        assert t.dtype == torch.float32, name
    save_safetensors(path, tensors, metadata)


def image(c, h, w, quantized=False):
    """Uniform [0,1) image; quantized images (k/255) produce ties for max/min and equal channels."""
    x = torch.rand(c, h, w, dtype=torch.float32)
    if quantized:
        x = torch.round(x * 255.0) / 255.0
        x[:, 0, :] = x[0:1, 0, :]  # a gray row: r == g == b
        x[:, :, 0] = 1.0            # saturated column
        x[:, 1, 1] = 0.0
    return x


def fixture(name, cases):
    """cases: list of (case_name, input, output, args)."""
    tensors, args = {}, {}
    for case, x, y, a in cases:
        tensors[case + ".input"] = x
        tensors[case + ".output"] = y
        args[case] = a
    metadata = {
        "script": "tools/make_golden_data.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "seed": str(SEED),
        "args": json.dumps(args, sort_keys=True),
    }
    return name, tensors, metadata


def build():
    torch.manual_seed(SEED)
    out = []

    # crop + bilinear resize (F.resized_crop; tensor path, antialias off as in 0.14's default).
    cases = []
    x = image(3, 13, 17)
    for i, (top, left, h, w, oh, ow) in enumerate([
        (2, 3, 9, 11, 8, 8),      # downsample
        (1, 0, 5, 7, 16, 20),     # upsample
        (0, 0, 13, 17, 7, 19),    # whole image, mixed
        (4, 5, 6, 6, 6, 6),       # same size: a plain crop
        (-2, 10, 8, 9, 10, 10),   # box partly outside: zero padding
    ]):
        y = F.resized_crop(x, top, left, h, w, [oh, ow], interpolation=F.InterpolationMode.BILINEAR)
        cases.append((f"case{i}", x, y, {"top": top, "left": left, "height": h, "width": w, "size": [oh, ow]}))
    g = image(1, 28, 28)
    y = F.resized_crop(g, 3, 5, 17, 12, [28, 28], interpolation=F.InterpolationMode.BILINEAR)
    cases.append(("gray", g, y, {"top": 3, "left": 5, "height": 17, "width": 12, "size": [28, 28]}))
    out.append(fixture("data_resized_crop", cases))

    # plain resize (used by image folders)
    x = image(3, 10, 14)
    out.append(fixture("data_resize", [
        ("down", x, F.resize(x, [6, 9], interpolation=F.InterpolationMode.BILINEAR), {"size": [6, 9]}),
        ("up", x, F.resize(x, [15, 31], interpolation=F.InterpolationMode.BILINEAR), {"size": [15, 31]}),
    ]))

    x = image(3, 5, 7)
    out.append(fixture("data_hflip", [("case0", x, F.hflip(x), {})]))

    # colour adjustments, each alone, then full jitter orders.
    cases = []
    for q, x in (("rand", image(3, 9, 11)), ("quant", image(3, 9, 11, quantized=True))):
        for f in (0.0, 0.6, 1.0, 1.4):
            cases.append((f"brightness_{q}_{f}", x, F.adjust_brightness(x, f), {"fn": "brightness", "factor": f}))
            cases.append((f"contrast_{q}_{f}", x, F.adjust_contrast(x, f), {"fn": "contrast", "factor": f}))
            cases.append((f"saturation_{q}_{f}", x, F.adjust_saturation(x, f), {"fn": "saturation", "factor": f}))
        for f in (-0.5, -0.23, 0.0, 0.1, 0.37, 0.5):
            cases.append((f"hue_{q}_{f}", x, F.adjust_hue(x, f), {"fn": "hue", "factor": f}))
    g = image(1, 6, 8)
    cases.append(("contrast_gray", g, F.adjust_contrast(g, 0.7), {"fn": "contrast", "factor": 0.7}))
    cases.append(("saturation_gray", g, F.adjust_saturation(g, 0.3), {"fn": "saturation", "factor": 0.3}))
    cases.append(("hue_gray", g, F.adjust_hue(g, 0.2), {"fn": "hue", "factor": 0.2}))
    out.append(fixture("data_color_adjust", cases))

    cases = []
    x = image(3, 8, 10)
    for i, (order, b, c, s, h) in enumerate([
        ([0, 1, 2, 3], 1.3, 0.7, 1.2, 0.05),
        ([3, 2, 1, 0], 0.8, 1.35, 0.6, -0.08),
        ([2, 0, 3, 1], 1.1, None, 0.9, 0.1),
        ([1, 3, 0, 2], None, 0.75, None, None),
    ]):
        y = x
        for fn in order:
            if fn == 0 and b is not None:
                y = F.adjust_brightness(y, b)
            elif fn == 1 and c is not None:
                y = F.adjust_contrast(y, c)
            elif fn == 2 and s is not None:
                y = F.adjust_saturation(y, s)
            elif fn == 3 and h is not None:
                y = F.adjust_hue(y, h)
        cases.append((f"case{i}", x, y, {"order": order, "brightness": b, "contrast": c, "saturation": s, "hue": h}))
    out.append(fixture("data_color_jitter", cases))

    x = image(3, 6, 9)
    out.append(fixture("data_grayscale", [
        ("to1", x, F.rgb_to_grayscale(x, 1), {"channels": 1}),
        ("to3", x, F.rgb_to_grayscale(x, 3).contiguous(), {"channels": 3}),
    ]))

    cases = []
    x = image(3, 12, 10)
    for i, (k, sigma) in enumerate([(3, 0.1), (3, 1.0), (5, 0.7), (7, 2.0), (9, 1.3)]):
        cases.append((f"case{i}", x, F.gaussian_blur(x, [k, k], [sigma, sigma]), {"kernel_size": k, "sigma": sigma}))
    g = image(1, 7, 6)
    cases.append(("gray", g, F.gaussian_blur(g, [5, 5], [1.7, 1.7]), {"kernel_size": 5, "sigma": 1.7}))
    out.append(fixture("data_gaussian_blur", cases))

    x = image(3, 7, 7, quantized=True)
    out.append(fixture("data_solarize", [
        (f"t{t}", x, F.solarize(x, t), {"threshold": t}) for t in (0.0, 0.5, 128 / 255, 1.0)
    ]))

    x = image(3, 4, 5)
    mean, std = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    g = image(1, 4, 5)
    out.append(fixture("data_normalize", [
        ("rgb", x, F.normalize(x, mean, std), {"mean": mean, "std": std}),
        ("gray", g, F.normalize(g, [0.2860], [0.3530]), {"mean": [0.2860], "std": [0.3530]}),
    ]))

    # A SimCLR/BYOL-like chain on fixed parameters.
    x = image(3, 32, 32, quantized=True)
    p = {"crop": [3, 5, 20, 24], "size": [32, 32], "flip": True, "order": [2, 0, 3, 1],
         "brightness": 1.2, "contrast": 0.8, "saturation": 1.3, "hue": -0.07, "grayscale": False,
         "blur_kernel": 3, "sigma": 0.9, "solarize": 0.5, "mean": mean, "std": std}
    y = F.resized_crop(x, *p["crop"], p["size"], interpolation=F.InterpolationMode.BILINEAR)
    y = F.hflip(y)
    for fn in p["order"]:
        y = [lambda v: F.adjust_brightness(v, p["brightness"]), lambda v: F.adjust_contrast(v, p["contrast"]),
             lambda v: F.adjust_saturation(v, p["saturation"]), lambda v: F.adjust_hue(v, p["hue"])][fn](y)
    y = F.gaussian_blur(y, [3, 3], [p["sigma"], p["sigma"]])
    y = F.solarize(y, p["solarize"])
    y = F.normalize(y, mean, std)
    out.append(fixture("data_pipeline", [("case0", x, y, p)]))
    return out


def write_all(directory):
    paths = []
    for name, tensors, metadata in build():
        path = os.path.join(directory, name + ".safetensors")
        write_safetensors(path, tensors, metadata)
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            stale = [os.path.basename(p) for p in write_all(tmp)
                     if not os.path.exists(os.path.join(OUT_DIR, os.path.basename(p)))
                     or not filecmp.cmp(p, os.path.join(OUT_DIR, os.path.basename(p)), shallow=False)]
        if stale:
            print("stale or missing fixtures:", ", ".join(stale))
            return 1
        print("data fixtures are current")
        return 0
    paths = write_all(OUT_DIR)
    total = sum(os.path.getsize(p) for p in paths)
    print(f"wrote {len(paths)} fixtures, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
