"""The fast path (sim/fast_engine.py) against the reference TorchEngine, bit for bit.

Exhaustive on every FP8 unit variant, random vectors on other netlists, injected
mismatches found and reported in hex. Speed is never asserted here (see
``spikegate bench engine``).
"""

from __future__ import annotations

import functools
import subprocess
import sys

import numpy as np
import pytest
import torch

from spikegate.gen.catalog import build_block
from spikegate.gen.netlist import Netlist, Neuron
from spikegate.golden.fp8 import add_table, mul_table
from spikegate.sim import fast_engine
from spikegate.sim.fast_engine import FastEngine, exhaustive_check, random_check, table_golden
from spikegate.sim.regress import exhaustive_inputs
from spikegate.sim.torch_engine import TorchEngine

try:
    from spikegate.sim.units import build_unit, fp8_variants
except ImportError:                                   # before the unit table moved
    from spikegate.units import build_unit, fp8_variants

CUDA = torch.cuda.is_available()
TABLES = {"fp8-mul": mul_table, "fp8-add": add_table}


@functools.lru_cache(maxsize=None)
def fp8(unit, fmt, variant):
    return fp8_variants(unit)[variant](fmt, policy="torch")


def _fp8_cases():
    return [(u, f, v) for u in ("fp8-mul", "fp8-add") for f in ("e4m3", "e5m2")
            for v in fp8_variants(u)]


@pytest.mark.parametrize("unit,fmt,variant", _fp8_cases())
def test_fp8_units_all_pairs_equal_torch_engine(unit, fmt, variant):
    nl = fp8(unit, fmt, variant)
    inputs = exhaustive_inputs(nl)
    fast = FastEngine(nl, device="cpu")
    assert fast.backend == "c"
    got = fast.run(inputs)["y"]
    ref = TorchEngine(nl, device="cpu").run(inputs)["y"]
    assert got.dtype == np.uint64 and len(got) == 65536
    bad = np.flatnonzero(got != ref)
    assert bad.size == 0, f"{nl.name}: {bad.size} differ, first at {bad[0]:#06x}"
    # and the enumerating kernel against the exact table agrees too
    table = TABLES[unit](fmt).reshape(-1)
    res = exhaustive_check(nl, {"y": table}, engine=fast)
    assert res.count == 0 and res.total == 65536, res.describe()


def _random(nl, n, seed):
    rng = np.random.default_rng(seed)
    return {bus: rng.integers(0, 1 << min(len(nets), 63), n, dtype=np.uint64)
            for bus, nets in nl.inputs.items()}


@pytest.mark.parametrize("name,width", [("add", 8), ("sub", 6), ("multiply", 4),
                                        ("compare", 5), ("popcount", 9), ("lzc", 8),
                                        ("increment", 7), ("full_adder", 1)])
def test_catalogue_blocks_equal_torch_engine(name, width):
    nl = build_block(name, width=width)
    inputs = _random(nl, 3000, width)
    got = FastEngine(nl, device="cpu").run(inputs)
    ref = TorchEngine(nl, device="cpu").run(inputs)
    for bus in nl.outputs:
        assert (got[bus] == ref[bus]).all(), (name, bus)


@pytest.mark.parametrize("unit", ["fp8-to-fp32", "fp32-to-fp8", "fp8-mul-fp32"])
def test_converters_equal_torch_engine(unit):
    nl = build_unit(unit, fmt="e4m3")
    inputs = _random(nl, 5000, 3)
    got = FastEngine(nl, device="cpu").run(inputs)["y"]
    assert (got == TorchEngine(nl, device="cpu").run(inputs)["y"]).all()


def test_wide_buses_constants_and_dead_neurons():
    """40-bit buses (two int32 pieces), an output bit wired to a constant and to an input,
    a neuron fed only constants and one that reaches no output."""
    k = 40
    x = tuple(range(2, 2 + k))
    neurons = [Neuron(f"n{i}", 2 + k + i, (x[i], x[(i + 7) % k]), (1, -2), 0, 0)
               for i in range(k)]
    neurons.append(Neuron("c", 2 + 2 * k, (1, 0), (3, 5), 0, 2))        # always fires
    neurons.append(Neuron("dead", 3 + 2 * k, (x[0],), (1,), 0, 1))
    outs = tuple(n.out for n in neurons[:k]) + (2 + 2 * k, 1, 0, x[3])
    nl = Netlist("wide", {"x": x}, {"y": outs}, neurons, 4 + 2 * k)
    vals = np.random.default_rng(1).integers(0, 1 << 40, 500, dtype=np.uint64)
    got = FastEngine(nl, device="cpu").run({"x": vals})["y"]
    want = [nl.evaluate({"x": int(v)})["y"] for v in vals]
    assert got.tolist() == want


def test_large_weights_use_int32_lanes():
    nl = Netlist("big", {"x": (2, 3, 4)}, {"y": (5,)},
                 [Neuron("n", 5, (2, 3, 4), (40000, -30000, 1), 0, 10001)], 6)
    fast = FastEngine(nl, device="cpu")
    assert "int32_t V" in fast.source
    x = np.arange(8, dtype=np.uint64)
    assert (fast.run({"x": x})["y"] == TorchEngine(nl, device="cpu").run({"x": x})["y"]).all()


def test_injected_table_mismatch_is_found_and_reported_in_hex():
    nl = fp8("fp8-mul", "e4m3", "default")
    table = mul_table("e4m3").reshape(-1).astype(np.int64).copy()
    table[0x3C41] ^= 1                                  # a = 0x3c, b = 0x41
    res = exhaustive_check(nl, {"y": table}, device="cpu", chunk=10_000)
    assert res.count == 1 and res.total == 65536
    (inputs, got, expected), = res.first
    assert inputs == {"a": 0x3C, "b": 0x41} and got["y"] ^ expected["y"] == 1
    text = res.describe()
    assert "1 mismatches in 65,536 vectors" in text
    assert f"a=0x3c b=0x41: got y={got['y']:#x}, expected y={expected['y']:#x}" in text


def test_golden_callback_over_a_larger_space_in_chunks():
    """17 input bits: the golden runs chunk by chunk; a planted error shows where it is."""
    nl = build_block("add", width=8)                    # a, b, cin -> y, cout

    def golden(v):
        s = v["a"] + v["b"] + v["cin"]
        y = s & 255
        y = torch.where((v["a"] == 3) & (v["b"] == 5), y ^ 4, y)   # planted: 2 vectors
        return {"y": y, "cout": s >> 8}

    assert sum(len(n) for n in nl.inputs.values()) == 17
    seen = []
    res = exhaustive_check(nl, golden, device="cpu", chunk=5000,
                           progress=lambda done, total: seen.append((done, total)))
    assert res.count == 2 and res.total == 1 << 17
    assert seen[-1] == (1 << 17, 1 << 17) and len(seen) == -(-(1 << 17) // 5000)
    assert [m[0]["a"] for m in res.first] == [3, 3] and {m[0]["b"] for m in res.first} == {5}
    part = exhaustive_check(nl, golden, device="cpu", start=2000, stop=4000)  # past 0x60a
    assert part.total == 2000 and part.count == 0


def test_random_check_of_a_dot_product_finds_a_planted_mismatch():
    """A space too large to enumerate (dot8: 128 input bits): seeded random vectors against
    the dot-tree golden on the C kernel, then a golden wrong on one output code."""
    from spikegate.engine_bench import build_dot_tree, dot_tree_check_golden
    nl = build_dot_tree("e4m3", 8)
    golden = dot_tree_check_golden("e4m3", 8)
    res = random_check(nl, golden, vectors=50_000, device="cpu", chunk=20_000, seed=3)
    assert res.ok and res.total == 50_000 and res.backend == "c", res.describe()

    def wrong(v):
        y = golden(v)["y"]
        return {"y": torch.where(y == 0x38, y ^ 1, y)}
    res = random_check(nl, wrong, vectors=50_000, device="cpu", chunk=20_000, seed=3)
    assert res.count > 0 and len(res.first) == min(res.count, 16)
    inputs, got, expected = res.first[0]
    assert got == {"y": 0x38} and expected == {"y": 0x39} and len(inputs) == 16
    a = np.array([[inputs[f"a{i}"]] for i in range(8)])
    b = np.array([[inputs[f"b{i}"]] for i in range(8)])
    from spikegate.engine_bench import dot_tree_golden
    assert int(dot_tree_golden("e4m3", a, b)[0]) == 0x38        # the kept inputs are real
    with pytest.raises(ValueError, match="vectors must be a positive int"):
        random_check(nl, golden, vectors=0, device="cpu")


def test_table_golden_and_errors():
    nl = fp8("fp8-add", "e4m3", "default")
    g = table_golden(nl, {"y": add_table("e4m3").reshape(-1)})
    y = g({"a": torch.tensor([0x38]), "b": torch.tensor([0x38])})["y"]
    assert int(y[0]) == int(add_table("e4m3")[0x38, 0x38])
    with pytest.raises(ValueError, match="need 0 <= start <= stop"):
        exhaustive_check(nl, g, device="cpu", start=5, stop=2)
    with pytest.raises(ValueError, match="golden gave no output 'y'"):
        exhaustive_check(nl, lambda v: {"z": v["a"]}, device="cpu")
    with pytest.raises(ValueError, match="missing input buses"):
        FastEngine(nl, device="cpu").run({"a": [1]})
    with pytest.raises(ValueError, match="different lengths"):
        FastEngine(nl, device="cpu").run({"a": [1, 2], "b": [1]})
    with pytest.raises(TypeError, match="netlist must be a Netlist"):
        FastEngine("fp8", device="cpu")


def test_falls_back_to_torch_engine_without_a_compiler(monkeypatch):
    monkeypatch.setattr(fast_engine, "c_compiler", lambda: None)
    nl = fp8("fp8-mul", "e4m3", "default")
    with pytest.warns(RuntimeWarning, match="install gcc"):
        fast = FastEngine(nl, device="cpu")
    assert fast.backend == "torch"
    inputs = exhaustive_inputs(nl)
    assert (fast.run(inputs)["y"] == mul_table("e4m3").reshape(-1)).all()


def test_imports_without_triton_or_amaranth():
    code = ("import sys; sys.modules['triton'] = None; sys.modules['amaranth'] = None; "
            "import spikegate.sim.fast_engine, spikegate.engine_bench; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_triton_source_is_generated_without_triton():
    """The GPU kernel text comes from the netlist alone (compiled only on a GPU)."""
    prog = fast_engine._Program(fp8("fp8-mul", "e4m3", "default"))
    src = fast_engine._triton_source(prog)
    assert src.count(">= ") >= len(prog.ops) and "tl.atomic_add" in src
    compile(src, "kernel.py", "exec")


# -- CUDA (the H200 machine) ---------------------------------------------------------------

@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (torch.cuda.is_available())")
def test_gpu_kernels_equal_torch_engine_and_find_mismatches():
    from spikegate.engine_bench import build_dot_tree, build_fp16_unit, dot_tree_golden, \
        float_golden
    for unit in ("fp8-mul", "fp8-add"):
        for fmt in ("e4m3", "e5m2"):
            nl = fp8(unit, fmt, "default")
            inputs = exhaustive_inputs(nl)
            fast = FastEngine(nl, device="cuda")
            assert fast.backend == "triton"
            ref = TorchEngine(nl, device="cpu").run(inputs)["y"]
            assert (fast.run(inputs)["y"] == ref).all(), nl.name
            table = TABLES[unit](fmt).reshape(-1).astype(np.int64).copy()
            assert exhaustive_check(nl, {"y": table}, engine=fast, repeat=3).count == 0
            table[0x3C41] ^= 2
            res = exhaustive_check(nl, {"y": table}, engine=fast, repeat=3)
            assert res.count == 3 and res.first[0][0] == {"a": 0x3C, "b": 0x41}
    # block-wise path (dot product) and single-kernel path agree with the golden
    nl = build_dot_tree("e4m3", 8)
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, size=(8, 20000))
    b = rng.integers(0, 256, size=(8, 20000))
    inputs = {**{f"a{i}": a[i] for i in range(8)}, **{f"b{i}": b[i] for i in range(8)}}
    want = dot_tree_golden("e4m3", a, b)
    for tiled in (True, False):
        fast = FastEngine(nl, device="cuda", tiled=tiled)
        assert fast.backend == ("triton-blocks" if tiled else "triton")
        assert (fast.run(inputs)["y"] == want).all()
    # the 64-input dot product, block by block, drawn and checked on the device
    from spikegate.engine_bench import dot_tree_check_golden
    nl = build_dot_tree("e4m3", 64)
    golden = dot_tree_check_golden("e4m3", 64)
    res = random_check(nl, golden, vectors=1 << 21, device="cuda")
    assert res.ok and res.backend == "triton-blocks", res.describe()
    res = random_check(nl, lambda v: {"y": golden(v)["y"] ^ (v["a0"] == 7)},
                       vectors=1 << 20, device="cuda")
    assert 0 < res.count and all(m[0]["a0"] == 7 for m in res.first), res.describe()
    # a 2^32 space through the golden callback, on a slice
    nl = build_fp16_unit("fp16-add")
    res = exhaustive_check(nl, float_golden("fadd"), device="cuda", start=0x3C000000,
                           stop=0x3C000000 + (1 << 24), chunk=1 << 22)
    assert res.count == 0 and res.total == 1 << 24


def test_triton_source_of_a_wide_neuron_parses():
    """A table neuron of 1,840 synapses (recip in fp16) sums through partial sums: one
    expression of that many nested terms is beyond Python's parser (found on the H200)."""
    import ast

    from spikegate.sim.fast_engine import TRITON_CHUNK, triton_source
    from spikegate.sim.units import build_unit
    netlist = build_unit("recip", fmt="fp16")
    assert netlist.stats()["max_fanin"] > 10 * TRITON_CHUNK
    for arith in ("f32", "i32"):
        ast.parse(triton_source(netlist, arith))
