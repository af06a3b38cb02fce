"""Every unit the CLI can generate, by name: catalogue blocks and the FP8 operators."""

from __future__ import annotations

from .gen.catalog import CATALOG, build_block
from .gen.netlist import Bounds

__all__ = ["UNITS", "build_unit", "fp8_variants"]

FP8_UNITS = ("fp8-mul", "fp8-add")
#: converters: exact widening, rounding narrowing (with the overflow policy), exact product
CONVERTERS = ("fp8-to-fp32", "fp8-to-fp16", "fp32-to-fp8", "fp16-to-fp8", "fp8-mul-fp32")
LINEAR_UNITS = ("dot", "linear", "relu", "mlp")
UNITS = tuple(CATALOG) + FP8_UNITS + CONVERTERS + LINEAR_UNITS


def fp8_variants(unit):
    """The architectures of an FP8 unit, by variant name: ``default`` (few neuron levels,
    wide neurons), ``shallow`` (multiplier: five levels, every rounding decision one
    threshold on the significand product), ``lean`` (neurons of fan-in <= 4 in gate-level
    structures: fewest FPGA LUTs)."""
    from .gen import fp8
    if unit == "fp8-mul":
        return {"default": fp8.build_fp8_mul, "shallow": fp8.build_fp8_mul_shallow,
                "lean": fp8.build_fp8_mul_lean}
    return {"default": fp8.build_fp8_add, "lean": fp8.build_fp8_add_lean}


def build_unit(unit, *, width=4, variant=None, fmt="e4m3", policy="torch", bounds=Bounds()):
    """The netlist of ``unit`` with its options; one-line errors name the choices."""
    if unit in CATALOG:
        return build_block(unit, width=width, variant=variant, bounds=bounds)
    if unit in FP8_UNITS:
        variants = fp8_variants(unit)
        build = variants.get(variant or "default")
        if build is None:
            raise ValueError(f"unknown variant {variant!r} of {unit}: choose one of "
                             f"{', '.join(variants)}")
        return build(fmt, policy=policy, bounds=bounds)
    if unit in CONVERTERS:
        from .gen import fp8
        build = {"fp8-to-fp32": fp8.build_fp8_to_fp32, "fp8-to-fp16": fp8.build_fp8_to_fp16,
                 "fp32-to-fp8": fp8.build_fp32_to_fp8, "fp16-to-fp8": fp8.build_fp16_to_fp8,
                 "fp8-mul-fp32": fp8.build_fp8_mul_fp32}[unit]
        if unit.endswith("-to-fp8"):               # narrowing rounds: the policy applies
            return build(fmt, policy, bounds=bounds)
        return build(fmt, bounds=bounds)
    if unit == "relu":
        from .gen.dot import build_relu
        return build_relu(fmt)
    if unit in ("dot", "linear", "mlp"):
        raise ValueError(f"unit {unit!r} takes --in/--out/--accum (mlp: --model): see "
                         f"`spikegate generate --help`")
    raise ValueError(f"unknown unit {unit!r}: choose one of {', '.join(UNITS)}")
