"""The ``spikegate`` command: generate, verify and demo neuron-built hardware."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

__all__ = ["main"]


def _bounds(args):
    from .gen.netlist import Bounds
    return Bounds(max_fanin=args.max_fanin, max_weight=args.max_weight)


def _float_format(text):
    """argparse type: the format's name, checked against the one format model."""
    from .golden.formats import get_format
    try:
        return get_format(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _stages(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"--stages takes a whole number >= 0, not {text!r}")
    return value


def cmd_generate(args):
    if args.unit in ("dot", "linear", "mlp", "transformer"):
        from .linear_cli import generate_linear, generate_mlp
        from .transformer_cli import generate_transformer
        report = {"mlp": generate_mlp, "transformer": generate_transformer}.get(
            args.unit, generate_linear)(args)
        if args.json:
            print(json.dumps(report, sort_keys=True))
        elif not args.quiet:
            print(f"wrote {Path(args.output) / report['verilog']} and report.json: "
                  f"{report['neurons']} neurons, depth {report['depth']} neuron levels, "
                  f"latency {report['latency_cycles']} cycles")
        return 0
    if args.lanes is not None:
        return _generate_vector_stream(args)
    from .hdl.design import Design
    from .sim.units import build_unit
    to = args.to
    if args.out_format is not None:          # the functions' output format, as for linear
        if to is not None and _float_format(args.out_format) != to:
            raise ValueError(f"--to {to} and --out-format {args.out_format} disagree: give one")
        to = _float_format(args.out_format)
    netlist = build_unit(args.unit, width=args.width, variant=args.variant, fmt=args.format,
                         policy=args.policy, to=to, n=args.n, eps=args.eps,
                         bounds=_bounds(args))
    design = Design(netlist, stages=args.stages, backend=args.backend)
    report = design.report()
    from .hdl.inspect import analyze
    from .hdl.report import fusesoc_core, report_markdown
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


def _generate_vector_stream(args):
    """``generate rmsnorm|layernorm|softmax --n N --lanes P``: the time-multiplexed form."""
    from .hdl.vector_stream import write_vector_stream_design
    from .sim.vector_stream_check import stream_parts
    if args.unit not in ("rmsnorm", "layernorm", "softmax"):
        raise ValueError(f"--lanes makes a time-multiplexed form of linear, rmsnorm, "
                         f"layernorm or softmax, not of {args.unit}")
    if args.n is None:
        raise ValueError(f"{args.unit} needs --n N (the number of elements)")
    if args.stages:
        raise ValueError("--stages is for spatial units: the stream form steps its "
                         "combinational datapaths one a cycle")
    if args.eps is not None and args.unit == "softmax":
        raise ValueError("--eps is for rmsnorm and layernorm, not softmax")
    spec = stream_parts(args.unit, args.format, args.n, args.lanes, eps=args.eps,
                        policy=args.policy)
    top = f"{args.unit}{args.n}p{args.lanes}_{spec.fmt}"
    command = (f"spikegate generate {args.unit} --n {args.n} --format {spec.fmt} "
               f"--lanes {args.lanes}" + (f" --eps {args.eps}" if args.eps is not None else "")
               + (f" --policy {args.policy}" if args.policy != "torch" else "")
               + f" -o {args.output}")
    report = write_vector_stream_design(args.output, spec, top=top, force=args.force,
                                        command=command)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    elif not args.quiet:
        print(f"wrote {Path(args.output) / report['verilog']} and report.json: "
              f"{report['neurons']} neurons in {len(spec.parts)} datapaths, {spec.beats} "
              f"beats of {spec.lanes} elements a vector, {report['cycles_per_vector']} cycles "
              f"a vector without stalls")
    return 0


def cmd_verify(args):
    from .verify import cmd_verify as run
    return run(args)


def cmd_list(args):
    from .sim.units import describe_units
    print(describe_units())
    return 0


def cmd_demo(args):
    if args.transformer:
        from .demo_transformer import run_transformer_demo
        return run_transformer_demo(Path(args.output) / "transformer", limit=args.limit)
    from .demo import run_demo
    return run_demo(Path(args.output), units=args.units)


def cmd_bench(args):
    if args.what in ("depth", "scale", "linear"):
        from .bench_linear import run_linear_bench
        return run_linear_bench(args)
    if args.what == "engine":
        from .engine_bench import cmd_bench_engine
        return cmd_bench_engine(args)
    if args.what == "functions":
        from .bench_functions import run_functions_bench
        return run_functions_bench()
    if args.what == "functions32":
        from .bench_functions import run_fp32_functions_bench
        return run_fp32_functions_bench()
    if args.what in ("norms", "softmax"):
        from .bench_norms import run_norms_bench, run_softmax_bench
        return run_norms_bench() if args.what == "norms" else run_softmax_bench()
    if args.what == "synth":
        from .bench_synth import run_synth_bench
        return run_synth_bench(args)
    from .bench import run_bench
    device = getattr(args, "device", None)
    return run_bench(args.what, json_out=args.json,
                     device=None if device in (None, "auto") else device)


def build_parser():
    from .sim.units import UNITS
    parser = argparse.ArgumentParser(prog="spikegate", description=__doc__)
    parser.add_argument("--version", action="version", version=f"spikegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a unit's Verilog, report.json and netlist.json")
    gen.add_argument("unit", choices=UNITS, metavar="UNIT", help="one of: " + ", ".join(UNITS))
    gen.add_argument("-o", "--output", required=True, help="output directory")
    gen.add_argument("--width", type=int, default=4, help="bus width of catalogue blocks")
    gen.add_argument("--variant", help="block variant (e.g. threshold, prefix, ripple)")
    gen.add_argument("--format", default="e4m3", type=_float_format,
                     help="float format: e4m3, e5m2, fp16, bf16, fp32 or eXmY")
    gen.add_argument("--to", type=_float_format,
                     help="destination format: fconvert, and the output format of the "
                          "functions (exp ... rsqrt; default: the input format; "
                          "--out-format says the same)")
    gen.add_argument("--n", type=int, help="elements of a vector unit (rmsnorm, layernorm, "
                                           "softmax)")
    gen.add_argument("--eps", type=float, help="eps of rmsnorm/layernorm (default 1e-5; "
                                               "rounded once to float32)")
    gen.add_argument("--policy", default="torch", choices=("torch", "ocp", "satfinite"),
                     help="overflow policy (golden/formats.py: OVERFLOW)")
    gen.add_argument("--stages", type=_stages, default=0, help="pipeline register stages")
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
    ver.add_argument("--vectors", type=int,
                     help="seeded random + directed vectors for designs whose input space is "
                          "too large to enumerate (default: 2,000 for dot/linear/streams, "
                          "340,000 for fp32-to-fp8, 200,000 beyond 2^20 inputs; smaller "
                          "spaces run exhaustively)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the random vectors")
    ver.add_argument("--exhaustive", action="store_true",
                     help="every input of a unit of at most 32 input bits, on the fast engine "
                          "(CUDA when present), in chunks with progress; results are "
                          "appended to DIR/exhaustive.json")
    ver.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                     help="--exhaustive: where the engine runs")
    ver.add_argument("--gpus", type=int, metavar="N",
                     help="--exhaustive: shard the sweep over N local processes with "
                          "torch.distributed (NCCL, one GPU each; gloo on CPUs); torchrun "
                          "--nproc-per-node N works too")
    ver.add_argument("--range", dest="index_range", metavar="START:STOP",
                     help="--exhaustive: only input indices [START, STOP) (ints or 0x hex; "
                          "first port most significant), to resume or split a long sweep")
    ver.add_argument("--json", action="store_true", help="print the result as JSON only")
    ver.add_argument("--quiet", action="store_true", help="print nothing on success")
    ver.set_defaults(func=cmd_verify)

    lst = sub.add_parser("list", help="list the units")
    lst.set_defaults(func=cmd_list)

    demo = sub.add_parser("demo", help="generate and co-simulate the embedded default designs")
    demo.add_argument("-o", "--output", default="build/demo")
    demo.add_argument("--units", action="store_true",
                      help="also co-simulate the FP8 multiplier/adder (all 65,536 pairs)")
    demo.add_argument("--transformer", action="store_true",
                      help="the digits transformer instead: train, generate, stream the test "
                           "split through Verilator, compare every logit")
    demo.add_argument("--limit", type=int, metavar="N",
                      help="--transformer: only the first N test images")
    demo.set_defaults(func=cmd_demo)

    bench = sub.add_parser("bench", help="print benchmark figures")
    bench.add_argument("what", choices=("structure", "cocotb", "engine", "synth", "depth",
                                        "scale", "linear", "exhaustive", "functions", "functions32",
                                        "norms",
                                        "softmax"))
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
