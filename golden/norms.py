"""RMSNorm and LayerNorm over N elements: the algorithm the hardware runs, and the exact math.

The algorithm (``norm_golden``; the same steps, in the same order, are the neurons of
:mod:`spikegate.gen.norm`). Inputs ``x``, weights ``w`` (and biases ``b``) are codes of the
I/O format (bf16, fp16 or fp32); every step is one correctly rounded (RNE) operation in the
*internal* format, float32 (``INTERNAL``), ``(+)`` ``(-)`` ``(x)`` ``(/)`` ``sqrt`` below:

==============  =================================================================================
``rmsnorm``     ``X_i = f32(x_i)`` (exact), ``S = tree(+) of X_i (x) X_i``,
                ``v = (S (/) N) (+) eps``, ``r = 1 (/) sqrt(v)``,
                ``y_i = fmt((X_i (x) r) (x) f32(w_i))``
``layernorm``   ``mu = tree(+) of X_i (/) N``, ``D_i = X_i (-) mu``,
                ``v = (tree(+) of D_i (x) D_i) (/) N (+) eps``, ``r = 1 (/) sqrt(v)``,
                ``y_i = fmt(((D_i (x) r) (x) f32(w_i)) (+) f32(b_i))``
==============  =================================================================================

``tree(+)`` adds neighbours pairwise, level by level (``(t0 + t1) + (t2 + t3)``, an odd last
term carried up), the order of the hardware's adder tree. ``eps`` is rounded to float32
once. What is exact: the widening casts, and for bf16/fp16 inputs every square ``X_i (x)
X_i`` (at most 22 significant bits in float32's 24). What rounds: the sums, the division by
N, the square root and the reciprocal, the two products and the final cast. Ranges: the
squares are float32, so ``|x| >= 2^64`` overflows them (infinite ``v``, ``y = 0``), as in
torch's float32 RMSNorm of bf16 tensors.

``exact_norm`` is the real-number result of the same formula, in float64 (relative error a
few units of ``2^-53``, far below the ``2^-24`` and coarser steps measured against it), for
the accuracy figures: ULP error of the rounded output and whether it is the correctly
rounded value.
"""

from __future__ import annotations

import numpy as np

from .formats import get_format

__all__ = ["NORMS", "INTERNAL", "DEFAULT_EPS", "norm_golden", "exact_norm", "norm_vectors",
           "tree_order", "eps_code", "check_norm", "ulp_errors"]

NORMS = ("rmsnorm", "layernorm")
INTERNAL = "fp32"
#: torch's default eps of ``nn.LayerNorm``; ``nn.RMSNorm`` uses ``finfo(dtype).eps`` when None.
DEFAULT_EPS = 1e-5


def check_norm(name) -> str:
    if name not in NORMS:
        raise ValueError(f"unknown norm {name!r}: choose one of {', '.join(NORMS)}")
    return name


def eps_code(eps) -> int:
    """``eps`` rounded once to float32: its code."""
    return int(np.array([eps], dtype=np.float32).view(np.uint32)[0])


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


def _const(code, like):
    return np.full(np.shape(like), code, dtype=np.uint64)


def norm_golden(name, fmt, x, w, b=None, *, eps=DEFAULT_EPS, policy="torch"):
    """The codes ``y`` (shape of ``x``: vectors x N) the hardware computes."""
    from .torch_float import golden_convert, golden_op      # torch: only when evaluated
    check_norm(name)
    fmt = get_format(fmt)
    x = np.asarray(x, dtype=np.uint64)
    vectors, n = x.shape
    w = np.broadcast_to(np.asarray(w, dtype=np.uint64), x.shape)

    def f32(codes):
        return codes if fmt.name == INTERNAL else golden_convert(fmt, INTERNAL, codes,
                                                                 policy=policy)

    def op(o, *args):
        return golden_op(o, INTERNAL, *args, policy=policy)

    X = [f32(x[:, i]) for i in range(n)]
    N = _const(eps_code(float(n)), X[0])
    if name == "layernorm":
        mu = op("fdiv", _tree_sum(X, lambda p, q: op("fadd", p, q)), N)
        X = [op("fsub", xi, mu) for xi in X]
    S = _tree_sum([op("fmul", xi, xi) for xi in X], lambda p, q: op("fadd", p, q))
    v = op("fadd", op("fdiv", S, N), _const(eps_code(eps), S))
    r = op("fdiv", _const(eps_code(1.0), v), op("fsqrt", v))
    out = []
    for i in range(n):
        t = op("fmul", op("fmul", X[i], r), f32(w[:, i]))
        if name == "layernorm":
            t = op("fadd", t, f32(np.broadcast_to(np.asarray(b, dtype=np.uint64),
                                                  x.shape)[:, i]))
        out.append(t if fmt.name == INTERNAL else
                   golden_convert(INTERNAL, fmt, t, policy=policy))
    return np.stack(out, axis=1)


def exact_norm(name, fmt, x, w, b=None, *, eps=DEFAULT_EPS):
    """float64 values of the exact formula (``eps`` as the float32 the hardware holds)."""
    from .torch_float import codes_to_tensor
    check_norm(name)
    fmt = get_format(fmt)

    def val(codes):
        return codes_to_tensor(fmt, np.asarray(codes, np.uint64).reshape(-1)).double().numpy() \
            .reshape(np.shape(codes))
    X = val(x)
    W = np.broadcast_to(val(w), X.shape)
    e = float(np.float32(eps))
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
    v = np.asarray(exact, dtype=np.float64)
    _, e = np.frexp(v)
    q = np.maximum(e - 1, 1 - fmt.bias) - fmt.man_bits
    err = np.abs(y - v) / np.ldexp(1.0, q)
    return np.where(np.isfinite(y), err, np.inf)
