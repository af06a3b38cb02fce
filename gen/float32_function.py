"""FP32 functions from neurons: range reduction, a step-function table and a fixed-point
polynomial, rounded once by the one rounding block.

A 32-bit input makes a table impossible (the 8- and 16-bit functions are tables,
:mod:`.float_function`, :mod:`.wide_function`), so these units compute: every step is an
exact or truncated fixed-point operation on neurons (:mod:`.fixed_point`), carried with
about 10 more bits than the result has, so that the one rounding at the end
(:func:`~.float_round.round_pack`) is *faithful* for every input (the error before it is
far below half an ULP) and correctly rounded for all but a small fraction of inputs, the
ones whose exact value lies within the datapath error of a rounding boundary. Which ones
that are is measured, not assumed: ``spikegate verify DIR --exhaustive`` classifies every
input against the exact golden (:mod:`spikegate.sim.function_sweep`).

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
   (least-squares coefficients on Chebyshev nodes), the product ``2^(j/1024) (1 +
   g (a1 + a2 g))`` in truncated heaps;
4. ``round_pack`` rounds ``R 2^k`` to fp32: gradual underflow and overflow (the policy)
   come out of the one rounding block, as for the arithmetic units.

Special values: NaN -> canonical NaN, ``+inf`` (and every ``x >= 128``) -> the policy's
overflow result, ``-inf`` (every ``x <= -128``) -> ``+0``, ``+-0`` -> 1.

``sigmoid`` and ``silu`` (:func:`build_sigmoid32`, :func:`build_silu32`)
-----------------------------------------------------------------------
The exp core on ``e^-|x| = R 2^k`` (``k = -floor(|x| log2 e) - 1``; ``|x| >= 128`` saturates
the shifter, which gives the right limits), ``E = R 2^k`` by a decoded right shift,
``W = 1/(1 + E)`` by :func:`_reciprocal`, then ``sigmoid = W`` for ``x >= 0`` and ``R W 2^k``
for ``x < 0`` (no cancellation: ``e^x / (1 + e^x)``), rounded once; SiLU multiplies that by
the input's significand before the one rounding (``x <= -128`` and ``-inf`` give ``-0``).

``tanh`` and ``gelu`` (:func:`build_tanh32`, :func:`build_gelu32`) reuse these cores (their
builders say how); ``rsqrt`` is a square-root datapath of its own, correctly rounded for
every input (:func:`~.float32_rsqrt.build_rsqrt32`), registered here with the others.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath

from ..golden.formats import check_policy, get_format
from .builder import NetlistBuilder
from .fixed_point import Column, Fixed, step_table
from .float32_rsqrt import build_rsqrt32
from .float_add import unpack_float
from .float_round import round_pack
from .gates import and_, mux, or_, xor
from .shift import shift_right
from .linear_form import Lin, bus_value
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .thermometers import Thermometers

__all__ = ["FLOAT32_FUNCTIONS", "FLOAT32_CORRECTLY_ROUNDED", "build_float32_function",
           "build_exp32", "build_sigmoid32", "build_silu32", "build_tanh32", "build_gelu32",
           "mills_segments", "EXP32", "RECIP", "GELU32"]

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


def _to_fixed(b, fields, x_lsb, saturate=None, x_msb=_X_MSB):
    """``|x| 2^-x_lsb`` truncated (bits ``x_lsb .. x_msb``) by a decoded shifter: bit ``p``
    is the OR over the exponent codes ``e`` of ``[e == code] and sig_(p + bias + M - e)``
    (the hidden bit is 1 on every code that reaches a kept bit). ``saturate`` set: all
    ones (``|x| >= 2^(x_msb + 1)`` read as just below it)."""
    fmt = fields.fmt
    M, base = fmt.man_bits, fmt.bias + fmt.man_bits  # |x| = sig * 2^(e - base), e >= 1
    therm = Thermometers(b, fields.exp)
    extra = () if saturate is None else (saturate,)
    bits = []
    with b.block("shift"):
        for p in range(x_lsb, x_msb + 1):
            terms = []
            for e in range(1, fmt.bias + x_msb + 1):
                j = p + base - e                          # significand bit landing at 2^p
                if 0 <= j <= M:
                    eq = therm.net(("m", e))
                    terms.append(eq if j == M else and_(b, fields.man[j], eq))
            terms += extra
            bits.append(or_(b, *terms) if terms else CONST0)
    return Fixed(tuple(bits), x_lsb)


def _exp_core(b, X: Fixed, negative, *, factor=1, t_msb=7):
    """``e^(+-factor X) = R 2^k`` for a fixed-point ``X >= 0``: ``(R, k, T)`` with ``R`` in
    ``[1, 2)`` (lsb ``r_lsb``), ``k`` a linear form, ``T = factor X log2 e < 2^(t_msb + 1)``
    (its bits ``0 .. t_msb`` are ``floor T``). ``negative``: the net that selects
    ``e^-factor X`` (the sign for exp, CONST1 for ``e^-X`` always: then ``k = -floor(T) -
    1``)."""
    P = EXP32
    with b.block("log2e"):
        heap = Column(P["t_lsb"], t_msb)
        heap.add_scaled(X, factor * _mp(lambda: 1 / mpmath.log(2)))
        T = heap.reduce(b, name="t")
    with b.block("negate"):                       # t = -T - 2^t_lsb for x < 0: ~T
        t = Fixed(tuple(xor(b, bit, negative) for bit in T.bits), T.lsb)
    k = (Lin([(bit, 1 << i) for i, bit in enumerate(t.bits[-T.lsb:])])
         - Lin.net(negative, 1 << (t_msb + 1)))
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
    return R, k, T


def _unpack_big(b, fmt, a, x_msb=_X_MSB):
    """The input's fields and ``big = [|x| >= 2^(x_msb + 1)]`` (infinities and NaN too)."""
    with b.block("unpack"):
        A = unpack_float(b, fmt, a)
        big = bus_value(A.exp).ge(b, fmt.bias + x_msb + 1, name="big")
    return A, big


def _meta(b, name, fmt, policy):
    b.meta.update(unit=name, format=fmt.name, out_format=fmt.name, to=fmt.name,
                  policy=policy, method="range-reduction", rounding="faithful")


def build_exp32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = exp(a)`` in fp32, faithfully rounded for every input (port ``a`` -> ``y``)."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    b = NetlistBuilder(f"exp_{fmt.name}_{policy}", bounds=bounds)
    A, big = _unpack_big(b, fmt, b.input("a", fmt.width))
    with b.block("unpack"):
        overflow = b.neuron([(big, 1), (A.sign, -1)], threshold=1, name="ovf")
        underflow = b.neuron([(big, 1), (A.sign, 1), (A.nan, -1)], threshold=2, name="unf")
    R, k, _ = _exp_core(b, _to_fixed(b, A, EXP32["x_lsb"]), A.sign)
    # R 2^k in units of 2^quantum_exp: Y = R 2^-r_lsb
    shift = EXP32["r_lsb"] - fmt.quantum_exp
    y = round_pack(b, fmt, policy, sig=R.bits, scale=k + shift,
                   scale_range=(-_K_MAX - 1 + shift, _K_MAX + shift), sign=(Lin(), 1),
                   msb_min=-EXP32["r_lsb"] - 1, nan=[A.nan], inf=[overflow], zero=[underflow])
    b.output("y", y)
    _meta(b, "exp", fmt, policy)
    return b.build()


#: The reciprocal's start: ``W0 = 1/(1 + (j + 1)/2^J)`` (a little less) to ``W0_BITS``.
RECIP = {"table_bits": 10, "w0_bits": 12, "lsb": -46}


def _reciprocal(b, frac: Fixed):
    """``W ~ 1/D`` for ``D = 1 + frac`` in ``[1, 2)`` (``frac``: bits ``lsb .. -1``), to about
    ``2^-44``: ``W0`` from a step table on the top bits of ``frac``, always below ``1/D``
    (by at least ``2^-17``), so ``eps = 1 - D W0`` lies in ``(0, 2^-9)``: its bits are the
    complement of the low bits of ``D W0``; then ``W = W0 (1 + eps + eps^2 + eps^3 +
    eps^4)`` (error ``eps^5 < 2^-45``)."""
    J, G, lsb = RECIP["table_bits"], RECIP["w0_bits"], RECIP["lsb"]
    with b.block("recip"):
        values = [int(Fraction(1 << G) * (1 - Fraction(1, 1 << 16)) /
                      (1 + Fraction(i + 1, 1 << J))) for i in range(1 << J)]
        W0 = Fixed(step_table(b, frac.slice(-J, -1).bits, values, G), -G)
        heap = Column(lsb, 0)                                  # P = D W0 < 1
        heap.add_fixed(W0)
        heap.add_product(b, frac, W0)
        P = heap.reduce(b, name="dw")
        eps = Fixed(tuple(b.neuron([(x, -1)], threshold=0, name="eps")
                          for x in P.slice(lsb, -10).bits), lsb)   # 2^-9 - P mod 2^-9
        heap = Column(lsb, -18)
        heap.add_product(b, eps, eps)
        sq = heap.reduce(b, name="sq")
        heap = Column(lsb, -9)                                 # Q = eps + eps^2 + ...
        heap.add_fixed(eps)
        heap.add_fixed(sq)
        heap.add_product(b, sq, eps)
        heap.add_product(b, sq, sq)
        Q = heap.reduce(b, name="q")
        heap = Column(lsb, 0)                                  # W = W0 (1 + Q) <= 1
        heap.add_fixed(W0)
        heap.add_product(b, W0, Q)
        return heap.reduce(b, name="w")


def _neg_exp(b, A, big, *, factor=1, x_msb=_X_MSB, t_msb=7):
    """``(R, n, E)``: ``E = e^-(factor |x|)`` as a Fixed below 1 (lsb ``r_lsb``), ``= R 2^k``
    with ``k = -n - 1``, ``n = floor(factor |x| log2 e)``: ``R`` from the exp core, shifted
    right by ``n + 1`` (a decoded shifter on ``n``), saturated below 1. ``|x| >=
    2^(x_msb + 1)`` (``big``) saturates the core's input, which gives the right limits."""
    X = _to_fixed(b, A, EXP32["x_lsb"], big, x_msb)
    R, _, T = _exp_core(b, X, CONST1, factor=factor, t_msb=t_msb)
    n = T.slice(0, t_msb).bits
    return R, n, _scale_down(b, R, n)


def _scale_down(b, R: Fixed, n):
    """``R 2^-(n + 1)`` (``R < 4``, ``n`` an unsigned bus) as a Fixed below 1, lsb kept: a
    decoded right shift, saturated below 1 (``R`` with a bit of weight 2)."""
    with b.block("e"):
        shifted = shift_right(b, R.bits, n)                    # R 2^-n, lsb R.lsb
        below = shifted[1:1 - R.lsb]                           # (R 2^-n)/2 below 1
        if len(shifted) <= 1 - R.lsb:
            return Fixed(tuple(below), R.lsb)
        top = shifted[1 - R.lsb]                               # R 2^-n >= 2: E >= 1
        return Fixed(tuple(or_(b, x, top) for x in below), R.lsb)


def _sigmoid_core(b, A, big):
    """``(Y, s_k)``: ``sigmoid(x) = Y 2^(s k)`` with ``Y`` a Fixed: ``1/(1 + E)`` for
    ``x >= 0``, ``R/(1 + E)`` for ``x < 0``, where ``E = e^-|x| = R 2^k`` (:func:`_neg_exp`)."""
    R, n, E = _neg_exp(b, A, big)
    W = _reciprocal(b, E)
    with b.block("select"):                                    # Y = W (s ? R : 1)
        one = b.neuron([(R.bits[-R.lsb], 1), (A.sign, -1)], threshold=0, name="one")
        sel = [and_(b, x, A.sign) for x in R.bits]
        sel[-R.lsb] = one
        heap = Column(RECIP["lsb"], 1)
        heap.add_product(b, W, Fixed(tuple(sel), R.lsb))
        Y = heap.reduce(b, name="y")
        sn = [and_(b, x, A.sign) for x in n]                   # s k = -s (n + 1)
    s_k = -(Lin([(x, 1 << i) for i, x in enumerate(sn)]) + Lin.net(A.sign))
    return Y, s_k


def build_sigmoid32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = 1/(1 + exp(-a))`` in fp32, faithful for every input."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    b = NetlistBuilder(f"sigmoid_{fmt.name}_{policy}", bounds=bounds)
    A, big = _unpack_big(b, fmt, b.input("a", fmt.width))
    Y, s_k = _sigmoid_core(b, A, big)
    shift = Y.lsb - fmt.quantum_exp
    y = round_pack(b, fmt, policy, sig=Y.bits, scale=s_k + shift,
                   scale_range=(-_K_MAX - 1 + shift, shift), sign=(Lin(), 1),
                   msb_min=-Y.lsb - 2, nan=[A.nan])
    b.output("y", y)
    _meta(b, "sigmoid", fmt, policy)
    return b.build()


#: SiLU keeps the product ``sig(x) * Y`` from this weight up (``sig`` an integer): relative
#: ``2^-42`` of a normal input's product, ``2^-20`` of an ULP of a subnormal one's.
SILU_CUT = -20


def build_silu32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = a * sigmoid(a)`` in fp32, faithful for every input: the sigmoid datapath's
    ``Y 2^(s k)`` times the input's significand, rounded once."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    b = NetlistBuilder(f"silu_{fmt.name}_{policy}", bounds=bounds)
    A, big = _unpack_big(b, fmt, b.input("a", fmt.width))
    with b.block("unpack"):                    # x <= -2^7 or -inf: -0 (x e^x underflows)
        tiny = b.neuron([(big, 1), (A.sign, 1), (A.nan, -1)], threshold=2, name="neg")
    Y, s_k = _sigmoid_core(b, A, big)
    with b.block("product"):
        heap = Column(SILU_CUT, fmt.man_bits + 2)
        heap.add_product(b, Fixed(A.sig_bits, 0), Y)
        Pr = heap.reduce(b, name="p")
    # x = sig 2^(E' - bias - M): units of 2^quantum_exp
    scale = A.exponent() - (fmt.bias + fmt.man_bits) - fmt.quantum_exp + Pr.lsb + s_k
    lo = 1 - (fmt.bias + fmt.man_bits) - fmt.quantum_exp + Pr.lsb - _K_MAX - 1
    hi = fmt.exp_all - (fmt.bias + fmt.man_bits) - fmt.quantum_exp + Pr.lsb
    y = round_pack(b, fmt, policy, sig=Pr.bits, scale=scale, scale_range=(lo, hi),
                   sign=(Lin.net(A.sign), 1), nan=[A.nan], zero=[tiny])
    b.output("y", y)
    _meta(b, "silu", fmt, policy)
    return b.build()


#: tanh: ``|x| < 2^-TANH_SMALL`` returns ``x`` itself (``|x|^3/3`` is below half an ULP of
#: ``x``: correctly rounded); ``|x| >= 2^(TANH_X_MSB + 1)`` saturates (``tanh`` rounds to
#: ``+-1`` from ``|x| > 9.1``).
TANH_SMALL = 12
TANH_X_MSB = 3


def build_tanh32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = tanh(a)`` in fp32, faithful for every input: ``(1 - E)/(1 + E)`` with ``E =
    e^-2|x|`` (the sigmoid datapath on ``2|x|``), the numerator ``~E`` (``1 - E - 2^r_lsb``,
    no cancellation error beyond ``2^-44``: relative ``2^-32`` at the smallest ``|x|`` it
    serves), times the reciprocal, rounded once with the input's sign; the input itself
    below ``|x| = 2^-12`` (zeros and subnormals included)."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    b = NetlistBuilder(f"tanh_{fmt.name}_{policy}", bounds=bounds)
    a = b.input("a", fmt.width)
    A, big = _unpack_big(b, fmt, a, TANH_X_MSB)
    with b.block("unpack"):
        large = bus_value(A.exp).ge(b, fmt.bias - TANH_SMALL, name="large")
    _, _, E = _neg_exp(b, A, big, factor=2, x_msb=TANH_X_MSB, t_msb=TANH_X_MSB + 2)
    W = _reciprocal(b, E)
    with b.block("numerator"):
        N = Fixed(tuple(b.neuron([(x, -1)], threshold=0, name="ne") for x in E.bits), E.lsb)
        heap = Column(RECIP["lsb"], 0)                         # tanh = N W < 1
        heap.add_product(b, N, W)
        Y = heap.reduce(b, name="y")
    shift = Y.lsb - fmt.quantum_exp
    r = round_pack(b, fmt, policy, sig=Y.bits, scale=Lin.constant(shift),
                   scale_range=(shift, shift), sign=(Lin.net(A.sign), 1),
                   msb_min=-TANH_SMALL - 2 - Y.lsb, nan=[A.nan])
    with b.block("small"):
        y = [mux(b, large, x, z) for x, z in zip(a, r)]
    b.output("y", y)
    _meta(b, "tanh", fmt, policy)
    return b.build()


#: GELU's datapath: ``t = |x| < 2^(x_msb + 1)`` (beyond, the limits), ``seg_bits`` of ``t``
#: index the Mills-ratio segments, a polynomial of ``degree`` in the rest, coefficients to
#: ``c_lsb``, Horner steps cut at ``cuts`` (the last one first), ``t^2/2`` to ``u_lsb``,
#: ``R M`` to ``g_lsb``.
GELU32 = {"x_msb": 3, "seg_bits": 10, "degree": 3, "c_lsb": (-46, -46, -42, -38),
          "cuts": (-46, -44, -42), "u_lsb": -44, "g_lsb": -46}


def _mills(t):
    """``M(t) = e^(t^2/2) erfc(t/sqrt 2)/2`` (mpmath, at the working precision)."""
    return mpmath.erfc(t / mpmath.sqrt(2)) / 2 * mpmath.exp(t * t / 2)


@functools.lru_cache(maxsize=None)
def mills_segments(seg_bits, degree, c_lsb, x_msb, x_lsb):
    """Per segment ``i`` of ``t``: integer coefficients ``d_k 2^-c_lsb[k] >= 0`` with ``M(te
    - s) ~ sum_k d_k s^k`` on ``0 <= s < h``, ``te`` the segment's last ``x_lsb`` step,
    interpolated at the Chebyshev nodes of ``[0, h]`` at 160 bits. ``M`` is completely
    monotone (the Laplace transform of ``e^(-v^2/2)/sqrt(2 pi)``), so in ``s = te - t`` every
    coefficient is positive: the heaps need no signs (checked here)."""
    h = Fraction(2) ** (x_msb + 1 - seg_bits)
    n = degree + 1
    rows = []
    with mpmath.mp.workprec(160):
        nodes = [(1 - mpmath.cos(mpmath.pi * (2 * j + 1) / (2 * n))) / 2 * _mpf(h)
                 for j in range(n)]
        vander = mpmath.matrix([[s ** k for k in range(n)] for s in nodes])
        for i in range(1 << seg_bits):
            te = _mpf((i + 1) * h - Fraction(2) ** x_lsb)
            d = mpmath.lu_solve(vander, mpmath.matrix([_mills(te - s) for s in nodes]))
            row = tuple(int(mpmath.nint(mpmath.ldexp(d[k], -c_lsb[k]))) for k in range(n))
            if min(row) < 0:
                raise ArithmeticError(f"Mills segment {i}: a negative coefficient {row}")
            rows.append(row)
    return tuple(rows)


def _mpf(q: Fraction):
    return mpmath.mpf(q.numerator) / q.denominator


def _mills_poly(b, X: Fixed):
    """``M(t)`` for ``t = X`` (lsb ``x_lsb``): the segment's coefficients from one step table
    on the top ``seg_bits`` of ``X``, Horner's rule in ``s = ~(low bits)`` (the distance to
    the segment's last step), every term positive."""
    P = GELU32
    J, deg, c_lsb = P["seg_bits"], P["degree"], P["c_lsb"]
    rows = mills_segments(J, deg, c_lsb, P["x_msb"], X.lsb)
    widths = [max(r[k] for r in rows).bit_length() for k in range(deg + 1)]
    offsets = [sum(widths[:k]) for k in range(deg + 1)]
    split = P["x_msb"] - J + 1
    with b.block("mills"):
        packed = [sum(r[k] << offsets[k] for k in range(deg + 1)) for r in rows]
        bits = step_table(b, X.slice(split, P["x_msb"]).bits, packed, sum(widths))
        d = [Fixed(bits[offsets[k]:offsets[k] + widths[k]], c_lsb[k]) for k in range(deg + 1)]
        low = X.slice(X.lsb, split - 1)
        s = Fixed(tuple(b.neuron([(x, -1)], threshold=0, name="ns") for x in low.bits), low.lsb)
        h = Fraction(2) ** split
        bound = [max(r[k] for r in rows) * Fraction(2) ** c_lsb[k] for k in range(deg + 1)]
        p, top = d[deg], bound[deg]
        for k in range(deg - 1, -1, -1):                      # p = d_k + s p
            top = bound[k] + h * top
            heap = Column(P["cuts"][k], math.floor(math.log2(top * Fraction(101, 100))))
            heap.add_fixed(d[k])
            heap.add_product(b, s, p)
            p = heap.reduce(b, name=f"h{k}")
    return p


def build_gelu32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = a Phi(a)`` (the erf form) in fp32, faithful for every input: ``Q(t) = 1 -
    Phi(t) = e^(-t^2/2) M(t)`` for ``t = |x|``, ``e^(-t^2/2) = R 2^-(n + 1)`` from the exp
    core on ``t^2/2`` (an exact square to ``2^-44``), ``M`` the Mills ratio by segments;
    ``x < 0``: ``-t R M 2^-(n + 1)`` (no cancellation, down to the underflow at ``x ~ -14.5``);
    ``x >= 0``: ``x (1 - Q)``, ``Q`` shifted into place. One rounding."""
    P = GELU32
    fmt = get_format(fmt)
    policy = check_policy(policy)
    b = NetlistBuilder(f"gelu_{fmt.name}_{policy}", bounds=bounds)
    A, big = _unpack_big(b, fmt, b.input("a", fmt.width), P["x_msb"])
    with b.block("unpack"):                    # x <= -16 or -inf: -0 (x Phi(x) underflows)
        tiny = b.neuron([(big, 1), (A.sign, 1), (A.nan, -1)], threshold=2, name="neg")
    X = _to_fixed(b, A, EXP32["x_lsb"], big, P["x_msb"])
    with b.block("square"):
        heap = Column(P["u_lsb"] + 1, 2 * P["x_msb"] + 1)      # t^2 < 2^8
        heap.add_square(b, X)
        sq = heap.reduce(b, name="tt")
    R, _, T = _exp_core(b, Fixed(sq.bits, sq.lsb - 1), CONST1)  # e^(-t^2/2) = R 2^-(n+1)
    n = T.slice(0, 7).bits
    M = _mills_poly(b, X)
    with b.block("q"):
        heap = Column(P["g_lsb"], 0)                           # G = R M < 1
        heap.add_product(b, R, M)
        G = heap.reduce(b, name="g")
    Q = _scale_down(b, G, n)                                   # Q = G 2^-(n+1) < 1/2
    with b.block("select"):                                    # V = s ? G : 1 - Q
        V = [mux(b, A.sign, b.neuron([(q, -1)], threshold=0, name="nq"), g)
             for q, g in zip(Q.bits, G.bits)] + [and_(b, g, A.sign) for g in G.bits[len(Q.bits):]]
        sn = [and_(b, x, A.sign) for x in n]                   # s k = -s (n + 1)
    s_k = -(Lin([(x, 1 << i) for i, x in enumerate(sn)]) + Lin.net(A.sign))
    with b.block("product"):
        heap = Column(SILU_CUT, fmt.man_bits + 1)
        heap.add_product(b, Fixed(A.sig_bits, 0), Fixed(tuple(V), G.lsb))
        Pr = heap.reduce(b, name="p")
    base = (fmt.bias + fmt.man_bits) + fmt.quantum_exp - Pr.lsb
    scale = A.exponent() - base + s_k
    y = round_pack(b, fmt, policy, sig=Pr.bits, scale=scale,
                   scale_range=(1 - base - _K_MAX - 1, fmt.exp_all - base),
                   sign=(Lin.net(A.sign), 1), nan=[A.nan], zero=[tiny])
    b.output("y", y)
    _meta(b, "gelu", fmt, policy)
    return b.build()


#: The FP32 functions built so far, by name.
FLOAT32_FUNCTIONS = {"exp": build_exp32, "sigmoid": build_sigmoid32, "silu": build_silu32,
                     "tanh": build_tanh32, "gelu": build_gelu32, "rsqrt": build_rsqrt32}
#: the FP32 functions that are correctly rounded for every input (the others: faithful)
FLOAT32_CORRECTLY_ROUNDED = ("rsqrt",)


def build_float32_function(name, fmt="fp32", *, policy="torch",
                           bounds: Bounds = UNBOUNDED) -> Netlist:
    if name not in FLOAT32_FUNCTIONS:
        raise ValueError(f"{name} is not offered for fp32 yet: fp32 has "
                         f"{', '.join(FLOAT32_FUNCTIONS)}")
    return FLOAT32_FUNCTIONS[name](fmt, policy=policy, bounds=bounds)
