"""Correctly rounded unary functions of bf16 and fp16 (gen/wide_function.py): every function
x format, all 65,536 inputs on the torch engine against the exact golden; the golden's
float64 first pass against its mpmath path; directed special values; torch beside it."""

import numpy as np
import pytest

from spikegate.golden import functions as G
from spikegate.golden.functions import FUNCTIONS, function_code, function_table
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.torch_engine import TorchEngine
from spikegate.sim.units import build_unit

CODES = np.arange(1 << 16, dtype=np.uint64)


@pytest.mark.parametrize("fmt", ("bf16", "fp16"))
@pytest.mark.parametrize("name", FUNCTIONS)
def test_wide_function_every_input(name, fmt):
    netlist = build_unit(name, fmt=fmt)
    assert netlist.meta["method"] == "table"
    assert netlist.depth() == 2
    got = TorchEngine(netlist).run({"a": CODES})["y"]
    assert_bit_exact({"a": CODES}, {"y": got}, {"y": function_table(name, fmt)},
                     context=netlist.name, widths={"a": 16, "y": 16})


@pytest.mark.parametrize("fmt,out", [("bf16", None), ("fp16", None), ("fp16", "fp32"),
                                     ("bf16", "e4m3"), ("e5m2", "fp32")])
def test_float64_first_pass_agrees_with_mpmath(fmt, out):
    """The fast path decides most codes; where it does, mpmath (fast=False) agrees."""
    rng = np.random.default_rng(5)
    width = 16 if fmt in ("bf16", "fp16") else 8
    codes = rng.choice(1 << width, size=min(300, 1 << width), replace=False)
    for name in FUNCTIONS[:6]:
        for c in codes:
            fast = function_code(name, fmt, int(c), out)
            slow = function_code(name, fmt, int(c), out, fast=False)
            assert fast == slow, (f"{name} {fmt}->{out or fmt} a={int(c):#06x}: float64 pass "
                                  f"gave {fast:#x}, mpmath {slow:#x}")


def test_float64_pass_defers_near_a_boundary(monkeypatch):
    """With a first pass trusted to only 2^-3, nothing is decided by it and the results stay."""
    codes = range(0x3E00, 0x4200, 13)
    want = [function_code("gelu", "bf16", c) for c in codes]
    monkeypatch.setattr(G, "FAST_BITS", 3)
    assert [function_code("gelu", "bf16", c) for c in codes] == want


# (function, format, input code, expected code), each worked out by hand
DIRECTED = [
    ("exp", "fp16", 0xCC50, 0x0001),     # e^-17.25 = 3.2e-8 > 2^-25: rounds up to 2^-24
    ("exp", "fp16", 0xCC60, 0x0000),     # e^-17.5 = 2.5e-8 < 2^-25: +0
    ("exp", "fp16", 0x498C, 0x7C00),     # e^11.09375 = 65,759 >= 65,520: +inf
    ("exp", "bf16", 0x42B2, 0x7F80),     # e^89 > bf16 max 3.39e38: +inf
    ("exp", "bf16", 0xFF80, 0x0000),     # e^-inf = +0
    ("silu", "bf16", 0xFF80, 0x8000),    # silu(-inf) = -0
    ("tanh", "fp16", 0x8000, 0x8000),    # tanh(-0) = -0
    ("tanh", "bf16", 0x4120, 0x3F80),    # tanh(10) = 1 - 4e-9: 1
    ("rsqrt", "bf16", 0x8000, 0xFF80),   # rsqrt(-0) = -inf
    ("rsqrt", "fp16", 0xBC00, 0x7E00),   # rsqrt(-1) = NaN
    ("rsqrt", "fp16", 0x4400, 0x3800),   # rsqrt(4) = 0.5 exactly
    ("recip", "bf16", 0x0001, 0x7F80),   # 1 / 2^-133: +inf
    ("recip", "fp16", 0x7BFF, 0x0100),   # 1/65504 = 256.12 * 2^-24: subnormal 256
    ("sigmoid", "bf16", 0x8000, 0x3F00),  # sigmoid(-0) = 1/2
]


@pytest.mark.parametrize("name,fmt,code,expected", DIRECTED)
def test_directed_values(name, fmt, code, expected):
    got = int(function_table(name, fmt)[code])
    assert got == expected, f"{name} {fmt} a={code:#06x}: got {got:#06x}, expected {expected:#06x}"
