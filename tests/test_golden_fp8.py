"""Tests of the FP8 golden models: exact reference (golden/fp8.py) against torch.

Everything with 16 input bits or fewer is tested exhaustively (all 65,536
operand pairs, all float16 patterns); float32 conversion uses a few hundred
thousand random and targeted patterns.
"""

from fractions import Fraction

import numpy as np
import pytest
import torch

from spikegate.golden import fp8, torch_ref
from spikegate.golden.fp8 import E4M3, E5M2, POLICIES

FMTS = ["e4m3", "e5m2"]

A_ALL, B_ALL = (x.ravel() for x in np.meshgrid(np.arange(256, dtype=np.uint8),
                                                 np.arange(256, dtype=np.uint8),
                                                 indexing="ij"))


def assert_codes_equal(fmt, got, want, what, **inputs):
    """Compare FP8 codes: bit patterns for non-NaN, NaN-ness for NaN.

    On failure name the first mismatching inputs, got and expected, in hex.
    """
    got = np.asarray(got).ravel()
    want = np.asarray(want).ravel()
    got_nan = fp8.is_nan(fmt, got)
    want_nan = fp8.is_nan(fmt, want)
    bad = (got_nan != want_nan) | (~want_nan & (got != want))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        desc = " ".join(f"{k}=0x{int(np.asarray(v).ravel()[i]):02x}" for k, v in inputs.items())
        name = fp8.get_format(fmt).name
        pytest.fail(f"{what} ({name}): {int(bad.sum())} mismatches, first {desc}: "
                    f"got 0x{int(got[i]):02x} expected 0x{int(want[i]):02x}")


def f32_bits(x):
    return np.asarray(x, dtype=np.float32).view(np.uint32)


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------

def test_format_properties():
    assert (E4M3.max_code, E5M2.max_code) == (0x7E, 0x7B)
    assert (E4M3.max_value, E5M2.max_value) == (Fraction(448), Fraction(57344))
    assert E4M3.canonical_nan == E5M2.canonical_nan == 0x7F
    assert (E4M3.inf_code, E5M2.inf_code) == (None, 0x7C)
    assert (E4M3.torch_dtype_name, E5M2.torch_dtype_name) == ("float8_e4m3fn", "float8_e5m2")
    assert (E4M3.min_subnormal, E5M2.min_subnormal) == (Fraction(1, 2**9), Fraction(1, 2**16))
    assert fp8.FORMATS == {"e4m3": E4M3, "e5m2": E5M2}
    assert fp8.get_format("E5M2") is E5M2
    assert fp8.get_format("float8_e4m3fn") is E4M3
    assert fp8.get_format(E4M3) is E4M3
    codes = np.arange(256)
    assert np.flatnonzero(fp8.is_nan("e4m3", codes)).tolist() == [0x7F, 0xFF]
    assert not fp8.is_inf("e4m3", codes).any()
    assert np.flatnonzero(fp8.is_nan("e5m2", codes)).tolist() == [0x7D, 0x7E, 0x7F,
                                                                  0xFD, 0xFE, 0xFF]
    assert np.flatnonzero(fp8.is_inf("e5m2", codes)).tolist() == [0x7C, 0xFC]


@pytest.mark.parametrize("fmt", FMTS)
def test_decode_matches_torch(fmt):
    codes = np.arange(256, dtype=np.uint8)
    ref = torch.from_numpy(codes).view(torch_ref.torch_dtype(fmt)).double().numpy()
    for c in range(256):
        v = fp8.decode(fmt, c)
        if np.isnan(ref[c]):
            assert isinstance(v, float) and v != v
        else:
            assert v == ref[c], f"code 0x{c:02x}: got {v} expected {ref[c]}"
    assert fp8.decode("e4m3", 0x7E) == 448 and fp8.decode("e4m3", 0x01) == Fraction(1, 512)
    assert fp8.decode("e5m2", 0xFC) == float("-inf")


# ---------------------------------------------------------------------------
# Exhaustive: exact reference vs torch, tables vs scalar reference
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("op", ["mul", "add"])
def test_tables_match_torch_exhaustive(fmt, op):
    table = {"mul": fp8.mul_table, "add": fp8.add_table}[op](fmt, "torch")
    assert table.shape == (256, 256) and table.dtype == np.uint8
    got = table[A_ALL, B_ALL]
    want = {"mul": torch_ref.torch_mul, "add": torch_ref.torch_add}[op](fmt, A_ALL, B_ALL)
    assert_codes_equal(fmt, got, want, f"{op}_table vs torch", a=A_ALL, b=B_ALL)


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("op", ["mul", "add"])
def test_scalar_reference_matches_tables_exhaustive(fmt, op):
    ref = {"mul": fp8.mul_ref, "add": fp8.add_ref}[op]
    table = {"mul": fp8.mul_table, "add": fp8.add_table}[op](fmt, "torch")
    got = np.array([ref(fmt, a, b) for a in range(256) for b in range(256)], dtype=np.uint8)
    # Bit-exact, NaN included: both produce the canonical NaN.
    assert_codes_equal(fmt, got, table.ravel(), f"{op}_ref vs {op}_table", a=A_ALL, b=B_ALL)
    assert np.array_equal(got, table.ravel())


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("op", ["mul", "add"])
@pytest.mark.parametrize("policy", ["ocp", "satfinite"])
def test_policies_differ_only_on_overflow(fmt, op, policy):
    tables = {"mul": fp8.mul_table, "add": fp8.add_table}[op]
    ref = {"mul": fp8.mul_ref, "add": fp8.add_ref}[op]
    base = tables(fmt, "torch")
    table = tables(fmt, policy)
    f = fp8.get_format(fmt)
    # Where torch gives +-max, +-inf or NaN the policy may matter; elsewhere not.
    mag = base & 0x7F
    maybe = (mag == f.max_code) | fp8.is_inf(f, base) | fp8.is_nan(f, base)
    assert np.array_equal(table[~maybe], base[~maybe])
    ia, ib = np.nonzero(maybe)
    rng = np.random.default_rng(1)
    ra, rb = rng.integers(0, 256, 2000), rng.integers(0, 256, 2000)
    a = np.concatenate([ia, ra])
    b = np.concatenate([ib, rb])
    got = np.array([ref(fmt, int(x), int(y), policy) for x, y in zip(a, b)], dtype=np.uint8)
    assert_codes_equal(fmt, got, table[a, b], f"{op}_ref vs {op}_table [{policy}]", a=a, b=b)
    if policy == "satfinite":
        assert not fp8.is_inf(f, table).any()


def test_tables_cached_and_readonly():
    t = fp8.mul_table("e4m3", "torch")
    assert fp8.mul_table(E4M3, "torch") is t
    with pytest.raises(ValueError):
        t[0, 0] = 1


# ---------------------------------------------------------------------------
# Directed corner cases
# ---------------------------------------------------------------------------

# (fmt, op, a, b, {policy: expected})
OVERFLOW_CASES = [
    # e4m3 add near the top: 448 + 16 = 464 is a tie between 448 (mantissa 110,
    # even) and 480 (111): it rounds to 448 and is NOT an overflow in any policy.
    ("e4m3", "add", 0x7E, 0x58, {"torch": 0x7E, "ocp": 0x7E, "satfinite": 0x7E}),
    ("e4m3", "add", 0xFE, 0xD8, {"torch": 0xFE, "ocp": 0xFE, "satfinite": 0xFE}),
    # 448 + 24 = 472 rounds to 480 (0x7F would be its code, but it is NaN): overflow.
    ("e4m3", "add", 0x7E, 0x5C, {"torch": 0x7E, "ocp": 0x7F, "satfinite": 0x7E}),
    # 448 + 32 = 480 and 448 + 448 = 896: overflow.
    ("e4m3", "add", 0x7E, 0x60, {"torch": 0x7E, "ocp": 0x7F, "satfinite": 0x7E}),
    ("e4m3", "add", 0xFE, 0xFE, {"torch": 0xFE, "ocp": 0x7F, "satfinite": 0xFE}),
    # 448 * 2 = 896
    ("e4m3", "mul", 0x7E, 0x40, {"torch": 0x7E, "ocp": 0x7F, "satfinite": 0x7E}),
    ("e4m3", "mul", 0x7E, 0xC0, {"torch": 0xFE, "ocp": 0x7F, "satfinite": 0xFE}),
    # e5m2: 57344 + 2048 = 59392 rounds down to 57344; 57344 + 4096 = 61440 is a
    # tie between 57344 (mantissa 11, odd) and 65536 (even): overflow.
    ("e5m2", "add", 0x7B, 0x68, {"torch": 0x7B, "ocp": 0x7B, "satfinite": 0x7B}),
    ("e5m2", "add", 0x7B, 0x6C, {"torch": 0x7C, "ocp": 0x7C, "satfinite": 0x7B}),
    ("e5m2", "mul", 0x7B, 0x40, {"torch": 0x7C, "ocp": 0x7C, "satfinite": 0x7B}),
    ("e5m2", "mul", 0xFB, 0x40, {"torch": 0xFC, "ocp": 0xFC, "satfinite": 0xFB}),
    # e5m2 infinite operands: stay inf under torch/ocp, clamp under satfinite.
    ("e5m2", "mul", 0x7C, 0x40, {"torch": 0x7C, "ocp": 0x7C, "satfinite": 0x7B}),
    ("e5m2", "mul", 0xFC, 0x40, {"torch": 0xFC, "ocp": 0xFC, "satfinite": 0xFB}),
    ("e5m2", "mul", 0x7C, 0xFC, {"torch": 0xFC, "ocp": 0xFC, "satfinite": 0xFB}),
    ("e5m2", "add", 0x7C, 0x3C, {"torch": 0x7C, "ocp": 0x7C, "satfinite": 0x7B}),
    ("e5m2", "add", 0xFC, 0x7B, {"torch": 0xFC, "ocp": 0xFC, "satfinite": 0xFB}),
    ("e5m2", "add", 0x7C, 0x7C, {"torch": 0x7C, "ocp": 0x7C, "satfinite": 0x7B}),
    # invalid operations are NaN under every policy
    ("e5m2", "mul", 0x7C, 0x00, {"torch": 0x7F, "ocp": 0x7F, "satfinite": 0x7F}),
    ("e5m2", "mul", 0x80, 0xFC, {"torch": 0x7F, "ocp": 0x7F, "satfinite": 0x7F}),
    ("e5m2", "add", 0x7C, 0xFC, {"torch": 0x7F, "ocp": 0x7F, "satfinite": 0x7F}),
]


@pytest.mark.parametrize("fmt,op,a,b,expected", OVERFLOW_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]:02x}-{c[3]:02x}" for c in OVERFLOW_CASES])
def test_overflow_and_infinity_policies(fmt, op, a, b, expected):
    ref = {"mul": fp8.mul_ref, "add": fp8.add_ref}[op]
    golden = {"mul": torch_ref.golden_mul, "add": torch_ref.golden_add}[op]
    for policy, want in expected.items():
        for x, y in ((a, b), (b, a)):  # both operations commute
            got = ref(fmt, x, y, policy)
            assert got == want, f"{op} {policy} a=0x{x:02x} b=0x{y:02x}: " \
                                f"got 0x{got:02x} expected 0x{want:02x}"
            g = int(golden(fmt, x, y, policy))
            assert g == want, f"golden_{op} {policy} a=0x{x:02x} b=0x{y:02x}: " \
                              f"got 0x{g:02x} expected 0x{want:02x}"


def test_e4m3_464_is_448_in_torch():
    # The exact value 464 (= 448 + 16) is representable in float32; torch's
    # cast rounds it to 448 like every policy here (a tie to the even mantissa).
    assert int(torch_ref.torch_add("e4m3", 0x7E, 0x58)) == 0x7E
    assert fp8.round_to_fp8("e4m3", Fraction(464), "ocp") == 0x7E
    assert fp8.round_to_fp8("e4m3", Fraction(465), "ocp") == 0x7F
    assert fp8.round_to_fp8("e4m3", Fraction(465), "torch") == 0x7E


# (fmt, op, a, b, expected) all under the torch policy, also checked against torch
CORNER_CASES = [
    # subnormal x normal
    ("e4m3", "mul", 0x01, 0x40, 0x02),   # 2^-9 * 2 = 2^-8
    ("e4m3", "mul", 0x01, 0x38, 0x01),   # 2^-9 * 1
    ("e4m3", "mul", 0x03, 0x3C, 0x04),   # 3*2^-9 * 1.5 = 4.5*2^-9: tie to even 4
    ("e4m3", "mul", 0x03, 0x3E, 0x05),   # 3*2^-9 * 1.75 = 5.25*2^-9 -> 5
    ("e4m3", "mul", 0x07, 0x48, 0x16),   # 7*2^-9 * 4 = 1.75*2^-5 (normal)
    ("e4m3", "mul", 0x07, 0x40, 0x0E),   # 7*2^-9 * 2 = 1.75*2^-6 (smallest binade)
    ("e4m3", "add", 0x07, 0x01, 0x08),   # subnormal + subnormal = min normal
    # subnormal results
    ("e4m3", "mul", 0x08, 0x30, 0x04),   # 2^-6 * 0.5 = 2^-7
    ("e4m3", "mul", 0x01, 0x30, 0x00),   # 2^-9 * 0.5 = 2^-10: tie to even 0
    ("e4m3", "mul", 0x81, 0x30, 0x80),   # ... keeping the sign: -0
    ("e4m3", "mul", 0x01, 0x34, 0x01),   # 0.75*2^-9 -> 2^-9
    ("e4m3", "mul", 0x08, 0x08, 0x00),   # 2^-12 underflows to +0
    ("e4m3", "mul", 0x88, 0x08, 0x80),   # -2^-12 underflows to -0
    ("e4m3", "add", 0x08, 0x81, 0x07),   # min normal - min subnormal = 7*2^-9
    ("e5m2", "mul", 0x01, 0x3C, 0x01),   # 2^-16 * 1
    ("e5m2", "mul", 0x01, 0x38, 0x00),   # 2^-16 * 0.5: tie to even 0
    ("e5m2", "mul", 0x03, 0x38, 0x02),   # 3*2^-16 * 0.5 = 1.5*2^-16: tie to even 2
    ("e5m2", "mul", 0x04, 0x38, 0x02),   # 2^-14 * 0.5 = 2^-15 (subnormal)
    ("e5m2", "add", 0x04, 0x81, 0x03),   # min normal - min subnormal
    # signed zeros
    ("e4m3", "mul", 0xB8, 0x00, 0x80),   # -1 * +0 = -0
    ("e4m3", "mul", 0x80, 0x80, 0x00),   # -0 * -0 = +0
    ("e4m3", "add", 0x80, 0x80, 0x80),   # -0 + -0 = -0
    ("e4m3", "add", 0x00, 0x80, 0x00),   # +0 + -0 = +0
    ("e4m3", "add", 0x80, 0x00, 0x00),   # -0 + +0 = +0
    ("e5m2", "add", 0x80, 0x80, 0x80),
    ("e5m2", "add", 0x80, 0x00, 0x00),
    ("e5m2", "mul", 0xFB, 0x00, 0x80),   # -max * +0 = -0
    # ties in normal range
    ("e4m3", "add", 0x38, 0x18, 0x38),   # 1 + 1/16 -> 1 (tie, even)
    ("e4m3", "add", 0x39, 0x18, 0x3A),   # 1.125 + 1/16 -> 1.25 (tie, even)
    ("e5m2", "add", 0x3C, 0x30, 0x3C),   # 1 + 1/8 -> 1 (tie, even)
    ("e5m2", "add", 0x3D, 0x30, 0x3E),   # 1.25 + 1/8 -> 1.5 (tie, even)
    ("e5m2", "add", 0x7C, 0x3C, 0x7C),   # inf + 1 = inf
    ("e5m2", "add", 0xFC, 0x7B, 0xFC),   # -inf + max = -inf
    ("e5m2", "mul", 0x7C, 0x7C, 0x7C),   # inf * inf = inf
    ("e5m2", "mul", 0x7C, 0x01, 0x7C),   # inf * min subnormal = inf
    ("e5m2", "mul", 0x7C, 0x00, 0x7F),   # inf * 0 = NaN
    ("e5m2", "add", 0x7C, 0xFC, 0x7F),   # inf - inf = NaN
]


@pytest.mark.parametrize("fmt,op,a,b,want", CORNER_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]:02x}-{c[3]:02x}" for c in CORNER_CASES])
def test_corner_cases(fmt, op, a, b, want):
    ref = {"mul": fp8.mul_ref, "add": fp8.add_ref}[op]
    tor = {"mul": torch_ref.torch_mul, "add": torch_ref.torch_add}[op]
    got = ref(fmt, a, b)
    assert got == want, f"{op}_ref a=0x{a:02x} b=0x{b:02x}: got 0x{got:02x} expected 0x{want:02x}"
    t = int(tor(fmt, a, b))
    assert t == want, f"torch_{op} a=0x{a:02x} b=0x{b:02x}: got 0x{t:02x} expected 0x{want:02x}"


@pytest.mark.parametrize("fmt", FMTS)
def test_cancellation_is_plus_zero(fmt):
    f = fp8.get_format(fmt)
    finite = [x for x in range(256) if not (fp8.is_nan(f, x) or fp8.is_inf(f, x))]
    for policy in POLICIES:
        for x in finite:  # x + (-x) = +0, including (+0) + (-0) and (-0) + (+0)
            assert fp8.add_ref(f, x, x ^ 0x80, policy) == 0x00, f"x=0x{x:02x}"
            assert fp8.add_table(f, policy)[x, x ^ 0x80] == 0x00, f"x=0x{x:02x}"
        assert fp8.add_ref(f, 0x80, 0x80, policy) == 0x80  # only (-0) + (-0) is -0
        assert fp8.add_ref(f, 0x00, 0x00, policy) == 0x00


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("policy", POLICIES)
def test_nan_operands_give_canonical_nan(fmt, policy):
    f = fp8.get_format(fmt)
    nans = [c for c in range(256) if fp8.is_nan(f, c)]
    for table in (fp8.mul_table(f, policy), fp8.add_table(f, policy)):
        assert (table[nans, :] == 0x7F).all() and (table[:, nans] == 0x7F).all()
    for n in nans:
        for x in (0x00, 0x80, 0x38, f.max_code, 0xFF):
            assert fp8.mul_ref(f, n, x, policy) == 0x7F
            assert fp8.add_ref(f, x, n, policy) == 0x7F


def test_round_to_fp8_signs_and_specials():
    assert fp8.round_to_fp8("e4m3", Fraction(-1, 2**20)) == 0x80  # -tiny -> -0
    assert fp8.round_to_fp8("e4m3", Fraction(1, 2**20)) == 0x00
    assert fp8.round_to_fp8("e4m3", Fraction(0), sign_hint=1) == 0x80
    assert fp8.round_to_fp8("e4m3", 0, "torch", 0) == 0x00
    assert fp8.round_to_fp8("e4m3", -0.0) == 0x80
    assert fp8.round_to_fp8("e5m2", float("nan")) == 0x7F
    assert fp8.round_to_fp8("e5m2", float("-inf")) == 0xFC
    assert fp8.round_to_fp8("e5m2", float("-inf"), "satfinite") == 0xFB
    assert fp8.round_to_fp8("e4m3", float("inf"), "ocp") == 0x7F
    assert fp8.round_to_fp8("e4m3", float("-inf"), "torch") == 0xFE
    assert fp8.round_to_fp8("e4m3", Fraction(3, 2**10)) == 0x02  # 1.5*2^-9: tie to even 2
    assert fp8.round_to_fp8("e4m3", 1.5) == 0x3C


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FMTS)
def test_wide_round_trip_all_codes(fmt):
    f = fp8.get_format(fmt)
    codes = np.arange(256, dtype=np.uint8)
    nan = fp8.is_nan(f, codes)
    tcodes = torch.from_numpy(codes).view(torch_ref.torch_dtype(f))
    b32 = fp8.fp8_to_float32_bits(f, codes)
    b16 = fp8.fp8_to_float16_bits(f, codes)
    assert b32.dtype == np.uint32 and b16.dtype == np.uint16
    # exact: identical to torch's widening for every non-NaN code
    assert np.array_equal(b32[~nan], tcodes.float().view(torch.int32).numpy().view(np.uint32)[~nan])
    assert np.array_equal(b16[~nan], tcodes.half().view(torch.int16).numpy().view(np.uint16)[~nan])
    assert (b32[nan] == fp8.FLOAT32_CANONICAL_NAN).all()
    assert (b16[nan] == fp8.FLOAT16_CANONICAL_NAN).all()
    for policy in POLICIES:
        back32 = fp8.float32_bits_to_fp8(f, b32, policy)
        back16 = fp8.float16_bits_to_fp8(f, b16, policy)
        want = fp8.canonicalize_nan(f, codes)
        if policy == "satfinite":  # the one non-identity: satfinite clamps +-inf
            want = np.where(fp8.is_inf(f, codes), codes - 1, want).astype(np.uint8)
        assert_codes_equal(f, back32, want, f"fp8->f32->fp8 [{policy}]", code=codes)
        assert_codes_equal(f, back16, want, f"fp8->f16->fp8 [{policy}]", code=codes)
    for c in range(256):  # scalar paths
        assert fp8.fp8_to_float32_bits(f, c) == int(b32[c])
        assert fp8.fp8_to_float16_bits(f, c) == int(b16[c])
        assert fp8.float32_bits_to_fp8(f, int(b32[c])) == int(fp8.canonicalize_nan(f, c))


def _float32_test_patterns():
    rng = np.random.default_rng(2024)
    uniform = rng.integers(0, 2**32, 150_000, dtype=np.uint64).astype(np.uint32)
    # exponents near the FP8 ranges (2^-20 .. 2^18), random mantissas
    exp = rng.integers(127 - 20, 127 + 19, 150_000).astype(np.uint32)
    near = (rng.integers(0, 2, 150_000).astype(np.uint32) << 31) | (exp << 23) \
        | rng.integers(0, 2**23, 150_000).astype(np.uint32)
    # ties and their neighbours at the precision of both formats
    base = near[:20_000] & np.uint32(0xFFF00000)  # keep 3 mantissa bits
    ties = []
    for half in (1 << 19, 1 << 20):  # below e4m3's / e5m2's last kept bit
        t = (base & ~np.uint32(2 * half - 1)) | np.uint32(half)
        ties += [t, t - np.uint32(1), t + np.uint32(1)]
    specials = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                0x7F800001, 0xFFFFFFFF, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000,
                0x7F7FFFFF, 0xFF7FFFFF]
    for x in (448.0, 464.0, 472.0, 480.0, 496.0, 512.0, 57344.0, 61440.0, 65536.0,
              2.0**-6, 2.0**-9, 2.0**-10, 1.5 * 2.0**-10, 2.0**-14, 2.0**-16, 2.0**-17,
              1.5 * 2.0**-17, 1.0625, 1.1875, 1.125, 1.375):
        b = int(f32_bits(x))
        specials += [b, b - 1, b + 1, b | 0x80000000, (b - 1) | 0x80000000, (b + 1) | 0x80000000]
    return np.concatenate([uniform, near, *ties, np.array(specials, dtype=np.uint32)])


F32_PATTERNS = _float32_test_patterns()


@pytest.mark.parametrize("fmt", FMTS)
def test_float32_to_fp8_matches_torch(fmt):
    got = fp8.float32_bits_to_fp8(fmt, F32_PATTERNS, "torch")
    want = torch_ref.torch_float32_bits_to_fp8(fmt, F32_PATTERNS)
    assert_codes_equal(fmt, got, want, "float32_bits_to_fp8 vs torch", bits=F32_PATTERNS)


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("policy", POLICIES)
def test_float32_to_fp8_scalar_matches_vector(fmt, policy):
    idx = np.random.default_rng(7).integers(0, len(F32_PATTERNS), 1500)
    sample = np.concatenate([F32_PATTERNS[idx], F32_PATTERNS[-200:]])
    vec = fp8.float32_bits_to_fp8(fmt, sample, policy)
    sca = np.array([fp8.float32_bits_to_fp8(fmt, int(b), policy) for b in sample], dtype=np.uint8)
    assert np.array_equal(sca, vec)


@pytest.mark.parametrize("fmt", FMTS)
def test_float16_to_fp8_matches_torch_exhaustive(fmt):
    bits = np.arange(2**16, dtype=np.uint16)
    got = fp8.float16_bits_to_fp8(fmt, bits, "torch")
    want = torch_ref.torch_float16_bits_to_fp8(fmt, bits)
    assert_codes_equal(fmt, got, want, "float16_bits_to_fp8 vs torch", bits=bits)
    sca = np.array([fp8.float16_bits_to_fp8(fmt, int(b)) for b in bits[::37]], dtype=np.uint8)
    assert np.array_equal(sca, got[::37])


@pytest.mark.parametrize("fmt,policy,pos,neg", [
    ("e4m3", "torch", 0x7E, 0xFE), ("e4m3", "ocp", 0x7F, 0x7F), ("e4m3", "satfinite", 0x7E, 0xFE),
    ("e5m2", "torch", 0x7C, 0xFC), ("e5m2", "ocp", 0x7C, 0xFC), ("e5m2", "satfinite", 0x7B, 0xFB),
])
def test_conversion_overflow_policies(fmt, policy, pos, neg):
    for bits32, bits16, want in ((0x7F800000, 0x7C00, pos), (0xFF800000, 0xFC00, neg),
                                 (int(f32_bits(1e6)), 0x7BFF, pos),  # 65504 overflows both
                                 (int(f32_bits(-1e6)), 0xFBFF, neg)):
        assert fp8.float32_bits_to_fp8(fmt, bits32, policy) == want
        assert fp8.float16_bits_to_fp8(fmt, bits16, policy) == want
        assert int(fp8.float32_bits_to_fp8(fmt, np.array([bits32]), policy)[0]) == want
    assert fp8.float32_bits_to_fp8(fmt, 0xFFC00001, policy) == 0x7F


@pytest.mark.parametrize("fmt", FMTS)
def test_exact_product_float32_bits(fmt):
    got = fp8.exact_product_float32_bits(fmt, A_ALL, B_ALL)
    dt = torch_ref.torch_dtype(fmt)
    prod = (torch.from_numpy(A_ALL.copy()).view(dt).float()
            * torch.from_numpy(B_ALL.copy()).view(dt).float())
    want = prod.view(torch.int32).numpy().view(np.uint32)
    nan = torch.isnan(prod).numpy()
    assert (got[nan] == fp8.FLOAT32_CANONICAL_NAN).all()
    bad = np.flatnonzero(~nan & (got != want))
    assert bad.size == 0, (f"a=0x{A_ALL[bad[0]]:02x} b=0x{B_ALL[bad[0]]:02x}: "
                           f"got 0x{got[bad[0]]:08x} expected 0x{want[bad[0]]:08x}")
    # rounding the exact product gives the multiplier's result
    assert np.array_equal(fp8.float32_bits_to_fp8(fmt, got), fp8.mul_table(fmt).ravel())
    assert fp8.exact_product_float32_bits(fmt, 0xB8 if fmt == "e4m3" else 0xBC, 0x00) == 0x80000000
    if fmt == "e5m2":
        assert fp8.exact_product_float32_bits(fmt, 0x7C, 0x80) == 0x7FC00000
        assert fp8.exact_product_float32_bits(fmt, 0x7C, 0xBC) == 0xFF800000


def test_canonicalize_nan():
    codes = np.array([0x7F, 0xFF, 0x7E, 0x7D, 0xFD, 0x7C], dtype=np.uint8)
    assert fp8.canonicalize_nan("e4m3", codes).tolist() == [0x7F, 0x7F, 0x7E, 0x7D, 0xFD, 0x7C]
    assert fp8.canonicalize_nan("e5m2", codes).tolist() == [0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7C]
    assert fp8.canonicalize_nan("e5m2", codes).dtype == np.uint8


# ---------------------------------------------------------------------------
# torch_ref: dispatch and probe
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("policy", POLICIES)
def test_golden_dispatch(fmt, policy):
    a = np.array([[0x7E], [0x38]], dtype=np.uint8)
    b = np.array([0x40, 0x7E, 0x00], dtype=np.int64)
    m = torch_ref.golden_mul(fmt, a, b, policy)
    s = torch_ref.golden_add(fmt, a, b, policy=policy)
    assert m.shape == s.shape == (2, 3) and m.dtype == s.dtype == np.uint8
    aa, bb = np.broadcast_arrays(a, b)
    assert np.array_equal(m, fp8.mul_table(fmt, policy)[aa, bb])
    assert np.array_equal(s, fp8.add_table(fmt, policy)[aa, bb])


def test_probe_passes_on_installed_torch():
    torch_ref.probe_torch()
    for name, cases in torch_ref._PROBE_CASES.items():  # the probe agrees with the reference
        for bits, want in cases:
            assert fp8.float32_bits_to_fp8(name, bits, "torch") == want


def test_probe_rejects_other_cast_behaviour(monkeypatch):
    real = torch_ref._torch_cast

    def old_torch_cast(fmt, bits):
        # older torch / ml_dtypes: e4m3 overflow (and inf) becomes NaN
        out = real(fmt, bits).copy()
        if fmt.name == "e4m3":
            vals = np.asarray(bits, dtype=np.uint32).view(np.float32)
            out[np.abs(vals) > 464] = 0x7F
        return out

    monkeypatch.setattr(torch_ref, "_torch_cast", old_torch_cast)
    monkeypatch.setattr(torch_ref.torch, "__version__", "2.1.0")
    with pytest.raises(RuntimeError, match=r"torch 2\.1\.0 casts float32 480\.0") as info:
        torch_ref.probe_torch()
    assert "install torch==2.13.0" in str(info.value)
    assert "expects 0x7e" in str(info.value)


# ---------------------------------------------------------------------------
# Error messages
# ---------------------------------------------------------------------------

def test_unknown_format_messages():
    with pytest.raises(ValueError, match=r"^unknown FP8 format 'e3m4': use 'e4m3' or 'e5m2'$"):
        fp8.get_format("e3m4")
    with pytest.raises(ValueError, match="unknown FP8 format 'e3m4'"):
        fp8.mul_ref("e3m4", 0, 0)
    with pytest.raises(ValueError, match="unknown FP8 format 'fp8'"):
        torch_ref.golden_add("fp8", [0], [0])
    with pytest.raises(TypeError, match="FP8 format must be a name or an Fp8Format, not int"):
        fp8.mul_table(8)
    with pytest.raises(ValueError, match="unknown FP8 format 'e3m4'"):
        fp8.mul_table(fp8.Fp8Format("e3m4", exp_bits=3, man_bits=4, bias=3))


def test_unknown_policy_messages():
    msg = r"^unknown FP8 overflow policy 'rtz': use 'torch', 'ocp' or 'satfinite'$"
    with pytest.raises(ValueError, match=msg):
        fp8.check_policy("rtz")
    with pytest.raises(ValueError, match=msg):
        fp8.mul_ref("e4m3", 0x38, 0x38, "rtz")
    with pytest.raises(ValueError, match=msg):
        fp8.add_table("e5m2", policy="rtz")
    with pytest.raises(ValueError, match=msg):
        fp8.float32_bits_to_fp8("e4m3", 0, policy="rtz")
    with pytest.raises(ValueError, match=msg):
        torch_ref.golden_mul("e4m3", [0], [0], policy="rtz")
    with pytest.raises(TypeError, match="policy must be a string, not NoneType"):
        fp8.check_policy(None)


def test_bad_code_messages():
    with pytest.raises(ValueError, match=r"a=0x100 is not an FP8 code: use an int in 0\.\.255"):
        fp8.mul_ref("e4m3", 0x100, 0)
    with pytest.raises(TypeError, match="b must be an FP8 code"):
        fp8.add_ref("e4m3", 0, 1.0)
    with pytest.raises(TypeError, match="must hold FP8 codes as integers, not dtype float64"):
        torch_ref.torch_mul("e4m3", np.array([1.0]), np.array([1]))
    with pytest.raises(ValueError, match="holds 300, which is not an FP8 code"):
        fp8.canonicalize_nan("e4m3", np.array([300]))
    with pytest.raises(ValueError, match="do not broadcast"):
        torch_ref.torch_add("e4m3", np.zeros(3, np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="sign_hint=2 is not a sign bit"):
        fp8.round_to_fp8("e4m3", Fraction(0), sign_hint=2)
    with pytest.raises(ValueError, match="is not a float32 bit pattern"):
        fp8.float32_bits_to_fp8("e4m3", 2**32)
