"""One FP8 configuration on Amaranth's own simulator: the E4M3 multiplier, pipelined,
all 65,536 pairs bit-exact against torch (the other engines carry the rest)."""

from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit


def test_fp8_mul_e4m3_on_amaranth_exhaustive():
    netlist = build_unit("fp8-mul", fmt="e4m3")
    inputs = exhaustive_inputs(netlist)
    verify(Design(netlist, stages=2), inputs, golden_outputs(netlist, inputs), engine="amaranth")
