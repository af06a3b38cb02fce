"""One entry point to run a design on any engine: torch, amaranth, icarus or verilator."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from ..hdl.design import Design
from .check import assert_bit_exact

__all__ = ["ENGINES", "LANE_COSTS", "check_engine", "default_lanes", "simulate", "verify"]

ENGINES = ("torch", "amaranth", "icarus", "verilator")
BUILD_ROOT = Path("build/sim")


def check_engine(name):
    if name not in ENGINES:
        raise ValueError(f"unknown simulator {name!r}: choose one of {', '.join(ENGINES)}")
    return name


@dataclass(frozen=True)
class LaneCost:
    """What one more lane (a copy of the design side by side in one cocotb simulation)
    costs and saves: every copy is compiled again (Icarus elaborates it, Verilator writes
    and compiles its own C++), and every testbench step is one pass of cocotb's Python loop,
    whatever the lanes. Neuron events get no cheaper per vector on more lanes."""

    #: seconds to build one copy, per synapse of the design
    build_per_synapse: float
    #: seconds of testbench per step
    step: float
    max_lanes: int

    def lanes(self, synapses: int, vectors: int) -> int:
        """The lane count that minimises build plus steps: ``sqrt(step V / (build S))``."""
        best = math.sqrt(self.step * vectors / (self.build_per_synapse * max(synapses, 1)))
        return max(1, min(self.max_lanes, vectors, round(best)))


#: Measured here (2-core machine; Verilator's ``quick`` build): Icarus builds 0.19 ms per
#: synapse a copy (fp16 recip, 34,961 synapses: 7.4 s on one lane, 26.9 s on four) and
#: steps in 21 us; Verilator 0.14 ms (fp16 SiLU, 405,689 synapses: ~55 s) and 19 us. So an
#: FP8 unit's 65,536 pairs get 3 lanes (E4M3 multiplier on Icarus: 17 s, against 31 s on
#: 16) and a 16-bit function table one (fp16 recip's 2,300 codes: 12 s, against 153 s).
LANE_COSTS = {"icarus": LaneCost(1.9e-4, 2.1e-5, 16),
              "verilator": LaneCost(1.4e-4, 1.9e-5, 16)}


def default_lanes(design: Design, engine: str, vectors: int) -> int:
    """Lanes for ``vectors`` inputs of ``design`` on a cocotb simulator (:data:`LANE_COSTS`)."""
    synapses = sum(n.fanin for n in design.netlist.neurons)
    return LANE_COSTS[engine].lanes(synapses, vectors)


def simulate(design: Design, inputs: dict, *, engine, expected=None, lanes=None, waves=None,
             build_root: Path = BUILD_ROOT, device=None, verilog_file=None):
    """Run ``inputs`` through ``design``; returns output bus name -> numpy array.

    With ``expected``, the cocotb testbench also checks on the simulator side. The cocotb
    simulators run ``verilog_file`` when given (the file an engineer has), else the
    design's freshly generated Verilog; ``lanes``: copies side by side (default
    :func:`default_lanes`).
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
    if lanes is None:
        lanes = default_lanes(design, engine, len(next(iter(inputs.values()), ())))
    result = run_vectors(
        verilog=source, top=design.top, ports=design.ports, vectors=inputs, simulator=engine,
        latency=design.latency, hold={"valid_in": 1} if design.latency else None,
        expected=expected, lanes=lanes, build_root=Path(build_root), waves=waves)
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
