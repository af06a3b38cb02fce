"""The FPGA-lean any-format adder, subtractor and multiplier (spikegate.gen.float_lean).

Every neuron fan-in <= 4 and |weight| <= 2; bit-exact on the torch engine against the torch
goldens (the exact reference for custom formats and policies torch has no cast for): fp16,
bf16, fp32 and e6m9 on TestFloat-style vectors (corner crosses, near operands, random) plus
uniformly random bit patterns, the torch and satfinite policies; e5m2 exhaustively (all
65,536 pairs, every policy). The registry serves the variant as ``--variant lean``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from spikegate.gen.float_lean import (build_fadd_lean, build_fmul_lean, build_fsub_lean,
                                      lean_supports)
from spikegate.gen.netlist import Bounds
from spikegate.golden.float_vectors import float_operands
from spikegate.golden.formats import get_format
from spikegate.golden.torch_float import golden_op
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.torch_engine import TorchEngine
from spikegate.sim.units import build_unit, get_spec

BUILDERS = {"fadd": build_fadd_lean, "fsub": build_fsub_lean, "fmul": build_fmul_lean}
WIDE = ("fp16", "bf16", "fp32", "e6m9")
VECTORS = 60_000
RANDOM = 20_000


@functools.lru_cache(maxsize=None)
def unit(op, fmt, policy="torch"):
    return BUILDERS[op](fmt, policy=policy, bounds=Bounds(max_fanin=4, max_weight=2))


def operands(fmt, seed):
    fmt = get_format(fmt)
    if fmt.width == 8:
        codes = np.arange(256, dtype=np.uint64)
        return [x.ravel() for x in np.meshgrid(codes, codes, indexing="ij")]
    a, b = (np.asarray(x, dtype=np.uint64) for x in float_operands(fmt, 2, VECTORS, seed=seed))
    rng = np.random.default_rng(seed + 100)
    r = rng.integers(0, 1 << fmt.width, size=(2, RANDOM), dtype=np.uint64)
    return np.concatenate([a, r[0]]), np.concatenate([b, r[1]])


def check(op, fmt, policy, seed):
    nl = unit(op, fmt, policy)
    a, b = operands(fmt, seed)
    got = np.asarray(TorchEngine(nl).run({"a": a, "b": b})["y"]).astype(np.uint64)
    expected = np.asarray(golden_op(op, fmt, a, b, policy=policy)).astype(np.uint64)
    w = get_format(fmt).width
    assert_bit_exact({"a": a, "b": b}, {"y": got}, {"y": expected},
                     widths={"a": w, "b": w, "y": w}, context=f"lean {op} {fmt} {policy}")


@pytest.mark.parametrize("fmt", WIDE)
@pytest.mark.parametrize("op", sorted(BUILDERS))
def test_bit_exact_torch_policy(op, fmt):
    check(op, fmt, "torch", seed=1)


@pytest.mark.parametrize("fmt", WIDE)
@pytest.mark.parametrize("op", ("fadd", "fmul"))
def test_bit_exact_satfinite(op, fmt):
    check(op, fmt, "satfinite", seed=2)


@pytest.mark.parametrize("policy", ("torch", "ocp", "satfinite"))
@pytest.mark.parametrize("op", sorted(BUILDERS))
def test_e5m2_exhaustive(op, policy):
    check(op, "e5m2", policy, seed=0)


@pytest.mark.parametrize("fmt", WIDE + ("e5m2",))
@pytest.mark.parametrize("op", sorted(BUILDERS))
def test_narrow_neurons(op, fmt):
    s = unit(op, fmt).stats()
    assert s["max_fanin"] <= 4 and s["max_weight"] <= 2, (op, fmt, s)


@pytest.mark.parametrize("op", sorted(BUILDERS))
def test_registry_variant(op):
    spec = get_spec(op)
    assert spec.variants(get_format("fp16")) == ("default", "lean")
    nl = build_unit(op, fmt="bf16", policy="satfinite", variant="lean")
    assert nl.name == f"{op}_bf16_satfinite_lean"
    assert nl.meta == {"unit": op, "format": "bf16", "policy": "satfinite", "variant": "lean"}
    assert {k: len(v) for k, v in nl.inputs.items()} == {"a": 16, "b": 16}
    assert len(nl.outputs["y"]) == 16
    # the FP8 formats keep their own lean architectures (fadd, fmul) in the registry
    assert "lean" not in get_spec("fdiv").variants(get_format("fp16"))


def test_unsupported_formats():
    assert not lean_supports("fadd", "e4m3")            # fn convention: no infinity
    assert not lean_supports("fmul", "e3m4")            # M + 2 > bias
    assert lean_supports("fadd", "e3m4") and lean_supports("fmul", "e8m5")
    with pytest.raises(ValueError, match="IEEE"):
        build_fadd_lean("e4m3")
    with pytest.raises(ValueError, match="bias"):
        build_fmul_lean("e3m4")
    with pytest.raises(ValueError, match="policy"):
        build_fadd_lean("fp16", policy="saturate")
