"""FP8 arithmetic units as neuron netlists: multiplier, adder and converters.

Three architectures of the operators, for three cost models: the default ones (few neuron
levels from wide neurons), the depth-5 multiplier (:mod:`.shallow_multiplier`, fewest
levels: the products of FP8 dot products) and the FPGA-lean ones (:mod:`.lean`, neurons of
fan-in <= 4: fewest LUTs).

Every builder returns a :class:`~spikegate.gen.netlist.Netlist` with input buses ``a``
(and ``b``) and output bus ``y``; NaN results are always the canonical ``0x7F``
(``0x7FC00000`` / ``0x7E00`` in the wide formats).
"""

from .adder import build_fp8_add
from .convert import (build_fp8_to_fp16, build_fp8_to_fp32, build_fp16_to_fp8,
                      build_fp32_to_fp8)
from .multiplier import build_fp8_mul, build_fp8_mul_fp32
from .shallow_multiplier import build_fp8_mul_shallow
from .lean import build_fp8_add_lean, build_fp8_mul_lean

__all__ = ["build_fp8_mul", "build_fp8_mul_shallow", "build_fp8_add", "build_fp8_mul_lean",
           "build_fp8_add_lean", "build_fp8_mul_fp32", "build_fp8_to_fp32", "build_fp8_to_fp16", "build_fp32_to_fp8",
           "build_fp16_to_fp8"]
