"""Neuron netlists: feed-forward DAGs of integer-weight threshold (IF) neurons.

One netlist is the single source of truth of a design: the RTL, the torch engine and the
structural report are all read from it. A neuron fires when
``sum(w_i * x_i) + bias >= threshold``; nets are plain integers, ``0`` and ``1`` being the
constant nets, so a whole FP8 unit stays a few small tuples per neuron.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

__all__ = [
    "CONST0", "CONST1", "Neuron", "Netlist", "NetlistError", "Bounds", "UNBOUNDED",
    "check_name", "check_weight",
]

CONST0 = 0
CONST1 = 1

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NetlistError(ValueError):
    """A netlist that cannot become hardware (cycle, undriven net, bad weight, bound)."""


def check_name(name, what="name"):
    """Names become Verilog identifiers, so they must be plain ones."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise NetlistError(
            f"{what} {name!r} is not a plain identifier: use letters, digits and '_' "
            f"and start with a letter")
    return name


def check_weight(weight, *, neuron, source):
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise NetlistError(
            f"weight {weight!r} on input {source!r} of neuron {neuron!r} is not an integer: "
            f"neuron weights must be ints (scale the weights and the threshold)")
    return weight


@dataclass(frozen=True)
class Bounds:
    """Physical limits a generator must respect: synapses per neuron and |weight|."""

    max_fanin: int | None = None
    max_weight: int | None = None

    def __post_init__(self):
        for key in ("max_fanin", "max_weight"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"{key} must be a positive int or None, not {value!r}")

    def allows(self, *, fanin, weight):
        return ((self.max_fanin is None or fanin <= self.max_fanin)
                and (self.max_weight is None or weight <= self.max_weight))


UNBOUNDED = Bounds()


@dataclass(frozen=True, slots=True)
class Neuron:
    """One threshold neuron: ``out = [sum(w * in) + bias >= threshold]``."""

    name: str
    out: int
    inputs: tuple[int, ...]
    weights: tuple[int, ...]
    bias: int
    threshold: int
    block: str = ""

    @property
    def fanin(self):
        return len(self.inputs)

    def fires(self, values):
        """Evaluate on a net -> 0/1 mapping (the scalar reference semantics)."""
        total = self.bias + sum(w for n, w in zip(self.inputs, self.weights) if values[n])
        return int(total >= self.threshold)


@dataclass
class Netlist:
    """A validated feed-forward neuron network with named input and output buses.

    Buses are tuples of nets, least significant bit first. ``neurons`` is in topological
    order; ``net_names`` names every net (input bits as ``a[3]``, neurons by their name).
    """

    name: str
    inputs: dict[str, tuple[int, ...]]
    outputs: dict[str, tuple[int, ...]]
    neurons: list[Neuron]
    net_count: int
    meta: dict = field(default_factory=dict)

    # -- structure -----------------------------------------------------------------
    def input_nets(self):
        return {n for bus in self.inputs.values() for n in bus}

    def net_names(self):
        names = {CONST0: "1'b0", CONST1: "1'b1"}
        for bus, nets in self.inputs.items():
            for i, n in enumerate(nets):
                names[n] = f"{bus}[{i}]"
        for neuron in self.neurons:
            names[neuron.out] = neuron.name
        return names

    def levels(self):
        """Level of every driven net: inputs and constants 0, a neuron 1 + its deepest input."""
        level = {CONST0: 0, CONST1: 0}
        for n in self.input_nets():
            level[n] = 0
        for neuron in self.neurons:
            level[neuron.out] = 1 + max((level[i] for i in neuron.inputs), default=0)
        return level

    def depth(self):
        level = self.levels()
        return max((level[n] for bus in self.outputs.values() for n in bus), default=0)

    def stats(self):
        """Structural figures: the numbers every report and benchmark quotes."""
        level = self.levels()
        per_level = Counter(level[n.out] for n in self.neurons)
        per_block = Counter(n.block.split("/")[0] if n.block else "(top)" for n in self.neurons)
        return {
            "neurons": len(self.neurons),
            "synapses": sum(n.fanin for n in self.neurons),
            "depth": self.depth(),
            "max_fanin": max((n.fanin for n in self.neurons), default=0),
            "max_weight": max((abs(w) for n in self.neurons for w in n.weights), default=0),
            # Thresholds and biases set the membrane width as much as weights do.
            "max_threshold": max((abs(n.threshold - n.bias) for n in self.neurons), default=0),
            "neurons_per_level": [per_level.get(i, 0) for i in range(1, max(per_level, default=0) + 1)],
            "neurons_per_block": dict(sorted(per_block.items())),
        }

    def check_bounds(self, bounds: Bounds):
        for n in self.neurons:
            if bounds.max_fanin is not None and n.fanin > bounds.max_fanin:
                raise NetlistError(
                    f"neuron {n.name!r} has fan-in {n.fanin} > max_fanin {bounds.max_fanin}: "
                    f"raise the bound or pick a narrower block variant")
            big = max((abs(w) for w in n.weights), default=0)
            if bounds.max_weight is not None and big > bounds.max_weight:
                raise NetlistError(
                    f"neuron {n.name!r} has |weight| {big} > max_weight {bounds.max_weight}: "
                    f"raise the bound or pick a variant with smaller weights")

    # -- scalar reference evaluation ------------------------------------------------
    def evaluate(self, values: Mapping[str, int]):
        """Evaluate one vector of bus integers; slow, but the plainest statement of meaning."""
        nets = {CONST0: 0, CONST1: 1}
        for bus, bits in self.inputs.items():
            v = values[bus]
            for i, n in enumerate(bits):
                nets[n] = (v >> i) & 1
        for neuron in self.neurons:
            nets[neuron.out] = neuron.fires(nets)
        return {bus: sum(nets[n] << i for i, n in enumerate(bits))
                for bus, bits in self.outputs.items()}

    # -- serialisation ---------------------------------------------------------------
    def to_dict(self):
        names = self.net_names()
        return {
            "name": self.name,
            "inputs": {bus: len(nets) for bus, nets in self.inputs.items()},
            "neurons": [
                {"name": n.name, "block": n.block, "bias": n.bias, "threshold": n.threshold,
                 "inputs": [[names[i], w] for i, w in zip(n.inputs, n.weights)]}
                for n in self.neurons],
            "outputs": {bus: [names[n] for n in nets] for bus, nets in self.outputs.items()},
        }

    @classmethod
    def from_dict(cls, spec: Mapping):
        """Build from a name-based description, checking everything a hand-written one can get wrong."""
        name = check_name(spec.get("name"), "netlist name")
        nets = {"1'b0": CONST0, "1'b1": CONST1}
        inputs = {}
        next_net = 2
        for bus, width in spec.get("inputs", {}).items():
            check_name(bus, "input bus name")
            inputs[bus] = tuple(range(next_net, next_net + width))
            for i in range(width):
                nets[f"{bus}[{i}]"] = next_net + i
            next_net += width
        raw = list(spec.get("neurons", []))
        by_name = {}
        for entry in raw:
            nname = check_name(entry.get("name"), "neuron name")
            if nname in by_name or nname in nets:
                raise NetlistError(f"neuron name {nname!r} is used twice: names must be unique")
            by_name[nname] = entry
        for entry in raw:
            for source, weight in entry.get("inputs", []):
                check_weight(weight, neuron=entry["name"], source=source)
                if source not in nets and source not in by_name:
                    raise NetlistError(
                        f"neuron {entry['name']!r} reads {source!r}, which nothing drives: "
                        f"add an input bus or a neuron of that name")
            for key in ("bias", "threshold"):
                value = entry.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, int):
                    raise NetlistError(
                        f"{key} {value!r} of neuron {entry['name']!r} is not an integer: "
                        f"thresholds and biases must be ints")
        order = _topological_order(by_name)
        neurons = []
        for nname in order:
            entry = by_name[nname]
            nets[nname] = next_net
            pairs = [(nets[s], w) for s, w in entry.get("inputs", [])]
            neurons.append(Neuron(nname, next_net, tuple(p[0] for p in pairs),
                                  tuple(p[1] for p in pairs), entry.get("bias", 0),
                                  entry.get("threshold", 0), entry.get("block", "")))
            next_net += 1
        outputs = {}
        for bus, sources in spec.get("outputs", {}).items():
            check_name(bus, "output bus name")
            for s in sources:
                if s not in nets:
                    raise NetlistError(
                        f"output {bus!r} reads {s!r}, which nothing drives: "
                        f"add an input bus or a neuron of that name")
            outputs[bus] = tuple(nets[s] for s in sources)
        return cls(name, inputs, outputs, neurons, next_net)


def _topological_order(by_name):
    """Kahn's algorithm in declaration order (deterministic); names the cycle if there is one."""
    deps = {n: [s for s, _ in e.get("inputs", []) if s in by_name] for n, e in by_name.items()}
    state, order = {}, []

    def visit(start):
        stack = [(start, iter(deps[start]))]
        state[start] = "open"
        path = [start]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = "done"
                order.append(node)
            elif state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                raise NetlistError(
                    "cycle through neurons " + " -> ".join(cycle)
                    + ": a neuron netlist must be feed-forward (cut the loop with a register "
                      "outside the netlist)")
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                stack.append((nxt, iter(deps[nxt])))

    for name in by_name:
        if name not in state:
            visit(name)
    return order

