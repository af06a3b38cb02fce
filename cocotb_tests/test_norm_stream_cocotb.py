"""The stream form of RMSNorm/LayerNorm (hdl/norm_stream.py) on Icarus and Verilator: the
whole Verilog, control and neuron datapaths, beats streamed with random idle cycles on the
input and random backpressure on the output, every output code against the golden's stream
order (golden/norms.py, ``lanes=P``). ``make test`` runs one design through the CLI on
Icarus (about a minute); Verilator's build of a LayerNorm stream takes minutes, so it is
``make regress`` (the datapaths on the torch engine: tests/test_norm_stream.py)."""

import json

import pytest

from spikegate.cli import main
from spikegate.gen.norm import build_norm_stream
from spikegate.golden.norms import norm_vectors
from spikegate.hdl.norm_stream import norm_stream_verilog
from spikegate.sim.norm_stream_check import verify_norm_stream


def test_norm_stream_through_the_cli_on_icarus(tmp_path):
    out = tmp_path / "rms"
    assert main(["generate", "rmsnorm", "--n", "4", "--lanes", "2", "--format", "fp16",
                 "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["form"], report["lanes"], report["beats"]) == ("time-multiplexed", 2, 2)
    assert main(["verify", str(out), "--sim", "icarus", "--vectors", "12"]) == 0


@pytest.mark.regress
@pytest.mark.parametrize("sim,name,fmt,n,lanes,vectors", [
    ("verilator", "layernorm", "bf16", 4, 2, 40),
    ("verilator", "rmsnorm", "fp32", 4, 2, 20),
    ("icarus", "layernorm", "fp16", 6, 3, 12),
])
def test_norm_stream_on_simulator(sim, name, fmt, n, lanes, vectors):
    spec = build_norm_stream(name, fmt, n, lanes)
    top = f"{name}{n}p{lanes}_{fmt}"
    v = norm_vectors(name, fmt, n, vectors, seed=8)
    result = verify_norm_stream(spec, norm_stream_verilog(spec, top=top), top, simulator=sim,
                                vectors=v, seed=2)
    # backpressure and idle cycles stretch the run beyond the unit's own cycles
    layer = name == "layernorm"
    busy = vectors * ((3 if layer else 2) * spec.beats + (2 if layer else 1))
    assert result.cycles > busy
