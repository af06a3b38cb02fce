"""One FP8 configuration on Amaranth's own simulator: the E4M3 multiplier, pipelined,
bit-exact against torch -- every 7th of the 65,536 pairs (9,363, every residue of both
operands) in ``make test``, all of them under ``make regress`` (the other engines carry
the rest)."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("stride", [pytest.param(7, id="every-7th"),
                                    pytest.param(1, id="exhaustive", marks=pytest.mark.regress)])
def test_fp8_mul_e4m3_on_amaranth(stride):
    netlist = build_unit("fp8-mul", fmt="e4m3")
    inputs = {k: v[::stride] for k, v in exhaustive_inputs(netlist).items()}
    verify(Design(netlist, stages=2), inputs, golden_outputs(netlist, inputs), engine="amaranth")
