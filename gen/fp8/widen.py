"""Exact packing into a wide IEEE format (float16 / float32): normalise, no rounding.

An unsigned integer ``Y`` and a scale ``u`` (a linear form) stand for ``Y * 2^u``. When
the wide format holds every such value as a normal number (FP8 values and FP8 x FP8
products in float32, E4M3 values in float16), packing is a left shift by the leading-zero
count plus an exponent sum:

* ``[Y >= 2^j]``: one neuron each (a thermometer of the leading-one position ``Ly``);
* mantissa bit ``t`` below the hidden bit: ``OR_j (Y_(j-1-t) and [Ly = j])``, each AND one
  neuron reading the thermometer directly;
* exponent field ``Ly + u + bias``: two levels of :meth:`Lin.bits`, gated to 0 for ``Y = 0``
  and forced to all ones for NaN and infinity.
"""

from __future__ import annotations

from ..builder import NetlistBuilder
from ..netlist import CONST0
from ...golden.formats import FloatFormat as IeeeFormat
from ..linear_form import Lin

__all__ = ["pack_exact"]


def pack_exact(b: NetlistBuilder, wide: IeeeFormat, *, sig, scale: Lin, sign,
               sig_form: Lin | None = None, nan=(), inf=()):
    """Bits (LSB first) of the ``wide`` encoding of ``(-1)^sign * Y * 2^scale``.

    The caller guarantees the value is zero or a normal number of ``wide`` with at most
    ``wide.man_bits + 1`` significant bits. ``sign`` is ``(Lin, threshold)`` as in
    :func:`~spikegate.gen.float_round.round_pack`. NaN gives ``wide.canonical_nan``; ``inf`` +-infinity.
    """
    sig = tuple(sig)
    n = len(sig)
    Mw = wide.man_bits
    if n > Mw + 1:
        raise ValueError(f"{n}-bit significand does not fit the {Mw}-bit mantissa of {wide.name}")
    nan = [x for x in nan if x != CONST0]
    inf = [x for x in inf if x != CONST0]
    lo, hi = scale.bounds()
    if lo + wide.bias < 1 or hi + n - 1 + wide.bias >= wide.exp_all:
        raise ValueError(f"exponent range {lo}..{hi + n - 1} is not normal in {wide.name}")

    with b.block("normalise"):
        if sig_form is not None:
            yge = [sig_form.ge(b, 1 << j, name="yge") for j in range(n)] + [CONST0]
        else:
            yge = [b.neuron([(x, 1) for x in sig[j:]], threshold=1, name="yge")
                   for j in range(n)] + [CONST0]
        man = [CONST0] * Mw
        specials = nan + inf
        for t in range(n - 1):               # mantissa bit Mw-1-t
            terms = [b.neuron([(sig[j - 1 - t], 1), (yge[j], 1), (yge[j + 1], -1)],
                              threshold=2, name="sel")
                     for j in range(t + 1, n)]
            kills = specials if t else inf   # NaN keeps the top mantissa bit set
            sets = nan if t == 0 else []
            pairs = ([(x, 1) for x in terms] + [(q, -1) for q in kills]
                     + [(s, 1 + len(kills)) for s in sets])
            man[Mw - 1 - t] = b.neuron(pairs, threshold=1, name="man")
        if n == 1:
            man[Mw - 1] = b.neuron([(s, 1) for s in nan], threshold=1, name="man")

    with b.block("exponent"):
        field = Lin([(y, 1) for y in yge[1:n]]) + scale + wide.bias
        exp = field.bits(b, wide.exp_bits, gate=yge[0], sets=specials, name="e")

    with b.block("special"):
        form, thr = sign
        kill = form.bounds()[1] - thr + 1
        pairs = form.pairs() + [(q, -kill) for q in nan]
        s = b.neuron(pairs, threshold=thr - form.const, name="sign")
    return tuple(man) + tuple(exp) + (s,)
