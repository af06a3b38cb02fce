"""Exact, torch-free reference for IEEE-style arithmetic in any :class:`~.formats.FloatFormat`.

Python integers only: a finite code decodes to ``(-1)^s * m * 2^e`` with integer ``m`` and
``e``; add, sub and mul are then exact integer operations, division and square root exact
integer quotients and roots with a sticky bit for the remainder, and every result is rounded
*once* to nearest, ties to even (:func:`round_scaled`), with gradual underflow. This is the
arbiter for the torch goldens of the ``fadd``/``fsub``/``fmul``/``fdiv``/``fsqrt``/``fconvert``
units (the tests check torch against it, not the other way round) and the golden for custom
formats, which torch does not have.

Special values (one table for every format)
-------------------------------------------
* NaN in, or an invalid operation (``inf - inf``, ``0 * inf``, ``0/0``, ``inf/inf``,
  ``sqrt(x < 0)``): the canonical NaN of the format (:attr:`FloatFormat.canonical_nan`).
* An exactly zero sum is ``+0``, unless both addends are ``-0`` (``x - x = +0``); a product
  or quotient of zeros has the XOR of the signs; ``sqrt(-0) = -0``.
* ``x / 0`` for finite non-zero ``x``: infinity with the XOR of the signs; ``x / inf``: zero.
* A result that rounds to zero keeps the sign of the exact value.
* Overflow, and an infinite result (``inf + x``, ``inf * x``, ``x / 0``, ``sqrt(+inf)``),
  follow the overflow policy (:data:`~.formats.OVERFLOW`): infinity for IEEE formats under
  ``torch``/``ocp``, the largest finite value under ``satfinite`` and for E4M3 ``torch``,
  NaN for E4M3 ``ocp``.
"""

from __future__ import annotations

import math

import numpy as np

from .formats import FloatFormat, check_policy, get_format, overflow_code

__all__ = ["decode", "round_scaled", "add", "sub", "mul", "div", "sqrt", "convert",
           "OPS", "apply"]

_NAN, _INF, _FIN = "nan", "inf", "finite"


def decode(fmt: FloatFormat, code: int):
    """``(kind, sign, m, e)``: value ``(-1)^sign * m * 2^e`` for finite codes."""
    code = int(code)
    sign = code >> (fmt.width - 1)
    if fmt.is_nan(code):
        return _NAN, sign, 0, 0
    if fmt.is_inf(code):
        return _INF, sign, 0, 0
    f = (code >> fmt.man_bits) & fmt.exp_all
    m = code & ((1 << fmt.man_bits) - 1)
    if f == 0:
        return _FIN, sign, m, fmt.quantum_exp
    return _FIN, sign, m | (1 << fmt.man_bits), fmt.quantum_exp + f - 1


def _overflow(fmt, policy, sign):
    code, keeps_sign = overflow_code(fmt, policy)
    return (sign << (fmt.width - 1)) | code if keeps_sign else code


def round_scaled(fmt: FloatFormat, policy: str, sign: int, m: int, e: int,
                 sticky: bool = False) -> int:
    """Code of ``(-1)^sign * (m + d) * 2^e`` rounded to nearest even, ``0 <= d < 1`` and
    ``d > 0`` exactly when ``sticky``. The caller keeps ``m`` wide enough that the rounding
    position lies at least two bits above its LSB whenever ``sticky`` is set."""
    if m == 0 and not sticky:
        return sign << (fmt.width - 1)
    M, q = fmt.man_bits, fmt.quantum_exp
    L = e + m.bit_length() - 1                       # floor(log2 |value|)
    qq = max(L - M, q)                               # exponent of the kept LSB
    shift = qq - e
    if shift <= 0:
        if sticky:
            raise ValueError("round_scaled: too few significand bits below the rounding "
                             "position for a sticky value")
        n = m << -shift
    else:
        n, rest = m >> shift, m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rest > half or (rest == half and (sticky or n & 1)):
            n += 1
    code = ((qq - q) << M) + n                       # codes are linear in the magnitude
    if code > fmt.max_code:
        return _overflow(fmt, policy, sign)
    return (sign << (fmt.width - 1)) | code


def _special(fmt, policy, kind, sign):
    if kind == _NAN:
        return fmt.canonical_nan
    return _overflow(fmt, policy, sign)              # an infinite result


def add(fmt, a: int, b: int, policy: str = "torch") -> int:
    fmt = get_format(fmt)
    ka, sa, ma, ea = decode(fmt, a)
    kb, sb, mb, eb = decode(fmt, b)
    if _NAN in (ka, kb) or (ka == kb == _INF and sa != sb):
        return fmt.canonical_nan
    if _INF in (ka, kb):
        return _special(fmt, policy, _INF, sa if ka == _INF else sb)
    e = min(ea, eb)
    total = (-1) ** sa * (ma << (ea - e)) + (-1) ** sb * (mb << (eb - e))
    if total == 0:
        return (sa & sb) << (fmt.width - 1)
    return round_scaled(fmt, policy, int(total < 0), abs(total), e)


def sub(fmt, a: int, b: int, policy: str = "torch") -> int:
    fmt = get_format(fmt)
    if fmt.is_nan(b):
        return fmt.canonical_nan
    return add(fmt, a, int(b) ^ fmt.sign_bit, policy)


def mul(fmt, a: int, b: int, policy: str = "torch") -> int:
    fmt = get_format(fmt)
    ka, sa, ma, ea = decode(fmt, a)
    kb, sb, mb, eb = decode(fmt, b)
    sign = sa ^ sb
    if _NAN in (ka, kb) or (ka == _INF and kb == _FIN and mb == 0) \
            or (kb == _INF and ka == _FIN and ma == 0):
        return fmt.canonical_nan
    if _INF in (ka, kb):
        return _special(fmt, policy, _INF, sign)
    return round_scaled(fmt, policy, sign, ma * mb, ea + eb)


def _guard(fmt):
    return fmt.man_bits + 3                          # significant bits before the sticky


def div(fmt, a: int, b: int, policy: str = "torch") -> int:
    fmt = get_format(fmt)
    ka, sa, ma, ea = decode(fmt, a)
    kb, sb, mb, eb = decode(fmt, b)
    sign = sa ^ sb
    if _NAN in (ka, kb) or ka == kb == _INF or (ka == kb == _FIN and ma == mb == 0):
        return fmt.canonical_nan
    if ka == _INF or (kb == _FIN and mb == 0):
        return _special(fmt, policy, _INF, sign)
    if kb == _INF or ma == 0:
        return sign << (fmt.width - 1)
    k = max(0, _guard(fmt) + mb.bit_length() - ma.bit_length() + 1)
    quo, rem = divmod(ma << k, mb)
    return round_scaled(fmt, policy, sign, quo, ea - eb - k, rem != 0)


def sqrt(fmt, a: int, policy: str = "torch") -> int:
    fmt = get_format(fmt)
    ka, sa, ma, ea = decode(fmt, a)
    if ka == _NAN or (sa and not (ka == _FIN and ma == 0)):
        return fmt.canonical_nan
    if ka == _INF:
        return _special(fmt, policy, _INF, 0)
    if ma == 0:
        return sa << (fmt.width - 1)                 # sqrt(-0) = -0
    k = max(0, 2 * _guard(fmt) + 2 - ma.bit_length())
    k += (ea - k) & 1                                # an even exponent
    root = math.isqrt(ma << k)
    return round_scaled(fmt, policy, 0, root, (ea - k) // 2, root * root != ma << k)


def convert(src, dst, a: int, policy: str = "torch") -> int:
    """``a`` in ``src`` rounded to ``dst`` (exact when ``dst`` holds every ``src`` value)."""
    src, dst = get_format(src), get_format(dst)
    ka, sa, ma, ea = decode(src, a)
    if ka != _FIN:
        return _special(dst, policy, ka, sa)
    return round_scaled(dst, policy, sa, ma, ea)


#: The binary and unary operations by unit name: ``(function, arity)``.
OPS = {"fadd": (add, 2), "fsub": (sub, 2), "fmul": (mul, 2), "fdiv": (div, 2),
       "fsqrt": (sqrt, 1)}


def apply(op: str, fmt, *codes, policy: str = "torch") -> np.ndarray:
    """``op`` elementwise over code arrays (uint64 result codes); scalar, for reference."""
    fmt = get_format(fmt)
    check_policy(policy)
    fn, arity = OPS[op]
    if len(codes) != arity:
        raise ValueError(f"{op} takes {arity} operand(s), not {len(codes)}")
    cols = [np.asarray(c, dtype=np.uint64).reshape(-1).tolist() for c in codes]
    return np.array([fn(fmt, *xs, policy) for xs in zip(*cols)], dtype=np.uint64)
