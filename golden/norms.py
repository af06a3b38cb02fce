"""RMSNorm and LayerNorm over N elements: the algorithm the hardware runs, and the exact math.

The algorithm (``norm_golden``; the same steps, in the same order, are the neurons of
:mod:`spikegate.gen.norm`). Inputs ``x``, weights ``w`` (and biases ``b``) are codes of the
I/O format (bf16, fp16 or fp32); every step is one correctly rounded (RNE) operation in the
*internal* format ``F`` (``INTERNAL``: float32 for bf16/fp16 I/O, binary64 ``e11m52`` for
fp32 I/O), ``(+)`` ``(-)`` ``(x)`` ``(/)`` ``sqrt`` below:

==============  =================================================================================
``rmsnorm``     ``X_i = F(x_i)`` (exact), ``S = tree(+) of X_i (x) X_i``,
                ``v = (S (/) N) (+) eps``, ``r = 1 (/) sqrt(v)``,
                ``y_i = fmt((X_i (x) r) (x) F(w_i))``
``layernorm``   ``mu = tree(+) of X_i (/) N``, ``D_i = X_i (-) mu``,
                ``v = (tree(+) of D_i (x) D_i) (/) N (+) eps``, ``r = 1 (/) sqrt(v)``,
                ``y_i = fmt(((D_i (x) r) (x) F(w_i)) (+) F(b_i))``
==============  =================================================================================

``tree(+)`` adds neighbours pairwise, level by level (``(t0 + t1) + (t2 + t3)``, an odd last
term carried up), the order of the hardware's adder tree. The stream form with ``P`` lanes
(``lanes=P``: ``P`` elements a beat) sums each beat's ``P`` terms by ``tree(+)`` and the
beats' sums left to right (``stream_sum``); ``P = N`` is the spatial order. ``eps`` is rounded to ``F``
once. What is exact: the widening casts, and every square ``X_i (x) X_i`` of an rmsnorm
(bf16/fp16: at most 22 significant bits in float32's 24; fp32: 48 in binary64's 53). What
rounds: the sums, the division by N, the square root and the reciprocal, the two products
and the final cast. Ranges: for bf16 the squares are float32, so ``|x| >= 2^64`` overflows
them (infinite ``v``, ``y = 0``), as in torch's float32 RMSNorm of bf16 tensors; binary64
holds every square of an fp32. Why binary64 for fp32: with float32 steps the result is as
inaccurate as torch's own (about 55% correctly rounded, LayerNorm's centring off by 10^5
ULP); 53 bits leave the final rounding nearly the only one.

``exact_norm`` is the real-number result of the same formula, in float64 for bf16/fp16 I/O
and in x87 extended precision (64-bit significands) for fp32 (relative error a few units of
``2^-53`` resp. ``2^-64``, far below the half ULPs measured against it), for the accuracy
figures: ULP error of the rounded output and whether it is the correctly rounded value.
"""

from __future__ import annotations

import numpy as np

from .formats import get_format

__all__ = ["NORMS", "INTERNAL", "DEFAULT_EPS", "norm_golden", "exact_norm", "norm_vectors",
           "tree_order", "stream_sum", "eps_code", "const_code", "internal_format",
           "check_norm", "check_lanes", "ulp_errors"]

NORMS = ("rmsnorm", "layernorm")
#: The internal format of each I/O format.
INTERNAL = {"bf16": "fp32", "fp16": "fp32", "fp32": "e11m52"}
#: torch's default eps of ``nn.LayerNorm``; ``nn.RMSNorm`` uses ``finfo(dtype).eps`` when None.
DEFAULT_EPS = 1e-5


def check_norm(name) -> str:
    if name not in NORMS:
        raise ValueError(f"unknown norm {name!r}: choose one of {', '.join(NORMS)}")
    return name


def eps_code(eps) -> int:
    """``eps`` rounded once to float32: its code."""
    return int(np.array([eps], dtype=np.float32).view(np.uint32)[0])


def internal_format(fmt):
    """The format the steps of a norm (or softmax, :mod:`.softmax`) of ``fmt`` I/O compute in."""
    fmt = get_format(fmt)
    if fmt.name not in INTERNAL:
        raise ValueError(f"the vector units are offered for {', '.join(INTERNAL)}, "
                         f"not {fmt.name}")
    return get_format(INTERNAL[fmt.name])


def const_code(value, fmt) -> int:
    """``value`` (a Python float) rounded once to the internal format ``fmt``: its code."""
    fmt = get_format(fmt)
    if fmt.width == 32:
        return eps_code(value)
    if fmt.name != "e11m52":
        raise ValueError(f"no constant encoding for {fmt.name}")
    return int(np.array([value], dtype=np.float64).view(np.uint64)[0])


def tree_order(n):
    """The pairwise adder tree over ``n`` terms: a list of levels, each a list of
    ``(left, right)`` index pairs into the previous level (``None``: carried)."""
    levels, width = [], n
    while width > 1:
        pairs = [(i, i + 1) for i in range(0, width - 1, 2)]
        if width % 2:
            pairs.append((width - 1, None))
        levels.append(pairs)
        width = len(pairs)
    return levels


def _tree_sum(terms, add):
    for pairs in tree_order(len(terms)):
        terms = [terms[i] if j is None else add(terms[i], terms[j]) for i, j in pairs]
    return terms[0]


def check_lanes(n, lanes):
    """``lanes`` (None: spatial) validated against ``n`` elements."""
    if lanes is None:
        return None
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1 or n % lanes:
        raise ValueError(f"--lanes must be a positive integer that divides --n {n}, "
                         f"not {lanes!r}")
    return lanes


def stream_sum(terms, lanes, add):
    """The sum of ``terms`` in the hardware's order: one pairwise tree (``lanes`` None), or
    a tree per beat of ``lanes`` terms and the beats' sums left to right."""
    if lanes is None:
        return _tree_sum(terms, add)
    beats = [_tree_sum(terms[i:i + lanes], add) for i in range(0, len(terms), lanes)]
    acc = beats[0]
    for t in beats[1:]:
        acc = add(acc, t)
    return acc


def _const(code, like):
    return np.full(np.shape(like), code, dtype=np.uint64)


def norm_golden(name, fmt, x, w, b=None, *, eps=DEFAULT_EPS, policy="torch", lanes=None):
    """The codes ``y`` (shape of ``x``: vectors x N) the hardware computes (``lanes``: the
    stream form's summation order)."""
    from .torch_float import golden_convert, golden_op      # torch: only when evaluated
    check_norm(name)
    fmt = get_format(fmt)
    inner = internal_format(fmt)
    x = np.asarray(x, dtype=np.uint64)
    vectors, n = x.shape
    lanes = check_lanes(n, lanes)
    w = np.broadcast_to(np.asarray(w, dtype=np.uint64), x.shape)

    def f32(codes):
        return golden_convert(fmt, inner, codes, policy=policy)

    def op(o, *args):
        return golden_op(o, inner, *args, policy=policy)

    X = [f32(x[:, i]) for i in range(n)]
    N = _const(const_code(float(n), inner), X[0])
    if name == "layernorm":
        mu = op("fdiv", stream_sum(X, lanes, lambda p, q: op("fadd", p, q)), N)
        X = [op("fsub", xi, mu) for xi in X]
    S = stream_sum([op("fmul", xi, xi) for xi in X], lanes, lambda p, q: op("fadd", p, q))
    v = op("fadd", op("fdiv", S, N), _const(const_code(eps, inner), S))
    r = op("fdiv", _const(const_code(1.0, inner), v), op("fsqrt", v))
    out = []
    for i in range(n):
        t = op("fmul", op("fmul", X[i], r), f32(w[:, i]))
        if name == "layernorm":
            t = op("fadd", t, f32(np.broadcast_to(np.asarray(b, dtype=np.uint64),
                                                  x.shape)[:, i]))
        out.append(golden_convert(inner, fmt, t, policy=policy))
    return np.stack(out, axis=1)


def exact_norm(name, fmt, x, w, b=None, *, eps=DEFAULT_EPS):
    """Values of the exact formula (``eps`` as the internal format holds it): float64, or
    ``np.longdouble`` for fp32 I/O."""
    from .torch_float import codes_to_tensor
    check_norm(name)
    fmt = get_format(fmt)
    wide = np.longdouble if fmt.width == 32 else np.float64

    def val(codes):
        return codes_to_tensor(fmt, np.asarray(codes, np.uint64).reshape(-1)).double().numpy() \
            .astype(wide).reshape(np.shape(codes))
    X = val(x)
    W = np.broadcast_to(val(w), X.shape)
    e = wide(np.float32(eps) if internal_format(fmt).width == 32 else np.float64(eps))
    if name == "layernorm":
        X = X - X.mean(axis=1, keepdims=True)
    y = X / np.sqrt((X * X).mean(axis=1, keepdims=True) + e) * W
    if name == "layernorm":
        y = y + np.broadcast_to(val(b), X.shape)
    return y


def norm_vectors(name, fmt, n, count, seed=0):
    """Seeded vectors ``{"x", "w"[, "b"]}`` (arrays ``count x n`` of codes): a directed part
    (all equal, one non-zero, zeros of both signs, small integers, tiny and huge norms,
    one huge outlier) and random normals scaled per vector by ``2^U(-24, 24)`` (and per
    element by ``2^U(-8, 8)`` in a third of them: wide ranges within a vector)."""
    import torch

    from .float_vectors import vector_rows
    from .torch_float import tensor_to_codes
    check_norm(name)
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    big = 2.0 ** (60 if fmt.name == "bf16" else 6 if fmt.name == "fp16" else 60)
    tiny = 2.0 ** (-30 if fmt.name != "fp16" else -12)
    directed = [np.ones(n), np.full(n, -3.0), np.eye(1, n, n // 2)[0], np.zeros(n),
                -np.zeros(n), np.arange(n) - n // 2, np.full(n, tiny),
                np.linspace(-1, 1, n) * big, np.r_[np.ones(n - 1), 1e4][:n]]
    x = vector_rows(directed, count, n, rng, scale=(-24, 24), spread=(-8, 8))
    lim = float(torch.finfo(getattr(torch, fmt.torch_dtype_name)).max) / 4
    x = np.clip(x, -lim, lim)

    def codes(values):
        t = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64))
        return tensor_to_codes(fmt, t.to(getattr(torch, fmt.torch_dtype_name))) \
            .reshape(values.shape)
    out = {"x": codes(x), "w": codes(1.0 + 0.25 * rng.standard_normal((len(x), n)))}
    out["w"][: len(directed) // 2] = codes(np.ones((min(len(x), len(directed) // 2), n)))
    if name == "layernorm":
        out["b"] = codes(0.1 * rng.standard_normal((len(x), n)))
    return out


def ulp_errors(fmt, y, exact):
    """``|y - exact|`` in units of the last place of ``exact`` in ``fmt`` (float64 array;
    ``inf`` where ``y`` is infinite or NaN and ``exact`` is not). A result is correctly
    rounded exactly when its error is at most 1/2."""
    from .torch_float import codes_to_tensor
    fmt = get_format(fmt)
    y = codes_to_tensor(fmt, np.asarray(y, np.uint64).reshape(-1)).double().numpy() \
        .reshape(np.shape(y))
    v = np.asarray(exact)
    v = v if v.dtype == np.longdouble else v.astype(np.float64)
    _, e = np.frexp(v)
    q = np.maximum(e - 1, 1 - fmt.bias) - fmt.man_bits
    err = np.abs(y - v) / np.ldexp(1.0, q)
    return np.where(np.isfinite(y), err, np.inf)
