"""Spatial RMSNorm and LayerNorm over N elements, wired from the float units.

Every step of :mod:`spikegate.golden.norms`'s algorithm is one embedded unit: the
``fadd``/``fsub``/``fmul``/``fdiv``/``fsqrt`` netlists of the internal format (float32;
binary64 for fp32 I/O) (:mod:`.float_add`, :mod:`.float_mul`,
:mod:`.float_divsqrt`) and the ``fconvert`` casts, so the whole is bit-exact against that
golden exactly when each unit is against its own. Constants (``N``, ``eps``, ``1``) are
tied-off nets, which the builder folds into the neurons that read them (the reciprocal
``1 / sqrt(v)`` is a cheaper divider than a general one). Ports: ``x0..x{N-1}``,
``w0..w{N-1}`` (and ``b0..b{N-1}``) -> ``y0..y{N-1}``, each one code of the format.
"""

from __future__ import annotations

from ..golden.formats import check_policy, get_format
from ..golden.norms import DEFAULT_EPS, check_norm, const_code, internal_format, tree_order
from .builder import NetlistBuilder
from .float_add import build_fadd, build_fconvert, build_fsub
from .float_divsqrt import build_fdiv, build_fsqrt
from .float_mul import build_fmul
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist

__all__ = ["build_norm", "NORM_FORMATS", "MAX_N"]

NORM_FORMATS = ("bf16", "fp16", "fp32")
#: Largest spatial N (each element costs a few thousand neurons; a stream form is for more).
MAX_N = 64


def _code_nets(code, width):
    return tuple(CONST1 if (code >> i) & 1 else CONST0 for i in range(width))


def build_norm(name, fmt, n, *, eps=DEFAULT_EPS, policy="torch",
               bounds: Bounds = UNBOUNDED) -> Netlist:
    """RMSNorm/LayerNorm of ``n`` elements of ``fmt`` (internal arithmetic:
    :func:`~spikegate.golden.norms.internal_format`)."""
    check_norm(name)
    policy = check_policy(policy)
    fmt = get_format(fmt)
    if fmt.name not in NORM_FORMATS:
        raise ValueError(f"{name} is offered for {', '.join(NORM_FORMATS)}, not {fmt.name}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ValueError(f"{name}: --n must be an integer from 1 to {MAX_N}, not {n!r}")
    inner = internal_format(fmt)
    units = {op: build(inner, policy=policy, bounds=bounds) for op, build in
             (("fadd", build_fadd), ("fsub", build_fsub), ("fmul", build_fmul),
              ("fdiv", build_fdiv), ("fsqrt", build_fsqrt))}
    widen = build_fconvert(fmt, inner, policy=policy, bounds=bounds)
    narrow = build_fconvert(inner, fmt, policy=policy, bounds=bounds)
    b = NetlistBuilder(f"{name}{n}_{fmt.name}_{policy}", bounds=bounds)
    ports = ("x", "w", "b") if name == "layernorm" else ("x", "w")
    buses = {p: [b.input(f"{p}{i}", fmt.width) for i in range(n)] for p in ports}

    def op(unit, block, *args):
        names = ("a", "b")[:len(args)]
        return b.embed(units[unit], dict(zip(names, args)), block=block)["y"]

    def wide(nets, block):
        return b.embed(widen, {"a": nets}, block=block)["y"]

    def const(value):
        return _code_nets(const_code(value, inner), inner.width)

    def tree(terms, block):
        for k, pairs in enumerate(tree_order(len(terms))):
            terms = [terms[i] if j is None else op("fadd", f"{block}_l{k}_{i // 2}",
                                                  terms[i], terms[j])
                     for i, j in pairs]
        return terms[0]

    X = [wide(buses["x"][i], f"x{i}_wide") for i in range(n)]
    N = const(float(n))
    if name == "layernorm":
        mu = op("fdiv", "mean", tree(X, "sum"), N)
        X = [op("fsub", f"centre{i}", X[i], mu) for i in range(n)]
    S = tree([op("fmul", f"square{i}", X[i], X[i]) for i in range(n)], "sumsq")
    v = op("fadd", "eps", op("fdiv", "meansq", S, N), const(eps))
    r = op("fdiv", "rsqrt", const(1.0), op("fsqrt", "sqrt", v))
    for i in range(n):
        t = op("fmul", f"weight{i}", op("fmul", f"scale{i}", X[i], r),
               wide(buses["w"][i], f"w{i}_wide"))
        if name == "layernorm":
            t = op("fadd", f"bias{i}", t, wide(buses["b"][i], f"b{i}_wide"))
        b.output(f"y{i}", b.embed(narrow, {"a": t}, block=f"y{i}_cast")["y"])
    b.meta.update(unit=name, format=fmt.name, n=n, eps=float(eps), policy=policy,
                  internal=inner.name)
    return b.build()
