"""Robustness and activity measurements: how many of all input pairs stay bit-exact.

:func:`measure` runs a netlist's whole exhaustive input set (all 65,536 pairs of an FP8
unit) through the torch engine under one :class:`~spikegate.sim.physics.Physics` and
compares every output with the golden model.

Sampling and confidence intervals
---------------------------------
When the physics is random (noise, variation) or stateful (temporal mode), each repeat
permutes the pairs with a seeded RNG and spreads them over ``instances`` simulated chips
(pair ``i`` of the permutation runs on chip ``i % instances``; in temporal mode that chip
is a stream evaluating its pairs in order from membranes at rest). Every repeat draws new
chips and new noise. The estimate is the fraction of correct evaluations; its 95 % interval
is the union of a Wilson score interval on the pooled count (exact-enough when evaluations
are independent, i.e. synaptic noise only) and a cluster interval over chips (the ratio
estimator's between-chip variance, which covers per-chip threshold offsets and the
temporal coupling between consecutive operations). When nothing is random the run is
deterministic and the interval is the point itself.

With no error observed, both intervals assume errors are not concentrated in a few chips;
``chips`` and ``chips_with_errors`` are reported so that a reader can bound the chip-level
failure rate separately (0 of C chips: below 3.7 / C at 95 %).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..gen.netlist import Netlist
from .physics import Physics
from .regress import exhaustive_inputs, golden_outputs
from .torch_engine import TorchEngine

__all__ = ["measure", "wilson", "cluster_interval", "activity_report", "ENERGY_MODEL",
           "energy_estimate", "DEFAULT_INSTANCES"]

#: simulated chips per repeat when sampling is involved (temporal: parallel streams, so
#: every stream runs 65,536 / 256 = 256 consecutive operations)
DEFAULT_INSTANCES = 256
Z95 = 1.959963984540054

#: Per-event energy model (an *estimate*, not a measurement). Figures of the order reported
#: for a digital neuromorphic core (Intel Loihi: Davies et al., "Loihi: A Neuromorphic
#: Manycore Processor with On-Chip Learning", IEEE Micro 38(1), 2018, Table 2), as recalled
#: here: check the paper before quoting them. Every neuron is updated once per operation
#: (the whole unit is one wave), every synaptic event costs one synaptic op, every spike
#: (neuron or primary input) one within-tile spike delivery. Routing between cores, static
#: power, the encoders and the clock are not included.
ENERGY_MODEL = {
    "pj_per_synaptic_event": 23.6,
    "pj_per_neuron_update": 52.0,
    "pj_per_spike": 1.7,
    "source": "per-event figures of the order reported for Intel Loihi (Davies et al., IEEE "
              "Micro 38(1), 2018, Table 2), recalled, not re-measured; routing, static "
              "power and I/O excluded",
}


def wilson(k, n, z=Z95):
    """Wilson score interval for ``k`` successes in ``n`` trials."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def cluster_interval(ok, total, z=Z95):
    """Normal interval of ``sum(ok) / sum(total)`` with clusters (chips) as the sample."""
    ok, total = np.asarray(ok, float), np.asarray(total, float)
    keep = total > 0
    ok, total = ok[keep], total[keep]
    c = len(total)
    if c < 2:
        return (0.0, 1.0)
    f = ok.sum() / total.sum()
    var = c / (c - 1) * np.sum((ok - f * total) ** 2) / total.sum() ** 2
    half = z * math.sqrt(var)
    return (max(0.0, f - half), min(1.0, f + half))


_GOLDEN: dict = {}


def exhaustive_with_golden(netlist: Netlist):
    """``(inputs, expected)`` for the netlist's whole input space (cached per unit)."""
    m = netlist.meta
    key = (m.get("unit"), m.get("format"), m.get("policy"), m.get("width"),
           tuple((b, len(n)) for b, n in netlist.inputs.items()))
    if key[0] is None:
        inputs = exhaustive_inputs(netlist)
        return inputs, golden_outputs(netlist, inputs)
    if key not in _GOLDEN:
        if len(_GOLDEN) > 16:
            _GOLDEN.clear()
        inputs = exhaustive_inputs(netlist)
        if key[0] in ("fp8-mul", "fp8-add"):
            # the exact, torch-free tables: equal to torch 2.13's results under each policy
            # (tests/test_golden_fp8.py), and usable beside another torch (a GPU machine)
            from ..golden.fp8 import add_table, mul_table
            table = (mul_table if key[0] == "fp8-mul" else add_table)(key[1], key[2])
            y = table[inputs["a"].astype(np.int64), inputs["b"].astype(np.int64)]
            _GOLDEN[key] = (inputs, {"y": y.astype(np.uint64)})
        else:
            _GOLDEN[key] = (inputs, golden_outputs(netlist, inputs))
    return _GOLDEN[key]


def measure(netlist: Netlist, physics: Physics | None = None, *, repeats=1, instances=None,
            seed=0, device=None, engine: TorchEngine | None = None, activity=False,
            batch=None) -> dict:
    """Bit-exact fraction of the whole exhaustive input set under ``physics``.

    Returns a JSON-ready dict: ``bit_exact_fraction``, ``ci95``, ``pairs``,
    ``evaluations``, ``errors``, ``sampled``, the physics, structure figures and, with
    ``activity=True``, mean spikes / synaptic events per operation and the energy estimate.
    """
    physics = physics or Physics()
    if not isinstance(physics, Physics):
        raise TypeError(f"physics must be a Physics, not {physics!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, not {repeats!r}")
    start = time.perf_counter()
    engine = engine or TorchEngine(netlist, device=device)
    inputs, expected = exhaustive_with_golden(netlist)
    count = len(next(iter(inputs.values())))
    sampled = physics.random or physics.mode == "temporal"
    if instances is None:
        instances = DEFAULT_INSTANCES if (physics.delta > 0 or physics.mode == "temporal") else 1
    if not sampled:
        repeats = 1
    ok_total, cl_ok, cl_n = 0, [], []
    wrong_pairs = np.zeros(count, dtype=bool)
    act = None
    for r in range(repeats):
        if sampled:
            perm = np.random.default_rng([seed, r]).permutation(count)
            ins = {k: v[perm] for k, v in inputs.items()}
        else:
            perm, ins = np.arange(count), inputs
        res = engine.simulate(ins, physics=physics, instances=instances,
                              seed=seed * 1000 + r, activity=activity and r == 0, batch=batch)
        ok = np.ones(count, dtype=bool)
        for bus, exp in expected.items():
            ok &= res.outputs[bus] == np.asarray(exp, dtype=np.uint64)[perm]
        wrong_pairs[perm[~ok]] = True
        ok_total += int(ok.sum())
        chip = np.arange(count) % instances
        cl_ok.extend(np.bincount(chip, weights=ok, minlength=instances).tolist())
        cl_n.extend(np.bincount(chip, minlength=instances).tolist())
        if activity and r == 0:
            act = res.activity()
    n = count * repeats
    frac = ok_total / n
    chips = len(cl_n) if instances > 1 else 0
    bad_chips = int(sum(1 for k, m in zip(cl_ok, cl_n) if k < m)) if chips else 0
    if sampled:
        lo1, hi1 = wilson(ok_total, n)
        lo2, hi2 = cluster_interval(cl_ok, cl_n) if instances > 1 else (lo1, hi1)
        ci = (min(lo1, lo2), max(hi1, hi2))
        method = "wilson + chip-cluster union" if instances > 1 else "wilson"
    else:
        ci, method = (frac, frac), "exact (deterministic)"
    st = netlist.stats()
    out = {
        "netlist": netlist.name, "unit": netlist.meta.get("unit"),
        "format": netlist.meta.get("format"), "policy": netlist.meta.get("policy"),
        **physics.describe(),
        "bit_exact_fraction": frac, "ci95": [ci[0], ci[1]], "ci_method": method,
        "pairs": count, "evaluations": n, "errors": n - ok_total,
        "pairs_ever_wrong": int(wrong_pairs.sum()), "repeats": repeats,
        "instances": instances, "chips": chips, "chips_with_errors": bad_chips,
        "seed": seed, "sampled": sampled,
        "neurons": st["neurons"], "synapses": st["synapses"], "depth": st["depth"],
        "max_weight": st["max_weight"], "weight_unit": int(netlist.meta.get("weight_unit", 1)),
        "device": str(engine.device),
    }
    if act is not None:
        out["activity"] = act
        out["energy_estimate"] = energy_estimate(act)
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def energy_estimate(act, model=ENERGY_MODEL):
    """Estimated energy per operation (pJ) from mean activity, with its breakdown."""
    parts = {
        "synaptic_events_pj": act["synaptic_events_per_op"] * model["pj_per_synaptic_event"],
        "neuron_updates_pj": act["neuron_evals_per_op"] * model["pj_per_neuron_update"],
        "spikes_pj": (act["spikes_per_op"] + act["input_spikes_per_op"]) * model["pj_per_spike"],
    }
    return {"label": "ESTIMATE from a per-event model, not a measurement",
            "pj_per_op": sum(parts.values()), **parts,
            "model": {k: v for k, v in model.items()}}


def activity_report(netlist: Netlist, *, device=None, engine=None):
    """Mean spikes, synaptic events and estimated energy per operation, exhaustive set."""
    engine = engine or TorchEngine(netlist, device=device)
    inputs, _ = exhaustive_with_golden(netlist)
    res = engine.simulate(inputs, activity=True)
    act = res.activity()
    spikes = res.neuron_spikes / max(res.vectors, 1)
    return {"netlist": netlist.name, "pairs": res.vectors, "neurons": len(netlist.neurons),
            **act, "never_firing_neurons": int((spikes == 0).sum()),
            "always_firing_neurons": int((spikes == 1).sum()),
            "energy_estimate": energy_estimate(act)}
