"""Fixed-point datapaths from neurons: truncated bit heaps, constant and variable products,
step-function tables.

The FP32 functions (:mod:`.float32_function`) work on unsigned fixed-point values: a
:class:`Fixed` is a bus whose bit ``i`` weighs ``2^(lsb + i)``. Sums of such values, their
products with constants (each one-bit of the constant adds a shifted copy of the bus: no
neurons) and with each other (one AND neuron per bit pair) are all collected in one
:class:`Column` heap, reduced by column counters and a block-carry adder
(:func:`~.float_mul.counter_reduce`: weights below ``2^9``).

A heap keeps only the columns at and above its ``cut``: the terms below it are dropped,
and half of the most they could add is put back as a constant, so the truncation error is
at most half their worst case either way, ``|err| <= dropped / 2`` (:attr:`Column.error`
keeps the bound, constants' rounding included). What the datapath's errors add up to is
measured on every input, not derived (``spikegate verify --exhaustive``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .builder import NetlistBuilder
from .float_mul import counter_reduce
from .gates import and_
from .linear_form import Lin
from .netlist import CONST0, CONST1
from .thermometers import Thermometers

__all__ = ["Fixed", "Column", "step_table"]


@dataclass(frozen=True)
class Fixed:
    """``sum(bits[i] * 2^(lsb + i))``: an unsigned fixed-point bus, LSB first."""

    bits: tuple
    lsb: int

    @property
    def msb(self):
        return self.lsb + len(self.bits) - 1

    def above(self, cut) -> "Fixed":
        """The bits of weight ``2^cut`` and more (a truncation toward zero)."""
        k = max(cut - self.lsb, 0)
        return Fixed(tuple(self.bits[k:]), self.lsb + k)

    def slice(self, lo, hi) -> "Fixed":
        """The bits of weights ``2^lo .. 2^hi``."""
        return Fixed(tuple(self.bits[lo - self.lsb:hi - self.lsb + 1]), lo)

    def items(self):
        return [(net, self.lsb + i) for i, net in enumerate(self.bits)]


class Column:
    """A heap of bits by weight exponent, summed into a :class:`Fixed` by :meth:`reduce`.

    Parameters
    ----------
    cut : int
        Exponent of the result's LSB; terms below it are dropped (and compensated).
    top : int
        Exponent of the result's MSB: the caller guarantees the sum stays below
        ``2^(top + 1)``.
    """

    def __init__(self, cut, top):
        self.cut, self.top = cut, top
        self.cols = {c: [] for c in range(cut, top + 1)}
        self.dropped = Fraction(0)        # the most the dropped terms could have added
        self.const = Fraction(0)
        self.error = Fraction(0)          # bound on |result - exact sum|

    def add(self, net, exp):
        if net == CONST0:
            return
        if exp < self.cut:
            self.dropped += Fraction(2) ** exp
        elif exp > self.top:
            raise ValueError(f"a term of weight 2^{exp} passes the heap's top 2^{self.top}")
        elif net == CONST1:
            self.const += Fraction(2) ** exp
        else:
            self.cols[exp].append(net)

    def add_fixed(self, x: Fixed, shift=0):
        for net, e in x.items():
            self.add(net, e + shift)

    def add_const(self, value):
        self.const += Fraction(value)

    def add_scaled(self, x: Fixed, c):
        """``x * c`` for a constant ``c >= 0``: a shifted copy of ``x`` per one-bit of ``c``
        (``c`` taken to the bits that reach the cut, the rest rounded into the error)."""
        c = Fraction(c)
        if c < 0:
            raise ValueError("add_scaled takes a non-negative constant")
        scale = self.cut - x.msb - 2                  # c's bits below 2^scale reach no column
        n = round(c / Fraction(2) ** scale)
        self.error += abs(c - n * Fraction(2) ** scale) * (Fraction(2) ** (x.msb + 1))
        for k in range(n.bit_length()):
            if (n >> k) & 1:
                self.add_fixed(x, scale + k)

    def add_product(self, b: NetlistBuilder, x: Fixed, y: Fixed, *, name="pp"):
        """``x * y``: one AND neuron per bit pair that reaches the cut."""
        with b.block(name):
            for xi, ex in x.items():
                for yj, ey in y.items():
                    if ex + ey < self.cut:
                        self.dropped += Fraction(2) ** (ex + ey)
                    else:
                        self.add(and_(b, xi, yj), ex + ey)

    def add_square(self, b: NetlistBuilder, x: Fixed, *, name="sq"):
        """``x^2``: ``x_i`` itself at ``2^(2 e_i)`` and one AND per pair ``i < j`` at twice
        its weight (half the neurons of :meth:`add_product` on ``x, x``)."""
        items = x.items()
        with b.block(name):
            for i, (xi, ei) in enumerate(items):
                self.add(xi, 2 * ei)                      # below the cut: dropped
                for xj, ej in items[i + 1:]:
                    if ei + ej + 1 < self.cut:
                        self.dropped += Fraction(2) ** (ei + ej + 1)
                    else:
                        self.add(and_(b, xi, xj), ei + ej + 1)

    def columns(self):
        """The columns ``cut .. top`` (lists of nets) with the constant, half of the dropped
        maximum included, rounded to the cut as CONST1 bits (the error bound updated): what
        any reduction of the heap sums."""
        total = self.const + self.dropped / 2
        unit = Fraction(2) ** self.cut
        n = round(total / unit)
        self.error += abs(total - n * unit) + self.dropped / 2
        W = self.top - self.cut + 1
        if n >> W:
            raise ValueError("the heap's constant passes its top")
        return [list(self.cols[self.cut + i]) + ([CONST1] if (n >> i) & 1 else [])
                for i in range(W)]

    def reduce(self, b: NetlistBuilder, *, name="sum") -> Fixed:
        """The sum, rounded to the cut: half of the dropped maximum added back."""
        cols = self.columns()
        if all(len(c) <= 1 for c in cols):
            bits = tuple(c[0] if c else CONST0 for c in cols)
        else:
            bits = counter_reduce(b, cols, name=name)
        return Fixed(tuple(bits), self.cut)


def step_table(b: NetlistBuilder, index, values, width, *, name="tab"):
    """Bits ``0 .. width-1`` of ``values[index]`` (``len(values) == 2^len(index)``), two
    neuron levels: the thermometers ``[index >= t]`` at the change points of any bit,
    shared, and one neuron per bit, ``[v_0 + sum_t (v_t - v_(t-1)) [index >= t] >= 1]``
    (the sum is the bit itself, 0 or 1)."""
    therm = Thermometers(b, index)
    out = []
    with b.block(name):
        for i in range(width):
            bit = [(v >> i) & 1 for v in values]
            form = Lin([(therm.net(("P", t)), bit[t] - bit[t - 1])
                        for t in range(1, len(bit)) if bit[t] != bit[t - 1]], bit[0])
            out.append(form.ge(b, 1, name="bit"))
    return tuple(out)
