"""FPGA-lean FP8 multiplier and adder (spikegate.gen.fp8.lean) against the golden tables.

Exhaustive: every one of the 65,536 input pairs, both formats, all three overflow
policies, through the batched torch engine; a mismatch names the first failing pairs in
hex. The lean units must keep the ports, meta and NaN convention of the level-minimising
units, use only narrow neurons (fan-in <= 4, |weight| <= 2) and build deterministically.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from spikegate.gen.fp8 import build_fp8_add, build_fp8_add_lean, build_fp8_mul, build_fp8_mul_lean
from spikegate.gen.netlist import Bounds
from spikegate.golden import fp8 as ref
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.torch_engine import TorchEngine

FORMATS = ("e4m3", "e5m2")
POLICIES = ("torch", "ocp", "satfinite")
OPS = {"mul": (build_fp8_mul_lean, ref.mul_table, build_fp8_mul),
       "add": (build_fp8_add_lean, ref.add_table, build_fp8_add)}

_codes = np.arange(256, dtype=np.uint8)
A_ALL, B_ALL = (x.ravel() for x in np.meshgrid(_codes, _codes, indexing="ij"))


@functools.lru_cache(maxsize=None)
def unit(op, fmt, policy="torch"):
    return OPS[op][0](fmt, policy=policy)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_exhaustive_against_golden(op, fmt, policy):
    got = TorchEngine(unit(op, fmt, policy), device="cpu").run({"a": A_ALL, "b": B_ALL})["y"]
    expected = OPS[op][1](fmt, policy)[A_ALL, B_ALL]
    assert_bit_exact({"a": A_ALL, "b": B_ALL}, {"y": got}, {"y": expected},
                     widths={"a": 8, "b": 8, "y": 8}, context=f"lean {op} {fmt} {policy}")
    nan = ref.is_nan(fmt, got.astype(np.int64))
    assert nan.any() and set(np.unique(got[nan]).tolist()) == {0x7F}


@pytest.mark.parametrize("op", sorted(OPS))
def test_ports_meta_and_names(op):
    for fmt in FORMATS:
        nl = unit(op, fmt, "satfinite")
        level = OPS[op][2](fmt, policy="satfinite")
        assert nl.name == f"{level.name}_lean"
        assert nl.meta == {**level.meta, "variant": "lean"}
        assert {k: len(v) for k, v in nl.inputs.items()} == {"a": 8, "b": 8}
        assert {k: len(v) for k, v in nl.outputs.items()} == {"y": 8}


@pytest.mark.parametrize("op", sorted(OPS))
def test_narrow_neurons(op):
    for fmt in FORMATS:
        s = unit(op, fmt).stats()
        assert s["max_fanin"] <= 4 and s["max_weight"] <= 2, (op, fmt, s)
    # and a fan-in bound of 4 is honoured at build time
    OPS[op][0]("e4m3", bounds=Bounds(max_fanin=4))


@pytest.mark.parametrize("op", sorted(OPS))
def test_deterministic(op):
    for fmt in FORMATS:
        one = json.dumps(OPS[op][0](fmt, policy="ocp").to_dict(), sort_keys=True)
        two = json.dumps(OPS[op][0](fmt, policy="ocp").to_dict(), sort_keys=True)
        assert one == two


@pytest.mark.parametrize("op", sorted(OPS))
def test_argument_errors(op):
    builder = OPS[op][0]
    with pytest.raises(ValueError, match="e4m3.*e5m2"):
        builder("e3m4")
    with pytest.raises(ValueError, match="torch.*ocp.*satfinite"):
        builder("e4m3", policy="saturate")
