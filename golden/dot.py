"""Exact, torch-free reference for FP8 dot products and linear layers.

A dot product ``y = sum_i x_i * w_i (+ bias)`` over FP8 codes is computed here with Python
integers only: every FP8 x FP8 product is an integer multiple of ``2**(2*qexp)`` (``qexp``
the exponent of the smallest subnormal), so the exact sum is one integer ``S`` and the
value ``S * 2**(2*qexp)``. That sum is rounded *once*, to nearest even, into the output
format (``fp32``, ``fp16``, ``e4m3`` or ``e5m2``): the correctly rounded dot product,
independent of summation order. This is what the ``exact`` (Kulisch) accumulation mode of
:mod:`spikegate.gen.dot` computes.

Special values
--------------
NaN in (an input, a weight or the bias), ``inf * 0`` (E5M2) or infinite terms of both
signs give the canonical NaN of the output format (``0x7FC00000``, ``0x7E00``, ``0x7F``).
Otherwise an infinite term gives an infinity of its sign, which an FP8 output treats like
any overflow (its policy; e.g. E4M3 ``torch`` saturates to 448). A sum that is exactly zero
is ``+0``, unless every term (bias included) is ``-0``: the IEEE rule for a sum of zeros,
which is what any order of IEEE additions gives. (``torch.matmul`` starts its accumulators
at ``+0`` and so never returns ``-0`` for all-``-0`` rows: the cross-check in the tests
compares zero results by value.)

Why not just torch? ``float64`` holds every E4M3 dot product of up to 2**8 terms exactly,
but torch casts ``float64`` to ``float16`` and to FP8 *through float32*, which rounds twice
(``1.0625 + 2**-30`` becomes E4M3 ``1.0``, not ``1.125``). The rounding here is one exact
step; the tests cross-check the sums against torch's float64 matmul where that is exact.
"""

from __future__ import annotations

import numpy as np

from . import formats as _formats
from .formats import FloatFormat
from .fp8 import check_policy, get_format

__all__ = ["OutFormat", "OUT_FORMATS", "get_out_format", "overflow", "ACCUM_MODES", "ORDERS",
           "product_units", "exact_terms", "round_int", "dot_exact", "dot_exact_fast",
           "dot_exact_scalar",
           "linear_exact", "decode_out", "relu_ref"]

ACCUM_MODES = ("exact", "fp32", "fp16", "fp8")
ORDERS = ("tree", "sequential")


#: Output formats of dot products are float formats of :mod:`.formats` (any of them).
OutFormat = FloatFormat
FP32, FP16 = _formats.FP32, _formats.FP16
#: The accumulation/output formats the dot-product generators are documented for.
OUT_FORMATS = {name: _formats.FORMATS[name] for name in ("fp32", "fp16", "e4m3", "e5m2")}


def get_out_format(name) -> OutFormat:
    """Any float format (:func:`.formats.get_format`)."""
    return _formats.get_format(name)


def overflow(out: OutFormat, policy, sign) -> int:
    """Code of an overflowing (or infinite) result of this sign. The dot products' policy is
    an FP8 policy: float16/float32 results overflow to infinity, as torch's."""
    code, keeps_sign = _formats.overflow_code(out, policy if out.is_fp8 else "torch")
    return (sign << (out.width - 1)) | code if keeps_sign else code


def round_int(out: OutFormat, total: int, scale: int, *, policy="torch", zero_sign=0) -> int:
    """Code of ``total * 2**scale`` rounded once to nearest even (ties to even) in ``out``."""
    if total == 0:
        return zero_sign << (out.width - 1)
    sign = 1 if total < 0 else 0
    mag = -total if sign else total
    M = out.man_bits
    L = mag.bit_length() - 1
    q = max(L + scale, out.emin) - M          # exponent of the kept LSB
    k = scale - q
    if k >= 0:
        m = mag << k
    else:
        m, r = mag >> -k, mag & ((1 << -k) - 1)
        half = 1 << (-k - 1)
        if r > half or (r == half and m & 1):
            m += 1
    if m >> (M + 1):
        m >>= 1
        q += 1
    if m >> M:
        code = ((q + M + out.bias) << M) | (m - (1 << M))
    else:
        code = m
    if code > out.max_code:
        return overflow(out, policy, sign)
    return (sign << (out.width - 1)) | code


def decode_out(out, codes) -> np.ndarray:
    """Float64 values of output codes (for accuracy figures; NaN stays NaN)."""
    out = get_out_format(out)
    codes = np.asarray(codes, dtype=np.uint64).reshape(-1)
    if out.is_fp8:
        from .fp8 import decode
        table = np.array([float(decode(out, c)) for c in range(256)])
        return table[codes.astype(np.int64)]
    if out.width == 16:
        return codes.astype(np.uint16).view(np.float16).astype(np.float64)
    return codes.astype(np.uint32).view(np.float32).astype(np.float64)


def _fields(fmt: FloatFormat, codes):
    """Vectorised (sign, significand, effective exponent, nan, inf, zero) of FP8 codes."""
    c = np.asarray(codes, dtype=np.int64)
    M, E = fmt.man_bits, fmt.exp_bits
    sign = c >> 7
    e = (c >> M) & ((1 << E) - 1)
    man = c & ((1 << M) - 1)
    if fmt.has_inf:
        special = e == (1 << E) - 1
        nan = special & (man != 0)
        inf = special & (man == 0)
    else:
        nan = (c & 0x7F) == 0x7F
        inf = np.zeros_like(nan)
    sig = np.where(e > 0, man | (1 << M), man)
    eff = np.maximum(e, 1)
    zero = (c & 0x7F) == 0
    return sign, sig, eff, nan, inf, zero


def product_units(fmt) -> int:
    """log2 of the unit every product is a multiple of: ``2 * qexp``."""
    fmt = get_format(fmt)
    return 2 * fmt.quantum_exp


def exact_terms(fmt, x, w, bias=None):
    """Signed integer terms (in units of ``2**(2*qexp)``) and special flags.

    ``x`` and ``w``: (..., N) code arrays (broadcast); ``bias``: (...) codes or None.
    Returns ``(terms, nan, inf_pos, inf_neg, all_neg_zero)``; ``terms`` is an object array of
    Python ints (shape (..., N) or (..., N+1) with the bias last).
    """
    fmt = get_format(fmt)
    x, w = np.broadcast_arrays(np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64))
    sx, mx, ex, nx, ix, zx = _fields(fmt, x)
    sw, mw, ew, nw, iw, zw = _fields(fmt, w)
    s = sx ^ sw
    shift = ex + ew - 2
    sig = (mx * mw).astype(object)
    mag = sig * (np.ones_like(shift, dtype=object) << shift.astype(object))
    terms = np.where(s == 1, -mag, mag)
    nan = (nx | nw | (ix & zw) | (iw & zx)).any(axis=-1)
    inf = (ix | iw) & ~(nx | nw)
    inf_pos = (inf & (s == 0)).any(axis=-1)
    inf_neg = (inf & (s == 1)).any(axis=-1)
    negzero = ((zx | zw) & (s == 1)).all(axis=-1)
    if bias is not None:
        bias = np.broadcast_to(np.asarray(bias, dtype=np.int64), terms.shape[:-1])
        sb, mb, eb, nb, ib, zb = _fields(fmt, bias)
        off = -fmt.quantum_exp - 1             # bias value / 2**(2 qexp) = mb << (eb - 1 - qexp)
        bmag = mb.astype(object) * (np.ones_like(eb, dtype=object) << (eb + off).astype(object))
        bterm = np.where(sb == 1, -bmag, bmag)
        terms = np.concatenate([terms, bterm[..., None]], axis=-1)
        nan = nan | nb
        inf_pos = inf_pos | (ib & (sb == 0))
        inf_neg = inf_neg | (ib & (sb == 1))
        negzero = negzero & zb & (sb == 1)
    return terms, nan, inf_pos, inf_neg, negzero


def dot_exact(fmt, x, w, bias=None, *, out="fp32", policy="torch") -> np.ndarray:
    """Correctly rounded dot products over the last axis: ``round(sum x*w + bias)``.

    ``x``, ``w``: (..., N) FP8 code arrays (broadcast against each other); ``bias``: (...)
    codes or None. Returns output codes (uint64), NaN canonical.
    """
    fmt = get_format(fmt)
    out = get_out_format(out)
    policy = check_policy(policy)
    terms, nan, inf_pos, inf_neg, negzero = exact_terms(fmt, x, w, bias)
    totals = terms.sum(axis=-1) if terms.shape[-1] else np.zeros(terms.shape[:-1], object)
    scale = product_units(fmt)
    flat_t = np.asarray(totals, dtype=object).reshape(-1)
    flat = [np.asarray(a).reshape(-1) for a in (nan, inf_pos, inf_neg, negzero)]
    res = np.empty(len(flat_t), dtype=np.uint64)
    for i, t in enumerate(flat_t):
        if flat[0][i] or (flat[1][i] and flat[2][i]):
            res[i] = out.canonical_nan
        elif flat[1][i] or flat[2][i]:
            res[i] = overflow(out, policy, 1 if flat[2][i] else 0)
        else:
            res[i] = round_int(out, int(t), scale, policy=policy, zero_sign=int(flat[3][i]))
    return res.reshape(np.shape(totals))


def _round_float64(out: FloatFormat, v):
    """Exactly known float64 values rounded once (RNE) to a 16/32-bit IEEE format's codes."""
    m, e = np.frexp(v)                                   # v = m * 2^e, 1/2 <= |m| < 1
    q = np.maximum(e - (out.man_bits + 1), out.quantum_exp)
    r = np.ldexp(np.rint(np.ldexp(v, -q)), q)            # exact scalings, one rounding
    with np.errstate(over="ignore"):                     # overflow: inf, as RNE gives
        if out.width == 16 and out.exp_bits == 5:
            return r.astype(np.float16).view(np.uint16).astype(np.uint64)
        bits = r.astype(np.float32).view(np.uint32).astype(np.uint64)   # exact: r fits
    return bits >> np.uint64(32 - out.width)


def dot_exact_fast(fmt, x, w, *, out="bf16"):
    """:func:`dot_exact` (torch policy) vectorised through integers and float64 where that
    is exact (E4M3 inputs, up to 2^12 terms, a 16/32-bit IEEE output); else
    :func:`dot_exact` itself. The tests check the two against each other."""
    fmt, outf = get_format(fmt), get_out_format(out)
    x, w = np.broadcast_arrays(np.asarray(x, dtype=np.uint64), np.asarray(w, dtype=np.uint64))
    if (fmt.name != "e4m3" or x.shape[-1] > 1 << 12 or outf.is_fp8
            or outf.exp_bits not in (5, 8) or outf.width not in (16, 32)
            or outf.bias != (1 << (outf.exp_bits - 1)) - 1
            or (outf.width == 16 and outf.exp_bits == 8 and outf.man_bits != 7)):
        return dot_exact(fmt, x, w, out=out)
    sx, mx, ex, nx, _, zx = _fields(fmt, x)
    sw, mw, ew, nw, _, zw = _fields(fmt, w)
    units = (mx * mw) << (ex + ew - 2)                   # multiples of 2^(2*qexp)
    neg = (sx ^ sw) == 1
    total = np.where(neg, -units, units).sum(axis=-1)
    value = np.ldexp(total.astype(np.float64), 2 * fmt.quantum_exp)
    codes = _round_float64(outf, value)
    negzero = np.all(neg & (units == 0), axis=-1)        # every term -0 (IEEE zero sum)
    codes = np.where((total == 0) & negzero, np.uint64(outf.sign_bit), codes)
    return np.where((nx | nw).any(axis=-1), np.uint64(outf.canonical_nan), codes)


def dot_exact_scalar(fmt, x, w, bias=None, *, out="fp32", policy="torch") -> int:
    """One dot product, for reading: the same rules through :class:`fractions.Fraction`."""
    from fractions import Fraction

    from .fp8 import decode, is_inf, is_nan
    fmt = get_format(fmt)
    outf = get_out_format(out)
    pairs = list(zip(x, w))
    values, signs = [], []
    nan, infs = False, set()
    for a, b in pairs:
        if is_nan(fmt, a) or is_nan(fmt, b):
            nan = True
            continue
        s = (a ^ b) >> 7
        if is_inf(fmt, a) or is_inf(fmt, b):
            if (a & 0x7F) == 0 or (b & 0x7F) == 0:
                nan = True
            infs.add(s)
            continue
        values.append(decode(fmt, a) * decode(fmt, b))
        signs.append(s if values[-1] == 0 else None)
    if bias is not None:
        if is_nan(fmt, bias):
            nan = True
        elif is_inf(fmt, bias):
            infs.add(bias >> 7)
        else:
            values.append(decode(fmt, bias))
            signs.append(bias >> 7 if values[-1] == 0 else None)
    if nan or len(infs) == 2:
        return outf.canonical_nan
    if infs:
        return overflow(outf, policy, infs.pop())
    total = sum(values, Fraction(0))
    zero_sign = int(bool(signs) and all(s == 1 for s in signs)) if len(signs) == len(pairs) + (
        bias is not None) else 0
    unit = Fraction(2) ** product_units(fmt)
    q = total / unit
    assert q.denominator == 1
    return round_int(outf, int(q), product_units(fmt), policy=policy, zero_sign=zero_sign)


def linear_exact(fmt, x, weight, bias=None, *, out="fp32", policy="torch") -> np.ndarray:
    """``y[b, m] = round(sum_n x[b, n] * weight[m, n] + bias[m])``: an exact linear layer."""
    x = np.asarray(x)[:, None, :]
    weight = np.asarray(weight)[None, :, :]
    b = None if bias is None else np.asarray(bias)[None, :]
    return dot_exact(fmt, x, weight, b, out=out, policy=policy)


def relu_ref(fmt, codes) -> np.ndarray:
    """``torch.relu`` on FP8 codes: negative values -> +0, ``-0`` and ``+x`` unchanged,
    NaN canonical (``0x7F``)."""
    fmt = get_format(fmt)
    c = np.asarray(codes, dtype=np.uint64)
    sign, sig, eff, nan, inf, zero = _fields(fmt, c)
    out = np.where((sign == 1) & ~zero & ~nan, 0, c)
    return np.where(nan, fmt.canonical_nan, out).astype(np.uint64)
