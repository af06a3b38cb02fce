"""FP8 multiplier and adder, both formats, default (torch) policy: all 65,536 input pairs
bit-exact against the PyTorch golden on Icarus and on Verilator, combinational and
pipelined (2 register stages, a new pair every cycle)."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("stages", [0, 2])
@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
@pytest.mark.parametrize("unit", ["fp8-mul", "fp8-add"])
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_fp8_exhaustive(sim, unit, fmt, stages):
    netlist = build_unit(unit, fmt=fmt)
    inputs = exhaustive_inputs(netlist)
    assert len(inputs["a"]) == 65536
    verify(Design(netlist, stages=stages), inputs, golden_outputs(netlist, inputs), engine=sim)
