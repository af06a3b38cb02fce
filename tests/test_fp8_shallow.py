"""The depth-5 FP8 multiplier (spikegate.gen.fp8.shallow_multiplier) against the golden model.

Exhaustive: every FP8 pair of both formats under every overflow policy, bit pattern for bit
pattern, through the batched torch engine; expected NaNs are the canonical 0x7F. Also the
structure the design exists for (depth 5, at most the measured neuron count), its metadata
and that building it is deterministic.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from spikegate.gen.fp8 import build_fp8_mul, build_fp8_mul_shallow
from spikegate.gen.netlist import Bounds
from spikegate.golden import fp8 as ref
from spikegate.golden.torch_ref import golden_mul
from spikegate.hdl.design import Design
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.torch_engine import TorchEngine

FORMATS = ("e4m3", "e5m2")
POLICIES = ("torch", "ocp", "satfinite")
#: measured neuron counts (every policy); the build must not grow past them
NEURONS = {"e4m3": 74, "e5m2": 60}
#: a weight bound that admits the one-neuron overflow test saves two neurons
NEURONS_HEAVY = {"e4m3": 72, "e5m2": 58}
HEAVY_WEIGHT = 1024

_codes = np.arange(256, dtype=np.uint8)
A_ALL, B_ALL = (x.ravel() for x in np.meshgrid(_codes, _codes, indexing="ij"))
WIDTHS = {"a": 8, "b": 8, "y": 8}


@functools.lru_cache(maxsize=None)
def unit(fmt, policy, max_weight=None):
    return build_fp8_mul_shallow(fmt, policy=policy, bounds=Bounds(max_weight=max_weight))


def run(netlist):
    return TorchEngine(netlist, device="cpu").run({"a": A_ALL, "b": B_ALL})["y"]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_exhaustive_against_mul_table(fmt, policy):
    got = run(unit(fmt, policy))
    expected = ref.mul_table(fmt, policy)[A_ALL, B_ALL]
    assert_bit_exact({"a": A_ALL, "b": B_ALL}, {"y": got}, {"y": expected}, widths=WIDTHS,
                     context=f"shallow mul {fmt} {policy}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_exhaustive_against_torch_and_deep_multiplier(fmt):
    got = run(unit(fmt, "torch"))
    inputs = {"a": A_ALL, "b": B_ALL}
    assert_bit_exact(inputs, {"y": got}, {"y": golden_mul(fmt, A_ALL, B_ALL, "torch")},
                     widths=WIDTHS, context=f"shallow mul {fmt} vs torch")
    assert_bit_exact(inputs, {"y": got}, {"y": run(build_fp8_mul(fmt, policy="torch"))},
                     widths=WIDTHS, context=f"shallow mul {fmt} vs build_fp8_mul")


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_exhaustive_one_neuron_overflow_variant(fmt, policy):
    nl = unit(fmt, policy, HEAVY_WEIGHT)
    s = nl.stats()
    assert s["depth"] == 5 and 128 < s["max_weight"] <= HEAVY_WEIGHT, s
    assert s["neurons"] <= NEURONS_HEAVY[fmt], s
    expected = ref.mul_table(fmt, policy)[A_ALL, B_ALL]
    assert_bit_exact({"a": A_ALL, "b": B_ALL}, {"y": run(nl)}, {"y": expected},
                     widths=WIDTHS, context=f"shallow mul {fmt} {policy} max_weight=1024")


@pytest.mark.parametrize("fmt", FORMATS)
def test_nan_results_are_canonical(fmt):
    for policy in POLICIES:
        got = run(unit(fmt, policy))
        nan = ref.is_nan(fmt, got.astype(np.int64))
        assert nan.any()
        assert set(np.unique(got[nan]).tolist()) == {0x7F}, policy


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_structure(fmt, policy):
    nl = unit(fmt, policy)
    s = nl.stats()
    assert s["depth"] == 5 and s["max_weight"] <= 128, s
    assert s["neurons"] <= NEURONS[fmt], s
    assert s["neurons"] < build_fp8_mul(fmt, policy=policy).stats()["neurons"]
    assert nl.name == f"fp8_mul_{fmt}_{policy}_shallow"
    assert nl.meta == {"unit": "fp8-mul", "format": fmt, "policy": policy,
                       "variant": "shallow"}
    assert set(s["neurons_per_block"]) <= {"unpack", "product", "special", "normalise",
                                           "exponent", "round"}
    assert {"unpack", "product", "special", "normalise", "round"} <= set(s["neurons_per_block"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(fmt):
    one = build_fp8_mul_shallow(fmt, policy="ocp")
    two = build_fp8_mul_shallow(fmt, policy="ocp")
    assert one.to_dict() == two.to_dict()
    assert Design(one).verilog == Design(two).verilog
