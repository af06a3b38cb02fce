"""Every catalogue gate and block, every variant, 4 bits wide: exhaustive on the torch
engine and on Amaranth's simulator (combinational and pipelined) against its golden."""

import pytest

from spikegate.gen.catalog import CATALOG, build_block
from spikegate.hdl.design import Design
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.run import verify

CASES = [(name, variant) for name, spec in CATALOG.items() for variant in spec.variants]


@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
@pytest.mark.parametrize("engine,stages", [("torch", 0), ("amaranth", 0), ("amaranth", 2)])
def test_block_exhaustive(name, variant, engine, stages):
    netlist = build_block(name, width=4, variant=variant)
    inputs = exhaustive_inputs(netlist)
    verify(Design(netlist, stages=stages), inputs, golden_outputs(netlist, inputs), engine=engine)


@pytest.mark.parametrize("width", [1, 2, 3, 5, 6])
@pytest.mark.parametrize("name", ["add", "sub", "compare", "lzc", "shift_right", "multiply"])
def test_other_widths_on_torch_engine(name, width):
    for variant in CATALOG[name].variants:
        netlist = build_block(name, width=width, variant=variant)
        inputs = exhaustive_inputs(netlist)
        verify(Design(netlist), inputs, golden_outputs(netlist, inputs), engine="torch")


def test_wrong_golden_is_caught_with_hex_message():
    netlist = build_block("add", width=4)
    inputs = exhaustive_inputs(netlist)
    expected = golden_outputs(netlist, inputs)
    expected["y"] = expected["y"].copy()
    expected["y"][5] ^= 1
    with pytest.raises(AssertionError, match=r"1 of 512 vectors mismatch.*\n#5: a=0x0 b=0x2 "
                                             r"cin=0x1 -> y: got 0x3 expected 0x2"):
        verify(Design(netlist), inputs, expected, engine="torch")


def test_structure_of_threshold_blocks():
    """The threshold forms are what make the FP8 units shallow: pin their shape."""
    add = build_block("add", width=8, variant="threshold").stats()
    assert (add["neurons"], add["depth"]) == (16, 2)  # 2 per bit; the top carry is the last quota neuron
    fa = build_block("full_adder").stats()
    assert (fa["neurons"], fa["depth"]) == (2, 2)
    mul = build_block("multiply", width=4).stats()
    assert mul["depth"] == 3
    assert build_block("lzc", width=8).stats()["depth"] == 2
    assert build_block("shift_right", width=8).stats()["depth"] == 2


def test_unknown_block_and_variant_messages():
    with pytest.raises(ValueError, match="unknown block 'adder': choose one of"):
        build_block("adder")
    with pytest.raises(ValueError, match="block 'add' has no variant 'fast': choose one of "
                                         "auto, threshold, prefix, ripple"):
        build_block("add", variant="fast")
