"""Narrow gates for LUT fabrics: neurons of fan-in <= 4 and |weight| <= 2, one LUT4 each.

The FPGA-lean units (:mod:`.fp8.lean`, :mod:`.float_lean`) are textbook datapaths built from
these: AND/OR/NOT/XOR/MUX neurons, ripple and prefix adders, column sums, a leading-zero
count, mux shifters and constant comparators.
"""

from __future__ import annotations

from .gates import full_adder
from .gates import mux as gate_mux
from .netlist import CONST0, CONST1

__all__ = ["and_", "or_", "not_", "xor", "mux", "ripple", "add_prefix", "sum_columns",
           "const_bits", "lzc", "leading_zeros", "shift_left", "shift_right_sticky", "ge_const",
           "normal_product"]


def and_(b, *xs, name="and"):
    xs = [x for x in xs if x != CONST1]
    if any(x == CONST0 for x in xs):
        return CONST0
    if not xs:
        return CONST1
    while len(xs) > 4:
        xs = [and_(b, *xs[i:i + 4], name=name) for i in range(0, len(xs), 4)]
    return b.neuron([(x, 1) for x in xs], threshold=len(xs), name=name)


def or_(b, *xs, name="or"):
    xs = [x for x in xs if x != CONST0]
    if any(x == CONST1 for x in xs):
        return CONST1
    if not xs:
        return CONST0
    while len(xs) > 4:
        xs = [or_(b, *xs[i:i + 4], name=name) for i in range(0, len(xs), 4)]
    return b.neuron([(x, 1) for x in xs], threshold=1, name=name)


def not_(b, x):
    if x in (CONST0, CONST1):
        return CONST1 if x == CONST0 else CONST0
    return b.neuron([(x, -1)], threshold=0, name="not")


def xor(b, x, y):
    if x == CONST0 or y == CONST0:
        return y if x == CONST0 else x
    if x == CONST1 or y == CONST1:
        return not_(b, y if x == CONST1 else x)
    both = b.neuron([(x, 1), (y, 1)], threshold=2, name="and")
    return b.neuron([(x, 1), (y, 1), (both, -2)], threshold=1, name="xor")


def mux(b, sel, when0, when1):
    """``sel ? when1 : when0`` (constants folded)."""
    if when0 == when1:
        return when0
    if sel in (CONST0, CONST1):
        return when1 if sel == CONST1 else when0
    if when1 == CONST0:
        return b.neuron([(when0, 1), (sel, -1)], threshold=1, name="andn")
    if when0 == CONST0:
        return and_(b, sel, when1)
    if when1 == CONST1:
        return or_(b, sel, when0)
    if when0 == CONST1:
        return b.neuron([(when1, 1), (sel, -1)], threshold=0, name="orn")
    return gate_mux(b, sel, when0, when1)


def ripple(b, xs, ys, cin=CONST0):
    """``xs + ys + cin`` (equal widths, LSB first): ``(bits, carry out)``."""
    out, carry = [], cin
    for x, y in zip(xs, ys):
        s, carry = full_adder(b, x, y, carry)
        out.append(s)
    return out, carry


def add_prefix(b, xs, ys, cin=CONST0, *, propagate="xor"):
    """``xs + ys + cin`` like :func:`ripple` but with a Sklansky parallel-prefix carry
    tree (logarithmic depth): ``(bits, carry out)``.

    ``propagate="xor"``: ``p = x ^ y`` and sum bits ``p ^ c`` (two neurons each);
    ``propagate="or"``: ``p = x | y`` (one neuron; a group carry is still
    ``G_hi | P_hi & G_lo``) and each sum bit one neuron ``[x + y + c_i - 2 c_(i+1) >= 1]``
    from the carries around it: fewer neurons for the same depth. The FP8 lean adder keeps
    ``xor`` (its synthesized figures in ``reports/synth.md`` are for that netlist).
    """
    if propagate not in ("xor", "or"):
        raise ValueError(f"unknown propagate {propagate!r}: choose xor or or")
    n = len(xs)
    ps = [xor(b, x, y) if propagate == "xor" else or_(b, x, y) for x, y in zip(xs, ys)]
    G = [cin] + [and_(b, x, y) for x, y in zip(xs, ys)]
    P = [CONST0] + ps
    lvl = 0
    while (1 << lvl) < n + 1:
        step = 1 << lvl
        nG, nP = list(G), list(P)
        for i in range(n + 1):
            if i & step:
                j = ((i >> lvl) << lvl) - 1
                pg = and_(b, P[i], G[j])
                if G[i] == CONST0 or pg == CONST0:
                    nG[i] = or_(b, G[i], pg)
                else:
                    nG[i] = b.neuron([(G[i], 2), (P[i], 1), (G[j], 1)], threshold=2,
                                     name="gp")
                nP[i] = and_(b, P[i], P[j])
        G, P = nG, nP
        lvl += 1
    if propagate == "xor":
        return [xor(b, p, c) for p, c in zip(ps, G[:n])], G[n]
    return [b.neuron([(x, 1), (y, 1), (G[i], 1), (G[i + 1], -2)], threshold=1, name="ps")
            for i, (x, y) in enumerate(zip(xs, ys))], G[n]


def sum_columns(b, cols, width, cin=CONST0, *, final="ripple"):
    """Bits ``0 .. width-1`` of the sum of the bits in ``cols`` (``cols[i]`` weighs 2^i)
    plus ``cin``: full-adder (3:2) compression rounds, then one carry-propagate adder (carry
    in ``cin``, so a late bit can join at the end): ``final="ripple"`` (fewest neurons) or
    ``"prefix"`` (:func:`add_prefix` with OR propagate: logarithmic depth)."""
    if final not in ("ripple", "prefix"):
        raise ValueError(f"unknown final adder {final!r}: choose ripple or prefix")
    cols = [[x for x in (cols[i] if i < len(cols) else []) if x != CONST0]
            for i in range(width)]
    while any(len(c) > 2 for c in cols):
        nxt = [[] for _ in range(width)]
        for i, col in enumerate(cols):
            j = 0
            while len(col) - j >= 3:
                s, c = full_adder(b, col[j], col[j + 1], col[j + 2])
                nxt[i].append(s)
                if i + 1 < width:
                    nxt[i + 1].append(c)
                j += 3
            nxt[i].extend(col[j:])
        cols = nxt
    xs = [c[0] if len(c) > 0 else CONST0 for c in cols]
    ys = [c[1] if len(c) > 1 else CONST0 for c in cols]
    if final == "prefix":
        return add_prefix(b, xs, ys, cin, propagate="or")[0]
    return ripple(b, xs, ys, cin)[0]


def const_bits(value, width):
    return [CONST1 if (value >> i) & 1 else CONST0 for i in range(width)]


def lzc(b, bits):
    """Leading zeros of ``bits`` (MSB first, length a power of two): ``(zero, count MSB
    first)``; an all-zero input counts ``len - 1`` with ``zero`` set."""
    if len(bits) == 1:
        return not_(b, bits[0]), []
    if len(bits) == 2:
        return b.neuron([(x, -1) for x in bits], threshold=0, name="nor"), [not_(b, bits[0])]
    half = len(bits) // 2
    zh, ch = lzc(b, bits[:half])
    zl, cl = lzc(b, bits[half:])
    return and_(b, zh, zl), [zh] + [mux(b, zh, h, l) for h, l in zip(ch, cl)]


def leading_zeros(b, bits):
    """``(count bits LSB first, zero)`` of the bus ``bits`` (LSB first)."""
    n = len(bits)
    size = 1 << max((n - 1).bit_length(), 0)
    msb_first = list(reversed(bits)) + [CONST0] * (size - n)
    zero, count = lzc(b, msb_first)
    return list(reversed(count)), zero


def shift_left(b, x, amount):
    """``x << amount`` truncated to ``len(x)`` bits (mux stages, LSB first)."""
    x = list(x)
    for j in reversed(range(len(amount))):
        s = 1 << j
        x = [mux(b, amount[j], x[i], x[i - s] if i >= s else CONST0) for i in range(len(x))]
    return x


def shift_right_sticky(b, x, sel, s):
    """One stage: ``x >> s`` when ``sel``, bit 0 keeping the OR of what falls off."""
    n = len(x)
    out = [mux(b, sel, x[0], or_(b, *x[:s + 1]))]
    out += [mux(b, sel, x[i], x[i + s] if i + s < n else CONST0) for i in range(1, n)]
    return out


def ge_const(b, bits, value):
    """``bits >= value`` for a constant, from two-input AND/OR neurons (LSB first)."""
    n = len(bits)
    if value <= 0:
        return CONST1
    if value >= (1 << n):
        return CONST0
    top = n - 1
    rest = value & ((1 << top) - 1)
    if (value >> top) & 1:
        return and_(b, bits[top], ge_const(b, bits[:top], rest))
    return or_(b, bits[top], ge_const(b, bits[:top], rest))


def normal_product(b, fa, fb, *, final="ripple"):
    """``(2^M + fa) * (2^M + fb)`` for two normalised ``M``-bit fractions: AND partial
    products plus both fractions at ``2^M`` plus ``2^2M``, summed by columns (``2M + 2``
    bits, in ``[2^2M, 2^(2M+2))``; ``final``: the last adder, as in :func:`sum_columns`)."""
    M = len(fa)
    n = 2 * M + 2
    cols = [[] for _ in range(n)]
    for i, x in enumerate(fa):
        for j, y in enumerate(fb):
            cols[i + j].append(and_(b, x, y, name="pp"))
    for i in range(M):
        cols[i + M] += [fa[i], fb[i]]
    cols[2 * M].append(CONST1)
    return sum_columns(b, cols, n, final=final)
