"""The stream form of RMSNorm, LayerNorm and softmax (hdl/vector_stream.py) on Icarus and
Verilator (the whole Verilog, control and neuron datapaths) and on Amaranth's simulator (the
same control with the datapaths elaborated from their netlists): beats streamed with random
idle cycles on the input and random backpressure on the output, every output code against the golden's stream
order (``lanes=P``). ``make test`` runs one design through the CLI on Icarus (RMSNorm fp16,
35 s) and a two-pass LayerNorm (bf16, N = 2, one lane: 60 s, most of it Verilator's build) on
Verilator, and RMSNorm (bf16, N = 2, two vectors: 50 s) on the Amaranth simulator; the larger
streams, softmax and fp32 are ``make regress`` (every datapath on the
torch engine: tests/test_vector_stream.py)."""

import json

import pytest

from spikegate.cli import main
from spikegate.hdl.vector_stream import vector_stream_verilog
from spikegate.sim.vector_stream_check import stream_parts, stream_vectors, verify_vector_stream


def test_norm_stream_through_the_cli_on_icarus(tmp_path):
    out = tmp_path / "rms"
    assert main(["generate", "rmsnorm", "--n", "4", "--lanes", "2", "--format", "fp16",
                 "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["form"], report["lanes"], report["beats"]) == ("time-multiplexed", 2, 2)
    assert main(["verify", str(out), "--sim", "icarus", "--vectors", "12"]) == 0


_REGRESS = (pytest.mark.regress,)


@pytest.mark.parametrize("sim,name,fmt,n,lanes,vectors", [
    ("verilator", "layernorm", "bf16", 2, 1, 20),
    ("amaranth", "rmsnorm", "bf16", 2, 1, 2),
    pytest.param("amaranth", "layernorm", "fp16", 2, 1, 3, marks=_REGRESS),
    pytest.param("verilator", "layernorm", "bf16", 4, 2, 40, marks=_REGRESS),
    pytest.param("verilator", "rmsnorm", "fp32", 4, 2, 20, marks=_REGRESS),
    pytest.param("icarus", "layernorm", "fp16", 6, 3, 12, marks=_REGRESS),
    pytest.param("verilator", "softmax", "bf16", 4, 2, 40, marks=_REGRESS),
    pytest.param("icarus", "softmax", "fp16", 4, 2, 12, marks=_REGRESS),
])
def test_norm_stream_on_simulator(sim, name, fmt, n, lanes, vectors):
    spec = stream_parts(name, fmt, n, lanes)
    top = f"{name}{n}p{lanes}_{fmt}"
    verilog = None if sim == "amaranth" else vector_stream_verilog(spec, top=top)
    result = verify_vector_stream(spec, verilog, top,
                                  simulator=sim, vectors=stream_vectors(spec, vectors, seed=8),
                                  seed=0)
    # backpressure and idle cycles stretch the run beyond the unit's own cycles
    assert result.cycles > vectors * spec.cycles_per_vector
