"""The torch engine: bit-identity with the golden and the RTL, physics, seeds, activity.

Speed is never asserted here (see ``spikegate bench engine``).
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest
import torch

from spikegate.gen.builder import NetlistBuilder
from spikegate.gen.fp8 import build_fp8_add, build_fp8_mul
from spikegate.gen.netlist import Netlist, Neuron
from spikegate.golden.neuron import if_run, if_step
from spikegate.sim import torch_engine
from spikegate.sim.physics import Physics
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.torch_engine import TorchEngine, resolve_device

BUILDERS = {"mul": build_fp8_mul, "add": build_fp8_add}


@functools.lru_cache(maxsize=None)
def unit(op, fmt):
    return BUILDERS[op](fmt, policy="torch")


@functools.lru_cache(maxsize=None)
def golden(op, fmt):
    nl = unit(op, fmt)
    inputs = exhaustive_inputs(nl)
    return inputs, golden_outputs(nl, inputs)["y"]


@functools.lru_cache(maxsize=None)
def engine(op, fmt):
    return TorchEngine(unit(op, fmt), device="cpu")


# -- ideal gate mode: bit-identical to the golden and to the RTL ---------------------------

@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
@pytest.mark.parametrize("op", ["mul", "add"])
def test_noiseless_all_pairs_bit_exact(op, fmt):
    inputs, expected = golden(op, fmt)
    got = engine(op, fmt).run(inputs)["y"]
    assert got.dtype == np.uint64 and len(got) == 65536
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{op} {fmt}: {bad.size} mismatches, first a={inputs['a'][bad[0]]:#x}"


@pytest.mark.parametrize("op", ["mul", "add"])
def test_every_path_agrees_when_nothing_is_random(op, monkeypatch):
    """Ideal path, the physics path at sigma=0, CSR levels, one or two threads, odd batch."""
    inputs, expected = golden(op, "e4m3")
    e = engine(op, "e4m3")
    assert (e.run(inputs, batch=1000, threads=1)["y"] == expected).all()
    zero = e.simulate(inputs, physics=Physics(faults={}), instances=7).outputs["y"]
    assert (zero == expected).all()
    monkeypatch.setattr(torch_engine, "SPARSE_RATIO", 0)
    monkeypatch.setattr(torch_engine, "SPARSE_MIN", 0)
    sparse = TorchEngine(unit(op, "e4m3"), device="cpu")
    assert all(L.sparse is not None for L in sparse.levels)
    assert (sparse.run(inputs)["y"] == expected).all()
    assert (sparse.run(inputs, sigma=1e-9, seed=1)["y"] == expected).mean() > 0  # runs


def test_matches_amaranth_rtl_on_random_pairs():
    from spikegate.hdl.design import Design
    from spikegate.sim.amaranth_sim import run_amaranth
    rng = np.random.default_rng(7)
    inputs = {"a": rng.integers(0, 256, 256).astype(np.uint64),
              "b": rng.integers(0, 256, 256).astype(np.uint64)}
    for op in ("mul", "add"):
        rtl = run_amaranth(Design(unit(op, "e4m3")), inputs)["y"]
        assert (engine(op, "e4m3").run(inputs)["y"] == np.asarray(rtl, np.uint64)).all()


def test_wide_buses_and_scalar_reference():
    b = NetlistBuilder("wide")
    x = b.input("x", 40)
    y = [b.neuron({x[i]: 1, x[(i + 7) % 40]: -2}, threshold=0) for i in range(40)]
    b.output("y", y)
    nl = b.build()
    vals = np.random.default_rng(1).integers(0, 1 << 40, 300, dtype=np.uint64)
    got = TorchEngine(nl, device="cpu").run({"x": vals})["y"]
    want = [nl.evaluate({"x": int(v)})["y"] for v in vals]
    assert got.tolist() == want


# -- physics: seeds, noise, variation, faults ----------------------------------------------

def test_seeded_and_reproducible():
    inputs, _ = golden("mul", "e4m3")
    e = engine("mul", "e4m3")
    kw = dict(sigma=0.1, delta=0.05, instances=16)
    a = e.run(inputs, seed=3, **kw)["y"]
    assert (a == e.run(inputs, seed=3, threads=1, **kw)["y"]).all()   # threads don't matter
    assert (a != e.run(inputs, seed=4, **kw)["y"]).any()
    t = dict(mode="temporal", beta=0.5, sigma=0.05, instances=256)
    few = {k: v[::8] for k, v in inputs.items()}
    assert (e.run(few, seed=9, **t)["y"] == e.run(few, seed=9, **t)["y"]).all()


def test_noise_and_variation_change_results():
    inputs, expected = golden("mul", "e4m3")
    e = engine("mul", "e4m3")
    assert (e.run(inputs, sigma=0.3)["y"] == expected).mean() < 0.5
    assert (e.run(inputs, delta=0.3, instances=32)["y"] == expected).mean() < 0.5
    # a threshold offset is drawn once per chip: the same chip errs on the same pairs
    one_chip = [e.run(inputs, delta=0.3, seed=5)["y"] == expected for _ in range(2)]
    assert (one_chip[0] == one_chip[1]).all()


def test_absolute_noise_is_per_active_synapse():
    """One neuron, 4 active synapses, sigma 0.5: the sum's spread is 0.5 * sqrt(4) = 1."""
    nl = Netlist("n", {"x": (2, 3, 4, 5)}, {"y": (6,)},
                 [Neuron("n0", 6, (2, 3, 4, 5), (1, 1, 1, 1), 0, 4)], 7)
    e = TorchEngine(nl, device="cpu")
    ones = {"x": np.full(200_000, 15, np.uint64)}         # sum 4 = threshold: P = 1/2
    assert abs(e.run(ones, sigma=0.5)["y"].mean() - 0.5) < 0.01
    two = {"x": np.full(200_000, 3, np.uint64)}            # sum 2, threshold 4: 2 sigma
    frac = e.run(two, sigma=1.0 / np.sqrt(2))["y"].mean()  # 2 active: std 1, P(N >= 2)
    assert abs(frac - 0.02275) < 0.003
    rel = e.run(two, sigma=0.5, noise="relative")["y"].mean()  # std 0.5*sqrt(2)
    assert abs(rel - 0.00234) < 0.001


def test_stuck_at_faults():
    inputs, expected = golden("mul", "e4m3")
    nl = unit("mul", "e4m3")
    out_net = nl.outputs["y"][0]
    name = next(n.name for n in nl.neurons if n.out == out_net)
    e = engine("mul", "e4m3")
    for v in (0, 1):
        got = e.run(inputs, faults={name: v})["y"]
        assert ((got & 1) == v).all()
        assert ((got >> 1) == (expected >> 1)).all()
    with pytest.raises(ValueError, match="unknown neuron"):
        e.run(inputs, faults={"nope": 1})
    with pytest.raises(ValueError, match="must be 0 or 1"):
        Physics(faults={name: 2})


# -- temporal mode against golden/neuron.py ------------------------------------------------

def _single(weights, threshold):
    k = len(weights)
    return Netlist("one", {"x": tuple(range(2, 2 + k))}, {"y": (2 + k,)},
                   [Neuron("n0", 2 + k, tuple(range(2, 2 + k)), tuple(weights), 0,
                           threshold)], 3 + k)


@pytest.mark.parametrize("trial", range(6))
def test_temporal_single_neuron_matches_golden(trial):
    rnd = random.Random(trial)
    k = rnd.randint(1, 5)
    weights = [rnd.randint(-4, 6) for _ in range(k)]
    threshold = rnd.randint(1, 8)
    streams, steps = 5, 40
    trains = [[[rnd.randint(0, 1) for _ in range(k)] for _ in range(steps)]
              for _ in range(streams)]
    # vector i is step i // streams of stream i % streams
    x = np.array([sum(b << j for j, b in enumerate(trains[i % streams][i // streams]))
                  for i in range(streams * steps)], np.uint64)
    e = TorchEngine(_single(weights, threshold), device="cpu")
    for reset in ("soft", "hard"):
        for leak_shift in (None, 1, 3):
            got = e.run({"x": x}, mode="temporal", reset=reset, leak_shift=leak_shift,
                        instances=streams)["y"]
            for s in range(streams):
                want = if_run(trains[s], weights=weights, threshold=threshold, reset=reset,
                              leak_shift=leak_shift)
                assert got[s::streams].tolist() == want, (reset, leak_shift, s)
        for beta in (1.0, 0.5, 0.01):       # LIF decay: if_step fed beta * v
            got = e.run({"x": x}, mode="temporal", reset=reset, beta=beta,
                        instances=streams)["y"]
            for s in range(streams):
                v, want = 0.0, []
                for spikes in trains[s]:
                    fire, v = if_step(beta * v, spikes, weights=weights, threshold=threshold,
                                      reset=reset)
                    want.append(fire)
                assert got[s::streams].tolist() == want, (reset, beta, s)


def test_temporal_uses_physical_form_for_neurons_that_fire_at_rest():
    """NOT (w=-1, threshold 0) integrates a bias current 1 against threshold 1."""
    nl = Netlist("not", {"x": (2,)}, {"y": (3,)}, [Neuron("n0", 3, (2,), (-1,), 0, 0)], 4)
    train = [[0], [0], [1], [0], [1], [1], [0]]
    x = np.array([t[0] for t in train], np.uint64)
    got = TorchEngine(nl, device="cpu").run({"x": x}, mode="temporal")["y"]
    assert got.tolist() == if_run(train, weights=[-1], threshold=1, bias=1)


def test_temporal_equals_gate_mode_when_leak_clears_and_reset_is_hard():
    inputs, expected = golden("add", "e4m3")
    got = engine("add", "e4m3").run(inputs, mode="temporal", beta=1e-6, reset="hard",
                                     instances=4096)["y"]
    assert (got == expected).mean() > 0.999


# -- activity and devices -------------------------------------------------------------------

def test_activity_counts():
    b = NetlistBuilder("act")
    x = b.input("x", 2)
    a = b.neuron({x[0]: 1, x[1]: 1}, threshold=2, name="and")
    o = b.neuron({x[0]: 1, x[1]: 1, a: 1}, threshold=1, name="or")
    b.output("y", (a, o))
    nl = b.build()
    res = TorchEngine(nl, device="cpu").simulate({"x": np.arange(4, dtype=np.uint64)},
                                                 activity=True)
    assert res.neuron_spikes.tolist() == [1, 3]          # AND once, OR three times
    assert res.input_spikes == 4
    # events: each input bit feeds 2 synapses (4 spikes -> 8), AND feeds OR (1)
    assert res.synaptic_events == 9
    act = res.activity()
    assert act["spikes_per_op"] == 1.0 and act["neuron_evals_per_op"] == 2


def test_device_selection_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == "cpu"
    assert resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="torch sees no GPU: use --device cpu"):
        TorchEngine(unit("mul", "e4m3"), device="cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")


@pytest.mark.parametrize("kwargs,message", [
    (dict(sigma=-0.1), "sigma must be >= 0"),
    (dict(delta=float("nan")), "delta must be a finite number"),
    (dict(mode="temporal", beta=0.0), "beta must be > 0 and <= 1"),
    (dict(mode="temporal", beta=1.5), "beta must be <= 1"),
    (dict(beta=0.5), "beta and leak_shift need mode='temporal'"),
    (dict(mode="temporal", beta=0.5, leak_shift=2), "give beta or leak_shift, not both"),
    (dict(mode="spiking"), "mode must be one of gate, temporal"),
    (dict(noise="pink"), "noise must be one of absolute, relative"),
    (dict(reset="slow"), "reset must be one of soft, hard"),
])
def test_physics_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Physics(**kwargs)


def test_run_errors():
    e = engine("mul", "e4m3")
    with pytest.raises(ValueError, match="missing input buses"):
        e.run({"a": [1]})
    with pytest.raises(ValueError, match="different lengths"):
        e.run({"a": [1, 2], "b": [1]})
    with pytest.raises(ValueError, match="instances must be a positive int"):
        e.run({"a": [1], "b": [1]}, instances=0)
    with pytest.raises(TypeError, match="not both"):
        e.run({"a": [1], "b": [1]}, physics=Physics(), sigma=0.1)
