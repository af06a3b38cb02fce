"""Format and policy arguments of the FP8 generators, checked once, and the wide IEEE formats.

The FP8 formats themselves (:class:`~spikegate.golden.fp8.Fp8Format`) and the policy names
come from the golden model, so hardware and reference cannot disagree on what ``e4m3``
or ``"torch"`` mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...golden.fp8 import POLICIES, Fp8Format, check_policy, get_format

__all__ = ["Fp8Format", "POLICIES", "resolve", "overflow_code", "IeeeFormat", "FP16", "FP32",
           "qexp"]


_EXACT = object()


def resolve(fmt, policy=_EXACT):
    """``(Fp8Format, policy)`` from what the caller passed; one-line errors name the choices.

    Without ``policy`` (exact units) the policy returned is ``None``.
    """
    fmt = get_format(fmt)
    return fmt, (None if policy is _EXACT else check_policy(policy))


def overflow_code(fmt: Fp8Format, policy: str):
    """``(magnitude code, keeps_sign)`` produced when a result overflows (or is infinite).

    ``torch``: e4m3 saturates to 448 (0x7E), e5m2 gives inf (0x7C); ``ocp``: e4m3 gives NaN
    (0x7F, unsigned: the canonical NaN), e5m2 inf; ``satfinite``: the largest finite value.
    """
    if policy == "satfinite" or (policy == "torch" and not fmt.has_inf):
        return fmt.max_code, True
    if fmt.has_inf:
        return fmt.inf_code, True
    return fmt.canonical_nan, False


def qexp(fmt: Fp8Format):
    """Exponent of the smallest subnormal: the unit every FP8 value is a multiple of."""
    return 1 - fmt.bias - fmt.man_bits


@dataclass(frozen=True)
class IeeeFormat:
    """A wide IEEE binary format (float16, float32) as the converters see it."""

    name: str
    exp_bits: int
    man_bits: int
    canonical_nan: int

    @property
    def width(self):
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self):
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def exp_all(self):
        return (1 << self.exp_bits) - 1


FP16 = IeeeFormat("fp16", 5, 10, 0x7E00)
FP32 = IeeeFormat("fp32", 8, 23, 0x7FC00000)
