"""FP32 functions from neurons: range reduction, a step-function table and a fixed-point
polynomial, rounded once by the one rounding block.

A 32-bit input makes a table impossible (the 8- and 16-bit functions are tables,
:mod:`.float_function`, :mod:`.wide_function`), so these units compute: every step is an
exact or truncated fixed-point operation on neurons (:mod:`.fixed_point`), carried with
about 10 more bits than the result has, so that the one rounding at the end
(:func:`~.float_round.round_pack`) is *faithful* for every input (the error before it is
far below half an ULP) and correctly rounded for all but a small fraction of inputs, the
ones whose exact value lies within the datapath error of a rounding boundary. Which ones
that are is measured, not assumed: ``spikegate sweep`` runs all 2^32 inputs against the
exact golden (:mod:`spikegate.sim.function_sweep`).

``exp`` (:func:`build_exp32`)
-----------------------------
``e^x = 2^t`` with ``t = x log2 e = k + f``, ``k`` an integer, ``0 <= f < 1``:

1. ``X = |x| 2^36`` truncated, by a decoded shifter of the significand on the exponent
   field (``|x| < 2^-36``: ``X = 0``; ``|x| >= 128``: the result is ``inf`` or ``+0``);
2. ``T = X log2 e`` (44-bit constant: shifted copies of ``X`` in one heap), 42 fraction
   bits; for ``x < 0``, ``t = -T`` is taken as ``~T`` (one's complement, ``-T - 2^-42``:
   ``k = ~T_int``, ``f = ~T_frac``, one XOR per bit);
3. ``2^f = 2^(j/1024) * 2^g`` with ``j`` the top 10 bits of ``f`` and ``g < 2^-10`` the
   rest: ``2^(j/1024)`` to 43 fraction bits from a 1,024-entry step table (1,023
   thermometer neurons on ``j``, one neuron per output bit), ``2^g - 1 = g (a1 + a2 g)``
   (near-minimax coefficients, error below ``2^-39``), the product ``2^(j/1024) (1 +
   g (a1 + a2 g))`` in truncated heaps;
4. ``round_pack`` rounds ``R 2^k`` to fp32: gradual underflow and overflow (the policy)
   come out of the one rounding block, as for the arithmetic units.

Special values: NaN -> canonical NaN, ``+inf`` (and every ``x >= 128``) -> the policy's
overflow result, ``-inf`` (every ``x <= -128``) -> ``+0``, ``+-0`` -> 1.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from ..golden.formats import check_policy, get_format
from .builder import NetlistBuilder
from .fixed_point import Column, Fixed, step_table
from .float_add import unpack_float
from .float_round import round_pack
from .gates import and_, or_, xor
from .linear_form import Lin, bus_value
from .netlist import CONST0, UNBOUNDED, Bounds, Netlist
from .thermometers import Thermometers

__all__ = ["FLOAT32_FUNCTIONS", "build_float32_function", "build_exp32", "EXP32"]

#: The datapath's precisions (exponents of the least significant bits kept).
EXP32 = {"x_lsb": -36, "t_lsb": -42, "table_bits": 10, "table_lsb": -43, "u_lsb": -31,
         "q_lsb": -46, "r_lsb": -44}
#: ``|x| >= 2^7``: outside the range where ``e^x`` is a finite non-zero fp32 value.
_X_MSB = 6
#: ``|k| <= floor(2^7 log2 e) = 184`` (``k = -T_int - 1`` for ``x < 0``).
_K_MAX = 184


def _mp(value, prec=128) -> Fraction:
    """An mpmath constant as an exact Fraction (deterministic: fixed precision)."""
    with mpmath.mp.workprec(prec):
        man, exp = mpmath.mpf(value()).man_exp
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def _pow2_poly(h_exp):
    """``(a1, a2)`` with ``2^g - 1 ~ g (a1 + a2 g)`` on ``[0, 2^h_exp]``: least squares on
    Chebyshev nodes (near-minimax), in exact rationals."""
    n = 32
    h = Fraction(2) ** h_exp
    with mpmath.mp.workprec(160):
        nodes = [h * (1 - _mp(lambda: mpmath.cos(mpmath.pi * (2 * i + 1) / (2 * n)))) / 2
                 for i in range(n)]
        values = [_mp(lambda g=g: mpmath.power(2, mpmath.mpf(g.numerator) / g.denominator) - 1)
                  for g in nodes]
    s = [[sum(g ** (i + j + 2) for g in nodes) for j in range(2)] for i in range(2)]
    r = [sum(v * g ** (i + 1) for g, v in zip(nodes, values)) for i in range(2)]
    det = s[0][0] * s[1][1] - s[0][1] * s[1][0]
    return ((r[0] * s[1][1] - r[1] * s[0][1]) / det, (s[0][0] * r[1] - s[1][0] * r[0]) / det)


def _to_fixed(b, fields, x_lsb):
    """``|x| 2^-x_lsb`` truncated (bits ``x_lsb .. _X_MSB``) by a decoded shifter: bit ``p``
    is the OR over the exponent codes ``e`` of ``[e == code] and sig_(p + bias + M - e)``
    (the hidden bit is 1 on every code that reaches a kept bit)."""
    fmt = fields.fmt
    M, base = fmt.man_bits, fmt.bias + fmt.man_bits  # |x| = sig * 2^(e - base), e >= 1
    therm = Thermometers(b, fields.exp)
    bits = []
    with b.block("shift"):
        for p in range(x_lsb, _X_MSB + 1):
            terms = []
            for e in range(1, fmt.bias + _X_MSB + 1):
                j = p + base - e                          # significand bit landing at 2^p
                if 0 <= j <= M:
                    eq = therm.net(("m", e))
                    terms.append(eq if j == M else and_(b, fields.man[j], eq))
            bits.append(or_(b, *terms) if terms else CONST0)
    return Fixed(tuple(bits), x_lsb)


def build_exp32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = exp(a)`` in fp32, faithfully rounded for every input (port ``a`` -> ``y``)."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    P = EXP32
    b = NetlistBuilder(f"exp_{fmt.name}_{policy}", bounds=bounds)
    a = b.input("a", fmt.width)
    with b.block("unpack"):
        A = unpack_float(b, fmt, a)
        e = bus_value(A.exp)
        big = e.ge(b, fmt.bias + _X_MSB + 1, name="big")          # |x| >= 2^7, inf, NaN
        overflow = b.neuron([(big, 1), (A.sign, -1)], threshold=1, name="ovf")
        underflow = b.neuron([(big, 1), (A.sign, 1), (A.nan, -1)], threshold=2, name="unf")
    X = _to_fixed(b, A, P["x_lsb"])
    with b.block("log2e"):
        heap = Column(P["t_lsb"], 7)
        heap.add_scaled(X, _mp(lambda: 1 / mpmath.log(2)))
        T = heap.reduce(b, name="t")
    with b.block("negate"):                       # t = -T - 2^t_lsb for x < 0: ~T
        t = Fixed(tuple(xor(b, bit, A.sign) for bit in T.bits), T.lsb)
    k = Lin([(bit, 1 << i) for i, bit in enumerate(t.bits[-T.lsb:])]) - Lin.net(A.sign, 256)
    J = P["table_bits"]
    j = t.slice(-J, -1).bits
    g = t.slice(t.lsb, -J - 1)
    with b.block("table"):
        scale = Fraction(2) ** -P["table_lsb"]
        with mpmath.mp.workprec(96):
            values = [int(mpmath.nint(mpmath.power(2, mpmath.mpf(i) / (1 << J)) * scale))
                      for i in range(1 << J)]
        tab = Fixed(step_table(b, j, values, 1 - P["table_lsb"]), P["table_lsb"])
    a1, a2 = _pow2_poly(-J)
    with b.block("poly"):
        heap = Column(P["u_lsb"], -1)                       # u = a1 + a2 g, in [0.69, 0.7)
        heap.add_const(a1)
        heap.add_scaled(g, a2)
        u = heap.reduce(b, name="u")
        heap = Column(P["q_lsb"], -J - 1)                   # q = g u < 2^-10.5
        heap.add_product(b, g, u)
        q = heap.reduce(b, name="q")
        heap = Column(P["r_lsb"], 1)                        # R = tab (1 + q) < 2
        heap.add_fixed(tab)
        heap.add_product(b, tab.above(P["r_lsb"] + J), q)
        R = heap.reduce(b, name="r")
    # R 2^k in units of 2^quantum_exp: Y = R 2^-r_lsb
    shift = P["r_lsb"] - fmt.quantum_exp
    y = round_pack(b, fmt, policy, sig=R.bits, scale=k + shift,
                   scale_range=(-_K_MAX - 1 + shift, _K_MAX + shift), sign=(Lin(), 1),
                   msb_min=-P["r_lsb"] - 1, nan=[A.nan], inf=[overflow], zero=[underflow])
    b.output("y", y)
    b.meta.update(unit="exp", format=fmt.name, out_format=fmt.name, to=fmt.name,
                  policy=policy, method="range-reduction", rounding="faithful")
    return b.build()


#: The FP32 functions built so far, by name.
FLOAT32_FUNCTIONS = {"exp": build_exp32}


def build_float32_function(name, fmt="fp32", *, policy="torch",
                           bounds: Bounds = UNBOUNDED) -> Netlist:
    if name not in FLOAT32_FUNCTIONS:
        raise ValueError(f"{name} is not offered for fp32 yet: fp32 has "
                         f"{', '.join(FLOAT32_FUNCTIONS)}")
    return FLOAT32_FUNCTIONS[name](fmt, policy=policy, bounds=bounds)
