"""Format and policy arguments of the FP8 generators, checked once.

The FP8 formats themselves (:class:`~spikegate.golden.fp8.Fp8Format`) and the policy names
come from the golden model, so hardware and reference cannot disagree on what ``e4m3``
or ``"torch"`` mean.
"""

from __future__ import annotations

from ...golden.formats import FP16, FP32, overflow_code
from ...golden.fp8 import POLICIES, Fp8Format, check_policy, get_format

__all__ = ["Fp8Format", "POLICIES", "resolve", "overflow_code", "FP16", "FP32",
           "qexp"]


_EXACT = object()


def resolve(fmt, policy=_EXACT):
    """``(Fp8Format, policy)`` from what the caller passed; one-line errors name the choices.

    Without ``policy`` (exact units) the policy returned is ``None``.
    """
    fmt = get_format(fmt)
    return fmt, (None if policy is _EXACT else check_policy(policy))


def qexp(fmt: Fp8Format):
    """Exponent of the smallest subnormal: the unit every FP8 value is a multiple of."""
    return 1 - fmt.bias - fmt.man_bits


