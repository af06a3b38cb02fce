"""The stream form of RMSNorm, LayerNorm and softmax (gen/vector_stream.py): the datapaths on
the torch engine, stepped through the program as the control steps them, bit-exact against
the golden in the stream's summation order (``lanes=P``); that order is the spatial one at
``P = N``; bad input. The whole Verilog with idle cycles and backpressure:
cocotb_tests/test_vector_stream_cocotb.py."""

import numpy as np
import pytest

from spikegate.gen.vector_stream import Step, StreamParts
from spikegate.golden.norms import norm_golden, norm_vectors
from spikegate.golden.softmax import softmax_golden, softmax_vectors
from spikegate.sim.vector_stream_check import (assert_outputs, engine_outputs, stream_parts,
                                               stream_vectors)


@pytest.mark.parametrize("name,fmt,n,lanes", [("rmsnorm", "bf16", 8, 2),
                                              ("layernorm", "fp16", 6, 3),
                                              ("rmsnorm", "fp32", 4, 2),
                                              ("softmax", "bf16", 6, 2)])
def test_stream_datapaths_bit_exact(name, fmt, n, lanes):
    spec = stream_parts(name, fmt, n, lanes)
    assert spec.beats == n // lanes and spec.program[-1].kind == "emit"
    v = stream_vectors(spec, 300, seed=6)
    assert_outputs(spec, v, engine_outputs(spec, v), f"{name} stream on the torch engine")


def test_one_beat_is_the_spatial_order():
    v = norm_vectors("layernorm", "bf16", 8, 2000, seed=1)
    assert np.array_equal(norm_golden("layernorm", "bf16", v["x"], v["w"], v["b"], lanes=8),
                          norm_golden("layernorm", "bf16", v["x"], v["w"], v["b"]))
    x = softmax_vectors("fp16", 8, 2000, seed=1)
    assert np.array_equal(softmax_golden("fp16", x, lanes=8), softmax_golden("fp16", x))


@pytest.mark.parametrize("lanes", [3, 0, -2, 2.0, True])
def test_lanes_must_divide_n(lanes):
    with pytest.raises(ValueError, match="--lanes must be a positive integer that divides"):
        stream_parts("rmsnorm", "bf16", 8, lanes)


def test_program_is_checked():
    spec = stream_parts("rmsnorm", "bf16", 4, 2)
    with pytest.raises(ValueError, match="ends with its one emit step"):
        StreamParts("rmsnorm", "bf16", 4, 2, ("x", "w"), spec.registers,
                    spec.program[:-1], spec.parts)
    with pytest.raises(ValueError, match="unknown register"):
        StreamParts("rmsnorm", "bf16", 4, 2, ("x", "w"), spec.registers,
                    (spec.program[0], Step("step", "finish", out="nope"), spec.program[-1]),
                    spec.parts)


def test_datapath_mode_is_checked():
    from spikegate.hdl.vector_stream import VectorStream
    spec = stream_parts("rmsnorm", "bf16", 4, 2)
    with pytest.raises(ValueError, match="unknown datapaths 'verilog': choose one of instance, "
                                         "netlist"):
        VectorStream(spec, datapaths="verilog")


@pytest.mark.parametrize("args,message", [
    (["fadd", "--format", "fp16", "--lanes", "2"], "--lanes makes a time-multiplexed form"),
    (["rmsnorm", "--format", "bf16", "--n", "6", "--lanes", "4"],
     "--lanes must be a positive integer that divides"),
    (["rmsnorm", "--format", "bf16", "--lanes", "2"], "needs --n N"),
    (["softmax", "--format", "bf16", "--n", "4", "--lanes", "2", "--eps", "1e-5"],
     "--eps is for rmsnorm"),
    (["layernorm", "--format", "bf16", "--n", "4", "--lanes", "2", "--stages", "1"],
     "--stages is for spatial"),
])
def test_bad_stream_arguments_are_one_line(tmp_path, capsys, args, message):
    from spikegate.cli import main
    out = tmp_path / "d"
    assert main(["generate", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()
