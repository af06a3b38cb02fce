"""``spikegate generate dot|linear``: FP8 dot products and linear layers from the command line.

``dot --in N``: one dot product, weights as ports ``w0..`` (or constants with
``--weights``). ``linear --in N --out M``: fully spatial (all ``M`` outputs unrolled) unless
``--lanes P`` asks for the time-multiplexed stream form (``P`` lanes, weights in ROM). Weights
come from ``--weights FILE.npy`` (an ``(M, N)`` array of FP8 codes) or are drawn finite and
seeded (``--seed``); the spatial form takes them as constants only with ``--const-weights``
(else as ports). ``report.json`` has the FP8 units' keys plus ``accum``, ``order``,
``in_features``, ``out_features`` (and ``lanes``, ``groups`` for streams).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["generate_linear", "random_codes"]


def random_codes(fmt, shape, seed):
    """Seeded finite FP8 codes of moderate magnitude (no NaN/inf)."""
    from .golden.fp8 import get_format
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 256, shape)
    # exponent field limited to the lower 3/4 of the range: finite, products do not overflow
    e = rng.integers(0, (3 << fmt.exp_bits) // 4, shape)
    return ((c & 0x80) | (e << fmt.man_bits) | (c & ((1 << fmt.man_bits) - 1))).astype(int)


def _weights(args, n, m):
    if args.weights:
        w = np.load(args.weights)
        if w.shape != (m, n):
            raise ValueError(f"--weights {args.weights} has shape {w.shape}, expected ({m}, {n})")
        return [[int(c) for c in row] for row in w]
    return random_codes(args.format, (m, n), args.seed).tolist()


def generate_linear(args):
    """Implements ``generate dot`` and ``generate linear``; returns the report."""
    from .gen.dot import build_dot, build_linear
    from .hdl.design import write_atomically
    from .hdl.fastv import FastDesign
    n = args.in_features
    if n is None:
        raise ValueError(f"generate {args.unit} needs --in N (in_features)")
    m = 1 if args.unit == "dot" else args.out_features
    if m is None:
        raise ValueError("generate linear needs --out M (out_features)")
    kw = dict(accum=args.accum, out=args.out_format, policy=args.policy, order=args.order)
    bias_codes = None
    if args.bias == "random":
        bias_codes = random_codes(args.format, (m,), args.seed + 1).tolist()
    extra = {"accum": args.accum, "order": args.order if args.accum != "exact" else "n/a",
             "in_features": n, "out_features": m}
    if args.unit == "linear" and args.lanes:
        from .hdl.linear_stream import LayerSpec, stream_verilog
        weights = _weights(args, n, m)
        lanes = max(1, min(args.lanes, m))
        dp = build_linear(n, lanes, args.format, weights=None,
                          bias=None if bias_codes is None else "port",
                          name=f"linear{n}x{m}_lanes", **kw)
        stages = args.stages or 2
        spec = LayerSpec(dp, weights, bias_codes, stages=stages, name="layer")
        top = f"linear{n}x{m}_{args.format}_{args.accum}_p{lanes}"
        text = stream_verilog([spec], top=top)
        st = dp.stats()
        report = {"top": top, "verilog": f"{top}.v",
                  **{k: st[k] for k in ("neurons", "synapses", "depth", "max_fanin",
                                        "max_weight")},
                  "latency_cycles": spec.groups + stages + 1, "stages": stages,
                  "lanes": lanes, "groups": spec.groups, "form": "time-multiplexed",
                  "interface": "amaranth.lib.stream: i (valid/ready/payload N*8), "
                               "o (valid/ready/payload M*W)",
                  "format": args.format, "policy": args.policy,
                  "out_format": dp.meta["out_format"], **extra}
        files = {f"{top}.v": text,
                 "report.json": json.dumps(report, indent=2, sort_keys=True) + "\n",
                 "weights.json": json.dumps({"weights": weights, "bias": bias_codes}) + "\n"}
        out = Path(args.output)
        if out.exists() and any(out.iterdir()) and not args.force:
            raise FileExistsError(f"{out} exists and is not empty: pass --force to replace it")
        write_atomically(out, files)
        return report
    const = args.weights or getattr(args, "const_weights", False)
    weights = _weights(args, n, m) if const else None
    if args.unit == "dot":
        nl = build_dot(n, args.format, weights=None if weights is None else weights[0],
                       bias=None if bias_codes is None else bias_codes[0], **kw)
    else:
        nl = build_linear(n, m, args.format, weights=weights, bias=bias_codes, **kw)
    design = FastDesign(nl, stages=args.stages, extra_report={**extra, "form": "spatial"})
    design.write(args.output, force=args.force)
    return design.report()


def add_linear_arguments(gen):
    """The ``generate dot|linear`` options (added to the ``generate`` sub-parser)."""
    g = gen.add_argument_group("dot / linear")
    g.add_argument("--in", dest="in_features", type=int, help="in_features N")
    g.add_argument("--out", dest="out_features", type=int, help="out_features M (linear)")
    g.add_argument("--accum", default="exact", choices=("exact", "fp32", "fp16", "fp8"),
                   help="accumulation mode")
    g.add_argument("--order", default="tree", choices=("tree", "sequential"),
                   help="summation order of the fp32/fp16/fp8 modes")
    g.add_argument("--lanes", type=int, help="time-multiplexed layer with P lanes (linear)")
    g.add_argument("--out-format", choices=("fp32", "fp16", "e4m3", "e5m2"),
                   help="output format (default: fp32 for exact, else the accumulator's)")
    g.add_argument("--bias", choices=("none", "random"), default="none",
                   help="no bias, or seeded random FP8 bias constants")
    g.add_argument("--weights", help=".npy file of (M, N) FP8 weight codes")
    g.add_argument("--const-weights", action="store_true",
                   help="spatial form: bake the (seeded or --weights) weights in as constants")
    g.add_argument("--seed", type=int, default=0, help="seed of random weights / bias")
