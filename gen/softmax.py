"""Softmax over N elements (max subtracted), wired from the float and function units:
spatial (:func:`build_softmax`), or as the datapaths of a stream form
(:func:`build_softmax_stream`).

The steps of :mod:`spikegate.golden.softmax`, each an embedded unit: a pairwise tree of
maxima (a signed-magnitude comparison, five neurons, and a two-neuron multiplexer per bit),
``fsub``/``fmul``/``fadd``/``fdiv`` of the internal format (float32; binary64 for fp32 I/O),
the ``fconvert`` casts that split ``d = h + g + s`` exactly, and the correctly rounded
bf16 -> internal-format exp table (:mod:`.wide_function`) for ``e^h`` and ``e^g``.
Ports ``x0..x{N-1}`` -> ``y0..y{N-1}``.
"""

from __future__ import annotations

from ..golden.formats import check_policy, get_format
from ..golden.norms import const_code, internal_format, tree_order
from ..golden.softmax import NEGLIGIBLE, SOFTMAX_FORMATS, SPLIT, quadratic_tail
from .builder import NetlistBuilder
from .compare import compare
from .float_add import build_fadd, build_fconvert, build_fsub
from .float_divsqrt import build_fdiv
from .float_function import build_function
from .float_mul import build_fmul
from .gates import mux
from .linear_form import Lin
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .vector_stream import MAX_STREAM_N, Step, StreamParts, check_lanes

__all__ = ["build_softmax", "build_softmax_stream", "build_float_max", "MAX_SOFTMAX_N"]

#: Largest spatial N (each element costs about 20,000 neurons).
MAX_SOFTMAX_N = 32


def _float_max(b: NetlistBuilder, fmt, x, y):
    """``y`` if it orders above ``x`` as a signed magnitude (``-0 < +0``), else ``x``."""
    w = fmt.width
    sx, sy = x[w - 1], y[w - 1]
    with b.block("max"):
        y_bigger = compare(b, y[:w - 1], x[:w - 1], "gt")
        x_bigger = compare(b, x[:w - 1], y[:w - 1], "gt")
        cases = [Lin([(sx, 1), (sy, -1)]).ge(b, 1, name="signs"),             # x < 0 <= y
                 Lin([(y_bigger, 1), (sx, -1), (sy, -1)]).ge(b, 1, name="pos"),
                 Lin([(x_bigger, 1), (sx, 1), (sy, 1)]).ge(b, 3, name="neg")]
        pick_y = Lin([(c, 1) for c in cases]).ge(b, 1, name="pick")
        return tuple(mux(b, pick_y, xi, yi) for xi, yi in zip(x, y))


def build_float_max(fmt, *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = b`` if ``b`` orders above ``a`` (:func:`~spikegate.golden.softmax.order_key`),
    else ``a``: the softmax's maximum as a unit of its own."""
    fmt = get_format(fmt)
    b = NetlistBuilder(f"fmax_{fmt.name}", bounds=bounds)
    b.output("y", _float_max(b, fmt, b.input("a", fmt.width), b.input("b", fmt.width)))
    b.meta.update(unit="fmax", format=fmt.name)
    return b.build()


def _code_nets(code, width):
    return tuple(CONST1 if (code >> i) & 1 else CONST0 for i in range(width))


def _check(fmt, n, policy, max_n):
    policy = check_policy(policy)
    fmt = get_format(fmt)
    if fmt.name not in SOFTMAX_FORMATS:
        raise ValueError(f"softmax is offered for {', '.join(SOFTMAX_FORMATS)}, not {fmt.name}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_n:
        raise ValueError(f"softmax: --n must be an integer from 1 to {max_n}, not {n!r}")
    return fmt, policy


def _units(fmt, policy, bounds):
    inner, split = internal_format(fmt), get_format(SPLIT)
    return {"fadd": build_fadd(inner, policy=policy, bounds=bounds),
            "fsub": build_fsub(inner, policy=policy, bounds=bounds),
            "fmul": build_fmul(inner, policy=policy, bounds=bounds),
            "fdiv": build_fdiv(inner, policy=policy, bounds=bounds),
            "exp": build_function("exp", split, out=inner, policy=policy),
            "split": build_fconvert(inner, split, policy=policy, bounds=bounds),
            "unsplit": build_fconvert(split, inner, policy=policy, bounds=bounds),
            "widen": build_fconvert(fmt, inner, policy=policy, bounds=bounds),
            "narrow": build_fconvert(inner, fmt, policy=policy, bounds=bounds)}


class _Steps:
    """The softmax's units, embedded into one builder's netlist step by step."""

    def __init__(self, b: NetlistBuilder, fmt, units):
        self.b, self.fmt, self.units = b, fmt, units
        self.inner, self.split = internal_format(fmt), get_format(SPLIT)

    def op(self, name, block, *args):
        return self.b.embed(self.units[name], dict(zip(("a", "b"), args)), block=block)["y"]

    def const(self, value):
        return _code_nets(const_code(value, self.inner), self.inner.width)

    def max_tree(self, terms, block="max"):
        for k, pairs in enumerate(tree_order(len(terms))):
            with self.b.block(f"{block}_l{k}"):
                terms = [terms[i] if j is None else _float_max(self.b, self.fmt, terms[i],
                                                               terms[j])
                         for i, j in pairs]
        return terms[0]

    def sum_tree(self, terms, block="sum"):
        for k, pairs in enumerate(tree_order(len(terms))):
            terms = [terms[a] if c is None else self.op("fadd", f"{block}_l{k}_{a // 2}",
                                                       terms[a], terms[c])
                     for a, c in pairs]
        return terms[0]

    def exp_term(self, i, x, M):
        """``e_i = (E(h) (x) E(g)) (x) P(s)`` of ``d = F(x) (-) M`` (golden/softmax.py)."""
        b, split = self.b, self.split
        d = self.op("fsub", f"diff{i}", self.op("widen", f"x{i}_wide", x), M)
        h = self.op("split", f"hi{i}", d)
        with b.block(f"hi{i}_negligible"):
            # h <= -2^NEGLIGIBLE (-inf too): sign set and biased exponent >= bias + NEGLIGIBLE
            sign = h[split.width - 1]
            exp_bits = h[split.man_bits:split.width - 1]
            big = 1 << len(exp_bits)
            negligible = Lin([(sign, big)] + [(t, 1 << k) for k, t in enumerate(exp_bits)]) \
                .ge(b, big + split.bias + NEGLIGIBLE, name="negligible")
        r_raw = self.op("fsub", f"res{i}", d, self.op("unsplit", f"hi{i}_wide", h))
        with b.block(f"res{i}_mask"):
            r = tuple(Lin([(t, 1), (negligible, -1)]).ge(b, 1, name="r") for t in r_raw)
        g = self.op("split", f"mid{i}", r)
        s = self.op("fsub", f"lo{i}", r, self.op("unsplit", f"mid{i}_wide", g))
        eh, eg = self.op("exp", f"exp_hi{i}", h), self.op("exp", f"exp_mid{i}", g)
        p = self.op("fadd", f"one_plus{i}", self.const(1.0), s)
        if quadratic_tail(self.inner):
            p = self.op("fadd", f"tail{i}", p, self.op("fmul", f"half_sq{i}",
                                                      self.op("fmul", f"sq{i}", s, s),
                                                      self.const(0.5)))
        return self.op("fmul", f"e{i}", self.op("fmul", f"e_hm{i}", eh, eg), p)

    def output(self, i, e, R):
        return self.op("narrow", f"y{i}_cast", self.op("fmul", f"prob{i}", e, R))


def build_softmax(fmt, n, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """Softmax of ``n`` elements of ``fmt`` (internal-format steps, bf16 split, exp tables)."""
    fmt, policy = _check(fmt, n, policy, MAX_SOFTMAX_N)
    b = NetlistBuilder(f"softmax{n}_{fmt.name}_{policy}", bounds=bounds)
    st = _Steps(b, fmt, _units(fmt, policy, bounds))
    x = [b.input(f"x{i}", fmt.width) for i in range(n)]
    M = st.op("widen", "max_wide", st.max_tree(list(x)))
    e = [st.exp_term(i, x[i], M) for i in range(n)]
    R = st.op("fdiv", "recip", st.const(1.0), st.sum_tree(e))
    for i in range(n):
        b.output(f"y{i}", st.output(i, e[i], R))
    b.meta.update(unit="softmax", format=fmt.name, n=n, policy=policy, internal=st.inner.name)
    return b.build()


def build_softmax_stream(fmt, n, lanes, *, policy="torch",
                         bounds: Bounds = UNBOUNDED) -> StreamParts:
    """The stream form (:mod:`.vector_stream`) of softmax, ``lanes`` elements a beat: a pass
    of running maxima over the input (``max``), a pass summing the exps over the buffer
    (``sumexp``), one reciprocal (``recip``), and the outputs (``emit``, which computes each
    ``e_i`` again: the same datapath, so the same code)."""
    fmt, policy = _check(fmt, n, policy, MAX_STREAM_N)
    lanes = check_lanes(n, lanes)
    units = _units(fmt, policy, bounds)
    inner = internal_format(fmt)
    tag = f"softmax{n}p{lanes}_{fmt.name}"

    def part(kind):
        b = NetlistBuilder(f"{tag}_{kind}", bounds=bounds)
        return b, _Steps(b, fmt, units)
    parts = {}
    b, st = part("max")
    acc = b.input("acc", fmt.width)
    x = [b.input(f"x{p}", fmt.width) for p in range(lanes)]
    with b.block("running"):
        b.output("y", _float_max(b, fmt, acc, st.max_tree(x)))
    parts["max"] = b.build()
    b, st = part("sumexp")
    acc, m = b.input("acc", inner.width), b.input("m", fmt.width)
    M = st.op("widen", "max_wide", m)
    e = [st.exp_term(p, b.input(f"x{p}", fmt.width), M) for p in range(lanes)]
    b.output("y", st.op("fadd", "acc", acc, st.sum_tree(e)))
    parts["sumexp"] = b.build()
    b, st = part("recip")
    b.output("y", st.op("fdiv", "recip", st.const(1.0), b.input("sum", inner.width)))
    parts["recip"] = b.build()
    b, st = part("emit")
    m, R = b.input("m", fmt.width), b.input("R", inner.width)
    M = st.op("widen", "max_wide", m)
    for p in range(lanes):
        b.output(f"y{p}", st.output(p, st.exp_term(p, b.input(f"x{p}", fmt.width), M), R))
    parts["emit"] = b.build()
    for nl in parts.values():
        nl.meta.update(unit="softmax_stream", format=fmt.name, n=n, lanes=lanes,
                       internal=inner.name)
    program = (Step("pass", "max", out="m", source="input"),
               Step("pass", "sumexp", out="sum", reads=("m",)),
               Step("step", "recip", out="R", reads=("sum",)),
               Step("emit", "emit", reads=("m", "R")))
    # the running maximum starts below every code (order_key: -NaN of the largest
    # magnitude), the sum at -0 (the identity of IEEE addition)
    registers = {"m": (fmt.width, (1 << fmt.width) - 1),
                 "sum": (inner.width, 1 << (inner.width - 1)), "R": (inner.width, 0)}
    return StreamParts("softmax", fmt.name, n, lanes, ("x",), registers, program, parts,
                       {"policy": policy, "internal": inner.name})
