"""The correctly rounded functions on the HDL simulators, against the exact golden: every
input of the 16-bit functions on Verilator, and of the 8-bit ones on Icarus and the
Amaranth simulator; a strided subset (with every special code) of the 16-bit ones on Icarus
and Amaranth, whose event-driven simulation of 65,536 vectors takes minutes. ``make test``
runs every 16-bit function on Verilator (all 65,536 inputs each; the bf16 ones in one
model), one function per format on Icarus and on the Amaranth simulator; the whole cross
is ``make regress``."""

import numpy as np
import pytest

from spikegate.gen.builder import NetlistBuilder
from spikegate.golden.float_vectors import corner_codes
from spikegate.golden.functions import FUNCTIONS
from spikegate.hdl.design import Design
from spikegate.sim.regress import golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit

FORMATS = ("e4m3", "e5m2", "bf16", "fp16")
#: (simulator, function, format) in ``make test``
QUICK = {("verilator", name, "fp16") for name in FUNCTIONS} | {
    ("verilator", "gelu", "e4m3"), ("icarus", "exp", "e4m3"),
    ("icarus", "silu", "e5m2"), ("icarus", "tanh", "bf16"), ("icarus", "recip", "fp16"),
    ("amaranth", "gelu-tanh", "e4m3"), ("amaranth", "sigmoid", "e5m2"),
    ("amaranth", "rsqrt", "bf16"), ("amaranth", "rsqrt", "fp16")}
#: inputs per 16-bit function on the event-driven simulators (the rest: every code): a
#: table's vector costs Icarus about 1.5 ms (fp16 recip, 2,449 neurons: 20 s for 2,048
#: codes and the specials, one lane, most of it compiling)
SUBSET = {"icarus": 2048, "amaranth": 512}
#: the tables run unpipelined: a Verilated model evaluates its whole input cone on every
#: eval() call, and a clocked testbench makes three a vector (both clock edges and the
#: input write) against one for a combinational step (fp16 SiLU: 58 s -> 23 s of
#: simulation); the pipelined Verilog is checked by the FP32 functions below
STAGES = 0


def _codes(sim, fmt):
    width = 8 if fmt in ("e4m3", "e5m2") else 16
    if width == 8 or sim not in SUBSET:
        return np.arange(1 << width, dtype=np.uint64)
    stride = (1 << width) // SUBSET[sim]
    codes = set(range(0, 1 << width, stride)) | {int(c) for c in corner_codes(fmt)}
    return np.array(sorted(codes), dtype=np.uint64)


def _cases():
    for sim in ("verilator", "icarus", "amaranth"):
        for name in FUNCTIONS:
            for fmt in FORMATS:
                marks = () if (sim, name, fmt) in QUICK else (pytest.mark.regress,)
                yield pytest.param(sim, name, fmt, marks=marks, id=f"{sim}-{name}-{fmt}")


@pytest.mark.parametrize("sim,name,fmt", list(_cases()))
def test_function_on_simulator(sim, name, fmt):
    netlist = build_unit(name, fmt=fmt)
    inputs = {"a": _codes(sim, fmt)}
    verify(Design(netlist, stages=STAGES), inputs,
           golden_outputs(netlist, inputs), engine=sim)


def test_every_bf16_function_in_one_model_on_verilator():
    """The eight bf16 functions side by side on one input, every code: one Verilator build
    and run instead of eight (their 14,100 neurons: 46 s here, against 167 s as eight
    tests beside the rest of make test, most of it each build's fixed cost); one by one
    they are ``make regress``."""
    fmt = "bf16"
    b = NetlistBuilder(f"functions_{fmt}")
    a = b.input("a", 16)
    inputs = {"a": _codes("verilator", fmt)}
    expected = {}
    for name in FUNCTIONS:
        unit = build_unit(name, fmt=fmt)
        bus = "y_" + name.replace("-", "_")
        b.output(bus, b.embed(unit, {"a": a}, block=name.replace("-", "_"))["y"])
        expected[bus] = golden_outputs(unit, inputs)["y"]
    verify(Design(b.build(), stages=STAGES), inputs, expected, engine="verilator")


#: The FP32 functions (faithful: expected = the netlist's outputs, each checked faithful
#: against the exact golden): function vectors per simulator. ``make test`` runs exp on
#: Verilator, pipelined (one register stage); exp on Icarus (146 s for 500 vectors, mostly
#: elaborating 4,657 wide neurons) and the Amaranth simulator (28-62 s for 64), sigmoid and
#: SiLU (11,040 and 12,585 neurons: minutes to build on each simulator) are make regress.
FP32_VECTORS = {"verilator": 20_000, "icarus": 500, "amaranth": 64}


def _fp32_cases():
    for sim in FP32_VECTORS:
        for name in ("exp", "sigmoid", "silu"):
            quick = name == "exp" and sim == "verilator"
            yield pytest.param(sim, name, marks=() if quick else (pytest.mark.regress,),
                               id=f"{sim}-{name}-fp32")


@pytest.mark.parametrize("sim,name", list(_fp32_cases()))
def test_fp32_function_on_simulator(sim, name):
    from spikegate.golden.functions import function_vectors
    netlist = build_unit(name, fmt="fp32")
    inputs = {"a": function_vectors(name, "fp32", FP32_VECTORS[sim], seed=7)}
    verify(Design(netlist, stages=1 if sim == "verilator" else 0), inputs,
           golden_outputs(netlist, inputs), engine=sim)
