"""16-bit correctly rounded function tables from two levels of threshold neurons.

An input of 16 bits makes a unary function a 65,536-entry table (the exact golden,
:func:`~spikegate.golden.functions.function_table`). The 8-bit architectures
(:mod:`.float_function`) search that table code by code in Python; here the same idea is
vectorised, and given the two kinds of structure a 16-bit function table has:

* **steps** -- within a sign, floats are ordered by code, so every output bit is a step
  function of the input code: ``bit = [c0 + sum_t d_t P_t >= 1]`` over its change points
  ``t``, with one *thermometer* neuron ``P_t = [code >= t]`` per change point, shared by all
  bits (``M_t = [magnitude >= t]`` for a bit that ignores the sign, as tanh's magnitude
  bits). This is all ``exp`` and ``sigmoid`` need: their outputs change on a few thousand
  codes.
* **sources** -- on long runs of codes an output bit copies something cheap: an input bit
  (``tanh x = x`` for tiny ``x``, ``silu x = x`` for large ``x``, ``silu x ~ x/2``: the
  mantissa bits pass through), or a function of the low ``k`` input bits alone (``recip``'s
  and ``rsqrt``'s mantissa depends on the input mantissa, and the exponent's parity, in
  every binade). Then ``bit = [2G + u + s >= 2]``: ``u`` (a step function) marks the runs
  where the bit equals the source ``s``, ``G`` (a step function, 0 on those runs) is the
  bit elsewhere; ``s`` is an input bit (free) or a step function of the low bits over
  thermometers ``L_t = [code mod 2^k >= t]`` (at most ``2^k`` of them, shared).

Every output bit takes the form with the fewest level-1 neurons not already made for the
other bits (two rounds). The result: two neuron levels, one neuron per output bit at level 2
(wide: it reads all its change points), and level-1 thermometers of at most 16 synapses.
Arithmetic range reduction would need fewer neurons for the 16-bit functions whose outputs
change on most codes (tanh, silu, GELU, recip in fp16); the table is exact by construction
and every one of its 65,536 entries is checked on the engines.
"""

from __future__ import annotations

import numpy as np

from .builder import NetlistBuilder
from .linear_form import Lin
from .thermometers import Thermometers

__all__ = ["wide_table_bits", "WIDE_INPUT_BITS"]

WIDE_INPUT_BITS = 16
#: Shortest run of codes handed to a source (shorter ones cost more than they save).
RUN_LENGTHS = (6, 16, 64)


def _changes(seq):
    """Indices ``t >= 1`` where ``seq[t] != seq[t - 1]``."""
    return np.flatnonzero(seq[1:] != seq[:-1]) + 1


def _long_runs(eq, length):
    """0/1 mask of the runs of ``True`` in ``eq`` at least ``length`` long."""
    e = np.concatenate(([0], eq.astype(np.int8), [0]))
    d = np.diff(e)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    keep = ends - starts >= length
    mask = np.zeros(len(eq) + 1, np.int64)
    mask[starts[keep]] += 1
    mask[ends[keep]] -= 1
    return np.cumsum(mask[:-1])


class _Form:
    """``bit = [const + sum(w * feature) >= threshold]``.

    Features are ``(kind, t)``: ``("P", t)`` ``[code >= t]``, ``("M", t)`` ``[magnitude >=
    t]``, ``("L<k>", t)`` ``[code mod 2^k >= t]``, ``("a", k)`` input bit ``k`` (free).
    ``ids``: the non-free features as integers, for costing against the ones in use.
    """

    __slots__ = ("const", "terms", "threshold", "ids")

    def __init__(self, const, terms, threshold, ids):
        self.const, self.terms, self.threshold, self.ids = int(const), terms, threshold, ids


#: Integer ids of the features: a block of 2^16 per kind.
_KIND_BASE = {"P": 0, "M": 1 << 16}


def _kind_base(kind):
    return _KIND_BASE[kind] if kind in _KIND_BASE else (2 + int(kind[1:])) << 16


class _Option:
    """A candidate form of one bit, costed before its terms are built."""

    __slots__ = ("kind", "value", "src", "threshold", "ids")

    def __init__(self, kind, value, src, threshold):
        self.kind, self.value, self.src, self.threshold = kind, value, src, threshold
        ids = _changes(value) + _kind_base(kind)
        if src is not None and src[0] != "a":
            ids = np.concatenate((ids, src[2] + _kind_base(src[0])))
        self.ids = ids

    def form(self):
        v = self.value
        t = _changes(v)
        terms = {(self.kind, int(i)): int(v[i] - v[i - 1]) for i in t}
        const = int(v[0])
        if self.src is not None:
            kind, const_s, where, weights = self.src
            const += const_s
            terms.update({(kind, int(i)): int(w) for i, w in zip(where, weights)})
        return _Form(const, terms, self.threshold, self.ids)


def _options(seq, kind, nbits, low_widths):
    """Candidate forms of one output bit over a domain of ``2^nbits`` codes: the step form,
    and the source forms ``[V + s >= 2]``, ``V = 2G + u``."""
    idx = np.arange(len(seq), dtype=np.int64)
    out = [_Option(kind, seq, None, 1)]
    sources = []                      # (values, (kind, const, feature ts, weights))
    for k in range(nbits):
        bit = (idx >> k) & 1
        sources.append((bit, ("a", 0, np.array([k]), np.array([1]))))
        sources.append((1 - bit, ("a", 1, np.array([k]), np.array([-1]))))
    for k in low_widths:
        if k >= nbits:
            continue
        rows = seq.reshape(-1, 1 << k)
        varied = rows[rows.min(axis=1) != rows.max(axis=1)]
        if not len(varied):
            continue
        g = (2 * varied.sum(axis=0) > len(varied)).astype(np.int64)   # majority pattern
        t = _changes(g)
        sources.append((np.tile(g, len(rows)), (f"L{k}", int(g[0]), t, g[t] - g[t - 1])))
    for values, src in sources:
        eq = seq == values
        for length in RUN_LENGTHS:
            u = _long_runs(eq, length)
            if not u.any():
                break
            out.append(_Option(kind, 2 * (seq * (1 - u)) + u, src, 2))
    return out


def _choose(table, width, out_width, low_widths, rounds=2):
    """One form per output bit, so that the union of level-1 features stays small."""
    half = len(table) // 2
    opts = []
    for j in range(out_width):
        seq = (table >> j) & 1
        o = _options(seq, "P", width, low_widths)
        if np.array_equal(seq[:half], seq[half:]):        # ignores the sign: magnitude only
            o += _options(seq[:half], "M", width - 1, low_widths)
        opts.append(o)
    size = (3 + max(low_widths)) << 16
    choice = [None] * out_width
    for _ in range(rounds):
        for j in range(out_width):
            used = np.zeros(size, np.int64)
            for i, c in enumerate(choice):
                if i != j and c is not None:
                    used[c.ids] = 1
            choice[j] = min(opts[j], key=lambda o: (int((used[o.ids] == 0).sum()), len(o.ids)))
    return [c.form() for c in choice]


def wide_table_bits(b: NetlistBuilder, a, table, out_width, low_widths):
    """Output nets of ``table`` (``2^len(a)`` output codes) read from input nets ``a``.

    ``low_widths``: the low-bit widths ``k`` whose periodic functions may serve as sources
    (the mantissa width, and one more for the exponent's parity).
    """
    table = np.asarray(table, dtype=np.int64)
    width = len(a)
    if len(table) != 1 << width:
        raise ValueError(f"a table of {len(table)} entries does not match {width} input bits")
    F = Thermometers(b, a)
    out = []
    for j, form in enumerate(_choose(table, width, out_width, low_widths)):
        lin = Lin([(F.net(f), w) for f, w in sorted(form.terms.items(), key=_order)],
                  form.const)
        with b.block("bits"):
            out.append(lin.ge(b, form.threshold, name=f"y{j}"))
    return out


def _order(item):
    (kind, t), _ = item
    return (kind, t)
