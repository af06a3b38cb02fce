"""The IFNeuron RTL: gate mode is the threshold function, temporal mode matches the
cycle-by-cycle reference model in ``golden.neuron``."""

import itertools
import random

import pytest
from amaranth.sim import Simulator

from spikegate.golden.neuron import if_run
from spikegate.hdl.neuron import IFNeuron


def _run(neuron, trains):
    fires = []

    async def bench(ctx):
        for spikes in trains:
            ctx.set(neuron.spikes, sum(s << i for i, s in enumerate(spikes)))
            fires.append(ctx.get(neuron.fire))
            if neuron.mode == "temporal":
                await ctx.tick()

    sim = Simulator(neuron)
    if neuron.mode == "temporal":
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return fires


@pytest.mark.parametrize("weights,bias,threshold", [
    ((1, 1), 0, 2), ((1, 1, 1), 0, 2), ((-1,), 0, 0), ((4, -3, 2, 1), 1, 3), ((8, 8, -16), -2, 1)])
def test_gate_mode_is_threshold_function(weights, bias, threshold):
    trains = list(itertools.product((0, 1), repeat=len(weights)))
    got = _run(IFNeuron(weights=weights, threshold=threshold, bias=bias), trains)
    want = [int(bias + sum(w * s for w, s in zip(weights, t)) >= threshold) for t in trains]
    assert got == want, f"first mismatch at spikes {trains[[g != w for g, w in zip(got, want)].index(True)]}"


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("leak_shift", [None, 1, 3])
@pytest.mark.parametrize("weights,bias,threshold", [((3, 2, -1), 0, 5), ((1, 1, 1, 1), -1, 3)])
def test_temporal_mode_matches_reference(reset, leak_shift, weights, bias, threshold):
    rng = random.Random(7)
    trains = [tuple(rng.randint(0, 1) for _ in weights) for _ in range(200)]
    params = dict(weights=weights, threshold=threshold, bias=bias, reset=reset,
                  leak_shift=leak_shift)
    got = _run(IFNeuron(mode="temporal", **params), trains)
    want = if_run(trains, mode="temporal", **params)
    assert got == want
    assert sum(want) > 10  # the trains really exercise firing and integration


def test_temporal_differs_from_gate_mode():
    """Integration over cycles is real: a weak input fires only every few cycles."""
    trains = [(1,)] * 6
    assert _run(IFNeuron(weights=(1,), threshold=3, mode="temporal"), trains) == [0, 0, 1, 0, 0, 1]
    assert _run(IFNeuron(weights=(1,), threshold=3), trains) == [0] * 6


def test_parameter_errors():
    with pytest.raises(TypeError, match="weight must be an int, not 0.5: scale weights"):
        IFNeuron(weights=(0.5,), threshold=1)
    with pytest.raises(ValueError, match="mode must be one of gate, temporal, not 'analog'"):
        IFNeuron(weights=(1,), threshold=1, mode="analog")
    with pytest.raises(ValueError, match="leak_shift needs mode='temporal'"):
        IFNeuron(weights=(1,), threshold=1, leak_shift=2)
