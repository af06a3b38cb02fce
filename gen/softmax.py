"""Spatial softmax over N elements (max subtracted), wired from the float and function units.

The steps of :mod:`spikegate.golden.softmax`, each an embedded unit: a pairwise tree of
maxima (a signed-magnitude comparison, five neurons, and a two-neuron multiplexer per bit),
``fsub``/``fmul``/``fadd``/``fdiv`` of the internal format (float32; binary64 for fp32 I/O),
the ``fconvert`` casts that split ``d = h + g + s`` exactly, and the correctly rounded
bf16 -> internal-format exp table (:mod:`.wide_function`) for ``e^h`` and ``e^g``. Ports ``x0..x{N-1}`` -> ``y0..y{N-1}``.
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

__all__ = ["build_softmax", "build_float_max", "MAX_SOFTMAX_N"]

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


def build_softmax(fmt, n, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """Softmax of ``n`` elements of ``fmt`` (internal-format steps, bf16 split, exp tables)."""
    policy = check_policy(policy)
    fmt = get_format(fmt)
    if fmt.name not in SOFTMAX_FORMATS:
        raise ValueError(f"softmax is offered for {', '.join(SOFTMAX_FORMATS)}, not {fmt.name}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SOFTMAX_N:
        raise ValueError(f"softmax: --n must be an integer from 1 to {MAX_SOFTMAX_N}, "
                         f"not {n!r}")
    inner, split = internal_format(fmt), get_format(SPLIT)
    unit = {"fadd": build_fadd(inner, policy=policy, bounds=bounds),
            "fsub": build_fsub(inner, policy=policy, bounds=bounds),
            "fmul": build_fmul(inner, policy=policy, bounds=bounds),
            "fdiv": build_fdiv(inner, policy=policy, bounds=bounds),
            "exp": build_function("exp", split, out=inner, policy=policy),
            "split": build_fconvert(inner, split, policy=policy, bounds=bounds),
            "unsplit": build_fconvert(split, inner, policy=policy, bounds=bounds),
            "widen": build_fconvert(fmt, inner, policy=policy, bounds=bounds),
            "narrow": build_fconvert(inner, fmt, policy=policy, bounds=bounds)}
    b = NetlistBuilder(f"softmax{n}_{fmt.name}_{policy}", bounds=bounds)
    x = [b.input(f"x{i}", fmt.width) for i in range(n)]

    def op(name, block, *args):
        return b.embed(unit[name], dict(zip(("a", "b"), args)), block=block)["y"]

    def const(value):
        return _code_nets(const_code(value, inner), inner.width)

    m = list(x)
    for k, pairs in enumerate(tree_order(n)):
        with b.block(f"max_l{k}"):
            m = [m[i] if j is None else _float_max(b, fmt, m[i], m[j]) for i, j in pairs]
    M = op("widen", "max_wide", m[0])
    one, half = const(1.0), const(0.5)
    e = []
    for i in range(n):
        d = op("fsub", f"diff{i}", op("widen", f"x{i}_wide", x[i]), M)
        h = op("split", f"hi{i}", d)
        with b.block(f"hi{i}_negligible"):
            # h <= -2^NEGLIGIBLE (-inf too): sign set and biased exponent >= bias + NEGLIGIBLE
            sign = h[split.width - 1]
            exp_bits = h[split.man_bits:split.width - 1]
            big = 1 << len(exp_bits)
            negligible = Lin([(sign, big)] + [(t, 1 << k) for k, t in enumerate(exp_bits)]) \
                .ge(b, big + split.bias + NEGLIGIBLE, name="negligible")
        r_raw = op("fsub", f"res{i}", d, op("unsplit", f"hi{i}_wide", h))
        with b.block(f"res{i}_mask"):
            r = tuple(Lin([(t, 1), (negligible, -1)]).ge(b, 1, name="r") for t in r_raw)
        g = op("split", f"mid{i}", r)
        s = op("fsub", f"lo{i}", r, op("unsplit", f"mid{i}_wide", g))
        eh, eg = op("exp", f"exp_hi{i}", h), op("exp", f"exp_mid{i}", g)
        p = op("fadd", f"one_plus{i}", one, s)
        if quadratic_tail(inner):
            p = op("fadd", f"tail{i}", p, op("fmul", f"half_sq{i}",
                                            op("fmul", f"sq{i}", s, s), half))
        e.append(op("fmul", f"e{i}", op("fmul", f"e_hm{i}", eh, eg), p))
    terms = list(e)
    for k, pairs in enumerate(tree_order(n)):
        terms = [terms[a] if c is None else op("fadd", f"sum_l{k}_{a // 2}", terms[a], terms[c])
                 for a, c in pairs]
    R = op("fdiv", "recip", one, terms[0])
    for i in range(n):
        b.output(f"y{i}", op("narrow", f"y{i}_cast", op("fmul", f"prob{i}", e[i], R)))
    b.meta.update(unit="softmax", format=fmt.name, n=n, policy=policy, internal=inner.name)
    return b.build()
