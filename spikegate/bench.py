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


def _markdown(rows):
    lines = ["# FP8 unit structure", "",
             "Produced by `spikegate bench structure` (do not edit by hand). Variants "
             "(`spikegate generate fp8-mul --variant ...`): `default` (few levels, wide "
             "neurons), `shallow` (multiplier in five levels: every rounding decision one "
             "threshold on the significand product), `lean` (neurons of fan-in <= 4 in "
             "gate-level structures, for FPGA LUTs; see reports/synth.md).", "",
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
    return "\n".join(lines) + "\n"


def cocotb_speed(simulators=("verilator", "icarus"), stages=0):
    """Seconds of simulation for all 65,536 E4M3 multiplier pairs (build excluded)."""
    from .hdl.design import Design
    from .sim.cocotb_runner import run_vectors
    from .sim.regress import exhaustive_inputs, golden_outputs
    from .sim.run import _source_file
    from .sim.units import build_unit
    design = Design(build_unit("fp8-mul", fmt="e4m3"), stages=stages)
    inputs = exhaustive_inputs(design.netlist)
    expected = golden_outputs(design.netlist, inputs)
    rows = []
    for sim in simulators:
        result = run_vectors(verilog=_source_file(design, Path("build/sim")), top=design.top,
                             ports=design.ports, vectors=inputs, simulator=sim,
                             latency=design.latency, expected=expected,
                             hold={"valid_in": 1} if stages else None)
        rows.append({"simulator": sim, "pairs": len(inputs["a"]), "lanes": 16,
                     "sim_seconds": round(result.sim_seconds, 3),
                     "build_seconds": round(result.build_seconds, 3),
                     "pairs_per_s": round(len(inputs["a"]) / result.sim_seconds)})
    return rows


def run_bench(what, *, json_out=False):
    if what == "cocotb":
        rows = cocotb_speed()
        for r in rows:
            print(json.dumps(r) if json_out else
                  f"{r['simulator']}: {r['pairs']} E4M3 multiplier pairs bit-exact in "
                  f"{r['sim_seconds']} s of simulation ({r['pairs_per_s']} pairs/s, "
                  f"{r['lanes']} lanes; build {r['build_seconds']} s)")
        return 0
    if what != "structure":
        raise ValueError(f"unknown benchmark {what!r}: choose structure or cocotb")
    rows = structure_rows()
    if json_out:
        print(json.dumps(rows, indent=1))
    else:
        text = _markdown(rows)
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(text)
        print(text + f"\n(written to {REPORT})")
    return 0
