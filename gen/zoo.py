"""The zoo: every catalogue gate and block side by side in one netlist.

Simulators that compile (Verilator, Icarus) pay per design; putting the whole catalogue in
one module lets one build check every block exhaustively. Buses are prefixed with the
block name (``add_a``, ``add_y``...).
"""

from __future__ import annotations

from .builder import NetlistBuilder
from .catalog import CATALOG, build_block

__all__ = ["build_zoo", "zoo_members"]


def zoo_members(width=4):
    """(prefix, netlist) for every catalogue entry and variant at this width."""
    members = []
    for name, spec in CATALOG.items():
        for variant in spec.variants:
            if variant == "auto":
                continue  # same circuit as one of the explicit variants
            prefix = name if len(spec.variants) == 1 else f"{name}_{variant}"
            members.append((prefix, build_block(name, width=width, variant=variant)))
    return members


def build_zoo(width=4):
    b = NetlistBuilder(f"zoo_w{width}")
    for prefix, netlist in zoo_members(width):
        ins = {bus: b.input(f"{prefix}_{bus}", len(nets)) for bus, nets in netlist.inputs.items()}
        outs = b.embed(netlist, ins, block=prefix)
        for bus, nets in outs.items():
            b.output(f"{prefix}_{bus}", nets)
    netlist = b.build()
    netlist.meta.update(unit="zoo", width=width)
    return netlist
