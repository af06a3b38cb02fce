"""FP8 multiplier (rounded to FP8) and exact FP8 x FP8 -> FP32 product.

The significand product ``P = Ma * Mb`` is a weighted sum of AND partial products. The
hidden bits cost nothing extra: ``h_a and m_bj`` is one neuron on the raw exponent bits
(``[sum(e_a) + E*m_bj >= E+1]``) and ``h_a and h_b = h_a + h_b - (h_a or h_b)`` is a linear
form of three level-1 neurons. The exponent
sum stays a linear form of the raw exponent bits, so every comparison on it is one
neuron; :func:`~spikegate.gen.float_round.round_pack` does the rest.
"""

from __future__ import annotations

from ..builder import NetlistBuilder
from ..gates import and_
from ..netlist import UNBOUNDED, Bounds, Netlist
from ..float_round import round_pack, xor_sign
from ..linear_form import Lin
from .fields import Fp8Fields, unpack
from .formats import FP32, resolve
from .widen import pack_exact

__all__ = ["build_fp8_mul", "build_fp8_mul_fp32", "significand_product", "mul_front"]


def significand_product(b: NetlistBuilder, A: Fp8Fields, B: Fp8Fields):
    """``(P bits, P as a linear form of the partial products)`` for ``Ma * Mb``."""
    fmt = A.fmt
    M, E = fmt.man_bits, fmt.exp_bits
    terms = []
    for i, x in enumerate(A.man):
        for j, y in enumerate(B.man):
            terms.append((and_(b, x, y), 1 << (i + j)))
    for hid, other in ((A, B), (B, A)):  # hidden bit of one times mantissa bits of the other
        for j, y in enumerate(other.man):
            pp = b.neuron([(e, 1) for e in hid.exp] + [(y, E)], threshold=E + 1, name="hm")
            terms.append((pp, 1 << (M + j)))
    # h_a and h_b = h_a + h_b - (h_a or h_b): three level-1 neurons, no second level
    any_exp = b.neuron([(e, 1) for e in A.exp + B.exp], threshold=1, name="anyexp")
    form = Lin(terms) + (Lin([(A.hidden, 1), (B.hidden, 1), (any_exp, -1)]) * (1 << (2 * M)))
    top = ((1 << (M + 1)) - 1) ** 2
    bits = form.bits(b, 2 * M + 2, known=(0, top), name="p")
    return bits, form


def mul_front(b, fmt):
    a = b.input("a", 8)
    bb = b.input("b", 8)
    with b.block("unpack"):
        A, B = unpack(b, fmt, a), unpack(b, fmt, bb)
    with b.block("product"):
        pbits, pform = significand_product(b, A, B)
    with b.block("special"):
        sign = xor_sign(b, A.sign, B.sign)
        nan = [A.nan, B.nan]
        if fmt.has_inf:  # inf * 0 is invalid: one literal AND on the raw bits each way
            for X, Y in ((A, B), (B, A)):
                nan.append(b.neuron([(e, 1) for e in X.exp] + [(m, -1) for m in X.man]
                                    + [(v, -1) for v in Y.mag],
                                    threshold=fmt.exp_bits, name="infzero"))
    return A, B, pbits, pform, sign, nan


def build_fp8_mul(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """FP8 multiplier ``y = round(a * b)``: inputs ``a[8]``, ``b[8]``, output ``y[8]``.

    Parameters
    ----------
    fmt : str or Fp8Format
        ``"e4m3"`` or ``"e5m2"``.
    policy : str
        Overflow policy: ``"torch"``, ``"ocp"`` or ``"satfinite"``.
    bounds : Bounds
        Fan-in / weight limits, checked when the netlist is built.

    Returns
    -------
    Netlist
        Named ``fp8_mul_<fmt>_<policy>``; every NaN result is ``0x7F``.
    """
    fmt, policy = resolve(fmt, policy)
    b = NetlistBuilder(f"fp8_mul_{fmt.name}_{policy}", bounds=bounds)
    A, B, pbits, pform, sign, nan = mul_front(b, fmt)
    M = fmt.man_bits
    with b.block("exponent"):
        scale = A.exponent() + B.exponent() - (fmt.bias + M + 1)
    emax = (1 << fmt.exp_bits) - 1                      # inf/NaN exponents included
    off = fmt.bias + M + 1
    y = round_pack(b, fmt, policy, sig=pbits, sig_form=pform, scale=scale,
                   scale_range=(2 - off, 2 * emax - off), sign=sign, nan=nan,
                   inf=[A.inf, B.inf])
    b.output("y", y)
    b.meta.update(unit="fp8-mul", format=fmt.name, policy=policy)
    return b.build()


def build_fp8_mul_fp32(fmt, *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """Exact FP8 x FP8 product as a float32 bit pattern: ``a[8]``, ``b[8]`` -> ``y[32]``.

    Every product of two FP8 values is a normal float32 (or zero), so no rounding happens.
    NaN results (NaN operand, e5m2 ``inf * 0``) give ``0x7FC00000``; e5m2 infinities give
    ``+-inf``; zero products carry the XOR sign.
    """
    fmt, _ = resolve(fmt)
    b = NetlistBuilder(f"fp8_mul_fp32_{fmt.name}", bounds=bounds)
    A, B, pbits, pform, sign, nan = mul_front(b, fmt)
    M = fmt.man_bits
    with b.block("exponent"):
        # value = P * 2^(Ea + Eb - 2*bias - 2*M)
        scale = A.exponent() + B.exponent() - 2 * (fmt.bias + M)
    y = pack_exact(b, FP32, sig=pbits, sig_form=pform, scale=scale, sign=sign, nan=nan,
                   inf=[A.inf, B.inf])
    b.output("y", y)
    b.meta.update(unit="fp8-mul-fp32", format=fmt.name, policy="exact")
    return b.build()
