"""Converters between FP8 and the wide IEEE formats (float16, float32).

Widening (FP8 -> fp16/fp32) is exact: :func:`~.widen.pack_exact` normalises subnormal
FP8 values. E5M2 -> fp16 needs no arithmetic at all (same exponent range: the FP8 code is
the top byte of the fp16 pattern); only NaN is canonicalised.

Narrowing (fp16/fp32 -> FP8) rounds to nearest even under an overflow policy through the
same :func:`~spikegate.gen.float_round.round_pack` as the multiplier and adder. The wide significand is
first cut to ``M + 3`` bits: hidden bit, ``M + 1`` mantissa bits and one sticky bit that
ORs (jams) everything below. The rounding position is always at least two bits above the
sticky bit, so the cut cannot change a rounding decision.
"""

from __future__ import annotations

from ..builder import NetlistBuilder
from ..netlist import CONST0, UNBOUNDED, Bounds, Netlist
from .fields import unpack
from ...golden.formats import FloatFormat as IeeeFormat
from .formats import FP16, FP32, qexp, resolve
from ..linear_form import Lin, bus_value
from ..float_round import round_pack, sign_spec
from .widen import pack_exact

__all__ = ["build_fp8_to_fp32", "build_fp8_to_fp16", "build_fp32_to_fp8", "build_fp16_to_fp8"]


def _widen(fmt, wide: IeeeFormat, bounds) -> Netlist:
    fmt, _ = resolve(fmt)
    b = NetlistBuilder(f"fp8_to_{wide.name}_{fmt.name}", bounds=bounds)
    a = b.input("a", 8)
    with b.block("unpack"):
        A = unpack(b, fmt, a)
    if wide == FP16 and fmt.exp_bits == FP16.exp_bits:
        # e5m2 is the top byte of fp16: copy it, canonicalising NaN to 0x7E00.
        with b.block("special"):
            m0 = b.neuron([(A.man[0], 1), (A.nan, -1)], threshold=1, name="m0")
            m1 = b.neuron([(A.man[1], 1), (A.nan, 1)], threshold=1, name="m1")
            s = b.neuron([(A.sign, 1), (A.nan, -1)], threshold=1, name="sign")
        y = (CONST0,) * 8 + (m0, m1) + tuple(A.exp) + (s,)
    else:
        with b.block("exponent"):
            scale = A.exponent() - fmt.bias - fmt.man_bits
        y = pack_exact(b, wide, sig=A.sig_bits, sig_form=A.significand(), scale=scale,
                       sign=sign_spec(A.sign), nan=[A.nan], inf=[A.inf])
    b.output("y", y)
    b.meta.update(unit=f"fp8-to-{wide.name}", format=fmt.name, policy="exact")
    return b.build()


def build_fp8_to_fp32(fmt, *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """Exact FP8 -> float32: ``a[8]`` -> ``y[32]``; NaN gives ``0x7FC00000``."""
    return _widen(fmt, FP32, bounds)


def build_fp8_to_fp16(fmt, *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """Exact FP8 -> float16: ``a[8]`` -> ``y[16]``; NaN gives ``0x7E00``.

    E5M2 is a plain bit extension (``y = a << 8``, NaN canonicalised); every E4M3 value,
    subnormals included, is a normal float16.
    """
    return _widen(fmt, FP16, bounds)


def _narrow(wide: IeeeFormat, fmt, policy, bounds) -> Netlist:
    fmt, policy = resolve(fmt, policy)
    M = fmt.man_bits
    We, Mw = wide.exp_bits, wide.man_bits
    b = NetlistBuilder(f"{wide.name}_to_fp8_{fmt.name}_{policy}", bounds=bounds)
    x = b.input("a", wide.width)
    frac, exp, sign = x[:Mw], x[Mw:Mw + We], x[-1]
    cut = Mw - M - 1                                    # low mantissa bits cut to sticky
    with b.block("unpack"):
        hidden = b.neuron([(e, 1) for e in exp], threshold=1, name="hidden")
        man_nz = b.neuron([(m, 1) for m in frac], threshold=1, name="mnz")
        nan = b.neuron([(e, 1) for e in exp] + [(man_nz, We)], threshold=2 * We, name="nan")
        inf = b.neuron([(e, 1) for e in exp] + [(man_nz, -We)], threshold=We, name="inf")
    with b.block("round"):
        sticky = b.neuron([(m, 1) for m in frac[:cut]], threshold=1, name="sticky")
    sig = (sticky,) + tuple(frac[cut:]) + (hidden,)     # ~ Y * 2^-(cut-1), M + 3 bits
    with b.block("exponent"):
        # X = Y * 2^u in units of the FP8 quantum; the exponent of a wide subnormal is 1.
        offset = wide.bias + Mw + qexp(fmt) - (cut - 1)
        scale = bus_value(exp) + 1 - Lin.net(hidden) - offset
    # Wide subnormals are flushed to zero by the scale unless the formats share their
    # exponent range (fp16 -> e5m2); only then can a non-zero Y have its MSB low.
    n = len(sig)
    flushed = offset - 1 >= n + 1                       # -scale of a wide subnormal
    assert flushed or offset - 1 >= 2, "a wide subnormal would round at the sticky bit"
    y = round_pack(b, fmt, policy, sig=sig, scale=scale,
                   scale_range=(1 - offset, wide.exp_all - offset),
                   msb_min=n - 1 if flushed else 0, sign=sign_spec(sign), nan=[nan],
                   inf=[inf])
    b.output("y", y)
    b.meta.update(unit=f"{wide.name}-to-fp8", format=fmt.name, policy=policy)
    return b.build()


def build_fp32_to_fp8(fmt, policy="torch", *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """float32 -> FP8, round to nearest even: ``a[32]`` -> ``y[8]``.

    Infinities follow the overflow policy like any overflow; NaN gives ``0x7F``; values
    that round to zero keep their sign.
    """
    return _narrow(FP32, fmt, policy, bounds)


def build_fp16_to_fp8(fmt, policy="torch", *, bounds: Bounds = UNBOUNDED) -> Netlist:
    """float16 -> FP8, round to nearest even: ``a[16]`` -> ``y[8]``.

    Same rules as :func:`build_fp32_to_fp8`.
    """
    return _narrow(FP16, fmt, policy, bounds)
