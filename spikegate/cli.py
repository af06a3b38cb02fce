"""The ``spikegate`` command: generate, verify and demo neuron-built hardware."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__

__all__ = ["main"]


def _bounds(args):
    from .gen.netlist import Bounds
    return Bounds(max_fanin=args.max_fanin, max_weight=args.max_weight)


def cmd_generate(args):
    if args.unit in ("dot", "linear"):
        from .linear_cli import generate_linear
        report = generate_linear(args)
        if args.json:
            print(json.dumps(report, sort_keys=True))
        elif not args.quiet:
            print(f"wrote {Path(args.output) / report['verilog']} and report.json: "
                  f"{report['neurons']} neurons, depth {report['depth']} neuron levels, "
                  f"latency {report['latency_cycles']} cycles")
        return 0
    from .hdl.design import Design
    from .units import build_unit
    netlist = build_unit(args.unit, width=args.width, variant=args.variant, fmt=args.format,
                         policy=args.policy, bounds=_bounds(args))
    design = Design(netlist, stages=args.stages, backend=args.backend)
    report = design.report()
    from .inspect import analyze
    from .report import fusesoc_core, report_markdown
    path = design.write(args.output, force=args.force, extra_files={
        "report.md": report_markdown(report, analyze(netlist, args.stages)),
        f"{design.top}.core": fusesoc_core(report)})
    if args.json:
        print(json.dumps(report, sort_keys=True))
    elif not args.quiet:
        print(f"wrote {path} and {Path(args.output) / 'report.json'}: {report['neurons']} neurons, "
              f"depth {report['depth']} neuron levels, latency {report['latency_cycles']} cycles")
        print(f"  also report.md, netlist.json and the FuseSoC core {design.top}.core")
    return 0


def load_design(directory):
    """A design directory written by ``generate``, back as a Design."""
    from .gen.netlist import Netlist
    from .hdl.design import Design
    directory = Path(directory)
    try:
        report = json.loads((directory / "report.json").read_text())
        spec = json.loads((directory / "netlist.json").read_text())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc.filename} is missing: point at a directory written by "
                                f"`spikegate generate`") from None
    netlist = Netlist.from_dict(spec)
    netlist.meta.update({k: report[k] for k in ("unit", "width", "variant", "format", "policy")
                         if k in report})
    design = Design(netlist, stages=report.get("stages", 0), top=report["top"],
                    backend=report.get("backend", "direct"))
    return design, directory / report["verilog"]


def cmd_verify(args):
    from .sim.check import MismatchError
    from .sim.regress import exhaustive_inputs, golden_outputs
    from .sim.run import check_engine, verify
    from .commands import Progress, newest_waves
    check_engine(args.sim)
    progress = Progress(enabled=not (args.quiet or args.json))
    design, verilog_file = load_design(args.directory)
    inputs = exhaustive_inputs(design.netlist)
    count = len(next(iter(inputs.values())))
    progress.step(f"golden outputs of {count:,} vectors ({design.netlist.meta.get('unit')})")
    expected = golden_outputs(design.netlist, inputs)
    progress.done()
    cocotb = args.sim in ("icarus", "verilator")
    if args.waves and not cocotb:
        progress.log(f"--waves: only icarus and verilator dump waves, not {args.sim}")
    start = time.perf_counter()
    progress.step(f"{args.sim}: {'build and ' if cocotb else ''}simulate {design.top} on "
                  f"{count:,} vectors")
    try:
        verify(design, inputs, expected, engine=args.sim, waves=args.waves or None,
               verilog_file=verilog_file)
    except MismatchError as exc:
        progress.done("FAIL")
        if args.json:
            print(json.dumps({"top": design.top, "sim": args.sim, "vectors": count,
                              "mismatches": exc.count, "pass": False,
                              "first": [m.describe() for m in exc.mismatches]}))
        print(f"FAIL {design.top} on {args.sim}: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    progress.done("bit-exact")
    waves = newest_waves(design.top, args.sim, since=start) if args.waves and cocotb else None
    result = {"top": design.top, "sim": args.sim, "vectors": count, "mismatches": 0,
              "pass": True, "seconds": round(seconds, 3)}
    if waves:
        result["waves"] = str(waves)
    if args.json:
        print(json.dumps(result))
    elif not args.quiet:
        print(f"PASS {design.top} on {args.sim}: {count} vectors bit-exact in {seconds:.1f} s")
        if waves:
            print(f"waves: {waves}")
        elif args.waves and cocotb:
            print("waves: no FST file found under build/sim (was the build reused?)")
    return 0


def cmd_list(args):
    from .units import UNITS
    print("\n".join(UNITS))
    return 0


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(Path(args.output), units=args.units)


def cmd_bench(args):
    if args.what in ("depth", "scale", "linear"):
        from .bench_linear import run_linear_bench
        return run_linear_bench(args)
    if args.what == "engine":
        from .engine_bench import cmd_bench_engine
        return cmd_bench_engine(args)
    if args.what == "synth":
        from .bench_synth import run_synth_bench
        return run_synth_bench(args)
    from .bench import run_bench
    return run_bench(args.what, json_out=args.json)


def build_parser():
    from .units import UNITS
    parser = argparse.ArgumentParser(prog="spikegate", description=__doc__)
    parser.add_argument("--version", action="version", version=f"spikegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a unit's Verilog, report.json and netlist.json")
    gen.add_argument("unit", choices=UNITS, metavar="UNIT", help="one of: " + ", ".join(UNITS))
    gen.add_argument("-o", "--output", required=True, help="output directory")
    gen.add_argument("--width", type=int, default=4, help="bus width of catalogue blocks")
    gen.add_argument("--variant", help="block variant (e.g. threshold, prefix, ripple)")
    gen.add_argument("--format", default="e4m3", choices=("e4m3", "e5m2"))
    gen.add_argument("--policy", default="torch", choices=("torch", "ocp", "satfinite"),
                     help="FP8 overflow policy")
    gen.add_argument("--stages", type=int, default=0, help="pipeline register stages")
    gen.add_argument("--backend", default="direct", choices=("direct", "amaranth"),
                     help="Verilog writer: one assignment per neuron (direct) or via "
                          "Amaranth's Yosys backend")
    gen.add_argument("--max-fanin", type=int, help="bound on synapses per neuron")
    gen.add_argument("--max-weight", type=int, help="bound on |weight|")
    gen.add_argument("--force", action="store_true", help="replace an existing directory")
    gen.add_argument("--json", action="store_true", help="print the report as JSON")
    gen.add_argument("--quiet", action="store_true")
    from .linear_cli import add_linear_arguments
    add_linear_arguments(gen)
    gen.set_defaults(func=cmd_generate)

    ver = sub.add_parser("verify", help="run a generated design against its golden")
    ver.add_argument("directory")
    ver.add_argument("--sim", default="verilator", help="torch, amaranth, icarus or verilator")
    ver.add_argument("--waves", action="store_true", help="dump FST waves (cocotb simulators)")
    ver.add_argument("--json", action="store_true", help="print the result as JSON only")
    ver.add_argument("--quiet", action="store_true", help="print nothing on success")
    ver.set_defaults(func=cmd_verify)

    lst = sub.add_parser("list", help="list the units")
    lst.set_defaults(func=cmd_list)

    demo = sub.add_parser("demo", help="generate and co-simulate the embedded default designs")
    demo.add_argument("-o", "--output", default="build/demo")
    demo.add_argument("--units", action="store_true",
                      help="also co-simulate the FP8 multiplier/adder (all 65,536 pairs)")
    demo.set_defaults(func=cmd_demo)

    bench = sub.add_parser("bench", help="print benchmark figures")
    bench.add_argument("what", choices=("structure", "cocotb", "engine", "synth", "depth",
                                        "scale", "linear"))
    from .engine_bench import add_engine_arguments
    add_engine_arguments(bench)
    from .bench_synth import add_synth_bench_arguments
    add_synth_bench_arguments(bench)
    from .bench_linear import add_linear_bench_arguments
    add_linear_bench_arguments(bench)
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)

    from .robustness import add_parser as add_robustness_parser
    add_robustness_parser(sub)

    from .commands import add_parsers
    add_parsers(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, RuntimeError) as exc:
        # Every error we raise on purpose is one line that names the fix.
        print(f"spikegate: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
