"""Exact, torch-free reference for the two OCP 8-bit floating-point formats.

This module is the arbiter that every other golden model and every piece of
generated hardware is checked against.  It uses nothing but Python integers,
:class:`fractions.Fraction` and numpy, so that a change of torch version can
never silently change what "correct" means: :mod:`spikegate.golden.torch_ref`
checks torch against *this* module, not the other way round.

Formats
-------
``e4m3`` is OCP E4M3 as implemented by ``torch.float8_e4m3fn``: bias 7, no
infinity, NaN only at ``S.1111.111``, largest finite value 448 (``0x7E``).
``e5m2`` is OCP E5M2 (``torch.float8_e5m2``): bias 15, IEEE-like, infinity at
``S.11111.00``, NaN at ``S.11111.{01,10,11}``, largest finite value 57344
(``0x7B``).

Canonical NaN
-------------
Torch does not produce a stable NaN sign or payload, so comparisons are made on
NaN-ness only and every result that is NaN is reported as the single code
``0x7F`` (:attr:`Fp8Format.canonical_nan`), for *both* formats.  ``0x7F`` is
``+NaN`` in E4M3 and ``+NaN`` with the quiet-looking payload ``11`` in E5M2.
This is also the one NaN the generated hardware emits.  Wider formats follow
the same rule: NaN converts to ``0x7FC00000`` (float32) or ``0x7E00``
(float16).

Rounding and overflow policies
------------------------------
Every operation computes the exact result and rounds it once, to nearest with
ties to even, with gradual underflow (subnormals).  A result that rounds to zero
keeps the sign of the exact value (``-tiny`` gives ``-0``, code ``0x80``).
An exact sum that is zero is ``+0`` unless both addends are ``-0``; the sign of
a product, zero or not, is the XOR of the operand signs.

What happens when the *rounded* magnitude exceeds the largest finite value is
not agreed between libraries, so it is a named policy (:data:`POLICIES`):

``"torch"``
    What the pinned ``torch==2.13.0`` does when casting float32 to FP8:
    E4M3 saturates to ``+-448`` (even for infinite float32 inputs), E5M2
    overflows to ``+-inf``.
``"ocp"``
    The OCP specification's non-saturating conversion: E4M3 overflow gives
    NaN, E5M2 overflow gives ``+-inf``.
``"satfinite"``
    Both formats clamp to ``+-max finite`` (as ``cvt.satfinite`` on GPUs).

Infinite results are treated exactly like overflow: an infinite float32 input
to a conversion, or an E5M2 operation on infinite operands (``inf * x``,
``inf + x``), yields ``+-inf`` under ``"torch"`` and ``"ocp"`` for E5M2.
Under ``"satfinite"`` it is **clamped to +-max finite** as well, because the
point of that policy is that no infinity ever leaves the unit; for E4M3 an
infinite float32 input gives ``+-448`` under ``"torch"`` and NaN under
``"ocp"``.  NaN inputs always give NaN, and so do the invalid E5M2 operations
``inf * 0`` and ``inf + (-inf)``, under every policy.

Two implementations
-------------------
Scalar entry points (:func:`round_to_fp8`, :func:`mul_ref`, :func:`add_ref` and
the conversions given a Python ``int``) use exact :class:`~fractions.Fraction`
arithmetic and read like the specification.  The tables (:func:`mul_table`,
:func:`add_table`) and the conversions given numpy arrays use a vectorised
exact integer path (value ``= M * 2**s`` with integer ``M`` and ``s``), which is
fast enough for exhaustive work.  The test-suite checks that both agree.
"""

from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction

import numpy as np

from . import formats as _formats
from .formats import FloatFormat

__all__ = [
    "Fp8Format",
    "E4M3",
    "E5M2",
    "FORMATS",
    "POLICIES",
    "get_format",
    "check_policy",
    "check_codes",
    "check_bits",
    "decode",
    "is_nan",
    "is_inf",
    "round_to_fp8",
    "mul_ref",
    "add_ref",
    "mul_table",
    "add_table",
    "canonicalize_nan",
    "fp8_to_float32_bits",
    "fp8_to_float16_bits",
    "float32_bits_to_fp8",
    "float16_bits_to_fp8",
    "exact_product_float32_bits",
    "FLOAT32_CANONICAL_NAN",
    "FLOAT16_CANONICAL_NAN",
]

#: The overflow policies understood by every rounding function (see module doc).
POLICIES = _formats.POLICIES
check_policy = _formats.check_policy

#: The float32 NaN produced for any NaN result (quiet, positive, no payload).
FLOAT32_CANONICAL_NAN = 0x7FC00000
#: The float16 NaN produced for any NaN result (quiet, positive, no payload).
FLOAT16_CANONICAL_NAN = 0x7E00



#: An FP8 format is a :class:`~.formats.FloatFormat` of 8 bits; only the two OCP formats
#: are offered here (the vectorised tables of this module index codes 0..255).
Fp8Format = FloatFormat
E4M3, E5M2 = _formats.E4M3, _formats.E5M2

#: The supported formats by name.
FORMATS = {"e4m3": E4M3, "e5m2": E5M2}


def get_format(name_or_fmt) -> Fp8Format:
    """Return the FP8 :class:`~.formats.FloatFormat` named by ``name_or_fmt``.

    Accepts a format, a name (``"e4m3"``, ``"e5m2"``, any case) or the torch dtype name
    (``"float8_e4m3fn"``, ``"float8_e5m2"``) so that callers can pass whatever they hold.

    Raises
    ------
    TypeError
        If ``name_or_fmt`` is neither a string nor a format.
    ValueError
        If it is not one of the FP8 formats.
    """
    if isinstance(name_or_fmt, FloatFormat):
        if name_or_fmt in FORMATS.values():
            return name_or_fmt
        raise ValueError(f"unknown FP8 format {name_or_fmt.name!r}: use 'e4m3' or 'e5m2'")
    if not isinstance(name_or_fmt, str):
        raise TypeError(
            f"FP8 format must be a name or an Fp8Format, not {type(name_or_fmt).__name__}: "
            f"use 'e4m3' or 'e5m2'")
    key = name_or_fmt.strip().lower()
    if key in FORMATS:
        return FORMATS[key]
    for fmt in FORMATS.values():
        if key == fmt.torch_dtype_name:
            return fmt
    raise ValueError(f"unknown FP8 format {name_or_fmt!r}: use 'e4m3' or 'e5m2'")


def _check_code(code, name: str = "code") -> int:
    """Validate one FP8 code (an integer in 0..255) and return it as ``int``."""
    if isinstance(code, bool) or not isinstance(code, numbers.Integral):
        raise TypeError(
            f"{name} must be an FP8 code (an int in 0..255), not {type(code).__name__}: "
            f"pass the bit pattern, e.g. 0x3c")
    code = int(code)
    if not 0 <= code <= 0xFF:
        raise ValueError(f"{name}={code:#x} is not an FP8 code: use an int in 0..255")
    return code


def check_codes(codes, name: str = "codes") -> np.ndarray:
    """Validate an array of FP8 codes and return it as a ``uint8`` array.

    Integer arrays of any dtype are accepted as long as every element lies in
    0..255, so that results of integer arithmetic can be passed directly;
    float arrays are refused because they usually mean values, not codes.

    Raises
    ------
    TypeError
        If the array is not of an integer dtype.
    ValueError
        If an element lies outside 0..255.
    """
    arr = np.asarray(codes)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold FP8 codes as integers, not dtype {arr.dtype}: "
            f"pass uint8 bit patterns (e.g. tensor.view(torch.uint8).numpy())")
    if arr.size and (arr.min() < 0 or arr.max() > 0xFF):
        bad = arr[(arr < 0) | (arr > 0xFF)].flat[0]
        raise ValueError(f"{name} holds {int(bad)}, which is not an FP8 code: use ints in 0..255")
    return arr.astype(np.uint8)


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

def is_nan(fmt, code):
    """Whether ``code`` is a NaN of ``fmt``.

    Works on an ``int`` or elementwise on a numpy integer array.
    """
    fmt = get_format(fmt)
    mag = code & 0x7F
    if fmt.has_inf:
        return mag > fmt.inf_code
    return mag == 0x7F


def is_inf(fmt, code):
    """Whether ``code`` is ``+inf`` or ``-inf`` of ``fmt`` (always false for e4m3).

    Works on an ``int`` or elementwise on a numpy integer array.
    """
    fmt = get_format(fmt)
    mag = code & 0x7F
    if not fmt.has_inf:
        return np.zeros(np.shape(mag), dtype=bool) if isinstance(mag, np.ndarray) else False
    return mag == fmt.inf_code


def _fields(fmt: Fp8Format, code: int) -> tuple[int, int, int]:
    """Split a code into (sign, M, s) with magnitude ``M * 2**s`` (finite codes only)."""
    sign = code >> 7
    e = (code >> fmt.man_bits) & ((1 << fmt.exp_bits) - 1)
    m = code & ((1 << fmt.man_bits) - 1)
    if e == 0:
        return sign, m, fmt.quantum_exp
    return sign, m | (1 << fmt.man_bits), e - fmt.bias - fmt.man_bits


def decode(fmt, code: int) -> Fraction | float:
    """Exact value of an FP8 code.

    Returns
    -------
    Fraction or float
        A :class:`~fractions.Fraction` for finite codes (``-0`` decodes to
        ``Fraction(0)``: read the sign from ``code >> 7``), ``float('inf')`` /
        ``float('-inf')`` for infinities and ``float('nan')`` for NaN.
    """
    fmt = get_format(fmt)
    code = _check_code(code)
    if is_nan(fmt, code):
        return math.nan
    if is_inf(fmt, code):
        return -math.inf if code >> 7 else math.inf
    sign, m, s = _fields(fmt, code)
    value = m * Fraction(2) ** s
    return -value if sign else value


@functools.lru_cache(maxsize=None)
def _finite_value(fmt: Fp8Format, code: int) -> Fraction:
    """Cached :func:`decode` for finite codes (the scalar ops call it 2x per pair)."""
    return decode(fmt, code)


# ---------------------------------------------------------------------------
# Scalar exact rounding
# ---------------------------------------------------------------------------

def _overflow_code(fmt: Fp8Format, policy: str, sign: int) -> int:
    """Code returned for a result whose rounded magnitude exceeds the maximum."""
    code, keeps_sign = _formats.overflow_code(fmt, policy)
    return (sign << 7) | code if keeps_sign else code


def _pack7(fmt: Fp8Format, m: int, q: int) -> int:
    """Encode magnitude ``m * 2**q`` (``m`` the rounded integer significand) without sign.

    The exponent field is not limited, so a result beyond the format's range
    yields a value above :attr:`Fp8Format.max_code`; magnitudes are monotone
    in this encoding, which makes the overflow test a plain comparison.
    """
    if m == 0:
        return 0
    if m >> (fmt.man_bits + 1):  # rounding carried into a new binade
        m >>= 1
        q += 1
    if m >> fmt.man_bits:
        return ((q + fmt.man_bits + fmt.bias) << fmt.man_bits) | (m - (1 << fmt.man_bits))
    return m  # subnormal: q == quantum_exp


def _round_magnitude(fmt: Fp8Format, num: int, den: int) -> int:
    """Round ``num/den > 0`` to nearest-even; return the unsigned unlimited code."""
    e = num.bit_length() - den.bit_length()
    if (num if e >= 0 else num << -e) < (den << e if e >= 0 else den):
        e -= 1  # now 2**e <= num/den < 2**(e+1)
    q = max(e, fmt.emin) - fmt.man_bits  # weight of the last kept bit
    if q >= 0:
        den <<= q
    else:
        num <<= -q
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    return _pack7(fmt, m, q)


def round_to_fp8(fmt, value, policy: str = "torch", sign_hint: int = 0) -> int:
    """Round an exact value to the nearest FP8 code (ties to even).

    Parameters
    ----------
    fmt : str or Fp8Format
        Target format.
    value : Fraction, int or float
        The exact result.  Floats are taken at their exact binary value;
        ``inf``/``-inf`` are treated as overflow and NaN gives the canonical NaN.
    policy : str
        Overflow policy, one of :data:`POLICIES`.
    sign_hint : int
        Sign bit (0 or 1) for a value that *is* zero, since a Fraction cannot
        hold ``-0``; ignored otherwise (a float ``-0.0`` carries its own sign).
        A non-zero value that rounds to zero keeps its own sign.

    Returns
    -------
    int
        The FP8 code, 0..255.
    """
    fmt = get_format(fmt)
    policy = check_policy(policy)
    if sign_hint not in (0, 1):
        raise ValueError(f"sign_hint={sign_hint!r} is not a sign bit: use 0 (+) or 1 (-)")
    if isinstance(value, float):
        if math.isnan(value):
            return fmt.canonical_nan
        sign = 1 if math.copysign(1.0, value) < 0 else 0
        if math.isinf(value):
            return _overflow_code(fmt, policy, sign)
        if value == 0:
            return sign << 7
        value = Fraction(value)
    elif isinstance(value, (Fraction, numbers.Integral)) and not isinstance(value, bool):
        value = Fraction(value)
    else:
        raise TypeError(
            f"value must be a Fraction, int or float, not {type(value).__name__}: "
            f"pass the exact result as a fractions.Fraction")
    if value == 0:
        return sign_hint << 7
    sign = 1 if value < 0 else 0
    mag = -value if sign else value
    code7 = _round_magnitude(fmt, mag.numerator, mag.denominator)
    if code7 > fmt.max_code:
        return _overflow_code(fmt, policy, sign)
    return (sign << 7) | code7


def mul_ref(fmt, a: int, b: int, policy: str = "torch") -> int:
    """Exact FP8 product ``a * b`` rounded once to the nearest FP8 code.

    Special values: NaN in gives the canonical NaN; in E5M2 ``inf * 0`` is NaN
    and ``inf * nonzero`` is an infinity with the XOR sign (then subject to the
    policy, so ``"satfinite"`` clamps it).  The sign of a zero product is the
    XOR of the operand signs (``-1 * +0 = -0``).
    """
    fmt = get_format(fmt)
    policy = check_policy(policy)
    a = _check_code(a, "a")
    b = _check_code(b, "b")
    if is_nan(fmt, a) or is_nan(fmt, b):
        return fmt.canonical_nan
    sign = (a ^ b) >> 7
    inf_a, inf_b = is_inf(fmt, a), is_inf(fmt, b)
    if inf_a or inf_b:
        if (a & 0x7F) == 0 or (b & 0x7F) == 0:
            return fmt.canonical_nan  # inf * 0 is invalid
        return _overflow_code(fmt, policy, sign)
    exact = _finite_value(fmt, a) * _finite_value(fmt, b)
    return round_to_fp8(fmt, exact, policy, sign_hint=sign)


def add_ref(fmt, a: int, b: int, policy: str = "torch") -> int:
    """Exact FP8 sum ``a + b`` rounded once to the nearest FP8 code.

    Special values: NaN in gives the canonical NaN; in E5M2 ``inf + (-inf)`` is
    NaN and ``inf + x`` keeps the infinity (then subject to the policy).  An
    exact zero sum is ``+0`` (``x + (-x) = +0``, ``(+0) + (-0) = +0``) except
    ``(-0) + (-0) = -0``.
    """
    fmt = get_format(fmt)
    policy = check_policy(policy)
    a = _check_code(a, "a")
    b = _check_code(b, "b")
    if is_nan(fmt, a) or is_nan(fmt, b):
        return fmt.canonical_nan
    inf_a, inf_b = is_inf(fmt, a), is_inf(fmt, b)
    if inf_a and inf_b and (a ^ b) >> 7:
        return fmt.canonical_nan  # inf - inf is invalid
    if inf_a or inf_b:
        return _overflow_code(fmt, policy, (a if inf_a else b) >> 7)
    zero_sign = (a & b) >> 7
    exact = _finite_value(fmt, a) + _finite_value(fmt, b)
    return round_to_fp8(fmt, exact, policy, sign_hint=zero_sign)


# ---------------------------------------------------------------------------
# Vectorised exact rounding (integers only)
# ---------------------------------------------------------------------------

def _overflow_codes(fmt: Fp8Format, policy: str, sign: np.ndarray) -> np.ndarray:
    """Vectorised :func:`_overflow_code`."""
    if policy == "satfinite" or (policy == "torch" and not fmt.has_inf):
        return (sign << 7) | fmt.max_code
    if fmt.has_inf:
        return (sign << 7) | fmt.inf_code
    return np.full_like(sign, fmt.canonical_nan)


def _round_vec(fmt: Fp8Format, policy: str, sign, M, s) -> np.ndarray:
    """Round ``(-1)**sign * M * 2**s`` to FP8 codes, elementwise.

    ``M`` must be a non-negative int64 array below ``2**53`` (so that
    ``np.frexp`` finds its bit length exactly); ``s`` is an integer exponent
    (scalar or array).  Zero ``M`` gives a zero with the given sign.
    """
    sign = np.asarray(sign, dtype=np.int64)
    M = np.asarray(M, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    mb = fmt.man_bits
    _, fe = np.frexp(M.astype(np.float64))
    e = fe.astype(np.int64) - 1 + s  # floor(log2(value)) where M > 0
    q = np.maximum(e, fmt.emin) - mb
    shift = q - s
    rs = np.clip(shift, 0, 62)
    ls = np.clip(-shift, 0, 62)
    mt = M >> rs
    rem = M - (mt << rs)
    half = np.left_shift(np.int64(1), np.maximum(rs - 1, 0))
    up = (rs > 0) & ((rem > half) | ((rem == half) & ((mt & 1) == 1)))
    m = (mt + up) << ls
    carry = m >= (1 << (mb + 1))
    m = np.where(carry, m >> 1, m)
    q = q + carry
    normal = m >= (1 << mb)
    code7 = np.where(normal, ((q + mb + fmt.bias) << mb) | (m - (1 << mb)), m)
    code7 = np.where(M == 0, 0, code7)
    out = np.where(code7 > fmt.max_code, _overflow_codes(fmt, policy, sign), (sign << 7) | code7)
    return out.astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _code_fields(fmt: Fp8Format):
    """Per-code arrays (sign, M, s, k, nan, inf, zero) for all 256 codes.

    ``k`` is the signed magnitude in units of the smallest subnormal, which
    makes every FP8 sum an exact int64 addition.
    """
    codes = np.arange(256, dtype=np.int64)
    sign = codes >> 7
    e = (codes >> fmt.man_bits) & ((1 << fmt.exp_bits) - 1)
    man = codes & ((1 << fmt.man_bits) - 1)
    nan = is_nan(fmt, codes)
    inf = is_inf(fmt, codes)
    special = nan | inf
    M = np.where(e == 0, man, man | (1 << fmt.man_bits))
    s = np.where(e == 0, fmt.quantum_exp, e - fmt.bias - fmt.man_bits)
    M = np.where(special, 0, M)
    s = np.where(special, fmt.quantum_exp, s)
    k = M << (s - fmt.quantum_exp)
    k = np.where(sign == 1, -k, k)
    zero = (M == 0) & ~special
    return sign, M, s, k, nan, inf, zero


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@functools.lru_cache(maxsize=None)
def _mul_table(fmt: Fp8Format, policy: str) -> np.ndarray:
    sign, M, s, _, nan, inf, zero = _code_fields(fmt)
    A, B = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    psign = sign[A] ^ sign[B]
    out = _round_vec(fmt, policy, psign, M[A] * M[B], s[A] + s[B])
    any_inf = inf[A] | inf[B]
    out = np.where(any_inf, _overflow_codes(fmt, policy, psign), out)
    bad = nan[A] | nan[B] | (inf[A] & zero[B]) | (zero[A] & inf[B])
    out = np.where(bad, fmt.canonical_nan, out)
    return _readonly(out.astype(np.uint8))


@functools.lru_cache(maxsize=None)
def _add_table(fmt: Fp8Format, policy: str) -> np.ndarray:
    sign, _, _, k, nan, inf, _ = _code_fields(fmt)
    A, B = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    total = k[A] + k[B]
    ssign = np.where(total == 0, sign[A] & sign[B], (total < 0).astype(np.int64))
    out = _round_vec(fmt, policy, ssign, np.abs(total), fmt.quantum_exp)
    isign = np.where(inf[A], sign[A], sign[B])
    out = np.where(inf[A] | inf[B], _overflow_codes(fmt, policy, isign), out)
    bad = nan[A] | nan[B] | (inf[A] & inf[B] & (sign[A] != sign[B]))
    out = np.where(bad, fmt.canonical_nan, out)
    return _readonly(out.astype(np.uint8))


def mul_table(fmt, policy: str = "torch") -> np.ndarray:
    """All 65,536 products as a read-only ``uint8`` array ``t[a, b]`` of codes.

    Same semantics as :func:`mul_ref`; computed once per (format, policy) with
    exact integer arithmetic and cached, so exhaustive checks cost a lookup.
    """
    return _mul_table(get_format(fmt), check_policy(policy))


def add_table(fmt, policy: str = "torch") -> np.ndarray:
    """All 65,536 sums as a read-only ``uint8`` array ``t[a, b]`` of codes.

    Same semantics as :func:`add_ref`; computed once per (format, policy) with
    exact integer arithmetic and cached.
    """
    return _add_table(get_format(fmt), check_policy(policy))


def canonicalize_nan(fmt, codes) -> np.ndarray:
    """Return a ``uint8`` copy of ``codes`` with every NaN replaced by ``fmt.canonical_nan``.

    Use it on anything produced by torch before comparing bit patterns, since
    torch's NaN sign is not stable.
    """
    fmt = get_format(fmt)
    arr = check_codes(codes)
    return np.where(is_nan(fmt, arr), np.uint8(fmt.canonical_nan), arr).astype(np.uint8)


# ---------------------------------------------------------------------------
# Conversions to and from wider IEEE formats
# ---------------------------------------------------------------------------

def _encode_exact(sign: int, M: int, s: int, exp_bits: int, man_bits: int) -> int:
    """Bit pattern of the IEEE value ``(-1)**sign * M * 2**s``, which must be exact."""
    bias = (1 << (exp_bits - 1)) - 1
    if M == 0:
        return sign << (exp_bits + man_bits)
    e = M.bit_length() - 1 + s
    if e >= 1 - bias:
        field = e + bias
        if field >= (1 << exp_bits) - 1:
            raise ValueError("value overflows the wide format")  # never for FP8 inputs
        shift = man_bits - (M.bit_length() - 1)
        frac = (M << shift if shift >= 0 else M >> -shift) - (1 << man_bits)
        if shift < 0 and M & ((1 << -shift) - 1):
            raise ValueError("value is not exact in the wide format")
    else:
        field = 0
        shift = s - (1 - bias - man_bits)
        if shift < 0:
            raise ValueError("value is not exact in the wide format")
        frac = M << shift
    return (sign << (exp_bits + man_bits)) | (field << man_bits) | frac


def _fp8_to_wide(fmt: Fp8Format, code: int, exp_bits: int, man_bits: int, nan_bits: int) -> int:
    if is_nan(fmt, code):
        return nan_bits
    sign = code >> 7
    if is_inf(fmt, code):
        return (sign << (exp_bits + man_bits)) | (((1 << exp_bits) - 1) << man_bits)
    _, M, s = _fields(fmt, code)
    return _encode_exact(sign, M, s, exp_bits, man_bits)


@functools.lru_cache(maxsize=None)
def _fp8_to_wide_table(fmt: Fp8Format, exp_bits: int, man_bits: int, nan_bits: int, dtype):
    table = np.array([_fp8_to_wide(fmt, c, exp_bits, man_bits, nan_bits) for c in range(256)],
                     dtype=dtype)
    return _readonly(table)


def _is_scalar_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def fp8_to_float32_bits(fmt, code):
    """Exact float32 bit pattern of an FP8 code (every FP8 value is a float32).

    Accepts an ``int`` (returns ``int``) or an integer array (returns ``uint32``).
    NaN becomes :data:`FLOAT32_CANONICAL_NAN` (torch keeps a payload, e.g.
    ``0x7FF00000`` for e4m3: compare NaN-ness only).
    """
    fmt = get_format(fmt)
    if _is_scalar_int(code):
        return _fp8_to_wide(fmt, _check_code(code), 8, 23, FLOAT32_CANONICAL_NAN)
    table = _fp8_to_wide_table(fmt, 8, 23, FLOAT32_CANONICAL_NAN, np.uint32)
    return table[check_codes(code, "code")]


def fp8_to_float16_bits(fmt, code):
    """Exact float16 bit pattern of an FP8 code (every FP8 value is a float16).

    Accepts an ``int`` (returns ``int``) or an integer array (returns ``uint16``).
    NaN becomes :data:`FLOAT16_CANONICAL_NAN`.
    """
    fmt = get_format(fmt)
    if _is_scalar_int(code):
        return _fp8_to_wide(fmt, _check_code(code), 5, 10, FLOAT16_CANONICAL_NAN)
    table = _fp8_to_wide_table(fmt, 5, 10, FLOAT16_CANONICAL_NAN, np.uint16)
    return table[check_codes(code, "code")]


def check_bits(bits, width: int, what: str) -> np.ndarray:
    """``bits`` as a C-ordered ``uint<width>`` array of float bit patterns, or a one-line
    error naming the fix."""
    arr = np.asarray(bits)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"bits must hold {what} bit patterns as integers, not dtype "
                        f"{arr.dtype}: pass e.g. x.view(np.uint{width})")
    if arr.size and (arr.min() < 0 or arr.max() >= (1 << width)):
        raise ValueError(f"bits holds values outside 0..{(1 << width) - 1:#x}: "
                         f"pass {what} bit patterns")
    return np.array(arr, dtype=f"uint{width}", order="C")


def _wide_bits_to_fp8(fmt, bits, policy, exp_bits: int, man_bits: int, what: str):
    fmt = get_format(fmt)
    policy = check_policy(policy)
    width = 1 + exp_bits + man_bits
    exp_all = (1 << exp_bits) - 1
    bias = (1 << (exp_bits - 1)) - 1
    if _is_scalar_int(bits):
        bits = int(bits)
        if not 0 <= bits < (1 << width):
            raise ValueError(f"bits={bits:#x} is not a {what} bit pattern: use an int in "
                             f"0..{(1 << width) - 1:#x}")
        sign = bits >> (width - 1)
        e = (bits >> man_bits) & exp_all
        frac = bits & ((1 << man_bits) - 1)
        if e == exp_all:
            return fmt.canonical_nan if frac else _overflow_code(fmt, policy, sign)
        if e == 0:
            M, s = frac, 1 - bias - man_bits
        else:
            M, s = frac | (1 << man_bits), e - bias - man_bits
        value = M * Fraction(2) ** s
        return round_to_fp8(fmt, -value if sign else value, policy, sign_hint=sign)
    b = check_bits(bits, width, what).astype(np.int64)
    sign = b >> (width - 1)
    e = (b >> man_bits) & exp_all
    frac = b & ((1 << man_bits) - 1)
    M = np.where(e == 0, frac, frac | (1 << man_bits))
    s = np.where(e == 0, 1 - bias - man_bits, e - bias - man_bits)
    special = e == exp_all
    M = np.where(special, 0, M)
    out = _round_vec(fmt, policy, sign, M, s)
    out = np.where(special & (frac == 0), _overflow_codes(fmt, policy, sign), out)
    out = np.where(special & (frac != 0), fmt.canonical_nan, out)
    return out.astype(np.uint8)


def float32_bits_to_fp8(fmt, bits, policy: str = "torch"):
    """Round a float32 (given as its bit pattern) to an FP8 code, ties to even.

    Infinite inputs follow the overflow policy (``"torch"``: e4m3 gives
    ``+-448``, e5m2 ``+-inf``), NaN gives the canonical NaN, and a value that
    rounds to zero keeps its sign.  Accepts an ``int`` (exact Fraction path,
    returns ``int``) or an integer array (vectorised path, returns ``uint8``).
    """
    return _wide_bits_to_fp8(fmt, bits, policy, 8, 23, "float32")


def float16_bits_to_fp8(fmt, bits, policy: str = "torch"):
    """Round a float16 (given as its bit pattern) to an FP8 code, ties to even.

    Same rules as :func:`float32_bits_to_fp8`.
    """
    return _wide_bits_to_fp8(fmt, bits, policy, 5, 10, "float16")


def _exact_product_bits(fmt: Fp8Format, a: int, b: int) -> int:
    if is_nan(fmt, a) or is_nan(fmt, b):
        return FLOAT32_CANONICAL_NAN
    sign = (a ^ b) >> 7
    if is_inf(fmt, a) or is_inf(fmt, b):
        if (a & 0x7F) == 0 or (b & 0x7F) == 0:
            return FLOAT32_CANONICAL_NAN
        return (sign << 31) | 0x7F800000
    _, Ma, sa = _fields(fmt, a)
    _, Mb, sb = _fields(fmt, b)
    return _encode_exact(sign, Ma * Mb, sa + sb, 8, 23)


@functools.lru_cache(maxsize=None)
def _exact_product_table(fmt: Fp8Format) -> np.ndarray:
    table = np.array([[_exact_product_bits(fmt, a, b) for b in range(256)] for a in range(256)],
                     dtype=np.uint32)
    return _readonly(table)


def exact_product_float32_bits(fmt, a, b):
    """Float32 bit pattern of the exact product of two FP8 codes.

    An FP8 x FP8 product has at most 8 significant bits and an exponent well
    inside float32's normal range, so float32 holds it exactly: this is the
    value a multiplier has before its single rounding (and what torch computes
    in ``a.float() * b.float()``).  NaN operands and ``inf * 0`` give
    :data:`FLOAT32_CANONICAL_NAN`; zero products carry the XOR sign.
    Accepts ``int`` codes (returns ``int``) or integer arrays (returns ``uint32``).
    """
    fmt = get_format(fmt)
    if _is_scalar_int(a) and _is_scalar_int(b):
        return _exact_product_bits(fmt, _check_code(a, "a"), _check_code(b, "b"))
    a = check_codes(a, "a")
    b = check_codes(b, "b")
    return _exact_product_table(fmt)[a, b]
