#!/usr/bin/python3
"""Golden fixtures for every differentiable op in autograd/functions.h, computed by PyTorch.

Run with the Debian interpreter (it has python3-torch): /usr/bin/python3 tools/make_golden.py

One file per case, tests/golden/op_<case>.safetensors, holding:
  input.<arg>          every tensor argument (F32, or I64 for indices)
  weight_out           a fixed random w (F32) of the output's shape (weight_out.<i> for ops with
                       several outputs, e.g. chunk)
  output               the op's result, F64 (output.<i> for several outputs)
  grad.<arg>           d/d<arg> of sum(output * w), F64, for every floating argument that requires grad
  running_mean_after / running_var_after   F64, batch_norm in training mode with running statistics

Inputs and w are drawn in f32; PyTorch then computes everything in f64 from those exact values, so
the reference carries no f32 rounding of its own. The C++ test runs each op twice: in f32 (compared
with ecosystem.md section 10 tolerances) and in f64 (compared tightly, which catches formula errors
that f32 tolerances could hide).
and metadata: generator, torch (torch.__version__), seed, case, args (JSON of the op arguments).

Inputs are kept away from kinks (relu/abs/clamp at their edges, hardswish/hardsigmoid at +-3, max
ties) by at least KINK_MARGIN so f32 rounding cannot flip a branch. The one deliberate tie case is
max_ties_axis1, with exactly representable, exactly equal values (amax splits the gradient evenly).

  --check      regenerate into a temporary directory and compare bytes with the committed files;
               exits 1 listing stale, missing and orphaned fixtures.
  --only SUB   only cases whose name contains SUB.
  --out DIR    write somewhere else (default: tests/golden next to this script's repository).
"""

import argparse
import json
import os
import sys
import tempfile
import zlib

import torch
import torch.nn.functional as F

GENERATOR = "tools/make_golden.py"
BASE_SEED = 20240601
KINK_MARGIN = 1e-2
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden")
PREFIX = "op_"

# safetensors bytes: the one writer in tools/convert_torch_to_safetensors.py (largest dtype first,
# then by name, like core/safetensors.h).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torch_to_safetensors import serialize_safetensors  # noqa: E402
from fixture_check import report, stale_fixtures  # noqa: E402


# ----------------------------------------------------------------------------------------------
# input helpers; every draw goes through the case's own torch.Generator
# ----------------------------------------------------------------------------------------------
class Gen:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def randn(self, *shape, scale=1.0, shift=0.0):
        return torch.randn(shape, generator=self.g, dtype=torch.float32) * scale + shift

    def uniform(self, *shape, lo=0.0, hi=1.0):
        return torch.rand(shape, generator=self.g, dtype=torch.float32) * (hi - lo) + lo

    def away(self, x, points, margin=KINK_MARGIN):
        """Moves every element closer than `margin` to a kink point out to point +- margin."""
        for p in points:
            d = x - p
            near = d.abs() < margin
            x = torch.where(near, p + margin * torch.where(d >= 0, 1.0, -1.0), x)
        return x.to(torch.float32)

    def signed_away(self, *shape, lo=0.5, hi=2.0):
        """|x| in [lo, hi) with a random sign (denominators)."""
        mag = self.uniform(*shape, lo=lo, hi=hi)
        sign = torch.where(torch.rand(shape, generator=self.g) < 0.5, -1.0, 1.0)
        return (mag * sign).to(torch.float32)

    def distinct(self, *shape, step=0.05):
        """A random permutation of a grid: all values distinct by `step` (max without ties)."""
        n = 1
        for s in shape:
            n *= s
        perm = torch.randperm(n, generator=self.g).to(torch.float32)
        return ((perm - (n - 1) / 2.0) * step + 0.013).reshape(shape)

    def probs(self, *shape, axis=-1):
        return torch.softmax(self.randn(*shape), dim=axis)

    def index(self, high, *shape):
        return torch.randint(0, high, shape, generator=self.g, dtype=torch.int64)


# ----------------------------------------------------------------------------------------------
# case registry
# ----------------------------------------------------------------------------------------------
CASES = {}


def case(name, build):
    """build(gen) -> dict(inputs={name: tensor}, fn=callable(dict)->Tensor|list, args={...},
    nograd=set of float input names that get no gradient, after=callable(dict)->{name: tensor})."""
    assert name not in CASES, name
    assert all(c.isalnum() or c == "_" for c in name), name
    CASES[name] = build


def spec(inputs, fn, args, nograd=(), after=None):
    return dict(inputs=inputs, fn=fn, args=args, nograd=set(nograd), after=after)


# ---- elementwise: binary with broadcasting on either side ----
_BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
_BCAST = {
    "same": ((3, 4), (3, 4)),
    "bcast_right": ((3, 4), (4,)),
    "bcast_left": ((4,), (3, 4)),
    "bcast_both": ((3, 1, 4), (2, 4)),
    "bcast_keepdim": ((2, 3, 4), (2, 1, 4)),
}
for _op, _f in _BINARY.items():
    for _bn, (_sa, _sb) in _BCAST.items():
        def _b(g, op=_op, f=_f, sa=_sa, sb=_sb):
            a = g.randn(*sa)
            b = g.signed_away(*sb) if op == "div" else g.randn(*sb)
            return spec({"a": a, "b": b}, lambda t: f(t["a"], t["b"]), {"op": op, "a_shape": list(sa), "b_shape": list(sb)})
        case(f"{_op}_{_bn}", _b)

# ---- elementwise with a scalar: (name, scalar, torch fn); the C++ side maps the name ----
_SCALAR = [
    ("add_scalar", 1.5, lambda a, s: a + s),       # add(a, s)
    ("mul_scalar", -2.5, lambda a, s: a * s),      # mul(a, s)
    ("radd_scalar", 0.75, lambda a, s: s + a),     # s + a
    ("sub_scalar", 1.25, lambda a, s: a - s),      # a - s
    ("rsub_scalar", 2.0, lambda a, s: s - a),      # s - a
    ("rmul_scalar", 3.0, lambda a, s: s * a),      # s * a
    ("div_scalar", 4.0, lambda a, s: a / s),       # a / s
]
for _n, _s, _f in _SCALAR:
    def _b(g, n=_n, s=_s, f=_f):
        return spec({"a": g.randn(3, 4)}, lambda t: f(t["a"], s), {"op": n, "s": s})
    case(_n, _b)

# ---- unary ----
def _hardsigmoid_exact(x):
    """F.hardsigmoid, with an exact f64 gradient. PyTorch's CPU hardsigmoid_backward multiplies by
    scalar_t(1.0f / 6.0f), an f32-rounded constant, so its f64 gradient is off by 3e-8 relative
    (aten/src/ATen/native/cpu/Activation.cpp). clamp(x / 6 + 1/2, 0, 1) has the same value and,
    away from +-3, the exact gradient 1/6 inside."""
    y = torch.clamp(x / 6.0 + 0.5, 0.0, 1.0)
    ref = F.hardsigmoid(x.detach())
    assert torch.allclose(y.detach(), ref, rtol=0, atol=1e-15), "hardsigmoid formula drifted from F.hardsigmoid"
    return y


_UNARY = {
    "neg": (lambda g: g.randn(3, 5), lambda x: -x, {}),
    "exp": (lambda g: g.randn(3, 5), torch.exp, {}),
    "log": (lambda g: g.uniform(3, 5, lo=0.2, hi=3.0), torch.log, {}),
    "sqrt": (lambda g: g.uniform(3, 5, lo=0.2, hi=3.0), torch.sqrt, {}),
    "abs": (lambda g: g.away(g.randn(3, 5), [0.0]), torch.abs, {}),
    "relu": (lambda g: g.away(g.randn(3, 5), [0.0]), torch.relu, {}),
    "sigmoid": (lambda g: g.randn(3, 5, scale=2.0), torch.sigmoid, {}),
    "tanh": (lambda g: g.randn(3, 5, scale=1.5), torch.tanh, {}),
    "silu": (lambda g: g.randn(3, 5, scale=2.0), F.silu, {}),
    "hardsigmoid": (lambda g: g.away(g.uniform(4, 6, lo=-5.0, hi=5.0), [-3.0, 3.0]), _hardsigmoid_exact, {}),
    "hardswish": (lambda g: g.away(g.uniform(4, 6, lo=-5.0, hi=5.0), [-3.0, 3.0]), F.hardswish, {}),
}
for _n, (_gen, _f, _a) in _UNARY.items():
    def _b(g, n=_n, gen=_gen, f=_f, a=_a):
        return spec({"x": gen(g)}, lambda t: f(t["x"]), dict(op=n, **a))
    case(_n, _b)

_POW = {
    "pow_2": (2.0, False), "pow_3": (3.0, False), "pow_2p5": (2.5, True),
    "pow_neg1p5": (-1.5, True), "pow_0p5": (0.5, True),
}
for _n, (_p, _pos) in _POW.items():
    def _b(g, p=_p, pos=_pos):
        x = g.uniform(3, 5, lo=0.3, hi=2.5) if pos else g.randn(3, 5)
        return spec({"x": x}, lambda t: torch.pow(t["x"], p), {"op": "pow", "exponent": p})
    case(_n, _b)

_CLAMP = {"clamp_both": (-0.5, 0.7), "clamp_min": (-0.3, None), "clamp_max": (None, 0.4)}
for _n, (_lo, _hi) in _CLAMP.items():
    def _b(g, lo=_lo, hi=_hi):
        x = g.away(g.randn(4, 5), [p for p in (lo, hi) if p is not None])
        return spec({"x": x}, lambda t: torch.clamp(t["x"], lo, hi), {"op": "clamp", "min": lo, "max": hi})
    case(_n, _b)

# ---- reductions over a [2, 3, 4] input ----
_AXES = {
    "all": ([], False), "axis1": ([1], False), "axes02_keepdim": ([0, 2], True),
    "neg1": ([-1], False), "axis1_keepdim": ([1], True), "axes02": ([0, 2], False),
}


def _reduce_fn(op, axes, keepdim, unbiased=True):
    def f(t):
        x = t["x"]
        if op == "sum":
            return x.sum(dim=axes, keepdim=keepdim) if axes else x.sum()
        if op == "mean":
            return x.mean(dim=axes, keepdim=keepdim) if axes else x.mean()
        if op == "max":
            return torch.amax(x, dim=axes, keepdim=keepdim) if axes else torch.amax(x)
        if op == "logsumexp":
            return torch.logsumexp(x, dim=axes, keepdim=keepdim)
        if op == "var":
            return torch.var(x, dim=axes, unbiased=unbiased, keepdim=keepdim)
        raise ValueError(op)
    return f


for _op, _names in {
    "sum": ["all", "axis1", "axes02_keepdim", "neg1"],
    "mean": ["all", "axis1_keepdim", "axes02"],
    "max": ["all", "axis1", "axes02_keepdim", "neg1"],
    "logsumexp": ["axis1", "axes02_keepdim", "neg1"],
}.items():
    for _an in _names:
        def _b(g, op=_op, an=_an):
            axes, keepdim = _AXES[an]
            x = g.distinct(2, 3, 4) if op == "max" else g.randn(2, 3, 4)
            return spec({"x": x}, _reduce_fn(op, axes, keepdim), {"op": op, "axes": axes, "keepdim": keepdim})
        case(f"{_op}_{_an}", _b)


def _b_max_ties(g):
    # Exactly equal maxima inside some reduced rows: torch.amax splits the gradient evenly.
    x = torch.tensor([[[0.5, 1.5, 1.5, -1.0], [2.0, 2.0, 2.0, 0.25], [-0.5, 0.75, -2.0, 0.125]],
                      [[1.0, -1.0, 1.0, 1.0], [3.0, 0.0, -3.0, 3.0], [0.5, 0.5, 0.5, 0.5]]],
                     dtype=torch.float32)
    return spec({"x": x}, _reduce_fn("max", [-1], False), {"op": "max", "axes": [-1], "keepdim": False})


case("max_ties_neg1", _b_max_ties)
for _n, (_axes, _unb, _kd) in {
    "var_axis1": ([1], True, False),
    "var_axes02_keepdim_biased": ([0, 2], False, True),
    "var_neg1_keepdim": ([-1], True, True),
    "var_axes12_biased": ([1, 2], False, False),
}.items():
    def _b(g, axes=_axes, unb=_unb, kd=_kd):
        return spec({"x": g.randn(2, 3, 4, scale=1.5, shift=0.5)}, _reduce_fn("var", axes, kd, unb),
                    {"op": "var", "axes": axes, "unbiased": unb, "keepdim": kd})
    case(_n, _b)

# ---- shape ----
case("reshape", lambda g: spec({"x": g.randn(2, 3, 4)}, lambda t: t["x"].reshape(4, 6), {"op": "reshape", "shape": [4, 6]}))
case("reshape_infer", lambda g: spec({"x": g.randn(2, 3, 4)}, lambda t: t["x"].reshape(3, -1, 2), {"op": "reshape", "shape": [3, -1, 2]}))
case("flatten_all", lambda g: spec({"x": g.randn(2, 3, 2, 2)}, lambda t: torch.flatten(t["x"]), {"op": "flatten", "start": 0, "end": -1}))
case("flatten_1_2", lambda g: spec({"x": g.randn(2, 3, 2, 2)}, lambda t: torch.flatten(t["x"], 1, 2), {"op": "flatten", "start": 1, "end": 2}))
case("permute", lambda g: spec({"x": g.randn(2, 3, 4)}, lambda t: t["x"].permute(2, 0, 1), {"op": "permute", "order": [2, 0, 1]}))
case("transpose", lambda g: spec({"x": g.randn(2, 3, 4)}, lambda t: t["x"].transpose(0, 2), {"op": "transpose", "a": 0, "b": 2}))
case("transpose_neg", lambda g: spec({"x": g.randn(2, 3, 4)}, lambda t: t["x"].transpose(-1, -2), {"op": "transpose", "a": -1, "b": -2}))


def _slice(x, axis, start, end, step):
    idx = [slice(None)] * x.dim()
    idx[axis] = slice(start, end, step)
    return x[tuple(idx)]


for _n, (_shape, _axis, _start, _end, _step) in {
    "slice_step2": ((3, 7, 4), 1, 1, 6, 2),
    "slice_neg": ((3, 7, 4), -2, -5, -1, 1),
    "slice_step3_axis0": ((8, 3), 0, 0, 8, 3),
    "slice_last": ((3, 4, 6), -1, 2, 6, 1),
}.items():
    def _b(g, shape=_shape, axis=_axis, start=_start, end=_end, step=_step):
        return spec({"x": g.randn(*shape)}, lambda t: _slice(t["x"], axis, start, end, step),
                    {"op": "slice", "axis": axis, "start": start, "end": end, "step": step})
    case(_n, _b)

case("cat_axis1", lambda g: spec({"x0": g.randn(2, 3, 4), "x1": g.randn(2, 1, 4), "x2": g.randn(2, 2, 4)},
                                 lambda t: torch.cat([t["x0"], t["x1"], t["x2"]], 1), {"op": "cat", "n": 3, "axis": 1}))
case("cat_neg1", lambda g: spec({"x0": g.randn(3, 2), "x1": g.randn(3, 4)},
                                lambda t: torch.cat([t["x0"], t["x1"]], -1), {"op": "cat", "n": 2, "axis": -1}))
case("stack_axis0", lambda g: spec({"x0": g.randn(2, 3), "x1": g.randn(2, 3), "x2": g.randn(2, 3)},
                                   lambda t: torch.stack([t["x0"], t["x1"], t["x2"]], 0), {"op": "stack", "n": 3, "axis": 0}))
case("stack_neg1", lambda g: spec({"x0": g.randn(2, 3), "x1": g.randn(2, 3)},
                                  lambda t: torch.stack([t["x0"], t["x1"]], -1), {"op": "stack", "n": 2, "axis": -1}))
case("chunk_uneven", lambda g: spec({"x": g.randn(2, 7, 3)}, lambda t: list(torch.chunk(t["x"], 3, 1)),
                                    {"op": "chunk", "chunks": 3, "axis": 1}))
case("chunk_even_axis0", lambda g: spec({"x": g.randn(4, 3)}, lambda t: list(torch.chunk(t["x"], 2, 0)),
                                        {"op": "chunk", "chunks": 2, "axis": 0}))
case("index_select_axis0", lambda g: spec({"x": g.randn(5, 3), "idx": torch.tensor([4, 0, 2, 0, 4, 4])},
                                          lambda t: torch.index_select(t["x"], 0, t["idx"]), {"op": "index_select", "axis": 0}))
case("index_select_neg1", lambda g: spec({"x": g.randn(2, 3, 5), "idx": torch.tensor([1, 3, 1])},
                                         lambda t: torch.index_select(t["x"], -1, t["idx"]), {"op": "index_select", "axis": -1}))
case("gather_axis1", lambda g: spec({"x": g.randn(3, 5), "idx": g.index(5, 3, 4)},
                                    lambda t: torch.gather(t["x"], 1, t["idx"]), {"op": "gather", "axis": 1}))
case("gather_axis0", lambda g: spec({"x": g.randn(4, 3), "idx": g.index(4, 6, 3)},
                                    lambda t: torch.gather(t["x"], 0, t["idx"]), {"op": "gather", "axis": 0}))
case("expand_new_dims", lambda g: spec({"x": g.randn(3, 1)}, lambda t: t["x"].expand(2, 3, 4), {"op": "expand", "shape": [2, 3, 4]}))
case("expand_row", lambda g: spec({"x": g.randn(1, 4)}, lambda t: t["x"].expand(3, 4), {"op": "expand", "shape": [3, 4]}))
case("unsqueeze_axis1", lambda g: spec({"x": g.randn(3, 4)}, lambda t: t["x"].unsqueeze(1), {"op": "unsqueeze", "axis": 1}))
case("unsqueeze_neg1", lambda g: spec({"x": g.randn(3, 4)}, lambda t: t["x"].unsqueeze(-1), {"op": "unsqueeze", "axis": -1}))
case("squeeze_axis1", lambda g: spec({"x": g.randn(3, 1, 4)}, lambda t: t["x"].squeeze(1), {"op": "squeeze", "axis": 1}))
case("squeeze_neg1", lambda g: spec({"x": g.randn(3, 4, 1)}, lambda t: t["x"].squeeze(-1), {"op": "squeeze", "axis": -1}))

# ---- linear algebra ----
for _n, (_sa, _sb) in {
    "matmul_2d": ((3, 4), (4, 5)),
    "matmul_batched": ((2, 3, 4), (2, 4, 5)),
    "matmul_bcast": ((2, 1, 3, 4), (3, 4, 5)),
    "matmul_bcast_2d_rhs": ((2, 3, 4), (4, 5)),
    "matmul_bcast_2d_lhs": ((3, 4), (2, 4, 5)),
    "matmul_matvec": ((3, 4), (4,)),
}.items():
    def _b(g, sa=_sa, sb=_sb):
        return spec({"a": g.randn(*sa), "b": g.randn(*sb)}, lambda t: torch.matmul(t["a"], t["b"]),
                    {"op": "matmul", "a_shape": list(sa), "b_shape": list(sb)})
    case(_n, _b)

case("linear_bias", lambda g: spec({"x": g.randn(2, 3, 4), "weight": g.randn(5, 4, scale=0.5), "bias": g.randn(5)},
                                   lambda t: F.linear(t["x"], t["weight"], t["bias"]), {"op": "linear", "bias": True}))
case("linear_nobias", lambda g: spec({"x": g.randn(3, 4), "weight": g.randn(5, 4, scale=0.5)},
                                     lambda t: F.linear(t["x"], t["weight"]), {"op": "linear", "bias": False}))

# ---- conv2d ----
# (x shape, weight shape, bias, stride, padding, dilation, groups); ints are used for both H and W
# except in conv2d_asym, which goes through core::Conv2dParams on the C++ side.
_CONV = {
    "conv2d_basic": ((2, 3, 7, 6), (4, 3, 3, 3), True, 1, 0, 1, 1),
    "conv2d_stride2_pad1": ((2, 3, 7, 6), (4, 3, 3, 3), True, 2, 1, 1, 1),
    "conv2d_dilation2_nobias": ((2, 3, 8, 7), (4, 3, 3, 3), False, 1, 2, 2, 1),
    "conv2d_groups2": ((2, 4, 6, 5), (6, 2, 3, 3), True, 1, 1, 1, 2),
    "conv2d_depthwise_stride2": ((2, 4, 7, 7), (4, 1, 3, 3), True, 2, 1, 1, 4),
    "conv2d_depthwise_mult2": ((1, 3, 5, 6), (6, 1, 3, 3), False, 1, 1, 1, 3),
    "conv2d_batch1_nobias": ((1, 3, 5, 5), (2, 3, 3, 3), False, 1, 1, 1, 1),
    "conv2d_1x1": ((2, 5, 4, 4), (3, 5, 1, 1), True, 1, 0, 1, 1),
    "conv2d_k5_stride2_pad2": ((2, 2, 9, 8), (3, 2, 5, 5), True, 2, 2, 1, 1),
    "conv2d_asym": ((2, 3, 7, 8), (3, 3, 3, 2), True, (2, 1), (1, 0), (1, 2), 1),
}
for _n, (_sx, _sw, _bias, _st, _pd, _dl, _gr) in _CONV.items():
    def _b(g, sx=_sx, sw=_sw, bias=_bias, st=_st, pd=_pd, dl=_dl, gr=_gr):
        fan_in = sw[1] * sw[2] * sw[3]
        inputs = {"x": g.randn(*sx), "weight": g.randn(*sw, scale=fan_in ** -0.5)}
        if bias:
            inputs["bias"] = g.randn(sw[0], scale=0.5)
        pair = lambda v: list(v) if isinstance(v, tuple) else [v, v]  # noqa: E731
        args = {"op": "conv2d", "bias": bias, "stride": pair(st), "padding": pair(pd), "dilation": pair(dl), "groups": gr}
        return spec(inputs, lambda t: F.conv2d(t["x"], t["weight"], t.get("bias"), st, pd, dl, gr), args)
    case(_n, _b)

# ---- pooling ----
for _n, (_sx, _k, _s, _p, _ceil) in {
    "max_pool2d_k3s2p1": ((2, 3, 7, 6), 3, 2, 1, False),
    "max_pool2d_k2s2": ((2, 2, 6, 6), 2, 2, 0, False),
    "max_pool2d_k2s2_ceil": ((2, 2, 7, 5), 2, 2, 0, True),
    "max_pool2d_k3s2p1_ceil": ((1, 2, 8, 8), 3, 2, 1, True),
    "max_pool2d_k3s1p1": ((1, 2, 5, 4), 3, 1, 1, False),
}.items():
    def _b(g, sx=_sx, k=_k, s=_s, p=_p, ceil=_ceil):
        return spec({"x": g.distinct(*sx, step=0.01)}, lambda t: F.max_pool2d(t["x"], k, s, p, ceil_mode=ceil),
                    {"op": "max_pool2d", "kernel": k, "stride": s, "padding": p, "ceil_mode": ceil})
    case(_n, _b)

for _n, (_sx, _k, _s, _p, _ceil, _cip) in {
    "avg_pool2d_k3s2p1_incl": ((2, 3, 7, 6), 3, 2, 1, False, True),
    "avg_pool2d_k3s2p1_excl": ((2, 3, 7, 6), 3, 2, 1, False, False),
    "avg_pool2d_k2s2": ((2, 2, 6, 6), 2, 2, 0, False, True),
    "avg_pool2d_k2s2_ceil": ((2, 2, 7, 5), 2, 2, 0, True, True),
    "avg_pool2d_k3s2p1_ceil_incl": ((1, 2, 8, 8), 3, 2, 1, True, True),
    "avg_pool2d_k3s2p1_ceil_excl": ((1, 2, 8, 8), 3, 2, 1, True, False),
}.items():
    def _b(g, sx=_sx, k=_k, s=_s, p=_p, ceil=_ceil, cip=_cip):
        return spec({"x": g.randn(*sx)}, lambda t: F.avg_pool2d(t["x"], k, s, p, ceil_mode=ceil, count_include_pad=cip),
                    {"op": "avg_pool2d", "kernel": k, "stride": s, "padding": p, "ceil_mode": ceil, "count_include_pad": cip})
    case(_n, _b)

for _n, (_sx, _oh, _ow) in {
    "adaptive_avg_pool2d_divisible": ((2, 3, 8, 6), 4, 3),
    "adaptive_avg_pool2d_nondivisible": ((2, 2, 7, 5), 3, 2),
    "adaptive_avg_pool2d_global": ((2, 3, 5, 6), 1, 1),
    "adaptive_avg_pool2d_grow": ((1, 2, 3, 3), 5, 4),
}.items():
    def _b(g, sx=_sx, oh=_oh, ow=_ow):
        return spec({"x": g.randn(*sx)}, lambda t: F.adaptive_avg_pool2d(t["x"], (oh, ow)),
                    {"op": "adaptive_avg_pool2d", "out_h": oh, "out_w": ow})
    case(_n, _b)

# ---- batch_norm ----
for _n, (_sx, _train, _affine, _running, _mom) in {
    "batch_norm_train_4d_affine": ((3, 4, 3, 2), True, True, True, 0.1),
    "batch_norm_train_2d_affine": ((6, 5), True, True, True, 0.1),
    "batch_norm_train_4d_noaffine": ((2, 3, 4, 3), True, False, True, 0.1),
    "batch_norm_train_2d_noaffine_momentum0p3": ((5, 4), True, False, True, 0.3),
    "batch_norm_train_4d_norunning": ((2, 3, 3, 3), True, True, False, 0.1),
    "batch_norm_eval_4d_affine": ((2, 4, 3, 3), False, True, True, 0.1),
    "batch_norm_eval_2d_noaffine": ((4, 5), False, False, True, 0.1),
}.items():
    def _b(g, sx=_sx, train=_train, affine=_affine, running=_running, mom=_mom):
        c = sx[1]
        inputs = {"x": g.randn(*sx, scale=2.0, shift=0.5)}
        if affine:
            inputs["weight"] = g.randn(c, scale=0.5, shift=1.0)
            inputs["bias"] = g.randn(c, scale=0.5)
        nograd = []
        if running:
            inputs["running_mean"] = g.randn(c, scale=0.3)
            inputs["running_var"] = g.uniform(c, lo=0.5, hi=1.5)
            nograd = ["running_mean", "running_var"]
        state = {}

        def fn(t):
            rm = t["running_mean"].detach().clone() if running else None
            rv = t["running_var"].detach().clone() if running else None
            state["rm"], state["rv"] = rm, rv
            return F.batch_norm(t["x"], rm, rv, t.get("weight"), t.get("bias"), training=train, momentum=mom, eps=1e-5)

        def after(t):
            if not (running and train):
                return {}
            return {"running_mean_after": state["rm"], "running_var_after": state["rv"]}

        args = {"op": "batch_norm", "training": train, "affine": affine, "running": running, "momentum": mom, "eps": 1e-5}
        return spec(inputs, fn, args, nograd=nograd, after=after)
    case(_n, _b)

# ---- softmax ----
for _op, _f in {"softmax": torch.softmax, "log_softmax": torch.log_softmax}.items():
    for _n, (_sx, _axis) in {"axis1": ((3, 5), 1), "neg1_3d": ((2, 3, 4), -1), "axis0_3d": ((2, 3, 4), 0)}.items():
        def _b(g, op=_op, f=_f, sx=_sx, axis=_axis):
            return spec({"x": g.randn(*sx, scale=2.0)}, lambda t: f(t["x"], axis), {"op": op, "axis": axis})
        case(f"{_op}_{_n}", _b)

# ---- losses ----
for _red in ("mean", "sum", "none"):
    for _ls in (0.0, 0.1):
        def _b(g, red=_red, ls=_ls):
            return spec({"logits": g.randn(5, 4, scale=1.5), "target": g.index(4, 5)},
                        lambda t: F.cross_entropy(t["logits"], t["target"], reduction=red, label_smoothing=ls),
                        {"op": "cross_entropy", "target": "indices", "reduction": red, "label_smoothing": ls})
        case(f"cross_entropy_idx_{_red}" + ("_ls0p1" if _ls else ""), _b)

        def _b(g, red=_red, ls=_ls):
            return spec({"logits": g.randn(5, 4, scale=1.5), "target": g.probs(5, 4)},
                        lambda t: F.cross_entropy(t["logits"], t["target"], reduction=red, label_smoothing=ls),
                        {"op": "cross_entropy", "target": "probs", "reduction": red, "label_smoothing": ls})
        case(f"cross_entropy_soft_{_red}" + ("_ls0p1" if _ls else ""), _b)

# kl_div: our Reduction::mean is torch's 'batchmean' (divide by size(0)); see functions.h.
for _red, _tred in {"mean": "batchmean", "sum": "sum", "none": "none"}.items():
    def _b(g, red=_red, tred=_tred):
        return spec({"log_q": torch.log_softmax(g.randn(4, 5), 1), "p": g.probs(4, 5)},
                    lambda t: F.kl_div(t["log_q"], t["p"], reduction=tred),
                    {"op": "kl_div", "reduction": red, "torch_reduction": tred})
    case(f"kl_div_{_red}", _b)

for _red in ("mean", "sum", "none"):
    def _b(g, red=_red):
        return spec({"a": g.randn(3, 4), "b": g.randn(3, 4)}, lambda t: F.mse_loss(t["a"], t["b"], reduction=red),
                    {"op": "mse_loss", "reduction": red})
    case(f"mse_loss_{_red}", _b)

for _n, (_sx, _axis) in {"normalize_axis1": ((4, 5), 1), "normalize_neg1_3d": ((2, 3, 4), -1), "normalize_axis0": ((4, 3), 0)}.items():
    def _b(g, sx=_sx, axis=_axis):
        return spec({"x": g.randn(*sx)}, lambda t: F.normalize(t["x"], dim=axis), {"op": "normalize", "axis": axis, "eps": 1e-12})
    case(_n, _b)

for _n, (_sa, _sb, _axis) in {
    "cosine_similarity_axis1": ((4, 5), (4, 5), 1),
    "cosine_similarity_neg1_3d": ((2, 3, 4), (2, 3, 4), -1),
    "cosine_similarity_bcast": ((3, 1, 5), (1, 4, 5), -1),
}.items():
    def _b(g, sa=_sa, sb=_sb, axis=_axis):
        return spec({"a": g.randn(*sa), "b": g.randn(*sb)}, lambda t: F.cosine_similarity(t["a"], t["b"], dim=axis, eps=1e-8),
                    {"op": "cosine_similarity", "axis": axis, "eps": 1e-8})
    case(_n, _b)


# ----------------------------------------------------------------------------------------------
# generation
# ----------------------------------------------------------------------------------------------
def case_seed(name):
    return (BASE_SEED + zlib.crc32(name.encode("ascii"))) % (2 ** 31)


def build_case(name):
    seed = case_seed(name)
    torch.manual_seed(seed)
    g = Gen(seed)
    s = CASES[name](g)
    inputs = {k: v.detach().clone() for k, v in s["inputs"].items()}
    for k, v in inputs.items():
        assert v.dtype in (torch.float32, torch.int64), (name, k, v.dtype)
    leaves = {}
    for k, v in inputs.items():
        # The reference is computed in f64 from the exact f32 input values.
        leaf = v.double() if v.is_floating_point() else v.clone()
        if v.is_floating_point() and k not in s["nograd"]:
            leaf.requires_grad_(True)
        leaves[k] = leaf
    out = s["fn"](leaves)
    outs = out if isinstance(out, list) else [out]
    weights = [g.randn(*o.shape) for o in outs]
    loss = sum((o * w.double()).sum() for o, w in zip(outs, weights))
    loss.backward()

    tensors = {f"input.{k}": v for k, v in inputs.items()}
    if isinstance(out, list):
        for i, (o, w) in enumerate(zip(outs, weights)):
            tensors[f"output.{i}"] = o.detach()
            tensors[f"weight_out.{i}"] = w
    else:
        tensors["output"] = out.detach()
        tensors["weight_out"] = weights[0]
    for k, leaf in leaves.items():
        if leaf.requires_grad:
            assert leaf.grad is not None, (name, k)
            tensors[f"grad.{k}"] = leaf.grad
    if s["after"] is not None:
        tensors.update({k: v.detach() for k, v in s["after"](leaves).items()})
    for k, v in tensors.items():
        assert torch.isfinite(v.double()).all(), (name, k)
        if k.startswith(("output", "grad.")) or k.endswith("_after"):
            assert v.dtype == torch.float64, (name, k, v.dtype)
    meta = {
        "generator": GENERATOR,
        "torch": torch.__version__,
        "seed": str(seed),
        "case": name,
        "args": json.dumps(s["args"], sort_keys=True, separators=(",", ":")),
    }
    return serialize_safetensors(tensors, meta)


def generate(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name in names:
        data = build_case(name)
        assert len(data) <= 50 * 1024, (name, len(data))
        total += len(data)
        path = os.path.join(out_dir, f"{PREFIX}{name}.safetensors")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with the committed files")
    ap.add_argument("--only", default="", help="only cases whose name contains this string")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--list", action="store_true", help="list the case names and exit")
    opts = ap.parse_args()

    torch.manual_seed(BASE_SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    names = sorted(n for n in CASES if opts.only in n)
    if opts.list:
        print("\n".join(names))
        return 0
    if not opts.check:
        total = generate(opts.out, names)
        print(f"wrote {len(names)} fixtures ({total} bytes) to {opts.out}")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, names)
        files = [f"{PREFIX}{n}.safetensors" for n in names]
        stale = stale_fixtures(opts.out, tmp, files, prefix=None if opts.only else PREFIX)
    return report(stale, len(names), GENERATOR)


if __name__ == "__main__":
    sys.exit(main())
