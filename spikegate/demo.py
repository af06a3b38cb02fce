"""`make demo`: the FP8 MLP on scikit-learn's digits (see :mod:`spikegate.demo_mlp`), and on
request (``spikegate demo --units``) the E4M3 FP8 multiplier and adder proven bit-exact:

Each unit is written (Verilog + report) under the output directory, pipelined, and all
65,536 input pairs are co-simulated on Icarus Verilog and on Verilator against the PyTorch
golden. A short summary table is printed; any mismatch fails the run.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["run_demo", "run_units_demo", "DEMO_UNITS"]

DEMO_UNITS = (("fp8-mul", "e4m3"), ("fp8-add", "e4m3"))
DEMO_STAGES = 2


def run_demo(output: Path, *, units=False) -> int:
    """``make demo``: the FP8 MLP on load_digits (:mod:`spikegate.demo_mlp`); with ``units``
    also the FP8 multiplier/adder exhaustive co-simulation below."""
    from .demo_mlp import run_mlp_demo
    start = time.perf_counter()
    status = run_mlp_demo(Path(output) / "mlp")
    if units:
        status |= run_units_demo(Path(output))
    print(f"demo finished in {time.perf_counter() - start:.0f} s")
    return status


def run_units_demo(output: Path) -> int:
    from .hdl.design import Design
    from .sim.check import MismatchError
    from .sim.regress import exhaustive_inputs, golden_outputs
    from .sim.run import verify
    from .sim.units import build_unit

    rows, failed = [], False
    for unit, fmt in DEMO_UNITS:
        design = Design(build_unit(unit, fmt=fmt), stages=DEMO_STAGES)
        verilog = design.write(output / f"{unit}-{fmt}", force=True)
        inputs = exhaustive_inputs(design.netlist)
        expected = golden_outputs(design.netlist, inputs)
        for sim in ("icarus", "verilator"):
            start = time.perf_counter()
            try:
                verify(design, inputs, expected, engine=sim, verilog_file=verilog)
                verdict = "bit-exact"
            except MismatchError as exc:
                verdict, failed = f"FAIL: {str(exc).splitlines()[0]}", True
                print(exc)
            s = design.stats
            rows.append((f"{unit} {fmt}", sim, len(inputs["a"]), s["neurons"], s["depth"],
                         design.latency, f"{time.perf_counter() - start:.1f}", verdict))
        print(f"wrote {verilog}")
    head = ("unit", "simulator", "pairs", "neurons", "depth", "latency", "seconds", "result")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print("demo FAILED" if failed else
          "demo passed: every pair bit-identical to torch on both simulators")
    return 1 if failed else 0
