"""Hardening, robustness measurements and the ``robustness`` / ``bench engine`` commands."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from spikegate.cli import main
from spikegate.gen.fp8 import build_fp8_add, build_fp8_mul
from spikegate.gen.harden import harden, neuron_gain
from spikegate.sim.physics import Physics
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.robustness import cluster_interval, measure, wilson
from spikegate.sim.torch_engine import TorchEngine


@functools.lru_cache(maxsize=None)
def mul():
    return build_fp8_mul("e4m3")


@functools.lru_cache(maxsize=None)
def hardened(**kwargs):
    return harden(mul(), **kwargs)


# -- harden() ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"gain": 1}, {"replicas": 3}])
def test_harden_keeps_every_result(kwargs):
    nl = hardened(**kwargs)
    inputs = exhaustive_inputs(nl)
    got = TorchEngine(nl, device="cpu").run(inputs)["y"]
    assert (got == golden_outputs(mul(), inputs)["y"]).all()
    assert nl.meta["weight_unit"] == 2 and nl.meta["unit"] == "fp8-mul"
    if kwargs.get("replicas") == 3:
        assert len(nl.neurons) == 3 * len(mul().neurons) + nl.meta["hardening"]["voters"]


def test_harden_centres_every_margin():
    """Noiseless margins of the hardened multiplier are never below g (never zero)."""
    nl = hardened(gain=1)
    for n in nl.neurons[:40]:
        # fires iff sum + bias - threshold >= 0; integer sums are even, threshold odd
        assert all(w % 2 == 0 for w in n.weights) and (n.threshold - n.bias) % 2 == 1


def test_hardened_rtl_matches_engine():
    from spikegate.hdl.design import Design
    from spikegate.sim.amaranth_sim import run_amaranth
    nl = hardened()
    rng = np.random.default_rng(3)
    inputs = {k: rng.integers(0, 256, 200).astype(np.uint64) for k in ("a", "b")}
    rtl = run_amaranth(Design(nl), inputs)["y"]
    assert (TorchEngine(nl, device="cpu").run(inputs)["y"] == np.asarray(rtl, np.uint64)).all()


def test_hardening_effect_at_sigma_0_2():
    """The acceptance figure, on one pass over all pairs (the sweep uses more)."""
    base = measure(mul(), Physics(sigma=0.2), repeats=1, seed=11)
    hard = measure(hardened(), Physics(sigma=0.2), repeats=1, seed=11)
    assert base["bit_exact_fraction"] < 0.5
    assert hard["bit_exact_fraction"] >= 0.999
    assert hard["neurons"] == base["neurons"]          # gains cost no neuron
    assert hard["max_weight"] > base["max_weight"]


def test_neuron_gain_rule():
    assert neuron_gain(25, sigma=0.2, z=4.5) == 9       # 2 * 4.5 * 0.2 * 5 = 9
    assert neuron_gain(25, sigma=0.0, z=4.5) == 1
    assert neuron_gain(25, sigma=0.2, z=4.5, replicas=3) == 3


@pytest.mark.parametrize("kwargs,message", [
    ({"replicas": 2}, "replicas must be odd"),
    ({"gain": 0}, "gain must be a positive int"),
    ({"sigma": -1}, "sigma must be a finite number >= 0"),
])
def test_harden_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        harden(mul(), **kwargs)
    with pytest.raises(TypeError, match="must be a Netlist"):
        harden("fp8-mul")


# -- measure() ------------------------------------------------------------------------

def test_measure_deterministic_and_sampled():
    exact = measure(mul())
    assert exact["bit_exact_fraction"] == 1.0 and exact["ci95"] == [1.0, 1.0]
    assert not exact["sampled"] and exact["pairs"] == 65536
    t = measure(mul(), Physics(mode="temporal", beta=0.3), repeats=1, instances=256)
    lo, hi = t["ci95"]
    assert t["sampled"] and lo <= t["bit_exact_fraction"] <= hi and hi - lo < 0.05
    assert t["bit_exact_fraction"] < 0.9                # membranes carried over: wrong
    again = measure(mul(), Physics(mode="temporal", beta=0.3), repeats=1, instances=256)
    assert again["bit_exact_fraction"] == t["bit_exact_fraction"]


def test_intervals():
    lo, hi = wilson(0, 1000)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0.003 < hi < 0.004
    lo, hi = wilson(500, 1000)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.0619, abs=1e-3)
    lo, hi = cluster_interval([10, 0, 10, 0], [10, 10, 10, 10])
    assert lo < 0.5 < hi


def test_activity_in_measure():
    m = measure(build_fp8_add("e4m3"), activity=True)
    act = m["activity"]
    assert 0 < act["spikes_per_op"] < m["neurons"]
    assert act["synaptic_events_per_op"] > act["spikes_per_op"]
    assert "ESTIMATE" in m["energy_estimate"]["label"] and m["energy_estimate"]["pj_per_op"] > 0


# -- command line -------------------------------------------------------------------------

def test_cli_single_point_json(capsys):
    assert main(["robustness", "fp8-mul", "--format", "e4m3", "--sigma", "0.2", "--harden",
                 "--repeats", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("bit_exact_fraction", "pairs", "neurons", "ci95", "sigma", "mode", "seed",
                "activity", "energy_estimate"):
        assert key in out
    assert out["pairs"] == 65536 and out["bit_exact_fraction"] >= 0.999
    assert out["variant"] == "hardened"


def test_cli_temporal_point(capsys):
    assert main(["robustness", "fp8-add", "--format", "e5m2", "--mode", "temporal", "--beta",
                 "0.01", "--reset", "hard", "--repeats", "1", "--seed", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "temporal" and out["beta"] == 0.01 and out["format"] == "e5m2"


def test_cli_quick_sweep_writes_report(tmp_path, capsys):
    assert main(["robustness", "fp8-mul", "--quick", "-o", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / "robustness.md").exists()
    assert (tmp_path / "robustness_fp8-mul_e4m3.json").exists()
    assert summary["plots"] and all(p.endswith(".png") for p in summary["plots"])
    text = (tmp_path / "robustness.md").read_text()
    assert "fp8-mul e4m3" in text and "sources' claim" in text and "ESTIMATE" in text


@pytest.mark.parametrize("argv,message", [
    (["robustness", "fp8-mul", "--beta", "0.5"], "beta and leak_shift need mode='temporal'"),
    (["robustness", "fp8-mul", "--sigma", "-0.1"], "sigma must be >= 0"),
    (["robustness", "fp8-mul", "--mode", "temporal", "--beta", "2"], "beta must be <= 1"),
    (["robustness", "fp8-mul", "--sigma", "0.1", "--replicas", "3"],
     "--replicas needs --harden"),
    (["robustness", "fp8-mul", "--sigma", "0.1", "--harden", "--replicas", "2"],
     "replicas must be odd"),
    (["robustness", "all", "--sigma", "0.1"], "a single point needs one unit"),
    (["robustness", "fp8-mul", "--harden"], "select a single point"),
    (["robustness", "fp8-mul", "--sigma", "0.1", "--device", "tpu"], "unknown device 'tpu'"),
    (["bench", "engine"], "bench engine needs a unit"),
])
def test_cli_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_rejects_unknown_unit(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["robustness", "fp8-div", "--sigma", "0.1"])
    assert exc.value.code == 2
    assert "invalid choice: 'fp8-div'" in capsys.readouterr().err


def test_bench_engine_json(capsys):
    assert main(["bench", "engine", "fp8-add", "--format", "e4m3", "--device", "cpu",
                 "--repeat", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("pairs_per_s", "neuron_evals_per_s", "pairs", "neurons", "device"):
        assert key in out
    assert out["bit_exact"] and out["pairs"] == 65536 and out["device"] == "cpu"


def test_bench_engine_side_by_side_with_a_nexus_checkout(tmp_path, capsys):
    """--peer-nexus imports the peer's own module from a checkout and times it on the same
    pairs: a stand-in package with NEXUS's interface (MSB-first float spikes, SpikeMode)
    that is right except on NaN inputs shows up as exactly that fraction."""
    pkg = tmp_path / "atomic_ops"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import contextlib, torch\n"
        "from spikegate.golden.fp8 import mul_table\n"
        "class SpikeMode:\n"
        "    bit_exact = staticmethod(contextlib.nullcontext)\n"
        "class SpikeFP8Multiplier(torch.nn.Module):\n"
        "    def forward(self, A, B):\n"
        "        w = 2 ** torch.arange(7, -1, -1)\n"
        "        a, b = (A * w).sum(-1).long(), (B * w).sum(-1).long()\n"
        "        y = torch.as_tensor(mul_table('e4m3').astype('int64'))[a, b]\n"
        "        y = torch.where((a & 0x7F) == 0x7F, 0, y)     # wrong on NaN inputs\n"
        "        return ((y[:, None] >> torch.arange(7, -1, -1)) & 1).float()\n")
    assert main(["bench", "engine", "fp8-mul", "--repeat", "1", "--json",
                 "--peer-nexus", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    nan_pairs = 2 * 256                               # a is one of the two NaN codes
    assert out["nexus"]["bit_exact_fraction"] == round(1 - nan_pairs / 65536, 6)
    assert out["speedup_vs_nexus"]["fast_path"] > 0
    assert main(["bench", "engine", "fp8-mul", "--repeat", "1", "--peer-nexus", str(pkg)]) == 2
    err = capsys.readouterr().err
    assert "no atomic_ops/ package there" in err and len(err.strip().splitlines()) == 1
    assert main(["bench", "engine", "dot64", "--peer-nexus", str(tmp_path)]) == 2
    assert "NEXUS has no dot64" in capsys.readouterr().err
