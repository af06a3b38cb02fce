"""Regressions: which vectors a design gets and what its golden says they should give.

The design's netlist carries ``meta['unit']`` (set by its generator); that names its golden:
catalogue blocks use the integer models of :mod:`spikegate.golden.logic`, FP8 units the
PyTorch golden. Input spaces of up to 2^20 vectors are run exhaustively.
"""

from __future__ import annotations

import numpy as np

from ..gen.catalog import CATALOG
from ..gen.netlist import Netlist
from ..gen.zoo import zoo_members

__all__ = ["exhaustive_inputs", "golden_outputs", "EXHAUSTIVE_LIMIT"]

EXHAUSTIVE_LIMIT = 1 << 20


def exhaustive_inputs(netlist: Netlist, *, limit=EXHAUSTIVE_LIMIT):
    """Every combination of input-bus values (first bus varies slowest).

    For the zoo, every member's own input space, cycled to the length of the largest.
    """
    if netlist.meta.get("unit") == "zoo":
        members = [(p, exhaustive_inputs(m)) for p, m in zoo_members(netlist.meta["width"])]
        count = max(len(next(iter(v.values()))) for _, v in members)
        return {f"{p}_{bus}": np.resize(arr, count) for p, v in members for bus, arr in v.items()}
    widths = {bus: len(nets) for bus, nets in netlist.inputs.items()}
    total_bits = sum(widths.values())
    if (1 << total_bits) > limit:
        raise ValueError(f"{netlist.name} has {total_bits} input bits: too many vectors for an "
                         f"exhaustive run (limit {limit}); use random vectors")
    index = np.arange(1 << total_bits, dtype=np.uint64)
    out, shift = {}, total_bits
    for bus, w in widths.items():
        shift -= w
        out[bus] = (index >> np.uint64(shift)) & np.uint64((1 << w) - 1)
    return out


def golden_outputs(netlist: Netlist, inputs: dict):
    """Expected output buses for ``inputs``, from the golden of the netlist's unit."""
    unit = netlist.meta.get("unit")
    if unit == "zoo":
        expected = {}
        for p, member in zoo_members(netlist.meta["width"]):
            mine = {bus: inputs[f"{p}_{bus}"] for bus in member.inputs}
            expected.update({f"{p}_{bus}": v for bus, v in golden_outputs(member, mine).items()})
        return expected
    if unit in CATALOG:
        expected = CATALOG[unit].golden({k: np.asarray(v, dtype=np.int64)
                                         for k, v in inputs.items()}, netlist.meta["width"])
        return {k: np.asarray(v).astype(np.uint64) for k, v in expected.items()}
    if unit in ("fp8-mul", "fp8-add"):
        from ..golden.torch_ref import golden_add, golden_mul
        fn = golden_mul if unit == "fp8-mul" else golden_add
        y = fn(netlist.meta["format"], np.asarray(inputs["a"], dtype=np.uint8),
               np.asarray(inputs["b"], dtype=np.uint8), policy=netlist.meta["policy"])
        return {"y": np.asarray(y).astype(np.uint64)}
    raise ValueError(f"netlist {netlist.name!r} has no known golden (unit {unit!r}): "
                     f"generate it with spikegate so its report names the unit")
