"""Normalise, round to nearest even, apply the overflow policy and pack an FP8 code.

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
"""

from __future__ import annotations

from ..builder import NetlistBuilder
from ..count import thermometer_to_binary
from ..gates import or_
from ..netlist import CONST0, CONST1
from .formats import Fp8Format, overflow_code
from .linear import Lin, bus_value

__all__ = ["round_pack", "sign_spec", "select_and_round", "exponent_form"]


def sign_spec(net):
    """The sign of a result given as one net (see ``sign`` of :func:`round_pack`)."""
    return Lin.net(net), 1


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


def round_pack(b: NetlistBuilder, fmt: Fp8Format, policy: str, *, sig, scale: Lin, sign,
               sig_form: Lin | None = None, msb_min=0, scale_range=None, nan=(), inf=()):
    """The 8 bits (LSB first) of the FP8 code of ``(-1)^sign * Y * 2^scale``.

    Parameters
    ----------
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
    nan, inf : nets
        Any of them set: the result is the canonical NaN / an infinite result (which
        follows the overflow policy, as overflow does). NaN wins.
    """
    sig = tuple(sig)
    M, E = fmt.man_bits, fmt.exp_bits
    nan = [x for x in nan if x != CONST0]
    inf = [x for x in inf if x != CONST0]
    umin, umax = scale_range if scale_range is not None else scale.bounds()

    yge, frac, ups = select_and_round(b, sig, scale, M, sig_form=sig_form, msb_min=msb_min,
                                      umin=umin, umax=umax)
    # the up_k are exclusive (one per shift), so r is their plain sum and its readers take
    # the terms directly
    r = [(u, 1) for u in ups]
    with b.block("normalise"):
        frac = [_or(b, terms, "frac") for terms in frac]

    with b.block("exponent"):
        F, f_known = exponent_form(b, yge, scale, M, E, umin=umin, umax=umax)
        pos = F.ge(b, 1, gate=yge[0], name="pos")
        big_f = (F.ge(b, 1 << E, gate=yge[0], name="fbig") if f_known[1] >= (1 << E)
                 else CONST0)
        f = F.bits(b, E, gate=pos, known=f_known, name="f")

    with b.block("round"):
        x = list(frac) + list(f)                     # the 7-bit code before rounding
        carry = [r]
        for k in range(7):
            carry.append([(b.neuron([(xi, 1) for xi in x[:k + 1]] + r, threshold=k + 2,
                                    name="c"), 1)])
        top = fmt.max_code + 1
        ovf = b.neuron([(xi, 1 << i) for i, xi in enumerate(x)] + r + [(big_f, top)],
                       threshold=top, name="ovf")

    code, keeps_sign = overflow_code(fmt, policy)
    big = [ovf] + inf
    if not keeps_sign:
        nan, big = nan + big, []
    out = []
    with b.block("round"):
        for k in range(7):
            sets = nan + (big if (code >> k) & 1 else [])
            kills = [] if (code >> k) & 1 else big
            pairs = [(x[k], 1)] + carry[k] + [(c, -2 * w) for c, w in carry[k + 1]]
            pairs += [(s, 1 + len(kills)) for s in sets] + [(q, -1) for q in kills]
            out.append(b.neuron(pairs, threshold=1, name="y"))
    with b.block("special"):
        form, thr = sign
        kill = form.bounds()[1] - thr + 1
        pairs = form.pairs() + [(q, -kill) for q in nan]
        out.append(b.neuron(pairs, threshold=thr - form.const, name="sign"))
    return tuple(out)
