"""Bit heaps: many-operand fixed-point sums reduced by threshold full adders (Dadda).

A :class:`BitHeap` holds weighted bits ``+-x * 2^col`` and a constant. A threshold full
adder is two neurons (carry ``[a+b+c >= 2]``, sum ``[a+b+c-2*carry >= 1]``, seven synapses),
and a *negative* bit costs nothing extra: ``-x = (1 - x) - 1`` is read with weight ``-1``
and the ``-1`` goes into the constant. Dadda's schedule (column heights 2, 3, 4, 6, 9, 13,
...) reduces every column to two bits in ``O(log N)`` full-adder stages of two neuron
levels each, with the fewest adders; the constant joins as constant bits (which fold into
the adders' thresholds) and a parallel-prefix adder (weights <= 2) finishes.

Full adders rather than wide threshold counters because synapses, not neurons, are what
the Verilog, the simulators and an eventual chip pay for: an ``n``-input threshold counter
needs about ``n^2`` synapses, ``n`` full adders about ``7n``.
"""

from __future__ import annotations

from collections import defaultdict

from .arith import add
from .builder import NetlistBuilder
from .netlist import CONST0, CONST1

__all__ = ["BitHeap", "dadda_heights"]


def dadda_heights(limit):
    """Dadda's target heights 2, 3, 4, 6, 9, ... below ``limit``."""
    seq = [2]
    while seq[-1] < limit:
        seq.append(seq[-1] * 3 // 2)
    return seq


class BitHeap:
    """Signed bits by column plus a constant; :meth:`reduce` returns the sum's bits."""

    def __init__(self, width):
        self.width = width
        self.cols = defaultdict(list)        # col -> [(net, negative)]
        self.const = 0

    def add(self, net, col, *, negative=False):
        if col >= self.width or net == CONST0:
            return
        if col < 0:
            raise ValueError(f"bit at column {col}: a heap has no fractional columns")
        if net == CONST1:
            self.const += -(1 << col) if negative else (1 << col)
            return
        self.cols[col].append((net, negative))

    def add_const(self, value):
        self.const += value

    def add_bus(self, bits, col=0, *, signed=False):
        """A bus (LSB first) at ``col``; with ``signed`` its top bit weighs ``-2^top``."""
        bits = tuple(bits)
        for i, x in enumerate(bits):
            self.add(x, col + i, negative=signed and i == len(bits) - 1)

    def height(self):
        return max((len(v) for v in self.cols.values()), default=0)

    def entries(self):
        return sum(len(v) for v in self.cols.values())

    # -- reduction ---------------------------------------------------------------------
    @staticmethod
    def _adder(b, entries):
        """Full/half adder on 2-3 signed entries: ``(sum, carry, constant)``."""
        pairs = [(x, -1 if neg else 1) for x, neg in entries]
        nneg = sum(1 for _, neg in entries if neg)
        carry = b.neuron(pairs, bias=nneg, threshold=2, name="fa_c")
        total = b.neuron(pairs + [(carry, -2)], bias=nneg, threshold=1, name="fa_s")
        return total, carry, -nneg

    def reduce(self, b: NetlistBuilder, *, name="acc"):
        """The heap's value mod ``2^width``, as ``width`` bits (two's complement)."""
        W = self.width
        mask = (1 << W) - 1
        const = self.const & mask
        cols = {c: list(v) for c, v in self.cols.items()}
        for c in range(W):                      # constant bits first: adders fold them
            if (const >> c) & 1:
                cols.setdefault(c, []).insert(0, (CONST1, False))
        const = 0
        with b.block(name):
            heights = dadda_heights(max((len(v) for v in cols.values()), default=0))
            for target in reversed(heights[:-1]):
                new = defaultdict(list)
                for c in range(W):
                    have = list(cols.get(c, []))
                    while len(have) + len(new[c]) > target and len(have) >= 2:
                        over = len(have) + len(new[c]) - target
                        take = 3 if over >= 2 and len(have) >= 3 else 2
                        group, have = have[:take], have[take:]
                        s, carry, k = self._adder(b, group)
                        const += k << c
                        new[c].append((s, False))
                        if c + 1 < W:
                            new[c + 1].append((carry, False))
                    new[c].extend(have)
                cols = {}
                for c, v in new.items():
                    for x, neg in v:
                        if x == CONST0:
                            continue
                        if x == CONST1:             # a folded adder output
                            const += -(1 << c) if neg else (1 << c)
                            continue
                        cols.setdefault(c, []).append((x, neg))
            rows = [[CONST0] * W, [CONST0] * W]
            for c in range(W):
                for i, (x, neg) in enumerate(cols.get(c, [])):
                    if neg:                          # -x = (1 - x) - 1
                        x = b.neuron([(x, -1)], threshold=0, name="inv")
                        const -= 1 << c
                    rows[i][c] = x
            const &= mask
            if const:
                # one 3:2 stage folds the constant in (half adders where its bit is 0)
                r0, r1 = [CONST0] * W, [CONST0] * W
                for c in range(W):
                    group = [(rows[0][c], False), (rows[1][c], False)]
                    if (const >> c) & 1:
                        group.append((CONST1, False))
                    s, carry, _ = self._adder(b, group)
                    r0[c] = s
                    if c + 1 < W:
                        r1[c + 1] = carry
                rows = [r0, r1]
            out, _ = add(b, tuple(rows[0]), tuple(rows[1]), variant="prefix")
            return tuple(out)
