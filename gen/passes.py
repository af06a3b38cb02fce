"""Netlist passes: constant propagation (with structural merging) and dead-neuron removal.

The builder applies :func:`simplify_neuron` to every neuron as it is created, so generators
can pass constants freely; the passes below apply the same rules to whole netlists (for
example ones loaded with :meth:`Netlist.from_dict`).
"""

from __future__ import annotations

from .netlist import CONST0, CONST1, Netlist, Neuron

__all__ = ["simplify_neuron", "propagate_constants", "remove_dead", "optimize"]


def simplify_neuron(pairs, bias, threshold, resolve=lambda n: n):
    """Normal form of a neuron, or the net it reduces to.

    Constant inputs fold into the bias, repeated inputs merge, zero weights drop. Returns
    ``("net", n)`` when the neuron is a constant or a plain buffer of one input, otherwise
    ``("neuron", inputs, weights, bias, threshold)`` with inputs sorted (a hashable key).
    """
    merged = {}
    for net, weight in pairs:
        net = resolve(net)
        if net == CONST0 or weight == 0:
            continue
        if net == CONST1:
            bias += weight
            continue
        merged[net] = merged.get(net, 0) + weight
    items = sorted((n, w) for n, w in merged.items() if w != 0)
    low = bias + sum(w for _, w in items if w < 0)
    high = bias + sum(w for _, w in items if w > 0)
    if low >= threshold:
        return ("net", CONST1)
    if high < threshold:
        return ("net", CONST0)
    if len(items) == 1 and items[0][1] > 0:
        return ("net", items[0][0])  # fires exactly when its one input does: a buffer
    # Fold the bias into the threshold so equal neurons get equal keys.
    return ("neuron", tuple(n for n, _ in items), tuple(w for _, w in items), 0,
            threshold - bias)


def propagate_constants(netlist: Netlist) -> Netlist:
    """Fold constants and buffers, merge structurally identical neurons."""
    alias = {}
    resolve = lambda n: alias.get(n, n)  # noqa: E731  (inputs are visited in order)
    seen, neurons = {}, []
    for neuron in netlist.neurons:
        form = simplify_neuron(zip(neuron.inputs, neuron.weights), neuron.bias,
                               neuron.threshold, resolve)
        if form[0] == "net":
            alias[neuron.out] = form[1]
            continue
        key = form[1:]
        if key in seen:
            alias[neuron.out] = seen[key]
            continue
        seen[key] = neuron.out
        _, ins, ws, bias, th = form
        neurons.append(Neuron(neuron.name, neuron.out, ins, ws, bias, th, neuron.block))
    outputs = {bus: tuple(resolve(n) for n in nets) for bus, nets in netlist.outputs.items()}
    return Netlist(netlist.name, dict(netlist.inputs), outputs, neurons, netlist.net_count,
                   dict(netlist.meta))


def remove_dead(netlist: Netlist) -> Netlist:
    """Drop neurons that no output depends on."""
    live = {n for nets in netlist.outputs.values() for n in nets}
    kept = []
    for neuron in reversed(netlist.neurons):
        if neuron.out in live:
            kept.append(neuron)
            live.update(neuron.inputs)
    kept.reverse()
    return Netlist(netlist.name, dict(netlist.inputs), dict(netlist.outputs), kept,
                   netlist.net_count, dict(netlist.meta))


def optimize(netlist: Netlist) -> Netlist:
    return remove_dead(propagate_constants(netlist))
