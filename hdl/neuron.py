"""The integrate-and-fire neuron as RTL: a threshold accumulator.

A membrane (accumulator) adds the weights of the inputs that spike, a comparator tests the
threshold, and a reset rule acts when it fires. In ``gate`` mode the membrane is cleared
before each evaluation, which makes the neuron the combinational threshold function that
every netlist neuron uses; in ``temporal`` mode the membrane is a register that integrates
over clock cycles, with optional leak. :func:`threshold_fire` is the single definition of
the gate-mode datapath: the netlist elaborator calls it for every neuron.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["IFNeuron", "threshold_fire", "unsigned_form", "membrane_width"]

NEURON_MODES = ("gate", "temporal")
RESET_RULES = ("soft", "hard")


def membrane_width(weights, bias, threshold):
    """Signed width that holds every partial sum, the bias and the threshold."""
    lo = min(0, bias) + sum(w for w in weights if w < 0)
    hi = max(0, bias) + sum(w for w in weights if w > 0)
    bound = max(abs(lo), abs(hi), abs(threshold), 1)
    return bound.bit_length() + 2


def _sized_sum(terms, width):
    """Sum at a fixed width: every intermediate is cast back, so no width ever grows."""
    total = terms[0]
    for term in terms[1:]:
        total = (total + term)[:width].as_signed()
    return total


def unsigned_form(weights, bias, threshold):
    """The canonical membrane of a gate-mode neuron: positive weights only.

    A negative synapse is rewritten on the inverted spike, ``w * s = |w| * (1 - s) - |w|``,
    which moves ``|w|`` into the threshold. Returns ``(terms, need, total)`` with ``terms``
    a list of ``(input index, inverted, weight > 0)``: the neuron fires when the sum of the
    weights of its active terms reaches ``need``; ``total`` bounds every partial sum, so a
    ``total.bit_length()``-bit membrane never wraps. Both RTL writers use this form, which
    synthesis maps to about half the LUTs of a signed membrane tested on its sign bit.
    """
    need, terms, total = threshold - bias, [], 0
    for index, w in enumerate(weights):
        if w < 0:
            terms.append((index, True, -w))
            need -= w
        elif w:
            terms.append((index, False, w))
        total += abs(w)
    return terms, need, total


def threshold_fire(spikes, weights, bias, threshold):
    """Gate-mode fire expression: ``[bias + sum(w_i * s_i) >= threshold]``.

    The comparison is written as ``{1, membrane} >= {1, need}`` so that both sides have the
    same width in the emitted Verilog (Amaranth narrows constants), keeping it lint-clean.
    """
    terms, need, total = unsigned_form(weights, bias, threshold)
    if need <= 0:
        return Const(1, 1)
    if need > total:
        return Const(0, 1)
    width = total.bit_length()
    level = [Mux(~spikes[index] if inverted else spikes[index], Const(w, width), Const(0, width))
             for index, inverted, w in terms]
    while len(level) > 1:         # a balanced adder tree: wide neurons stay shallow expressions
        pairs = [(level[i] + level[i + 1])[:width] for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(pairs) * 2:]
    return Cat(level[0], Const(1, 1)) >= Const(need | (1 << width), width + 1)


class IFNeuron(wiring.Component):
    """Integrate-and-fire neuron with integer synaptic weights.

    Parameters
    ----------
    weights : sequence of int
        Synaptic weight of each input spike line.
    threshold : int
        The neuron fires when the membrane reaches it.
    bias : int
        Added to the membrane on every evaluation.
    mode : {"gate", "temporal"}
        ``gate``: cleared membrane, pure combinational logic. ``temporal``: the membrane
        register integrates across cycles (``sync`` domain).
    reset : {"soft", "hard"}
        After a spike, subtract the threshold (soft) or clear the membrane (hard).
    leak_shift : int or None
        Leak per cycle: ``v -= v >> leak_shift`` (temporal mode only).
    floor : int
        Resting potential: the stored membrane never goes below it.

    Attributes
    ----------
    spikes : In(len(weights))
    fire : Out(1)
        Combinational: whether this cycle's integration reaches the threshold.
    membrane : Out(signed)
        The stored membrane potential (temporal mode only).
    """

    def __init__(self, *, weights, threshold, bias=0, mode="gate", reset="soft",
                 leak_shift=None, floor=0):
        weights = tuple(weights)
        for value, what in [(w, "weight") for w in weights] + [(threshold, "threshold"),
                                                                (bias, "bias"), (floor, "floor")]:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{what} must be an int, not {value!r}: scale weights and "
                                f"threshold to integers")
        if not weights:
            raise ValueError("an IFNeuron needs at least one weight")
        if mode not in NEURON_MODES:
            raise ValueError(f"mode must be one of {', '.join(NEURON_MODES)}, not {mode!r}")
        if reset not in RESET_RULES:
            raise ValueError(f"reset must be one of {', '.join(RESET_RULES)}, not {reset!r}")
        if leak_shift is not None and (not isinstance(leak_shift, int) or leak_shift < 1):
            raise ValueError(f"leak_shift must be a positive int or None, not {leak_shift!r}")
        if mode == "gate" and leak_shift is not None:
            raise ValueError("leak_shift needs mode='temporal': a gate-mode membrane is "
                             "cleared every evaluation, so it cannot leak")
        self.weights, self.threshold, self.bias = weights, threshold, bias
        self.mode, self.reset, self.leak_shift, self.floor = mode, reset, leak_shift, floor
        # Room for a carried-over membrane below the threshold plus one cycle's input.
        self.width = membrane_width(weights, bias, threshold) + 1 + \
            max(abs(floor), abs(threshold)).bit_length()
        members = {"spikes": In(len(weights)), "fire": Out(1)}
        if mode == "temporal":
            members["membrane"] = Out(signed(self.width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        if self.mode == "gate":
            m.d.comb += self.fire.eq(threshold_fire(list(self.spikes), self.weights,
                                                    self.bias, self.threshold))
            return m
        w = self.width
        v = Signal(signed(w), name="v")
        leaked = Signal(signed(w))
        if self.leak_shift is None:
            m.d.comb += leaked.eq(v)
        else:
            m.d.comb += leaked.eq((v - (v >> self.leak_shift))[:w].as_signed())
        drive = [Mux(s, Const(wt, signed(w)), Const(0, signed(w)))
                 for s, wt in zip(self.spikes, self.weights)]
        integrated = Signal(signed(w))
        m.d.comb += integrated.eq(_sized_sum([leaked, Const(self.bias, signed(w)), *drive], w))
        m.d.comb += self.fire.eq(integrated >= Const(self.threshold, signed(w)))
        after = Signal(signed(w))
        if self.reset == "soft":
            reset_value = (integrated - Const(self.threshold, signed(w)))[:w].as_signed()
        else:
            reset_value = Const(0, signed(w))
        m.d.comb += after.eq(Mux(self.fire, reset_value, integrated))
        m.d.sync += v.eq(Mux(after < Const(self.floor, signed(w)),
                             Const(self.floor, signed(w)), after))
        m.d.comb += self.membrane.eq(v)
        return m
