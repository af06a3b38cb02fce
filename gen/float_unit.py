"""The netlist of one float operation: ports ``a`` (and ``b``) -> ``y``, named and tagged.

Every any-format float builder (``fadd`` ... ``fsqrt``) goes through here, so their top names
(``<unit>_<format>_<policy>``), ports and ``meta`` (what the registry and report read) agree.
"""

from __future__ import annotations

from ..golden.formats import get_format
from .builder import NetlistBuilder
from .netlist import UNBOUNDED, Bounds, Netlist

__all__ = ["float_unit_netlist"]


def float_unit_netlist(unit, fmt, policy, op, *, arity=2, bounds: Bounds = UNBOUNDED,
                       **options) -> Netlist:
    """``op(b, fmt, policy, *operand_buses, **options)`` -> the output bits, as a netlist."""
    fmt = get_format(fmt)
    b = NetlistBuilder(f"{unit}_{fmt.name}_{policy}", bounds=bounds)
    operands = [b.input(port, fmt.width) for port in ("a", "b")[:arity]]
    b.output("y", op(b, fmt, policy, *operands, **options))
    b.meta.update(unit=unit, format=fmt.name, policy=policy)
    return b.build()
