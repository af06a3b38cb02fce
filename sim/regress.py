"""Regressions: which vectors a design gets and what its golden says they should give.

The design's netlist carries ``meta['unit']`` (set by its generator); that names its golden:
catalogue blocks use the integer models of :mod:`spikegate.golden.logic`, FP8 units and
converters the PyTorch golden (the exact tables of :mod:`spikegate.golden.fp8` for the
policies torch does not implement). Input spaces of up to 2^20 vectors are run
exhaustively; the float32 -> FP8 converter gets seeded samples concentrated where FP8
rounds (:func:`float32_patterns`). Dot products and linear layers have their own vectors
(:mod:`spikegate.sim.linear_regress`).
"""

from __future__ import annotations

import numpy as np

from ..gen.catalog import CATALOG
from ..gen.netlist import Netlist
from ..gen.zoo import zoo_members
from .units import REGISTRY

__all__ = ["exhaustive_inputs", "regression_inputs", "golden_outputs",
           "float32_patterns", "check_on_torch_engine", "EXHAUSTIVE_LIMIT"]

EXHAUSTIVE_LIMIT = 1 << 20
#: Seeded random vectors for input spaces beyond the exhaustive limit.
RANDOM_VECTORS = 200_000


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


def float32_patterns(count=340_000, *, seed=2024):
    """float32 bit patterns for the narrowing converters: specials, FP8 boundary values,
    patterns on the FP8 exponent range, uniform patterns and rounding ties."""
    rng = np.random.default_rng(seed)

    def f(x):
        return int(np.array(x, dtype=np.float32).view(np.uint32))

    specials = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001,
                0x00000001, 0x807FFFFF, 0x00800000, f(448.0), f(464.0), f(480.0), f(-496.0),
                f(57344.0), f(61440.0), f(65536.0), f(2.0 ** -9), f(2.0 ** -10),
                f(3 * 2.0 ** -11), f(2.0 ** -16), f(2.0 ** -17), f(1.0625), f(1.1875),
                f(1.125), f(1.375), 0x43E7FFFF, 0x476FFFFF]
    k = max(count - len(specials), 0)
    n_near, n_ties = k * 15 // 34, k * 2 // 34
    n_uniform = k - n_near - n_ties
    near = (rng.integers(0x30, 0x4A, n_near, dtype=np.uint32) << 24) \
        | rng.integers(0, 1 << 24, n_near, dtype=np.uint32)
    near |= rng.integers(0, 2, n_near, dtype=np.uint32) << 31
    uniform = rng.integers(0, 1 << 32, n_uniform, dtype=np.uint64).astype(np.uint32)
    # ties: mantissas with one bit just below an FP8 rounding position
    ties = (rng.integers(0x3A, 0x44, n_ties, dtype=np.uint32) << 23) \
        | (rng.integers(0, 16, n_ties, dtype=np.uint32) << 20) \
        | (rng.integers(0, 2, n_ties, dtype=np.uint32) << 19)
    return np.concatenate([np.array(specials, dtype=np.uint32), near, uniform, ties])


def regression_inputs(netlist: Netlist, *, vectors=None, seed=0):
    """The vectors ``verify`` runs: every input combination when there are at most
    :data:`EXHAUSTIVE_LIMIT` (or ``vectors``, when given and smaller), else ``vectors``
    (default :data:`RANDOM_VECTORS`) from the unit's own generator (TestFloat-style for the
    float units) or seeded random ones; float32 samples for the float32 -> FP8 converter."""
    unit = netlist.meta.get("unit")
    spec = REGISTRY.get(unit)
    if unit == "fp32-to-fp8":
        return {"a": float32_patterns(vectors or 340_000, seed=2024 + seed).astype(np.uint64)}
    widths = {bus: len(nets) for bus, nets in netlist.inputs.items()}
    total_bits = sum(widths.values())
    if vectors is None and (1 << total_bits) > EXHAUSTIVE_LIMIT:
        vectors = RANDOM_VECTORS
    if vectors is None or (1 << total_bits) <= vectors:
        return exhaustive_inputs(netlist)
    if spec is not None and spec.vectors is not None:
        return spec.vectors(netlist.meta, vectors, seed)
    rng = np.random.default_rng(seed)
    return {bus: rng.integers(0, 1 << w, vectors, dtype=np.uint64)
            for bus, w in widths.items()}


def golden_outputs(netlist: Netlist, inputs: dict):
    """Expected output buses for ``inputs``, from the golden of the netlist's unit. A
    *faithful* unit (an FP32 function) is expected to give what its netlist gives, once
    every output is checked faithful against the exact golden."""
    unit = netlist.meta.get("unit")
    if unit == "zoo":
        expected = {}
        for p, member in zoo_members(netlist.meta["width"]):
            mine = {bus: inputs[f"{p}_{bus}"] for bus in member.inputs}
            expected.update({f"{p}_{bus}": v for bus, v in golden_outputs(member, mine).items()})
        return expected
    spec = REGISTRY.get(unit)
    if netlist.meta.get("rounding") == "faithful":          # the FP32 functions
        from .function_sweep import faithful_outputs
        return faithful_outputs(netlist, inputs)
    if spec is not None and spec.golden is not None:
        return {k: np.asarray(v).astype(np.uint64)
                for k, v in spec.golden(netlist.meta, inputs).items()}
    if unit in CATALOG:
        expected = CATALOG[unit].golden({k: np.asarray(v, dtype=np.int64)
                                         for k, v in inputs.items()}, netlist.meta["width"])
        return {k: np.asarray(v).astype(np.uint64) for k, v in expected.items()}
    fmt = netlist.meta.get("format")
    if unit in ("fp8-to-fp32", "fp8-to-fp16"):
        from ..golden.torch_ref import torch_fp8_to_float_bits
        y = torch_fp8_to_float_bits(fmt, np.asarray(inputs["a"], dtype=np.uint8),
                                    32 if unit.endswith("32") else 16)
        return {"y": y.astype(np.uint64)}
    if unit == "fp8-mul-fp32":
        from ..golden.torch_ref import torch_exact_product_bits
        y = torch_exact_product_bits(fmt, np.asarray(inputs["a"], dtype=np.uint8),
                                     np.asarray(inputs["b"], dtype=np.uint8))
        return {"y": y.astype(np.uint64)}
    if unit in ("fp32-to-fp8", "fp16-to-fp8"):
        from ..golden import fp8 as exact
        from ..golden import torch_ref
        wide = 32 if unit.startswith("fp32") else 16
        bits = np.asarray(inputs["a"]).astype(f"uint{wide}")
        policy = netlist.meta["policy"]
        if policy == "torch":
            fn = getattr(torch_ref, f"torch_float{wide}_bits_to_fp8")
            y = fn(fmt, bits)
        else:
            y = getattr(exact, f"float{wide}_bits_to_fp8")(fmt, bits, policy)
        return {"y": np.asarray(y).astype(np.uint64)}
    if unit == "relu":
        from ..golden.dot import relu_ref
        return {bus: relu_ref(fmt, np.asarray(inputs[f"a{bus[1:]}"]))
                for bus in netlist.outputs}
    raise ValueError(f"netlist {netlist.name!r} has no known golden (unit {unit!r}): "
                     f"generate it with spikegate so its report names the unit")


def check_on_torch_engine(netlist: Netlist, *, vectors=None, seed=0):
    """Run the registry's vectors for ``netlist`` on the torch engine and assert the outputs
    bit-exact against its golden (the first mismatches named in hex)."""
    from .check import assert_bit_exact
    from .torch_engine import TorchEngine
    inputs = regression_inputs(netlist, vectors=vectors, seed=seed)
    got = TorchEngine(netlist).run(inputs)
    widths = {bus: len(nets) for bus, nets in {**netlist.inputs, **netlist.outputs}.items()}
    assert_bit_exact(inputs, got, golden_outputs(netlist, inputs), context=netlist.name,
                     widths=widths)
