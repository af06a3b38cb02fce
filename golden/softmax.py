"""Softmax over N elements with the maximum subtracted: the hardware's algorithm, and the
exact math.

``y_i = e^(x_i - m) / sum_j e^(x_j - m)``, ``m = max x``. Every step is one correctly
rounded (RNE) operation in the internal format ``F`` (``(-)``, ``(+)``, ``(x)``, ``(/)``;
float32 for bf16/fp16 I/O, binary64 ``e11m52`` for fp32 I/O, as for the norms:
:func:`~.norms.internal_format`) or exact:

1. ``m``: a pairwise tree of maxima (:func:`~.norms.tree_order`) on the input codes,
   ordered as signed magnitudes (``-0 < +0``; on equal codes the left one). ``M = F(m)``.
2. ``d_i = F(x_i) (-) M`` (<= 0; exact whenever ``e^(d_i)`` is not negligible and the
   exponents are within 16 (binary64: 29) of each other).
3. ``d_i`` is split exactly into ``h_i + g_i + s_i``: ``h_i = bf16(d_i)``,
   ``r_i = d_i (-) h_i`` (exact: the rounding residual), ``g_i = bf16(r_i)``,
   ``s_i = r_i (-) g_i`` (exact, ``|s_i| <= 2^-18 |d_i|``). Where ``h_i <= -2^NEGLIGIBLE``
   (-128, ``x_i = -inf`` included) ``e^(h_i)`` is below half the least subnormal of every
   output format (0 in float32) and the residuals are set to 0: a residual, up to
   ``2^-9 |d_i|``, could otherwise overflow ``e^(g_i)`` (0 * inf).
4. ``e_i = (E(h_i) (x) E(g_i)) (x) P(s_i)``, ``E`` = the correctly rounded exp from bf16 to
   ``F`` (:mod:`.functions`, a 65,536-entry table in hardware). ``P(s) = 1 (+) s`` in
   float32 (``e^s`` within ``s^2/2 <= 2^-25``); in binary64 ``P(s) = (1 (+) s) (+) ((s (x)
   s) (x) 1/2)`` (within ``|s|^3/6 <= 2^-35``: ``|s| <= 2^-11`` where not negligible).
5. ``S = tree(+) of e_i`` (the stream form: a tree per beat, the beats left to right),
   ``R = 1 (/) S``, ``y_i = fmt(e_i (x) R)``.

Each ``e_i`` is within a few ULPs of ``F`` of ``e^(d_i)``; the output rounds once to the
format (bf16/fp16: 2^13-2^16 times coarser than float32; fp32: 2^29 times coarser than
binary64), so it is correctly rounded except near a rounding boundary. With float32 steps
fp32 I/O would not be: the rounded difference ``d`` alone costs up to ``|d| 2^-24``
relative, which ``e^d`` keeps (torch's float32 softmax is as far off). Special values: any NaN input, or every input ``-inf``
(``0/0``), or ``+inf`` (``inf - inf``) gives NaN everywhere, as the math (and torch) do.
"""

from __future__ import annotations

import numpy as np

from .formats import get_format
from .norms import check_lanes, const_code, internal_format, stream_sum, tree_order

__all__ = ["softmax_golden", "exact_softmax", "softmax_vectors", "order_key",
           "SOFTMAX_FORMATS", "SPLIT", "NEGLIGIBLE", "quadratic_tail"]

SOFTMAX_FORMATS = ("bf16", "fp16", "fp32")
#: The format ``d`` is split into: the exp table's input format (its output: ``F``).
SPLIT = "bf16"
#: ``h <= -2^NEGLIGIBLE`` has ``e^h`` below half of ``2^-149`` (``e^-128 < 2^-150``).
NEGLIGIBLE = 7


def quadratic_tail(inner) -> bool:
    """Whether ``P(s)`` carries the ``s^2/2`` term (binary64 steps)."""
    return get_format(inner).width > 32


def order_key(fmt, codes):
    """Integers ordered as the values of the codes: ``-0 < +0``, NaNs at the ends."""
    fmt = get_format(fmt)
    c = np.asarray(codes, dtype=np.int64)
    sign = 1 << (fmt.width - 1)
    return np.where(c & sign, (sign - 1) - (c & (sign - 1)), c | sign)


def _max_tree(fmt, cols):
    for pairs in tree_order(len(cols)):
        nxt = []
        for i, j in pairs:
            if j is None:
                nxt.append(cols[i])
            else:
                a, b = cols[i], cols[j]
                nxt.append(np.where(order_key(fmt, b) > order_key(fmt, a), b, a))
        cols = nxt
    return cols[0]


def softmax_golden(fmt, x, *, policy="torch", lanes=None):
    """The codes ``y`` (shape of ``x``: vectors x N) the hardware computes (``lanes``: the
    stream form's order of the sum, :func:`~.norms.stream_sum`; the maximum is the same
    code in any order)."""
    from .functions import golden_function
    from .torch_float import golden_convert, golden_op      # torch: only when evaluated
    fmt = get_format(fmt)
    inner = internal_format(fmt)
    x = np.asarray(x, dtype=np.uint64)
    n = x.shape[1]

    def f32(codes, src=fmt):
        return golden_convert(src, inner, codes, policy=policy)

    def op(o, *args):
        return golden_op(o, inner, *args, policy=policy)

    def split(v):
        return golden_convert(inner, SPLIT, v, policy=policy)

    def exp(codes):
        return golden_function("exp", SPLIT, codes, inner, policy)

    M = f32(_max_tree(fmt, [x[:, i] for i in range(n)]))
    split_fmt = get_format(SPLIT)
    sign = np.uint64(1 << (split_fmt.width - 1))
    least = np.uint64((split_fmt.bias + NEGLIGIBLE) << split_fmt.man_bits)
    one = np.full(len(x), const_code(1.0, inner), dtype=np.uint64)
    half = np.full(len(x), const_code(0.5, inner), dtype=np.uint64)
    e = []
    for i in range(n):
        d = op("fsub", f32(x[:, i]), M)
        h = split(d)
        negligible = ((h & sign) != 0) & ((h & np.uint64(split_fmt.mag_mask)) >= least)
        r = np.where(negligible, np.uint64(0), op("fsub", d, f32(h, SPLIT)))
        g = split(r)
        s = op("fsub", r, f32(g, SPLIT))
        p = op("fadd", one, s)
        if quadratic_tail(inner):
            p = op("fadd", p, op("fmul", op("fmul", s, s), half))
        e.append(op("fmul", op("fmul", exp(h), exp(g)), p))
    R = op("fdiv", one, stream_sum(e, check_lanes(n, lanes), lambda p, q: op("fadd", p, q)))
    out = [op("fmul", ei, R) for ei in e]
    return np.stack([golden_convert(inner, fmt, o, policy=policy) for o in out], axis=1)


def exact_softmax(fmt, x):
    """Softmax of the values (max subtracted; NaN where the math is undefined) in float64,
    or in x87 extended precision (``np.longdouble``) for fp32."""
    from .torch_float import codes_to_tensor
    fmt = get_format(fmt)
    wide = np.longdouble if fmt.width == 32 else np.float64
    v = codes_to_tensor(fmt, np.asarray(x, np.uint64).reshape(-1)).double().numpy() \
        .astype(wide).reshape(np.shape(x))
    with np.errstate(invalid="ignore", over="ignore"):
        m = v.max(axis=1, keepdims=True)
        e = np.exp(v - m)
        return e / e.sum(axis=1, keepdims=True)


def softmax_vectors(fmt, n, count, seed=0):
    """Seeded vectors (``count x n`` codes): directed (all equal, ties, one large, -inf
    masks, causal-style masks, a NaN, all -inf, zeros of both signs, differences of -6e4)
    then random normals
    scaled per vector by ``2^U(-4, 8)`` (a third also spread by ``2^U(-6, 6)`` per
    element: wide ranges, most terms underflowing)."""
    import torch

    from .float_vectors import vector_rows
    from .torch_float import tensor_to_codes
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    inf = np.inf
    directed = [np.zeros(n), -np.zeros(n), np.full(n, 7.0), np.r_[np.ones(n - 1), 40.0][:n],
                np.r_[-inf, np.zeros(n - 1)][:n], np.full(n, -inf),
                np.r_[np.arange(n // 2 + 1), np.full(n, -inf)][:n],
                np.r_[np.nan, np.ones(n - 1)][:n], np.linspace(-100, 0, n),
                np.r_[np.full(n - 1, 2.0), 2.0 + 2.0 ** -6][:n],
                np.r_[30000.0, np.full(n - 1, -30037.0)][:n]]     # residuals that overflow e^g
    x = vector_rows(directed, count, n, rng, scale=(-4, 8), spread=(-6, 6))
    dtype = getattr(torch, fmt.torch_dtype_name)
    lim = float(torch.finfo(dtype).max)
    x = np.where(np.isfinite(x), np.clip(x, -lim, lim), x)
    return tensor_to_codes(fmt, torch.from_numpy(x).to(dtype)).reshape(x.shape)
