"""FP32 exp, sigmoid, SiLU, tanh, GELU and rsqrt from neurons: faithful (rsqrt: correctly
rounded) against the exact value on 10^6 seeded random and directed inputs each (specials,
range thresholds, the inputs nearest a rounding boundary); rsqrt's hard cases at every
exponent, and (``make regress``) every significand; the fast bracket of the sweeps against the exact golden, and a sweep that must
catch a broken unit. Every input: ``spikegate verify DIR --exhaustive``
(reports/*32_sweep.json)."""

import numpy as np
import pytest
import torch

from spikegate.gen.builder import NetlistBuilder
from spikegate.gen.float32_function import (FLOAT32_FUNCTIONS, build_exp32,
                                            build_float32_function)
from spikegate.golden.functions import faithful_alternative, function_vectors, golden_function
from spikegate.sim.fast_engine import FastEngine
from spikegate.sim.function_sweep import device_bracket, faithful_outputs, function_sweep
from spikegate.sim.check import MismatchError


@pytest.fixture(scope="module")
def exp32():
    netlist = build_exp32()
    return netlist, FastEngine(netlist, device="cpu", c_opt="-O0")


@pytest.fixture(scope="module")
def rsqrt32():
    netlist = build_float32_function("rsqrt")
    return netlist, FastEngine(netlist, device="cpu", c_ops=1 << 30, c_opt="-O0")


#: the rsqrt tests share one compiled engine (a module fixture: one worker)
_RSQRT_GROUP = pytest.mark.xdist_group("rsqrt32")


def _bracket(codes, name="exp"):
    cr, alt, hard = (t.numpy().astype(np.uint64) for t in
                     device_bracket(name, torch.from_numpy(codes.astype(np.int64))))
    hard = hard.astype(bool)
    if hard.any():                          # the exact golden decides the hard ones
        cr[hard] = golden_function(name, "fp32", codes[hard])
        alt[hard] = faithful_alternative(name, "fp32", codes[hard], cr[hard])
    return cr, alt, hard


def _first(mask, codes, got, cr, alt, k=5):
    return "; ".join(f"a={int(codes[i]):#010x}: got {int(got[i]):#010x}, correctly rounded "
                     f"{int(cr[i]):#010x}, faithful {int(alt[i]):#010x}"
                     for i in np.flatnonzero(mask)[:k])


#: the parts of :func:`function_vectors`, in its order, as about these fractions of the count
_PARTS = (("directed (specials, thresholds, nearest a rounding boundary)", 1 / 8),
          ("uniform over the range", 1 / 2), ("uniform bit patterns", 3 / 8))


def _breakdown(mask, n):
    """How many of ``mask`` fall in each part of the vector set (for a failure message)."""
    cuts = np.cumsum([0] + [round(f * n) for _, f in _PARTS])
    return ", ".join(f"{int(mask[a:b].sum())} in [{a}, {b}) {label}"
                     for (label, _), a, b in zip(_PARTS, cuts[:-1], cuts[1:]))


def _machine(eng, netlist, codes, got):
    """Where the figures came from (they have differed between machines), and whether the
    reference engine agrees with the fast one on ``codes`` (a failure's first inputs)."""
    import platform

    from spikegate.sim.torch_engine import TorchEngine
    lanes = getattr(eng.kernel, "lanes", None)
    ref = TorchEngine(netlist).run({"a": codes})["y"]
    return (f"{platform.machine()}, torch CPU {torch.backends.cpu.get_cpu_capability()}, "
            f"numpy {np.__version__}, engine {eng.backend} with {lanes} lanes "
            f"({int((ref != got).sum())} of the first {len(codes)} differ on TorchEngine)")


@pytest.mark.parametrize("name", [pytest.param(n, marks=_RSQRT_GROUP) if n == "rsqrt" else n
                                  for n in FLOAT32_FUNCTIONS])
def test_fp32_function_faithful_on_a_million_inputs(name, request):
    if name in ("exp", "rsqrt"):
        netlist, eng = request.getfixturevalue(f"{name}32")
    else:                            # past the default C size: one quick compile, 10^6 inputs
        netlist = build_float32_function(name)
        eng = FastEngine(netlist, device="cpu", c_ops=1 << 30, c_opt="-O0")
    codes = function_vectors(name, "fp32", 1_000_000, seed=0)
    got = eng.run({"a": codes})["y"]
    cr, alt, hard = _bracket(codes, name)
    # the float64 bracket is the sweeps' fast path: the exact golden decides every output
    # it does not call correctly rounded (a few hundred), so the figures below are exact
    off = got != cr
    fast_cr = cr.copy()
    cr[off] = golden_function(name, "fp32", codes[off])
    alt[off] = faithful_alternative(name, "fp32", codes[off], cr[off])
    wrong = (got != cr) & (got != alt)
    assert not wrong.any(), f"{wrong.sum()} unfaithful: " + _first(wrong, codes, got, cr, alt)
    not_cr = got != cr
    if netlist.meta["rounding"] == "correct":
        assert not not_cr.any(), (f"{not_cr.sum()} not correctly rounded: "
                                  + _first(not_cr, codes, got, cr, alt))
    # an eighth of the vectors are the inputs nearest a rounding boundary
    first = np.flatnonzero(not_cr)[:200]
    assert not_cr.mean() < 0.01, (
        f"only {100 - 100 * not_cr.mean():.3f}% correctly rounded; not correctly rounded: "
        f"{_breakdown(not_cr, len(codes))}; the float64 bracket misjudged "
        f"{int((fast_cr != cr).sum())}; {_machine(eng, netlist, codes[first], got[first])}; "
        f"first: " + _first(not_cr, codes, got, cr, alt))
    assert hard.sum() > 100                  # the directed set reaches the hard cases


@_RSQRT_GROUP
def test_rsqrt32_hard_cases_correctly_rounded_at_every_exponent(rsqrt32):
    """The 50 hard cases of ``RSQRT32_HARD`` at every exponent with the same significand
    (``a 4^k``, subnormal ones too): the exception neurons read the normalised significand,
    so each must fire at every one of them."""
    from spikegate.gen.float32_rsqrt import RSQRT32_HARD
    netlist, eng = rsqrt32
    assert netlist.meta["rounding"] == "correct"
    codes = []
    for c in RSQRT32_HARD:
        x = float(np.array(c, dtype=np.uint32).view(np.float32))
        for k in range(-75, 64):
            y = np.float32(x * 4.0 ** k)
            if y != 0 and np.isfinite(y) and float(y) == x * 4.0 ** k:
                codes.append(int(np.array(y).view(np.uint32)))
    codes = np.array(sorted(set(codes)), dtype=np.uint64)
    assert len(codes) > 50 * 120 and (codes < 0x00800000).any()   # subnormals among them
    got = eng.run({"a": codes})["y"]
    cr = golden_function("rsqrt", "fp32", codes)
    bad = got != cr
    assert not bad.any(), f"{bad.sum()} not correctly rounded: " + _first(bad, codes, got, cr, cr)


@pytest.mark.regress       # 2^24 + 2^23 inputs and two -O2 kernels: minutes on 2 cores
@pytest.mark.parametrize("lo,hi", [(0x3F800000, 0x40800000), (0, 1 << 23)],
                         ids=["every-significand", "subnormals"])
def test_rsqrt32_correctly_rounded_on_every_significand(lo, hi):
    """FP32 rsqrt's significand depends on the input's fraction and exponent parity alone:
    ``[1, 4)`` holds every such case once, so these 2^24 inputs prove every normal input
    (the subnormal ones are normalised first: all 2^23 of them here); the sweep counts a
    faithful output as wrong for a correctly rounded unit."""
    from spikegate.gen.float32_rsqrt import RSQRT32_HARD, build_rsqrt32
    netlist = build_rsqrt32()
    assert netlist.meta["rounding"] == "correct"
    res = function_sweep(netlist, start=lo, stop=hi, device="cpu", exceptions=True)
    assert res.ok and res.correct == hi - lo, res.describe()
    assert not res.exceptions, [f"{c:#010x}" for c in res.exceptions[:8]]
    if lo == 0x3F800000:            # the exception list is needed: without it, just those
        bare = function_sweep(build_rsqrt32(hard=()), start=lo, stop=hi, device="cpu",
                              exceptions=True)
        assert bare.ok and sorted(bare.exceptions) == sorted(RSQRT32_HARD), bare.describe()


@pytest.mark.parametrize("name", list(FLOAT32_FUNCTIONS))
def test_fast_bracket_agrees_with_the_exact_golden(name):
    rng = np.random.default_rng(5)
    tiny = np.concatenate([rng.integers(0, 1 << 23, 2000),             # subnormals
                           rng.integers(0x2C000000, 0x31000000, 2000)])  # |x| < 2^-30
    tiny = np.concatenate([tiny, tiny | (1 << 31)]).astype(np.uint64)
    codes = np.concatenate([function_vectors(name, "fp32", 20_000, seed=3), tiny])
    cr, alt, hard = (t.numpy().astype(np.uint64) for t in
                     device_bracket(name, torch.from_numpy(codes.astype(np.int64))))
    hard = hard.astype(bool)
    exact = golden_function(name, "fp32", codes)
    exact_alt = faithful_alternative(name, "fp32", codes, exact)
    for name, fast, ref in (("cr", cr, exact), ("alt", alt, exact_alt)):
        bad = (fast != ref) & ~hard
        assert not bad.any(), f"{name}: " + _first(bad, codes, fast, ref, exact_alt)


SPECIALS = {0x00000000: 0x3F800000, 0x80000000: 0x3F800000, 0x7F800000: 0x7F800000,
            0xFF800000: 0x00000000, 0x7FC00000: 0x7FC00000, 0xFFC00001: 0x7FC00000,
            0x7F800001: 0x7FC00000, 0x00000001: 0x3F800000, 0x42B17218: 0x7F800000,
            0x43000000: 0x7F800000, 0xC3000000: 0x00000000, 0xC2CFF1B5: 0x00000000,
            0x3F800000: 0x402DF854}


def test_exp32_special_values(exp32):
    _, eng = exp32
    codes = np.array(list(SPECIALS), dtype=np.uint64)
    got = eng.run({"a": codes})["y"]
    want = np.array(list(SPECIALS.values()), dtype=np.uint64)
    assert (golden_function("exp", "fp32", codes) == want).all()
    bad = got != want
    assert not bad.any(), _first(bad, codes, got, want, want)


def test_sweep_and_verify_catch_a_broken_unit(exp32):
    netlist, _ = exp32
    b = NetlistBuilder("exp_broken")
    y = b.embed(netlist, {"a": b.input("a", 32)}, block="exp")["y"]
    flip = b.neuron([(y[0], -1)], threshold=0, name="flip")       # LSB inverted
    b.output("y", (flip,) + tuple(y[1:]))
    b.meta.update(netlist.meta)
    broken = b.build()
    quick = FastEngine(broken, device="cpu", c_ops=1 << 30, c_opt="-O0")    # 4,096 inputs
    res = function_sweep(broken, start=0x3F800000, stop=0x3F801000, engine=quick)
    assert res.wrong > 0 and not res.ok
    assert "a=0x3f8" in res.describe()
    with pytest.raises(MismatchError, match="not faithful"):
        faithful_outputs(broken, {"a": np.arange(0x3F800000, 0x3F800100, dtype=np.uint64)})


SPECIALS_SIGMOID = {0x00000000: 0x3F000000, 0x80000000: 0x3F000000, 0x7F800000: 0x3F800000,
                    0xFF800000: 0x00000000, 0x7FC00000: 0x7FC00000, 0x43000000: 0x3F800000,
                    0xC3000000: 0x00000000, 0x3F800000: 0x3F3B26A8, 0xBF800000: 0x3E89B2B1}
SPECIALS_SILU = {0x00000000: 0x00000000, 0x80000000: 0x80000000, 0x7F800000: 0x7F800000,
                 0xFF800000: 0x80000000, 0x7FC00000: 0x7FC00000, 0x7F7FFFFF: 0x7F7FFFFF,
                 0xFF7FFFFF: 0x80000000, 0xC3000000: 0x80000000, 0x00000001: 0x00000001,
                 0x3F800000: 0x3F3B26A8, 0xBF800000: 0xBE89B2B1}
SPECIALS_TANH = {0x00000000: 0x00000000, 0x80000000: 0x80000000, 0x7F800000: 0x3F800000,
                 0xFF800000: 0xBF800000, 0x7FC00000: 0x7FC00000, 0x41200000: 0x3F800000,
                 0xC1200000: 0xBF800000, 0x3F800000: 0x3F42F7D6, 0xBF800000: 0xBF42F7D6,
                 0x00000001: 0x00000001, 0x397FFFFF: 0x397FFFFF, 0x3A000000: 0x39FFFFFF}
SPECIALS_GELU = {0x00000000: 0x00000000, 0x80000000: 0x80000000, 0x7F800000: 0x7F800000,
                 0xFF800000: 0x80000000, 0x7FC00000: 0x7FC00000, 0x41200000: 0x41200000,
                 0xC1200000: 0x9AB83C9B, 0x3F800000: 0x3F57625F, 0xBF800000: 0xBE227686,
                 0x00000001: 0x00000001, 0xC1800000: 0x80000000,
                 0x7F7FFFFF: 0x7F7FFFFF, 0xFF7FFFFF: 0x80000000}
# exact results (powers of four), the largest and smallest inputs, -0 -> -inf, x < 0 -> NaN
SPECIALS_RSQRT = {0x00000000: 0x7F800000, 0x80000000: 0xFF800000, 0x7F800000: 0x00000000,
                  0xFF800000: 0x7FC00000, 0x7FC00000: 0x7FC00000, 0xFFC00001: 0x7FC00000,
                  0xBF800000: 0x7FC00000, 0x80000001: 0x7FC00000, 0x3F800000: 0x3F800000,
                  0x40800000: 0x3F000000, 0x3E800000: 0x40000000, 0x00000001: 0x64B504F3,
                  0x00800000: 0x5F000000, 0x7F7FFFFF: 0x1F800000, 0x40000000: 0x3F3504F3}


@pytest.mark.parametrize("name,table", [("sigmoid", SPECIALS_SIGMOID),
                                        ("silu", SPECIALS_SILU), ("tanh", SPECIALS_TANH),
                                        ("gelu", SPECIALS_GELU), ("rsqrt", SPECIALS_RSQRT)])
def test_special_values(name, table):
    from spikegate.sim.torch_engine import TorchEngine
    codes = np.array(list(table), dtype=np.uint64)
    want = np.array(list(table.values()), dtype=np.uint64)
    assert (golden_function(name, "fp32", codes) == want).all()
    got = TorchEngine(build_float32_function(name)).run({"a": codes})["y"]
    bad = got != want
    assert not bad.any(), _first(bad, codes, got, want, want)


def test_unoffered_fp32_function_is_one_line():
    with pytest.raises(ValueError, match="not offered for fp32 yet"):
        build_float32_function("gelu-tanh")


def test_exp32_deterministic():
    from spikegate.hdl.verilog import netlist_to_verilog
    assert netlist_to_verilog(build_exp32(), top="e") == netlist_to_verilog(build_exp32(), top="e")


@pytest.mark.parametrize("name,fmt", [("recip", "e4m3"), ("rsqrt", "e5m2"), ("exp", "e5m2"),
                                      ("silu", "e4m3"), ("sigmoid", "e5m2")])
def test_faithful_alternative_brackets_the_exact_value(name, fmt):
    """Every 8-bit input: the exact value lies between the correctly rounded code and the
    alternative (equal to it when exact), checked with mpmath at 200 bits."""
    import mpmath

    from spikegate.golden.float_ref import decode
    from spikegate.golden.formats import get_format
    f = get_format(fmt)
    codes = np.arange(256, dtype=np.uint64)
    cr = golden_function(name, fmt, codes)
    alt = faithful_alternative(name, fmt, codes, cr)
    fn = {"recip": lambda x: 1 / x, "rsqrt": lambda x: 1 / mpmath.sqrt(x), "exp": mpmath.exp,
          "silu": lambda x: x / (1 + mpmath.exp(-x)),
          "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x))}[name]

    def val(code):
        kind, s, m, e = decode(f, int(code))
        return None if kind != "finite" else mpmath.ldexp(-m if s else m, e)
    with mpmath.workprec(200):
        for c, r, a in zip(codes, cr, alt):
            x, vr, va = val(c), val(r), val(a)
            if vr is None and f.is_inf(int(r)) and x:       # a finite non-zero x overflowed
                assert a == r - 1, f"{name} {fmt} a={int(c):#x}: alt {int(a):#x}"
                continue
            if x is None or x == 0 or (name == "rsqrt" and x < 0) or vr is None:
                assert a == r, f"{name} {fmt} a={int(c):#x}: alt {int(a):#x} != {int(r):#x}"
                continue
            y = fn(x)
            if va is None or abs(y) > val(f.max_code):   # overflow: the policy decides
                continue
            lo, hi = min(vr, va), max(vr, va)
            assert lo <= y <= hi and (a != r or y == vr), (
                f"{name} {fmt} a={int(c):#x}: f = {mpmath.nstr(y, 12)} outside "
                f"[{int(r):#x}, {int(a):#x}]")
