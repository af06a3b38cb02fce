"""Counting leading zeros through a thermometer code, in two neuron levels.

``z_k = [the top k bits are all zero]`` is one NOR neuron each. The count ``sum z_k`` is a
thermometer code, and each binary digit of it is one neuron whose weights telescope:
``+1`` where that digit turns on as k grows, ``-1`` where it turns off.
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .gates import nor

__all__ = ["leading_zeros", "thermometer_to_binary"]


def thermometer_to_binary(b: NetlistBuilder, therm, *, name="t2b"):
    """Binary count of a thermometer code ``therm[k-1] = [count >= k]``."""
    n = len(therm)
    out = []
    for j in range(max(n.bit_length(), 1)):
        weights = [(t, ((k >> j) & 1) - (((k - 1) >> j) & 1)) for k, t in enumerate(therm, 1)]
        out.append(b.neuron([(t, w) for t, w in weights if w], threshold=1, name=name))
    return tuple(out)


def leading_zeros(b: NetlistBuilder, x):
    """Number of zeros above the highest one of ``x`` (``len(x)`` when ``x`` is zero)."""
    msb_first = list(reversed(x))
    therm = [nor(b, *msb_first[:k]) for k in range(1, len(x) + 1)]
    return thermometer_to_binary(b, therm, name="lzc")
