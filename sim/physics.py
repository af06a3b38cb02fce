"""Physical operating conditions of a simulated neuron chip: mode, leak, noise, faults.

A :class:`Physics` says how every neuron of a netlist behaves in the torch engine
(:mod:`spikegate.sim.torch_engine`). The default is the ideal threshold gate the RTL
implements: gate mode, no noise, no variation, no faults.

Units
-----
Every amplitude is in *unit-weight units*: the synaptic efficacy of a weight-1 synapse,
which is also the gap between two neighbouring integer membrane sums, i.e. the whole
decision margin of an integer-weight neuron. This is the unit in which the sources'
noise figures are stated (their spikes are 1.0 on weight-1 synapses with thresholds such
as 1.5), so sigma and delta here are directly comparable to theirs.

``noise="absolute"`` (default)
    Each *active* synapse (input spiking) adds ``w + sigma * N(0, 1)``: the noise of one
    synaptic event does not depend on its efficacy (read-out / thermal / shot noise of a
    fixed-size event). A neuron with ``n`` active synapses sees noise
    ``sigma * sqrt(n)``. Threshold variation is ``theta_i + delta * N(0, 1)``.
    Scaling every weight of a neuron by ``s`` (bigger synaptic charge) raises its margin
    ``s``-fold against this noise: that is what :func:`spikegate.gen.harden.harden` buys.
``noise="relative"``
    Each active synapse adds ``w * (1 + sigma * N(0, 1))`` (conductance-proportional
    variability), so the noise is ``sigma * sqrt(sum(w_i^2))`` over active synapses, and
    threshold variation is ``theta_i * (1 + delta * N(0, 1))``. Scaling weights buys
    nothing here; only redundancy (more synapses averaging) does.

The sum of independent Gaussians per synapse is drawn as one Gaussian per neuron and
evaluation with the summed variance: the same distribution, one random number per neuron.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Physics", "MODES", "RESETS", "NOISE_MODELS", "IDEAL"]

MODES = ("gate", "temporal")
RESETS = ("soft", "hard")
NOISE_MODELS = ("absolute", "relative")


def _number(value, what, *, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{what} must be {'>' if low_open else '>='} {low}"
                         + (f" and <= {high}" if high is not None else "") + f", not {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{what} must be <= {high}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Physics:
    """How every neuron behaves; validated on construction with one-line errors.

    Parameters
    ----------
    mode : {"gate", "temporal"}
        ``gate``: the membrane is cleared before every evaluation (the RTL's threshold
        gate). ``temporal``: the membrane carries over from one operation to the next.
    sigma : float
        Synaptic noise, drawn per active synapse and evaluation (see module docstring).
    delta : float
        Threshold variation: one offset per neuron, drawn once per simulated chip.
    noise : {"absolute", "relative"}
        Scale of sigma and delta (see module docstring).
    beta : float or None
        LIF leak, temporal mode only: ``v <- beta * v + input``, ``0 < beta <= 1``
        (None = 1, no leak).
    leak_shift : int or None
        The RTL's integer leak ``v <- v - floor(v / 2**k)`` (temporal mode only; exclusive
        with ``beta``).
    reset : {"soft", "hard"}
        After a spike subtract the threshold (soft) or clear the membrane (hard).
    floor : float
        Resting potential: the stored membrane never falls below it (temporal mode).
    faults : dict
        Neuron name -> 0 or 1: stuck-at faults, the output forced whatever the inputs.
    """

    mode: str = "gate"
    sigma: float = 0.0
    delta: float = 0.0
    noise: str = "absolute"
    beta: float | None = None
    leak_shift: int | None = None
    reset: str = "soft"
    floor: float = 0.0
    faults: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.reset not in RESETS:
            raise ValueError(f"reset must be one of {', '.join(RESETS)}, not {self.reset!r}")
        if self.noise not in NOISE_MODELS:
            raise ValueError(f"noise must be one of {', '.join(NOISE_MODELS)}, "
                             f"not {self.noise!r}")
        object.__setattr__(self, "sigma", _number(self.sigma, "sigma", low=0))
        object.__setattr__(self, "delta", _number(self.delta, "delta", low=0))
        object.__setattr__(self, "floor", _number(self.floor, "floor"))
        if self.beta is not None:
            object.__setattr__(self, "beta", _number(self.beta, "beta", low=0, high=1,
                                                     low_open=True))
        if self.leak_shift is not None and (isinstance(self.leak_shift, bool)
                                            or not isinstance(self.leak_shift, int)
                                            or self.leak_shift < 1):
            raise ValueError(f"leak_shift must be a positive int or None, "
                             f"not {self.leak_shift!r}")
        if self.beta is not None and self.leak_shift is not None:
            raise ValueError("give beta or leak_shift, not both: they are two models of the "
                             "same leak (float LIF decay, integer RTL shift)")
        if self.mode == "gate" and (self.beta is not None or self.leak_shift is not None):
            raise ValueError("beta and leak_shift need mode='temporal': a gate-mode membrane "
                             "is cleared every evaluation, so it cannot leak")
        if not isinstance(self.faults, dict):
            raise TypeError(f"faults must be a dict of neuron name -> 0 or 1, "
                            f"not {self.faults!r}")
        for name, value in self.faults.items():
            if value not in (0, 1) or isinstance(value, float):
                raise ValueError(f"stuck-at value of neuron {name!r} must be 0 or 1, "
                                 f"not {value!r}")

    @property
    def ideal(self):
        """True when the engine computes the RTL's exact threshold logic."""
        return (self.mode == "gate" and self.sigma == 0 and self.delta == 0
                and not self.faults)

    @property
    def random(self):
        """True when results depend on the seed (noise or variation drawn)."""
        return self.sigma > 0 or self.delta > 0

    def describe(self):
        d = {"mode": self.mode, "sigma": self.sigma, "delta": self.delta, "noise": self.noise}
        if self.mode == "temporal":
            d.update(beta=1.0 if self.beta is None else self.beta, reset=self.reset,
                     floor=self.floor)
            if self.leak_shift is not None:
                d.update(leak_shift=self.leak_shift)
                del d["beta"]
        if self.faults:
            d["faults"] = dict(sorted(self.faults.items()))
        return d


IDEAL = Physics()
