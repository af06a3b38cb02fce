"""Single-bit logic as threshold neurons, each in its smallest known form.

One neuron computes any linearly separable function (NOT, AND, OR, NAND, NOR, majority).
XOR, XNOR and MUX are not separable and take two neurons and two levels; a full adder is
two neurons (carry = majority, sum = ``[a + b + c - 2*carry >= 1]``), not thirteen gates.
"""

from __future__ import annotations

from .builder import NetlistBuilder

__all__ = ["not_", "and_", "or_", "nand", "nor", "xor", "xnor", "mux", "majority",
           "half_adder", "full_adder", "parity", "GATES"]


def not_(b: NetlistBuilder, x):
    return b.neuron({x: -1}, threshold=0, name="not")


def and_(b: NetlistBuilder, *xs):
    return b.neuron([(x, 1) for x in xs], threshold=len(xs), name="and")


def or_(b: NetlistBuilder, *xs):
    return b.neuron([(x, 1) for x in xs], threshold=1, name="or")


def nand(b: NetlistBuilder, *xs):
    return b.neuron([(x, -1) for x in xs], threshold=1 - len(xs), name="nand")


def nor(b: NetlistBuilder, *xs):
    return b.neuron([(x, -1) for x in xs], threshold=0, name="nor")


def majority(b: NetlistBuilder, *xs):
    return b.neuron([(x, 1) for x in xs], threshold=len(xs) // 2 + 1, name="maj")


def parity(b: NetlistBuilder, *xs):
    """XOR of any number of bits in two levels: ``[sum(x) - 2*floor(sum(x)/2) >= 1]``.

    ``floor(sum/2)`` is the count of the thermometer neurons ``[sum(x) >= 2k]``.
    """
    evens = [b.neuron([(x, 1) for x in xs], threshold=2 * k, name="par_ge")
             for k in range(1, len(xs) // 2 + 1)]
    return b.neuron([(x, 1) for x in xs] + [(e, -2) for e in evens], threshold=1, name="xor")


def xor(b: NetlistBuilder, x, y):
    return parity(b, x, y)


def xnor(b: NetlistBuilder, x, y):
    both = and_(b, x, y)
    return b.neuron([(x, -1), (y, -1), (both, 2)], threshold=0, name="xnor")


def mux(b: NetlistBuilder, sel, when0, when1):
    """``sel ? when1 : when0`` in two neurons: ``[when0 - sel + 2*(when1 & sel) >= 1]``."""
    pick1 = and_(b, when1, sel)
    return b.neuron([(when0, 1), (sel, -1), (pick1, 2)], threshold=1, name="mux")


def half_adder(b: NetlistBuilder, x, y):
    """Returns ``(sum, carry)``."""
    carry = and_(b, x, y)
    return b.neuron([(x, 1), (y, 1), (carry, -2)], threshold=1, name="ha_s"), carry


def full_adder(b: NetlistBuilder, x, y, cin):
    """Returns ``(sum, carry)``: two neurons, two levels."""
    carry = b.neuron([(x, 1), (y, 1), (cin, 1)], threshold=2, name="fa_c")
    total = b.neuron([(x, 1), (y, 1), (cin, 1), (carry, -2)], threshold=1, name="fa_s")
    return total, carry


#: name -> (function, number of inputs); the table the tests and the CLI iterate over.
GATES = {
    "not": (not_, 1), "and": (and_, 2), "or": (or_, 2), "nand": (nand, 2), "nor": (nor, 2),
    "xor": (xor, 2), "xnor": (xnor, 2), "mux": (mux, 3), "majority": (majority, 3),
}
