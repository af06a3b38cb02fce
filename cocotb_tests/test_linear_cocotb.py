"""Dot products and linear layers through cocotb on Icarus and Verilator, bit for bit against
the goldens: spatial (combinational and pipelined, direct Verilog emitter) and
time-multiplexed (valid/ready streams with random idle cycles and backpressure; dot-product
lanes and the exact multiply-accumulate lane).

``make test`` streams every accumulation mode and order through Verilator (the streamed
layer's lanes are the spatial dot-product units, so one build checks both) and the exact
mode through Icarus, besides the spatial E5M2 tree, the pipelined
exact dot product, the MAC lane and the CLI and demo paths; ``make regress`` adds every
mode spatially on both simulators and streamed on Icarus, the MAC layer on Icarus and the
FP16-out lanes layer on both (2,000 dot products each).
"""

from pathlib import Path

import numpy as np
import pytest

from spikegate.gen.dot import build_dot, build_mac, build_mac_finish
from spikegate.golden.dot import linear_exact, relu_ref
from spikegate.hdl.design import Design
from spikegate.hdl.linear_stream import LayerSpec, MacLayerSpec, stream_verilog
from spikegate.sim.linear_regress import dot_inputs, dot_vectors, golden_dot
from spikegate.sim.cocotb_runner import run_vectors
from spikegate.sim.stream_runner import run_stream

SIMS = ["icarus", "verilator"]
#: Icarus simulates the wide layers' event traffic slowly (a minute or two each): the
#: forms Verilator covers run on Icarus under ``make regress``.
ICARUS_REGRESS = pytest.param("icarus", marks=pytest.mark.regress)


def _spatial(sim, fmt, n, accum, order, out, stages, count, seed=0):
    nl = build_dot(n, fmt, accum=accum, order=order, out=out, bias="port")
    x, w, b = dot_vectors(fmt, n, count, seed=seed)
    exp = golden_dot(fmt, x, w, b, accum=accum, order=order, out=nl.meta["out_format"])
    design = Design(nl, stages=stages)
    src = Path("build/sim/src") / f"{design.top}-{stages}.v"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(design.verilog)
    run_vectors(verilog=src, top=design.top, ports=design.ports, vectors=dot_inputs(x, w, b),
                simulator=sim, latency=design.latency,
                hold={"valid_in": 1} if design.latency else None, expected={"y": exp},
                lanes=2 if sim == "icarus" else 1)


@pytest.mark.parametrize("sim", SIMS)
def test_fp8_tree_dot_spatial(sim):
    """3,000 E5M2 dot products, FP8 accumulation, pairwise tree (combinational)."""
    _spatial(sim, "e5m2", 3, "fp8", "tree", None, 0, 3000, seed=1)


def test_exact_dot_spatial_pipelined():
    """3,000 exact E4M3 dot products rounded to FP32, 3 pipeline stages (Icarus)."""
    _spatial("icarus", "e4m3", 4, "exact", "tree", "fp32", 3, 3000)


@pytest.mark.regress
def test_exact_dot_spatial_pipelined_verilator():
    _spatial("verilator", "e4m3", 4, "exact", "tree", "fp32", 3, 3000)


def _layer_payloads(x):
    return [sum(int(c) << (8 * i) for i, c in enumerate(r)) for r in x]


def _unpack(outputs, m, width):
    mask = (1 << width) - 1
    return np.array([[(int(v) >> (width * k)) & mask for k in range(m)] for v in outputs],
                    dtype=np.uint64)


def _stream(sim, spec, fmt, x, w, bias, out, relu=False, top="lin_stream"):
    text = stream_verilog([spec], top=top)
    width = spec.out_width
    r = run_stream(verilog=text, top=top, in_width=spec.in_features * 8,
                   out_width=spec.out_features * width, payloads=_layer_payloads(x),
                   simulator=sim, seed=3)
    got = _unpack(r.outputs, spec.out_features, width)
    exp = linear_exact(fmt, x, w, bias, out=out)
    if relu:
        exp = relu_ref(out, exp)
    bad = np.argwhere(got != exp)
    assert len(bad) == 0, f"{len(bad)} mismatches, first at {bad[0]}: got {got[tuple(bad[0])]:#x} " \
                          f"expected {exp[tuple(bad[0])]:#x}"
    return r


@pytest.mark.parametrize("sim", [ICARUS_REGRESS, "verilator"])
def test_mac_stream_layer(sim):
    """A 12 -> 5 exact layer on one MAC lane (4 inputs/cycle), E4M3 out + ReLU: 2,000 dot
    products through the stream with backpressure."""
    fmt, n, m, count = "e4m3", 12, 5, 400
    x, _, _ = dot_vectors(fmt, n, count, seed=5, bias=False)
    w, _, bias = dot_vectors(fmt, n, m, seed=6)
    spec = MacLayerSpec(build_mac(4, fmt, total=n, bias=True),
                        build_mac_finish(fmt, total=n, bias=True, out="e4m3",
                                         activation="relu"),
                        w.tolist(), bias.tolist(), name="lm")
    _stream(sim, spec, fmt, x, w, bias, "e4m3", relu=True, top="mac_stream")


@pytest.mark.regress
@pytest.mark.parametrize("sim", SIMS)
def test_lanes_stream_layer(sim):
    """A 4 -> 5 exact layer on 2 pipelined dot-product lanes, FP16 out: 1,500 dot products."""
    from spikegate.gen.dot import build_linear
    fmt, n, m, count = "e5m2", 4, 5, 300
    x, _, _ = dot_vectors(fmt, n, count, seed=7, bias=False)
    w, _, bias = dot_vectors(fmt, n, m, seed=8)
    dp = build_linear(n, 2, fmt, bias="port", out="fp16", name="lanes_dp")
    spec = LayerSpec(dp, w.tolist(), bias.tolist(), stages=2, name="ll")
    _stream(sim, spec, fmt, x, w, bias, "fp16", top="lanes_stream")


MODES = [("exact", "tree", "e4m3"), ("fp32", "tree", "fp32"), ("fp32", "sequential", "fp32"),
         ("fp16", "tree", "fp16"), ("fp16", "sequential", "e4m3"), ("fp8", "tree", None),
         ("fp8", "sequential", None)]


#: (simulator, accumulation, order) streamed in ``make test``: every accumulation and both
#: orders on Verilator (the stream control is the same in every mode, and every mode's
#: datapath runs on the torch engine in tests/test_linear.py); the rest is ``make regress``
STREAMED_QUICK = {("verilator", "exact", "tree"), ("verilator", "fp32", "sequential"),
                  ("verilator", "fp16", "tree"), ("verilator", "fp8", "sequential"),
                  ("icarus", "exact", "tree")}


def _mode_cases(quick=frozenset()):
    """Every mode on both simulators; those not in ``quick`` under ``make regress``."""
    for sim in SIMS:
        for accum, order, out in MODES:
            marks = () if (sim, accum, order) in quick else (pytest.mark.regress,)
            yield pytest.param(sim, accum, order, out, marks=marks,
                               id=f"{sim}-{accum}-{order}-{out}")


@pytest.mark.parametrize("sim,accum,order,out", list(_mode_cases()))
def test_every_mode_spatial(sim, accum, order, out):
    _spatial(sim, "e4m3", 4, accum, order, out, 2, 2000, seed=11)


@pytest.mark.slow
@pytest.mark.parametrize("sim,accum,order,out", list(_mode_cases(STREAMED_QUICK)))
def test_every_mode_streamed(sim, accum, order, out):
    """Time-multiplexed 4 -> 4 layer, 500 vectors = 2,000 dot products: 2 lanes, or 1 for
    the float-accumulating modes (their adders are most of the build; the lanes' control is
    the same in every mode)."""
    from spikegate.gen.dot import build_linear
    from spikegate.golden.torch_dot import torch_linear
    fmt, n, m, count = "e4m3", 4, 4, 500
    x, _, _ = dot_vectors(fmt, n, count, seed=12, bias=False)
    w, _, bias = dot_vectors(fmt, n, m, seed=13)
    lanes = 1 if accum in ("fp16", "fp32") else 2
    dp = build_linear(n, lanes, fmt, accum=accum, order=order, out=out, bias="port",
                      name="mode_dp")
    spec = LayerSpec(dp, w.tolist(), bias.tolist(), stages=2, name="lm")
    top = f"mode_{accum}_{order}"
    r = run_stream(verilog=stream_verilog([spec], top=top), top=top, in_width=n * 8,
                   out_width=m * spec.out_width, payloads=_layer_payloads(x), simulator=sim)
    got = _unpack(r.outputs, m, spec.out_width)
    outf = dp.meta["out_format"]
    exp = (linear_exact(fmt, x, w, bias, out=outf) if accum == "exact" else
           torch_linear(fmt, x, w, bias, accum=accum, order=order, out=outf))
    assert np.array_equal(got, exp)


def test_cli_streamed_layer_and_mlp_verify(tmp_path, capsys):
    """`spikegate generate linear --mac` and `generate mlp --model` then `verify` on Icarus:
    both pass, and a changed ROM weight in layers.json is reported in hex."""
    import json

    import torch

    from spikegate.cli import main
    lin = tmp_path / "lin"
    assert main(["generate", "linear", "--in", "5", "--out", "3", "--mac", "2", "--bias",
                 "random", "-o", str(lin), "--quiet"]) == 0
    assert main(["verify", str(lin), "--sim", "icarus", "--vectors", "100", "--quiet"]) == 0
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(model, tmp_path / "mlp.pt")
    mlp = tmp_path / "mlp"
    assert main(["generate", "mlp", "--model", str(tmp_path / "mlp.pt"), "--lanes", "2",
                 "--accum", "fp8", "-o", str(mlp), "--quiet"]) == 0
    assert main(["verify", str(mlp), "--sim", "icarus", "--vectors", "100", "--quiet"]) == 0
    layers = json.loads((lin / "layers.json").read_text())
    layers["layers"][0]["weight"][1][2] ^= 0x10
    (lin / "layers.json").write_text(json.dumps(layers))
    capsys.readouterr()
    assert main(["verify", str(lin), "--sim", "icarus", "--vectors", "100"]) == 1
    err = capsys.readouterr().err
    assert "vectors mismatch" in err and "y1: got 0x" in err


def test_mlp_demo_on_a_few_images_and_verify_its_directory(tmp_path, capsys):
    """`make demo` end to end on 4 test images (Icarus): trained, cast, generated, every
    logit bit-identical to the torch FP8 reference; its folder re-verifies with the CLI."""
    import json

    from spikegate.cli import main
    from spikegate.demo_mlp import run_mlp_demo
    out = tmp_path / "mlp"
    assert run_mlp_demo(out, simulator="icarus", limit=4) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["logit_mismatches"] == 0 and report["logits_compared"] == 40
    assert report["golden_equals_torch_reference"] is True
    assert "## Co-simulation" in (out / "report.md").read_text()
    assert main(["verify", str(out), "--sim", "icarus", "--vectors", "4", "--quiet"]) == 0
