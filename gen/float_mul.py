"""Correctly rounded ``a * b`` in any float format, from neurons.

The significand product ``Ma * Mb`` (hidden bits included, subnormals as they are) is
formed exactly: AND partial products reduced in a bit heap by threshold full adders (Dadda
order) and a parallel-prefix adder (:class:`~.heap.BitHeap`), so no neuron's weight grows
with the format. The exponent is a linear form of the two exponent fields; the one
rounding block (:func:`~.float_round.round_pack`) then normalises -- a product of
subnormals can have its leading one anywhere -- rounds to nearest even, applies the
overflow policy and packs. Special values: NaN or ``inf * 0`` give the canonical NaN, an
infinite operand an infinite result (which follows the policy, as overflow does).
"""

from __future__ import annotations

from ..golden.formats import get_format
from .builder import NetlistBuilder
from .float_add import unpack_float
from .float_round import round_pack
from .float_unit import float_unit_netlist
from .gates import and_
from .heap import BitHeap
from .linear_form import Lin
from .netlist import UNBOUNDED, Bounds, Netlist

__all__ = ["float_mul", "significand_product", "build_fmul"]


def significand_product(b: NetlistBuilder, x, y):
    """Bits of the unsigned product ``x * y`` (``len(x) + len(y)`` bits, LSB first)."""
    heap = BitHeap(len(x) + len(y))
    for i, xi in enumerate(x):
        for j, yj in enumerate(y):
            heap.add(and_(b, xi, yj), i + j)
    return heap.reduce(b, name="pp")


def float_mul(b: NetlistBuilder, fmt, policy, a_bits, b_bits, *, name="mul"):
    """Output code bits of ``round(a * b)`` in ``fmt``."""
    fmt = get_format(fmt)
    M, E = fmt.man_bits, fmt.exp_bits
    with b.block(name):
        with b.block("unpack"):
            A, B = unpack_float(b, fmt, a_bits), unpack_float(b, fmt, b_bits)
        with b.block("product"):
            pbits = significand_product(b, A.sig_bits, B.sig_bits)
        with b.block("special"):
            both = b.neuron([(A.sign, 1), (B.sign, 1)], threshold=2, name="ss")
            sign = Lin([(A.sign, 1), (B.sign, 1), (both, -2)]), 1
            nan = [A.nan, B.nan]
            if fmt.has_inf:          # inf * 0: one literal AND on the raw bits each way
                for X, Y in ((A, B), (B, A)):
                    nan.append(b.neuron([(e, 1) for e in X.exp] + [(m, -1) for m in X.man]
                                        + [(v, -1) for v in Y.mag], threshold=E,
                                        name="infzero"))
        # X * Y = Pa*Pb * 2^(ea + eb - 2 (bias + M)), in units of 2^quantum_exp
        off = 2 * (fmt.bias + M) + fmt.quantum_exp
        with b.block("exponent"):
            scale = A.exponent() + B.exponent() - off
        return round_pack(b, fmt, policy, sig=pbits, scale=scale,
                          scale_range=(2 - off, 2 * fmt.exp_all - off), sign=sign, nan=nan,
                          inf=[A.inf, B.inf])


def build_fmul(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a * b)`` in any float format (ports ``a``, ``b`` -> ``y``)."""
    return float_unit_netlist("fmul", fmt, policy, float_mul, bounds=bounds)
