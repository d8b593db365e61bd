#!/usr/bin/python3
"""Convert a safetensors file (a selfsup checkpoint or weight file) to a PyTorch .pth state_dict.

Runs on Debian's python3-torch with no safetensors package (the reader is in
tools/convert_torch_to_safetensors.py). A selfsup checkpoint also holds optimizer state
("optimizer.*") and the step ("meta.*"); they are left out unless --keep-all. Examples:

  /usr/bin/python3 tools/convert_safetensors_to_torch.py run/last.safetensors resnet18.pth
  # load in PyTorch:  torchvision.models.resnet18(num_classes=10).load_state_dict(torch.load("resnet18.pth"))
  /usr/bin/python3 tools/convert_safetensors_to_torch.py byol.safetensors backbone.pth \\
      --strip-prefix online.backbone. --only-prefix --wrap state_dict

The tensors keep their dtypes (an I64 0-d num_batches_tracked stays int64), and the safetensors
__metadata__ strings are printed; with --wrap they are also saved next to the state_dict under
"metadata".
"""

import argparse
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torch_to_safetensors import load_safetensors  # noqa: E402

SELFSUP_PREFIXES = ("optimizer.", "meta.")


def to_state_dict(tensors, keep_all=False, strip_prefix=None, only_prefix=False, add_prefix=""):
    out = collections.OrderedDict()
    for name, t in tensors.items():
        if not keep_all and name.startswith(SELFSUP_PREFIXES):
            continue
        if strip_prefix:
            if name.startswith(strip_prefix):
                name = name[len(strip_prefix):]
            elif only_prefix:
                continue
        name = add_prefix + name
        if name in out:
            raise ValueError(f"two tensors map to {name!r}")
        out[name] = t
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help=".safetensors file")
    ap.add_argument("output", nargs="?", help="output .pth (default: input with that extension)")
    ap.add_argument("--keep-all", action="store_true", help="also keep optimizer.* and meta.* tensors")
    ap.add_argument("--strip-prefix", metavar="P", help="remove P from the start of keys that have it")
    ap.add_argument("--only-prefix", action="store_true", help="with --strip-prefix: drop keys without P")
    ap.add_argument("--add-prefix", default="", metavar="P", help="put P before every key (e.g. module.)")
    ap.add_argument("--wrap", metavar="KEY", help="save {KEY: state_dict, 'metadata': {...}} instead of a bare state_dict")
    opts = ap.parse_args(argv)

    out_path = opts.output or os.path.splitext(opts.input)[0] + ".pth"
    try:
        tensors, metadata = load_safetensors(opts.input)
        state = to_state_dict(tensors, opts.keep_all, opts.strip_prefix, opts.only_prefix, opts.add_prefix)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not state:
        print(f"error: {opts.input}: no tensors left to write", file=sys.stderr)
        return 1
    for k, v in sorted(metadata.items()):
        print(f"metadata {k} = {v}")
    obj = {opts.wrap: state, "metadata": dict(metadata)} if opts.wrap else state
    tmp = out_path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, out_path)
    print(f"wrote {len(state)} tensors to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
