"""Multi-bit arithmetic: threshold counters, adders, subtractors, incrementer, multiplier.

The workhorse is :func:`weighted_sum_bits`: any integer linear combination of bits becomes
its binary digits in two neuron levels. Bit ``k`` of ``L`` only depends on ``L mod 2^(k+1)``;
a few thermometer neurons ``[L_k >= j * 2^(k+1)]`` count how many times ``2^(k+1)`` fits,
and one more neuron subtracts them and tests ``>= 2^k``. Adders, subtractors and the
partial-product sums of a multiplier are all this one block with different weights. Where
a :class:`~spikegate.gen.netlist.Bounds` forbids its large weights or fan-in, the
classic ripple-carry and parallel-prefix (Sklansky) adders are available.
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .gates import and_, full_adder, not_, xor
from .netlist import CONST0, CONST1

__all__ = ["weighted_sum_bits", "add", "sub", "add_sub", "increment", "multiply",
           "popcount", "ADDER_VARIANTS", "pad"]

ADDER_VARIANTS = ("auto", "threshold", "prefix", "ripple")


def pad(bits, width, fill=CONST0):
    bits = tuple(bits)
    return bits + (fill,) * (width - len(bits)) if len(bits) < width else bits[:width]


def _balanced(weight, modulus):
    """The residue of ``weight`` mod ``modulus`` nearest zero: it keeps the range small."""
    r = weight % modulus
    return r - modulus if r > modulus // 2 else r


def _sum_cost(terms, const, out_bits):
    """Largest fan-in and |weight| that :func:`weighted_sum_bits` would need."""
    fanin, weight = 0, 0
    for k in range(out_bits):
        m = 1 << (k + 1)
        ws = [_balanced(w, m) for _, w in terms]
        c = _balanced(const, m)
        lo = c + sum(w for w in ws if w < 0)
        hi = c + sum(w for w in ws if w > 0)
        q = hi // m - lo // m
        fanin = max(fanin, sum(1 for w in ws if w) + q)
        weight = max([weight, *map(abs, ws)] + ([m] if q else []))
    return fanin, weight


def weighted_sum_bits(b: NetlistBuilder, terms, const=0, out_bits=None, *, name="sum"):
    """Bits ``0 .. out_bits-1`` of ``sum(w * x) + const`` (two's complement, mod 2^out_bits).

    Two neuron levels whatever the width. When ``out_bits`` is None it is the width that
    holds the largest possible value (the sum must then be non-negative).
    """
    terms = [(n, w) for n, w in terms if n != CONST0 and w != 0]
    const += sum(w for n, w in terms if n == CONST1)
    terms = [(n, w) for n, w in terms if n != CONST1]
    if out_bits is None:
        lo = const + sum(w for _, w in terms if w < 0)
        hi = const + sum(w for _, w in terms if w > 0)
        if lo < 0:
            raise ValueError("weighted_sum_bits needs out_bits when the sum can be negative")
        out_bits = max(hi.bit_length(), 1)
    bits = []
    for k in range(out_bits):
        m, half = 1 << (k + 1), 1 << k
        reduced = [(n, _balanced(w, m)) for n, w in terms]
        reduced = [(n, w) for n, w in reduced if w]
        c = _balanced(const, m)
        lo = c + sum(w for _, w in reduced if w < 0)
        hi = c + sum(w for _, w in reduced if w > 0)
        # floor(L/m) = lo//m + #{j : L >= j*m}, for the j that can happen.
        quotas = [b.neuron(reduced, bias=c, threshold=j * m, name=f"{name}_q")
                  for j in range(lo // m + 1, hi // m + 1)]
        base = (lo // m) * m
        bits.append(b.neuron(reduced + [(q, -m) for q in quotas], bias=c - base,
                             threshold=half, name=f"{name}_b"))
    return tuple(bits)


def _choose(b, variant, terms, const, out_bits):
    if variant not in ADDER_VARIANTS:
        raise ValueError(f"unknown adder variant {variant!r}: choose one of "
                         f"{', '.join(ADDER_VARIANTS)}")
    if variant != "auto":
        return variant
    fanin, weight = _sum_cost(terms, const, out_bits)
    return "threshold" if b.bounds.allows(fanin=fanin, weight=weight) else "prefix"


def add(b: NetlistBuilder, x, y, cin=CONST0, *, variant="auto"):
    """``x + y + cin`` for equal-width unsigned buses: returns ``(sum bits, carry out)``."""
    n = max(len(x), len(y))
    x, y = pad(x, n), pad(y, n)
    terms = [(xi, 1 << i) for i, xi in enumerate(x)] + [(yi, 1 << i) for i, yi in enumerate(y)]
    terms.append((cin, 1))
    variant = _choose(b, variant, terms, 0, n + 1)
    if variant == "threshold":
        bits = weighted_sum_bits(b, terms, 0, n + 1, name="add")
        return bits[:n], bits[n]
    if variant == "ripple":
        carry, out = cin, []
        for xi, yi in zip(x, y):
            s, carry = full_adder(b, xi, yi, carry)
            out.append(s)
        return tuple(out), carry
    return _prefix_add(b, x, y, cin)


def _prefix_add(b, x, y, cin):
    """Sklansky parallel prefix: depth ``ceil(log2 n) + 2`` with one- and two-input neurons."""
    n = len(x)
    # (generate, propagate) per position; cin acts as a generate below bit 0.
    gp = [(cin, CONST0)] + [(and_(b, xi, yi), b.neuron([(xi, 1), (yi, 1)], threshold=1,
                                                        name="p")) for xi, yi in zip(x, y)]
    span = 1
    while span < n + 1:
        nxt = list(gp)
        for i in range(n + 1):
            if (i // span) % 2 == 1:
                j = (i // span) * span - 1
                (g, p), (g2, p2) = gp[i], gp[j]
                nxt[i] = (b.neuron([(g, 2), (p, 1), (g2, 1)], threshold=2, name="g"),
                          and_(b, p, p2))
        gp, span = nxt, span * 2
    carries = [g for g, _ in gp]  # carries[i] = carry into bit i (carries[n] = carry out)
    out = tuple(b.neuron([(xi, 1), (yi, 1), (carries[i], 1), (carries[i + 1], -2)],
                         threshold=1, name="s") for i, (xi, yi) in enumerate(zip(x, y)))
    return out, carries[n]


def sub(b: NetlistBuilder, x, y, *, variant="auto"):
    """``x - y`` mod 2^n for unsigned buses: returns ``(difference bits, x >= y)``."""
    n = max(len(x), len(y))
    x, y = pad(x, n), pad(y, n)
    terms = [(xi, 1 << i) for i, xi in enumerate(x)] + [(yi, -(1 << i)) for i, yi in enumerate(y)]
    if _choose(b, variant, terms, 1 << n, n + 1) == "threshold":
        bits = weighted_sum_bits(b, terms, 1 << n, n + 1, name="sub")
        return bits[:n], bits[n]
    return add(b, x, tuple(not_(b, yi) for yi in y), CONST1, variant=variant)


def add_sub(b: NetlistBuilder, x, y, subtract, *, variant="auto"):
    """``x - y`` when ``subtract`` is 1, else ``x + y``; returns ``(bits, carry out)``."""
    return add(b, x, tuple(xor(b, yi, subtract) for yi in y), subtract, variant=variant)


def increment(b: NetlistBuilder, x):
    """``x + 1``: carries are ANDs of the low bits, each sum bit one more neuron (depth 2)."""
    carries = [CONST1] + [and_(b, *x[:k + 1]) for k in range(len(x))]
    out = tuple(b.neuron([(xi, 1), (carries[k], 1), (carries[k + 1], -2)], threshold=1,
                         name="inc") for k, xi in enumerate(x))
    return out, carries[len(x)]


def multiply(b: NetlistBuilder, x, y):
    """Unsigned ``x * y`` (``len(x) + len(y)`` bits): AND partial products, then one
    threshold counter over all of them (three neuron levels in all)."""
    terms = [(and_(b, xi, yj), 1 << (i + j)) for i, xi in enumerate(x) for j, yj in enumerate(y)]
    return weighted_sum_bits(b, terms, 0, len(x) + len(y), name="mul")


def popcount(b: NetlistBuilder, xs):
    """Number of ones among ``xs``, in binary."""
    return weighted_sum_bits(b, [(x, 1) for x in xs], 0, None, name="pop")
