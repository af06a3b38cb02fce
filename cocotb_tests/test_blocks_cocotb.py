"""Every catalogue gate and block (4 bits wide, every variant) exhaustively on Icarus and
Verilator through cocotb, combinational and pipelined.

All blocks sit side by side in one "zoo" module so each simulator compiles once per
pipeline depth; each block still sees every combination of its own inputs.
"""

import pytest

from spikegate.gen.zoo import build_zoo
from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify


# The Amaranth backend's Verilog is ~4x bigger to compile: Verilator checks it once; the
# combinational zoo on Verilator (Icarus runs it) is under ``make regress``.
CONFIGS = [(sim, stages, "direct") for sim in ("icarus", "verilator") for stages in (0, 2)] + \
    [("icarus", 0, "amaranth"), ("icarus", 2, "amaranth"), ("verilator", 2, "amaranth")]
REGRESS = {("verilator", 0, "direct")}


@pytest.mark.parametrize("sim,stages,backend", [
    pytest.param(*c, marks=(pytest.mark.regress,) if c in REGRESS else ()) for c in CONFIGS])
def test_zoo_exhaustive(sim, stages, backend):
    netlist = build_zoo(4)
    inputs = exhaustive_inputs(netlist)
    verify(Design(netlist, stages=stages, backend=backend), inputs,
           golden_outputs(netlist, inputs), engine=sim, lanes=4)
