"""The stream form of RMSNorm/LayerNorm (gen/norm.py: build_norm_stream): its datapaths on the
torch engine, stepped in the control's order, bit-exact against the golden's stream order
(golden/norms.py, ``lanes=P``); that order is the spatial one at ``P = N``; bad input. The
whole Verilog with idle cycles and backpressure: cocotb_tests/test_norm_stream_cocotb.py."""

import numpy as np
import pytest

from spikegate.gen.norm import build_norm_stream
from spikegate.golden.norms import norm_golden, norm_vectors
from spikegate.sim.norm_stream_check import assert_outputs, engine_outputs


@pytest.mark.parametrize("name,fmt,n,lanes", [("rmsnorm", "bf16", 8, 2),
                                              ("layernorm", "fp16", 6, 3),
                                              ("rmsnorm", "fp32", 4, 2)])
def test_stream_datapaths_bit_exact(name, fmt, n, lanes):
    spec = build_norm_stream(name, fmt, n, lanes)
    assert spec.beats == n // lanes and set(spec.parts) >= {"sumsq", "finish", "scale"}
    v = norm_vectors(name, fmt, n, 300, seed=6)
    assert_outputs(spec, v, engine_outputs(spec, v), f"{name} stream on the torch engine")


def test_one_beat_is_the_spatial_order():
    v = norm_vectors("layernorm", "bf16", 8, 2000, seed=1)
    spatial = norm_golden("layernorm", "bf16", v["x"], v["w"], v["b"])
    assert np.array_equal(norm_golden("layernorm", "bf16", v["x"], v["w"], v["b"], lanes=8),
                          spatial)


@pytest.mark.parametrize("lanes", [3, 0, -2, 2.0, True])
def test_lanes_must_divide_n(lanes):
    with pytest.raises(ValueError, match="--lanes must be a positive integer that divides"):
        build_norm_stream("rmsnorm", "bf16", 8, lanes)
