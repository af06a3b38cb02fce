"""The netlist core: builder, validation messages, passes, statistics, determinism."""

import pytest

from spikegate.gen import gates
from spikegate.gen.builder import NetlistBuilder
from spikegate.gen.catalog import build_block
from spikegate.gen.netlist import CONST0, CONST1, Bounds, Netlist, NetlistError
from spikegate.gen.passes import optimize, propagate_constants, remove_dead


def _spec(neurons, outputs=None):
    return {"name": "t", "inputs": {"a": 2},
            "neurons": neurons, "outputs": outputs or {"y": [neurons[-1]["name"]]}}


def test_cycle_is_named():
    spec = _spec([
        {"name": "x", "inputs": [["a[0]", 1], ["z", 1]], "threshold": 1},
        {"name": "z", "inputs": [["x", 1]], "threshold": 1},
    ])
    with pytest.raises(NetlistError, match=r"^cycle through neurons x -> z -> x: a neuron "
                                           r"netlist must be feed-forward"):
        Netlist.from_dict(spec)


def test_float_weight_is_rejected_with_fix():
    spec = _spec([{"name": "x", "inputs": [["a[0]", 0.5]], "threshold": 1}])
    with pytest.raises(NetlistError, match=r"weight 0.5 on input 'a\[0\]' of neuron 'x' is not "
                                           r"an integer: neuron weights must be ints"):
        Netlist.from_dict(spec)
    b = NetlistBuilder("t")
    a = b.input("a", 1)
    with pytest.raises(NetlistError, match="is not an integer"):
        b.neuron([(a[0], 1.0)], threshold=1)


def test_undriven_input_is_named():
    spec = _spec([{"name": "x", "inputs": [["q", 1]], "threshold": 1}])
    with pytest.raises(NetlistError, match=r"neuron 'x' reads 'q', which nothing drives: add an "
                                           r"input bus or a neuron of that name"):
        Netlist.from_dict(spec)


def test_bounds_are_enforced_and_named():
    with pytest.raises(NetlistError, match=r"neuron .add_q1. has fan-in 5 > max_fanin 4: raise the bound"):
        build_block("add", width=4, variant="threshold", bounds=Bounds(max_fanin=4))
    with pytest.raises(NetlistError, match=r"has \|weight\| \d+ > max_weight 2: raise the bound"):
        build_block("add", width=4, variant="threshold", bounds=Bounds(max_weight=2))
    # 'auto' respects the bounds by picking the prefix adder.
    stats = build_block("add", width=4, bounds=Bounds(max_fanin=4, max_weight=2)).stats()
    assert stats["max_fanin"] <= 4 and stats["max_weight"] <= 2


def test_bad_names_and_bounds():
    with pytest.raises(NetlistError, match="is not a plain identifier"):
        NetlistBuilder("bad name")
    with pytest.raises(ValueError, match="max_fanin must be a positive int"):
        Bounds(max_fanin=0)


def test_builder_folds_constants_and_merges_duplicates():
    b = NetlistBuilder("t")
    a = b.input("a", 2)
    assert gates.and_(b, a[0], CONST1) == a[0]          # AND with 1 is a buffer
    assert gates.and_(b, a[0], CONST0) == CONST0
    assert gates.or_(b, a[0], CONST1) == CONST1
    first = gates.xor(b, a[0], a[1])
    assert gates.xor(b, a[0], a[1]) == first            # structural hashing
    b.output("y", (first,))
    assert b.build().stats()["neurons"] == 2


def test_passes_on_a_loaded_netlist():
    spec = {"name": "t", "inputs": {"a": 2}, "neurons": [
        {"name": "k", "inputs": [["1'b1", 1]], "threshold": 1},           # constant 1
        {"name": "buf", "inputs": [["a[0]", 3]], "threshold": 2},          # buffer of a[0]
        {"name": "x", "inputs": [["buf", 1], ["k", 1], ["a[1]", 1]], "threshold": 3},
        {"name": "x2", "inputs": [["a[0]", 1], ["a[1]", 1]], "bias": 1, "threshold": 3},
        {"name": "dead", "inputs": [["a[1]", 1]], "threshold": 1},
        {"name": "y", "inputs": [["x", 1], ["x2", 1]], "threshold": 2},
    ], "outputs": {"y": ["y"]}}
    raw = Netlist.from_dict(spec)
    assert len(raw.neurons) == 6
    assert len(remove_dead(raw).neurons) == 5
    folded = optimize(raw)
    # k and buf fold away, x and x2 are the same AND, y becomes a buffer of it.
    assert [n.name for n in folded.neurons] == ["x"]
    for v in range(4):
        assert folded.evaluate({"a": v}) == raw.evaluate({"a": v}) == {"y": int(v == 3)}
    assert propagate_constants(raw).outputs["y"] == (folded.neurons[0].out,)


def test_stats_and_roundtrip():
    netlist = build_block("add", width=4, variant="ripple")
    stats = netlist.stats()
    assert stats["neurons"] == 8 and stats["depth"] == 5
    assert stats["synapses"] == sum(n.fanin for n in netlist.neurons)
    assert sum(stats["neurons_per_level"]) == stats["neurons"]
    again = Netlist.from_dict(netlist.to_dict())
    for v in range(0, 512, 7):
        vec = {"a": v & 15, "b": (v >> 4) & 15, "cin": v >> 8}
        assert again.evaluate(vec) == netlist.evaluate(vec)


def test_construction_is_deterministic():
    one = build_block("shift_right", width=8).to_dict()
    two = build_block("shift_right", width=8).to_dict()
    assert one == two
