#!/usr/bin/python3
"""Golden fixtures for nn/optim: optimizers over several steps, the lr schedule, a converted
PyTorch checkpoint. Run with the Debian interpreter: /usr/bin/python3 tools/make_golden_optim.py

tests/golden/optim_<case>.safetensors, one per optimizer case, holds:
  param.<name>             F32   initial parameters
  grad.<step>.<name>       F32   the gradient given before step <step> (absent: no gradient)
  expected.<step>.<name>   F64   the parameters after step <step>
  state.<name>.<field>     F64   optimizer state after the last step (I64 for "step")
and metadata "args" (JSON): optimizer, options, groups [{name, params, lr, weight_decay,
momentum, lars_adaptation}], steps, and "lrs" (per step, per group) when the lr changes.
SGD, Adam and AdamW run torch.optim in f64 from the exact f32 values; LARS runs lars_reference()
below, the formula documented in nn/optim/lars.h.

optim_schedule.safetensors: lr.<i> (F64, steps 0..total+4) for the warm-up + cosine configs in
args "schedules" (closed form, cross-checked here against torch's SequentialLR(LinearLR,
CosineAnnealingLR) where LinearLR allows the start), and momentum.<i> for BYOL's cosine target
momentum configs in args "momentums".

optim_convert_small.safetensors: a small torch module's state_dict (conv, BN, linear) saved as a
.pth wrapped like a DataParallel checkpoint ({'state_dict': {'module.<k>': ...}}) and converted by
tools/convert_torch_to_safetensors.py --strip-prefix module.; values are index formulas the C++
test recomputes.

  --check   regenerate into a temporary directory and compare bytes with the committed files.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torch_to_safetensors import main as convert_main  # noqa: E402
from convert_torch_to_safetensors import serialize_safetensors  # noqa: E402
from fixture_check import report, stale_fixtures  # noqa: E402

GENERATOR = "tools/make_golden_optim.py"
BASE_SEED = 20240607
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden")
PREFIX = "optim_"
STEPS = 5

# name -> shape; "decay" group: >= 2 dims, "no_decay": biases and 1-d (BN) parameters
PARAMS = [
    ("conv.weight", (3, 2, 2, 2)),
    ("layer.weight", (4, 3)),
    ("layer.bias", (4,)),
    ("norm.weight", (3,)),
]
DECAY = ["conv.weight", "layer.weight"]
NO_DECAY = ["layer.bias", "norm.weight"]


def group(name, params, **kw):
    return dict(name=name, params=list(params), **kw)


def one_group(**kw):
    return [group("default", [n for n, _ in PARAMS], **kw)]


def two_groups(decay, no_decay):
    return [group("decay", DECAY, **decay), group("no_decay", NO_DECAY, **no_decay)]


# ----------------------------------------------------------------------------------------------
# LARS reference (nn/optim/lars.h), in f64:
#   u = g + wd w
#   r = eta ||w|| / (||g|| + wd ||w||)  (sum_of_norms)   or   eta ||w|| / ||u||  (decayed_gradient)
#   r = 1 if ||w|| == 0 or the gradient norm (||g|| resp. ||u||) == 0, or if not lars_adaptation
#   v = mu v + lr r u   (v starts at 0);   w -= v   (nesterov: w -= mu v + lr r u)
# ----------------------------------------------------------------------------------------------
class LarsReference:
    def __init__(self, params, groups, eta, nesterov, trust_ratio):
        self.params, self.groups = params, groups
        self.eta, self.nesterov, self.mode = eta, nesterov, trust_ratio
        self.state = {}

    def step(self, grads):
        for gr in self.groups:
            lr, wd, mu = gr["lr"], gr["weight_decay"], gr["momentum"]
            for name in gr["params"]:
                if name not in grads:
                    continue
                w, g = self.params[name], grads[name]
                u = g + wd * w
                w_norm, g_norm, u_norm = w.norm().item(), g.norm().item(), u.norm().item()
                r = 1.0
                if gr["lars_adaptation"]:
                    if self.mode == "sum_of_norms":
                        if w_norm > 0 and g_norm > 0:
                            r = self.eta * w_norm / (g_norm + wd * w_norm)
                    elif w_norm > 0 and u_norm > 0:
                        r = self.eta * w_norm / u_norm
                step = lr * r * u
                if mu != 0:
                    v = self.state.setdefault(name, {"momentum_buffer": torch.zeros_like(w)})["momentum_buffer"]
                    v.mul_(mu).add_(step)
                    w.sub_(mu * v + step if self.nesterov else v)
                else:
                    w.sub_(step)


# ----------------------------------------------------------------------------------------------
# optimizer cases: name -> (optimizer, options, groups, extra)
# extra: lrs (list per step of per-group lr), skip {step: [param names without a gradient]},
#        zero_param [names initialised to 0], zero_grad {step: [names whose gradient is all 0]}
# ----------------------------------------------------------------------------------------------
CASES = {}


def case(name, optimizer, options, groups, **extra):
    assert name not in CASES, name
    CASES[name] = dict(optimizer=optimizer, options=options, groups=groups, extra=extra)


SGD_DEFAULTS = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)
case("sgd_plain", "SGD", dict(SGD_DEFAULTS), one_group(lr=0.1, weight_decay=0.0, momentum=0.0))
case("sgd_momentum", "SGD", dict(SGD_DEFAULTS, momentum=0.9), one_group(lr=0.1, weight_decay=0.0, momentum=0.9))
case("sgd_nesterov", "SGD", dict(SGD_DEFAULTS, momentum=0.9, nesterov=True, weight_decay=0.01),
     one_group(lr=0.05, weight_decay=0.01, momentum=0.9))
case("sgd_weight_decay", "SGD", dict(SGD_DEFAULTS, momentum=0.9, weight_decay=0.05),
     one_group(lr=0.1, weight_decay=0.05, momentum=0.9))
case("sgd_dampening", "SGD", dict(SGD_DEFAULTS, momentum=0.9, dampening=0.3),
     one_group(lr=0.1, weight_decay=0.0, momentum=0.9))
case("sgd_groups", "SGD", dict(SGD_DEFAULTS, momentum=0.9, weight_decay=0.05),
     two_groups(dict(lr=0.1, weight_decay=0.05, momentum=0.9), dict(lr=0.02, weight_decay=0.0, momentum=0.5)))
case("sgd_lr_changes", "SGD", dict(SGD_DEFAULTS, momentum=0.9, weight_decay=1e-3),
     one_group(lr=0.2, weight_decay=1e-3, momentum=0.9), lrs=[[0.2], [0.15], [0.3], [0.05], [0.0]])
case("sgd_skip_grad", "SGD", dict(SGD_DEFAULTS, momentum=0.9),
     one_group(lr=0.1, weight_decay=0.0, momentum=0.9), skip={1: ["layer.bias"], 2: ["layer.bias", "norm.weight"]})

ADAM_DEFAULTS = dict(beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False, decoupled_weight_decay=True)
case("adamw", "AdamW", dict(ADAM_DEFAULTS), one_group(lr=0.01, weight_decay=0.01))
case("adamw_amsgrad", "AdamW", dict(ADAM_DEFAULTS, amsgrad=True, beta1=0.8, beta2=0.95, eps=1e-6),
     one_group(lr=0.02, weight_decay=0.05))
case("adamw_groups", "AdamW", dict(ADAM_DEFAULTS),
     two_groups(dict(lr=0.01, weight_decay=0.1), dict(lr=0.005, weight_decay=0.0)),
     lrs=[[0.01, 0.005], [0.02, 0.01], [0.01, 0.005], [0.005, 0.0025], [0.001, 0.0005]], skip={3: ["norm.weight"]})
case("adam_l2", "Adam", dict(ADAM_DEFAULTS, decoupled_weight_decay=False), one_group(lr=0.01, weight_decay=0.02))

LARS_DEFAULTS = dict(eta=0.02, nesterov=False, trust_ratio="sum_of_norms")
case("lars", "LARS", dict(LARS_DEFAULTS),
     two_groups(dict(lr=1.0, weight_decay=1e-2, momentum=0.9, lars_adaptation=True),
                dict(lr=1.0, weight_decay=0.0, momentum=0.9, lars_adaptation=False)),
     lrs=[[1.0, 1.0], [0.8, 0.8], [1.2, 1.2], [0.5, 0.5], [0.3, 0.3]])
case("lars_decayed_nesterov", "LARS", dict(LARS_DEFAULTS, eta=0.05, nesterov=True, trust_ratio="decayed_gradient"),
     two_groups(dict(lr=0.5, weight_decay=0.05, momentum=0.9, lars_adaptation=True),
                dict(lr=0.1, weight_decay=0.0, momentum=0.9, lars_adaptation=False)))
case("lars_guards", "LARS", dict(LARS_DEFAULTS, eta=0.1),
     one_group(lr=0.5, weight_decay=1e-2, momentum=0.8, lars_adaptation=True),
     zero_param=["conv.weight"], zero_grad={1: ["layer.weight"], 3: ["conv.weight", "norm.weight"]})
case("lars_no_momentum", "LARS", dict(LARS_DEFAULTS, eta=0.05, trust_ratio="decayed_gradient"),
     one_group(lr=0.5, weight_decay=1e-3, momentum=0.0, lars_adaptation=True))


def case_seed(name):
    return (BASE_SEED + zlib.crc32(name.encode("ascii"))) % (2 ** 31)


def torch_optimizer(spec, params64):
    o = spec["options"]
    groups = []
    for gr in spec["groups"]:
        d = dict(params=[params64[n] for n in gr["params"]], lr=gr["lr"], weight_decay=gr["weight_decay"])
        if spec["optimizer"] == "SGD":
            d["momentum"] = gr["momentum"]
        groups.append(d)
    if spec["optimizer"] == "SGD":
        return torch.optim.SGD(groups, lr=spec["groups"][0]["lr"], momentum=o["momentum"], dampening=o["dampening"],
                               nesterov=o["nesterov"], foreach=False)
    if spec["optimizer"] in ("AdamW", "Adam"):
        cls = torch.optim.AdamW if o["decoupled_weight_decay"] else torch.optim.Adam
        return cls(groups, lr=spec["groups"][0]["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                   amsgrad=o["amsgrad"], foreach=False)
    raise ValueError(spec["optimizer"])


def build_case(name):
    spec = CASES[name]
    extra = spec["extra"]
    g = torch.Generator().manual_seed(case_seed(name))
    tensors = {}
    params32 = {}
    for pname, shape in PARAMS:
        p = torch.randn(shape, generator=g, dtype=torch.float32)
        if pname in extra.get("zero_param", []):
            p.zero_()
        params32[pname] = p
        tensors[f"param.{pname}"] = p
    grads32 = []
    for step in range(STEPS):
        gs = {}
        for pname, shape in PARAMS:
            gr = torch.randn(shape, generator=g, dtype=torch.float32) * 0.5
            if pname in extra.get("skip", {}).get(step, []):
                continue
            if pname in extra.get("zero_grad", {}).get(step, []):
                gr.zero_()
            gs[pname] = gr
            tensors[f"grad.{step}.{pname}"] = gr
        grads32.append(gs)

    params64 = {n: p.double().clone() for n, p in params32.items()}
    lrs = extra.get("lrs")
    if spec["optimizer"] == "LARS":
        o = spec["options"]
        ref = LarsReference(params64, [dict(gr) for gr in spec["groups"]], o["eta"], o["nesterov"], o["trust_ratio"])
        for step in range(STEPS):
            if lrs:
                for gr, lr in zip(ref.groups, lrs[step]):
                    gr["lr"] = lr
            ref.step({n: gr.double() for n, gr in grads32[step].items()})
            for n, p in params64.items():
                tensors[f"expected.{step}.{n}"] = p.clone()
        for n, st in ref.state.items():
            for field, t in st.items():
                tensors[f"state.{n}.{field}"] = t.clone()
    else:
        for p in params64.values():
            p.requires_grad_(True)
        opt = torch_optimizer(spec, params64)
        for step in range(STEPS):
            if lrs:
                for gr, lr in zip(opt.param_groups, lrs[step]):
                    gr["lr"] = lr
            for n, p in params64.items():
                p.grad = grads32[step][n].double() if n in grads32[step] else None
            opt.step()
            for n, p in params64.items():
                tensors[f"expected.{step}.{n}"] = p.detach().clone()
        for n, p in params64.items():
            st = opt.state.get(p, {})
            for field, t in st.items():
                if t is None:
                    continue
                if field == "step":
                    tensors[f"state.{n}.step"] = torch.tensor(int(t.item()), dtype=torch.int64)
                else:
                    tensors[f"state.{n}.{field}"] = t.detach().clone()
    for k, v in tensors.items():
        assert torch.isfinite(v.double()).all(), (name, k)

    args = dict(optimizer=spec["optimizer"], options=spec["options"], groups=spec["groups"], steps=STEPS)
    if lrs:
        args["lrs"] = lrs
    meta = {"generator": GENERATOR, "torch": torch.__version__, "seed": str(case_seed(name)), "case": name,
            "args": json.dumps(args, sort_keys=True, separators=(",", ":"))}
    return serialize_safetensors(tensors, meta)


# ----------------------------------------------------------------------------------------------
# schedules
# ----------------------------------------------------------------------------------------------
SCHEDULES = [
    dict(base_lr=0.5, final_lr=0.001, warmup_steps=5, total_steps=40, warmup_start_lr=0.0),
    dict(base_lr=0.1, final_lr=0.0, warmup_steps=0, total_steps=30, warmup_start_lr=0.0),
    dict(base_lr=1.2, final_lr=0.1, warmup_steps=10, total_steps=25, warmup_start_lr=0.012),
    dict(base_lr=0.3, final_lr=0.3, warmup_steps=3, total_steps=9, warmup_start_lr=0.03),
]
MOMENTUMS = [
    dict(base=0.99, end=1.0, total_steps=50),
    dict(base=0.996, end=1.0, total_steps=20),
    dict(base=0.5, end=0.9, total_steps=10),
]
EXTRA_STEPS = 5


def warmup_cosine(s, t):
    b, f, w, T, s0 = s["base_lr"], s["final_lr"], s["warmup_steps"], s["total_steps"], s["warmup_start_lr"]
    if t < w:
        return s0 + (b - s0) * t / w
    if t >= T:
        return f
    return f + (b - f) * (1 + math.cos(math.pi * (t - w) / (T - w))) / 2


def torch_warmup_cosine(s, steps):
    """lr before each optimizer step with torch's own schedulers (None when LinearLR can't start at s0)."""
    if s["warmup_steps"] > 0 and s["warmup_start_lr"] <= 0:
        return None
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=s["base_lr"])
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s["total_steps"] - s["warmup_steps"],
                                                     eta_min=s["final_lr"])
    if s["warmup_steps"] > 0:
        lin = torch.optim.lr_scheduler.LinearLR(opt, start_factor=s["warmup_start_lr"] / s["base_lr"], end_factor=1.0,
                                                total_iters=s["warmup_steps"])
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [lin, cos], milestones=[s["warmup_steps"]])
    else:
        sched = cos
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def build_schedule():
    import warnings
    tensors = {}
    for i, s in enumerate(SCHEDULES):
        n = s["total_steps"] + EXTRA_STEPS
        ours = [warmup_cosine(s, t) for t in range(n)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch_warmup_cosine(s, s["total_steps"] + 1)  # torch's chained form drifts past T_max
        if theirs is not None:
            for t, (a, b) in enumerate(zip(ours, theirs)):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), (i, t, a, b)
        tensors[f"lr.{i}"] = torch.tensor(ours, dtype=torch.float64)
    for i, m in enumerate(MOMENTUMS):
        n = m["total_steps"] + EXTRA_STEPS
        vals = [m["end"] - (m["end"] - m["base"]) * (math.cos(math.pi * min(k, m["total_steps"]) / m["total_steps"]) + 1) / 2
                for k in range(n)]
        tensors[f"momentum.{i}"] = torch.tensor(vals, dtype=torch.float64)
    args = dict(schedules=SCHEDULES, momentums=MOMENTUMS, extra_steps=EXTRA_STEPS)
    meta = {"generator": GENERATOR, "torch": torch.__version__, "case": "schedule",
            "args": json.dumps(args, sort_keys=True, separators=(",", ":"))}
    return serialize_safetensors(tensors, meta)


# ----------------------------------------------------------------------------------------------
# a converted torch checkpoint
# ----------------------------------------------------------------------------------------------
class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)


def build_convert():
    m = Small()
    with torch.no_grad():
        for k, t in m.state_dict().items():
            if t.is_floating_point():
                # value = 0.01 * flat_index - 0.1 * (position of the key in the state_dict)
                pos = list(m.state_dict()).index(k)
                t.copy_((torch.arange(t.numel(), dtype=torch.float64) * 0.01 - 0.1 * pos).reshape(t.shape))
        m.bn.num_batches_tracked.fill_(7)
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "small.pth")
        out = os.path.join(tmp, "small.safetensors")
        torch.save({"epoch": 3, "arch": "small", "state_dict": {"module." + k: v for k, v in m.state_dict().items()}},
                   pth)
        with open(os.devnull, "w") as devnull:
            old = sys.stdout
            sys.stdout = devnull
            try:
                rc = convert_main([pth, out, "--strip-prefix", "module."])
            finally:
                sys.stdout = old
        assert rc == 0
        with open(out, "rb") as f:
            data = f.read()
    return data


def generate(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    builders = {f"{PREFIX}{n}.safetensors": (lambda n=n: build_case(n)) for n in names}
    builders[f"{PREFIX}schedule.safetensors"] = build_schedule
    builders[f"{PREFIX}convert_small.safetensors"] = build_convert
    for fname, build in builders.items():
        data = build()
        assert len(data) <= 50 * 1024, (fname, len(data))
        total += len(data)
        path = os.path.join(out_dir, fname)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return sorted(builders), total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with the committed files")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    opts = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    names = sorted(CASES)
    if not opts.check:
        files, total = generate(opts.out, names)
        print(f"wrote {len(files)} fixtures ({total} bytes) to {opts.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        files, _ = generate(tmp, names)
        stale = stale_fixtures(opts.out, tmp, files, prefix=PREFIX)
    return report(stale, len(files), GENERATOR)


if __name__ == "__main__":
    sys.exit(main())
