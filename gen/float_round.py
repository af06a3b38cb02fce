"""The one rounding block: normalise, round to nearest even, apply the overflow policy, pack.

Every float unit ends here: the FP8 multipliers, adders and converters, the any-format
:mod:`.float_arith` units, the dot products' accumulators. Two front ends feed one pack
stage (:func:`pack_code`):

* :func:`round_pack` rounds ``Y * 2^u`` with a *variable* scale ``u`` (a linear form): the
  shape of a multiplier's product or an adder's sum. Its normalising shift and rounding
  decisions read the thermometers of ``Y`` and of ``u`` directly (below);
* :func:`round_fixed` rounds a wide unsigned accumulator with a *constant* scale (a Kulisch
  accumulator, whose binary point never moves) with neurons of weight at most 8.

One block serves the multiplier, the adder and the narrowing converters. Its input is an
exact (or sticky-jammed) unsigned integer ``Y`` and a scale ``u`` (a linear form), meaning
the value ``X = Y * 2^u`` in units of the format's smallest subnormal ``2^qexp``.

The FP8 code of a magnitude has a linear form that the whole design rests on. With
``M`` mantissa bits, ``L = floor(log2 X)`` and the kept-LSB position
``sh = max(L - M, 0)``::

    code = 2^M * f + frac + r        f = max(L - M + 1, 0)    (the exponent field)

where ``frac`` is the ``M`` bits of ``X`` below its leading one (of ``X`` itself when
subnormal) and ``r`` the round-to-nearest-even increment; a carry out of ``frac + r`` moves
into ``f`` by itself, and codes are ordered by magnitude, so overflow is one comparison
``code > max_code``. In terms of ``Y`` the shift is ``d = sh - u = max(Ly - M, -u)``:

* ``[d >= k] = A_k or C_k`` with ``A_k = [Y >= 2^(k+M)]`` and ``C_k = [u <= -k]``, one
  neuron each; both are monotone in ``k``, so ``[d == k]`` is the single neuron
  ``[A_k + C_k - 2A_(k+1) - 2C_(k+1) >= 1]``;
* ``frac_i = OR_k (Y_(i+k) and [d == k])``: a decoded shifter whose AND terms read the
  thermometers directly: ``[3Y_s + A_k + C_k - 2A_(k+1) - 2C_(k+1) >= 4]``;
* ``r = OR_k ([d == k] and [Y mod 2^k + Y_k >= 2^(k-1) + 1])``: round-half-even in one
  neuron per shift, no separate guard/round/sticky bits; the terms are exclusive, so the
  readers of ``r`` take them as a plain sum;
* ``f``: the binary digits of ``F = Ly + u - M + 1`` (linear in the thermometer
  ``[Y >= 2^j]`` and the exponent terms), gated to 0 unless ``F >= 1`` and ``Y != 0``;
* ``code = 2^M f + frac + r``: an incrementer whose output neurons also take the NaN /
  overflow / infinity overrides as large weights (no extra level for special values).

Formats wider than :data:`COMPACT_WIDTH` bits take the same decisions in two stages
(:func:`staged_select`): with ``d = d_lo + S q + v``, a coarse decoded shifter selects the
window of ``Y`` at ``d_lo + S q`` (with everything below jammed into one sticky bit, a
prefix OR of ``Y``), and a fine one selects the fraction at ``v`` and rounds with one neuron
per ``v`` (weights up to ``2^(S+1)``); ``S`` is chosen for the fewest neurons. About
``(M + S) * range / S + M * S`` AND terms instead of ``M * range``.

``round_fixed``
---------------

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

from ..golden.formats import get_format, overflow_code
from .builder import NetlistBuilder
from .count import thermometer_to_binary
from .linear_form import Lin, bus_value
from .gates import or_
from .netlist import CONST0, CONST1

__all__ = ["round_pack", "round_fixed", "staged_select", "pack_code", "sign_spec", "or_net",
           "COMPACT_WIDTH"]

#: Formats up to this width take the round-up terms inline and test overflow in one neuron
#: on the code's linear form (weights up to 2^width): one level fewer. Wider formats OR the
#: round-up terms once and test overflow on the exponent field (weights stay small).
COMPACT_WIDTH = 8


def sign_spec(net):
    """The sign of a result given as one net (see ``sign`` of :func:`round_pack`)."""
    return Lin.net(net), 1


def xor_sign(b: NetlistBuilder, x, y):
    """The sign ``x xor y`` of a product or quotient as ``(form, threshold)``: one AND
    neuron, the XOR folded into the output neuron that reads it."""
    both = b.neuron([(x, 1), (y, 1)], threshold=2, name="ss")
    return Lin([(x, 1), (y, 1), (both, -2)]), 1


def _or(b, nets, name):
    nets = [n for n in nets if n != CONST0]
    if not nets:
        return CONST0
    return b.neuron([(n, 1) for n in nets], threshold=1, name=name)


def select_and_round(b: NetlistBuilder, sig, scale: Lin, M, *, sig_form=None, msb_min=0,
                     umin, umax):
    """The normalising shift and the rounding of ``Y * 2^u`` to ``M`` fraction bits.

    Returns ``(yge, frac, ups)``: the thermometer ``yge[j] = [Y >= 2^j]``, per fraction bit
    the exclusive AND terms ``Y_(i+k) and [d == k]`` whose OR is the bit, and the exclusive
    round-up neurons ``up_k`` (one per shift ``k``; their OR is the increment ``r``).
    """
    n = len(sig)
    with b.block("normalise"):
        if sig_form is not None:
            yge = [sig_form.ge(b, 1 << j, name="yge") for j in range(n)]
        else:
            yge = [or_(b, *sig[j:]) for j in range(n)]
        d_lo = max(msb_min - M, -umax)
        d_hi = min(n, max(n - 1 - M, -umin))
        # [d >= k] = A_k or C_k with A_k = [Y >= 2^(k+M)], C_k = [u <= -k]; both are
        # monotone in k, so "d == k" is the single neuron [A_k + C_k - 2A_(k+1) - 2C_(k+1) >= 1]
        # and "Y_s and d == k" is [3Y_s + A_k + C_k - 2A_(k+1) - 2C_(k+1) >= 4].
        A, C = {d_lo: CONST1}, {d_lo: CONST0}
        for k in range(d_lo + 1, d_hi + 2):
            A[k] = yge[max(k + M, 0)] if k + M < n else CONST0
            C[k] = scale.le(b, -k, name="ule") if umin <= -k else CONST0

        def at(k):
            return [(A[k], 1), (C[k], 1), (A[k + 1], -2), (C[k + 1], -2)]

        def single(k):                                  # [d >= k] as one net, if it is one
            if A[k] == CONST1 or C[k] == CONST0:
                return A[k]
            return C[k] if A[k] == CONST0 else None

        frac = [[b.neuron([(sig[i + k], 3)] + at(k), threshold=4, name="sel")
                 for k in range(d_lo, d_hi + 1) if 0 <= i + k < n] for i in range(M)]

    with b.block("round"):
        ups = []
        for k in range(max(d_lo, 1), d_hi + 1):
            pairs = [(sig[j], 1 << j) for j in range(min(k, n))]
            if k < n:
                pairs.append((sig[k], 1))
            gate = 1 << (k - 1)
            g0, g1 = single(k), single(k + 1)
            if g0 is not None and g1 is not None:       # [d == k] = ge_k - ge_(k+1)
                pairs += [(g0, gate), (g1, -gate)]
            else:
                pairs.append((b.neuron(at(k), threshold=1, name="dk"), gate))
            ups.append(b.neuron(pairs, threshold=(1 << (k - 1)) + 1 + gate, name="up"))
    return yge, frac, ups


def _staged_plan(n, M, d_lo, d_hi, S):
    """Neuron count of :func:`staged_select` with coarse stride ``S`` (a close estimate)."""
    R = d_hi - d_lo + 1
    Q = -(-R // S)
    w = M + S + 1
    live = set()
    cost = 0
    for q in range(Q):
        base = d_lo + q * S
        for j in range(1, w):
            if 0 <= base + j - 2 < n:
                cost += 1
                live.add(j)
        if base - 2 >= 0:
            cost += 2                                   # the jam's prefix OR and its AND
            live.add(0)
    cost += len(live)                                   # the window ORs
    for i in range(M):
        cost += 1 + sum(1 for v in range(S) if i + v + 2 in live)
    cost += S + 1 + (R - 1)                             # round-ups, their OR, the [d >= k]
    return cost


def staged_select(b: NetlistBuilder, sig, scale: Lin, M, *, sig_form=None, msb_min=0,
                  umin, umax, stride=None):
    """:func:`select_and_round` as a two-stage (coarse/fine) shifter, for wide formats.

    With ``d = d_lo + S q + v`` (``0 <= v < S``), the coarse stage selects the window
    ``W_j = Y_(d_lo + S q + j - 2)`` (``1 <= j < M + S + 1``) and jams everything below into
    ``W_0 = [Y mod 2^(d_lo + S q - 1) != 0]``, one AND term per (window bit, ``q``) read
    straight off the thermometers as in :func:`select_and_round`. The fine stage selects
    ``frac_i = W_(i + v + 2)`` and rounds to nearest even in one neuron per ``v``:
    ``[W mod 2^(v+2) + W_(v+2) >= 2^(v+1) + 1]`` (weights up to ``2^(S+1)``, not ``2^d``).
    Its decode ``[d mod S == v]`` is a 0/1 sum of differences of ``G_k = [d >= k]``, read
    as inputs. ``S`` is chosen for the fewest neurons; a one-stage shifter when that is
    cheaper (narrow formats). Returns ``(yge, frac, ups)`` as :func:`select_and_round`.
    """
    n = len(sig)
    d_lo = max(msb_min - M, -umax)
    d_hi = min(n, max(n - 1 - M, -umin))
    R = d_hi - d_lo + 1
    if stride is None:
        stride = min(range(2, max(R, 2) + 1), key=lambda s: (_staged_plan(n, M, d_lo, d_hi, s), -s))
        one = sum(1 for i in range(M) for k in range(d_lo, d_hi + 1) if 0 <= i + k < n)
        if one + M + 2 * (d_hi - max(d_lo, 1) + 1) <= _staged_plan(n, M, d_lo, d_hi, stride):
            stride = R                                  # one stage is no dearer
    S = stride
    if S >= R:
        return select_and_round(b, sig, scale, M, sig_form=sig_form, msb_min=msb_min,
                                umin=umin, umax=umax)
    Q = -(-R // S)
    with b.block("normalise"):
        if sig_form is not None:
            yge = [sig_form.ge(b, 1 << j, name="yge") for j in range(n)]
        else:
            yge = [or_(b, *sig[j:]) for j in range(n)]
        Cc, Gc, Tc = {}, {}, {}

        def A(k):                                       # [Y >= 2^(k+M)]
            if k <= d_lo:
                return CONST1
            return yge[max(k + M, 0)] if k + M < n else CONST0

        def C(k):                                       # [u <= -k]
            if k <= d_lo or umin > -k:
                return CONST0
            if k not in Cc:
                Cc[k] = scale.le(b, -k, name="ule")
            return Cc[k]

        def G(k):                                       # [d >= k] = A_k or C_k
            if k not in Gc:
                a, c = A(k), C(k)
                Gc[k] = a if c == CONST0 else c if a == CONST0 else \
                    b.neuron([(a, 1), (c, 1)], threshold=1, name="dge")
            return Gc[k]

        def T(m):                                       # [Y mod 2^(m+1) != 0]
            if m < 0:
                return CONST0
            if m not in Tc:
                Tc[m] = or_net(b, sig[:m + 1], "sticky")
            return Tc[m]

        def y(p):
            return sig[p] if 0 <= p < n else CONST0

        w = M + S + 1
        terms = [[] for _ in range(w)]
        for q in range(Q):
            lo, hi = d_lo + q * S, min(d_lo + (q + 1) * S, d_hi + 1)
            at = [(A(lo), 1), (C(lo), 1), (A(hi), -2), (C(hi), -2)]
            for j in range(w):
                x = T(lo - 2) if j == 0 else y(lo + j - 2)
                if x != CONST0:
                    terms[j].append(b.neuron([(x, 3)] + at, threshold=4, name="csel"))
        W = [_or(b, t, "win") for t in terms]

        def dec(v):                                     # [d mod S == v] as 0/1 pairs
            pairs = []
            for q in range(Q):
                k = d_lo + q * S + v
                if k <= d_hi:
                    pairs += [(G(k), 1), (G(k + 1), -1)]
            return pairs

        frac = [[b.neuron([(W[i + v + 2], 1)] + dec(v), threshold=2, name="sel")
                 for v in range(S) if W[i + v + 2] != CONST0] for i in range(M)]

    with b.block("round"):
        ups = []
        for v in range(S):
            if all(x == CONST0 for x in W[:v + 2]):
                continue
            gate = 1 << (v + 1)
            pairs = [(W[j], 1 << j) for j in range(v + 2)] + [(W[v + 2], 1)]
            pairs += [(g, gate * s) for g, s in dec(v)]
            ups.append(b.neuron(pairs, threshold=(1 << (v + 1)) + 1 + gate, name="up"))
    return yge, frac, ups


def exponent_form(b: NetlistBuilder, yge, scale: Lin, M, E, *, umin, umax):
    """``(F, known)``: the exponent field before rounding, ``F = Ly + u - M + 1`` as a linear
    form (``Ly`` the thermometer sum, or in binary when its few extra neurons save more
    quota neurons in the ``E`` digits of ``F``), and its true range."""
    n = len(yge)
    f_known = (umin - M + 1, umax + n - M)
    F = Lin([(y, 1) for y in yge[1:]]) + scale - M + 1
    nly = (n - 1).bit_length()
    F_bin = Lin([(("ly", i), 1 << i) for i in range(nly)]) + scale - M + 1  # cost only
    if F_bin.bits_cost(E, known=f_known) + nly < F.bits_cost(E, known=f_known):
        ly = thermometer_to_binary(b, yge[1:], name="ly")
        F = bus_value(ly) + scale - M + 1
    return F, f_known


def or_net(b: NetlistBuilder, nets, name="or"):
    nets = [n for n in nets if n != CONST0]
    if not nets:
        return CONST0
    if CONST1 in nets:
        return CONST1
    return b.neuron([(n, 1) for n in nets], threshold=1, name=name)


def overflow_neuron(b: NetlistBuilder, frac, r, big, at_max, mmax):
    """``[rounded magnitude > max finite]``: the exponent field is past the largest
    (``big``), or at it (``at_max``) with the fraction plus the round-up terms ``r`` past its
    largest fraction ``mmax`` (all ones: ``frac`` full and ``r``)."""
    M = len(frac)
    if mmax == (1 << M) - 1:
        frc = b.neuron([(x, 1) for x in frac] + r, threshold=M + 1, name="mfull")
    else:
        frc = b.neuron([(x, 1 << i) for i, x in enumerate(frac)] + r, threshold=mmax + 1,
                       name="mfull")
    return b.neuron([(big, 2), (at_max, 1), (frc, 1)], threshold=2, name="ovf")


def pack_code(b: NetlistBuilder, fmt, policy, *, x, r, ovf, sign, nan=(), inf=(), zero=()):
    """Output code bits of ``x + r`` (``x`` the unrounded magnitude code, ``r`` the round-up
    as exclusive ``(net, weight)`` terms) with the special overrides folded into the output
    neurons: NaN gives the canonical NaN; ``ovf`` or an ``inf`` net the policy's overflow
    code (:func:`~spikegate.golden.formats.overflow_code`); a ``zero`` net (never set with
    a NaN or infinity) gives a zero of the result's sign. ``sign`` is ``(Lin, threshold)``.
    """
    fmt = get_format(fmt)
    width = len(x)
    nan = [q for q in nan if q != CONST0]
    big = [q for q in [ovf, *inf] if q != CONST0]
    zero = [q for q in zero if q != CONST0]
    with b.block("round"):
        carry = [r] + [[(b.neuron([(xi, 1) for xi in x[:k + 1]] + r, threshold=k + 2,
                                  name="c"), 1)] for k in range(width)]
    code, keeps_sign = overflow_code(fmt, policy)
    if not keeps_sign:
        nan, big = nan + big, []
    wb, wn = 2, 2 * len(big) + 2
    out = []
    with b.block("pack"):
        for k in range(width):
            pairs = [(x[k], 1)] + carry[k] + [(c, -2 * w) for c, w in carry[k + 1]]
            pairs += [(q, wb if (code >> k) & 1 else -wb) for q in big]
            pairs += [(q, wn if (fmt.canonical_nan >> k) & 1 else -wn) for q in nan]
            pairs += [(q, -2) for q in zero]
            out.append(b.neuron(pairs, threshold=1, name="y"))
        form, thr = sign
        kill = form.bounds()[1] - thr + 1
        out.append(b.neuron(form.pairs() + [(q, -kill) for q in nan],
                            threshold=thr - form.const, name="sign"))
    return tuple(out)


def round_pack(b: NetlistBuilder, fmt, policy: str, *, sig, scale: Lin, sign,
               sig_form: Lin | None = None, msb_min=0, scale_range=None, nan=(), inf=(),
               zero=()):
    """The code bits (LSB first) of ``(-1)^sign * Y * 2^scale`` in ``fmt``.

    Parameters
    ----------
    fmt : FloatFormat or str
        Any float format.
    policy : str
        Overflow policy (:data:`~spikegate.golden.formats.POLICIES`).
    sig : tuple of nets
        ``Y``, unsigned, LSB first. Its LSB may be a sticky bit (jammed) as long as the
        rounding position is always above it.
    scale : Lin
        ``u``: ``X = Y * 2^u`` in units of the smallest subnormal of ``fmt``.
    sign : (Lin, int)
        The sign bit as ``[form >= threshold]``; folded into the output neuron.
    sig_form : Lin, optional
        ``Y`` as a linear form: ``[Y >= 2^j]`` is then read from it (one level earlier).
    msb_min : int
        Promise that ``Y >= 2^msb_min`` whenever ``Y != 0`` and the result is not flushed to
        zero by the scale; it trims the shifter.
    scale_range : (int, int), optional
        The true range of ``scale`` when tighter than its form's bounds (it also trims).
    nan, inf, zero : nets
        Any of them set: the result is the canonical NaN / an infinite result (which
        follows the overflow policy, as overflow does) / a zero of the result's sign. NaN
        wins over infinity;
        a zero net is never set with either.
    """
    fmt = get_format(fmt)
    sig = tuple(sig)
    M, E = fmt.man_bits, fmt.exp_bits
    umin, umax = scale_range if scale_range is not None else scale.bounds()
    compact = fmt.width <= COMPACT_WIDTH

    select = select_and_round if compact else staged_select
    yge, frac, ups = select(b, sig, scale, M, sig_form=sig_form, msb_min=msb_min,
                            umin=umin, umax=umax)
    with b.block("normalise"):
        frac = [_or(b, terms, "frac") for terms in frac]
    if compact:                 # the up_k are exclusive: r is their plain sum
        r = [(u, 1) for u in ups]
    else:
        with b.block("round"):
            r_net = _or(b, ups, "r")
        r = [(r_net, 1)] if r_net != CONST0 else []

    with b.block("exponent"):
        F, f_known = exponent_form(b, yge, scale, M, E, umin=umin, umax=umax)
        pos = F.ge(b, 1, gate=yge[0], name="pos")
        fmax, mmax = fmt.max_code >> M, fmt.max_code & ((1 << M) - 1)
        lim = (1 << E) if compact else fmax + 1
        big = F.ge(b, lim, gate=yge[0], name="fbig") if f_known[1] >= lim else CONST0
        at_max = CONST0
        if not compact and f_known[1] >= fmax:
            at_max = F.ge(b, fmax, gate=yge[0], name="fmax")
        f = F.bits(b, E, gate=pos, known=f_known, name="f")

    x = list(frac) + list(f)
    with b.block("round"):
        if compact:             # overflow: the code's linear form past the largest
            top = fmt.max_code + 1
            ovf = b.neuron([(xi, 1 << i) for i, xi in enumerate(x)] + r + [(big, top)],
                           threshold=top, name="ovf")
        else:
            ovf = overflow_neuron(b, frac, r, big, at_max, mmax)
    return pack_code(b, fmt, policy, x=x, r=r, ovf=ovf, sign=sign, nan=nan, inf=inf,
                     zero=zero)


def round_fixed(b: NetlistBuilder, out, policy, *, mag, scale: int, sign, nan=(), inf=()):
    """Output code bits (LSB first) of ``(-1)^sign * mag * 2^scale`` rounded once.

    Parameters
    ----------
    out : OutFormat or str
        ``fp32``, ``fp16``, ``e4m3`` or ``e5m2``.
    policy : str
        Overflow policy (:func:`~spikegate.golden.formats.overflow_code`).
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
    out = get_format(out)
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
        ovf = overflow_neuron(b, frac, [(r, 1)] if r != CONST0 else [], big, at_max, mmax)

    x = list(frac) + list(f)
    return pack_code(b, out, policy, x=x, r=[(r, 1)] if r != CONST0 else [], ovf=ovf,
                     sign=(Lin.net(sign), 1), nan=nan, inf=inf)
