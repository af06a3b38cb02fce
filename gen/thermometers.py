"""The level-1 neurons of the function tables: thermometers and minterms on an input code.

Both table architectures (:mod:`.float_function` for 8-bit inputs, :mod:`.wide_function`
for 16-bit) read their input through these neurons, made on demand and shared by every
output bit. Features are ``(kind, t)``:

========  ==========================================================================
``P``     ``[code >= t]`` on the whole code
``M``     ``[magnitude >= t]`` on the code without its sign bit
``L<k>``  ``[code mod 2^k >= t]`` on the low ``k`` bits
``m``     ``[code == t]`` (a minterm); ``mm``: ``[magnitude == t]``
``a``     input bit ``t`` itself (no neuron)
========  ==========================================================================

A thermometer reads only the bits at and above the lowest set bit of ``t`` (weights
``2^(i - z)``); ``[v >= 2^(n-1)]`` is the top bit itself.
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .netlist import CONST0, CONST1

__all__ = ["Thermometers"]


class Thermometers:
    """The shared level-1 neurons on input nets ``a`` (least significant first)."""

    def __init__(self, b: NetlistBuilder, a):
        self.b, self.a, self.cache = b, list(a), {}

    def _bits(self, kind):
        if kind in ("P", "m"):
            return self.a
        if kind in ("M", "mm"):
            return self.a[:-1]
        return self.a[:int(kind[1:])]                       # L<k>

    def net(self, feature):
        if feature in self.cache:
            return self.cache[feature]
        kind, t = feature
        if kind == "a":
            return self.a[t]
        bits = self._bits(kind)
        n = len(bits)
        if kind in ("m", "mm"):
            with self.b.block("minterm"):
                net = self.b.neuron([(bits[i], 1 if (t >> i) & 1 else -1) for i in range(n)],
                                    threshold=bin(t).count("1"), name=f"{kind}{t}")
        elif t == 0:
            net = CONST1
        elif t >= 1 << n:
            net = CONST0
        elif t == 1 << (n - 1):
            net = bits[n - 1]
        else:
            z = (t & -t).bit_length() - 1                    # [v >= t] reads bits z.. only
            label = f"{kind}{t}" if kind in ("P", "M") else f"{kind}_{t}"
            with self.b.block("thermo"):
                net = self.b.neuron([(bits[i], 1 << (i - z)) for i in range(z, n)],
                                    threshold=t >> z, name=label)
        self.cache[feature] = net
        return net
