"""``spikegate generate dot|linear``: FP8 dot products and linear layers from the command line.

``dot --in N``: one dot product, weights as ports ``w0..`` (or constants with
``--weights``). ``linear --in N --out M``: fully spatial (all ``M`` outputs unrolled) unless
``--lanes P`` (``P`` dot-product lanes) or ``--mac K`` (one exact multiply-accumulate lane,
``K`` inputs per cycle) asks for a time-multiplexed stream form
(:mod:`spikegate.hdl.stream_design`, weights in ROM). Weights
come from ``--weights FILE.npy`` (an ``(M, N)`` array of FP8 codes) or are drawn finite and
seeded (``--seed``); the spatial form takes them as constants only with ``--const-weights``
(else as ports). ``report.json`` has the FP8 units' keys plus ``accum``, ``order``,
``in_features``, ``out_features`` (and ``lanes`` or ``mac_inputs_per_cycle``, ``layers``
for streams).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["generate_linear", "generate_mlp", "random_codes", "load_torch_model"]


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


def _command(args):
    """The command line that regenerates this design (recorded in report.json / report.md)."""
    parts = ["spikegate", "generate", args.unit, "--in", str(args.in_features)]
    if args.unit == "linear":
        parts += ["--out", str(args.out_features)]
    parts += ["--format", args.format, "--policy", args.policy, "--accum", args.accum]
    if args.accum != "exact":
        parts += ["--order", args.order]
    for flag, value in (("--out-format", args.out_format), ("--lanes", args.lanes),
                        ("--mac", args.mac), ("--weights", args.weights)):
        if value:
            parts += [flag, str(value)]
    if args.stages:
        parts += ["--stages", str(args.stages)]
    if args.bias != "none":
        parts += ["--bias", args.bias]
    if args.const_weights:
        parts.append("--const-weights")
    if args.relu:
        parts.append("--relu")
    if args.seed:
        parts += ["--seed", str(args.seed)]
    return " ".join(parts + ["-o", "DIR"])


#: The output formats of the FP8 dot products and layers.
LAYER_OUT_FORMATS = ("fp32", "fp16", "e4m3", "e5m2")


def _check_out_format(args):
    if args.out_format is not None and args.out_format not in LAYER_OUT_FORMATS:
        raise ValueError(f"--out-format {args.out_format} is not an output of {args.unit}: "
                         f"choose {', '.join(LAYER_OUT_FORMATS)}")


def _check_stream_form(args):
    """One time-multiplexed form at most, and the MAC lane only for exact accumulation."""
    if args.lanes and args.mac:
        raise ValueError("choose one time-multiplexed form: --lanes P (dot-product lanes) or "
                         "--mac K (one exact MAC lane, K inputs per cycle)")
    if args.mac and args.accum != "exact":
        raise ValueError(f"--mac accumulates exactly: use --accum exact (not {args.accum}), "
                         f"or --lanes P for a rounding accumulator")
    for flag in ("lanes", "mac"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag} must be at least 1, not {value}")


def load_torch_model(path):
    """A pickled ``nn.Module`` saved with ``torch.save(model, path)``."""
    import torch
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--model {path}: no such file (save one with "
                                f"`torch.save(model, '{path.name}')`)")
    try:
        # a whole module is a pickle: only load files you trust (as with torch.load)
        model = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is one message
        raise ValueError(f"--model {path} could not be loaded by torch.load ({exc}): save the "
                         f"nn.Sequential itself with torch.save(model, path)") from None
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"--model {path} holds a {type(model).__name__}, not an nn.Module: "
                         f"save the nn.Sequential itself (not its state_dict)")
    return model


def generate_mlp(args):
    """``generate mlp --model FILE``: a saved ``nn.Linear`` / ``nn.Sequential`` of Linear and
    ReLU as a time-multiplexed design (one exact MAC lane per layer by default)."""
    _check_out_format(args)
    from .hdl.model import from_torch
    from .hdl.stream_design import write_stream_design
    if not args.model:
        raise ValueError("generate mlp needs --model FILE (a torch.save'd nn.Sequential of "
                         "Linear and ReLU)")
    _check_stream_form(args)
    layers = from_torch(load_torch_model(args.model), fmt=args.format, accum=args.accum,
                        order=args.order, out_format=args.out_format or "fp32",
                        policy=args.policy)
    mac = args.mac or (None if args.lanes or args.accum != "exact" else 8)
    sizes = "_".join(str(n) for n in [layers[0].in_features]
                     + [lay.out_features for lay in layers])
    top = f"mlp_{sizes}_{args.format}_{args.accum}"
    command = (f"spikegate generate mlp --model {args.model} --format {args.format} "
               f"--policy {args.policy} --accum {args.accum}"
               + (f" --order {args.order}" if args.accum != "exact" else "")
               + (f" --out-format {args.out_format}" if args.out_format else "")
               + (f" --mac {mac}" if mac else f" --lanes {args.lanes or 1}")
               + (f" --stages {args.stages}" if args.stages else "") + " -o DIR")
    return write_stream_design(args.output, layers, top=top, unit="mlp", lanes=args.lanes or 1,
                               mac=mac, stages=args.stages or 2, force=args.force,
                               command=command, extra={"model": str(args.model)})


def generate_linear(args):
    """Implements ``generate dot`` and ``generate linear``; returns the report."""
    _check_out_format(args)
    from .gen.dot import build_dot, build_linear
    from .hdl.design import Design
    from .hdl.inspect import analyze
    from .hdl.report import fusesoc_core, report_markdown
    n = args.in_features
    if n is None:
        raise ValueError(f"generate {args.unit} needs --in N (in_features)")
    m = 1 if args.unit == "dot" else args.out_features
    if m is None:
        raise ValueError("generate linear needs --out M (out_features)")
    if (args.lanes or args.mac) and args.unit != "linear":
        raise ValueError("--lanes and --mac make a time-multiplexed layer: use `generate linear`")
    _check_stream_form(args)
    activation = "relu" if args.relu else None
    kw = dict(accum=args.accum, out=args.out_format, policy=args.policy, order=args.order)
    bias_codes = None
    if args.bias == "random":
        bias_codes = random_codes(args.format, (m,), args.seed + 1).tolist()
    extra = {"accum": args.accum, "order": args.order if args.accum != "exact" else "n/a",
             "in_features": n, "out_features": m, "activation": activation or "none"}
    if args.lanes or args.mac:
        from .gen.dot import resolve_modes
        from .hdl.model import Fp8Layer
        from .hdl.stream_design import write_stream_design
        outf = resolve_modes(args.format, args.accum, args.out_format, args.order,
                              args.policy)[2]
        if args.relu and not outf.is_fp8:
            raise ValueError(f"--relu needs an FP8 output format (--out-format e4m3|e5m2), "
                             f"not {outf.name}")
        layer = Fp8Layer(_weights(args, n, m), bias_codes, bool(args.relu), outf.name,
                         args.format, args.accum, args.order, args.policy)
        form = f"mac{args.mac}" if args.mac else f"p{max(1, min(args.lanes, m))}"
        top = f"linear{n}x{m}_{args.format}_{args.accum}_{form}"
        return write_stream_design(args.output, [layer], top=top, unit="linear",
                                   lanes=max(1, min(args.lanes or 1, m)), mac=args.mac,
                                   stages=args.stages or 2, force=args.force,
                                   command=_command(args))
    const = args.weights or args.const_weights
    weights = _weights(args, n, m) if const else None
    if args.unit == "dot":
        nl = build_dot(n, args.format, weights=None if weights is None else weights[0],
                       bias=None if bias_codes is None else bias_codes[0], **kw)
        if args.relu:
            raise ValueError("--relu applies to `generate linear` (a layer), not to dot")
    else:
        nl = build_linear(n, m, args.format, weights=weights, bias=bias_codes,
                          activation=activation, **kw)
    design = Design(nl, stages=args.stages,
                    extra_report={**extra, "form": "spatial", "command": _command(args)})
    report = design.report()
    files = {"report.md": report_markdown(report, analyze(nl, args.stages)),
             f"{design.top}.core": fusesoc_core(report)}
    if weights is not None or bias_codes is not None:
        files["weights.json"] = json.dumps({"weights": weights, "bias": bias_codes}) + "\n"
    design.write(args.output, force=args.force, extra_files=files)
    return report


def add_linear_arguments(gen):
    """The ``generate dot|linear`` options (added to the ``generate`` sub-parser)."""
    g = gen.add_argument_group("dot / linear")
    g.add_argument("--in", dest="in_features", type=int, help="in_features N")
    g.add_argument("--out", dest="out_features", type=int, help="out_features M (linear)")
    g.add_argument("--accum", default="exact", choices=("exact", "fp32", "fp16", "fp8"),
                   help="accumulation mode")
    g.add_argument("--order", default="tree", choices=("tree", "sequential"),
                   help="summation order of the fp32/fp16/fp8 modes")
    g.add_argument("--lanes", type=int,
                   help="time-multiplexed form: P dot-product lanes, weights in ROM (linear); "
                        "P elements a beat (rmsnorm, layernorm)")
    g.add_argument("--mac", type=int, metavar="K",
                   help="time-multiplexed layer: one exact multiply-accumulate lane taking K "
                        "inputs per cycle, weights in ROM (linear, --accum exact)")
    g.add_argument("--relu", action="store_true",
                   help="apply the FP8 ReLU to every output (linear; FP8 --out-format)")
    g.add_argument("--out-format", metavar="FORMAT",
                   help="output format (linear: default fp32 for exact, else the "
                        "accumulator's; the functions exp ... rsqrt: as --to)")
    g.add_argument("--bias", choices=("none", "random"), default="none",
                   help="no bias, or seeded random FP8 bias constants")
    g.add_argument("--weights", help=".npy file of (M, N) FP8 weight codes")
    g.add_argument("--const-weights", action="store_true",
                   help="spatial form: bake the (seeded or --weights) weights in as constants")
    g.add_argument("--seed", type=int, default=0, help="seed of random weights / bias")
    g.add_argument("--model", help="mlp: a torch.save'd nn.Sequential of Linear and ReLU "
                                   "(weights cast to FP8 by torch, policy 'torch')")
