"""Correctly rounded ``a * b`` in any float format, from neurons.

The significand product ``Ma * Mb`` (hidden bits included, subnormals as they are) is
formed exactly from AND partial products. Formats wider than 8 bits reduce them by column
counters (a column of ``h`` bits becomes the ``bit_length(h)`` digits of its count, one
neuron each) and a block-carry adder (:func:`counter_reduce`): weights stay below
``2^(block+1)`` and about half the neurons of a Dadda heap of threshold full adders with a
parallel-prefix adder (:class:`~.heap.BitHeap`), which narrow formats keep. A product of
two subnormals always rounds to zero in those formats (``M + 2 <= bias``), so the product
of the others has its leading one at ``M`` or above (``msb_min``: no left shifts). The
exponent is a linear form of the two exponent fields; the one
rounding block (:func:`~.float_round.round_pack`) then normalises -- a product with a
subnormal operand can have its leading one anywhere from there up -- rounds to nearest even, applies the
overflow policy and packs. Special values: NaN or ``inf * 0`` give the canonical NaN, an
infinite operand an infinite result (which follows the policy, as overflow does).
"""

from __future__ import annotations

from ..golden.formats import get_format
from .builder import NetlistBuilder
from .float_add import unpack_float
from .float_round import COMPACT_WIDTH, round_pack, xor_sign
from .float_unit import float_unit_netlist
from .gates import and_
from .heap import BitHeap
from .netlist import CONST0, UNBOUNDED, Bounds, Netlist

__all__ = ["float_mul", "significand_product", "column_count", "block_add",
           "counter_reduce", "build_fmul"]


def significand_product(b: NetlistBuilder, x, y, *, compress="dadda"):
    """Bits of the unsigned product ``x * y`` (``len(x) + len(y)`` bits, LSB first).

    ``compress="dadda"``: threshold full adders and a parallel-prefix adder
    (:class:`~.heap.BitHeap`); ``"counter"``: column counters and a block-carry adder
    (:func:`counter_reduce`, about half the neurons for wide significands).
    """
    width = len(x) + len(y)
    if compress == "counter":
        cols = [[] for _ in range(width)]
        for i, xi in enumerate(x):
            for j, yj in enumerate(y):
                cols[i + j].append(and_(b, xi, yj))
        return counter_reduce(b, cols, name="pp")
    heap = BitHeap(width)
    for i, xi in enumerate(x):
        for j, yj in enumerate(y):
            heap.add(and_(b, xi, yj), i + j)
    return heap.reduce(b, name="pp")


def column_count(b: NetlistBuilder, bits, name="cnt"):
    """The binary digits (LSB first) of ``sum(bits)``: one neuron per digit, MSB first,
    each ``[sum(bits) - (higher digits) >= 2^t]`` (weights up to ``2^(t-1)``)."""
    k = len(bits).bit_length()
    digits = {}
    for t in reversed(range(k)):
        pairs = [(x, 1) for x in bits] + [(d, -(1 << s)) for s, d in digits.items()]
        digits[t] = b.neuron(pairs, threshold=1 << t, name=name)
    return [digits[t] for t in range(k)]


def block_add(b: NetlistBuilder, x, y, *, block=8, name="add"):
    """``x + y`` (same width, result mod ``2^width``) with block carries: the carry into
    each block is one neuron on the previous block's bits and carry, the carries inside a
    block one neuron each from the block's carry-in (weights up to ``2^block``), the sum
    bits ``[x_k + y_k + c_k - 2 c_(k+1) >= 1]``: two neurons a bit."""
    W = len(x)
    carry = [CONST0] * (W + 1)
    for k in range(1, W + 1):
        k0 = ((k - 1) // block) * block             # the carry-in's position for c_k
        pairs = [(x[j], 1 << (j - k0)) for j in range(k0, k)]
        pairs += [(y[j], 1 << (j - k0)) for j in range(k0, k)] + [(carry[k0], 1)]
        carry[k] = b.neuron(pairs, threshold=1 << (k - k0), name=f"{name}_c") \
            if k < W else CONST0
    return tuple(b.neuron([(x[k], 1), (y[k], 1), (carry[k], 1), (carry[k + 1], -2)],
                          threshold=1, name=f"{name}_s") for k in range(W))


def counter_reduce(b: NetlistBuilder, cols, *, name="pp"):
    """The sum of columns of bits (``cols[c]`` weighs ``2^c``) mod ``2^len(cols)``: every
    column of three or more bits becomes the digits of its count (:func:`column_count`),
    a ``(2^k - 1)``-input counter being ``k`` neurons where full adders need ``2^k - 1 - k``
    pairs, until two rows are left for :func:`block_add`."""
    W = len(cols)
    cols = [[n for n in c if n != CONST0] for c in cols]
    with b.block(name):
        while max(len(c) for c in cols) > 2:
            new = [[] for _ in range(W)]
            for c, bits in enumerate(cols):
                if len(bits) <= 2:
                    new[c].extend(bits)
                    continue
                for t, d in enumerate(column_count(b, bits, name="cnt")):
                    if c + t < W:
                        new[c + t].append(d)
            cols = new
        rows = [[c[i] if i < len(c) else CONST0 for c in cols] for i in range(2)]
        return block_add(b, rows[0], rows[1], name="add")


def float_mul(b: NetlistBuilder, fmt, policy, a_bits, b_bits, *, name="mul"):
    """Output code bits of ``round(a * b)`` in ``fmt``."""
    fmt = get_format(fmt)
    M, E = fmt.man_bits, fmt.exp_bits
    with b.block(name):
        with b.block("unpack"):
            A, B = unpack_float(b, fmt, a_bits), unpack_float(b, fmt, b_bits)
        with b.block("product"):
            wide = fmt.width > COMPACT_WIDTH
            pbits = significand_product(b, A.sig_bits, B.sig_bits,
                                        compress="counter" if wide else "dadda")
        with b.block("special"):
            sign = xor_sign(b, A.sign, B.sign)
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
                          msb_min=M if wide and M + 2 <= fmt.bias else 0,
                          inf=[A.inf, B.inf])


def build_fmul(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a * b)`` in any float format (ports ``a``, ``b`` -> ``y``)."""
    return float_unit_netlist("fmul", fmt, policy, float_mul, bounds=bounds)
