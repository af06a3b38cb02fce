"""FP8 arithmetic units as neuron netlists: multiplier, adder and converters.

Every builder returns a :class:`~spikegate.gen.netlist.Netlist` with input buses ``a``
(and ``b``) and output bus ``y``; NaN results are always the canonical ``0x7F``
(``0x7FC00000`` / ``0x7E00`` in the wide formats).
"""

from .adder import build_fp8_add
from .convert import (build_fp8_to_fp16, build_fp8_to_fp32, build_fp16_to_fp8,
                      build_fp32_to_fp8)
from .multiplier import build_fp8_mul, build_fp8_mul_fp32

__all__ = ["build_fp8_mul", "build_fp8_add", "build_fp8_mul_fp32", "build_fp8_to_fp32",
           "build_fp8_to_fp16", "build_fp32_to_fp8", "build_fp16_to_fp8"]
