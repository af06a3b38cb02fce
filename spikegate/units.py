"""Every unit the CLI can generate, by name: catalogue blocks and the FP8 operators."""

from __future__ import annotations

from .gen.catalog import CATALOG, build_block
from .gen.netlist import Bounds

__all__ = ["UNITS", "build_unit"]

FP8_UNITS = ("fp8-mul", "fp8-add")
LINEAR_UNITS = ("dot", "linear", "relu")
UNITS = tuple(CATALOG) + FP8_UNITS + LINEAR_UNITS


def build_unit(unit, *, width=4, variant=None, fmt="e4m3", policy="torch", bounds=Bounds()):
    """The netlist of ``unit`` with its options; one-line errors name the choices."""
    if unit in CATALOG:
        return build_block(unit, width=width, variant=variant, bounds=bounds)
    if unit in FP8_UNITS:
        from .gen.fp8 import build_fp8_add, build_fp8_mul
        build = build_fp8_mul if unit == "fp8-mul" else build_fp8_add
        return build(fmt, policy=policy, bounds=bounds)
    if unit == "relu":
        from .gen.dot import build_relu
        return build_relu(fmt)
    if unit in ("dot", "linear"):
        raise ValueError(f"unit {unit!r} takes --in/--out/--accum: see `spikegate generate "
                         f"{unit} --help`")
    raise ValueError(f"unknown unit {unit!r}: choose one of {', '.join(UNITS)}")
