"""FP8 dot products and linear layers: goldens, every accumulation mode on the torch engine,
constant weights, the multiply-accumulate form, ReLU, from_torch, depth targets, CLI."""

import json
from fractions import Fraction

import numpy as np
import pytest
import torch

from spikegate.gen.dot import (acc_width, build_dot, build_linear, build_mac, build_mac_finish,
                               build_relu)
from spikegate.golden.dot import (OUT_FORMATS, dot_exact, dot_exact_scalar, linear_exact,
                                  relu_ref, round_int)
from spikegate.golden.fp8 import round_to_fp8
from spikegate.golden.torch_dot import torch_dot
from spikegate.golden.torch_ref import torch_dtype
from spikegate.sim.linear_regress import check_dot, dot_inputs, dot_vectors
from spikegate.sim.torch_engine import TorchEngine

# ---------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
@pytest.mark.parametrize("out", list(OUT_FORMATS))
def test_exact_golden_matches_fraction_reference(fmt, out):
    x, w, b = dot_vectors(fmt, 5, 300, seed=11)
    fast = dot_exact(fmt, x, w, b, out=out)
    slow = [dot_exact_scalar(fmt, list(map(int, xi)), list(map(int, wi)), int(bi), out=out)
            for xi, wi, bi in zip(x, w, b)]
    assert fast.tolist() == slow


@pytest.mark.parametrize("out", ["e4m3", "e5m2"])
def test_round_int_matches_fp8_rounding(out):
    rng = np.random.default_rng(0)
    for _ in range(3000):
        total = int(rng.integers(-(1 << 40), 1 << 40)) >> int(rng.integers(0, 40))
        scale = int(rng.integers(-40, 10))
        exact = Fraction(total) * Fraction(2) ** scale
        assert round_int(OUT_FORMATS[out], total, scale) == round_to_fp8(out, exact, "torch")


def test_exact_cross_checks_torch_float64_matmul():
    """E4M3 sums are exact in float64 and float64 -> float32 rounds once: same bits."""
    x, w, b = dot_vectors("e4m3", 16, 4000, seed=2)
    finite = ~((x & 0x7F) == 0x7F).any(1) & ~((w & 0x7F) == 0x7F).any(1) & ((b & 0x7F) != 0x7F)
    x, w, b = x[finite], w[finite], b[finite]
    dt = torch_dtype("e4m3")
    xv = torch.from_numpy(x.astype(np.uint8)).view(dt).double()
    wv = torch.from_numpy(w.astype(np.uint8)).view(dt).double()
    bv = torch.from_numpy(b.astype(np.uint8)).view(dt).double()
    ref = ((xv * wv).sum(1) + bv).float()
    got = torch.from_numpy(dot_exact("e4m3", x, w, b, out="fp32").astype(np.uint32).view(np.int32)
                           ).view(torch.float32)
    assert len(x) > 2000
    assert torch.equal(got, ref)                     # value equality: +0 == -0


def test_torch_float64_to_fp8_rounds_twice_but_golden_does_not():
    v = torch.tensor([1.0625 + 2.0 ** -30], dtype=torch.float64)
    assert float(v.to(torch.float8_e4m3fn).float()) == 1.0           # via float32: a tie
    assert round_int(OUT_FORMATS["e4m3"], (17 << 30) + 1, -34) == 0x39  # 1.125


def test_all_negative_zero_terms_give_negative_zero():
    assert dot_exact("e4m3", [0x80, 0x00], [0x38, 0xB8], out="fp32")[()] == 0x80000000
    assert dot_exact("e4m3", [0x80, 0x00], [0x38, 0x38], out="fp32")[()] == 0
    assert dot_exact("e4m3", [0x38, 0xB8], [0x38, 0x38], out="e4m3")[()] == 0


def test_relu_golden_is_torch_relu():
    codes = np.arange(256)
    for fmt in ("e4m3", "e5m2"):
        t = torch.from_numpy(codes.astype(np.uint8)).view(torch_dtype(fmt)).float()
        ref = torch.relu(t).to(torch_dtype(fmt)).view(torch.uint8).numpy().astype(np.uint64)
        from spikegate.golden.fp8 import canonicalize_nan
        assert relu_ref(fmt, codes).tolist() == canonicalize_nan(fmt, ref).tolist()


# ---------------------------------------------------------------------------- netlists


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
@pytest.mark.parametrize("out", list(OUT_FORMATS))
def test_exact_dot_bit_exact(fmt, out):
    nl = build_dot(4, fmt, out=out, bias="port")
    r = check_dot(nl, 3000, seed=7)
    assert r["mismatches"] == 0, r["first"]


@pytest.mark.parametrize("accum,order,out", [
    ("fp32", "tree", "fp32"), ("fp32", "sequential", "e4m3"), ("fp16", "tree", "fp16"),
    ("fp16", "sequential", "e5m2"), ("fp8", "tree", None), ("fp8", "sequential", None)])
@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_rounding_modes_bit_exact(fmt, accum, order, out):
    nl = build_dot(3, fmt, accum=accum, order=order, out=out, bias="port")
    r = check_dot(nl, 2000, seed=3)
    assert r["mismatches"] == 0, r["first"]


@pytest.mark.parametrize("policy", ["ocp", "satfinite"])
def test_policies(policy):
    for accum, out in (("exact", "e4m3"), ("fp8", None), ("fp16", "e4m3")):
        nl = build_dot(3, "e4m3", accum=accum, out=out, policy=policy)
        r = check_dot(nl, 1500, seed=5)
        assert r["mismatches"] == 0, (accum, r["first"])


def test_constant_weights_linear_layer():
    x, _, _ = dot_vectors("e4m3", 6, 1500, seed=9, bias=False)
    rng = np.random.default_rng(1)
    wts = rng.integers(0, 0x7F, (3, 6)) | (rng.integers(0, 2, (3, 6)) << 7)
    bias = [0x38, 0x80, 0xC4]
    nl = build_linear(6, 3, "e4m3", weights=wts.tolist(), bias=bias, out="e4m3",
                      activation="relu")
    got = TorchEngine(nl).run({f"x{i}": x[:, i] for i in range(6)})
    exp = relu_ref("e4m3", linear_exact("e4m3", x, wts, bias, out="e4m3"))
    for m in range(3):
        assert np.array_equal(got[f"y{m}"], exp[:, m])
    ports = build_linear(6, 3, "e4m3", bias="port", out="e4m3").stats()["neurons"]
    assert nl.stats()["neurons"] < ports                         # constants fold


@pytest.mark.parametrize("fmt,out", [("e4m3", "fp32"), ("e5m2", "e4m3")])
def test_mac_steps_equal_spatial_dot(fmt, out):
    n, k, v = 12, 4, 2000
    mac, fin = build_mac(k, fmt, total=n, bias=True), build_mac_finish(fmt, total=n, bias=True,
                                                                      out=out)
    x, w, b = dot_vectors(fmt, n, v, seed=4)
    em, ef = TorchEngine(mac), TorchEngine(fin)
    accs = [bus for bus in mac.inputs if bus.startswith("acc")]
    state = {bus: np.zeros(v, np.uint64) for bus in accs}
    flags = {"nan": np.zeros(v), "infp": np.zeros(v), "infn": np.zeros(v), "negz": np.ones(v)}
    for c in range(n // k):
        step = {f"x{i}": x[:, c * k + i] for i in range(k)}
        step.update({f"w{i}": w[:, c * k + i] for i in range(k)})
        step["bias"] = b if c == 0 else np.full(v, 0x80)
        o = em.run({**step, **state, **flags})
        state = {bus: o["sum" + bus[3:]] for bus in accs}
        flags = {f: o[f + "_o"] for f in flags}
    y = ef.run({**state, **flags})["y"]
    assert np.array_equal(y, dot_exact(fmt, x, w, b, out=out))
    assert sum(len(mac.inputs[a]) for a in accs) == acc_width(fmt, n + 1)


def test_relu_unit_exhaustive():
    for fmt in ("e4m3", "e5m2"):
        nl = build_relu(fmt)
        got = TorchEngine(nl).run({"a": np.arange(256)})["y"]
        assert got.tolist() == relu_ref(fmt, np.arange(256)).tolist()


def test_engine_inputs_shape():
    x, w, b = dot_vectors("e4m3", 3, 10, seed=0)
    assert set(dot_inputs(x, w, b)) == {"x0", "x1", "x2", "w0", "w1", "w2", "bias"}


# ---------------------------------------------------------------------------- depth


def test_exact_depth_target_at_64():
    nl = build_dot(64, "e4m3")
    assert nl.depth() <= (84 + 106 * 6) // 4            # <= 180 levels


@pytest.mark.parametrize("accum", ["fp32", "fp16"])
def test_tree_is_17x_shallower_at_128(accum):
    d1 = build_dot(1, "e4m3", accum=accum).depth()
    d2 = build_dot(2, "e4m3", accum=accum, order="sequential").depth()
    d4 = build_dot(4, "e4m3", accum=accum, order="tree").depth()
    add = d2 - d1
    assert d4 == d1 + 2 * add                              # log2 levels of adders
    assert (d1 + 127 * add) / (d1 + 7 * add) >= 17


# ---------------------------------------------------------------------------- model, CLI


def test_from_torch_spatial_matches_reference():
    from spikegate.hdl.model import from_torch, reference, spatial_netlist, torch_reference
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    layers = from_torch(model)
    assert [lay.out_format for lay in layers] == ["e4m3", "fp32"] and layers[0].relu
    x, _, _ = dot_vectors("e4m3", 5, 600, seed=8, bias=False)
    ref = reference(layers, x)
    assert all(np.array_equal(a, c) for a, c in zip(ref, torch_reference(layers, x)))
    got = TorchEngine(spatial_netlist(layers)).run({f"x{i}": x[:, i] for i in range(5)})
    for m in range(3):
        assert np.array_equal(got[f"y{m}"], ref[-1][:, m])


def test_from_torch_rejects_other_modules():
    from spikegate.hdl.model import from_torch
    with pytest.raises(ValueError, match="nn.Linear and nn.ReLU"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()))


def test_argument_errors():
    with pytest.raises(ValueError, match="accumulation mode"):
        build_dot(2, accum="fp64")
    with pytest.raises(ValueError, match="order"):
        build_dot(2, accum="fp32", order="random")
    with pytest.raises(ValueError, match="FP8 output format"):
        build_linear(2, 2, activation="relu", out="fp32")
    with pytest.raises(ValueError, match="in_features"):
        build_dot(0)


def test_cli_generate_dot_and_linear(tmp_path):
    from spikegate.cli import main
    keys = {"top", "verilog", "neurons", "synapses", "depth", "max_fanin", "max_weight",
            "latency_cycles", "accum", "order", "in_features", "out_features"}
    assert main(["generate", "dot", "--in", "3", "--accum", "fp16", "--order", "sequential",
                 "-o", str(tmp_path / "d"), "--quiet"]) == 0
    rep = json.loads((tmp_path / "d" / "report.json").read_text())
    assert keys <= set(rep) and rep["accum"] == "fp16" and rep["in_features"] == 3
    assert (tmp_path / "d" / rep["verilog"]).exists()
    assert main(["generate", "linear", "--in", "4", "--out", "3", "--lanes", "2",
                 "--out-format", "e4m3", "--bias", "random", "-o", str(tmp_path / "l"),
                 "--quiet"]) == 0
    rep = json.loads((tmp_path / "l" / "report.json").read_text())
    assert keys <= set(rep) and rep["lanes"] == 2
    assert rep["layers"][0]["cycles_per_vector"] == 2 + 2 + 1  # 2 row groups, 2 stages
    text = (tmp_path / "l" / rep["verilog"]).read_text()
    assert "i__valid" in text and "o__ready" in text
