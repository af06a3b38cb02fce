"""Round a wide unsigned fixed-point magnitude once into a float format (RNE + policy).

The input is an unsigned integer ``Y`` (any width ``n``, bits LSB first) with a *constant*
scale: the value is ``(-1)^sign * Y * 2^scale``. That is the shape of an exact (Kulisch)
accumulator, whose binary point never moves. The output is the code of
:class:`~spikegate.golden.dot.OutFormat` (``fp32``, ``fp16``, ``e4m3``, ``e5m2``).

Every neuron has small weights (at most 8), whatever ``n`` is: the accumulator of an E5M2
dot product is more than 64 bits wide, which neither a float64 engine nor a readable
netlist would want as weights. With ``L = floor(log2 Y)`` and ``q0`` the position in ``Y``
of the output's smallest subnormal:

* ``A_j = [Y >= 2^j]``: one OR neuron each (a thermometer of ``L``);
* the kept-LSB position ``d = max(L - M, q0)`` one-hot: ``[d == k] = A_(k+M) - A_(k+M+1)``
  (``1 - A_(q0+M+1)`` at the subnormal floor), read by the neurons below as two inputs;
* mantissa ``frac_i = OR_k (Y_(i+k) and [d == k])``;
* round up ``r = OR_k ([d == k] and Y_(k-1) and (Y_k or sticky_(k-2)))``, the sticky bits being
  prefix ORs of ``Y``: round to nearest, ties to even, in one neuron per shift;
* exponent field ``F = L + 1 - M - q0`` from ``L`` in binary (one thermometer-to-binary level);
* ``code = 2^M * F + frac + r``: the increment's carry moves into the exponent by itself, and
  codes are ordered by magnitude, so overflow is ``F > Fmax`` or ``F == Fmax`` with
  ``frac + r`` past the largest mantissa; the output neurons take the NaN / overflow /
  infinity overrides as extra inputs.
"""

from __future__ import annotations

from ..golden.dot import OutFormat, get_out_format
from .builder import NetlistBuilder
from .count import thermometer_to_binary
from .fp8.formats import overflow_code
from .fp8.linear import bus_value
from .netlist import CONST0, CONST1

__all__ = ["round_fixed", "or_net"]



def overflow_neuron(b: NetlistBuilder, frac, r, big, at_max, mmax):
    """``[rounded magnitude > max finite]``: the exponent field is past the largest
    (``big``), or at it (``at_max``) with the fraction plus the round-up ``r`` past its
    largest fraction ``mmax`` (all ones: ``frac`` full and ``r``)."""
    M = len(frac)
    if mmax == (1 << M) - 1:
        frc = b.neuron([(x, 1) for x in frac] + [(r, 1)], threshold=M + 1, name="mfull")
    else:
        frc = b.neuron([(x, 1 << i) for i, x in enumerate(frac)] + [(r, 1)],
                       threshold=mmax + 1, name="mfull")
    return b.neuron([(big, 2), (at_max, 1), (frc, 1)], threshold=2, name="ovf")

def or_net(b: NetlistBuilder, nets, name="or"):
    nets = [n for n in nets if n != CONST0]
    if not nets:
        return CONST0
    if CONST1 in nets:
        return CONST1
    return b.neuron([(n, 1) for n in nets], threshold=1, name=name)


def round_fixed(b: NetlistBuilder, out, policy, *, mag, scale: int, sign, nan=(), inf=()):
    """Output code bits (LSB first) of ``(-1)^sign * mag * 2^scale`` rounded once.

    Parameters
    ----------
    out : OutFormat or str
        ``fp32``, ``fp16``, ``e4m3`` or ``e5m2``.
    policy : str
        FP8 overflow policy (ignored by ``fp32``/``fp16``, which overflow to infinity).
    mag : tuple of nets
        ``Y``, unsigned, LSB first.
    scale : int
        Constant binary exponent of ``Y``'s LSB.
    sign : net
        Sign of the result (also of a zero result).
    nan, inf : nets
        Any NaN net set: the canonical NaN. Any inf net set: an infinite result of the given
        sign, which follows the overflow policy as overflow does. NaN wins.
    """
    out: OutFormat = get_out_format(out)
    Y = tuple(mag)
    n = len(Y)
    M, E = out.man_bits, out.exp_bits
    nan = [x for x in nan if x != CONST0]
    inf = [x for x in inf if x != CONST0]
    q0 = out.emin - M - scale                   # Y position of the subnormal quantum

    def y(i):
        return Y[i] if 0 <= i < n else CONST0

    with b.block("normalise"):
        A = [or_net(b, Y[j:], "ge") for j in range(n)] + [CONST0]

        def a(j):                                # [Y >= 2^j], j >= 0
            return A[j] if j <= n else CONST0

        d_lo = max(-M, q0)
        d_hi = max(n - 1 - M, q0)

        def sel(k):
            """([d == k] as (pairs, bias))."""
            if k == q0:
                return [(a(k + M + 1), -1)], 1
            return [(a(k + M), 1), (a(k + M + 1), -1)], 0

        frac = []
        for i in range(M):
            terms = []
            for k in range(d_lo, d_hi + 1):
                if 0 <= i + k < n:
                    pairs, bias = sel(k)
                    terms.append(b.neuron([(Y[i + k], 1)] + pairs, bias=bias, threshold=2,
                                          name="sel"))
            frac.append(or_net(b, terms, "frac"))

    with b.block("round"):
        T = []                                   # T[m] = OR(Y[0..m])
        for m in range(n):
            T.append(or_net(b, Y[:m + 1], "sticky"))

        def t(m):
            return T[m] if 0 <= m < n else CONST0

        ups = []
        for k in range(max(d_lo, 1), d_hi + 1):
            pairs, bias = sel(k)
            pairs = [(x, 4 * w) for x, w in pairs]
            ups.append(b.neuron(pairs + [(y(k - 1), 2), (t(k - 2), 1), (y(k), 1)],
                                bias=4 * bias, threshold=7, name="up"))
        r = or_net(b, ups, "r")

    with b.block("exponent"):
        lbits = thermometer_to_binary(b, A[1:n], name="lz") if n > 1 else ()
        F = bus_value(lbits) + (1 - M - q0)
        pos = F.ge(b, 1, gate=A[0], name="pos")
        f = F.bits(b, E, gate=pos, name="f")
        fmax, mmax = out.max_code >> M, out.max_code & ((1 << M) - 1)
        big = F.ge(b, fmax + 1, gate=A[0], name="fbig")
        at_max = F.ge(b, fmax, gate=A[0], name="fmax")
        ovf = overflow_neuron(b, frac, r, big, at_max, mmax)

    x = list(frac) + list(f)
    width = M + E
    with b.block("round"):
        carry = [r] + [b.neuron([(xi, 1) for xi in x[:k + 1]] + [(r, 1)], threshold=k + 2,
                                name="c") for k in range(width)]
    if out.fp8 is not None:
        ov_code, keeps_sign = overflow_code(out.fp8, policy)
    else:
        ov_code, keeps_sign = out.inf_code, True
    nan_code = out.canonical_nan
    big_nets = [ovf] + inf
    if not keeps_sign:
        nan, big_nets = nan + big_nets, []
    wb = 2
    wn = 2 * len(big_nets) + 2
    bits = []
    with b.block("pack"):
        for k in range(width):
            pairs = [(x[k], 1), (carry[k], 1), (carry[k + 1], -2)]
            pairs += [(q, wb if (ov_code >> k) & 1 else -wb) for q in big_nets]
            pairs += [(q, wn if (nan_code >> k) & 1 else -wn) for q in nan]
            bits.append(b.neuron(pairs, threshold=1, name="y"))
        bits.append(b.neuron([(sign, 1)] + [(q, -1) for q in nan], threshold=1, name="sign"))
    return tuple(bits)
