"""RMSNorm and LayerNorm on the HDL simulators against the step-by-step golden, on the
registry's seeded random and directed vectors: a two-element norm is about 19,000 neurons
of float32 dividers and square roots (one to two minutes on each simulator), so ``make test``
runs one norm and format per simulator and ``make regress`` the whole cross, softmax
included (every norm and softmax on the torch engine: tests/test_norms.py,
tests/test_softmax.py)."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import golden_outputs, regression_inputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit

QUICK = {("icarus", "rmsnorm", "bf16"), ("verilator", "layernorm", "fp16"),
         ("amaranth", "rmsnorm", "fp16")}
#: vectors per run (the Amaranth simulator: about 25 s to elaborate a norm, then 3-4 s per
#: vector; LayerNorm in bf16 with 30 vectors took 7 minutes; the compiled simulators'
#: builds dominate their time)
VECTORS = {"verilator": 300, "icarus": 30, "amaranth": 5}
#: one lane on the compiled simulators: each lane is a copy of the 19,000 neurons
#: (Icarus, RMSNorm bf16, 60 vectors: 91 s on one lane, 139 s on 4)
LANES = {"verilator": 1, "icarus": 1}


def _cases():
    for sim in ("verilator", "icarus", "amaranth"):
        for name in ("rmsnorm", "layernorm", "softmax"):
            for fmt in ("bf16", "fp16", "fp32"):
                marks = () if (sim, name, fmt) in QUICK else (pytest.mark.regress,)
                yield pytest.param(sim, name, fmt, marks=marks, id=f"{sim}-{name}-{fmt}")


@pytest.mark.parametrize("sim,name,fmt", list(_cases()))
def test_norm_on_simulator(sim, name, fmt):
    netlist = build_unit(name, fmt=fmt, n=2)
    inputs = regression_inputs(netlist, vectors=VECTORS[sim], seed=4)
    verify(Design(netlist, stages=2 if sim == "verilator" else 0), inputs,
           golden_outputs(netlist, inputs), engine=sim, lanes=LANES.get(sim))
