"""Integer reference models of the gate and block library (numpy-vectorised).

Each function takes and returns unsigned integer arrays; widths are explicit so every
model says exactly which bits it defines. These are the goldens of ``spikegate.gen``'s
gates and blocks; they know nothing about neurons.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GATE_FUNCTIONS", "add", "sub", "increment", "multiply", "popcount", "compare",
           "leading_zeros", "shift_left", "shift_right"]


def _u(x):
    return np.asarray(x, dtype=np.int64)


GATE_FUNCTIONS = {
    "not": lambda a: 1 - a,
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: 1 - (a ^ b),
    "mux": lambda s, a0, a1: np.where(s == 1, a1, a0),
    "majority": lambda a, b, c: ((a + b + c) >= 2).astype(np.int64),
}


def add(a, b, cin, width):
    """Returns ``(sum mod 2^width, carry out)``."""
    total = _u(a) + _u(b) + _u(cin)
    return total & ((1 << width) - 1), total >> width


def sub(a, b, width):
    """Returns ``(a - b mod 2^width, a >= b)``."""
    a, b = _u(a), _u(b)
    return (a - b) & ((1 << width) - 1), (a >= b).astype(np.int64)


def increment(a, width):
    """Returns ``(a + 1 mod 2^width, carry out)``."""
    total = _u(a) + 1
    return total & ((1 << width) - 1), total >> width


def multiply(a, b):
    return _u(a) * _u(b)


def popcount(a, width):
    a = _u(a)
    return sum((a >> i) & 1 for i in range(width))


def _signed(x, width):
    x = _u(x)
    return np.where(x >= 1 << (width - 1), x - (1 << width), x)


def compare(a, b, op, width, signed=False):
    a, b = (_signed(a, width), _signed(b, width)) if signed else (_u(a), _u(b))
    result = {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b, "eq": a == b,
              "ne": a != b}[op]
    return result.astype(np.int64)


def leading_zeros(a, width):
    a = _u(a)
    count = np.full(a.shape, width, dtype=np.int64)
    for i in range(width):  # the highest set bit wins: scan upward
        count = np.where((a >> i) & 1 == 1, width - 1 - i, count)
    return count


def shift_left(a, amount, width):
    shifted = np.where(_u(amount) >= width, 0, _u(a) << np.minimum(_u(amount), width))
    return shifted & ((1 << width) - 1)


def shift_right(a, amount, width):
    """Returns ``(a >> amount, sticky)``: sticky is 1 when a one was shifted out."""
    a, amount = _u(a), np.minimum(_u(amount), width)
    lost = a & ((np.int64(1) << amount) - 1)
    return a >> amount, (lost != 0).astype(np.int64)
