"""RMSNorm and LayerNorm on the HDL simulators against the step-by-step golden, on the
registry's seeded random and directed vectors: a two-element norm is about 19,000 neurons
of float32 dividers and square roots (one to two minutes on each simulator), so ``make test``
runs one norm and format on Icarus and ``make regress`` the whole cross, softmax
included (every norm and softmax on the torch engine: tests/test_norms.py,
tests/test_softmax.py)."""

import pytest

from spikegate.hdl.design import Design
from spikegate.sim.regress import golden_outputs, regression_inputs
from spikegate.sim.run import verify
from spikegate.sim.units import build_unit

#: LayerNorm runs streamed on Verilator and RMSNorm streamed on the Amaranth simulator in
#: ``make test`` (cocotb_tests/test_vector_stream_cocotb.py); spatially they are
#: ``make regress`` there (RMSNorm fp16 on Verilator 66-91 s, LayerNorm fp16 150 s; RMSNorm
#: fp16 on the Amaranth simulator 49-92 s for two vectors)
QUICK = {("icarus", "rmsnorm", "bf16")}
#: vectors per run. Each vector of a combinational norm costs the event-driven simulators
#: seconds: RMSNorm fp16 on the Amaranth simulator 49 s for 2 vectors, 118 s for 5 (CI);
#: RMSNorm bf16 on Icarus 17 s for 10, 86 s for 30. Verilator's build dominates its time, so
#: it runs 300; every vector of the norms runs on the torch engine (tests/test_norms.py)
VECTORS = {"verilator": 300, "icarus": 10, "amaranth": 2}


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
           golden_outputs(netlist, inputs), engine=sim)
