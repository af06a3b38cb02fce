"""``spikegate bench synth``: neuron-built float units against behavioural RTL on FPGAs.

For each FP8 unit (multiplier, adder; E4M3 by default) and each of its architectures
(``--variant`` default, shallow, lean) it generates the design and runs ``spikegate synth``
on iCE40 and ECP5 with every flow variant of the target; the behavioural baseline of each
unit goes through the same flows once (with the default design) and every variant is
compared with it. It rewrites the committed report ``reports/synth.md`` (plus
``reports/synth.json``), so the figures quoted anywhere come from this one command.

``--format fp16|bf16|fp32`` (or any IEEE ``eXmY``) does the same for the any-format units
``fmul`` and ``fadd`` (every variant the registry offers for the format: default and lean)
against the any-format baselines (``float_mul_verilog`` / ``float_add_verilog``), into
``reports/synth-<format>.md`` / ``.json``. ``--variants lean`` benches only those (the FP32
default adder alone took 353 s of Yosys for 6,777 LUTs and 3,213 carry cells, which do not
fit an iCE40 HX8K), its baseline with it.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

__all__ = ["run_synth_bench", "synth_bench_rows", "add_synth_bench_arguments"]

REPORT = Path("reports/synth.md")


def report_path(fmt):
    """``reports/synth.md`` for E4M3 (the issue's figures), ``reports/synth-e5m2.md`` else."""
    return REPORT if fmt == "e4m3" else REPORT.with_name(f"synth-{fmt}.md")
UNITS = ("fp8-mul", "fp8-add")
#: The units benched for formats other than E4M3/E5M2 (the any-format generators).
WIDE_UNITS = ("fmul", "fadd")
#: Formats ``bench synth --format`` offers beside the FP8 ones (any IEEE eXmY works too).
WIDE_FORMATS = ("fp16", "bf16", "fp32")
_FP8_FORMATS = ("e4m3", "e5m2")
_WIDE_OF = {"fp8-mul": "fmul", "fp8-add": "fadd"}
BUILD = Path("build/bench-synth")


def bench_units(fmt, unit=None):
    """The units ``bench synth`` runs for *fmt* (``unit``: one of them, either spelling)."""
    wide = fmt not in _FP8_FORMATS
    units = WIDE_UNITS if wide else UNITS
    if unit is None:
        return units
    name = _WIDE_OF.get(unit, unit) if wide else \
        {v: k for k, v in _WIDE_OF.items()}.get(unit, unit)
    if name not in units:
        raise ValueError(f"bench synth covers {', '.join(units)} for {fmt}, not {unit!r}")
    return (name,)


def add_synth_bench_arguments(parser):
    """Options of ``bench synth`` (added to the ``bench`` subcommand)."""
    parser.add_argument("--targets", nargs="+", choices=("ice40", "ecp5"),
                        default=["ice40", "ecp5"], help="bench synth: FPGA targets")
    parser.add_argument("--seeds", type=int, default=3,
                        help="bench synth: nextpnr seeds per run; Fmax is their median")
    parser.add_argument("--variants", nargs="+", metavar="V",
                        help="bench synth: only these variants (the first carries each unit's "
                             "baseline; default: every variant, default first)")
    parser.add_argument("--pipelined", type=int, default=2, metavar="K",
                        help="bench synth: also synthesize the neuron designs with K pipeline "
                             "stages (nocarry flow; 0: skip)")
    # ``--format`` and the positional unit belong to ``bench engine`` (added first to the
    # same parser); bench synth also takes the wide formats and the any-format units.
    for action in parser._actions:
        if action.dest == "format" and action.choices is not None:
            action.choices = tuple(dict.fromkeys((*action.choices, *WIDE_FORMATS)))
            action.help = ((action.help + "; ") if action.help else "") + \
                "bench synth: also fp16, bf16, fp32 (units fmul, fadd)"
        if action.dest == "unit" and action.choices is not None:
            action.choices = tuple(dict.fromkeys((*action.choices, *WIDE_UNITS)))


def _one(unit, variant, fmt, targets, seeds, quiet, pipelined=0, baseline=None):
    from .commands import Progress
    from .hdl.design import Design
    from .hdl.report import fusesoc_core, report_markdown
    from .sim.synth import synth_directory
    from .sim.units import build_unit
    netlist = build_unit(unit, fmt=fmt, policy="torch", variant=variant)
    design = Design(netlist)
    out = BUILD / design.top
    report = design.report()
    design.write(out, force=True, extra_files={"report.md": report_markdown(report),
                                               f"{design.top}.core": fusesoc_core(report)})
    progress = Progress(enabled=not quiet)
    step = progress.step
    progress.step = lambda msg: step(f"{unit} {variant} {fmt}: {msg}")  # jobs run side by side
    results = synth_directory(out, targets, flow="auto", seeds=seeds, progress=progress,
                              baseline=variant == "default" if baseline is None else baseline)
    row = {"unit": unit, "variant": variant, "format": fmt, "top": design.top,
           "synth": results,
           **{k: report[k] for k in ("neurons", "synapses", "depth", "max_fanin", "max_weight")}}
    if pipelined:
        piped = Design(netlist, stages=pipelined)
        out = BUILD / f"{design.top}_s{pipelined}"
        report = piped.report()
        piped.write(out, force=True, extra_files={"report.md": report_markdown(report)})
        row["pipelined"] = {"stages": pipelined, "synth": synth_directory(
            out, targets, flow="nocarry", baseline=False, seeds=seeds, progress=progress)}
    return row


def _attach_baselines(rows):
    """Give every variant's row the baseline figures (and ratios) of the row of its unit that
    carries them, so the baseline is synthesized once per unit."""
    from .sim.synth import ratios
    base = {(r["unit"], t): s["baseline"] for r in rows
            for t, s in r["synth"].items() if s.get("baseline")}
    for r in rows:
        for t, s in r["synth"].items():
            b = base.get((r["unit"], t))
            if b is not None and "baseline" not in s:
                s["baseline"] = b
                s["ratio"] = ratios(s, b)
    return rows


def synth_bench_rows(units=UNITS, fmt="e4m3", targets=("ice40", "ecp5"), seeds=3, quiet=False,
                     jobs=2, pipelined=0, variants=None):
    """Run the benchmark; one dict per unit and variant with its ``synth`` figures (the
    default variants first: they carry the baselines; only they are also pipelined).
    ``variants``: only these, the first of each unit carrying its baseline (the FP32
    default variants take hours of Yosys and do not fit an iCE40 HX8K)."""
    from .sim.units import get_spec
    if variants is None:
        designs = [(u, "default") for u in units] + [(u, v) for u in units
                                                      for v in get_spec(u).variants(fmt)
                                                      if v != "default"]
    else:
        for u in units:
            offered = get_spec(u).variants(fmt)
            bad = [v for v in variants if v not in offered]
            if bad:
                raise ValueError(f"{u} offers the variants {', '.join(offered)} for {fmt}, "
                                 f"not {', '.join(bad)}")
        designs = [(u, v) for v in variants for u in units]
    carrier = {}
    for u, v in designs:
        carrier.setdefault(u, v)
    args = [(u, v, fmt, list(targets), seeds, quiet, pipelined if v == "default" else 0,
             carrier[u] == v) for u, v in designs]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            rows = [f.result() for f in [pool.submit(_one, *a) for a in args]]
    else:
        rows = [_one(*a) for a in args]
    return _attach_baselines(rows)


def _f(v, d=1):
    return "n/a" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))


def _name(r):
    return f"{r['unit']} {r['variant']} {r['format']}"


def _fastest(d):
    variants = d.get("variants") or {d["variant"]: d}
    return max(variants, key=lambda k: variants[k].get("fmax_mhz") or 0)


def _verdict(ratio_luts, ratio_fmax):
    luts_ok = ratio_luts is not None and ratio_luts <= 1.0
    fmax_ok = ratio_fmax is not None and ratio_fmax >= 1.0
    parts = [("LUTs met" if luts_ok else f"LUTs missed: {ratio_luts:.2f}x the baseline"),
             ("Fmax met" if fmax_ok else f"Fmax missed: {ratio_fmax:.2f}x the baseline")]
    return "; ".join(parts)


def _markdown(rows, seeds, command):
    from .sim.synth import DEVICES
    tools = ", ".join(f"{k} {v}" for k, v in sorted(
        {k: v for r in rows for s in r["synth"].values() for k, v in s["tools"].items()}.items()))
    fmt = rows[0]["format"]
    fp8 = fmt in _FP8_FORMATS
    checked = ("verified bit-exact on all 65,536 input pairs against torch in "
               "`tests/test_synth.py`" if fp8 else
               "verified bit-exact on Icarus against torch on 7,000 TestFloat-style vectors "
               "per unit (corner crosses, near operands, random pairs) in "
               "`tests/test_baseline_float.py`")
    lines = [
        f"# FPGA synthesis: neuron-built {'FP8' if fp8 else fmt} units against behavioural "
        f"RTL ({fmt.upper()})", "",
        f"Produced by `{command}` (do not edit by hand). Tools: {tools}.", "",
        "Each design sits in a wrapper with registers on every input and output, so Fmax is "
        "register to register through the unit. The baseline is the same operation written as "
        "plain behavioural Verilog (`spikegate.hdl.baseline`: multiply/align, add, normalise "
        "with a leading-zero count, round to nearest even, saturate per policy), "
        f"{checked}, and goes "
        "through exactly the same flows. Every design is synthesized in every flow variant of "
        "the target: `carry` is the target's default script (`synth_ice40` / `synth_ecp5`, "
        "carry chains allowed), `nocarry` forbids carry chains (`-nocarry` / `-noccu2`) so "
        "that ABC maps the whole datapath to LUTs, and on ECP5 `lut4` / `nocarry-lut4` add "
        "`-nowidelut` (no LUT5-LUT7 built from PFU muxes, which `synth_ecp5` otherwise spends "
        "LUTs on to save levels). Each design is judged by its fewest-LUT variant and by its "
        "fastest variant. LUTs are LUT4s (an ECP5 CCU2C counts as two, as in nextpnr's "
        "TRELLIS_COMB); "
        f"Fmax is the median over nextpnr seeds {', '.join(map(str, range(1, seeds + 1)))}; "
        "logic depth is the most LUTs on a register-to-register path.", "",
        "Devices: " + "; ".join(f"{t}: {d['name']}" for t, d in DEVICES.items()) + ".", "",
        "## All runs", "",
        "The baseline rows appear once per unit (with its first design).", "",
        "| unit | target | design | flow | LUTs | carry cells | logic cells | logic depth | "
        "Fmax (MHz) | Fmax per seed |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    shown = set()
    for r in rows:
        for target, s in r["synth"].items():
            first = s.get("baseline") is not None and (r["unit"], target) not in shown
            shown.add((r["unit"], target))
            pairs = [("neuron", s)] + ([("baseline", s["baseline"])] if first else [])
            for design, d in pairs:
                for variant, v in sorted(d.get("variants", {d["variant"]: d}).items()):
                    seeds_txt = ", ".join(_f(x) for x in v.get("fmax_mhz_seeds") or [])
                    lines.append(
                        f"| {_name(r)} | {target} | {design} | {variant} | "
                        f"{v['luts']} | {v['carry_cells']} | {_f(v.get('logic_cells'))} | "
                        f"{v['logic_depth']} | {_f(v.get('fmax_mhz'))} | {seeds_txt} |")
    lines += ["", "## Ratios neuron / baseline", "",
              "`best`: the LUT ratio of each design's fewest-LUT variant and the Fmax ratio of "
              "each design's fastest variant (what `spikegate synth` reports as `ratio`); the "
              "issue's target is LUT ratio <= 1 and Fmax ratio >= 1. `same flow`: both designs "
              "in the same variant.", "",
              "| unit | target | comparison | LUT ratio | Fmax ratio | verdict |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        for target, s in r["synth"].items():
            b = s["baseline"]
            fast_n = _fastest(s)
            fast_b = _fastest(b)
            lines.append(f"| {_name(r)} | {target} | best (LUTs: {s['variant']} "
                         f"vs {b['variant']}; Fmax: {fast_n} vs {fast_b}) | "
                         f"{_f(s['ratio']['luts'], 2)} | {_f(s['ratio']['fmax'], 2)} | "
                         f"{_verdict(s['ratio']['luts'], s['ratio']['fmax'])} |")
            for variant in sorted(s.get("variants", {})):
                n, bb = s["variants"][variant], b.get("variants", {}).get(variant)
                if not bb:
                    continue
                rl = n["luts"] / bb["luts"] if bb["luts"] else None
                rf = (n["fmax_mhz"] / bb["fmax_mhz"]) if n.get("fmax_mhz") and \
                    bb.get("fmax_mhz") else None
                lines.append(f"| {_name(r)} | {target} | same flow "
                             f"({variant}) | {_f(rl, 2)} | {_f(rf, 2)} | {_verdict(rl, rf)} |")
    piped = [r for r in rows if r.get("pipelined")]
    if piped:
        k = piped[0]["pipelined"]["stages"]
        lines += ["", f"## Pipelined neuron designs ({k} stages, latency {k})", "",
                  f"Not a same-latency comparison: `--stages {k}` cuts the neuron levels into "
                  f"{k} register stages (registers come free between neuron levels), while the "
                  "baseline above stays combinational (latency 0 plus the wrapper's registers). "
                  "Flow `nocarry`; `FFs` are the pipeline's own.", "",
                  "| unit | target | LUTs | FFs | logic depth | Fmax (MHz) | Fmax / baseline's "
                  "fastest |", "|---|---|---|---|---|---|---|"]
        for r in piped:
            for target, s in r["pipelined"]["synth"].items():
                base = r["synth"][target]["baseline"].get("fmax_best_mhz")
                ratio = s["fmax_mhz"] / base if s.get("fmax_mhz") and base else None
                lines.append(f"| {_name(r)} | {target} | {s['luts']} | "
                             f"{s['ffs']} | {s['logic_depth']} | {_f(s.get('fmax_mhz'))} | "
                             f"{_f(ratio, 2)} |")
    lines += ["", "## Neuron designs", ""]
    for r in rows:
        lines.append(f"- `{r['top']}`: {r['neurons']} neurons, {r['synapses']} synapses (mean "
                     f"fan-in {r['synapses'] / r['neurons']:.1f}, max {r['max_fanin']}), max "
                     f"weight {r['max_weight']}, depth {r['depth']} neuron levels (see "
                     f"`spikegate inspect`).")
    lines += ["", "## Reading the figures", ""]
    if not fp8:
        lines += [_wide_reading(rows, seeds), ""]
        return "\n".join(lines)
    lines += ["On a LUT4 FPGA a neuron costs what its weighted sum costs: one LUT when its "
              "fan-in is at most 4, an adder tree and a comparator above that. The `default` "
              "and `shallow` generators minimise neuron levels with wide neurons (fan-in up "
              "to 27, weights up to 128) and compute the digits of each linear form digit by "
              "digit, each digit neuron re-summing the form, so they need 1.5-5x the baseline's "
              "LUTs: the cost model of a neuromorphic substrate (levels, neurons) is not that "
              "of a LUT fabric. The `lean` variants are built for LUTs: every neuron has "
              "fan-in <= 4 and |weight| <= 2 (each at most one LUT4, merged freely by ABC), "
              "in the textbook datapath computed once and shared by the special cases "
              "(operands normalised first, carry-save significand product, two-stage "
              "sticky right shift, one packing adder whose value also decides overflow). "
              "They are the variants that meet the target. ABC's LUT counts move by a few "
              "LUTs with neuron order or source layout, so ratios within a few percent of 1 "
              "are within that noise.", ""]
    return "\n".join(lines)


def _wide_reading(rows, seeds):
    """The closing paragraph of a wide-format report: every design against the target."""
    def verdict(q):
        luts, fmax = q.get("luts"), q.get("fmax")
        met = luts is not None and luts <= 1 and fmax is not None and fmax >= 1
        return (f"{_f(luts, 2)}x the LUTs, {_f(fmax, 2)}x the Fmax"
                f"{' (target met)' if met else ''}")
    parts = [f"`{r['unit']} --variant {r['variant']}` on {target}: "
             f"{verdict(s.get('ratio') or {})}"
             for r in rows for target, s in r["synth"].items()]
    variants = sorted({r["variant"] for r in rows})
    text = ("The `default` architectures minimise neuron levels with wide neurons (each "
            "neuron of fan-in above 4 costs an adder tree and a comparator in LUT4s)")
    if "lean" in variants:
        text += ("; the `lean` ones (`gen/float_lean.py`) are built from neurons of fan-in "
                 "<= 4 in the textbook datapath, for LUT fabrics")
    text += (". Against the baseline (the issue's target: LUT ratio <= 1 at Fmax ratio "
             ">= 1): " + "; ".join(parts) + ".")
    if seeds < 3:
        text += (f" Fmax is from {seeds} nextpnr seed{'s' if seeds > 1 else ''} only: "
                 "it moves by several percent from seed to seed, so Fmax ratios within "
                 "about 0.1 of 1 are not decided by these runs (`--seeds 3` is the default).")
    return text + (" ABC's LUT counts move by a few LUTs with neuron order or source layout, "
                   "so LUT ratios within a few percent of 1 are within that noise.")


def run_synth_bench(args):
    from .golden.formats import get_format
    fmt = get_format(args.format).name
    unit = getattr(args, "unit", None)
    units = bench_units(fmt, unit)
    seeds = args.seeds
    if seeds < 1:
        raise ValueError(f"--seeds must be positive, not {seeds}")
    quiet = bool(getattr(args, "json", False))
    if args.pipelined < 0:
        raise ValueError(f"--pipelined must be >= 0, not {args.pipelined}")
    variants = getattr(args, "variants", None)
    rows = synth_bench_rows(units, fmt=fmt, targets=args.targets, seeds=seeds,
                            quiet=quiet, pipelined=args.pipelined, variants=variants)
    command = " ".join(["spikegate", "bench", "synth"] + ([unit] if unit else [])
                       + (["--format", fmt] if fmt != "e4m3" else [])
                       + (["--targets", *args.targets] if list(args.targets) !=
                          ["ice40", "ecp5"] else [])
                       + (["--seeds", str(seeds)] if seeds != 3 else [])
                       + (["--variants", *variants] if variants else [])
                       + (["--pipelined", str(args.pipelined)] if args.pipelined != 2 else []))
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
        return 0
    text = _markdown(rows, seeds, command)
    report = report_path(fmt)
    report.parent.mkdir(exist_ok=True)
    report.write_text(text)
    report.with_suffix(".json").write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    print(text + f"\n(written to {report} and {report.with_suffix('.json')})", file=sys.stdout)
    return 0
