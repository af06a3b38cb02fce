"""Cycle-by-cycle reference of an integrate-and-fire neuron (the model the RTL must match).

Each step: the membrane leaks (``v -= v >> leak_shift``), integrates
``bias + sum(w_i * s_i)``, fires when it reaches ``threshold``, then resets: ``soft``
subtracts the threshold, ``hard`` clears to zero. The stored membrane never falls below
``floor`` (the resting potential). In gate mode the membrane starts from zero every step,
so the neuron is the pure threshold function ``[bias + sum(w_i * s_i) >= threshold]``.
"""

from __future__ import annotations

__all__ = ["if_step", "if_run"]


def if_step(v, spikes, *, weights, threshold, bias=0, reset="soft", leak_shift=None, floor=0):
    """One evaluation: returns ``(fire, next_membrane)``."""
    if leak_shift is not None:
        v -= v >> leak_shift
    v += bias + sum(w for w, s in zip(weights, spikes) if s)
    fire = int(v >= threshold)
    if fire:
        v = v - threshold if reset == "soft" else 0
    return fire, max(v, floor)


def if_run(spike_trains, *, mode="temporal", **params):
    """Fire pattern of a neuron fed one spike vector per step."""
    v, fires = 0, []
    for spikes in spike_trains:
        fire, v_next = if_step(v, spikes, **params)
        fires.append(fire)
        v = v_next if mode == "temporal" else 0
    return fires
