"""Integer linear forms over nets, and the neurons that read them.

A :class:`Lin` is ``sum(w * x) + const`` over 0/1 nets. Exponents, significands and their
sums stay linear forms for as long as possible, because a threshold neuron tests any
linear form against a constant in one step (:meth:`Lin.ge`) and
:meth:`Lin.bits` turns one into binary digits in two neuron levels.

Two refinements over :func:`~spikegate.gen.arith.weighted_sum_bits`:

* *exclusive groups*: nets known to be one-hot (at most one is 1, e.g. the AND terms of a
  decoded shifter) narrow the value range, so fewer quota neurons are needed;
* *known bounds*: when the caller knows the true range of the value, the high digits are
  computed on the unreduced form with only the quotas that range needs;
* a *gate* net folded into every digit neuron: the digit is forced to 0 when the gate is 0,
  at no extra neuron.
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .netlist import CONST0, CONST1

__all__ = ["Lin", "bus_value", "WIDE_SUM"]

#: A comparison whose sum can reach this magnitude (the 63-bit magnitudes of a binary64
#: adder's swap) is split over two neuron levels, so that every neuron sum stays exact in
#: the engines' int32 (C kernel) and float64 (torch) arithmetic; narrower forms (every
#: format up to fp32) are one neuron, as before.
WIDE_SUM = 1 << 31
#: where a wide comparison is split: weights from ``2^SPLIT`` up are the high part
SPLIT = 30


def _balanced(weight, modulus):
    r = weight % modulus
    return r - modulus if r > modulus // 2 else r


class Lin:
    """``sum(w * x) + const`` over nets; ``groups`` lists sets of mutually exclusive nets."""

    __slots__ = ("terms", "const", "groups")

    def __init__(self, terms=(), const=0, groups=()):
        acc = {}
        items = terms.items() if isinstance(terms, dict) else terms
        for net, w in items:
            if net == CONST0 or w == 0:
                continue
            if net == CONST1:
                const += w
                continue
            acc[net] = acc.get(net, 0) + w
        self.terms = {n: w for n, w in acc.items() if w}
        self.const = const
        self.groups = tuple(tuple(g) for g in groups)

    # -- construction ----------------------------------------------------------------
    @classmethod
    def net(cls, n, weight=1):
        return cls([(n, weight)])

    @classmethod
    def constant(cls, c):
        return cls((), c)

    @classmethod
    def exclusive(cls, pairs):
        """``sum(w * x)`` over nets of which at most one is 1."""
        pairs = list(pairs)
        return cls(pairs, 0, [tuple(n for n, _ in pairs)])

    def _merge_groups(self, other):
        return self.groups + other.groups

    def __add__(self, other):
        if isinstance(other, int):
            return Lin(self.terms, self.const + other, self.groups)
        terms = list(self.terms.items()) + list(other.terms.items())
        return Lin(terms, self.const + other.const, self._merge_groups(other))

    __radd__ = __add__

    def __neg__(self):
        return Lin({n: -w for n, w in self.terms.items()}, -self.const, self.groups)

    def __sub__(self, other):
        return self + (-other if isinstance(other, Lin) else -other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, k):
        if not isinstance(k, int):
            return NotImplemented
        return Lin({n: w * k for n, w in self.terms.items()}, self.const * k,
                   self.groups if k else ())

    __rmul__ = __mul__

    # -- analysis ---------------------------------------------------------------------
    def _valid_groups(self):
        """Groups restricted to nets still in the form, disjoint (first claim wins)."""
        seen, out = set(), []
        for g in self.groups:
            g = tuple(n for n in g if n in self.terms and n not in seen)
            if len(g) > 1:
                seen.update(g)
                out.append(g)
        return out

    def bounds(self):
        """``(lo, hi)``: the range the form can take, using the exclusive groups."""
        lo = hi = self.const
        grouped = set()
        for g in self._valid_groups():
            ws = [self.terms[n] for n in g]
            lo += min(0, min(ws))
            hi += max(0, max(ws))
            grouped.update(g)
        for n, w in self.terms.items():
            if n not in grouped:
                lo += min(0, w)
                hi += max(0, w)
        return lo, hi

    def pairs(self):
        return sorted(self.terms.items())

    def reduced(self, modulus):
        """The form with every weight and the constant taken mod ``modulus`` (nearest 0)."""
        return Lin({n: _balanced(w, modulus) for n, w in self.terms.items()},
                   _balanced(self.const, modulus), self.groups)

    # -- neurons ----------------------------------------------------------------------
    def ge(self, b: NetlistBuilder, c, *, name="ge", gate=None):
        """One neuron ``[form >= c]`` (``gate``: also require the gate net to be 1); a form
        reaching :data:`WIDE_SUM` takes one more level (:meth:`_ge_wide`)."""
        lo, hi = self.bounds()
        if gate is None and max(-lo, hi, abs(c)) >= WIDE_SUM:
            wide = self._ge_wide(b, c, name)
            if wide is not None:
                return wide
        pairs = self.pairs()
        threshold = c - self.const
        if gate is not None:
            lo, hi = self.bounds()
            big = max(hi - c + 1, 1)
            pairs.append((gate, big))
            threshold += big
        return b.neuron(pairs, threshold=threshold, name=name)

    def _ge_wide(self, b, c, name):
        """``[form >= c]`` as ``[H / 2^S + floor(L / 2^S) >= 0]``: ``H`` the terms of weight
        ``>= 2^S`` (multiples of it), ``L`` the rest minus ``c``, whose floor is a
        thermometer of a few narrow neurons; None when the weights do not split so."""
        unit = 1 << SPLIT
        high = {n: w for n, w in self.terms.items() if abs(w) >= unit}
        if not high or any(w % unit for w in high.values()):
            return None
        low = Lin({n: w for n, w in self.terms.items() if n not in high}, self.const - c)
        lo, hi = low.bounds()
        q_lo = lo // unit
        steps = [low.ge(b, q * unit, name=f"{name}_lo") for q in range(q_lo + 1, hi // unit + 1)]
        top = Lin({n: w // unit for n, w in high.items()}, q_lo) + Lin([(t, 1) for t in steps])
        return top.ge(b, 0, name=name)

    def le(self, b: NetlistBuilder, c, *, name="le"):
        return (-self).ge(b, -c, name=name)

    def _plan(self, k, known):
        """``(form, lo, hi)`` used for digit ``k``: reduced mod 2^(k+1), or the unreduced
        form over the known range when that needs fewer quota neurons."""
        m = 1 << (k + 1)
        red = self.reduced(m)
        lo, hi = red.bounds()
        true_lo, true_hi = known if known is not None else self.bounds()
        if true_hi // m - true_lo // m < hi // m - lo // m:
            return self, true_lo, true_hi
        return red, lo, hi

    def bits_cost(self, nbits, *, known=None):
        """Upper bound on the neurons :meth:`bits` makes (before constant folding/sharing)."""
        total = 0
        for k in range(nbits):
            _, lo, hi = self._plan(k, known)
            m = 1 << (k + 1)
            total += hi // m - lo // m + 1
        return total

    def bits(self, b: NetlistBuilder, nbits, *, gate=None, sets=(), known=None, name="sum"):
        """Digits ``0 .. nbits-1`` of the form (two's complement), two neuron levels.

        ``known``: the true ``(lo, hi)`` range of the value when the caller knows one
        tighter than :meth:`bounds`; high digits then use the unreduced form. ``gate``: a
        net ANDed into every digit neuron (digit 0 when the gate is 0). ``sets``: nets that
        force every digit to 1 (they win over the gate).
        """
        out = []
        for k in range(nbits):
            m, half = 1 << (k + 1), 1 << k
            form, lo, hi = self._plan(k, known)
            quotas = [form.ge(b, j * m, name=f"{name}_q") for j in range(lo // m + 1, hi // m + 1)]
            base = (lo // m) * m
            digit = form + Lin([(q, -m) for q in quotas]) - base
            # digit value is now in [0, m): the bit is [digit >= half]. A gate of weight
            # half (threshold raised by half) ANDs; a set input of weight threshold + const
            # fires it whatever the digit (whose pairs sum to at least -const).
            pairs = digit.pairs()
            threshold = half - digit.const
            if gate is not None:
                pairs.append((gate, half))
                threshold += half
            pairs += [(s, threshold + digit.const) for s in sets]
            out.append(b.neuron(pairs, threshold=threshold, name=f"{name}_b"))
        return tuple(out)


def bus_value(bus, lsb_weight=1):
    """The unsigned value of a bus (LSB first) as a :class:`Lin`."""
    return Lin([(n, lsb_weight << i) for i, n in enumerate(bus)])
