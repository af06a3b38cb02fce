"""FPGA-lean FP8 multiplier and adder: narrow neurons in gate-level structures.

:func:`~.multiplier.build_fp8_mul` and :func:`~.adder.build_fp8_add` minimise neuron
*levels* with wide neurons (fan-in up to 27, weights up to 128). On a LUT4 FPGA every wide
neuron becomes an adder tree and a comparator, and every digit of a linear form re-sums
the form. The units here are built for LUT mapping instead: every neuron has fan-in at most
4 and weights at most 2 (AND, OR, NOT, the two neurons of XOR / MUX / full adder), so each
neuron is at most one LUT4 and the synthesis tool can merge neighbours freely. The
datapath is the textbook one, computed once and shared by every special case:

multiplier
    each operand's significand is normalised to ``1.f`` first (subnormals: a priority mux
    chain, the exponent becoming ``1 - t``); a subnormal times a subnormal underflows to
    zero, so one small carry-save array of ``(2^M + fa)(2^M + fb)`` (hidden bits folded)
    and a one-bit normalising mux on its top bit ``c`` replace a leading-zero count and a
    logarithmic left shifter. The exponent ``D0 = ea + eb - bias - 1`` is summed without
    the late ``c``; ``D = D0 + c`` enters only as the sign (subnormal result) and the two
    low bits of the sticky-jamming right shift ``-D``, and ``1 + c`` is added to ``D0`` in
    the packing ripple ``(D0 << M) + significand + round-up``, whose value also decides
    overflow. A zero operand (flagged) forces the shifter's all-zero output.

adder
    one magnitude comparator (a ripple borrow chain on the 7-bit codes, FP8 codes are
    ordered by magnitude) swaps the operands through mux neurons; the exponent difference
    drives a sticky-jamming right shifter with three guard bits; one ripple adder adds or
    subtracts; a leading-zero count of the sum with a marker bit at the exponent limit
    (so the normalising shift never goes below the subnormal exponent) drives the left
    shifter; the packed code is ``((Ex - shift) << M) + significand + round-up``.

E5M2 specialisations (E4M3 netlists unchanged): the multiplier's normalised exponent is
``exp - [exp == 0 and m1 == 0]``, a bit in the exponent sum instead of exponent muxes; the
adder compares with a logarithmic (less, equal) tree, adds with a parallel-prefix adder,
and tests overflow on the unrounded code and the round-up bit beside the rounding
increment (shorter critical path on iCE40).

Overflow policies and NaN / infinity overrides are a few OR / AND neurons on the packed
code bits. Results are bit-exact against the golden models for both formats and all
policies (``tests/test_fp8_lean.py``).
"""

from __future__ import annotations

from ..builder import NetlistBuilder
from ..netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .formats import overflow_code, resolve
from ..lean_gates import (normal_product, and_ as _and, or_ as _or, not_ as _not, xor as _xor, mux as _mux,
                          ripple as _ripple, add_prefix as _add_prefix, sum_columns as
                          _sum_columns, const_bits as _const_bits, leading_zeros as
                          _leading_zeros, shift_left as _shift_left, shift_right_sticky as
                          _shift_right_sticky, ge_const as _ge_const)

__all__ = ["build_fp8_mul_lean", "build_fp8_add_lean"]


def _unpack(b, fmt, bits):
    """Flags and fields of one operand: hidden bit, effective exponent bits, significand."""
    M, E = fmt.man_bits, fmt.exp_bits
    man, exp = list(bits[:M]), list(bits[M:M + E])
    hidden = _or(b, *exp, name="hidden")
    # effective exponent max(e, 1): e == 0 sets bit 0
    eff = [_or(b, exp[0], _not(b, hidden), name="e0")] + exp[1:]
    if fmt.has_inf:
        ones = _and(b, *exp, name="eones")
        manz = _or(b, *man, name="many")
        nan = _and(b, ones, manz, name="nan")
        inf = b.neuron([(ones, 1), (manz, -1)], threshold=1, name="inf")
    else:
        nan = _and(b, *bits[:7], name="nan")
        inf = CONST0
    return dict(sign=bits[7], man=man, exp=exp, hidden=hidden, eff=eff, nan=nan, inf=inf,
                sig=man + [hidden])


def _pack(b, fmt, policy, code, sign, nan, big, ovf=None):
    """The output byte: ``code`` (at least 8 bits, LSB first, overflow past bit 6 allowed)
    rounded value; ``nan`` / ``big`` (infinite or overflowed) override per policy.
    ``ovf`` (``code > max_code``), when given, is not formed from ``code``."""
    if ovf is None:
        ovf = _ge_const(b, code, fmt.max_code + 1)
    big = _or(b, ovf, *big, name="big")
    ocode, keeps_sign = overflow_code(fmt, policy)
    nan = _or(b, *nan, name="isnan")
    if not keeps_sign:                      # ocp e4m3: overflow is NaN
        nan, big = _or(b, nan, big, name="isnan"), CONST0
    out = []
    with b.block("pack"):
        for k in range(7):
            if (ocode >> k) & 1:
                out.append(_or(b, nan, big, code[k], name="y"))
            else:
                keep = b.neuron([(code[k], 1), (big, -1)], threshold=1, name="keep") \
                    if big != CONST0 else code[k]
                out.append(_or(b, nan, keep, name="y"))
        out.append(b.neuron([(sign, 1), (nan, -1)], threshold=1, name="sign"))
    return out


# -- multiplier -----------------------------------------------------------------------------

def _normalised(b, X, M, W, exponent=True):
    """The significand of operand ``X`` normalised to ``1.f``: ``(f, e)`` with ``f`` the
    ``M`` fraction bits and ``e`` the exponent of the leading one (``W``-bit two's
    complement): ``f = m``, ``e = exp`` for a normal operand; for a subnormal one whose
    leading one lies ``t`` places below the hidden bit, ``f = m << t`` and ``e = 1 - t``
    (a zero operand gets ``t = M``; the caller flags it). Priority mux chains on the
    fraction bits: every output bit is a function of at most four operand bits."""
    h, m = X["hidden"], X["man"]
    f = [CONST0] * M
    e = _const_bits((1 - M) % (1 << W), W)
    for t in range(M - 1, 0, -1):                   # leading one at bit M - t
        lead = m[M - t]
        f = [_mux(b, lead, r, m[i - t] if i >= t else CONST0) for i, r in enumerate(f)]
        if exponent:
            e = [_mux(b, lead, r, s) for r, s in zip(e, _const_bits((1 - t) % (1 << W), W))]
    f = [_mux(b, h, r, x) for r, x in zip(f, m)]
    if not exponent:                                # the caller forms the exponent itself
        return f, None
    exp = X["exp"] + [CONST0] * (W - len(X["exp"]))
    return f, [_mux(b, h, r, x) for r, x in zip(e, exp)]


def build_fp8_mul_lean(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """FP8 multiplier ``y = round(a * b)`` from narrow neurons (fan-in <= 4).

    Same ports, semantics and meta as :func:`~.multiplier.build_fp8_mul` (plus
    ``meta["variant"] = "lean"``); the netlist is named ``fp8_mul_<fmt>_<policy>_lean``.
    """
    fmt, policy = resolve(fmt, policy)
    b = NetlistBuilder(f"fp8_mul_{fmt.name}_{policy}_lean", bounds=bounds)
    M, E = fmt.man_bits, fmt.exp_bits
    n = 2 * M + 2                                   # product bits
    W = E + 2                                       # signed exponents
    a = b.input("a", 8)
    bb = b.input("b", 8)
    with b.block("unpack"):
        A, B = _unpack(b, fmt, a), _unpack(b, fmt, bb)
        fa, ea = _normalised(b, A, M, W, exponent=M != 2)
        fb, eb = _normalised(b, B, M, W, exponent=M != 2)
        if M == 2:
            # e5m2: the normalised exponent is exp - [exp == 0 and m1 == 0] (a subnormal
            # with its leading one at m1 keeps e = 0 = exp): no exponent muxes, the
            # correction joins the exponent sum as a bit ``lo = hidden | m1`` (``+1 - 1``)
            lo_a = _or(b, A["hidden"], A["man"][1], name="lo")
            lo_b = _or(b, B["hidden"], B["man"][1], name="lo")
        za = b.neuron([(x, -1) for x in [A["hidden"]] + A["man"]], threshold=0, name="z")
        zb = b.neuron([(x, -1) for x in [B["hidden"]] + B["man"]], threshold=0, name="z")
        zero = _or(b, za, zb, name="zero")

    with b.block("product"):
        # (2^M + fa) * (2^M + fb) = 2^2M + 2^M (fa + fb) + fa * fb, in [2^2M, 2^(2M+2))
        P = normal_product(b, fa, fb)
        c = P[n - 1]                                # product in [2, 4)
        N = [_mux(b, c, P[i - 1] if i else CONST0, P[i]) for i in range(n)]   # 1.xxx on top

    with b.block("exponent"):
        # D0 = ea + eb - bias - 1, free of the late carry c; the biased result exponent
        # minus one is D = D0 + c, of which only the sign and the two shift bits are formed
        if M == 2:
            const = _const_bits((-fmt.bias - 3) % (1 << W), W)
            cols = [[x, y, k] for x, y, k in zip(A["exp"] + [CONST0] * (W - E),
                                                 B["exp"] + [CONST0] * (W - E), const)]
            cols[0] += [lo_a, lo_b]
        else:
            const = _const_bits((-fmt.bias - 1) % (1 << W), W)
            cols = [[x, y, k] for x, y, k in zip(ea, eb, const)]
        D0 = _sum_columns(b, cols, W)
        ones = _and(b, *D0[:W - 1], name="ones")
        neg0 = _and(b, D0[W - 1], b.neuron([(c, -1), (ones, -1)], threshold=-1, name="nand"))
        neg = _or(b, neg0, zero)                    # subnormal (or zero): shift right by -D

    with b.block("align"):
        # window: significand (M+1), guard, sticky; shifted right by -D = 1 + ~D
        win = [_or(b, *N[:n - M - 2], name="st")] + N[n - M - 2:]
        nd = [_not(b, x) for x in D0[:W - 1]]       # ~D0
        # the two low bits of ~D, D = D0 + c
        sh = [_not(b, _xor(b, D0[0], c)), _not(b, _xor(b, D0[1], _and(b, c, D0[0])))]
        win = _shift_right_sticky(b, win, neg, 1)
        assert M < 4                                # ~D up to 3 in two stages
        for j in range(2):
            win = _shift_right_sticky(b, win, _and(b, neg0, sh[j]), 1 << j)
        # ~D >= 4 (~D0 >= 4 + c) leaves no guard or significand: the result is zero (and so
        # is a zero operand's)
        far = _or(b, *nd[3:], _and(b, nd[2], b.neuron([(c, -1), (nd[1], 1), (nd[0], 1)],
                                                      threshold=0, name="or")))
        sat = _or(b, _and(b, neg0, far), zero, name="sat")
        win = [_mux(b, sat, x, CONST0) for x in win]
        sticky, guard, sig = win[0], win[1], win[2:]
        hid = _not(b, neg)                          # hidden bit: no right shift, not zero

    with b.block("round"):
        # code = (D << M) + significand + up, the hidden bit and c adding 1 + c to D0
        up = _and(b, guard, _or(b, sticky, sig[0]), name="up")
        width = E + M + 1
        xs = sig[:M] + [_and(b, D0[i], hid, name="dg") for i in range(width - M)]
        ys = [CONST0] * M + [b.neuron([(hid, 1), (c, -1)], threshold=1, name="h1"),
                             _and(b, hid, c)] + [CONST0] * (width - M - 2)
        code, _ = _ripple(b, xs, ys, up)

    with b.block("special"):
        sign = _xor(b, A["sign"], B["sign"])
        nan = [A["nan"], B["nan"]]
        big = [A["inf"], B["inf"]]
        if fmt.has_inf:                             # inf * 0
            nan += [_and(b, A["inf"], zb), _and(b, B["inf"], za)]
        y = _pack(b, fmt, policy, code, sign, nan, big)
    b.output("y", y)
    b.meta.update(unit="fp8-mul", format=fmt.name, policy=policy, variant="lean")
    return b.build()


def _less_tree(b, xs, ys):
    """``xs < ys`` (unsigned, LSB first) by a logarithmic tree of (less, equal) pairs
    instead of a borrow ripple: ``lt = lt_hi | eq_hi & lt_lo``."""
    nodes = []
    for x, y in zip(xs, ys):
        lt = b.neuron([(x, -1), (y, 1)], threshold=1, name="lt")
        nodes.append((lt, _not(b, _xor(b, x, y))))
    while len(nodes) > 1:
        nxt = []
        if len(nodes) % 2:
            nxt.append(nodes[0])
            nodes = nodes[1:]
        for (lt_lo, eq_lo), (lt_hi, eq_hi) in zip(nodes[0::2], nodes[1::2]):
            lt = _or(b, lt_hi, _and(b, eq_hi, lt_lo), name="lt")
            eq = _and(b, eq_hi, eq_lo, name="eq") if len(nodes) > 2 or nxt else CONST0
            nxt.append((lt, eq))
        nodes = nxt
    return nodes[0][0]


# -- adder ----------------------------------------------------------------------------------

def build_fp8_add_lean(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """FP8 adder ``y = round(a + b)`` from narrow neurons (fan-in <= 4).

    Same ports, semantics and meta as :func:`~.adder.build_fp8_add` (plus
    ``meta["variant"] = "lean"``); the netlist is named ``fp8_add_<fmt>_<policy>_lean``.
    """
    fmt, policy = resolve(fmt, policy)
    b = NetlistBuilder(f"fp8_add_{fmt.name}_{policy}_lean", bounds=bounds)
    M, E, G = fmt.man_bits, fmt.exp_bits, 3
    w = M + 1 + G                                   # aligned width
    a = b.input("a", 8)
    bb = b.input("b", 8)
    with b.block("unpack"):
        A, B = _unpack(b, fmt, a), _unpack(b, fmt, bb)

    with b.block("swap"):
        # swap = |b| > |a|: the borrow out of a - b on the 7-bit codes
        if E == 5:                                  # e5m2: a logarithmic comparator
            swap = _less_tree(b, a[:7], bb[:7])
        else:
            borrow = CONST0
            for x, y in zip(a[:7], bb[:7]):         # borrow' = maj(~x, y, borrow)
                borrow = b.neuron([(x, -1), (y, 1), (borrow, 1)], threshold=1, name="bw") \
                    if borrow != CONST0 else b.neuron([(x, -1), (y, 1)], threshold=1,
                                                      name="bw")
            swap = borrow
        pick = lambda u, v: _mux(b, swap, u, v)     # noqa: E731  (u unless swap)
        sx, sz = pick(A["sign"], B["sign"]), pick(B["sign"], A["sign"])
        ex = [pick(u, v) for u, v in zip(A["eff"], B["eff"])]
        ez = [pick(v, u) for u, v in zip(A["eff"], B["eff"])]
        mx = [pick(u, v) for u, v in zip(A["sig"], B["sig"])]
        mz = [pick(v, u) for u, v in zip(A["sig"], B["sig"])]
        sub = _xor(b, A["sign"], B["sign"])

    with b.block("align"):
        d, _ = _ripple(b, ex, [_not(b, x) for x in ez], CONST1)   # ex - ez >= 0
        za = [CONST0] * G + mz                      # w bits, LSB first
        stages = 0
        while (1 << stages) < w:
            stages += 1
        for j in range(min(stages, E)):
            za = _shift_right_sticky(b, za, d[j], 1 << j)
        if stages < E:
            sat = _or(b, *d[stages:])
            anyb = _or(b, *mz)
            za = [_mux(b, sat, za[0], anyb)] + [_mux(b, sat, x, CONST0) for x in za[1:]]

    with b.block("add"):
        xa = [CONST0] * G + mx
        if E == 5:                                  # e5m2: a parallel-prefix adder
            v, cout = _add_prefix(b, xa, [_xor(b, z, sub) for z in za], sub)
        else:
            v, cout = _ripple(b, xa, [_xor(b, z, sub) for z in za], sub)
        v = v + [b.neuron([(cout, 1), (sub, -1)], threshold=1, name="cy")]   # w + 1 bits

    with b.block("normalise"):
        # marker at bit w - ex caps the shift at ex (subnormal results keep exponent 1)
        marked = []
        for i in range(w + 1):
            t = w - i                                # ex == t puts the marker here
            if 1 <= t < (1 << E):
                ones = [x for j, x in enumerate(ex) if (t >> j) & 1]
                zeros = [x for j, x in enumerate(ex) if not (t >> j) & 1]
                hit = _and(b, *ones, *[_not(b, z) for z in zeros], name="mk")
                marked.append(_or(b, v[i], hit))
            else:
                marked.append(v[i])
        L, _ = _leading_zeros(b, marked)
        nv = _shift_left(b, v, L)
        nz = _or(b, *v, name="nz")
        sig = nv[w - M:]
        guard = nv[w - M - 1]
        sticky = _or(b, *nv[:w - M - 1], name="st")

    with b.block("round"):
        ovf = None                                  # formed from code by _pack
        if E == 5:
            # e5m2: the exponent field ex - L + 1 (E + 1 bits) gated by the hidden bit, so the
            # unrounded code is a plain concatenation; the overflow test works on it and ``up``
            # (base > max or base == max and up) beside the rounding increment, not behind it
            k = len(L)
            const = (2 - (1 << k)) % (1 << (E + 1))
            cols = [[x] for x in ex] + [[]]
            for i in range(E + 1):
                if (const >> i) & 1:
                    cols[i].append(CONST1)
            for i in range(k):
                cols[i].append(_not(b, L[i]))
            field = _sum_columns(b, cols, E + 1)
            up = _and(b, guard, _or(b, sticky, sig[0]), name="up")
            base = sig[:M] + [_and(b, x, sig[M], name="dg") for x in field]
            top = fmt.max_code
            eq = _and(b, *[x if (top >> i) & 1 else _not(b, x) for i, x in enumerate(base)],
                      name="eqmax")
            ovf = _or(b, _ge_const(b, base, top + 1), _and(b, eq, up), name="ovf")
            code, carry = [], up
            for x in base[:7]:
                code.append(_xor(b, x, carry))
                carry = _and(b, x, carry)
        else:
            k = len(L)
            # ex - L = ex + ~L + 1 - 2^k, gated by the hidden bit (0 for subnormal / zero)
            const = (1 - (1 << k)) % (1 << E)
            cols = [[ex[i]] + ([CONST1] if (const >> i) & 1 else []) for i in range(E)]
            for i in range(k):
                if i < E:
                    cols[i].append(_not(b, L[i]))
            Dd = _sum_columns(b, cols, E)
            up = _and(b, guard, _or(b, sticky, sig[0]), name="up")
            width = E + M + 1
            xs = sig[:M] + [_and(b, x, sig[M], name="dg") for x in Dd] + [CONST0]
            ys = [CONST0] * M + [sig[M]] + [CONST0] * (width - M - 1)
            code, _ = _ripple(b, xs, ys, up)

    with b.block("special"):
        sign = b.neuron([(sx, 2), (nz, 1), (sz, 1)], threshold=3, name="sgn")  # sx & (nz|sz)
        nan = [A["nan"], B["nan"]]
        if fmt.has_inf:                             # inf - inf
            nan.append(_and(b, A["inf"], B["inf"], sub, name="infinf"))
        y = _pack(b, fmt, policy, code, sign, nan, [A["inf"], B["inf"]], ovf)
    b.output("y", y)
    b.meta.update(unit="fp8-add", format=fmt.name, policy=policy, variant="lean")
    return b.build()
