"""One entry point to run a design on any engine: torch, amaranth, icarus or verilator."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..hdl.design import Design
from .check import assert_bit_exact

__all__ = ["ENGINES", "check_engine", "simulate", "verify"]

ENGINES = ("torch", "amaranth", "icarus", "verilator")
BUILD_ROOT = Path("build/sim")


def check_engine(name):
    if name not in ENGINES:
        raise ValueError(f"unknown simulator {name!r}: choose one of {', '.join(ENGINES)}")
    return name


#: Copies of a design side by side in one cocotb simulation (vectors per step). Icarus's
#: cost is per neuron event whatever the lanes, so many lanes only save Python steps;
#: Verilator compiles a copy of the C++ per instance (the 65,536-pair E4M3 adder: 6 MB of
#: C++ for 16 lanes), so a few lanes build far faster and still run in seconds.
LANES = {"icarus": 16, "verilator": 4}


def simulate(design: Design, inputs: dict, *, engine, expected=None, lanes=None, waves=None,
             build_root: Path = BUILD_ROOT, device=None, verilog_file=None):
    """Run ``inputs`` through ``design``; returns output bus name -> numpy array.

    With ``expected``, the cocotb testbench also checks on the simulator side. The cocotb
    simulators run ``verilog_file`` when given (the file an engineer has), else the
    design's freshly generated Verilog; ``lanes``: copies side by side (default
    :data:`LANES`).
    """
    check_engine(engine)
    if engine == "torch":
        from .torch_engine import TorchEngine
        return TorchEngine(design.netlist, device=device).run(inputs)
    if engine == "amaranth":
        from .amaranth_sim import run_amaranth
        return run_amaranth(design, inputs)
    from .cocotb_runner import run_vectors
    source = Path(verilog_file) if verilog_file else source_file(design, Path(build_root))
    result = run_vectors(
        verilog=source, top=design.top, ports=design.ports, vectors=inputs, simulator=engine,
        latency=design.latency, hold={"valid_in": 1} if design.latency else None,
        expected=expected, lanes=LANES[engine] if lanes is None else lanes, build_root=Path(build_root), waves=waves)
    outputs = dict(result.outputs)
    outputs.pop("valid_out", None)
    return outputs


def source_file(design, build_root):
    text = design.verilog
    source = build_root / "src" / f"{design.top}-{hashlib.sha1(text.encode()).hexdigest()[:10]}.v"
    if not source.exists():
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
    return source


def verify(design: Design, inputs: dict, expected: dict, *, engine, **kwargs):
    """Simulate and compare bit patterns; raises MismatchError naming the first mismatches."""
    got = simulate(design, inputs, engine=engine, expected=expected, **kwargs)
    assert_bit_exact(inputs, {k: got[k] for k in expected}, expected,
                     context=f"{design.top} on {engine}",
                     widths={k: w for k, (_, w) in design.ports.items()})
    return got
