"""Hardening: netlist transforms that keep the logic and widen every neuron's noise margin.

An integer-weight neuron fires when its margin ``m = sum(w x) + bias - threshold`` is
``>= 0``. As generated, a neuron whose sum lands exactly on the threshold fires with *zero*
margin, so any analog noise flips it half the time. :func:`harden` rewrites each neuron as

    w' = 2 g w,   bias' = 2 g bias,   threshold' = 2 g threshold - g

so that ``m' = 2 g m + g``: ``m >= 0`` gives ``m' >= g`` and ``m <= -1`` gives ``m' <= -g``.
The threshold sits in the middle of the integer gap (like the sources' ``IF_1.5`` AND gate)
and the logic is unchanged bit for bit. ``meta['weight_unit']`` records the integer that
stands for one unit of synaptic efficacy (it doubles), so a neuron's physical margin is
``g / 2`` units on either side, against absolute synaptic noise ``sigma * sqrt(n)`` over
its ``n`` active synapses (see :mod:`spikegate.sim.physics`).

* ``gain=1`` only centres the thresholds: same synaptic efficacy, margin +-0.5 unit.
* ``gain=None`` (default) gives *each neuron* the smallest integer gain ``g`` with
  ``g / 2 >= z * sqrt(sigma**2 * fanin + delta**2)``: its worst case (every synapse
  active) is ``z`` standard deviations from flipping. Costs no neuron; costs synaptic
  efficacy (charge per event, membrane range: ``log2(2 g)`` more bits per neuron).
* ``replicas=R`` (odd) adds folded majority redundancy: every neuron becomes R copies,
  each reading *all* R copies of each neuron input (and each primary input once, R times
  as strongly), with threshold ``R`` times as high, so one wrong copy of an input is
  outvoted inside the next neuron's sum whenever ``|w| < R/2``; output bits get one
  majority neuron each. Costs about R times the neurons and R**2 the synapses; helps
  against relative (conductance-proportional) noise, which gains cannot touch.
"""

from __future__ import annotations

import math

from .netlist import CONST0, CONST1, Netlist, Neuron, check_name

__all__ = ["harden", "neuron_gain"]


def neuron_gain(synapses, *, sigma, delta=0.0, z=4.5, unit=1, replicas=1):
    """Smallest integer gain putting the worst case ``z`` standard deviations from a flip.

    ``synapses``: synapses of the hardened neuron; ``unit``: weight unit of the netlist
    being hardened; the margin ``g * replicas / (2 * unit)`` (units) must reach
    ``z * sqrt(sigma**2 * synapses + delta**2)``.
    """
    need = 2 * unit * z * math.sqrt(sigma ** 2 * synapses + delta ** 2) / replicas
    return max(1, math.ceil(need - 1e-9))


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, not {value!r}")
    return value


def harden(netlist: Netlist, *, sigma=0.2, delta=0.0, z=4.5, gain=None, replicas=1,
           vote=True, name=None) -> Netlist:
    """A logically identical netlist with centred thresholds, scaled weights, redundancy.

    Parameters
    ----------
    netlist : Netlist
    sigma, delta : float
        Design point (absolute synaptic noise, threshold variation, in units of synaptic
        efficacy) for the per-neuron gains; ignored when ``gain`` is given.
    z : float
        Margin in standard deviations at the design point.
    gain : int or None
        One gain for every neuron (``1``: centre the thresholds only).
    replicas : int
        Odd number of folded redundant copies of every neuron (1: none).
    vote : bool
        With replicas, add a majority neuron per output bit (else outputs read copy 0).
    name : str or None
        Name of the result (default ``<name>_h``).

    Returns
    -------
    Netlist
        ``meta`` carries the original's, plus ``weight_unit`` and ``hardening``.
    """
    if not isinstance(netlist, Netlist):
        raise TypeError(f"netlist must be a Netlist, not {netlist!r}")
    for value, what in ((sigma, "sigma"), (delta, "delta"), (z, "z")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                or not math.isfinite(value):
            raise ValueError(f"{what} must be a finite number >= 0, not {value!r}")
    if gain is not None:
        _positive_int(gain, "gain")
    _positive_int(replicas, "replicas")
    if replicas % 2 == 0:
        raise ValueError(f"replicas must be odd so that a majority exists, not {replicas}")
    name = check_name(name or f"{netlist.name}_h", "netlist name")
    unit = int(netlist.meta.get("weight_unit", 1))
    R = replicas
    primary = {CONST0, CONST1} | netlist.input_nets()
    next_net = netlist.net_count
    copies = {}                   # original neuron net -> its R replica nets
    neurons, gains = [], []
    for n in netlist.neurons:
        syn = sum(1 if i in primary else R for i in n.inputs)
        g = gain if gain is not None else neuron_gain(syn, sigma=sigma, delta=delta, z=z,
                                                      unit=unit, replicas=R)
        gains.append(g)
        inputs, weights = [], []
        for i, w in zip(n.inputs, n.weights):
            if i in primary:
                inputs.append(i)
                weights.append(2 * g * R * w)
            else:
                inputs.extend(copies[i])
                weights.extend([2 * g * w] * R)
        outs = []
        for r in range(R):
            label = n.name if R == 1 else f"{n.name}_r{r}"
            neurons.append(Neuron(label, next_net, tuple(inputs), tuple(weights),
                                  2 * g * R * n.bias, R * (2 * g * n.threshold - g), n.block))
            outs.append(next_net)
            next_net += 1
        copies[n.out] = tuple(outs)
    outputs = {}
    voters = 0
    voted = {}
    for bus, nets in netlist.outputs.items():
        mapped = []
        for net in nets:
            if net in primary:
                mapped.append(net)
            elif R == 1 or not vote:
                mapped.append(copies[net][0])
            else:
                if net not in voted:
                    g = gain if gain is not None else neuron_gain(R, sigma=sigma, delta=delta,
                                                                  z=z, unit=unit)
                    # majority of R copies, centred: sum(2g x) >= g (R + 1) - g = g R
                    src = next(x for x in netlist.neurons if x.out == net)
                    neurons.append(Neuron(f"{src.name}_vote", next_net, copies[net],
                                          (2 * g,) * R, 0, g * R, "vote"))
                    voted[net] = next_net
                    next_net += 1
                    voters += 1
                mapped.append(voted[net])
        outputs[bus] = tuple(mapped)
    meta = dict(netlist.meta)
    meta["weight_unit"] = 2 * unit
    meta["hardening"] = {
        "gain": gain if gain is not None else "per-neuron",
        "sigma": sigma if gain is None else None, "delta": delta if gain is None else None,
        "z": z if gain is None else None, "replicas": R, "voters": voters,
        "max_gain": max(gains, default=1), "mean_gain": sum(gains) / max(len(gains), 1),
        "base_neurons": len(netlist.neurons), "base_weight_unit": unit,
    }
    return Netlist(name, dict(netlist.inputs), outputs, neurons, next_net, meta)
