#!/usr/bin/python3
"""Convert a PyTorch checkpoint (.pth/.pt) to a safetensors file selfsup can load.

Runs on Debian's python3-torch; the safetensors format is written by hand (no safetensors
package): u64 little-endian header length, a JSON header ("__metadata__" first, string -> string,
padded with spaces to a multiple of 8), then the raw little-endian tensor data, laid out largest
dtype first and then by name as the reference writer does.

The input may be a bare state_dict, a dict holding one under 'state_dict', 'model' or
'model_state_dict' (MoCo, SimCLR, torchvision reference scripts, solo-learn), or with
--unsafe-pickle a pickled nn.Module. Examples:

  /usr/bin/python3 tools/convert_torch_to_safetensors.py resnet18.pth resnet18.safetensors
  /usr/bin/python3 tools/convert_torch_to_safetensors.py moco_v2_200ep.pth.tar moco.safetensors \\
      --strip-prefix module.encoder_q. --drop-prefix fc.

Tensor dtypes: float32, float64, int64 and uint8 are kept; bool becomes uint8; float16 and
bfloat16 become float32 and int32/int16/int8 become int64 (selfsup reads F32, F64, I64, U8), each
with a note on stderr. Files are written atomically (temp file, fsync, rename).
"""

import argparse
import collections
import json
import os
import struct
import sys
import tempfile

import numpy as np
import torch

GENERATOR = "tools/convert_torch_to_safetensors.py"

# torch dtype -> (safetensors code, element size, numpy dtype)
_WRITE = {
    torch.float64: ("F64", 8, "<f8"),
    torch.int64: ("I64", 8, "<i8"),
    torch.float32: ("F32", 4, "<f4"),
    torch.uint8: ("U8", 1, "u1"),
}
# dtypes converted on the way (selfsup's reader knows F32, F64, I64, U8)
_WIDEN = {
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
    torch.int32: torch.int64,
    torch.int16: torch.int64,
    torch.int8: torch.int64,
    torch.bool: torch.uint8,
}
# safetensors code -> (numpy dtype, torch dtype) for reading
_READ = {
    "F64": ("<f8", torch.float64),
    "F32": ("<f4", torch.float32),
    "F16": ("<f2", torch.float16),
    "I64": ("<i8", torch.int64),
    "I32": ("<i4", torch.int32),
    "I16": ("<i2", torch.int16),
    "I8": ("i1", torch.int8),
    "U8": ("u1", torch.uint8),
    "BOOL": ("?", torch.bool),
    "BF16": (None, torch.bfloat16),  # read as int16 bits
}
_ORDER = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"]  # reference Dtype order


def serialize_safetensors(tensors, metadata=None):
    """bytes of a safetensors file; tensors: {name: torch.Tensor} of the _WRITE dtypes."""
    metadata = metadata or {}
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError(f"metadata must map str to str, got {k!r}: {v!r}")
    for name, t in tensors.items():
        if t.dtype not in _WRITE:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} cannot be written (convert it first)")
    items = sorted(tensors.items(), key=lambda kv: (-_WRITE[kv[1].dtype][1], kv[0]))
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    blobs = []
    offset = 0
    for name, t in items:
        code, _, npdt = _WRITE[t.dtype]
        data = np.ascontiguousarray(t.detach().cpu().contiguous().numpy().astype(npdt, copy=False)).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def save_safetensors(path, tensors, metadata=None):
    """Writes atomically: a temp file next to `path`, fsync, rename, fsync the directory."""
    data = serialize_safetensors(tensors, metadata)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return len(data)


def load_safetensors(path):
    """(OrderedDict name -> torch.Tensor in file order, metadata dict). Checks the layout the way
    the reference reader does (header bounds, JSON, offsets that tile the buffer exactly)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too small for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} does not fit the file ({len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    buffer = raw[8 + n:]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    out = collections.OrderedDict()
    start = 0
    for name, info in entries:
        code, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _READ:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {code}")
        if begin != start or end < begin:
            raise ValueError(f"{path}: tensor {name!r} has invalid offsets [{begin}, {end}] (expected to start at {start})")
        npdt, tdt = _READ[code]
        count = 1
        for s in shape:
            count *= s
        size = 2 if code == "BF16" else np.dtype(npdt).itemsize
        if end - begin != count * size:
            raise ValueError(f"{path}: tensor {name!r} has {end - begin} bytes, expected {count * size} for {code} {shape}")
        if end > len(buffer):
            raise ValueError(f"{path}: tensor {name!r} ends at data byte {end} but the file has {len(buffer)} "
                             "data bytes (truncated?)")
        chunk = buffer[begin:end]
        if code == "BF16":
            t = torch.from_numpy(np.frombuffer(chunk, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(chunk, dtype=npdt).copy())
        out[name] = t.reshape(shape)
        start = end
    if start != len(buffer):
        raise ValueError(f"{path}: the tensors cover {start} of {len(buffer)} data bytes")
    return out, metadata


def extract_state_dict(obj, key=None):
    """The tensor dict inside a loaded checkpoint object."""
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise ValueError(f"expected a dict or nn.Module, got {type(obj).__name__}")
    if key is not None:
        if key not in obj:
            raise ValueError(f"no key {key!r} in the checkpoint; top-level keys: {sorted(map(str, obj))}")
        return extract_state_dict(obj[key])
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    for k in ("state_dict", "model", "model_state_dict"):
        if k in obj:
            return extract_state_dict(obj[k])
    raise ValueError("no state_dict found: the dict is not all tensors and has none of 'state_dict', 'model', "
                     f"'model_state_dict'; top-level keys: {sorted(map(str, obj))} (use --key)")


def convert_state_dict(state_dict, strip_prefixes=(), drop_prefixes=(), log=sys.stderr):
    """{name: tensor} ready for serialize_safetensors: prefixes stripped (the first that matches),
    keys under drop_prefixes removed, dtypes widened where selfsup needs it, non-tensors skipped."""
    out = collections.OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            print(f"note: skipping {name!r} (a {type(value).__name__}, not a tensor)", file=log)
            continue
        for p in strip_prefixes:
            if name.startswith(p):
                name = name[len(p):]
                break
        if any(name.startswith(p) for p in drop_prefixes):
            continue
        t = value.detach().cpu()
        if t.dtype in _WIDEN:
            print(f"note: {name}: {t.dtype} stored as {_WIDEN[t.dtype]}", file=log)
            t = t.to(_WIDEN[t.dtype])
        if t.dtype not in _WRITE:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} is not supported")
        if name in out:
            raise ValueError(f"two tensors map to {name!r} after stripping prefixes")
        out[name] = t.contiguous().clone()  # clone: no shared storage between entries
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help=".pth / .pt / .pth.tar file")
    ap.add_argument("output", nargs="?", help="output .safetensors (default: input with that extension)")
    ap.add_argument("--key", help="take the state_dict from this top-level key")
    ap.add_argument("--strip-prefix", action="append", default=[], metavar="P",
                    help="remove P from the start of every key that has it (repeatable; e.g. module.)")
    ap.add_argument("--drop-prefix", action="append", default=[], metavar="P",
                    help="leave out keys starting with P, after stripping (repeatable; e.g. fc.)")
    ap.add_argument("--unsafe-pickle", action="store_true",
                    help="allow arbitrary pickled objects (torch.load weights_only=False); only for trusted files")
    opts = ap.parse_args(argv)

    out_path = opts.output or os.path.splitext(opts.input)[0] + ".safetensors"
    try:
        obj = torch.load(opts.input, map_location="cpu", weights_only=not opts.unsafe_pickle)
    except Exception as e:  # noqa: BLE001 - report any unpickling failure with a hint
        hint = "" if opts.unsafe_pickle else " (if the file is trusted and holds other objects, retry with --unsafe-pickle)"
        print(f"error: cannot load {opts.input}: {e}{hint}", file=sys.stderr)
        return 1
    try:
        tensors = convert_state_dict(extract_state_dict(obj, opts.key), opts.strip_prefix, opts.drop_prefix)
    except ValueError as e:
        print(f"error: {opts.input}: {e}", file=sys.stderr)
        return 1
    if not tensors:
        print(f"error: {opts.input}: no tensors left to write", file=sys.stderr)
        return 1
    meta = {"format": "pt", "source": os.path.basename(opts.input), "converted_by": GENERATOR,
            "torch": torch.__version__}
    size = save_safetensors(out_path, tensors, meta)
    print(f"wrote {len(tensors)} tensors ({size} bytes) to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
