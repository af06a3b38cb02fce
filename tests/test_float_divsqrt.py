"""What is particular to the neuron-built division and square root (gen/float_divsqrt.py).

tests/test_float_units.py runs fdiv/fsqrt for every format on generic vectors and checks
torch against the exact reference. Here: quotients at the overflow/underflow thresholds,
exact squares, hand-computed corners, infinite results under every policy, the FP8 policies
and adder variants left out there, custom small formats, and (slow) random fp32 and Icarus.
Goldens: the registry's (torch for fdiv; float_ref for fsqrt and where torch has no cast).
"""

import functools
import time

import numpy as np
import pytest

from spikegate.gen.float_divsqrt import DIVSQRT_VARIANTS, build_fdiv, build_fsqrt
from spikegate.golden import float_ref
from spikegate.golden.formats import POLICIES, get_format
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.torch_engine import TorchEngine
from spikegate.sim.units import build_unit

BUILD = {"fdiv": build_fdiv, "fsqrt": build_fsqrt}


@functools.lru_cache(maxsize=None)
def unit(op, fmt, policy="torch", variant="prefix"):
    """``(netlist, engine)``: the registry's unit, or the builder's for another variant."""
    nl = (build_unit(op, fmt=fmt, policy=policy) if variant == "prefix"
          else BUILD[op](fmt, policy=policy, variant=variant))
    return nl, TorchEngine(nl)


def check(op, fmt, cols, expected=None, *, policy="torch", variant="prefix", context="",
          ref=False):
    """The unit on code columns, bit-exact against ``expected`` (default: the registry's
    golden); with ``ref``, ``expected`` itself against float_ref."""
    nl, eng = unit(op, fmt, policy, variant)
    inputs = dict(zip("ab", (np.asarray(c, dtype=np.uint64) for c in cols)))
    if expected is None:
        expected = golden_outputs(nl, inputs)["y"]
    w = get_format(fmt).width
    widths = {**{k: w for k in inputs}, "y": w}
    assert_bit_exact(inputs, {"y": eng.run(inputs)["y"]}, {"y": expected}, widths=widths,
                     context=f"{nl.name} {variant}" + (f": {context}" if context else ""))
    if ref:
        assert_bit_exact(inputs, {"y": expected}, {"y": float_ref.apply(
            op, fmt, *inputs.values(), policy=policy)}, widths=widths,
            context=f"{nl.name} {context}: expected vs float_ref")


def codes(*xs):
    return np.array(xs, dtype=np.uint64)


# -- quotients at the overflow and underflow thresholds ----------------------------------

def threshold_pairs(fmt, count, seed=7):
    """Divisors ``b`` near 1, dividends nearest ``T * b`` (saturated) and their code
    neighbours, for ``T`` at the overflow and underflow thresholds; ``a / b`` and ``b / a``."""
    f = get_format(fmt)
    M, q = f.man_bits, f.quantum_exp
    _, _, mx, ex = float_ref.decode(f, f.max_code)
    targets = [(mx, ex), (mx * ((2 << M) + 1), ex - M - 1), (mx * ((4 << M) - 1), ex - M - 2),
               (mx, ex + 1), (1, q + M), ((2 << M) - 1, q - 1), (1, q), (1, q - 1),
               (3, q - 1), (3, q - 2), (1, 0)]
    rng = np.random.default_rng(seed)
    a, b = [], []
    for s, e, m in zip(*(rng.integers(lo, hi, count) for lo, hi in
                         ((0, 2), (f.bias - 3, f.bias + 4), (0, 1 << M)))):
        bc = (int(s) << (f.width - 1)) | (int(e) << M) | int(m)
        _, sb, mb, eb = float_ref.decode(f, bc)
        for tm, te in targets:
            a0 = float_ref.round_scaled(f, "satfinite", sb, tm * mb, te + eb)
            for d in (-1, 0, 1):
                a.append((a0 & f.sign_bit) | min(max((a0 & f.mag_mask) + d, 0), f.max_code))
                b.append(bc)
    a, b = np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)
    return np.concatenate([a, b]), np.concatenate([b, a])


@pytest.mark.parametrize("fmt, count", [("fp16", 400), ("bf16", 200), ("fp32", 120)])
def test_div_at_overflow_and_underflow_thresholds(fmt, count):
    check("fdiv", fmt, threshold_pairs(fmt, count), context="threshold pairs", ref=True)


# -- square roots: exact squares and their neighbours, walking bits ----------------------

def test_fp32_sqrt_exact_squares_and_walking_bits():
    f, rng = get_format("fp32"), np.random.default_rng(11)
    roots = [(int(m), int(k)) for m, k in zip(    # 12-bit roots: exact squares, no underflow
        rng.integers(1 << 11, 1 << 12, 600), rng.integers(-74, 52, 600))]
    sq = codes(*(float_ref.round_scaled(f, "torch", 0, m * m, 2 * k) for m, k in roots))
    check("fsqrt", "fp32", (sq,), codes(*(float_ref.round_scaled(f, "torch", 0, m, k)
                                          for m, k in roots)), context="exact squares")
    ones = (1 << f.man_bits) - 1
    walk = {1 << i for i in range(f.man_bits)} | {ones ^ (1 << i) for i in range(f.man_bits)}
    exps = {0, 1, 2, f.bias - 1, f.bias, f.bias + 1, f.exp_all - 2, f.exp_all - 1}
    walking = codes(*sorted((e << f.man_bits) | m for e in exps for m in walk))
    check("fsqrt", "fp32", (np.concatenate([sq - 1, sq + 1, walking]),),
          context="squares' neighbours + walking bits")


# -- directed corners, hand-computed (special values: test_float_units.SPECIALS and the
#    policy test below) -------------------------------------------------------------------

DIV_CORNERS = [  # (fmt, a, b, expected under "torch")
    ("fp16", 0x7C00, 0xFC00, 0x7E00),    # inf / -inf = NaN
    ("fp16", 0x8000, 0x3C00, 0x8000),    # -0 / 1 = -0
    ("fp16", 0x7E01, 0x3C00, 0x7E00),    # NaN payloads become the canonical NaN
    ("fp16", 0x0001, 0x4000, 0x0000),    # min subnormal / 2: a tie, to even (0)
    ("fp16", 0x0003, 0x4000, 0x0002),    # 3 * min subnormal / 2: a tie, to even (2)
    ("fp16", 0x0001, 0x3BFF, 0x0001),    # min subnormal / (1 - 2^-11): rounds back
    ("fp16", 0x7BFF, 0x3800, 0x7C00),    # max / 0.5 overflows to inf
    ("fp16", 0x7BFF, 0x3C00, 0x7BFF),    # max / 1
    ("fp16", 0x0400, 0x4000, 0x0200),    # min normal / 2 is subnormal, exact
    ("fp16", 0x03FF, 0x03FF, 0x3C00),    # subnormal / same subnormal = 1
    ("fp16", 0x3C00, 0x4200, 0x3555),    # 1 / 3 = 0x3555 (0.33325)
    ("fp16", 0x3C00, 0x0001, 0x7C00),    # 1 / min subnormal = 2^24: overflow
    ("fp32", 0x3F800000, 0x40400000, 0x3EAAAAAB),    # 1 / 3
    ("fp32", 0x00000001, 0x40000000, 0x00000000),    # min subnormal / 2: tie to even
    ("fp32", 0x7F7FFFFF, 0x00000001, 0x7F800000),    # max / min subnormal: inf
    ("fp32", 0x00800000, 0x7F7FFFFF, 0x00000000),    # min normal / max: 2^-254 -> 0
    ("fp32", 0x00000001, 0x00000001, 0x3F800000),    # 1
    ("e4m3", 0x7E, 0x30, 0x7E),          # 448 / 0.5 = 896: saturates
    ("e5m2", 0x01, 0x40, 0x00),          # min subnormal / 2: tie to even
]

SQRT_CORNERS = [  # (fmt, a, expected under "torch")
    ("fp16", 0x0000, 0x0000), ("fp16", 0x7D00, 0x7E00),   # sqrt(+0) = +0; NaN: canonical
    ("fp16", 0x4400, 0x4000), ("fp16", 0x4000, 0x3DA8),   # sqrt(4) = 2, sqrt(2)
    ("fp16", 0x0001, 0x0C00),                             # sqrt(2^-24) = 2^-12
    ("fp16", 0x0BFF, 0x23FF),                             # torch's float32 sqrt: 0x2400
    ("fp16", 0x23FF, 0x2FFF),                             # torch's float32 sqrt: 0x3000
    ("fp16", 0x7BFF, 0x5BFF),                             # sqrt(max)
    ("fp32", 0x40000000, 0x3FB504F3),                     # sqrt(2)
    ("fp32", 0x00000001, 0x1A3504F3),                     # sqrt(2^-149)
    ("fp32", 0x80000001, 0x7FC00000),                     # sqrt(-min subnormal) = NaN
    ("e4m3", 0x7E, 0x5B), ("e4m3", 0x80, 0x80),           # sqrt(448) ~ 21.2 -> 22; -0
]


@pytest.mark.parametrize("op, fmt", [(op, fmt) for op, table in
                                     (("fdiv", DIV_CORNERS), ("fsqrt", SQRT_CORNERS))
                                     for fmt in dict.fromkeys(r[0] for r in table)])
def test_corners(op, fmt):
    rows = [r[1:] for r in (DIV_CORNERS if op == "fdiv" else SQRT_CORNERS) if r[0] == fmt]
    *cols, y = (codes(*c) for c in zip(*rows))
    check(op, fmt, cols, y, context="hand-computed corners", ref=True)


# -- infinite results under every policy -------------------------------------------------

#: x / 0 for x > 0 (and sqrt(+inf)) per policy (torch, ocp, satfinite), by hand
INFINITE = {"e4m3": (0x7E, 0x7F, 0x7E), "e5m2": (0x7C, 0x7C, 0x7B),
            "fp16": (0x7C00, 0x7C00, 0x7BFF), "bf16": (0x7F80, 0x7F80, 0x7F7F),
            "fp32": (0x7F800000, 0x7F800000, 0x7F7FFFFF), "e3m2": (0x1C, 0x1C, 0x1B)}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", tuple(INFINITE))
def test_division_by_zero_follows_the_policy(fmt, policy):
    f = get_format(fmt)
    big = dict(zip(("torch", "ocp", "satfinite"), INFINITE[fmt]))[policy]
    S, nan, one = f.sign_bit, f.canonical_nan, f.bias << f.man_bits
    nonzero = [one, one | S, 1, f.max_code | S] + ([f.inf_code, f.inf_code | S]
                                                  if f.has_inf else [])
    rows = [(x, z, nan if big == nan else big | ((x ^ z) & S))    # e4m3 ocp: NaN, unsigned
            for x in nonzero for z in (0, S)]
    rows += [(x, z, nan) for x in (0, S, nan) for z in (0, S)]
    *cols, y = (codes(*c) for c in zip(*rows))
    check("fdiv", fmt, cols, y, policy=policy, context="x / 0", ref=True)
    if f.has_inf:
        check("fsqrt", fmt, (codes(f.inf_code, f.inf_code | S),), codes(big, nan),
              policy=policy, context="sqrt(+-inf)", ref=True)


# -- FP8 exhaustively: the policies test_float_units.test_policies leaves out (it has e4m3
#    fdiv), the other adder variants; custom formats --------------------------------------

@pytest.mark.parametrize("op, fmt, policy, variant", [
    *((op, fmt, p, "prefix") for op, fmt in (("fdiv", "e5m2"), ("fsqrt", "e4m3"),
                                             ("fsqrt", "e5m2")) for p in ("ocp", "satfinite")),
    *((op, fmt, "torch", v) for op in ("fdiv", "fsqrt") for fmt in ("e4m3", "e5m2")
      for v in DIVSQRT_VARIANTS if v != "prefix")])
def test_fp8_exhaustive(op, fmt, policy, variant):
    nl, _ = unit(op, fmt, policy, variant)
    check(op, fmt, exhaustive_inputs(nl).values(), policy=policy, variant=variant,
          context="all inputs")


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="adder variant"):
        build_fdiv("fp16", variant="carry-save")


@pytest.mark.parametrize("fmt", ["e2m1", "e3m2", "e2m3", "e6m1", "e3m4"])
@pytest.mark.parametrize("op", ("fdiv", "fsqrt"))
def test_custom_formats_against_float_ref(op, fmt):
    """Formats torch has no dtype for: every input, against the exact reference."""
    cols = list(exhaustive_inputs(unit(op, fmt)[0]).values())
    check(op, fmt, cols, float_ref.apply(op, fmt, *cols), context="all inputs")


@pytest.mark.parametrize("op", ("fdiv", "fsqrt"))
def test_fp32_size_and_meta(op):
    t0 = time.perf_counter()
    nl = BUILD[op]("fp32")
    assert time.perf_counter() - t0 < 10 and nl.stats()["neurons"] < 15_000
    assert nl.meta == {"unit": op, "format": "fp32", "policy": "torch"}
    assert {k: len(v) for k, v in {**nl.inputs, **nl.outputs}.items()} == \
        {"a": 32, "y": 32, **({"b": 32} if op == "fdiv" else {})}


# -- slow: many random fp32 operands, the Verilog on Icarus ------------------------------

@pytest.mark.slow
def test_fp32_div_many_random():
    a, b = np.random.default_rng(99).integers(0, 1 << 32, (2, 400_000), dtype=np.uint64)
    # half of them with nearby exponents, so that most quotients are normal
    b[::2] = (a[::2] & 0xFF800000) ^ (b[::2] & 0x817FFFFF)
    check("fdiv", "fp32", (a, b), context="random")


@pytest.mark.slow
def test_fp32_sqrt_many_random():
    a = np.random.default_rng(98).integers(0, 1 << 32, 400_000, dtype=np.uint64)
    check("fsqrt", "fp32", (a,), context="random")


@pytest.mark.slow
def test_rtl_on_icarus(tmp_path):
    """The generated Verilog, not only the netlist: FP8 division and fp16 square root."""
    from spikegate.hdl.design import Design
    from spikegate.sim.run import verify
    rng = np.random.default_rng(3)
    for op, fmt, shape in (("fdiv", "e4m3", (2, 3000)), ("fsqrt", "fp16", (1, 1500))):
        nl = unit(op, fmt)[0]
        inputs = dict(zip("ab", rng.integers(0, 1 << get_format(fmt).width, shape,
                                             dtype=np.uint64)))
        verify(Design(nl), inputs, golden_outputs(nl, inputs), engine="icarus",
               build_root=tmp_path)
