"""IEEE-style float units of any width from neurons: adder, FP8 products and narrowing.

This generalises the FP8 adder of :mod:`spikegate.gen.fp8.adder` to ``fp16`` and ``fp32``
(and any :class:`~spikegate.golden.dot.OutFormat`), for the ``fp32``/``fp16``/``fp8``
accumulation modes of :mod:`spikegate.gen.dot`:

* :func:`round_pack_float` is :func:`spikegate.gen.fp8.rounding.round_pack` for any
  format: ``(-1)^s * Y * 2^u`` (``u`` a linear form, in units of the format's smallest
  subnormal) normalised, rounded to nearest even and packed, overflow and infinities by
  the format's rule (IEEE: infinity; FP8: the policy), NaN canonical;
* :func:`float_add`: correctly rounded ``a + b``. Swap by one magnitude comparator, exponent
  difference as two thermometers read by a decoded aligner with three guard bits and a
  jammed sticky bit (as the FP8 adder), then -- unlike the FP8 adder, whose 4-bit
  significands sum in one threshold block -- a parallel-prefix adder/subtractor, so no
  neuron needs a weight beyond the significand width;
* :func:`fp8_product` (``FP8 x FP8`` rounded once to the format) and :func:`narrow`
  (``fp32 -> fp16``), on the same rounding block.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..golden.dot import OutFormat, get_out_format
from .arith import add_sub
from .builder import NetlistBuilder
from .fp8.adder import GUARD_BITS, sum_specials, swap_and_align
from .fp8.formats import overflow_code
from .fp8.linear import Lin, bus_value
from .float_round import overflow_neuron
from .fp8.rounding import exponent_form, select_and_round
from .netlist import CONST0, Netlist

__all__ = ["FloatFields", "unpack_float", "round_pack_float", "float_add", "fp8_product",
           "narrow", "build_float_add", "GUARD_BITS"]


@dataclass(frozen=True)
class FloatFields:
    fmt: OutFormat
    bits: tuple
    sign: int
    exp: tuple
    man: tuple
    hidden: int
    nan: int
    inf: int
    zero: int

    @property
    def mag(self):
        return self.bits[:-1]

    def exponent(self) -> Lin:
        """Effective biased exponent ``max(e, 1)``."""
        return bus_value(self.exp) + 1 - Lin.net(self.hidden)

    @property
    def sig_bits(self):
        return tuple(self.man) + (self.hidden,)


def unpack_float(b: NetlistBuilder, fmt, bits) -> FloatFields:
    """Fields and flags (level 1) of an IEEE-style bus (fp16/fp32; E5M2 too)."""
    fmt = get_out_format(fmt)
    bits = tuple(bits)
    M, E = fmt.man_bits, fmt.exp_bits
    man, exp, sign = bits[:M], bits[M:M + E], bits[-1]
    hidden = b.neuron([(x, 1) for x in exp], threshold=1, name="hidden")
    zero = b.neuron([(x, -1) for x in bits[:-1]], threshold=0, name="zero")
    if fmt.has_inf:
        nan = b.neuron([(x, M) for x in exp] + [(x, 1) for x in man], threshold=M * E + 1,
                       name="nan")
        inf = b.neuron([(x, 1) for x in exp] + [(x, -1) for x in man], threshold=E, name="inf")
    else:                                            # e4m3: S.1111.111 only
        nan = b.neuron([(x, 1) for x in bits[:-1]], threshold=M + E, name="nan")
        inf = CONST0
    return FloatFields(fmt, bits, sign, exp, man, hidden, nan, inf, zero)


def _or(b, nets, name):
    nets = [n for n in nets if n != CONST0]
    if not nets:
        return CONST0
    return b.neuron([(n, 1) for n in nets], threshold=1, name=name)


def round_pack_float(b: NetlistBuilder, fmt, policy, *, sig, scale: Lin, sign,
                     sig_form: Lin | None = None, msb_min=0, scale_range=None, nan=(), inf=()):
    """Code bits of ``(-1)^sign * Y * 2^scale`` (``scale`` in units of the smallest
    subnormal of ``fmt``); see :func:`spikegate.gen.fp8.rounding.round_pack`, of which this
    is the any-format version (``sign`` is ``(Lin, threshold)``)."""
    fmt = get_out_format(fmt)
    sig = tuple(sig)
    M, E = fmt.man_bits, fmt.exp_bits
    width = M + E
    nan = [x for x in nan if x != CONST0]
    inf = [x for x in inf if x != CONST0]
    umin, umax = scale_range if scale_range is not None else scale.bounds()

    yge, frac, ups = select_and_round(b, sig, scale, M, sig_form=sig_form, msb_min=msb_min,
                                      umin=umin, umax=umax)
    with b.block("normalise"):
        frac = [_or(b, terms, "frac") for terms in frac]
    with b.block("round"):
        r = _or(b, ups, "r")

    with b.block("exponent"):
        F, f_known = exponent_form(b, yge, scale, M, E, umin=umin, umax=umax)
        pos = F.ge(b, 1, gate=yge[0], name="pos")
        fmax, mmax = fmt.max_code >> M, fmt.max_code & ((1 << M) - 1)
        big = (F.ge(b, fmax + 1, gate=yge[0], name="fbig") if f_known[1] >= fmax + 1
               else CONST0)
        at_max = F.ge(b, fmax, gate=yge[0], name="fmax") if f_known[1] >= fmax else CONST0
        f = F.bits(b, E, gate=pos, known=f_known, name="f")

    x = list(frac) + list(f)
    with b.block("round"):
        ovf = overflow_neuron(b, frac, r, big, at_max, mmax)
        carry = [r] + [b.neuron([(xi, 1) for xi in x[:k + 1]] + [(r, 1)], threshold=k + 2,
                                name="c") for k in range(width)]
    if fmt.fp8 is not None:
        ov_code, keeps_sign = overflow_code(fmt.fp8, policy)
    else:
        ov_code, keeps_sign = fmt.inf_code, True
    big_nets = [ovf] + inf
    if not keeps_sign:
        nan, big_nets = nan + big_nets, []
    wb, wn = 2, 2 * len(big_nets) + 2
    out = []
    with b.block("pack"):
        for k in range(width):
            pairs = [(x[k], 1), (carry[k], 1), (carry[k + 1], -2)]
            pairs += [(q, wb if (ov_code >> k) & 1 else -wb) for q in big_nets]
            pairs += [(q, wn if (fmt.canonical_nan >> k) & 1 else -wn) for q in nan]
            out.append(b.neuron(pairs, threshold=1, name="y"))
        form, thr = sign
        kill = form.bounds()[1] - thr + 1
        out.append(b.neuron(form.pairs() + [(q, -kill) for q in nan],
                            threshold=thr - form.const, name="sign"))
    return tuple(out)


def float_add(b: NetlistBuilder, fmt, policy, a_bits, b_bits, *, name="add"):
    """Correctly rounded ``a + b`` in ``fmt`` (both operands and the result in ``fmt``)."""
    fmt = get_out_format(fmt)
    M, E, G = fmt.man_bits, fmt.exp_bits, GUARD_BITS
    with b.block(name):
        with b.block("unpack"):
            A, B = unpack_float(b, fmt, a_bits), unpack_float(b, fmt, b_bits)
        with b.block("align"):
            al = swap_and_align(b, A, B, M, G, large_nets=True)
            xs = [_or(b, terms, "xs") for terms in al.terms]
        with b.block("add"):
            big = (CONST0,) * G + tuple(al.large[:M]) + (al.hbig,)
            ybits, carry = add_sub(b, big + (CONST0,), tuple(xs) + (CONST0,), al.sub,
                                   variant="prefix")
            ybits = tuple(ybits)                         # M + G + 2 bits, non-negative
        with b.block("exponent"):
            e_big = sum((Lin.net(x, 1 << i) for i, x in enumerate(al.large[M:])),
                        1 - Lin.net(al.hbig))
            scale = e_big - 1 - G
        with b.block("special"):
            sign, nan = sum_specials(b, A, B, al, E, fmt.has_inf)
        e_top = (1 << E) - 1
        return round_pack_float(b, fmt, policy, sig=ybits, scale=scale,
                                scale_range=(-G, e_top - 1 - G), sign=sign, nan=nan,
                                inf=[A.inf, B.inf])


def fp8_product(b: NetlistBuilder, fmt8, out, policy, X, W):
    """``round(x * w)`` into ``out`` from unpacked FP8 operands (:class:`Fp8Fields`)."""
    from .fp8.multiplier import _xor_spec, significand_product
    out = get_out_format(out)
    M8 = fmt8.man_bits
    with b.block("product"):
        pbits, pform = significand_product(b, X, W)
    with b.block("special"):
        sign = _xor_spec(b, X.sign, W.sign)
        nan = [X.nan, W.nan]
        if fmt8.has_inf:
            for P, Q in ((X, W), (W, X)):
                nan.append(b.neuron([(e, 1) for e in P.exp] + [(m, -1) for m in P.man]
                                    + [(v, -1) for v in Q.mag], threshold=fmt8.exp_bits,
                                    name="infzero"))
    q_out = 1 - out.bias - out.man_bits
    off = 2 * (fmt8.bias + M8) + q_out
    with b.block("exponent"):
        scale = X.exponent() + W.exponent() - off
    emax = (1 << fmt8.exp_bits) - 1
    return round_pack_float(b, out, policy, sig=pbits, sig_form=pform, scale=scale,
                            scale_range=(2 - off, 2 * emax - off), sign=sign, nan=nan,
                            inf=[X.inf, W.inf])


def narrow(b: NetlistBuilder, src, dst, policy, bits):
    """Round a ``src`` code to ``dst`` (``fp32 -> fp16``, ``fp32/fp16 -> fp8``)."""
    src, dst = get_out_format(src), get_out_format(dst)
    F = unpack_float(b, src, bits)
    Ms, Md = src.man_bits, dst.man_bits
    cut = max(Ms - Md - 1, 0)
    with b.block("round"):
        sticky = _or(b, F.man[:cut], "sticky") if cut else CONST0
    sig = ((sticky,) if cut else ()) + tuple(F.man[cut:]) + (F.hidden,)
    q_dst = 1 - dst.bias - Md
    offset = src.bias + Ms - (cut - 1 if cut else 0) + q_dst
    with b.block("exponent"):
        scale = F.exponent() - offset
    return round_pack_float(b, dst, policy, sig=sig, scale=scale,
                            sign=(Lin.net(F.sign), 1), nan=[F.nan], inf=[F.inf])


def build_float_add(fmt, *, policy="torch") -> Netlist:
    """Adder netlist ``y = round(a + b)`` for ``fp32``/``fp16`` (ports ``a``, ``b``, ``y``)."""
    fmt = get_out_format(fmt)
    b = NetlistBuilder(f"float_add_{fmt.name}")
    a = b.input("a", fmt.width)
    c = b.input("b", fmt.width)
    b.output("y", float_add(b, fmt, policy, a, c))
    b.meta.update(unit="float-add", format=fmt.name, policy=policy)
    return b.build()
