"""Correctly rounded unary functions (exp, sigmoid, tanh, silu, gelu, gelu-tanh, recip, rsqrt)
of the 8-bit formats: every function x format x a few output formats, all 256 inputs on the
torch engine against the exact golden (golden/functions.py); the special-values table; the
golden's exact cases and Ziv loop; the architectures agree."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from spikegate.gen.netlist import Bounds
from spikegate.golden import functions as G
from spikegate.golden.formats import get_format
from spikegate.golden.functions import FUNCTIONS, function_code, golden_function
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.regress import golden_outputs
from spikegate.sim.torch_engine import TorchEngine
from spikegate.sim.units import build_unit

CODES = np.arange(256, dtype=np.uint64)
#: (input format, output format): same format, and a wider one for each
PAIRS = [("e4m3", None), ("e5m2", None), ("e4m3", "bf16"), ("e5m2", "fp16")]


def check(netlist):
    got = TorchEngine(netlist).run({"a": CODES})["y"]
    assert_bit_exact({"a": CODES}, {"y": got}, golden_outputs(netlist, {"a": CODES}),
                     context=netlist.name, widths={"a": 8, "y": len(netlist.outputs["y"])})


@pytest.mark.parametrize("fmt,out", PAIRS)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_bit_exact(name, fmt, out):
    netlist = build_unit(name, fmt=fmt, to=out)
    assert netlist.meta["unit"] == name
    assert netlist.meta["out_format"] == get_format(out or fmt).name
    assert netlist.depth() == 2
    check(netlist)


@pytest.mark.parametrize("policy", ("ocp", "satfinite"))
@pytest.mark.parametrize("name", ("exp", "recip", "silu"))
def test_function_policies(name, policy):
    check(build_unit(name, fmt="e4m3", policy=policy))
    check(build_unit(name, fmt="e5m2", policy=policy))


@pytest.mark.parametrize("variant", ("minterm", "linbits"))
def test_other_architectures(variant):
    for name in ("exp", "gelu"):
        check(build_unit(name, fmt="e5m2", variant=variant))


def test_bounded_fanin():
    netlist = build_unit("tanh", fmt="e4m3", bounds=Bounds(max_fanin=8))
    assert netlist.stats()["max_fanin"] <= 8
    check(netlist)


def test_verify_restores_the_output_format():
    """verify rebuilds meta from report.json keys; 'to' carries the output format."""
    meta = {"unit": "exp", "format": "e4m3", "to": "bf16", "policy": "torch"}
    y = golden_outputs(type("N", (), {"meta": meta})(), {"a": [0x38]})["y"]
    assert int(y[0]) == 0x402E                         # e = 2.718.. -> bf16 0x402e


# Special values: (function, format, input code, output format, expected code)
SPECIALS = [
    ("exp", "e5m2", 0xFC, None, 0x00),       # exp(-inf) = +0
    ("exp", "e5m2", 0x7C, None, 0x7C),       # exp(+inf) = +inf
    ("exp", "e4m3", 0x00, None, 0x38),       # exp(0) = 1 exactly
    ("exp", "e4m3", 0x80, None, 0x38),       # exp(-0) = 1
    ("exp", "e4m3", 0x7E, None, 0x7E),       # exp(448): overflow -> 448 (torch: saturate)
    ("exp", "e4m3", 0x7E, "fp16", 0x7C00),   # overflow -> fp16 inf
    ("exp", "e5m2", 0xFB, None, 0x00),       # exp(-57344) -> +0
    ("sigmoid", "e5m2", 0xFC, None, 0x00),   # sigmoid(-inf) = +0
    ("sigmoid", "e5m2", 0x7C, None, 0x3C),   # sigmoid(+inf) = 1
    ("sigmoid", "e4m3", 0x80, None, 0x30),   # sigmoid(-0) = 1/2
    ("tanh", "e4m3", 0x80, None, 0x80),      # tanh(-0) = -0
    ("tanh", "e5m2", 0xFC, None, 0xBC),      # tanh(-inf) = -1
    ("silu", "e5m2", 0xFC, None, 0x80),      # silu(-inf) = -0
    ("silu", "e5m2", 0x7C, None, 0x7C),      # silu(+inf) = +inf
    ("silu", "e4m3", 0x80, None, 0x80),      # silu(-0) = -0
    ("silu", "e4m3", 0xF0, None, 0x80),      # silu(-128): rounds to -0
    ("gelu", "e4m3", 0x80, None, 0x80),      # gelu(-0) = -0
    ("gelu", "e4m3", 0xFE, "bf16", 0x8000),  # gelu(-448): -0
    ("gelu-tanh", "e5m2", 0xFC, None, 0x80),  # gelu_tanh(-inf) = -0
    ("recip", "e4m3", 0x00, None, 0x7E),     # recip(+0) = +inf -> saturate in e4m3 torch
    ("recip", "e5m2", 0x80, None, 0xFC),     # recip(-0) = -inf
    ("recip", "e5m2", 0xFC, None, 0x80),     # recip(-inf) = -0
    ("recip", "e4m3", 0x40, None, 0x30),     # recip(2) = 0.5 exactly
    ("rsqrt", "e5m2", 0x80, None, 0xFC),     # rsqrt(-0) = -inf
    ("rsqrt", "e5m2", 0x00, "bf16", 0x7F80),  # rsqrt(+0) = +inf
    ("rsqrt", "e5m2", 0x7C, None, 0x00),     # rsqrt(+inf) = +0
    ("rsqrt", "e4m3", 0xB8, None, 0x7F),     # rsqrt(-1) = NaN
    ("rsqrt", "e4m3", 0x48, None, 0x30),     # rsqrt(4) = 0.5 exactly
    ("exp", "e4m3", 0x7F, "bf16", 0x7FC0),   # NaN in: canonical NaN of the output
    ("gelu", "e5m2", 0xFE, "fp16", 0x7E00),  # NaN in: canonical NaN
]


@pytest.mark.parametrize("name,fmt,code,out,expected", SPECIALS)
def test_special_values_table(name, fmt, code, out, expected):
    assert function_code(name, fmt, code, out) == expected
    netlist = build_unit(name, fmt=fmt, to=out)
    got = int(TorchEngine(netlist).run({"a": [code]})["y"][0])
    assert got == expected, f"{name}({code:#04x}) -> got {got:#x} expected {expected:#x}"


def test_special_table_ocp_e4m3():
    assert function_code("recip", "e4m3", 0x00, policy="ocp") == 0x7F   # inf -> NaN
    assert function_code("exp", "e4m3", 0x50, policy="ocp") == 0x7F     # exp(16) overflow


# -- the golden itself ---------------------------------------------------------------------

def test_exact_results():
    assert function_code("exp", "e4m3", 0x00, "fp32") == 0x3F800000
    assert function_code("recip", "e4m3", 0x40, "fp32") == 0x3F000000   # recip(2) = 0.5
    assert function_code("recip", "e5m2", 0x3E, "fp32") == _fp32(Fraction(2, 3))
    assert function_code("rsqrt", "e4m3", 0x28, "fp32") == 0x40000000   # rsqrt(1/4) = 2
    assert function_code("rsqrt", "e5m2", 0x40, "fp32") == _fp32(1 / mpmath.sqrt(2))


def _fp32(value):
    import struct
    return struct.unpack("<I", struct.pack("<f", float(value)))[0]   # exact enough here


def test_against_a_plain_high_precision_evaluation():
    """Every function on every e4m3 code to bf16: the golden equals mpmath at 400 bits of
    the textbook formula, rounded by an independent nearest search."""
    f = get_format("e4m3")
    with mpmath.mp.workprec(400):
        ref = {"exp": mpmath.exp, "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
               "tanh": mpmath.tanh, "silu": lambda x: x / (1 + mpmath.exp(-x)),
               "gelu": lambda x: x / 2 * (1 + mpmath.erf(x / mpmath.sqrt(2))),
               "gelu-tanh": lambda x: x / 2 * (1 + mpmath.tanh(
                   mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf(44715) / 10 ** 6 * x ** 3))),
               "recip": lambda x: 1 / x, "rsqrt": lambda x: 1 / mpmath.sqrt(x)}
        for name, fn in ref.items():
            for code in range(0x01, 0x7F, 3):                 # positive finite codes
                kind, s, m, e = G.decode(f, code)
                for sign in (0, 1):
                    if sign and name == "rsqrt":
                        continue
                    x = mpmath.mpf((-1) ** sign * m) * mpmath.mpf(2) ** e
                    v = fn(x)
                    if abs(v) > 3e38 or abs(v) < mpmath.mpf(2) ** -125:
                        continue
                    man, ex = mpmath.frexp(v)
                    exact = Fraction(int(man * 2 ** 300)) * Fraction(2) ** (ex - 300)
                    want = _rne_bf16(exact)
                    got = function_code(name, f, code | (sign << 7), "bf16")
                    assert got == want, (name, hex(code | sign << 7), hex(got), hex(want))


def _rne_bf16(value):
    """bf16 rounding of a Fraction via fp32 bits of a 300-bit value (normal range)."""
    sign, v = int(value < 0), abs(value)
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > v:
        e -= 1
    q = v / Fraction(2) ** (e - 7)                   # in [128, 256)
    n, r = divmod(q.numerator, q.denominator)
    twice = 2 * r
    if twice > q.denominator or (twice == q.denominator and n & 1):
        n += 1
    if n == 256:
        n, e = 128, e + 1
    return (sign << 15) | ((e + 127) << 7) | (n - 128)


def test_ziv_near_a_tie():
    """gelu of the smallest e4m3 subnormal (2^-9) to e4m3: x/2 is the tie between 0 and
    2^-9; gelu(x) = x/2 + x^2/sqrt(2 pi) + ... lies just above it (rounds up), and gelu(-x)
    just below -x/2 in magnitude (rounds to -0). Into fp32 the same inputs are exact x/2
    plus a term 2^-11 relative: the rounding bit is decided far below."""
    assert function_code("gelu", "e4m3", 0x01) == 0x01
    assert function_code("gelu", "e4m3", 0x81) == 0x80
    assert function_code("gelu-tanh", "e4m3", 0x01) == 0x01
    assert function_code("gelu-tanh", "e4m3", 0x81) == 0x80
    # tanh(2^-9) = 2^-9 (1 - 2^-18/3 + ...): into fp32, 21.33 ulps below 2^-9 -> 21 below;
    # into e4m3 (and bf16) it is 2^-9 itself
    assert function_code("tanh", "e4m3", 0x01, "fp32") == 0x3B000000 - 21
    assert function_code("tanh", "e4m3", 0x01) == 0x01
    assert function_code("tanh", "e4m3", 0x01, "bf16") == 0x3B00


def test_ziv_escalates_when_the_bound_is_too_wide(monkeypatch):
    """With a starting precision too low to decide, the loop (without the float64 first pass)
    raises the precision and still gets the same codes."""
    want = [function_code("sigmoid", "e5m2", c, "fp32") for c in range(0, 0x7C, 7)]
    monkeypatch.setattr(G, "PREC", 37)
    G.ZivStats.escalations.clear()
    got = [function_code("sigmoid", "e5m2", c, "fp32", fast=False) for c in range(0, 0x7C, 7)]
    assert got == want
    assert G.ZivStats.escalations, "no input needed more than 37 bits into fp32?"


def test_golden_vectorised_and_torch_beside_it():
    for name in FUNCTIONS:
        exact = golden_function(name, "e4m3", CODES)
        assert exact.shape == (256,)
        torch_y = G.torch_function(name, "e4m3", CODES)
        assert torch_y.shape == (256,)
    # the exact value is a tiny negative: -0; torch's float32 GELU cast to e4m3 gives +0 or
    # -0 depending on its SIMD path (+0 on AVX2's vectorised path, -0 with AVX512)
    assert int(G.torch_function("gelu", "e4m3", CODES)[0xF0]) in (0x00, 0x80)
    assert int(golden_function("gelu", "e4m3", [0xF0])[0]) == 0x80
