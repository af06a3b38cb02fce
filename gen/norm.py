"""RMSNorm and LayerNorm over N elements, wired from the float units: spatial, or as the
datapaths of a stream form.

Every step of :mod:`spikegate.golden.norms`'s algorithm is one embedded unit: the
``fadd``/``fsub``/``fmul``/``fdiv``/``fsqrt`` netlists of the internal format (float32;
binary64 for fp32 I/O) (:mod:`.float_add`, :mod:`.float_mul`,
:mod:`.float_divsqrt`) and the ``fconvert`` casts, so the whole is bit-exact against that
golden exactly when each unit is against its own. Constants (``N``, ``eps``, ``1``) are
tied-off nets, which the builder folds into the neurons that read them (the reciprocal
``1 / sqrt(v)`` is a cheaper divider than a general one).

* :func:`build_norm`: one spatial netlist. Ports ``x0..x{N-1}``, ``w0..w{N-1}`` (and
  ``b0..b{N-1}``) -> ``y0..y{N-1}``, each one code of the format.
* :func:`build_norm_stream`: the combinational datapaths and program of the stream form
  (:mod:`.vector_stream`), ``P`` elements a beat: ``sum`` (LayerNorm: ``acc + tree(X_p)``),
  ``mean`` (``acc / N``), ``sumsq`` (``acc + tree((X_p - mu)^2)``, RMSNorm without
  ``mu``), ``finish`` (``1 / sqrt(acc / N + eps)``) and ``scale`` (a beat's ``P``
  outputs). Accumulators start at ``-0``, the identity of IEEE addition (``-0 + t = t``
  for every ``t``), so the first beat's sum is its own tree.
"""

from __future__ import annotations

from ..golden.formats import FloatFormat, check_policy, get_format
from ..golden.norms import (DEFAULT_EPS, check_lanes, check_norm, const_code, internal_format,
                            tree_order)
from .builder import NetlistBuilder
from .float_add import build_fadd, build_fconvert, build_fsub
from .float_divsqrt import build_fdiv, build_fsqrt
from .float_mul import build_fmul
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .vector_stream import MAX_STREAM_N, Step, StreamParts

__all__ = ["build_norm", "build_norm_stream", "NORM_FORMATS", "MAX_N"]

NORM_FORMATS = ("bf16", "fp16", "fp32")
#: Largest spatial N (each element costs a few thousand neurons; the stream form is for more).
MAX_N = 64


def _code_nets(code, width):
    return tuple(CONST1 if (code >> i) & 1 else CONST0 for i in range(width))


class _Steps:
    """The norm's float units, embedded into one builder's netlist step by step."""

    def __init__(self, b: NetlistBuilder, fmt: FloatFormat, units):
        self.b, self.fmt, self.units = b, fmt, units
        self.inner = internal_format(fmt)

    def op(self, unit, block, *args):
        return self.b.embed(self.units[unit], dict(zip(("a", "b"), args)), block=block)["y"]

    def wide(self, nets, block):
        return self.op("widen", block, nets)

    def const(self, value):
        return _code_nets(const_code(value, self.inner), self.inner.width)

    def tree(self, terms, block):
        for k, pairs in enumerate(tree_order(len(terms))):
            terms = [terms[i] if j is None else self.op("fadd", f"{block}_l{k}_{i // 2}",
                                                       terms[i], terms[j])
                     for i, j in pairs]
        return terms[0]

    def squares(self, X, block="square"):
        return [self.op("fmul", f"{block}{i}", x, x) for i, x in enumerate(X)]

    def finish(self, S, n, eps):
        """``r = 1 / sqrt(S / N + eps)``."""
        v = self.op("fadd", "eps", self.op("fdiv", "meansq", S, self.const(float(n))),
                    self.const(eps))
        return self.op("fdiv", "rsqrt", self.const(1.0), self.op("fsqrt", "sqrt", v))

    def output(self, i, X, r, w, bias=None):
        """``fmt(((X (x) r) (x) F(w)) [(+) F(b)])``."""
        t = self.op("fmul", f"weight{i}", self.op("fmul", f"scale{i}", X, r),
                    self.wide(w, f"w{i}_wide"))
        if bias is not None:
            t = self.op("fadd", f"bias{i}", t, self.wide(bias, f"b{i}_wide"))
        return self.op("narrow", f"y{i}_cast", t)


def _units(fmt, policy, bounds):
    inner = internal_format(fmt)
    units = {op: build(inner, policy=policy, bounds=bounds) for op, build in
             (("fadd", build_fadd), ("fsub", build_fsub), ("fmul", build_fmul),
              ("fdiv", build_fdiv), ("fsqrt", build_fsqrt))}
    units["widen"] = build_fconvert(fmt, inner, policy=policy, bounds=bounds)
    units["narrow"] = build_fconvert(inner, fmt, policy=policy, bounds=bounds)
    return units


def _check(name, fmt, n, policy, max_n):
    check_norm(name)
    policy = check_policy(policy)
    fmt = get_format(fmt)
    if fmt.name not in NORM_FORMATS:
        raise ValueError(f"{name} is offered for {', '.join(NORM_FORMATS)}, not {fmt.name}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_n:
        raise ValueError(f"{name}: --n must be an integer from 1 to {max_n}, not {n!r}")
    return fmt, policy


def build_norm(name, fmt, n, *, eps=DEFAULT_EPS, policy="torch",
               bounds: Bounds = UNBOUNDED) -> Netlist:
    """RMSNorm/LayerNorm of ``n`` elements of ``fmt`` (internal arithmetic:
    :func:`~spikegate.golden.norms.internal_format`)."""
    fmt, policy = _check(name, fmt, n, policy, MAX_N)
    b = NetlistBuilder(f"{name}{n}_{fmt.name}_{policy}", bounds=bounds)
    st = _Steps(b, fmt, _units(fmt, policy, bounds))
    ports = ("x", "w", "b") if name == "layernorm" else ("x", "w")
    buses = {p: [b.input(f"{p}{i}", fmt.width) for i in range(n)] for p in ports}
    X = [st.wide(buses["x"][i], f"x{i}_wide") for i in range(n)]
    if name == "layernorm":
        mu = st.op("fdiv", "mean", st.tree(X, "sum"), st.const(float(n)))
        X = [st.op("fsub", f"centre{i}", X[i], mu) for i in range(n)]
    r = st.finish(st.tree(st.squares(X), "sumsq"), n, eps)
    for i in range(n):
        b.output(f"y{i}", st.output(i, X[i], r, buses["w"][i],
                                    buses["b"][i] if name == "layernorm" else None))
    b.meta.update(unit=name, format=fmt.name, n=n, eps=float(eps), policy=policy,
                  internal=st.inner.name)
    return b.build()


def build_norm_stream(name, fmt, n, lanes, *, eps=DEFAULT_EPS, policy="torch",
                      bounds: Bounds = UNBOUNDED) -> StreamParts:
    """The stream form's datapaths for ``n`` elements of ``fmt``, ``lanes`` a beat."""
    fmt, policy = _check(name, fmt, n, policy, MAX_STREAM_N)
    lanes = check_lanes(n, lanes)
    units = _units(fmt, policy, bounds)
    inner = internal_format(fmt)
    tag = f"{name}{n}p{lanes}_{fmt.name}"
    parts = {}

    def part(kind):
        b = NetlistBuilder(f"{tag}_{kind}", bounds=bounds)
        return b, _Steps(b, fmt, units)

    def accumulate(kind, centre):
        b, st = part(kind)
        acc = b.input("acc", inner.width)
        mu = b.input("mu", inner.width) if centre else None
        X = [st.wide(b.input(f"x{p}", fmt.width), f"x{p}_wide") for p in range(lanes)]
        if kind == "sumsq":
            if centre:
                X = [st.op("fsub", f"centre{p}", x, mu) for p, x in enumerate(X)]
            X = st.squares(X)
        b.output("y", st.op("fadd", "acc", acc, st.tree(X, kind)))
        return b.build()

    layer = name == "layernorm"
    if layer:
        parts["sum"] = accumulate("sum", False)
        b, st = part("mean")
        b.output("y", st.op("fdiv", "mean", b.input("sum", inner.width), st.const(float(n))))
        parts["mean"] = b.build()
    parts["sumsq"] = accumulate("sumsq", layer)
    b, st = part("finish")
    b.output("y", st.finish(b.input("sumsq", inner.width), n, eps))
    parts["finish"] = b.build()
    b, st = part("scale")
    r = b.input("r", inner.width)
    mu = b.input("mu", inner.width) if layer else None
    for p in range(lanes):
        X = st.wide(b.input(f"x{p}", fmt.width), f"x{p}_wide")
        if layer:
            X = st.op("fsub", f"centre{p}", X, mu)
        w = b.input(f"w{p}", fmt.width)
        bias = b.input(f"b{p}", fmt.width) if layer else None
        b.output(f"y{p}", st.output(p, X, r, w, bias))
    parts["scale"] = b.build()
    for nl in parts.values():
        nl.meta.update(unit=f"{name}_stream", format=fmt.name, n=n, lanes=lanes,
                       internal=inner.name)
    neg_zero = 1 << (inner.width - 1)
    first = "sum" if layer else "sumsq"
    program = [Step("pass", first, out=first, source="input")]
    if layer:
        program += [Step("step", "mean", out="mu", reads=("sum",)),
                    Step("pass", "sumsq", out="sumsq", reads=("mu",))]
    program += [Step("step", "finish", out="r", reads=("sumsq",)),
                Step("emit", "scale", reads=("r", "mu") if layer else ("r",))]
    registers = {"sumsq": (inner.width, neg_zero), "r": (inner.width, 0)}
    if layer:
        registers.update(sum=(inner.width, neg_zero), mu=(inner.width, 0))
    return StreamParts(name, fmt.name, n, lanes, ("x", "w", "b") if layer else ("x", "w"),
                       registers, tuple(program), parts,
                       {"eps": float(eps), "policy": policy, "internal": inner.name})
