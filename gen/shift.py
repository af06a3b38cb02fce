"""Barrel shifters.

``decoded`` (the default): each output bit is an OR over one-neuron ANDs of a data bit with
the shift-amount pattern, two neuron levels for any width. ``log``: the textbook
``log2(n)`` stages of 2:1 multiplexers, small for wide buses but two levels per stage.
A right shift can also return the sticky bit (OR of everything shifted out), as rounding
needs: ``[x_i * B + amount >= B + i + 1]`` marks a lost one in a single neuron.
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .compare import literal_and
from .gates import mux, or_
from .netlist import CONST0

__all__ = ["shift_left", "shift_right", "SHIFT_VARIANTS"]

SHIFT_VARIANTS = ("decoded", "log")


def _check(variant):
    if variant not in SHIFT_VARIANTS:
        raise ValueError(f"unknown shifter variant {variant!r}: choose one of "
                         f"{', '.join(SHIFT_VARIANTS)}")


def _shift(b, x, amount, direction, variant):
    _check(variant)
    n = len(x)
    source = (lambda i, k: i + k) if direction == "right" else (lambda i, k: i - k)
    if variant == "log":
        for j, a in enumerate(amount):
            step = 1 << j
            x = tuple(mux(b, a, x[i], x[source(i, step)] if 0 <= source(i, step) < n else CONST0)
                      for i in range(n))
        return x
    out = []
    for i in range(n):
        terms = []
        for k in range(min(1 << len(amount), n + 1)):
            s = source(i, k)
            if not 0 <= s < n:
                continue
            ones = [a for j, a in enumerate(amount) if (k >> j) & 1]
            zeros = [a for j, a in enumerate(amount) if not (k >> j) & 1]
            terms.append(literal_and(b, [x[s]] + ones, zeros, name="sel"))
        out.append(or_(b, *terms) if terms else CONST0)
    return tuple(out)


def shift_left(b: NetlistBuilder, x, amount, *, variant="decoded"):
    """``x << amount`` truncated to ``len(x)`` bits (zeros shifted in)."""
    return _shift(b, tuple(x), tuple(amount), "left", variant)


def shift_right(b: NetlistBuilder, x, amount, *, variant="decoded", sticky=False):
    """``x >> amount`` (zeros shifted in); with ``sticky=True`` returns ``(bits, sticky)``."""
    out = _shift(b, tuple(x), tuple(amount), "right", variant)
    if not sticky:
        return out
    big = 1 << len(amount)
    lost = [b.neuron([(xi, big)] + [(a, 1 << j) for j, a in enumerate(amount)],
                     threshold=big + i + 1, name="lost") for i, xi in enumerate(x)]
    return out, or_(b, *lost)
