"""The any-format float units on the HDL simulators: the same TestFloat-style vectors as the
torch-engine tests (tests/test_float_units.py), a few thousand per unit, on Verilator,
Icarus and the Amaranth simulator; every op and format under ``make regress``."""

import pytest

from spikegate.golden.float_vectors import float_operands
from spikegate.hdl.design import Design
from spikegate.sim.regress import golden_outputs
from spikegate.sim.run import verify
from spikegate.sim.units import FLOAT_OPS, build_unit

#: (simulator, op, format, vectors) run in ``make test``; the rest of the cross is regress
QUICK = {("verilator", "fadd", "fp16"), ("verilator", "fmul", "bf16"),
         ("icarus", "fsqrt", "fp16"), ("icarus", "fmul", "fp16"),
         ("icarus", "fadd", "bf16"), ("amaranth", "fadd", "fp16")}
VECTORS = {"verilator": 3000, "icarus": 2000, "amaranth": 500}


def _cases():
    for sim in ("verilator", "icarus", "amaranth"):
        for op in FLOAT_OPS:
            for fmt in ("fp16", "bf16", "fp32"):
                marks = () if (sim, op, fmt) in QUICK else (pytest.mark.regress,)
                yield pytest.param(sim, op, fmt, marks=marks, id=f"{sim}-{op}-{fmt}")


@pytest.mark.parametrize("sim,op,fmt", list(_cases()))
def test_float_unit_on_simulator(sim, op, fmt):
    netlist = build_unit(op, fmt=fmt)
    cols = float_operands(fmt, FLOAT_OPS[op], VECTORS[sim], seed=11)
    inputs = dict(zip(("a", "b"), cols))
    verify(Design(netlist, stages=1 if sim == "verilator" else 0), inputs,
           golden_outputs(netlist, inputs), engine=sim)
