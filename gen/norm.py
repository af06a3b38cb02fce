"""Spatial RMSNorm and LayerNorm over N elements, wired from the float units.

Every step of :mod:`spikegate.golden.norms`'s algorithm is one embedded unit: the float32
``fadd``/``fsub``/``fmul``/``fdiv``/``fsqrt`` netlists (:mod:`.float_add`, :mod:`.float_mul`,
:mod:`.float_divsqrt`) and the ``fconvert`` casts, so the whole is bit-exact against that
golden exactly when each unit is against its own. Constants (``N``, ``eps``, ``1``) are
tied-off nets, which the builder folds into the neurons that read them (the reciprocal
``1 / sqrt(v)`` is a cheaper divider than a general one). Ports: ``x0..x{N-1}``,
``w0..w{N-1}`` (and ``b0..b{N-1}``) -> ``y0..y{N-1}``, each one code of the format.
"""

from __future__ import annotations

from ..golden.formats import check_policy, get_format
from ..golden.norms import DEFAULT_EPS, INTERNAL, check_norm, eps_code, tree_order
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
    """RMSNorm/LayerNorm of ``n`` elements of ``fmt`` (internal arithmetic float32)."""
    check_norm(name)
    policy = check_policy(policy)
    fmt = get_format(fmt)
    if fmt.name not in NORM_FORMATS:
        raise ValueError(f"{name} is offered for {', '.join(NORM_FORMATS)}, not {fmt.name}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ValueError(f"{name}: --n must be an integer from 1 to {MAX_N}, not {n!r}")
    f32 = get_format(INTERNAL)
    units = {op: build(f32, policy=policy, bounds=bounds) for op, build in
             (("fadd", build_fadd), ("fsub", build_fsub), ("fmul", build_fmul),
              ("fdiv", build_fdiv), ("fsqrt", build_fsqrt))}
    widen = None if fmt == f32 else build_fconvert(fmt, f32, policy=policy, bounds=bounds)
    narrow = None if fmt == f32 else build_fconvert(f32, fmt, policy=policy, bounds=bounds)
    b = NetlistBuilder(f"{name}{n}_{fmt.name}_{policy}", bounds=bounds)
    ports = ("x", "w", "b") if name == "layernorm" else ("x", "w")
    buses = {p: [b.input(f"{p}{i}", fmt.width) for i in range(n)] for p in ports}

    def op(unit, block, *args):
        names = ("a", "b")[:len(args)]
        return b.embed(units[unit], dict(zip(names, args)), block=block)["y"]

    def wide(nets, block):
        return nets if widen is None else b.embed(widen, {"a": nets}, block=block)["y"]

    def tree(terms, block):
        for k, pairs in enumerate(tree_order(len(terms))):
            terms = [terms[i] if j is None else op("fadd", f"{block}_l{k}_{i // 2}",
                                                  terms[i], terms[j])
                     for i, j in pairs]
        return terms[0]

    X = [wide(buses["x"][i], f"x{i}_f32") for i in range(n)]
    N = _code_nets(eps_code(float(n)), 32)
    if name == "layernorm":
        mu = op("fdiv", "mean", tree(X, "sum"), N)
        X = [op("fsub", f"centre{i}", X[i], mu) for i in range(n)]
    S = tree([op("fmul", f"square{i}", X[i], X[i]) for i in range(n)], "sumsq")
    v = op("fadd", "eps", op("fdiv", "meansq", S, N), _code_nets(eps_code(eps), 32))
    r = op("fdiv", "rsqrt", _code_nets(eps_code(1.0), 32), op("fsqrt", "sqrt", v))
    for i in range(n):
        t = op("fmul", f"weight{i}", op("fmul", f"scale{i}", X[i], r),
               wide(buses["w"][i], f"w{i}_f32"))
        if name == "layernorm":
            t = op("fadd", f"bias{i}", t, wide(buses["b"][i], f"b{i}_f32"))
        b.output(f"y{i}", t if narrow is None else b.embed(narrow, {"a": t},
                                                             block=f"y{i}_cast")["y"])
    b.meta.update(unit=name, format=fmt.name, n=n, eps=float(eps), policy=policy,
                  internal=INTERNAL)
    return b.build()
