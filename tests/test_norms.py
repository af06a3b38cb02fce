"""RMSNorm and LayerNorm (gen/norm.py): the netlist bit-exact against the step-by-step golden
(golden/norms.py) on seeded random and directed vectors, for every I/O format; hand-worked
values; the accuracy of the algorithm against the exact math for bf16/fp16; bad input."""

import numpy as np
import pytest

from spikegate.golden.norms import (NORMS, exact_norm, norm_golden, norm_vectors, tree_order,
                                    ulp_errors)
from spikegate.sim.regress import check_on_torch_engine
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("fmt,n", [("bf16", 3), ("bf16", 4), ("fp16", 3), ("fp32", 2)])
@pytest.mark.parametrize("name", NORMS)
def test_norm_bit_exact(name, fmt, n):
    netlist = build_unit(name, fmt=fmt, n=n)
    assert netlist.meta["n"] == n
    assert netlist.meta["internal"] == ("e11m52" if fmt == "fp32" else "fp32")
    check_on_torch_engine(netlist, vectors=400, seed=3)


def test_tree_order_pairs_neighbours():
    assert tree_order(5) == [[(0, 1), (2, 3), (4, None)], [(0, 1), (2, None)], [(0, 1)]]
    assert tree_order(1) == []


def test_hand_worked_values():
    one = np.array([[0x3F80] * 4], dtype=np.uint64)             # bf16 1.0
    # rmsnorm(1, 1, 1, 1) = 1 / sqrt(1 + 1e-5) = 0.999995: 1.0 in bf16
    assert norm_golden("rmsnorm", "bf16", one, one).tolist() == [[0x3F80] * 4]
    # layernorm of equal elements: D = 0, y = 0 * r * w + b = b exactly
    b = np.array([[0x3E00, 0xBF00, 0x0000, 0x4040]], dtype=np.uint64)
    assert norm_golden("layernorm", "bf16", 3 * one, one, b).tolist() == b.tolist()
    # rmsnorm of (3, 4) in fp16: rms = sqrt(12.5); 3 / 3.5355 = 0.84853 -> 0x3ACA (0.8486)
    x = np.array([[0x4200, 0x4400]], dtype=np.uint64)
    w = np.array([[0x3C00, 0x3C00]], dtype=np.uint64)
    y = norm_golden("rmsnorm", "fp16", x, w)
    assert int(y[0, 0]) == 0x3ACA, hex(int(y[0, 0]))


@pytest.mark.parametrize("fmt", ("bf16", "fp16", "fp32"))
def test_rmsnorm_accuracy(fmt):
    """At most 1/2 ULP (correctly rounded) on all but a handful of 40,000 outputs (fp32: in
    binary64 steps, against x87 extended precision)."""
    v = norm_vectors("rmsnorm", fmt, 8, 5000, seed=2)
    err = ulp_errors(fmt, norm_golden("rmsnorm", fmt, v["x"], v["w"]),
                     exact_norm("rmsnorm", fmt, v["x"], v["w"]))
    assert err.max() <= 1.0, f"max error {err.max():.3f} ulp"
    assert (err <= 0.5).mean() >= 0.999


@pytest.mark.parametrize("fmt", ("fp16", "fp32"))
def test_layernorm_accuracy(fmt):
    v = norm_vectors("layernorm", fmt, 8, 5000, seed=2)
    err = ulp_errors(fmt, norm_golden("layernorm", fmt, v["x"], v["w"], v["b"]),
                     exact_norm("layernorm", fmt, v["x"], v["w"], v["b"]))
    assert err.max() <= 1.0, f"max error {err.max():.3f} ulp"
    assert (err <= 0.5).mean() >= 0.99


@pytest.mark.parametrize("kwargs,message", [
    (dict(fmt="bf16", n=0), "--n must be an integer from 1 to 64"),
    (dict(fmt="e4m3", n=2), "offered for bf16, fp16, fp32"),
    (dict(fmt="bf16"), "needs --n"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_unit("rmsnorm", **kwargs)
    with pytest.raises(ValueError, match="--n is for rmsnorm, layernorm, softmax"):
        build_unit("fadd", fmt="bf16", n=2)
