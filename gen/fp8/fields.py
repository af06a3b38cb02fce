"""Unpacking an FP8 bus into its fields and flags.

Every flag is one neuron reading the raw bits (level 1): hidden bit (``exp != 0``),
``exp == 0``, NaN, infinity, zero. Flags nobody reads are dropped when the netlist is built.
The effective exponent ``max(e, 1) = e + 1 - hidden`` and the significand (hidden bit
included) are returned as linear forms, so later stages fold them into their own neurons
instead of materialising them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..builder import NetlistBuilder
from ..netlist import CONST0
from .formats import Fp8Format
from ..linear_form import Lin, bus_value

__all__ = ["Fp8Fields", "unpack"]


@dataclass(frozen=True)
class Fp8Fields:
    """The fields of one FP8 operand (buses LSB first)."""

    fmt: Fp8Format
    bits: tuple          # all 8 bits
    sign: int
    exp: tuple           # exponent field bits
    man: tuple           # mantissa field bits
    zexp: int            # [exp field == 0]: subnormal or zero
    hidden: int          # [exp field != 0]: the hidden significand bit
    nan: int             # NaN
    inf: int             # infinity (CONST0 for e4m3)
    zero: int            # +-0

    @property
    def sig_bits(self):
        """Significand bits, hidden bit on top (LSB first)."""
        return tuple(self.man) + (self.hidden,)

    @property
    def mag(self):
        """The 7 magnitude bits: FP8 codes are ordered by magnitude."""
        return self.bits[:7]

    def exponent(self) -> Lin:
        """Effective biased exponent ``max(e, 1) = e + 1 - hidden`` (subnormals: 1)."""
        return bus_value(self.exp) + 1 - Lin.net(self.hidden)

    def significand(self) -> Lin:
        """Integer significand, hidden bit included: ``man + 2^M * [e != 0]``."""
        m = self.fmt.man_bits
        return bus_value(self.man) + Lin.net(self.hidden, 1 << m)


def unpack(b: NetlistBuilder, fmt: Fp8Format, bits) -> Fp8Fields:
    """Split an 8-bit bus into fields and make the flag neurons (level 1)."""
    bits = tuple(bits)
    m, e = fmt.man_bits, fmt.exp_bits
    man, exp, sign = bits[:m], bits[m:m + e], bits[7]
    zexp = b.neuron([(x, -1) for x in exp], threshold=0, name="zexp")
    hidden = b.neuron([(x, 1) for x in exp], threshold=1, name="hidden")
    zero = b.neuron([(x, -1) for x in bits[:7]], threshold=0, name="zero")
    if fmt.has_inf:
        # NaN: exponent all ones and mantissa non-zero; inf: exponent all ones, mantissa 0.
        nan = b.neuron([(x, 2) for x in exp] + [(x, 1) for x in man], threshold=2 * e + 1,
                       name="nan")
        inf = b.neuron([(x, 1) for x in exp] + [(x, -1) for x in man], threshold=e,
                       name="inf")
    else:
        nan = b.neuron([(x, 1) for x in bits[:7]], threshold=7, name="nan")
        inf = CONST0
    return Fp8Fields(fmt, bits, sign, exp, man, zexp, hidden, nan, inf, zero)
