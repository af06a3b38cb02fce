"""Comparators: one threshold neuron compares two n-bit numbers.

``x >= y`` is ``[sum 2^i x_i - sum 2^i y_i >= 0]``; equality is ``x >= y`` and ``y >= x``.
When the bounds forbid weights of ``2^(n-1)`` the comparison falls back to the carry out
of a parallel-prefix subtractor.
"""

from __future__ import annotations

from .arith import pad, sub
from .builder import NetlistBuilder
from .gates import and_, nor, not_

__all__ = ["compare", "equals_const", "COMPARE_OPS", "literal_and"]

COMPARE_OPS = ("lt", "le", "gt", "ge", "eq", "ne")


def _value_terms(bits, sign, signed):
    n = len(bits)
    return [(x, sign * (-(1 << i) if signed and i == n - 1 else 1 << i))
            for i, x in enumerate(bits)]


def compare(b: NetlistBuilder, x, y, op, *, signed=False, variant="auto"):
    """One bit: ``x OP y`` for equal-width buses (two's complement when ``signed``)."""
    if op not in COMPARE_OPS:
        raise ValueError(f"unknown comparison {op!r}: choose one of {', '.join(COMPARE_OPS)}")
    if variant not in ("auto", "threshold", "prefix"):
        raise ValueError(f"unknown comparator variant {variant!r}: choose auto, threshold "
                         f"or prefix")
    n = max(len(x), len(y))
    x, y = pad(x, n), pad(y, n)
    if variant == "auto":
        fits = b.bounds.allows(fanin=2 * n, weight=1 << (n - 1))
        variant = "threshold" if fits else "prefix"
    if variant == "threshold":
        diff = _value_terms(x, 1, signed) + _value_terms(y, -1, signed)
        neg = [(n_, -w) for n_, w in diff]
        ge = lambda: b.neuron(diff, threshold=0, name="ge")  # noqa: E731
        le = lambda: b.neuron(neg, threshold=0, name="le")  # noqa: E731
        if op == "ge":
            return ge()
        if op == "gt":
            return b.neuron(diff, threshold=1, name="gt")
        if op == "le":
            return le()
        if op == "lt":
            return b.neuron(neg, threshold=1, name="lt")
        both = (ge(), le())
        return and_(b, *both) if op == "eq" else b.neuron([(g, -1) for g in both],
                                                          threshold=-1, name="ne")
    if signed:  # flip the sign bits: signed order becomes unsigned order
        x = x[:-1] + (not_(b, x[-1]),)
        y = y[:-1] + (not_(b, y[-1]),)
    if op in ("eq", "ne"):
        diff, _ = sub(b, x, y, variant="prefix")
        zero = nor(b, *diff)
        return zero if op == "eq" else not_(b, zero)
    if op in ("ge", "lt"):
        _, ge = sub(b, x, y, variant="prefix")
        return ge if op == "ge" else not_(b, ge)
    _, le = sub(b, y, x, variant="prefix")
    return le if op == "le" else not_(b, le)


def literal_and(b: NetlistBuilder, positive=(), negative=(), *, name="and"):
    """AND of plain and inverted bits in one neuron: ``[sum(pos) - sum(neg) >= len(pos)]``."""
    return b.neuron([(p, 1) for p in positive] + [(q, -1) for q in negative],
                    threshold=len(positive), name=name)


def equals_const(b: NetlistBuilder, x, value):
    """``x == value`` for a constant: one neuron."""
    ones = [xi for i, xi in enumerate(x) if (value >> i) & 1]
    zeros = [xi for i, xi in enumerate(x) if not (value >> i) & 1]
    if value >> len(x):
        return b.const(0, 1)[0]
    return literal_and(b, ones, zeros, name="eqc")
