"""Softmax (gen/softmax.py): the netlist bit-exact against the step-by-step golden
(golden/softmax.py) on seeded random and directed vectors (-inf masks, NaN, ties, wide
ranges) for every I/O format; hand-worked values; the accuracy of the algorithm against
the exact math; bad input."""

import numpy as np
import pytest

from spikegate.golden.norms import ulp_errors
from spikegate.golden.softmax import (exact_softmax, order_key, softmax_golden,
                                      softmax_vectors)
from spikegate.sim.regress import check_on_torch_engine
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("fmt,n", [("bf16", 3), ("fp16", 2), ("fp32", 2)])
def test_softmax_bit_exact(fmt, n):
    netlist = build_unit("softmax", fmt=fmt, n=n)
    check_on_torch_engine(netlist, vectors=300, seed=5)


def test_order_key_orders_values():
    codes = [0xFC00, 0xC000, 0x8001, 0x8000, 0x0000, 0x0001, 0x4000, 0x7C00]   # fp16
    keys = order_key("fp16", codes).tolist()
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_hand_worked_values():
    y = softmax_golden("bf16", np.array([[0x0000, 0x0000],       # (0, 0): 1/2 each
                                         [0xFF80, 0x4000],       # (-inf, 2): 0, 1
                                         [0xFF80, 0xFF80],       # all -inf: 0/0 = NaN
                                         [0x7FC0, 0x3F80],       # a NaN: NaN everywhere
                                         [0x469F, 0xC688]],      # d = -37,760: e^g would
                                        dtype=np.uint64))        # overflow, e^h is 0
    assert y.tolist() == [[0x3F00, 0x3F00], [0x0000, 0x3F80], [0x7FC0, 0x7FC0],
                          [0x7FC0, 0x7FC0], [0x3F80, 0x0000]], \
        [[hex(int(c)) for c in r] for r in y]


@pytest.mark.parametrize("fmt", ("bf16", "fp16", "fp32"))
def test_softmax_accuracy(fmt):
    """fp32 in binary64 steps, against x87 extended precision."""
    x = softmax_vectors(fmt, 8, 5000, seed=2)
    exact = exact_softmax(fmt, x)
    err = ulp_errors(fmt, softmax_golden(fmt, x), exact)[np.isfinite(exact)]
    assert err.max() <= 1.0, f"max error {err.max():.3f} ulp"
    assert (err <= 0.5).mean() >= 0.999


@pytest.mark.parametrize("kwargs,message", [
    (dict(fmt="bf16", n=0), "--n must be an integer from 1 to 32"),
    (dict(fmt="e5m2", n=2), "offered for bf16, fp16, fp32"),
    (dict(fmt="bf16"), "needs --n"),
    (dict(fmt="bf16", n=2, eps=1e-5), "--eps is for rmsnorm, layernorm"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_unit("softmax", **kwargs)
