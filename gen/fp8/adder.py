"""FP8 adder: ``y = round(a + b)``, correctly rounded, with every special case.

FP8 codes are ordered by magnitude, so the operand swap is one comparator neuron on the
7-bit codes. The swap never produces multiplexed bits: ``small_i = b_i + (swap and a_i) -
(swap and b_i)`` is a 0/1-valued linear form that later neurons read as three inputs, and
the larger operand is the complementary form, so both cost two AND neurons per bit and no
extra level. The exponent difference is a pair of thermometers ``p_k = [Ea - Eb >= k]``,
``q_k = [Eb - Ea >= k]`` (one neuron each, at most one of a pair set), which the decoded
shifter reads directly: each AND term ``[Ms_j + p_k + q_k - p_(k+1) - q_(k+1) >= 2]`` is one
neuron. The small significand is aligned with three guard bits and the bits shifted out
are jammed into the LSB, which keeps round-to-nearest-even exact through the one-bit
renormalisation of a subtraction. The signed sum ``8*Mbig + Xs - 2*(sub and Xs)`` is one
:meth:`~.linear.Lin.bits` block, and :func:`~spikegate.gen.float_round.round_pack` normalises (also after
massive cancellation), rounds and packs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..builder import NetlistBuilder
from ..netlist import UNBOUNDED, Bounds, Netlist
from .fields import unpack
from .formats import resolve
from ..linear_form import Lin, bus_value
from ..float_round import round_pack

__all__ = ["build_fp8_add", "swap_and_align", "sum_specials", "Aligned", "GUARD_BITS"]

#: Guard bits kept below the larger operand's LSB while aligning (guard, round, sticky).
GUARD_BITS = 3


@dataclass(frozen=True)
class Aligned:
    """The operands of a sum after the swap and the alignment (see :func:`swap_and_align`)."""

    ca: Lin              # |a| as the 7-bit code value (codes are ordered by magnitude)
    cb: Lin
    swap: int            # [|b| > |a|]
    large: list          # the larger operand's magnitude bits (Lin forms, or nets)
    hbig: int            # the larger operand's hidden bit
    sub: int             # the signs differ: the aligned small significand is subtracted
    terms: list          # per aligned bit (LSB first, G guard bits): its exclusive AND terms


def swap_and_align(b: NetlistBuilder, A, B, M, G, *, large_nets=False) -> Aligned:
    """Swap by one comparator, align the smaller significand with ``G`` guard bits and a
    jammed sticky LSB; ``large_nets`` makes the larger operand's bits neurons (for readers
    that need nets rather than linear forms)."""
    ca, cb = bus_value(A.mag), bus_value(B.mag)
    swap = (cb - ca).ge(b, 1, name="swap")         # |b| > |a|: b is the larger one
    # Multiplex as linear forms: small_i = b_i + (swap and a_i) - (swap and b_i) is a 0/1
    # value that later neurons read as three inputs, so no mux output level is needed.
    pick_a = [b.neuron([(swap, 1), (x, 1)], threshold=2, name="pa") for x in A.mag]
    pick_b = [b.neuron([(swap, 1), (y, 1)], threshold=2, name="pb") for y in B.mag]
    small = [Lin([(y, 1), (sa, 1), (sb, -1)]) for y, sa, sb in zip(B.mag, pick_a, pick_b)]
    if large_nets:
        large = [b.neuron([(x, 1), (sa, -1), (sb, 1)], threshold=1, name="lg")
                 for x, sa, sb in zip(A.mag, pick_a, pick_b)]
    else:
        large = [Lin([(x, 1), (sa, -1), (sb, 1)]) for x, sa, sb in zip(A.mag, pick_a, pick_b)]
    # the smaller operand is normal iff both are, the larger iff either is
    hbig = b.neuron([(e, 1) for e in A.exp + B.exp], threshold=1, name="hbig")
    hs = Lin([(A.hidden, 1), (B.hidden, 1), (hbig, -1)])  # h_a and h_b, as a 0/1 form
    sig_s = tuple(small[:M]) + (hs,)
    Ea, Eb = A.exponent(), B.exponent()
    K = M + G + 1                                   # shifts >= K leave only sticky
    p = {k: (Ea - Eb).ge(b, k, name="dp") for k in range(1, K + 1)}
    q = {k: (Eb - Ea).ge(b, k, name="dn") for k in range(1, K + 1)}

    def at_shift(x, k):                             # x and [shift == k]
        if k == 0:
            return b.neuron(x.pairs() + [(p[1], -1), (q[1], -1)], bias=x.const, threshold=1,
                            name="sh")
        return b.neuron(x.pairs() + [(p[k], 1), (q[k], 1), (p[k + 1], -1), (q[k + 1], -1)],
                        bias=x.const, threshold=2, name="sh")

    both = b.neuron([(A.sign, 1), (B.sign, 1)], threshold=2, name="ss")
    sub = b.neuron([(A.sign, 1), (B.sign, 1), (both, -2)], threshold=1, name="sub")
    terms = []
    for i in range(M + 1 + G):
        t = [at_shift(sig_s[i + k - G], k) for k in range(K) if 0 <= i + k - G <= M]
        if i == 0:                                  # sticky: bits shifted out, jammed
            t += [b.neuron(sig_s[j].pairs() + [(p[j + G + 1], 1), (q[j + G + 1], 1)],
                           bias=sig_s[j].const, threshold=2, name="lost")
                  for j in range(M + 1) if j + G + 1 <= K]
        terms.append(t)
    return Aligned(ca, cb, swap, large, hbig, sub, terms)


def sum_specials(b: NetlistBuilder, A, B, al: Aligned, E, has_inf):
    """``(sign, nan)`` of a sum: the sign as ``(Lin, threshold)`` for the output neuron
    (``x + (-x)`` is ``+0``, ``(-0) + (-0)`` is ``-0``), and the NaN nets (NaN operands;
    ``inf - inf`` as literal ANDs on the raw bits)."""
    gt = (al.ca - al.cb).ge(b, 1, name="gt")
    neg_a = b.neuron([(A.sign, 2), (B.sign, 1), (gt, 1)], threshold=3, name="sgn")
    neg_b = b.neuron([(B.sign, 1), (al.swap, 1)], threshold=2, name="sgn")
    sign = (Lin([(neg_a, 1), (neg_b, 1)]), 1)
    nan = [A.nan, B.nan]
    if has_inf:
        for X, Y in ((A, B), (B, A)):
            nan.append(b.neuron(
                [(e, 1) for e in X.exp + Y.exp] + [(m, -1) for m in X.man + Y.man]
                + [(X.sign, 1), (Y.sign, -1)], threshold=2 * E + 1, name="infinf"))
    return sign, nan


def build_fp8_add(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """FP8 adder ``y = round(a + b)``: inputs ``a[8]``, ``b[8]``, output ``y[8]``.

    Parameters and result as in :func:`~.multiplier.build_fp8_mul`. ``x + (-x)`` is ``+0``,
    ``(-0) + (-0)`` is ``-0``; in e5m2 ``inf - inf`` is NaN and ``inf + finite`` is
    infinite (then subject to the policy).
    """
    fmt, policy = resolve(fmt, policy)
    b = NetlistBuilder(f"fp8_add_{fmt.name}_{policy}", bounds=bounds)
    M, E, G = fmt.man_bits, fmt.exp_bits, GUARD_BITS
    a = b.input("a", 8)
    bb = b.input("b", 8)
    with b.block("unpack"):
        A, B = unpack(b, fmt, a), unpack(b, fmt, bb)

    with b.block("align"):
        al = swap_and_align(b, A, B, M, G)
        xs, neg = [], []
        for terms in al.terms:
            # OR of the terms, and [OR of the terms and sub] (terms exclusive but for i = 0):
            # both read the AND terms directly (no extra level)
            xs.append(b.neuron([(t, 1) for t in terms], threshold=1, name="xs"))
            neg.append(b.neuron([(t, 1) for t in terms] + [(al.sub, len(terms))],
                                threshold=len(terms) + 1, name="neg"))

    with b.block("add"):
        big = sum((x * (1 << i) for i, x in enumerate(al.large[:M])), Lin.net(al.hbig, 1 << M))
        total = big * (1 << G) + bus_value(xs) - bus_value(neg, 2)
        top = ((1 << (M + 1)) - 1) << (G + 1)
        ybits = total.bits(b, M + G + 2, known=(0, top), name="y")

    with b.block("exponent"):
        e_big = sum((x * (1 << i) for i, x in enumerate(al.large[M:])), 1 - Lin.net(al.hbig))
        scale = e_big - 1 - G

    with b.block("special"):
        sign, nan = sum_specials(b, A, B, al, fmt.exp_bits, fmt.has_inf)

    e_top = (1 << E) - 1                                # inf/NaN exponents included
    y = round_pack(b, fmt, policy, sig=ybits, sig_form=total, scale=scale,
                   scale_range=(-G, e_top - 1 - G), sign=sign, nan=nan, inf=[A.inf, B.inf])
    b.output("y", y)
    b.meta.update(unit="fp8-add", format=fmt.name, policy=policy)
    return b.build()
