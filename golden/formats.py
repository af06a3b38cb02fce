"""The one model of a binary floating-point format, and the one table of overflow policies.

Every layer reads formats from here: the exact references (:mod:`.float_ref`,
:mod:`.fp8`), the generators (``gen/``), the baselines and the CLI. A format is
``1 + exp_bits + man_bits`` bits (sign, biased exponent, fraction), with gradual underflow
(subnormals at exponent field 0) and one of two conventions for the all-ones exponent:

``ieee``
    Infinity at ``S.1..1.0..0``, NaN at every other all-ones-exponent code (fp16, bf16, fp32,
    E5M2 and every custom ``eXmY``).
``fn``
    "Finite, one NaN" (OCP E4M3FN): no infinity; the all-ones exponent holds finite values
    and only ``S.1..1.1..1`` is NaN.

Named instances: ``e4m3`` (fn), ``e5m2``, ``fp16``, ``bf16``, ``fp32``; a custom ``eXmY``
(IEEE convention, bias ``2^(X-1) - 1``) is accepted wherever a named format is.

Canonical NaN: the one NaN code that hardware emits and goldens are normalised to (torch's
NaN sign is not stable): the positive quiet NaN with only the top fraction bit set
(``0x7E00`` fp16, ``0x7FC0`` bf16, ``0x7FC00000`` fp32), except that 8-bit formats use the
all-ones code ``0x7F``, which is what torch's FP8 casts give.

Overflow policies (:data:`POLICIES`) say what a result does whose rounded magnitude exceeds
the largest finite value, and what an infinite result does:

============  ===============  ==================
policy        ``ieee`` formats  ``fn`` formats
============  ===============  ==================
``torch``     infinity          saturate (largest finite, as torch's float8_e4m3fn cast)
``ocp``       infinity          NaN (the OCP spec's non-saturating conversion)
``satfinite`` saturate          saturate (as ``cvt.satfinite``: no infinity leaves the unit)
============  ===============  ==================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["FloatFormat", "FORMATS", "E4M3", "E5M2", "FP16", "BF16", "FP32", "POLICIES",
           "OVERFLOW", "get_format", "check_policy", "overflow_code", "format_choices"]

CONVENTIONS = ("ieee", "fn")

#: Custom ``eXmY`` limits: an exponent of at least 2 bits (so that finite values exist
#: beside inf/NaN), at least one fraction bit (so that a NaN exists), at most 64 bits.
EXP_RANGE, MAN_RANGE = (2, 11), (1, 52)

#: ``e11m52`` is IEEE binary64: the internal format of the fp32 norms (golden/norms.py),
#: computed by torch in float64, not a named I/O format of the units.
_TORCH_DTYPES = {"e4m3": "float8_e4m3fn", "e5m2": "float8_e5m2", "fp16": "float16",
                 "bf16": "bfloat16", "fp32": "float32", "e11m52": "float64"}


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: field widths, bias and special-value convention.

    Parameters
    ----------
    name : str
        How commands and reports name it (``"fp16"``, ``"e4m3"``, ``"e6m9"``).
    exp_bits, man_bits : int
        Widths of the biased-exponent and fraction fields.
    bias : int
        Exponent bias.
    convention : str
        ``"ieee"`` or ``"fn"`` (see the module documentation).
    """

    name: str
    exp_bits: int
    man_bits: int
    bias: int
    convention: str = "ieee"

    def __post_init__(self):
        if self.convention not in CONVENTIONS:
            raise ValueError(f"format convention {self.convention!r}: choose 'ieee' or 'fn'")
        if self.exp_bits < 1 or self.man_bits < 1:
            raise ValueError(f"format {self.name!r} needs at least one exponent and one "
                             f"fraction bit")

    # -- layout ---------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def has_inf(self) -> bool:
        return self.convention == "ieee"

    @property
    def is_fp8(self) -> bool:
        return self.width == 8

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal value (``1 - bias``)."""
        return 1 - self.bias

    @property
    def quantum_exp(self) -> int:
        """Exponent of the smallest subnormal: every finite value is a multiple of it."""
        return self.emin - self.man_bits

    @property
    def exp_all(self) -> int:
        """The all-ones exponent field."""
        return (1 << self.exp_bits) - 1

    @property
    def sign_bit(self) -> int:
        return 1 << (self.width - 1)

    @property
    def mag_mask(self) -> int:
        return self.sign_bit - 1

    # -- special codes ---------------------------------------------------------------------
    @property
    def max_code(self) -> int:
        """Largest finite magnitude code (``0x7E`` e4m3, ``0x7B`` e5m2, ``0x7BFF`` fp16)."""
        if self.has_inf:
            return ((self.exp_all - 1) << self.man_bits) | ((1 << self.man_bits) - 1)
        return self.mag_mask - 1

    @property
    def inf_code(self) -> int | None:
        """Code of ``+inf``, or ``None`` for a format without infinity."""
        return self.exp_all << self.man_bits if self.has_inf else None

    @property
    def canonical_nan(self) -> int:
        if self.width == 8 or not self.has_inf:
            return self.mag_mask
        return (self.exp_all << self.man_bits) | (1 << (self.man_bits - 1))

    @property
    def one_code(self) -> int:
        """Code of ``1.0``."""
        return self.bias << self.man_bits

    @property
    def max_value(self) -> Fraction:
        """Largest finite value, exactly."""
        f, m = self.max_code >> self.man_bits, self.max_code & ((1 << self.man_bits) - 1)
        return ((1 << self.man_bits) | m) * Fraction(2) ** (f - self.bias - self.man_bits)

    @property
    def min_subnormal(self) -> Fraction:
        return Fraction(2) ** self.quantum_exp

    def is_nan(self, code: int) -> bool:
        mag = code & self.mag_mask
        return mag > self.inf_code if self.has_inf else mag == self.mag_mask

    def is_inf(self, code: int) -> bool:
        return self.has_inf and (code & self.mag_mask) == self.inf_code

    @property
    def torch_dtype_name(self) -> str | None:
        """The matching ``torch`` dtype attribute, or ``None`` (custom formats)."""
        return _TORCH_DTYPES.get(self.name)

    def __str__(self):
        return self.name


E4M3 = FloatFormat("e4m3", 4, 3, 7, "fn")
E5M2 = FloatFormat("e5m2", 5, 2, 15)
FP16 = FloatFormat("fp16", 5, 10, 15)
BF16 = FloatFormat("bf16", 8, 7, 127)
FP32 = FloatFormat("fp32", 8, 23, 127)

#: The named formats.
FORMATS = {f.name: f for f in (E4M3, E5M2, FP16, BF16, FP32)}
_ALIASES = {"float16": FP16, "half": FP16, "bfloat16": BF16, "float32": FP32,
            "float8_e4m3fn": E4M3, "float8_e5m2": E5M2}
_CUSTOM = re.compile(r"e(\d+)m(\d+)")


def format_choices() -> str:
    return (f"{', '.join(FORMATS)} or eXmY ({EXP_RANGE[0]} <= X <= {EXP_RANGE[1]}, "
            f"{MAN_RANGE[0]} <= Y <= {MAN_RANGE[1]})")


def get_format(fmt) -> FloatFormat:
    """The :class:`FloatFormat` named by ``fmt`` (a format, a name, a torch dtype name or
    ``eXmY``); a custom ``eXmY`` equal to a named format is that format."""
    if isinstance(fmt, FloatFormat):
        return fmt
    if not isinstance(fmt, str):
        raise TypeError(f"a float format is a name, not {type(fmt).__name__}: choose "
                        f"{format_choices()}")
    key = fmt.strip().lower()
    if key in FORMATS:
        return FORMATS[key]
    if key in _ALIASES:
        return _ALIASES[key]
    m = _CUSTOM.fullmatch(key)
    if m:
        e, w = int(m.group(1)), int(m.group(2))
        if EXP_RANGE[0] <= e <= EXP_RANGE[1] and MAN_RANGE[0] <= w <= MAN_RANGE[1]:
            custom = FloatFormat(key, e, w, (1 << (e - 1)) - 1)
            for named in FORMATS.values():
                if named.has_inf and (named.exp_bits, named.man_bits) == (e, w):
                    return named
            return custom
    raise ValueError(f"unknown float format {fmt!r}: choose {format_choices()}")


#: What overflow (and an infinite result) gives, per policy and convention:
#: ``"inf"``, ``"max"`` (largest finite, sign kept) or ``"nan"`` (the canonical NaN).
OVERFLOW = {"torch": {"ieee": "inf", "fn": "max"},
            "ocp": {"ieee": "inf", "fn": "nan"},
            "satfinite": {"ieee": "max", "fn": "max"}}
POLICIES = tuple(OVERFLOW)


def check_policy(policy) -> str:
    if not isinstance(policy, str):
        raise TypeError(f"FP8 overflow policy must be a string, not {type(policy).__name__}: "
                        f"use 'torch', 'ocp' or 'satfinite'")
    if policy not in OVERFLOW:
        raise ValueError(f"unknown FP8 overflow policy {policy!r}: use 'torch', 'ocp' or "
                         f"'satfinite'")
    return policy


def overflow_code(fmt, policy) -> tuple[int, bool]:
    """``(magnitude code, keeps_sign)`` of an overflowing or infinite result."""
    fmt = get_format(fmt)
    rule = OVERFLOW[check_policy(policy)][fmt.convention]
    if rule == "inf":
        return fmt.inf_code, True
    if rule == "max":
        return fmt.max_code, True
    return fmt.canonical_nan, False
