"""The builder that generators use to grow a netlist one neuron at a time.

Every neuron is simplified and structurally hashed as it is created (see
:func:`~spikegate.gen.passes.simplify_neuron`): a gate fed constants costs nothing, and
two requests for the same function of the same nets share one neuron. Names come from the
current block path plus a per-name counter, so construction is deterministic.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Mapping

from .netlist import (CONST0, CONST1, UNBOUNDED, Bounds, Netlist, NetlistError, Neuron,
                      check_name, check_weight)
from .passes import remove_dead, simplify_neuron

__all__ = ["NetlistBuilder", "Bus"]

Bus = tuple  # a tuple of nets, least significant bit first


class NetlistBuilder:
    """Grow a :class:`Netlist`.

    Parameters
    ----------
    name : str
        Netlist (and default Verilog module) name.
    bounds : Bounds
        Fan-in and weight limits. Blocks read them to choose a variant; :meth:`build`
        enforces them.
    """

    def __init__(self, name, *, bounds: Bounds = UNBOUNDED):
        if not isinstance(bounds, Bounds):
            raise TypeError(f"bounds must be a Bounds, not {bounds!r}")
        self.name = check_name(name, "netlist name")
        self.bounds = bounds
        self._inputs: dict[str, tuple[int, ...]] = {}
        self._outputs: dict[str, tuple[int, ...]] = {}
        self._neurons: list[Neuron] = []
        self._hash: dict[tuple, int] = {}
        self._counts: dict[str, int] = {}
        self._block: list[str] = []
        self._next_net = 2
        self.meta: dict = {}

    @property
    def created(self) -> list[Neuron]:
        """The neurons made so far, in creation (topological) order: generators that check
        their partial netlist while they grow it read this; do not modify it."""
        return self._neurons

    # -- buses -----------------------------------------------------------------------
    def input(self, name, width) -> Bus:
        check_name(name, "input bus name")
        if name in self._inputs or name in self._outputs:
            raise NetlistError(f"bus {name!r} is declared twice: bus names must be unique")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise NetlistError(f"width of bus {name!r} must be a positive int, not {width!r}")
        nets = tuple(range(self._next_net, self._next_net + width))
        self._next_net += width
        self._inputs[name] = nets
        return nets

    def output(self, name, nets: Iterable[int]):
        check_name(name, "output bus name")
        if name in self._inputs or name in self._outputs:
            raise NetlistError(f"bus {name!r} is declared twice: bus names must be unique")
        nets = tuple(nets)
        for n in nets:
            self._check_net(n)
        if not nets:
            raise NetlistError(f"output bus {name!r} is empty")
        self._outputs[name] = nets

    # -- neurons ---------------------------------------------------------------------
    @contextmanager
    def block(self, name):
        """Attribute the neurons made inside to a functional block (and prefix their names)."""
        check_name(name, "block name")
        self._block.append(name)
        try:
            yield
        finally:
            self._block.pop()

    def neuron(self, weighted: Mapping[int, int] | Iterable[tuple[int, int]], *, threshold,
               bias=0, name="n") -> int:
        """A threshold neuron ``[sum(w * x) + bias >= threshold]``; returns its output net."""
        pairs = list(weighted.items() if isinstance(weighted, Mapping) else weighted)
        label = "/".join(self._block + [name])
        for net, weight in pairs:
            self._check_net(net)
            check_weight(weight, neuron=label, source=net)
        for key, value in (("threshold", threshold), ("bias", bias)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise NetlistError(f"{key} {value!r} of neuron {label!r} is not an integer: "
                                   f"thresholds and biases must be ints")
        form = simplify_neuron(pairs, bias, threshold)
        if form[0] == "net":
            return form[1]
        key = form[1:]
        if key in self._hash:
            return self._hash[key]
        _, inputs, weights, bias, threshold = form
        out = self._next_net
        self._next_net += 1
        self._neurons.append(Neuron(self._fresh_name(name), out, inputs, weights, bias,
                                    threshold, "/".join(self._block)))
        self._hash[key] = out
        return out

    def embed(self, netlist: Netlist, inputs: Mapping[str, Iterable[int]], *, block) -> dict:
        """Copy ``netlist`` in as a sub-circuit fed by ``inputs``; returns its output buses.

        The copy's neurons keep their names under the ``block`` prefix and their block
        attribution below it, so reports of the whole still show the parts.
        """
        mapping = {CONST0: CONST0, CONST1: CONST1}
        for bus, nets in netlist.inputs.items():
            if bus not in inputs:
                raise NetlistError(f"embedding {netlist.name!r}: no nets given for its input "
                                   f"bus {bus!r}")
            source = tuple(inputs[bus])
            if len(source) != len(nets):
                raise NetlistError(f"embedding {netlist.name!r}: bus {bus!r} is {len(nets)} "
                                   f"bits wide, got {len(source)} nets")
            mapping.update(zip(nets, source))
        with self.block(block):
            outer = self._block
            try:
                for neuron in netlist.neurons:
                    inner = neuron.block.split("/") if neuron.block else []
                    self._block = outer + inner
                    stem = neuron.name.rstrip("0123456789")
                    base = stem[len("_".join(inner)) + 1:] if inner else stem
                    mapping[neuron.out] = self.neuron(
                        [(mapping[i], w) for i, w in zip(neuron.inputs, neuron.weights)],
                        threshold=neuron.threshold, bias=neuron.bias, name=base or "n")
            finally:
                self._block = outer
        return {bus: tuple(mapping[n] for n in nets) for bus, nets in netlist.outputs.items()}

    def _fresh_name(self, base):
        check_name(base, "neuron name")
        stem = "_".join(self._block + [base])
        index = self._counts.get(stem, 0)
        self._counts[stem] = index + 1
        return f"{stem}{index}"

    def _check_net(self, net):
        if isinstance(net, bool) or not isinstance(net, int) or not 0 <= net < self._next_net:
            raise NetlistError(f"{net!r} is not a net of netlist {self.name!r}: pass nets "
                               f"returned by this builder (or CONST0/CONST1)")

    def const(self, value, width) -> Bus:
        return tuple(CONST1 if (value >> i) & 1 else CONST0 for i in range(width))

    # -- result ----------------------------------------------------------------------
    def build(self) -> Netlist:
        """The finished netlist, without dead neurons, checked against the bounds."""
        if not self._outputs:
            raise NetlistError(f"netlist {self.name!r} has no outputs: call output() first")
        netlist = remove_dead(Netlist(self.name, dict(self._inputs), dict(self._outputs),
                                      list(self._neurons), self._next_net, dict(self.meta)))
        netlist.check_bounds(self.bounds)
        return netlist
