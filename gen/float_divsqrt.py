"""Correctly rounded IEEE division and square root from neurons, for any float format.

Both units are digit recurrences, one result bit per step, each step a restoring
comparison/subtraction built from threshold-neuron adders (:func:`~spikegate.gen.arith.sub`,
parallel prefix by default, so no recurrence neuron has a weight beyond 2), followed by
the one rounding block :func:`~spikegate.gen.float_round.round_pack`, which normalises,
rounds to nearest even, applies the format's overflow rule and packs.

Operands are first *normalised*: subnormal significands are shifted up to a leading one
(:func:`normalise`: the leading-zero thermometer ``z_k = [top k bits are 0]`` selects the
shift directly, ``[x_s and z_k and not z_(k+1)]`` one neuron per term), and the shift
enters the exponent. So with ``p = M + 1`` significand bits:

* **division**: ``ma, mb`` in ``[2^(p-1), 2^p)``. ``p + 2`` restoring steps give
  ``Q = floor(ma * 2^(p+1) / mb)`` in ``[2^p, 2^(p+2))`` and the remainder; the
  significand handed to rounding is ``Y = 2Q + sticky`` (``sticky`` = remainder nonzero),
  whose leading one is at position ``p + 1`` or higher, so the rounding position is always
  above the jammed sticky bit. ``u = ea - la - eb + lb - (p + 2) - 1 + bias + M`` in units of
  the smallest subnormal.
* **square root**: ``D = ea - la + M + (bias mod 2)`` in binary; its parity ``t`` makes the
  exponent even (``X = ma << t``), ``N = X * 4^K`` with ``K = ceil((p + 1) / 2)`` and the
  textbook bit-by-bit integer square root (remainder width growing with the root, so the
  early steps are cheap) gives ``S = isqrt(N) >= 2^p`` and the remainder;
  ``Y = 2S + sticky``, ``u = floor(D/2) - ceil(bias/2) - K - 2 + bias``.

Special values follow IEEE 754 (signed zeros, ``x/0 = +-inf``, ``0/0 = inf/inf = NaN``,
``sqrt(-x) = NaN``, ``sqrt(-0) = -0``, ``sqrt(+inf) = +inf``) with one canonical NaN per
format; infinite results go through the format's overflow rule like overflow itself
(E4M3 under ``"torch"``: ``+-448``). A zero dividend or an infinite divisor flushes the
quotient to zero through a large negative term in the scale (no gating neurons).
"""

from __future__ import annotations

from ..golden.formats import get_format
from .arith import pad, sub
from .builder import NetlistBuilder
from .count import thermometer_to_binary
from .float_add import unpack_float
from .float_round import or_net, round_pack, xor_sign
from .float_unit import float_unit_netlist
from .gates import mux, nor
from .linear_form import Lin, bus_value
from .netlist import CONST0, CONST1, UNBOUNDED, Netlist

__all__ = ["float_div", "float_sqrt", "build_fdiv", "build_fsqrt", "normalise",
           "DIVSQRT_VARIANTS"]

#: adder variants the recurrences accept (see :data:`spikegate.gen.arith.ADDER_VARIANTS`)
DIVSQRT_VARIANTS = ("prefix", "auto", "ripple", "threshold")


def _check_variant(variant):
    if variant not in DIVSQRT_VARIANTS:
        raise ValueError(f"unknown adder variant {variant!r} for division/square root: "
                         f"choose one of {', '.join(DIVSQRT_VARIANTS)}")
    return variant


def normalise(b: NetlistBuilder, sig, *, top_one=False):
    """Shift a significand (LSB first) left until its top bit is 1.

    Returns ``(bits, la)``: the shifted bits (all zero for a zero input) and the shift
    ``la`` in binary (``len(sig) - 1`` for a zero input). ``top_one``: the caller ignores zero
    inputs, so the top output bit is the constant 1.
    """
    sig = tuple(sig)
    p = len(sig)
    msb_first = sig[::-1]
    # z[k] = [the top k bits are all zero]; la == k  <=>  z[k] and not z[k+1]
    z = [CONST1] + [nor(b, *msb_first[:k]) for k in range(1, p + 1)]
    out = []
    for i in range(p):
        if i == p - 1:
            out.append(CONST1 if top_one else b.neuron([(z[p], -1)], threshold=0, name="top"))
            continue
        terms = [b.neuron([(sig[i - k], 1), (z[k], 1), (z[k + 1], -1)], threshold=2,
                          name="sel") for k in range(0, i + 1)]
        out.append(or_net(b, terms, "nb"))
    la = thermometer_to_binary(b, z[1:p], name="lz")
    return tuple(out), la


def _nonzero_both(b, r, d, name):
    """``[r != 0 and d != 0]``: the sticky bit of a restoring step (see the callers)."""
    return b.neuron([(or_net(b, r, "rnz"), 1), (or_net(b, d, "dnz"), 1)], threshold=2, name=name)


def float_div(b: NetlistBuilder, fmt, policy, a_bits, b_bits, *, name="div",
              variant="prefix"):
    """Code bits (LSB first) of ``a / b`` correctly rounded (nearest even) in ``fmt``."""
    fmt = get_format(fmt)
    variant = _check_variant(variant)
    M, E = fmt.man_bits, fmt.exp_bits
    p = M + 1
    steps = p + 2
    e_top = (1 << E) - 1
    with b.block(name):
        with b.block("unpack"):
            A, B = unpack_float(b, fmt, a_bits), unpack_float(b, fmt, b_bits)
        with b.block("normalise"):
            # a zero dividend is flushed by the scale and a zero divisor overridden, so both
            # normalised significands may take a constant leading one
            ma, la = normalise(b, A.sig_bits, top_one=True)
            mb, lb = normalise(b, B.sig_bits, top_one=True)
        with b.block("recur"):
            r = pad(ma, p + 1)                       # partial remainder, R < 2 * mb
            d = pad(mb, p + 1)
            q = []
            for step in range(steps):
                with b.block(f"s{step}"):
                    diff, ge = sub(b, r, d, variant=variant)
                    q.append(ge)
                    if step == steps - 1:
                        # remainder after the step is nonzero iff r != 0 and r != mb
                        sticky = _nonzero_both(b, r, diff, "sticky")
                        break
                    # R' = ge ? R - mb : R  (< mb < 2^p); next R = 2R'
                    rest = tuple(mux(b, ge, r[i], diff[i]) for i in range(p))
                    r = (CONST0,) + rest
        sig = (sticky,) + tuple(reversed(q))         # Y = 2Q + sticky, LSB first
        n = len(sig)
        with b.block("exponent"):
            const = fmt.bias + M - 1 - steps
            scale = A.exponent() - bus_value(la) - B.exponent() + bus_value(lb) + const
            umin = 1 - M - e_top + const
            umax = e_top - 1 + M + const
            flush = umax + n + 2                     # pushes u below -(n + 1): result 0
            scale = scale - Lin([(A.zero, flush), (B.inf, flush)])
        with b.block("special"):
            sign = xor_sign(b, A.sign, B.sign)
            nan = [A.nan, B.nan, b.neuron([(A.zero, 1), (B.zero, 1)], threshold=2,
                                          name="zz")]
            if fmt.has_inf:
                nan.append(b.neuron([(A.inf, 1), (B.inf, 1)], threshold=2, name="ii"))
            inf = [A.inf, B.zero]
        return round_pack(b, fmt, policy, sig=sig, scale=scale, sign=sign,
                                msb_min=p + 1, scale_range=(min(umin, -(n + 1)), umax),
                                nan=nan, inf=inf)


def _isqrt(b, N, variant):
    """Restoring bit-by-bit integer square root of the bus ``N`` (even width, LSB first).

    Returns ``(S, sticky)``: the root's bits (LSB first) and ``[N != S^2]``.
    """
    m = len(N) // 2
    r = ()                                           # remainder, R <= 2S
    s = ()                                           # root so far, LSB first
    sticky = CONST0
    for i in range(m - 1, -1, -1):
        j = len(s)
        with b.block(f"s{m - 1 - i}"):
            rr = pad((N[2 * i], N[2 * i + 1]) + r, j + 3)      # 4R + next pair < 2^(j+3)
            t = pad((CONST1, CONST0) + s, j + 3)               # 4S + 1
            diff, ge = sub(b, rr, t, variant=variant)
            s = (ge,) + s
            if i == 0:
                sticky = _nonzero_both(b, rr, diff, "sticky")
                break
            r = tuple(mux(b, ge, rr[k], diff[k]) for k in range(j + 2))  # R' <= 2S' < 2^(j+2)
    return s, sticky


def float_sqrt(b: NetlistBuilder, fmt, policy, a_bits, *, name="sqrt", variant="prefix"):
    """Code bits (LSB first) of ``sqrt(a)`` correctly rounded (nearest even) in ``fmt``."""
    fmt = get_format(fmt)
    variant = _check_variant(variant)
    M, E = fmt.man_bits, fmt.exp_bits
    p = M + 1
    K = (p + 2) // 2                                 # ceil((p + 1) / 2)
    e_top = (1 << E) - 1
    odd = fmt.bias & 1
    with b.block(name):
        with b.block("unpack"):
            A = unpack_float(b, fmt, a_bits)
        with b.block("normalise"):
            ma, la = normalise(b, A.sig_bits)
        with b.block("exponent"):
            # D = ea - la + M + (bias mod 2) >= 1 (ea >= 1, la <= M)
            D = A.exponent() - bus_value(la) + M + odd
            d_lo, d_hi = 1 + odd, e_top + M + odd
            dbits = D.bits(b, d_hi.bit_length(), known=(d_lo, d_hi), name="d")
            t = dbits[0]
            half = Lin([(x, 1 << (i - 1)) for i, x in enumerate(dbits) if i])  # floor(D/2)
            const = fmt.bias - (fmt.bias + odd) // 2 - K - 2
            scale = half + const
        with b.block("align"):
            x = tuple(mux(b, t, ma[i], ma[i - 1] if i else CONST0) for i in range(p))
            x += (b.neuron([(t, 1), (ma[p - 1], 1)], threshold=2, name="xtop"),)
            N = (CONST0,) * (2 * K) + x
            N = pad(N, len(N) + (len(N) & 1))
        with b.block("recur"):
            S, sticky = _isqrt(b, N, variant)
        with b.block("special"):
            neg = b.neuron([(A.sign, 1), (A.zero, -1)], threshold=1, name="neg")
            nan = [A.nan, neg]
        sig = (sticky,) + tuple(S)
        return round_pack(b, fmt, policy, sig=sig, scale=scale, sign=(Lin.net(A.sign), 1),
                          msb_min=p + 1, scale_range=(d_lo // 2 + const, d_hi // 2 + const),
                          nan=nan, inf=[A.inf])


def build_fdiv(fmt, *, policy="torch", bounds=UNBOUNDED, variant="prefix") -> Netlist:
    """Divider netlist ``y = round(a / b)`` (ports ``a``, ``b``, ``y``)."""
    return float_unit_netlist("fdiv", fmt, policy, float_div, bounds=bounds, variant=variant)


def build_fsqrt(fmt, *, policy="torch", bounds=UNBOUNDED, variant="prefix") -> Netlist:
    """Square-root netlist ``y = round(sqrt(a))`` (ports ``a``, ``y``)."""
    return float_unit_netlist("fsqrt", fmt, policy, float_sqrt, arity=1, bounds=bounds,
                              variant=variant)
