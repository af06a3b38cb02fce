"""FP8 multiplier and adder, both formats, default (torch) policy: all 65,536 input pairs
bit-exact against the PyTorch golden on Icarus and on Verilator, combinational and
pipelined (2 register stages, a new pair every cycle).

``make test`` runs every unit and format exhaustively on both simulators, each simulator
seeing both forms (Icarus: E4M3 combinational, E5M2 pipelined; Verilator the other way
round); the rest of the cross is ``make regress``."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit

#: register stages per (simulator, format) in ``make test``
QUICK = {("icarus", "e4m3"): 0, ("icarus", "e5m2"): 2,
         ("verilator", "e4m3"): 2, ("verilator", "e5m2"): 0}


def _cases():
    for sim in ("icarus", "verilator"):
        for unit in ("fp8-mul", "fp8-add"):
            for fmt in ("e4m3", "e5m2"):
                for stages in (0, 2):
                    marks = () if QUICK[sim, fmt] == stages else (pytest.mark.regress,)
                    yield pytest.param(sim, unit, fmt, stages, marks=marks,
                                       id=f"{sim}-{unit}-{fmt}-{stages}")


@pytest.mark.parametrize("sim,unit,fmt,stages", list(_cases()))
def test_fp8_exhaustive(sim, unit, fmt, stages):
    netlist = build_unit(unit, fmt=fmt)
    inputs = exhaustive_inputs(netlist)
    assert len(inputs["a"]) == 65536
    verify(Design(netlist, stages=stages), inputs, golden_outputs(netlist, inputs), engine=sim)
