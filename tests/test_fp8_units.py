"""FP8 multiplier, adder and converters (spikegate.gen.fp8) against the golden models.

Exhaustive where the inputs fit in 16 bits (every FP8 pair, every FP8 code, every fp16
pattern), bit pattern for bit pattern, through the batched torch engine; expected NaNs are
the canonical 0x7F and the hardware must produce exactly that. Directed corner cases carry
hand-computed expectations, independent of the golden model.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from spikegate.sim.regress import float32_patterns
from spikegate.gen.fp8 import (build_fp8_add, build_fp8_mul, build_fp8_mul_fp32,
                               build_fp8_to_fp16, build_fp8_to_fp32, build_fp16_to_fp8,
                               build_fp32_to_fp8)
from spikegate.golden import fp8 as ref
from spikegate.golden.torch_ref import (golden_add, golden_mul, torch_dtype,
                                        torch_float16_bits_to_fp8, torch_float32_bits_to_fp8)
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.torch_engine import TorchEngine

FORMATS = ("e4m3", "e5m2")
POLICIES = ("torch", "ocp", "satfinite")
OPS = {"mul": (build_fp8_mul, golden_mul), "add": (build_fp8_add, golden_add)}

_codes = np.arange(256, dtype=np.uint8)
A_ALL, B_ALL = (x.ravel() for x in np.meshgrid(_codes, _codes, indexing="ij"))


@functools.lru_cache(maxsize=None)
def unit(op, fmt, policy="torch"):
    return OPS[op][0](fmt, policy=policy)


@functools.lru_cache(maxsize=None)
def engine(key):
    kind, *args = key
    builders = {"mul": build_fp8_mul, "add": build_fp8_add}
    if kind in builders:
        nl = unit(kind, *args)
    else:
        nl = {"to32": build_fp8_to_fp32, "to16": build_fp8_to_fp16, "mul32": build_fp8_mul_fp32,
              "from32": build_fp32_to_fp8, "from16": build_fp16_to_fp8}[kind](*args)
    return TorchEngine(nl, device="cpu")


def run(key, **inputs):
    return engine(key).run(inputs)["y"]


# -- exhaustive: every op x format x policy, all 65,536 pairs ----------------------------

@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_exhaustive_against_golden(op, fmt, policy):
    got = run((op, fmt, policy), a=A_ALL, b=B_ALL)
    expected = OPS[op][1](fmt, A_ALL, B_ALL, policy)
    assert_bit_exact({"a": A_ALL, "b": B_ALL}, {"y": got}, {"y": expected},
                     widths={"a": 8, "b": 8, "y": 8}, context=f"{op} {fmt} {policy}")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_nan_results_are_canonical(op, fmt):
    got = run((op, fmt, "torch"), a=A_ALL, b=B_ALL)
    nan = ref.is_nan(fmt, got.astype(np.int64))
    assert nan.any()
    assert set(np.unique(got[nan]).tolist()) == {0x7F}


# -- directed corner cases, hand-computed ----------------------------------------------
# (op, fmt, a, b, expected under torch, ocp, satfinite)
CORNERS = [
    # e4m3 overflow boundary: 448 is the largest value; 464 ties to 448, 480 overflows
    ("add", "e4m3", 0x7E, 0x58, (0x7E, 0x7E, 0x7E)),   # 448 + 16 = 464 -> 448
    ("add", "e4m3", 0x7E, 0x57, (0x7E, 0x7E, 0x7E)),   # 448 + 15 = 463 -> 448
    ("add", "e4m3", 0x7E, 0x5C, (0x7E, 0x7F, 0x7E)),   # 448 + 24 = 472 -> 480: overflow
    ("add", "e4m3", 0x78, 0x76, (0x7E, 0x7F, 0x7E)),   # 256 + 224 = 480: overflow
    ("add", "e4m3", 0x7E, 0x60, (0x7E, 0x7F, 0x7E)),   # 448 + 32 = 480
    ("add", "e4m3", 0xFE, 0xE0, (0xFE, 0x7F, 0xFE)),   # -448 - 32: negative overflow
    ("add", "e4m3", 0x7E, 0x7E, (0x7E, 0x7F, 0x7E)),   # 448 + 448 = 896
    ("add", "e4m3", 0x7D, 0x58, (0x7E, 0x7E, 0x7E)),   # 416 + 16 = 432 -> tie -> 448
    # cancellation and signed zeros
    ("add", "e4m3", 0x38, 0xB8, (0x00, 0x00, 0x00)),   # 1 + (-1) = +0
    ("add", "e4m3", 0xB8, 0x38, (0x00, 0x00, 0x00)),
    ("add", "e4m3", 0x80, 0x80, (0x80, 0x80, 0x80)),   # -0 + -0 = -0
    ("add", "e4m3", 0x00, 0x80, (0x00, 0x00, 0x00)),   # +0 + -0 = +0
    ("add", "e4m3", 0x39, 0xB8, (0x20, 0x20, 0x20)),   # 1.125 - 1 = 2^-3
    ("add", "e4m3", 0x09, 0x88, (0x01, 0x01, 0x01)),   # subnormal result of cancellation
    # subnormals
    ("add", "e4m3", 0x01, 0x38, (0x38, 0x38, 0x38)),   # 1 + 2^-9 -> 1
    ("add", "e4m3", 0x07, 0x01, (0x08, 0x08, 0x08)),   # 7*2^-9 + 2^-9 = min normal
    ("add", "e4m3", 0x04, 0x04, (0x08, 0x08, 0x08)),
    ("mul", "e4m3", 0x01, 0x40, (0x02, 0x02, 0x02)),   # 2^-9 * 2 = 2^-8
    ("mul", "e4m3", 0x01, 0x01, (0x00, 0x00, 0x00)),   # 2^-18 -> +0
    ("mul", "e4m3", 0x81, 0x01, (0x80, 0x80, 0x80)),   # -2^-18 -> -0
    ("mul", "e4m3", 0x08, 0x30, (0x04, 0x04, 0x04)),   # 2^-6 * 0.5 = 4*2^-9 (subnormal)
    ("mul", "e4m3", 0x03, 0x30, (0x02, 0x02, 0x02)),   # 3*2^-10 = 1.5*2^-9: tie -> 2*2^-9
    ("mul", "e4m3", 0x01, 0x30, (0x00, 0x00, 0x00)),   # 2^-10: tie -> 0 (even)
    ("mul", "e4m3", 0x01, 0x31, (0x01, 0x01, 0x01)),   # just above the tie
    ("mul", "e4m3", 0x05, 0x78, (0x42, 0x42, 0x42)),   # subnormal * 256: 5*2^-1 = 2.5
    # overflow and NaN
    ("mul", "e4m3", 0x7E, 0x40, (0x7E, 0x7F, 0x7E)),   # 448 * 2
    ("mul", "e4m3", 0xFE, 0x40, (0xFE, 0x7F, 0xFE)),
    ("mul", "e4m3", 0x77, 0x40, (0x7E, 0x7F, 0x7E)),   # 240 * 2 = 480: overflow
    ("mul", "e4m3", 0x7F, 0x00, (0x7F, 0x7F, 0x7F)),   # NaN * 0
    ("mul", "e4m3", 0xFF, 0x38, (0x7F, 0x7F, 0x7F)),   # -NaN * 1: canonical NaN
    ("add", "e4m3", 0x7F, 0x80, (0x7F, 0x7F, 0x7F)),
    # e5m2: infinities, NaN payloads, overflow to inf
    ("mul", "e5m2", 0x7C, 0x00, (0x7F, 0x7F, 0x7F)),   # inf * 0
    ("mul", "e5m2", 0x80, 0xFC, (0x7F, 0x7F, 0x7F)),   # -0 * -inf
    ("mul", "e5m2", 0x7C, 0xBC, (0xFC, 0xFC, 0xFB)),   # inf * -1
    ("mul", "e5m2", 0x7C, 0x01, (0x7C, 0x7C, 0x7B)),   # inf * min subnormal
    ("mul", "e5m2", 0x7D, 0x3C, (0x7F, 0x7F, 0x7F)),   # NaN (payload 01)
    ("mul", "e5m2", 0x7B, 0x40, (0x7C, 0x7C, 0x7B)),   # 57344 * 2 -> overflow
    ("mul", "e5m2", 0x04, 0x38, (0x02, 0x02, 0x02)),   # 2^-14 * 0.5 = 2^-15 (subnormal)
    ("add", "e5m2", 0x7C, 0xFC, (0x7F, 0x7F, 0x7F)),   # inf - inf
    ("add", "e5m2", 0x7C, 0x7C, (0x7C, 0x7C, 0x7B)),
    ("add", "e5m2", 0xFC, 0x3C, (0xFC, 0xFC, 0xFB)),   # -inf + 1
    ("add", "e5m2", 0x7B, 0x6C, (0x7C, 0x7C, 0x7B)),   # 57344 + 4096 = 61440: tie -> inf
    ("add", "e5m2", 0x7B, 0x68, (0x7B, 0x7B, 0x7B)),   # 57344 + 2048 -> 57344
    ("add", "e5m2", 0x3C, 0xBC, (0x00, 0x00, 0x00)),
    ("add", "e5m2", 0x80, 0x80, (0x80, 0x80, 0x80)),
    ("add", "e5m2", 0x03, 0x01, (0x04, 0x04, 0x04)),   # subnormals sum to min normal
]


@pytest.mark.parametrize("op,fmt,a,b,expected", CORNERS,
                         ids=[f"{c[0]}-{c[1]}-{c[2]:02x}-{c[3]:02x}" for c in CORNERS])
def test_corner_cases(op, fmt, a, b, expected):
    refs = {"mul": ref.mul_ref, "add": ref.add_ref}
    for policy, want in zip(POLICIES, expected):
        got = int(unit(op, fmt, policy).evaluate({"a": a, "b": b})["y"])
        assert refs[op](fmt, a, b, policy) == want, "hand-computed expectation is wrong"
        assert got == want, (f"{op} {fmt} {policy}: a=0x{a:02x} b=0x{b:02x}: got 0x{got:02x} "
                             f"expected 0x{want:02x}")


# -- converters ------------------------------------------------------------------------

def _f32_from_fp8_torch(fmt, codes):
    bits = torch.from_numpy(codes).view(torch_dtype(fmt)).float().view(torch.int32)
    return bits.numpy().view(np.uint32)


@pytest.mark.parametrize("fmt", FORMATS)
def test_fp8_to_wide_exhaustive(fmt):
    codes = np.arange(256, dtype=np.uint8)
    for key, golden, width in ((("to32", fmt), ref.fp8_to_float32_bits, 32),
                               (("to16", fmt), ref.fp8_to_float16_bits, 16)):
        got = run(key, a=codes)
        assert_bit_exact({"a": codes}, {"y": got}, {"y": golden(fmt, codes)},
                         widths={"a": 8, "y": width}, context=f"{key}")
    # and against torch itself (NaN-ness only for NaN, torch keeps a payload)
    got = run(("to32", fmt), a=codes).astype(np.uint32)
    want = _f32_from_fp8_torch(fmt, codes)
    nan = ref.is_nan(fmt, codes)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.all(got[nan] == ref.FLOAT32_CANONICAL_NAN)


@pytest.mark.parametrize("fmt", FORMATS)
def test_fp8_mul_fp32_exhaustive(fmt):
    got = run(("mul32", fmt), a=A_ALL, b=B_ALL)
    expected = ref.exact_product_float32_bits(fmt, A_ALL, B_ALL)
    assert_bit_exact({"a": A_ALL, "b": B_ALL}, {"y": got}, {"y": expected},
                     widths={"a": 8, "b": 8, "y": 32}, context=f"mul_fp32 {fmt}")
    # the exact product is what torch computes before its rounding
    fa = torch.from_numpy(A_ALL).view(torch_dtype(fmt)).float()
    fb = torch.from_numpy(B_ALL).view(torch_dtype(fmt)).float()
    prod = fa * fb
    bits = prod.view(torch.int32).numpy().view(np.uint32)
    ok = ~torch.isnan(prod).numpy()
    assert np.array_equal(got[ok].astype(np.uint32), bits[ok])
    assert np.all(got[~ok] == ref.FLOAT32_CANONICAL_NAN)


F16_ALL = np.arange(1 << 16, dtype=np.uint16)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_fp16_to_fp8_exhaustive(fmt, policy):
    got = run(("from16", fmt, policy), a=F16_ALL)
    expected = ref.float16_bits_to_fp8(fmt, F16_ALL, policy)
    if policy == "torch":
        assert np.array_equal(expected, torch_float16_bits_to_fp8(fmt, F16_ALL))
    assert_bit_exact({"a": F16_ALL}, {"y": got}, {"y": expected},
                     widths={"a": 16, "y": 8}, context=f"fp16->{fmt} {policy}")


F32_SAMPLES = float32_patterns()


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_fp32_to_fp8_random(fmt, policy):
    x = F32_SAMPLES
    got = run(("from32", fmt, policy), a=x)
    expected = ref.float32_bits_to_fp8(fmt, x, policy)
    if policy == "torch":
        assert np.array_equal(expected, torch_float32_bits_to_fp8(fmt, x))
    assert_bit_exact({"a": x}, {"y": got}, {"y": expected}, widths={"a": 32, "y": 8},
                     context=f"fp32->{fmt} {policy}")


# -- API, naming, structure -------------------------------------------------------------

def test_names_meta_and_buses():
    nl = unit("mul", "e4m3", "torch")
    assert nl.name == "fp8_mul_e4m3_torch"
    assert nl.meta == {"unit": "fp8-mul", "format": "e4m3", "policy": "torch"}
    assert {k: len(v) for k, v in nl.inputs.items()} == {"a": 8, "b": 8}
    assert {k: len(v) for k, v in nl.outputs.items()} == {"y": 8}
    add = unit("add", "e5m2", "satfinite")
    assert add.name == "fp8_add_e5m2_satfinite"
    assert add.meta["unit"] == "fp8-add"
    blocks = set(add.stats()["neurons_per_block"])
    assert {"unpack", "align", "add", "normalise", "round", "exponent", "special"} <= blocks
    assert build_fp32_to_fp8("e4m3", "ocp").name == "fp32_to_fp8_e4m3_ocp"
    assert len(build_fp8_to_fp16("e5m2").outputs["y"]) == 16


@pytest.mark.parametrize("builder", [build_fp8_mul, build_fp8_add])
def test_argument_errors(builder):
    with pytest.raises(ValueError, match="e4m3.*e5m2"):
        builder("e3m4")
    with pytest.raises(ValueError, match="torch.*ocp.*satfinite"):
        builder("e4m3", policy="saturate")
    with pytest.raises(TypeError, match="policy"):
        builder("e4m3", policy=None)
    with pytest.raises(TypeError, match="format"):
        builder(8)


def test_converter_argument_errors():
    with pytest.raises(ValueError, match="torch.*ocp.*satfinite"):
        build_fp32_to_fp8("e4m3", "nearest")
    with pytest.raises(ValueError, match="e4m3.*e5m2"):
        build_fp8_to_fp32("fp8")


def test_bounds_are_enforced():
    from spikegate.gen.netlist import Bounds, NetlistError
    with pytest.raises(NetlistError, match="max_fanin"):
        build_fp8_mul("e4m3", bounds=Bounds(max_fanin=4))


TARGETS = {"mul": (300, 20), "add": (500, 25)}


def test_structure_targets(capsys):
    rows = []
    for op in ("mul", "add"):
        for fmt in FORMATS:
            s = unit(op, fmt, "torch").stats()
            rows.append((f"{op} {fmt}", s))
            neurons, depth = TARGETS[op]
            assert s["neurons"] <= neurons and s["depth"] <= depth, (op, fmt, s)
            assert s["max_fanin"] <= 32 and s["max_weight"] <= 256, (op, fmt, s)
    for fmt in FORMATS:
        for label, nl in (("mul->fp32", build_fp8_mul_fp32(fmt)),
                          ("->fp32", build_fp8_to_fp32(fmt)), ("->fp16", build_fp8_to_fp16(fmt)),
                          ("fp32->", build_fp32_to_fp8(fmt)), ("fp16->", build_fp16_to_fp8(fmt))):
            s = nl.stats()
            rows.append((f"{label} {fmt}", s))
            assert s["max_fanin"] <= 32 and s["max_weight"] <= 256, (label, fmt, s)
    with capsys.disabled():
        print("\nunit            neurons  depth  max_fanin  max_weight  synapses")
        for label, s in rows:
            print(f"{label:14s}  {s['neurons']:7d}  {s['depth']:5d}  {s['max_fanin']:9d}  "
                  f"{s['max_weight']:10d}  {s['synapses']:8d}")


# -- the linear-form block everything above is made of ---------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_linear_form_digits_exhaustive(seed):
    """Lin.bits (reduced and known-range digits, gate, sets) and Lin.ge on random forms."""
    from spikegate.gen.builder import NetlistBuilder
    from spikegate.gen.linear_form import Lin

    rng = np.random.default_rng(seed)
    b = NetlistBuilder("lin")
    x = b.input("x", 6)
    g, s = b.input("g", 1)[0], b.input("s", 1)[0]
    weights = [int(w) for w in rng.integers(-40, 41, 6)]
    const = int(rng.integers(-30, 31))
    form = Lin(list(zip(x, weights)), const)
    values = [const + sum(w for i, w in enumerate(weights) if (v >> i) & 1) for v in range(64)]
    known = (min(values), max(values))
    b.output("plain", form.bits(b, 7))
    b.output("known", form.bits(b, 7, known=known))
    b.output("gated", form.bits(b, 7, gate=g, sets=[s]))
    b.output("ge", (form.ge(b, 5), form.ge(b, -3, gate=g)))
    nl = b.build()
    for v in range(64):
        for gv in (0, 1):
            for sv in (0, 1):
                out = nl.evaluate({"x": v, "g": gv, "s": sv})
                val = values[v] & 0x7F
                assert out["plain"] == val and out["known"] == val
                assert out["gated"] == (0x7F if sv else val if gv else 0)
                assert out["ge"] == int(values[v] >= 5) | (int(values[v] >= -3 and gv) << 1)
