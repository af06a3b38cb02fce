"""FPGA-lean any-format float adder, subtractor and multiplier (IEEE-convention formats).

The wide-format counterparts of :mod:`.fp8.lean`: every neuron has fan-in at most 4 and
weights at most 2 (AND / OR of literals, majority, the two neurons of XOR / MUX / full
adder), so each neuron fits one LUT4, in the textbook datapath a hardware engineer writes
for a LUT fabric. Correctly rounded (RNE) with gradual underflow, the canonical NaN and
the overflow policy of :func:`~spikegate.golden.formats.overflow_code`; for every format
of the ``ieee`` convention (``e5m2``, ``fp16``, ``bf16``, ``fp32``, custom ``eXmY``).

adder (``a + b``; ``a - b`` with one inverter on ``b``'s sign)
    one ripple magnitude comparator on the ``E + M``-bit codes swaps the raw operands
    (``x = swap ? b : a`` a mux, ``z = a + b - x`` one neuron a bit); the exponent
    difference's low bits (a full-subtractor ripple) drive a sticky-jamming right shifter
    of the ``M + 4``-bit aligned significand (three guard bits), its high bits only a
    saturation comparator; one ripple adder adds or subtracts; a leading-zero count of
    the sum with a marker bit at the exponent limit (so the normalising shift never goes
    below the subnormal exponent) drives a left mux shifter; the lowest sum bit only
    reaches the sticky bit (it is zero whenever the shift is 3 or more); the packed code
    is ``((ex - L + hidden) << M) + fraction + round-up`` (one half-adder ripple).
    A sum that is exactly zero with no marker (cancellation at a large exponent) clears
    the exponent bits in the output neurons.

multiplier
    a product of two subnormals always rounds to zero (``M + 2 <= bias``), so only one
    operand needs normalising: a mux picks the operand that may be subnormal (``a`` when
    ``a`` is subnormal, else ``b``; the other one by ``a + b - s``), one leading-zero count
    and left mux shifter normalise it to ``1.f`` (exponent ``1 - t``); a carry-save array
    of ANDs and full adders with a parallel-prefix adder forms ``(2^M + fa)(2^M + fb)``;
    ``D0 = ea + eb - t - bias - 1`` (one column sum) and ``D0 + 1`` are ready before the
    product. A normal result (``D0 >= 0``) takes the window normalised on the product's
    top bit ``c`` (a one-bit mux) and ``D = c ? D0 + 1 : D0``; a subnormal one sits on the
    fixed subnormal grid, so its sticky-jamming right shift is ``-D0`` whatever ``c`` is
    (its selects come from the exponents, not from the product). The packed code is
    ``((D + 1) << M) * hidden + fraction + round-up`` (a parallel-prefix incrementer).
    The prefix adders (OR propagate) take the product's and the rounding's carry chains
    off the critical path: fp16 84 -> 62 neuron levels for 736 -> 815 neurons, and the
    Fmax of the behavioural baseline on both fabrics (``reports/synth-fp16.md``).

Overflow (the code past ``max_code``) and the NaN / infinity overrides are folded into the
output neurons (one neuron a bit).
"""

from __future__ import annotations

from ..golden.formats import get_format, overflow_code, check_policy
from .builder import NetlistBuilder
from .lean_gates import (add_prefix, normal_product, and_ as _and, const_bits as _const_bits, ge_const as _ge_const,
                         mux as _mux, not_ as _not, or_ as _or, ripple as _ripple,
                         shift_left as _shift_left, shift_right_sticky as _shift_right_sticky,
                         sum_columns as _sum_columns, xor as _xor)
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist

__all__ = ["build_fadd_lean", "build_fsub_lean", "build_fmul_lean", "lean_supports"]


def lean_supports(op, fmt) -> bool:
    """Whether the lean ``op`` (``fadd``, ``fsub``, ``fmul``) exists for ``fmt``: IEEE
    convention; the multiplier also needs ``M + 2 <= bias`` (subnormal x subnormal
    underflows)."""
    fmt = get_format(fmt)
    if not fmt.has_inf or op not in ("fadd", "fsub", "fmul"):
        return False
    return op != "fmul" or fmt.man_bits + 2 <= fmt.bias


def _check(op, fmt, policy):
    fmt = get_format(fmt)
    check_policy(policy)
    if not lean_supports(op, fmt):
        raise ValueError(f"the lean {op} needs an IEEE-convention format"
                         + (" with M + 2 <= bias" if op == "fmul" else "")
                         + f", not {fmt.name} (use the default variant)")
    return fmt


# -- small pieces -------------------------------------------------------------------------

def _lit_and(b, lits, name="and"):
    """AND of literals ``(net, positive)``, in neurons of fan-in <= 4."""
    lits = [(x, p) for x, p in lits if not (x == CONST1 and p) and not (x == CONST0 and not p)]
    if any((x == CONST0 and p) or (x == CONST1 and not p) for x, p in lits):
        return CONST0
    if not lits:
        return CONST1
    while len(lits) > 4:
        lits = [(_lit_and(b, lits[i:i + 4], name), True) for i in range(0, len(lits), 4)]
    return b.neuron([(x, 1 if p else -1) for x, p in lits],
                    threshold=sum(1 for _, p in lits if p), name=name)


def _fsub_cell(b, x, y, bin_):
    """``x - y - bin``: ``(difference, borrow out)``, two neurons."""
    bout = b.neuron([(x, -1), (y, 1), (bin_, 1)], threshold=1, name="bw")
    diff = b.neuron([(x, 1), (y, -1), (bin_, -1), (bout, 2)], threshold=1, name="df")
    return diff, bout


def _less(b, xs, ys, bin_=CONST0):
    """``xs < ys`` (borrow out of ``xs - ys - bin``), one neuron a bit (LSB first)."""
    borrow = bin_
    for x, y in zip(xs, ys):
        borrow = b.neuron([(x, -1), (y, 1), (borrow, 1)], threshold=1, name="lt")
    return borrow


def _increment(b, xs, cin):
    """``xs + cin`` (``len(xs)`` bits, LSB first): half adders, two neurons a bit."""
    out, c = [], cin
    for x in xs:
        c2 = _and(b, x, c, name="ic")
        out.append(b.neuron([(x, 1), (c, 1), (c2, -2)], threshold=1, name="is"))
        c = c2
    return out, c


def _lzc(b, bits):
    """Leading zeros of ``bits`` (MSB first, length a power of two, >= 4):
    ``(zero, count MSB first)``; 4-bit leaves of three neurons (zero, c1, c0)."""
    if len(bits) == 4:
        x3, x2, x1, x0 = bits
        zero = b.neuron([(x, -1) for x in bits], threshold=0, name="nz")
        c1 = b.neuron([(x3, -1), (x2, -1)], threshold=0, name="c1")
        c0 = b.neuron([(x3, -2), (x2, 1), (x1, -1)], threshold=0, name="c0")
        return zero, [c1, c0]
    half = len(bits) // 2
    zh, ch = _lzc(b, bits[:half])
    zl, cl = _lzc(b, bits[half:])
    return _and(b, zh, zl, name="z"), [zh] + [_mux(b, zh, h, l) for h, l in zip(ch, cl)]


def _leading_zeros(b, bits):
    """``(count bits LSB first, zero)`` of the bus ``bits`` (LSB first); an all-zero bus
    sets ``zero`` (its count is then all ones)."""
    n = len(bits)
    size = max(4, 1 << max((n - 1).bit_length(), 0))
    msb_first = list(reversed(bits)) + [CONST0] * (size - n)
    zero, count = _lzc(b, msb_first)
    return list(reversed(count)), zero


def _or_mark(b, v, lits):
    """``v or AND(lits)`` with the AND's literals in groups of four."""
    groups = [lits[i:i + 4] for i in range(0, len(lits), 4)]
    gs = [_lit_and(b, g, name="mk") for g in groups]
    gs = [g for g in gs if g != CONST1]
    if any(g == CONST0 for g in gs):
        return v
    while len(gs) > 2:
        gs = [_and(b, *gs[:2], name="mk")] + gs[2:]
    if not gs:
        return CONST1
    if len(gs) == 1:
        return _or(b, v, gs[0], name="mark")
    return b.neuron([(v, 2), (gs[0], 1), (gs[1], 1)], threshold=2, name="mark")


def _unpack(b, fmt, bits):
    M, E = fmt.man_bits, fmt.exp_bits
    man, exp, sign = list(bits[:M]), list(bits[M:M + E]), bits[M + E]
    with b.block("unpack"):
        hidden = _or(b, *exp, name="hidden")
        ones = _and(b, *exp, name="eones")
        manz = _or(b, *man, name="many")
        nan = _and(b, ones, manz, name="nan")
        inf = b.neuron([(ones, 1), (manz, -1)], threshold=1, name="inf")
    return dict(sign=sign, man=man, exp=exp, hidden=hidden, manz=manz, nan=nan, inf=inf)


def _pack(b, fmt, policy, code, sign, nan, big, kill=CONST0):
    """The output bits: ``code`` (``M + E`` bits of the rounded magnitude) unless ``big``
    (the policy's overflow code) or ``nan`` (the canonical NaN, which wins); ``kill``
    clears the exponent bits (never set together with ``big``)."""
    M = fmt.man_bits
    ocode, keeps_sign = overflow_code(fmt, policy)
    if not keeps_sign:
        nan, big = _or(b, nan, big, name="isnan"), CONST0
    qnan = fmt.canonical_nan
    out = []
    with b.block("pack"):
        for k in range(len(code)):
            c = code[k]
            z = kill if k >= M else CONST0
            o, q = (ocode >> k) & 1, (qnan >> k) & 1
            if o and q:
                pairs = [(nan, 2), (big, 2), (c, 1), (z, -1)]
            elif q:
                pairs = [(nan, 2), (c, 1), (big, -1), (z, -1)]
            elif o:
                pairs = [(c, 1), (big, 1), (nan, -2), (z, -1)]
            else:
                pairs = [(c, 1), (big, -1), (nan, -1), (z, -1)]
            out.append(b.neuron(pairs, threshold=1, name="y"))
        out.append(sign)
    return out


# -- adder --------------------------------------------------------------------------------

def _float_add_lean(b, fmt, policy, a, bb, subtract=False):
    M, E = fmt.man_bits, fmt.exp_bits
    W = M + E
    G = 3
    w = M + 1 + G                                   # aligned width
    if subtract:
        with b.block("unpack"):
            bb = list(bb[:-1]) + [_not(b, bb[-1])]
    A, B = _unpack(b, fmt, a), _unpack(b, fmt, bb)
    sa, sb = A["sign"], B["sign"]

    with b.block("swap"):
        swap = _less(b, a[:W], bb[:W])              # |a| < |b|
        X = [_mux(b, swap, u, v) for u, v in zip(a[:W], bb[:W])]
        Z = [b.neuron([(u, 1), (v, 1), (x, -1)], threshold=1, name="z")
             for u, v, x in zip(a[:W], bb[:W], X)]
        sx = _mux(b, swap, sa, sb)
        sub = _xor(b, sa, sb)
        hx = _or(b, *X[M:], name="hx")
        hz = _or(b, *Z[M:], name="hz")
        ex = [b.neuron([(X[M], 1), (hx, -1)], threshold=0, name="e0")] + X[M + 1:]
        ez = [b.neuron([(Z[M], 1), (hz, -1)], threshold=0, name="e0")] + Z[M + 1:]
        mx, mz = X[:M] + [hx], Z[:M] + [hz]

    with b.block("align"):
        k = 0
        while (1 << k) < w:
            k += 1
        k = min(k, E)
        d, borrow = [], CONST0
        for j in range(k):
            dj, borrow = _fsub_cell(b, ex[j], ez[j], borrow)
            d.append(dj)
        za = [CONST0] * G + mz
        for j in range(k):
            za = _shift_right_sticky(b, za, d[j], 1 << j)
        if k < E:
            hi = []
            for j in range(k, E):
                dj, borrow = _fsub_cell(b, ex[j], ez[j], borrow)
                hi.append(dj)
            sat = _or(b, *hi, name="sat")            # ex - ez >= 2^k
            anyz = _or(b, *mz, name="anyz")
            za = [_mux(b, sat, za[0], anyz)] + [_mux(b, sat, x, CONST0) for x in za[1:]]

    with b.block("add"):
        xa = [CONST0] * G + mx
        v, cout = _ripple(b, xa, [_xor(b, z, sub) for z in za], sub)
        v = v + [b.neuron([(cout, 1), (sub, -1)], threshold=1, name="cy")]   # w + 1 bits

    with b.block("normalise"):
        marked = []
        for i in range(w + 1):
            t = w - i                               # ex == t puts the marker here
            if 1 <= t < (1 << E) - 1:
                lits = [(x, bool((t >> j) & 1)) for j, x in enumerate(ex)]
                marked.append(_or_mark(b, v[i], lits))
            else:
                marked.append(v[i])
        L, zero = _leading_zeros(b, marked)
        # a shift L >= 3 only follows a cancellation (ex - ez <= 1), when v[0] = v[1] = 0:
        # v[0] only reaches the sticky bit, OR(nv[0..2]) = OR(v[0 .. 2 - L])
        nv = _shift_left(b, [CONST0] + v[1:], L)
        sig = nv[w - M:]
        guard = nv[w - M - 1]
        q = b.neuron([(v[1], 2), (v[w], 1), (v[w - 1], 1)], threshold=3, name="st")
        sticky = b.neuron([(v[0], 2), (q, 2), (v[2], 1), (v[w], 1)], threshold=2,
                          name="st")
        nz = _or(b, *v, name="nz")

    with b.block("round"):
        up = b.neuron([(guard, 2), (sticky, 1), (sig[0], 1)], threshold=3, name="up")
        # Dd = ex - L (E bits)
        Dd, borrow = [], CONST0
        for j in range(E):
            y = L[j] if j < len(L) else CONST0
            dj, borrow = _fsub_cell(b, ex[j], y, borrow)
            Dd.append(dj)
        xs = sig[:M] + Dd + [CONST0]
        ys = [CONST0] * M + [sig[M]] + [CONST0] * E
        code, _ = _ripple(b, xs, ys, up)           # M + E + 1 bits
        ovf = _ge_const(b, code, fmt.inf_code)

    with b.block("special"):
        nan = _or(b, A["nan"], B["nan"], _and(b, A["inf"], B["inf"], sub), name="isnan")
        big = b.neuron([(ovf, 1), (A["inf"], 1), (B["inf"], 1), (zero, -2)], threshold=1,
                       name="big")
        sign = b.neuron([(sx, 2), (nz, 1), (sb, 1), (nan, -2)], threshold=3, name="sign")
        return _pack(b, fmt, policy, code[:W], sign, nan, big, kill=zero)


# -- multiplier ---------------------------------------------------------------------------

def _float_mul_lean(b, fmt, policy, a, bb):
    M, E, bias = fmt.man_bits, fmt.exp_bits, fmt.bias
    W = E + 2                                       # signed exponents
    n = 2 * M + 2
    A, B = _unpack(b, fmt, a), _unpack(b, fmt, bb)
    ha, hb = A["hidden"], B["hidden"]

    with b.block("unpack"):
        za = b.neuron([(ha, -1), (A["manz"], -1)], threshold=0, name="za")
        zb = b.neuron([(hb, -1), (B["manz"], -1)], threshold=0, name="zb")
        both = b.neuron([(ha, -1), (hb, -1)], threshold=0, name="bsub")
        zero = _or(b, za, zb, both, name="zero")
        ea = [b.neuron([(A["exp"][0], 1), (ha, -1)], threshold=0, name="e0")] + A["exp"][1:]
        eb = [b.neuron([(B["exp"][0], 1), (hb, -1)], threshold=0, name="e0")] + B["exp"][1:]

    with b.block("select"):
        # s: the operand that may be subnormal (a when a is, else b); f: the other one
        fs = [_mux(b, ha, x, y) for x, y in zip(A["man"], B["man"])]
        fn = [b.neuron([(x, 1), (y, 1), (s, -1)], threshold=1, name="fn")
              for x, y, s in zip(A["man"], B["man"], fs)]
        hs = _and(b, ha, hb, name="hs")

    with b.block("normalise_in"):
        s = fs + [hs]
        t, _ = _leading_zeros(b, s)
        t = t[:max(M.bit_length(), 1)]
        f2 = _shift_left(b, s, t)[:M]

    with b.block("exponent"):
        # D0 = ea + eb - t - bias - 1 (W bits, two's complement)
        kt = len(t)
        const = _const_bits(((1 << W) - (1 << kt) - bias) % (1 << W), W)
        nt = [_not(b, x) for x in t]
        cols = [[] for _ in range(W)]
        for i in range(W):
            if i < E:
                cols[i] += [ea[i], eb[i]]
            if i < kt:
                cols[i].append(nt[i])
            cols[i].append(const[i])
        D0 = _sum_columns(b, cols, W)

    with b.block("product"):
        P = normal_product(b, fn, f2, final="prefix")
        c = P[n - 1]
        # R: the product's top bits aligned for c = 0 (sticky, guard, fraction (M), hidden)
        # and the top bit P[n - 1] above them
        st0 = _or(b, *P[:n - 3 - M], name="st")
        R = [st0] + P[n - 3 - M:n]

    with b.block("align"):
        # normal results (D0 >= 0): the window normalised on c, exponent D = D0 + c (both
        # sums ready before the product: the mux waits for c, not a carry chain)
        frac = [_mux(b, c, R[2 + i], R[3 + i]) for i in range(M)]
        guard = _mux(b, c, R[1], R[2])
        sticky = b.neuron([(st0, 2), (c, 1), (R[1], 1)], threshold=2, name="st")
        D1, _ = _increment(b, D0, CONST1)
        D = [_mux(b, c, x, y) for x, y in zip(D0, D1)]   # biased exponent - 1
        # subnormal results (D0 < 0): the value sits on the fixed subnormal grid, so the
        # right shift is -D0 whatever c is (R >> 1 >> (-D0 - 1) when c = 1): its selects
        # come from the exponents alone, before the product is done
        neg = D0[W - 1]
        kk = 0
        while (1 << kk) < M + 2:                    # shifts up to M + 2 reach the guard bit
            kk += 1
        sub = _shift_right_sticky(b, R, CONST1, 1)
        for j in range(kk):
            sub = _shift_right_sticky(b, sub, _not(b, D0[j]), 1 << j)
        if kk < W - 1:
            far = b.neuron([(neg, 1), (_and(b, *D0[kk:W - 1], name="far"), -1)],
                           threshold=1, name="far")  # -D0 > 2^kk: below half the least ULP
        else:
            far = CONST0
        normal = [sticky, guard] + frac + [CONST1]
        win = [_mux(b, neg, x, y) for x, y in zip(normal, sub[:M + 3])]
        sat = _or(b, _and(b, neg, far), zero, name="sat")
        win = [_mux(b, sat, x, CONST0) for x in win]
        sticky, guard, sig = win[0], win[1], win[2:]
        hid = sig[M]

    with b.block("round"):
        up = b.neuron([(guard, 2), (sticky, 1), (sig[0], 1)], threshold=3, name="up")
        xs = sig[:M] + [_and(b, D[i], hid, name="dg") for i in range(E + 1)]
        ys = [CONST0] * M + [hid] + [CONST0] * E
        code, _ = add_prefix(b, xs, ys, up, propagate="or")   # M + E + 1 bits
        ovf = _ge_const(b, code, fmt.inf_code)

    with b.block("special"):
        nan = _or(b, A["nan"], B["nan"], _and(b, A["inf"], zb), _and(b, B["inf"], za),
                  name="isnan")
        big = _or(b, ovf, A["inf"], B["inf"], name="big")
        both_s = _and(b, A["sign"], B["sign"], name="ss")
        sign = b.neuron([(A["sign"], 1), (B["sign"], 1), (both_s, -2), (nan, -2)],
                        threshold=1, name="sign")
        return _pack(b, fmt, policy, code[:M + E], sign, nan, big)


# -- builders -----------------------------------------------------------------------------

def _build(unit, op, fmt, policy, bounds, **options):
    fmt = _check(unit, fmt, policy)
    b = NetlistBuilder(f"{unit}_{fmt.name}_{policy}_lean", bounds=bounds)
    a = b.input("a", fmt.width)
    bb = b.input("b", fmt.width)
    with b.block(unit[1:]):
        y = op(b, fmt, policy, a, bb, **options)
    b.output("y", y)
    b.meta.update(unit=unit, format=fmt.name, policy=policy, variant="lean")
    return b.build()


def build_fadd_lean(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a + b)`` from narrow neurons (fan-in <= 4, |weight| <= 2)."""
    return _build("fadd", _float_add_lean, fmt, policy, bounds)


def build_fsub_lean(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a - b)`` from narrow neurons (fan-in <= 4, |weight| <= 2)."""
    return _build("fsub", _float_add_lean, fmt, policy, bounds, subtract=True)


def build_fmul_lean(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a * b)`` from narrow neurons (fan-in <= 4, |weight| <= 2)."""
    return _build("fmul", _float_mul_lean, fmt, policy, bounds)
