"""RMSNorm and LayerNorm on the HDL simulators against the step-by-step golden, on the
registry's seeded random and directed vectors, all under ``make regress``: a two-element
norm is about 19,000 neurons of float32 dividers and square roots, which takes Icarus about
8 minutes for 60 vectors and Verilator longer to build (``make test`` checks the netlists
on the torch engine, tests/test_norms.py)."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import golden_outputs, regression_inputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit

QUICK = set()
VECTORS = {"verilator": 300, "icarus": 60, "amaranth": 30}


def _cases():
    for sim in ("verilator", "icarus", "amaranth"):
        for name in ("rmsnorm", "layernorm"):
            for fmt in ("bf16", "fp16", "fp32"):
                marks = () if (sim, name, fmt) in QUICK else (pytest.mark.regress,)
                yield pytest.param(sim, name, fmt, marks=marks, id=f"{sim}-{name}-{fmt}")


@pytest.mark.parametrize("sim,name,fmt", list(_cases()))
def test_norm_on_simulator(sim, name, fmt):
    netlist = build_unit(name, fmt=fmt, n=2)
    inputs = regression_inputs(netlist, vectors=VECTORS[sim], seed=4)
    verify(Design(netlist, stages=2 if sim == "verilator" else 0), inputs,
           golden_outputs(netlist, inputs), engine=sim)
