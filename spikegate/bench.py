"""Benchmarks: commands that print figures (never timed tests).

``spikegate bench structure`` measures the FP8 units' netlists (neurons, synapses, depth,
fan-in, weights) beside NEXUS's figures and the targets, and rewrites the committed report
``reports/structure.md`` so README numbers always come from this command.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["run_bench", "structure_rows"]

#: NEXUS (E4M3 only), measured on its own code: neurons, depth.
NEXUS = {"fp8-mul": (907, 84), "fp8-add": (1559, 106)}
#: Issue targets for E4M3: neurons, depth.
TARGETS = {"fp8-mul": (300, 20), "fp8-add": (500, 25)}
REPORT = Path("reports/structure.md")
#: NEXUS's wide float units, measured on its own code (neuron evaluations per operation;
#: levels where known) and the issue's targets (neurons, levels).
NEXUS_FLOAT = {("fadd", "fp32"): "5,734 / 332 levels", ("fmul", "fp32"): "21,416",
               ("fadd", "fp16"): "2,726", ("fmul", "fp16"): "none (an FP32 product rounded)"}
FLOAT_TARGETS = {("fadd", "fp32"): (1150, 33), ("fmul", "fp32"): (2140, None),
                 ("fadd", "fp16"): (545, None)}
FLOAT_FORMATS = ("e4m3", "e5m2", "fp16", "bf16", "fp32")


def structure_rows():
    from .sim.units import build_unit, fp8_variants
    rows = []
    for unit in ("fp8-mul", "fp8-add"):
        for variant in fp8_variants(unit):
            for fmt in ("e4m3", "e5m2"):
                for policy in ("torch", "ocp", "satfinite"):
                    s = build_unit(unit, fmt=fmt, policy=policy, variant=variant).stats()
                    rows.append({"unit": unit, "variant": variant, "format": fmt,
                                 "policy": policy,
                                 **{k: s[k] for k in ("neurons", "synapses", "depth",
                                                      "max_fanin", "max_weight",
                                                      "max_threshold")},
                                 "neurons_per_block": s["neurons_per_block"]})
    return rows


def float_rows():
    """Every any-format float unit (default variant, torch policy) on the named formats."""
    from .sim.units import FLOAT_OPS, build_unit
    rows = []
    for op in (*FLOAT_OPS, "fconvert"):
        for fmt in FLOAT_FORMATS:
            pairs = [(fmt, None)] if op != "fconvert" else [
                (fmt, to) for to in FLOAT_FORMATS if to != fmt]
            for src, to in pairs:
                s = build_unit(op, fmt=src, to=to).stats()
                rows.append({"unit": op, "format": src, "to": to,
                             **{k: s[k] for k in ("neurons", "synapses", "depth", "max_fanin",
                                                  "max_weight")}})
    return rows


def _float_markdown(rows):
    lines = ["", "# Any-format float units", "",
             "`spikegate generate fadd|fsub|fmul|fdiv|fsqrt --format F` and `fconvert --format "
             "A --to B` (default variant, torch policy; on E4M3/E5M2 the registry serves fadd/"
             "fmul with the FP8 architectures above). NEXUS figures are neuron evaluations per "
             "operation measured on its code.", "",
             "| unit | format | neurons | synapses | depth | max fan-in | max weight | NEXUS | "
             "target neurons / depth |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["unit"] == "fconvert":
            continue
        key = (r["unit"], r["format"])
        t = FLOAT_TARGETS.get(key)
        target = "" if t is None else f"<= {t[0]:,}" + (f" / <= {t[1]}" if t[1] else "")
        lines.append(f"| {r['unit']} | {r['format']} | {r['neurons']:,} | {r['synapses']:,} | "
                     f"{r['depth']} | {r['max_fanin']} | {r['max_weight']} | "
                     f"{NEXUS_FLOAT.get(key, '')} | {target} |")
    lines += ["", "Conversions (`fconvert`, neurons / depth; rows: from, columns: to):", "",
              "| from \\ to | " + " | ".join(FLOAT_FORMATS) + " |",
              "|---" * (len(FLOAT_FORMATS) + 1) + "|"]
    conv = {(r["format"], r["to"]): r for r in rows if r["unit"] == "fconvert"}
    for src in FLOAT_FORMATS:
        cells = ["-" if src == to else "{} / {}".format(conv[src, to]["neurons"],
                                                        conv[src, to]["depth"])
                 for to in FLOAT_FORMATS]
        lines.append(f"| {src} | " + " | ".join(cells) + " |")
    return lines


def _markdown(rows):
    lines = ["# FP8 unit structure", "",
             "Produced by `spikegate bench structure` (do not edit by hand). Variants "
             "(`spikegate generate fp8-mul --variant ...`): `default` (few levels, wide "
             "neurons), `shallow` (multiplier in five levels: every rounding decision one "
             "threshold on the significand product), `lean` (neurons of fan-in <= 4 in "
             "gate-level structures, for FPGA LUTs; see reports/synth.md). Every FP8 unit "
             "rounds through the one rounding block (`gen/float_round.py: round_pack`); moving "
             "them onto it changed no figure of this table (the pack neurons' weights moved, "
             "their number, fan-in and the depth did not).", "",
             "| unit | variant | format | policy | neurons | synapses | depth | max fan-in "
             "| max weight | max threshold | NEXUS neurons / depth | target neurons / depth |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        nexus = "{} / {}".format(*NEXUS[r["unit"]]) if r["format"] == "e4m3" else "n/a (E4M3 only)"
        target = ("<= {} / <= {}".format(*TARGETS[r["unit"]]) if r["format"] == "e4m3"
                  else "same order")
        if r["variant"] == "lean":
            target = "n/a: the FPGA variant trades levels for LUTs"
        lines.append(f"| {r['unit']} | {r['variant']} | {r['format']} | {r['policy']} | "
                     f"{r['neurons']} | "
                     f"{r['synapses']} | {r['depth']} | {r['max_fanin']} | {r['max_weight']} | "
                     f"{r['max_threshold']} | "
                     f"{nexus} | {target} |")
    lines += ["", "Neurons per functional block (torch policy):", ""]
    for r in rows:
        if r["policy"] == "torch":
            blocks = ", ".join(f"{k} {v}" for k, v in r["neurons_per_block"].items())
            lines.append(f"- {r['unit']} {r['variant']} {r['format']}: {blocks}")
    lines += _float_markdown(float_rows())
    return "\n".join(lines) + "\n"


def cocotb_speed(simulators=("verilator", "icarus"), stages=0):
    """Seconds of simulation for all 65,536 E4M3 multiplier pairs (build excluded)."""
    from .hdl.design import Design
    from .sim.cocotb_runner import run_vectors
    from .sim.regress import exhaustive_inputs, golden_outputs
    from .sim.run import source_file
    from .sim.units import build_unit
    design = Design(build_unit("fp8-mul", fmt="e4m3"), stages=stages)
    inputs = exhaustive_inputs(design.netlist)
    expected = golden_outputs(design.netlist, inputs)
    rows = []
    for sim in simulators:
        result = run_vectors(verilog=source_file(design, Path("build/sim")), top=design.top,
                             ports=design.ports, vectors=inputs, simulator=sim,
                             latency=design.latency, expected=expected,
                             hold={"valid_in": 1} if stages else None, build="fast")
        rows.append({"simulator": sim, "pairs": len(inputs["a"]), "lanes": 16,
                     "sim_seconds": round(result.sim_seconds, 3),
                     "build_seconds": round(result.build_seconds, 3),
                     "pairs_per_s": round(len(inputs["a"]) / result.sim_seconds)})
    return rows


#: The 16-bit binary units whose every pair ``bench exhaustive`` checks.
EXHAUSTIVE_UNITS = (("fadd", "fp16"), ("fmul", "fp16"), ("fadd", "bf16"), ("fmul", "bf16"),
                    ("fsub", "fp16"), ("fsub", "bf16"), ("fdiv", "bf16"), ("fdiv", "fp16"))
EXHAUSTIVE_REPORT = Path("reports/exhaustive16.json")


def run_exhaustive(*, device=None, json_out=False):
    """All 2^32 pairs of each 16-bit binary unit on the fast engine (a GPU job: about 10 s
    per unit on an H200, about 20 minutes on 2 CPU cores); writes reports/exhaustive16.json."""
    from .hdl.atomic import write_file
    from .sim.exhaustive import exhaustive_sweep
    from .sim.units import build_unit
    rows = []
    for op, fmt in EXHAUSTIVE_UNITS:
        netlist = build_unit(op, fmt=fmt)
        r = exhaustive_sweep(netlist, device=device)
        rows.append({"unit": op, "format": fmt, "neurons": len(netlist.neurons),
                     "vectors": r.total, "mismatches": r.count, "seconds": round(r.seconds, 2),
                     "pairs_per_s": round(r.pairs_per_s), "device": r.device,
                     "backend": r.backend, "first": r.describe().splitlines()[1:4]})
        print(json.dumps(rows[-1]) if json_out else
              f"{op} {fmt}: {r.total:,} pairs, {r.count} mismatches, {r.seconds:.1f} s "
              f"({r.pairs_per_s / 1e6:.0f}M pairs/s, {r.device})", flush=True)
        write_file(EXHAUSTIVE_REPORT, json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


def run_bench(what, *, json_out=False, device=None):
    if what == "cocotb":
        rows = cocotb_speed()
        for r in rows:
            print(json.dumps(r) if json_out else
                  f"{r['simulator']}: {r['pairs']} E4M3 multiplier pairs bit-exact in "
                  f"{r['sim_seconds']} s of simulation ({r['pairs_per_s']} pairs/s, "
                  f"{r['lanes']} lanes; build {r['build_seconds']} s)")
        return 0
    if what == "exhaustive":
        return run_exhaustive(device=device, json_out=json_out)
    if what != "structure":
        raise ValueError(f"unknown benchmark {what!r}: choose structure, cocotb or exhaustive")
    rows = structure_rows()
    if json_out:
        print(json.dumps(rows, indent=1))
    else:
        text = _markdown(rows)
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(text)
        print(text + f"\n(written to {REPORT})")
    return 0
