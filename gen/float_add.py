"""Any-format float addition, subtraction and conversion from neurons (and the FP8 products
of the dot products), on the one unpack and the one rounding block.

* :func:`unpack_float`: fields and special-value flags of a code, one neuron level;
* :func:`float_add`: correctly rounded ``a + b`` (``a - b`` with one inverter on ``b``'s
  sign). Swap by one magnitude comparator, exponent difference as two thermometers read by
  a decoded aligner with three guard bits and a jammed sticky bit (as the FP8 adder), then
  -- unlike the FP8 adder, whose 4-bit significands sum in one threshold block -- a
  block-carry adder/subtractor (:func:`signed_block_add`: ``x + a - 2 (a and sub)`` with
  one carry-or-borrow neuron and one sum neuron a bit) for formats wider than 8 bits, a
  parallel-prefix one for narrower, so no neuron of the sum needs a large weight;
  :func:`~spikegate.gen.float_round.round_pack` normalises, rounds and packs;
* :func:`float_convert`: any format to any other (exact widening, RNE narrowing);
* :func:`fp8_product`: ``FP8 x FP8`` rounded once into any format, for the dot products.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..golden.formats import FloatFormat as OutFormat
from ..golden.formats import get_format as get_out_format
from .arith import add_sub
from .builder import NetlistBuilder
from .fp8.adder import GUARD_BITS, sum_specials, swap_and_align
from .float_round import COMPACT_WIDTH, round_pack, xor_sign
from .float_unit import float_unit_netlist
from .linear_form import Lin, bus_value
from .netlist import CONST0, UNBOUNDED, Bounds, Netlist

__all__ = ["FloatFields", "unpack_float", "float_add", "fp8_product",
           "float_convert", "signed_block_add", "build_fadd", "build_fsub", "build_fconvert",
           "GUARD_BITS"]


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


def signed_block_add(b: NetlistBuilder, x, a, neg, sub, *, block=8):
    """Bits of ``x + a - 2 neg`` (``neg_i = a_i and sub``: ``x + a`` or ``x - a``), known
    non-negative and below ``2^width``, with block carries and no operand inverters.

    With ``L_k`` the value of the low ``k`` bits' terms, the carry (adding) or borrow
    (subtracting) into bit ``k`` is ``floor(L_k / 2^k)`` in ``{0, 1}`` or ``{-1, 0}``, so
    ``f_k = [L_k + 2^k sub >= 2^k]`` (one neuron, read from the block's carry-in
    ``f_k0 - sub``: weights up to ``2^(block+1)``) is it plus ``sub``, and bit ``k`` is
    ``[x_k + a_k - 2 neg_k + f_k - 2 f_(k+1) + sub >= 1]``.
    """
    W = len(x)
    f = [sub] + [None] * W
    for k in range(1, W):
        k0 = ((k - 1) // block) * block
        pairs = []
        for j in range(k0, k):
            pairs += [(x[j], 1 << (j - k0)), (a[j], 1 << (j - k0)), (neg[j], -(2 << (j - k0)))]
        span = 1 << (k - k0)
        if k0:
            pairs += [(f[k0], 1), (sub, span - 1)]
        else:
            pairs += [(sub, span)]
        f[k] = b.neuron(pairs, threshold=span, name="f")
    f[W] = sub
    return tuple(b.neuron([(x[k], 1), (a[k], 1), (neg[k], -2), (f[k], 1), (f[k + 1], -2),
                           (sub, 1)], threshold=1, name="s") for k in range(W))


def float_add(b: NetlistBuilder, fmt, policy, a_bits, b_bits, *, name="add",
              subtract=False):
    """Correctly rounded ``a + b`` (``a - b`` with ``subtract``) in ``fmt``."""
    fmt = get_out_format(fmt)
    M, E, G = fmt.man_bits, fmt.exp_bits, GUARD_BITS
    b_bits = tuple(b_bits)
    with b.block(name):
        if subtract:                                 # a - b = a + (-b): one inverter
            with b.block("unpack"):
                b_bits = b_bits[:-1] + (b.neuron([(b_bits[-1], -1)], threshold=0,
                                                 name="negb"),)
        with b.block("unpack"):
            A, B = unpack_float(b, fmt, a_bits), unpack_float(b, fmt, b_bits)
        wide = fmt.width > COMPACT_WIDTH
        with b.block("align"):
            al = swap_and_align(b, A, B, M, G, large_nets=True)
            xs = [_or(b, terms, "xs") for terms in al.terms]
            if wide:         # [xs_i and sub], from the AND terms (no extra level)
                neg = [b.neuron([(t, 1) for t in terms] + [(al.sub, len(terms))],
                                threshold=len(terms) + 1, name="neg") if terms else CONST0
                       for terms in al.terms]
        with b.block("add"):
            big = (CONST0,) * G + tuple(al.large[:M]) + (al.hbig,)
            if wide:
                ybits = signed_block_add(b, big + (CONST0,), xs + [CONST0],
                                         neg + [CONST0], al.sub)
            else:
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
        return round_pack(b, fmt, policy, sig=ybits, scale=scale,
                                scale_range=(-G, e_top - 1 - G), sign=sign, nan=nan,
                                inf=[A.inf, B.inf])


def fp8_product(b: NetlistBuilder, fmt8, out, policy, X, W):
    """``round(x * w)`` into ``out`` from unpacked FP8 operands (:class:`Fp8Fields`)."""
    from .fp8.multiplier import significand_product
    out = get_out_format(out)
    M8 = fmt8.man_bits
    with b.block("product"):
        pbits, pform = significand_product(b, X, W)
    with b.block("special"):
        sign = xor_sign(b, X.sign, W.sign)
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
    return round_pack(b, out, policy, sig=pbits, sig_form=pform, scale=scale,
                            scale_range=(2 - off, 2 * emax - off), sign=sign, nan=nan,
                            inf=[X.inf, W.inf])


def float_convert(b: NetlistBuilder, src, dst, policy, bits):
    """A ``src`` code in ``dst``: exact when ``dst`` holds every ``src`` value, else rounded
    to nearest even (the low source bits that cannot matter jammed into one sticky bit);
    :func:`round_pack` normalises source subnormals and makes destination ones."""
    src, dst = get_out_format(src), get_out_format(dst)
    F = unpack_float(b, src, bits)
    Ms, Md = src.man_bits, dst.man_bits
    cut = max(Ms - Md - 1, 0)
    if dst.quantum_exp - src.quantum_exp < cut + 1:
        cut = 0          # dst resolves src's smallest values: a sticky there would be read
    with b.block("round"):
        sticky = _or(b, F.man[:cut], "sticky") if cut else CONST0
    sig = ((sticky,) if cut else ()) + tuple(F.man[cut:]) + (F.hidden,)
    q_dst = 1 - dst.bias - Md
    offset = src.bias + Ms - (cut - 1 if cut else 0) + q_dst
    with b.block("exponent"):
        scale = F.exponent() - offset
    return round_pack(b, dst, policy, sig=sig, scale=scale,
                            sign=(Lin.net(F.sign), 1), nan=[F.nan], inf=[F.inf])


def build_fadd(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a + b)`` in any float format (ports ``a``, ``b`` -> ``y``)."""
    return float_unit_netlist("fadd", fmt, policy, float_add, bounds=bounds)


def build_fsub(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = round(a - b)`` in any float format (ports ``a``, ``b`` -> ``y``)."""
    return float_unit_netlist("fsub", fmt, policy, float_add, bounds=bounds, name="sub",
                              subtract=True)


def build_fconvert(src, dst, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """``y = a`` converted from ``src`` to ``dst`` (port ``a`` -> ``y``)."""
    src, dst = get_out_format(src), get_out_format(dst)
    if src == dst:
        raise ValueError(f"fconvert from {src.name} to itself: choose a different --to format")
    b = NetlistBuilder(f"fconvert_{src.name}_to_{dst.name}_{policy}", bounds=bounds)
    b.output("y", float_convert(b, src, dst, policy, b.input("a", src.width)))
    b.meta.update(unit="fconvert", format=src.name, to=dst.name, policy=policy)
    return b.build()
