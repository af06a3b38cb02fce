"""Exact, torch-free golden of correctly rounded unary functions (``exp`` ... ``rsqrt``).

Every finite input code decodes exactly to ``x = (-1)^s * m * 2^e`` (:func:`.float_ref.decode`)
and the result is rounded *once*, to nearest even, to the output format (any
:class:`~.formats.FloatFormat`; by default the input format), with the overflow policy of
:data:`~.formats.OVERFLOW` and gradual underflow (:func:`.float_ref.round_scaled`).

How the value is obtained
-------------------------
* ``recip`` and ``rsqrt``: exact integer arithmetic (a quotient, an integer square root)
  with a sticky bit for the remainder, as :func:`.float_ref.div` and :func:`.float_ref.sqrt`:
  exact results (``recip(2) = 0.5``, ``rsqrt(4) = 0.5``) are found exactly, not by precision.
* the transcendental ones, first in float64 (C libm: ``math.exp``, ``math.expm1``,
  ``math.erfc``, errors of a few ULP of ``2^-53``), trusted to within a relative
  ``2^-FAST_BITS`` (``2^-40``, thousands of times the libm error): when both ends of that
  interval round to one code, that is the result (most inputs of a 16-bit format; this makes
  a 65,536-entry table take about a second). Otherwise, near a rounding boundary, and
  wherever float64 overflows or loses bits (``exp`` beyond +-700), mpmath at ``PREC`` (160) bits, with an error bound
  ``|v - f(x)| <= |v| * 2^-(p - g)`` (``g`` = 12 guard bits for the few correctly-rounded-ish
  mpmath operations, plus the log2 of the condition number of the one inexact argument:
  ``erfc(z)`` for GELU, ``exp(w)`` for tanh-GELU). Both ends of the interval are rounded
  exactly; RNE is monotone, so when they give one code, so does ``f(x)``; otherwise the
  precision doubles (Ziv's loop, up to ``MAX_PREC`` bits, beyond which it raises). For a
  non-zero finite rational ``x``, ``exp``, ``sigmoid``, ``tanh`` and ``silu`` are
  transcendental (Lindemann-Weierstrass), so they are never a float or a midpoint and the
  loop ends; the only exact finite results are at ``x = 0`` and come from the table below.
  The forms avoid cancellation: ``tanh x = t / (t + 2)`` with ``t = expm1(2x)``,
  ``gelu x = x/2 * erfc(-x/sqrt2)``, ``gelu_tanh x = x / (1 + exp(-2u))``,
  ``u = sqrt(2/pi) * (x + 0.044715 x^3)``.

The functions
-------------
==============  ==========================================================================
``exp``         ``e^x``
``sigmoid``     ``1 / (1 + e^-x)``
``tanh``        ``tanh x``
``silu``        ``x * sigmoid(x)``
``gelu``        ``x/2 * (1 + erf(x / sqrt 2))``  (torch's default, erf form)
``gelu-tanh``   ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``  (torch's
                ``approximate="tanh"``; ``0.5`` and ``0.044715`` exact decimals, ``sqrt(2/pi)``
                the exact real)
``recip``       ``1 / x``
``rsqrt``       ``1 / sqrt x``
==============  ==========================================================================

Special values (the one table, :data:`SPECIALS`)
------------------------------------------------
The mathematical limits; a NaN in, or ``rsqrt`` of a negative number (``-0`` aside), gives
the canonical NaN of the output format; an infinite result (``exp(+inf)``, ``recip(+-0)``,
...) follows the overflow policy, as does a finite result whose rounded magnitude passes the
largest finite value (``exp(88.7)`` in bf16: infinity under ``torch``); a non-zero result
that rounds to zero keeps its sign (``silu(-20)`` in e4m3 is ``-0``).

============  ========  ========  =========  =========  ========  ========
function      ``+0``    ``-0``    ``+inf``   ``-inf``   ``x<0``   NaN
============  ========  ========  =========  =========  ========  ========
exp           1         1         +inf       +0                   NaN
sigmoid       1/2       1/2       1          +0                   NaN
tanh          +0        -0        1          -1                   NaN
silu          +0        -0        +inf       -0                   NaN
gelu          +0        -0        +inf       -0                   NaN
gelu-tanh     +0        -0        +inf       -0                   NaN
recip         +inf      -inf      +0         -0                   NaN
rsqrt         +inf      -inf      +0         NaN        NaN       NaN
============  ========  ========  =========  =========  ========  ========

``torch_function`` is what torch computes (float32 of the input value, torch's float32
function, cast to the output dtype), for the reports beside this golden.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np

from .float_ref import decode, round_scaled
from .formats import check_policy, get_format, overflow_code

__all__ = ["FUNCTIONS", "SPECIALS", "PREC", "MAX_PREC", "function_code", "function_table",
           "golden_function", "faithful_alternative", "function_vectors", "torch_function",
           "ZivStats"]

FUNCTIONS = ("exp", "sigmoid", "tanh", "silu", "gelu", "gelu-tanh", "recip", "rsqrt")

#: Working precision of the first evaluation, and the most the Ziv loop goes to.
PREC, MAX_PREC = 160, 1 << 14
#: Guard bits of the error bound beyond the condition number.
GUARD = 12
#: The float64 first pass is trusted to ``2^-FAST_BITS`` relative.
FAST_BITS = 40
#: ``|x|`` beyond which ``exp`` leaves every format of at most 11 exponent bits: ``e^710 >
#: 2^1024``, ``e^-750 < 2^-1082``, below half the least subnormal of ``e11m52``.
EXP_LIMITS = (-750.0, 710.0)

#: Special inputs -> result, per function: ``Fraction`` (rounded to the output format),
#: ``"+0"``/``"-0"``, ``"+inf"``/``"-inf"`` (through the overflow policy), ``"nan"``.
#: Keys: ``"+0"``, ``"-0"``, ``"+inf"``, ``"-inf"``; ``"neg"``: every finite ``x < 0``.
SPECIALS = {
    "exp":       {"+0": Fraction(1), "-0": Fraction(1), "+inf": "+inf", "-inf": "+0"},
    "sigmoid":   {"+0": Fraction(1, 2), "-0": Fraction(1, 2), "+inf": Fraction(1),
                  "-inf": "+0"},
    "tanh":      {"+0": "+0", "-0": "-0", "+inf": Fraction(1), "-inf": Fraction(-1)},
    "silu":      {"+0": "+0", "-0": "-0", "+inf": "+inf", "-inf": "-0"},
    "gelu":      {"+0": "+0", "-0": "-0", "+inf": "+inf", "-inf": "-0"},
    "gelu-tanh": {"+0": "+0", "-0": "-0", "+inf": "+inf", "-inf": "-0"},
    "recip":     {"+0": "+inf", "-0": "-inf", "+inf": "+0", "-inf": "-0"},
    "rsqrt":     {"+0": "+inf", "-0": "-inf", "+inf": "+0", "-inf": "nan", "neg": "nan"},
}

GELU_TANH_C = Fraction(44715, 10 ** 6)


class ZivStats:
    """How often the Ziv loop needed more than the first precision (read by the tests)."""
    escalations: dict = {}


def check_function(name) -> str:
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}: choose one of {', '.join(FUNCTIONS)}")
    return name


def _round_special(out, policy, value):
    if isinstance(value, Fraction):
        sign = int(value < 0)
        v = abs(value)
        # v = n / d with d a power of two for every table entry
        d = v.denominator
        if d & (d - 1):
            raise ValueError("special-value table entries are dyadic")
        return round_scaled(out, policy, sign, v.numerator, -(d.bit_length() - 1))
    if value == "nan":
        return out.canonical_nan
    sign = int(value[0] == "-")
    if value.endswith("0"):
        return sign << (out.width - 1)
    code, keeps_sign = overflow_code(out, policy)             # an infinite result
    return (sign << (out.width - 1)) | code if keeps_sign else code


def _mpf_parts(v):
    """``(sign, man, exp)`` of a finite non-zero mpf: ``v = (-1)^sign * man * 2^exp``."""
    sign, man, exp, _ = v._mpf_
    return int(sign), int(man), int(exp)


def _evaluate(name, x, prec):
    """``(value, log2 condition)`` of ``f(x)`` at ``prec`` bits (``x`` an exact mpf)."""
    mp = mpmath.mp
    with mp.workprec(prec):
        if name == "exp":
            return mpmath.exp(x), 0
        if name == "sigmoid":
            return 1 / (1 + mpmath.exp(-x)), 0
        if name == "silu":
            return x / (1 + mpmath.exp(-x)), 0
        if name == "tanh":
            t = mpmath.expm1(2 * x)
            return t / (t + 2), 0
        if name == "gelu":
            z = -x / mpmath.sqrt(2)
            cond = 2 * z * z + 2 if z > 0 else abs(z) + 2     # |z erfc'(z) / erfc(z)| bound
            return x / 2 * mpmath.erfc(z), int(cond).bit_length()
        if name == "gelu-tanh":
            c = mpmath.mpf(GELU_TANH_C.numerator) / GELU_TANH_C.denominator
            u = mpmath.sqrt(2 / mpmath.pi) * (x + c * x ** 3)
            return x / (1 + mpmath.exp(-2 * u)), int(abs(2 * u) + 2).bit_length()
    raise ValueError(name)


#: The tails: ``name -> (w(x) for x > 0, w(x) for x < 0, kind)``. Beyond a few units of
#: ``|x|`` each function is within ``e^-w`` of its limit (``x > 0``: ``f(x) in [L(1 - e^-w),
#: L]`` with ``L = 1`` or ``x``; ``x < 0``: ``f(x)`` between ``0`` and ``L e^-w``, ``L = 1``,
#: ``x`` or ``-1``), rigorous bounds: ``erfc z <= e^(-z^2)``, ``1/(1 + e^w) <= e^-w``,
#: ``1 - tanh x <= 2 e^-2x``.
_TAILS = {
    "sigmoid": (lambda x: x, lambda x: -x, "one"),
    "tanh": (lambda x: 2 * x - 1.0, lambda x: -2 * x - 1.0, "odd"),
    "silu": (lambda x: x, lambda x: -x, "x"),
    "gelu": (lambda x: x * x / 2, lambda x: x * x / 2, "x"),
    "gelu-tanh": (lambda x: 2 * math.sqrt(2 / math.pi) * abs(x + 0.044715 * x ** 3),
                  lambda x: 2 * math.sqrt(2 / math.pi) * abs(x + 0.044715 * x ** 3), "x"),
}
#: Most bits of a tail bound used (a valid, looser bound beyond it).
_TAIL_CAP = 4096


def _tail(name, out, policy, sign, m, e):
    """The code from the tail bound when it decides the rounding, else ``None``."""
    if name not in _TAILS:
        return None
    x = math.ldexp(-m if sign else m, e)
    w = _TAILS[name][sign](x)
    # e^-w <= 2^-K: floor(w log2 e), made conservative for the float evaluation
    w = min(w, 1e15) * math.log2(math.e) * (1 - 1e-9)
    K = min(math.floor(w) - 2, _TAIL_CAP)
    if K < 24:
        return None
    kind = _TAILS[name][2]
    # the limit magnitude L = lm * 2^le and its sign
    lm, le, ls = (1, 0, 0) if kind == "one" else ((1, 0, sign) if kind == "odd" else
                                                    (m, e, sign))
    if sign == 0 or kind == "odd":                 # |f| in [L (1 - 2^-K), L]
        lo = round_scaled(out, policy, ls, lm * ((1 << K) - 1), le - K)
        hi = round_scaled(out, policy, ls, lm, le)
    else:                                          # |f| in [0, L 2^-K], sign of f = ls
        lo = round_scaled(out, policy, ls, 0, 0)
        hi = round_scaled(out, policy, ls, lm, le - K)
    return lo if lo == hi else None


#: ``f(x)`` in float64 in cancellation-free forms, over a math namespace ``m`` (``math`` on
#: floats, :data:`_NUMPY_MATH` on arrays, ``torch`` on float64 tensors): for first passes
#: and for choosing vectors, never as a golden.
FLOAT64_FORMS = {
    "exp": lambda x, m: m.exp(x),
    "sigmoid": lambda x, m: 1.0 / (1.0 + m.exp(-x)),
    "silu": lambda x, m: x / (1.0 + m.exp(-x)),
    "tanh": lambda x, m: (lambda t: t / (t + 2.0))(m.expm1(2.0 * x)),
    "gelu": lambda x, m: x / 2.0 * m.erfc(-x / math.sqrt(2.0)),
    "gelu-tanh": lambda x, m: x / (1.0 + m.exp(-2.0 * math.sqrt(2.0 / math.pi)
                                                 * (x + 0.044715 * x ** 3))),
    "rsqrt": lambda x, m: 1.0 / m.sqrt(x),
}


class _NUMPY_MATH:
    """numpy's float64 functions under the names of :mod:`math` (erfc elementwise)."""

    exp, expm1, sqrt = np.exp, np.expm1, np.sqrt
    erfc = staticmethod(np.vectorize(math.erfc, otypes=[np.float64]))


def _float64(name, x):
    """``f(x)`` for one float ``x`` (exact), by :data:`FLOAT64_FORMS`."""
    if name not in FLOAT64_FORMS:
        raise ValueError(name)
    return FLOAT64_FORMS[name](x, math)


def _fast(name, out, policy, sign, m, e):
    """The code from the float64 first pass when it decides the rounding, else ``None``."""
    try:
        v = _float64(name, math.ldexp(-m if sign else m, e))
    except (OverflowError, ZeroDivisionError):
        return None
    if not 2.0 ** -1000 < abs(v) < 2.0 ** 1000:
        return None
    num, den = abs(v).as_integer_ratio()            # den a power of two
    s, ex = int(v < 0), -(den.bit_length() - 1) - FAST_BITS
    lo = round_scaled(out, policy, s, num * ((1 << FAST_BITS) - 1), ex)
    hi = round_scaled(out, policy, s, num * ((1 << FAST_BITS) + 1), ex)
    return lo if lo == hi else None


def _ziv(name, out, policy, sign, m, e, fast=True):
    """Correctly rounded ``f((-1)^sign * m * 2^e)`` (finite, non-zero) by Ziv's loop."""
    code = _tail(name, out, policy, sign, m, e)
    if name == "exp" and not EXP_LIMITS[0] <= math.ldexp(-m if sign else m, e) <= EXP_LIMITS[1]:
        return round_scaled(out, policy, 0, 1, 1100 if sign == 0 else -1100)
    if code is None and fast:
        code = _fast(name, out, policy, sign, m, e)
    if code is not None:
        return code
    prec = PREC
    while prec <= MAX_PREC:
        with mpmath.mp.workprec(prec + 64):
            x = mpmath.ldexp(mpmath.mpf(-m if sign else m), e)     # exact
        v, cond = _evaluate(name, x, prec)
        if v == 0:
            raise ArithmeticError(f"{name}: zero at {prec} bits")
        k = prec - GUARD - cond
        if k > 8:
            s, man, ex = _mpf_parts(v)
            lo = round_scaled(out, policy, s, man * ((1 << k) - 1), ex - k)
            hi = round_scaled(out, policy, s, man * ((1 << k) + 1), ex - k)
            if lo == hi:
                if prec > PREC:
                    ZivStats.escalations[(name, out.name, sign, m, e)] = prec
                return lo
        prec *= 2
    raise ArithmeticError(f"{name}(({-1 if sign else 1}) * {m} * 2^{e}): the Ziv loop did not "
                          f"settle by {MAX_PREC} bits (an exact case the table misses?)")


def _recip(out, policy, sign, m, e):
    k = out.man_bits + 4 + m.bit_length()
    quo, rem = divmod(1 << k, m)
    return round_scaled(out, policy, sign, quo, -e - k, rem != 0)


def _rsqrt(out, policy, m, e):
    if e & 1:
        m, e = m << 1, e - 1
    k = out.man_bits + 4 + (m.bit_length() + 1) // 2
    num, rem = divmod(1 << (2 * k), m)
    root = math.isqrt(num)
    return round_scaled(out, policy, 0, root, -k - e // 2, rem != 0 or root * root != num)


def function_code(name, fmt, code, out=None, policy="torch", fast=True) -> int:
    """The correctly rounded ``name(code)``: an ``out``-format code (scalar reference).
    ``fast=False`` skips the float64 first pass (the tests check one against the other)."""
    check_function(name)
    check_policy(policy)
    fmt = get_format(fmt)
    out = get_format(out) if out is not None else fmt
    kind, sign, m, e = decode(fmt, code)
    table = SPECIALS[name]
    if kind == "nan":
        return out.canonical_nan
    if kind == "inf":
        return _round_special(out, policy, table["-inf" if sign else "+inf"])
    if m == 0:
        return _round_special(out, policy, table["-0" if sign else "+0"])
    if sign and "neg" in table:
        return _round_special(out, policy, table["neg"])
    if name == "recip":
        return _recip(out, policy, sign, m, e)
    if name == "rsqrt":
        return _rsqrt(out, policy, m, e)
    return _ziv(name, out, policy, sign, m, e, fast)


@lru_cache(maxsize=None)
def _table(name, fmt_name, out_name, policy):
    fmt = get_format(fmt_name)
    return tuple(function_code(name, fmt, c, out_name, policy) for c in range(1 << fmt.width))


def function_table(name, fmt, out=None, policy="torch") -> np.ndarray:
    """All ``2^width`` results of an input format of at most 16 bits (cached)."""
    fmt = get_format(fmt)
    out = get_format(out) if out is not None else fmt
    if fmt.width > 16:
        raise ValueError(f"function_table: {fmt.name} has too many codes for a table")
    return np.array(_table(check_function(name), fmt.name, out.name, check_policy(policy)),
                    dtype=np.uint64)


def golden_function(name, fmt, codes, out=None, policy="torch") -> np.ndarray:
    """The correctly rounded results for an array of input codes (uint64 output codes)."""
    fmt = get_format(fmt)
    codes = np.asarray(codes, dtype=np.uint64).reshape(-1)
    if fmt.width <= 16:
        return function_table(name, fmt, out, policy)[codes.astype(np.int64)]
    return np.array([function_code(name, fmt, int(c), out, policy) for c in codes],
                    dtype=np.uint64)


#: Functions whose result has the sign of ``x`` (the others are positive).
_ODD_SIGN = ("tanh", "silu", "gelu", "gelu-tanh", "recip")


def _tail_interval(name, sign, m, e):
    """``(lo, hi, limit)``: an interval holding ``f(x)`` from the tail bounds of
    :data:`_TAILS`, with the limit it approaches (never reached), or ``None``."""
    if name not in _TAILS:
        return None
    x = math.ldexp(-m if sign else m, e)
    w = min(_TAILS[name][sign](x), 1e15) * math.log2(math.e) * (1 - 1e-9)
    K = min(math.floor(w) - 2, _TAIL_CAP)
    if K < 24:
        return None
    kind = _TAILS[name][2]
    L = Fraction(1) if kind == "one" else Fraction(-1 if sign else 1) if kind == "odd" \
        else Fraction(-m if sign else m) * Fraction(2) ** e
    d = abs(L) * Fraction(2) ** -K
    if sign == 0 or kind == "odd":                   # within d of L, on the side of 0
        return (L - d, L, L) if L > 0 else (L, L + d, L)
    return (min(Fraction(0), L * Fraction(2) ** -K), max(Fraction(0), L * Fraction(2) ** -K),
            Fraction(0))


def _direction(name, sign, m, e, value: Fraction) -> int:
    """The sign of ``f(x) - value`` (``x = (-1)^sign m 2^e`` finite and non-zero, ``value``
    a finite float; 0 when ``f(x)`` equals it): exact rationals for recip and rsqrt; for the
    others the tail bounds, float64 trusted to ``2^-FAST_BITS``, then mpmath with a rigorous
    bound at doubling precision (``f(x)`` is transcendental there, never a float). Against
    ``value = 0`` it is the sign of ``f(x)`` itself."""
    if value == 0:
        return -1 if sign and name in _ODD_SIGN else 1
    if name in ("recip", "rsqrt"):               # exact rational comparisons (0: exact)
        x = Fraction(-m if sign else m) * Fraction(2) ** e
        lhs, rhs = (1 / x, value) if name == "recip" else (1 / x, value * value)
        return (lhs > rhs) - (lhs < rhs)
    box = _tail_interval(name, sign, m, e)
    if box is not None:
        lo, hi, limit = box
        if value == limit:                       # f never reaches its limit
            return -1 if limit > lo else 1
        if not lo <= value <= hi:
            return 1 if lo > value else -1
    x = math.ldexp(-m if sign else m, e)
    try:
        v = _float64(name, x)
    except (OverflowError, ZeroDivisionError):
        v = math.nan
    if 2.0 ** -1000 < abs(v) < 2.0 ** 1000 and \
            abs(Fraction(v) - value) > abs(Fraction(v)) * Fraction(2) ** -FAST_BITS:
        return 1 if Fraction(v) > value else -1
    prec = PREC
    while prec <= MAX_PREC:
        with mpmath.mp.workprec(prec + 64):
            xm = mpmath.ldexp(mpmath.mpf(-m if sign else m), e)
            target = mpmath.ldexp(mpmath.mpf(value.numerator), 0) / value.denominator
        fx, cond = _evaluate(name, xm, prec)
        with mpmath.mp.workprec(prec + 64):
            diff = fx - target
            if abs(diff) > abs(fx) * mpmath.ldexp(1, -(prec - GUARD - cond)):
                return 1 if diff > 0 else -1
        prec *= 2
    raise ArithmeticError(f"{name}: cannot separate f(x) from {value} by {MAX_PREC} bits")


def faithful_alternative(name, fmt, codes, cr, out=None, policy="torch") -> np.ndarray:
    """For each input code, the other result a *faithful* (error below one ULP) unit may
    give beside the correctly rounded ``cr``: the neighbour of ``cr`` on the side of the
    exact value (``cr`` itself when the result is exact, special or NaN, or when that
    neighbour would pass a saturating policy's largest finite value)."""
    fmt = get_format(fmt)
    out = get_format(out) if out is not None else fmt
    codes = np.asarray(codes, dtype=np.uint64).reshape(-1)
    cr = np.asarray(cr, dtype=np.uint64).reshape(-1)
    top = 1 << (out.width - 1)
    inf_code = overflow_code(out, "torch")[0]
    alt = cr.copy()
    for i, (c, r) in enumerate(zip(codes.tolist(), cr.tolist())):
        kind, sign, m, e = decode(fmt, c)
        if kind != "finite" or m == 0 or (sign and "neg" in SPECIALS[name]):
            continue
        rk, rs, rm, re_ = decode(out, r)
        if rk == "nan":
            continue
        mag = r & (top - 1)
        if rk == "inf":                              # overflowed: the largest finite below
            alt[i] = (r & top) | (mag - 1)
            continue
        value = Fraction(-rm if rs else rm) * Fraction(2) ** re_
        d = _direction(name, sign, m, e, value)
        if d == 0:                                   # exact (recip, rsqrt)
            continue
        if rm == 0:                                  # +-0: the least subnormal of f's sign
            alt[i] = (top if d < 0 else 0) | 1
            continue
        up = (d > 0) != bool(rs)                     # the magnitude grows
        new = mag + 1 if up else mag - 1
        if up and new > (out.max_code & (top - 1)) and not (
                new == inf_code and overflow_code(out, policy)[0] == inf_code):
            continue                                 # saturating: nothing above the max
        alt[i] = (r & top) | new
    return alt


#: Where each fp32 function's result changes character: ``(lo, hi)`` of the finite range
#: that is neither ``+0``/``1``/infinity, for the directed vectors.
_RANGES32 = {"exp": (-104.0, 89.0), "sigmoid": (-104.0, 20.0), "silu": (-120.0, 20.0),
             "tanh": (-10.0, 10.0), "gelu": (-16.0, 8.0), "rsqrt": (0.0, 2.0 ** 20)}


def function_vectors(name, fmt, count, seed=0) -> np.ndarray:
    """Input codes for a function of an input space too large to enumerate (fp32): the
    special values, the thresholds of the result's range (overflow, underflow, rounding to
    1) and a few codes either side, the inputs nearest a rounding boundary among many
    candidates (float64 within ``2^-30`` of an fp32 midpoint: the hard cases), then uniform
    values over the function's range and uniform bit patterns."""
    fmt = get_format(fmt)
    if fmt.name != "fp32":
        raise ValueError(f"function_vectors draws fp32 inputs, not {fmt.name}")
    rng = np.random.default_rng(seed)
    lo, hi = _RANGES32.get(name, (-100.0, 100.0))
    f32 = np.float32
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0 ** -149, -(2.0 ** -149),
             2.0 ** -126, 2.0 ** -25, -(2.0 ** -25), 2.0 ** -24, -(2.0 ** -24), 2.0 ** -30,
             lo, hi, 88.72283935546875, -87.33654022216797, -103.97208404541016, 128.0, -128.0,
             2.0 ** -126 * 3, -(2.0 ** -126) * 3, 2.0 ** -125, 16.6355, 17.3287, 20.0, -120.0]
    base = np.array(edges, f32).view(np.uint32).astype(np.int64)
    near = (base[:, None] + np.arange(-8, 9)[None, :]).reshape(-1)
    near = near[(near >= 0) & (near < 1 << 32)]
    cand = rng.uniform(lo, hi, max(count, 1 << 16) * 4).astype(f32)
    with np.errstate(all="ignore"):
        v = FLOAT64_FORMS[name](cand.astype(np.float64), _NUMPY_MATH)
        q = np.ldexp(1.0, np.maximum(np.floor(np.log2(np.abs(v))), -126).astype(int) - 23)
        frac = np.abs(v / q - np.floor(v / q) - 0.5)
    hard = cand[np.argsort(frac, kind="stable")[:count // 8]].view(np.uint32).astype(np.int64)
    n_range = count // 2
    uniform = rng.uniform(lo, hi, n_range).astype(f32).view(np.uint32).astype(np.int64)
    bits = rng.integers(0, 1 << 32, max(count - len(near) - len(hard) - n_range, 0),
                        dtype=np.int64)
    return np.concatenate([near, hard, uniform, bits])[:count].astype(np.uint64)


def torch_function(name, fmt, codes, out=None, native=False) -> np.ndarray:
    """What torch computes: its float32 ``name`` of the input values, cast to ``out`` (NaNs
    mapped to the canonical NaN); ``native``: ``name`` on a tensor of the input dtype itself
    (its own kernel, output dtype = input dtype). For reports beside the exact golden."""
    import torch
    import torch.nn.functional as F

    from .torch_float import codes_to_tensor, tensor_to_codes, torch_dtype_of
    fmt = get_format(fmt)
    out = get_format(out) if out is not None else fmt
    x = codes_to_tensor(fmt, codes)
    if native:
        if out != fmt:
            raise ValueError("torch_function: a native evaluation keeps the input format")
    else:
        x = x.float()
    fn = {"exp": torch.exp, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu,
          "gelu": F.gelu, "gelu-tanh": lambda t: F.gelu(t, approximate="tanh"),
          "recip": torch.reciprocal, "rsqrt": torch.rsqrt}[check_function(name)]
    return tensor_to_codes(out, fn(x).to(torch_dtype_of(out)))
