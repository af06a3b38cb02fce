"""``spikegate verify DIR``: run a generated design against its golden on one simulator.

Three kinds of design directory, one command:

* units and blocks (``netlist.json``): every input combination when there are at most 2^20,
  seeded samples otherwise (:func:`~spikegate.sim.regress.regression_inputs`), golden by
  the unit named in ``report.json``;
* spatial dot products and linear layers: seeded random plus directed vectors (overflow,
  cancellation, subnormal products, NaN/inf, zero rows; :mod:`spikegate.sim.linear_regress`),
  the constant weights from ``weights.json``, golden per accumulation mode;
* time-multiplexed layers and MLPs (``layers.json``): the same vectors streamed through the
  Verilog with idle cycles and backpressure (:mod:`spikegate.sim.stream_check`).

Every mismatch report names the first mismatching inputs, got and expected, in hex.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

__all__ = ["cmd_verify", "DEFAULT_LAYER_VECTORS"]

#: Vectors per run for designs whose input space is too large to enumerate.
DEFAULT_LAYER_VECTORS = 2000

#: report.json keys that describe a dot product / linear layer to its golden.
_LAYER_KEYS = ("unit", "format", "policy", "accum", "order", "out_format", "in_features",
               "out_features", "weights", "bias", "activation")


def _layer_vectors(directory, report, count, seed):
    from .sim.linear_regress import layer_regression
    meta = {k: report[k] for k in _LAYER_KEYS if k in report}
    meta["order"] = report.get("order") if report.get("order") != "n/a" else "tree"
    consts = {}
    path = Path(directory) / "weights.json"
    if path.exists():
        consts = json.loads(path.read_text())
    elif meta.get("weights") == "const" or meta.get("bias") == "const":
        raise FileNotFoundError(f"{path} is missing (the design bakes in constants): "
                                f"regenerate it with `spikegate generate ... --force`")
    return layer_regression(meta, count, seed=seed, weights=consts.get("weights"),
                            bias=consts.get("bias"))


def _spatial_vectors(design, directory, report, args):
    """``(inputs, expected)`` of a spatial design."""
    from .sim.regress import golden_outputs, regression_inputs
    if report.get("unit") in ("dot", "linear"):
        return _layer_vectors(directory, report, args.vectors or DEFAULT_LAYER_VECTORS,
                              args.seed)
    inputs = regression_inputs(design.netlist, vectors=args.vectors, seed=args.seed)
    return inputs, golden_outputs(design.netlist, inputs)


def _run(args, progress):
    """Run the regression; returns ``(top, vectors, seconds, waves)``; raises
    MismatchError on a mismatch."""
    from .commands import newest_waves
    from .hdl.report import load_design, load_report
    from .sim.run import verify
    report = load_report(args.directory)
    if report.get("unit") == "transformer":
        from .transformer_cli import verify_transformer
        progress.step(f"{args.sim}: build and stream token sequences through {report['top']}")
        count, seconds = verify_transformer(args.directory, report, simulator=args.sim,
                                            sequences=args.vectors, seed=args.seed)
        return report["top"], count, seconds, None
    if report.get("form") == "time-multiplexed" and report.get("unit") in ("rmsnorm",
                                                                            "layernorm",
                                                                            "softmax"):
        from .sim.vector_stream_check import verify_vector_stream_design
        progress.step(f"{args.sim}: build and stream vectors through {report['top']}")
        start = time.perf_counter()
        count = verify_vector_stream_design(args.directory, report, simulator=args.sim,
                                            vectors=args.vectors, seed=args.seed)
        return report["top"], count, time.perf_counter() - start, None
    if report.get("form") == "time-multiplexed":
        from .sim.stream_check import verify_stream_design
        count = args.vectors or DEFAULT_LAYER_VECTORS
        if args.waves:
            progress.log("--waves: streamed designs run without a waveform dump")
        progress.step(f"{args.sim}: build and stream {count:,} vectors through {report['top']}")
        start = time.perf_counter()
        verify_stream_design(args.directory, report, simulator=args.sim, vectors=count,
                             seed=args.seed)
        return report["top"], count, time.perf_counter() - start, None
    design, verilog_file = load_design(args.directory)
    inputs, expected = _spatial_vectors(design, args.directory, report, args)
    count = len(next(iter(inputs.values())))
    cocotb = args.sim in ("icarus", "verilator")
    if args.waves and not cocotb:
        progress.log(f"--waves: only icarus and verilator dump waves, not {args.sim}")
    progress.step(f"{args.sim}: {'build and ' if cocotb else ''}simulate {design.top} on "
                  f"{count:,} vectors")
    start = time.perf_counter()
    verify(design, inputs, expected, engine=args.sim, waves=args.waves or None,
           verilog_file=verilog_file)
    seconds = time.perf_counter() - start
    waves = newest_waves(design.top, args.sim, since=start) if args.waves and cocotb else None
    return design.top, count, seconds, waves


def _parse_range(text, space):
    if text is None:
        return 0, space
    try:
        lo, hi = (int(x, 0) for x in text.split(":"))
    except ValueError:
        raise ValueError(f"--range takes START:STOP (e.g. 0:0x10000000), not {text!r}") from None
    if not 0 <= lo < hi <= space:
        raise ValueError(f"--range {text} is outside the input space [0, {space:#x})")
    return lo, hi


def _first_lines(result):
    from .sim.fast_engine import format_mismatch
    return [format_mismatch(*m) for m in result.first]


def _exhaustive(args, progress):
    """``verify --exhaustive``: the whole input space (or ``--range``) on the fast engine."""
    from .hdl.report import load_netlist, load_report
    from .sim.distributed import in_torchrun, spawn_sweep, sweep_rank
    from .sim.exhaustive import exhaustive_sweep, record_sweep
    from .sim.function_sweep import is_fp32_function
    report = load_report(args.directory)
    if report.get("form") == "time-multiplexed" or report.get("unit") in ("dot", "linear"):
        raise ValueError("--exhaustive runs units and blocks; dot products, layers and "
                         "streams take --vectors N")
    if args.gpus is not None and args.gpus < 1:
        raise ValueError(f"--gpus takes a number of processes >= 1, not {args.gpus}")
    netlist, report = load_netlist(args.directory)          # the artefact checked
    top = report["top"]
    bits = sum(len(v) for v in netlist.inputs.values())
    lo, hi = _parse_range(args.index_range, 1 << bits)
    device = None if args.device == "auto" else args.device
    progress.step(f"exhaustive: {top} (netlist.json), inputs {lo:#x}..{hi:#x} ({hi - lo:,} vectors)")
    last = [0.0]

    def report_progress(done, total):
        now = time.perf_counter()
        if now - last[0] > 2 or done == total:
            last[0] = now
            progress.log(f"  {done:,} / {total:,} vectors ({100 * done / total:.1f} %)")
    if args.gpus or in_torchrun():                 # sharded over processes
        if args.gpus:
            import torch
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            result = spawn_sweep(netlist, world=args.gpus, start=lo, stop=hi,
                                 backend=backend)
        else:
            result = sweep_rank(netlist, start=lo, stop=hi)
            if int(os.environ.get("RANK", 0)) != 0:   # rank 0 reports and records
                return 0 if result.ok else 1
    elif is_fp32_function(netlist):                       # faithful or correctly rounded
        from .sim.function_sweep import function_sweep
        result = function_sweep(netlist, device=device, start=lo, stop=hi,
                                progress=report_progress)
    else:
        result = exhaustive_sweep(netlist, device=device, start=lo, stop=hi,
                                  progress=report_progress)
    extra = {k: getattr(result, k) for k in ("correct", "faithful", "hard")
             if hasattr(result, k)}
    runs = record_sweep(args.directory, result, start=lo, stop=hi, top=top,
                        extra=extra)
    summary = {"top": top, "artefact": "netlist.json", "sim": f"fast-{result.device}", "vectors": result.total,
               "mismatches": result.count, "pass": result.ok,
               "seconds": round(result.seconds, 3), "range": [lo, hi],
               "vectors_per_s": round(result.pairs_per_s), "proved_vectors":
               runs["proved_vectors"], "space": 1 << bits,
               "first": _first_lines(result), **extra}
    promise = netlist.meta.get("rounding", "faithful")
    progress.done(((promise if promise == "faithful" else "correctly rounded") if extra
                   else "bit-exact") if result.ok else "FAIL")
    if args.json:
        print(json.dumps(summary))
    elif not result.ok:
        print(f"FAIL {top}: {result.count:,} mismatches in {result.total:,} vectors\n"
              + "\n".join(_first_lines(result)), file=sys.stderr)
    elif not args.quiet and extra and promise == "correct":
        print(f"PASS {top} on {result.device}: {result.total:,} inputs correctly rounded, "
              f"{result.seconds:.1f} s ({result.pairs_per_s / 1e6:.1f}M/s); "
              f"{runs['proved_vectors']:,} of {1 << bits:,} proved so far "
              f"({Path(args.directory) / 'exhaustive.json'})")
    elif not args.quiet and extra:
        print(f"PASS {top} on {result.device}: {result.total:,} inputs faithful, "
              f"{extra['correct']:,} correctly rounded ({extra['faithful']:,} not), "
              f"{result.seconds:.1f} s ({result.pairs_per_s / 1e6:.1f}M/s); "
              f"{runs['proved_vectors']:,} of {1 << bits:,} proved so far "
              f"({Path(args.directory) / 'exhaustive.json'})")
    elif not args.quiet:
        print(f"PASS {top} exhaustive on {result.device}: {result.total:,} vectors "
              f"bit-exact in {result.seconds:.1f} s ({result.pairs_per_s / 1e6:.1f}M/s); "
              f"{runs['proved_vectors']:,} of {1 << bits:,} proved so far "
              f"({Path(args.directory) / 'exhaustive.json'})")
    return 0 if result.ok else 1


def cmd_verify(args):
    from .commands import Progress
    from .sim.check import MismatchError
    if args.exhaustive:                 # the fast engine only: no HDL toolchain needed
        return _exhaustive(args, Progress(enabled=not (args.quiet or args.json)))
    from .sim.run import check_engine
    check_engine(args.sim)
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be at least 1, not {args.vectors}")
    from .hdl.report import load_report
    progress = Progress(enabled=not (args.quiet or args.json))
    top = load_report(args.directory)["top"]
    try:
        top, count, seconds, waves = _run(args, progress)
    except MismatchError as exc:
        progress.done("FAIL")
        if args.json:
            print(json.dumps({"top": top, "sim": args.sim,
                              "vectors": exc.total, "mismatches": exc.count, "pass": False,
                              "first": [m.describe() for m in exc.mismatches]}))
        print(f"FAIL {top} on {args.sim}: {exc}", file=sys.stderr)
        return 1
    progress.done("bit-exact")
    result = {"top": top, "sim": args.sim, "vectors": count, "mismatches": 0, "pass": True,
              "seconds": round(seconds, 3)}
    if waves:
        result["waves"] = str(waves)
    if args.json:
        print(json.dumps(result))
    elif not args.quiet:
        print(f"PASS {top} on {args.sim}: {count} vectors bit-exact in {seconds:.1f} s")
        if waves:
            print(f"waves: {waves}")
        elif args.waves and args.sim in ("icarus", "verilator") and count:
            print("waves: no FST file found under build/sim (was the build reused?)")
    return 0
