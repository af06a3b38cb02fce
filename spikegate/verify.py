"""``spikegate verify DIR``: run a generated design against its golden on one simulator.

Three kinds of design directory, one command:

* units and blocks (``netlist.json``): every input combination when there are at most 2^20,
  seeded samples otherwise (:func:`~spikegate.sim.regress.regression_inputs`), golden by
  the unit named in ``report.json``;
* spatial dot products and linear layers: seeded random plus directed vectors (overflow,
  cancellation, subnormal products, NaN/inf, zero rows; :mod:`spikegate.sim.linear_regress`),
  the constant weights from ``weights.json``, golden per accumulation mode;
* time-multiplexed layers and MLPs (``layers.json``): the same vectors streamed through the
  Verilog with idle cycles and backpressure (:mod:`spikegate.stream_design`).

Every mismatch report names the first mismatching inputs, got and expected, in hex.
"""

from __future__ import annotations

import json
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
    from .report import load_design, load_report
    from .sim.run import verify
    report = load_report(args.directory)
    if report.get("form") == "time-multiplexed":
        from .stream_design import verify_stream_design
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


def cmd_verify(args):
    from .commands import Progress
    from .sim.check import MismatchError
    from .sim.run import check_engine
    check_engine(args.sim)
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be at least 1, not {args.vectors}")
    from .report import load_report
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
