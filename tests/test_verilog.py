"""Generated Verilog: deterministic, traceable, accepted by Icarus, clean under Verilator lint."""

import shutil
import subprocess

import pytest

from spikegate.gen.catalog import build_block
from spikegate.gen.zoo import build_zoo
from spikegate.hdl.design import Design
from spikegate.sim.toolchain import find_verilator

#: The justified waivers of the Amaranth backend (see README "Verilator lint"); the
#: direct backend needs none.
LINT_WAIVERS = {"direct": (), "amaranth": ("-Wno-UNUSEDSIGNAL", "-Wno-PROCASSINIT")}
CONFIGS = [(backend, stages) for backend in ("direct", "amaranth") for stages in (0, 3)]


@pytest.fixture(scope="module")
def zoo_files(tmp_path_factory):
    out = {}
    for backend, stages in CONFIGS:
        design = Design(build_zoo(4), stages=stages, backend=backend)
        path = tmp_path_factory.mktemp(f"zoo{backend}{stages}") / f"{design.top}.v"
        path.write_text(design.verilog)
        out[(backend, stages)] = path
    return out


@pytest.mark.parametrize("backend", ["direct", "amaranth"])
def test_verilog_is_deterministic(backend):
    one = Design(build_block("multiply", width=4), stages=2, backend=backend).verilog
    two = Design(build_block("multiply", width=4), stages=2, backend=backend).verilog
    assert one == two


def test_every_neuron_is_one_named_assignment():
    design = Design(build_block("add", width=4, variant="ripple"), stages=2)
    text = design.verilog
    for neuron in design.netlist.neurons:
        assert text.count(f"  wire {neuron.name} = ") == 1, neuron.name
        assert f"  // {neuron.name}: fires when " in text
    assert "reg valid_p1;" in text and "reg a_3_p1;" in text  # a[3] feeds a level-4 neuron


def test_wide_neuron_sums_are_bit_planes_and_small_ones_one_term_per_synapse():
    """A threshold on a 10-bit code is one concatenation (weights 512..1 share a plane);
    a three-input neuron keeps one ``?:`` per synapse. Icarus evaluates both right."""
    from spikegate.gen.builder import NetlistBuilder
    from spikegate.sim.run import verify
    b = NetlistBuilder("planes")
    x = b.input("x", 10)
    b.output("ge", [b.neuron([(x[i], 1 << i) for i in range(10)], threshold=300,
                             name="x_ge_300")])
    b.output("maj", [b.neuron([(x[i], 1) for i in range(3)], threshold=2, name="maj3")])
    netlist = b.build()
    text = Design(netlist).verilog
    ge, maj = (n.name for n in netlist.neurons)
    planes = ", ".join(f"x[{i}]" for i in range(9, -1, -1))
    assert f"wire {ge} = ({{{planes}}}) >= 10'd300;" in text
    assert f"wire {maj} = ((x[0] ? 2'd1 : 2'd0) + (x[1] ? 2'd1 : 2'd0) + " in text
    if shutil.which("iverilog"):
        import numpy as np
        codes = np.arange(1024, dtype=np.uint64)
        verify(Design(netlist), {"x": codes},
               {"ge": (codes >= 300).astype(np.uint64),
                "maj": (((codes & 1) + (codes >> 1 & 1) + (codes >> 2 & 1)) >= 2)
                .astype(np.uint64)}, engine="icarus")


def test_amaranth_backend_names_neurons_too():
    design = Design(build_block("add", width=4, variant="ripple"), stages=2, backend="amaranth")
    for neuron in design.netlist.neurons:
        assert f"wire {neuron.name};" in design.verilog, neuron.name


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown Verilog backend 'vhdl': choose one of "
                                         "direct, amaranth"):
        Design(build_block("and"), backend="vhdl")


@pytest.mark.parametrize("backend,stages", CONFIGS)
def test_verilator_lint_clean(zoo_files, backend, stages):
    result = subprocess.run([str(find_verilator()), "--lint-only", "-Wall",
                             *LINT_WAIVERS[backend], str(zoo_files[(backend, stages)])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[:3000]
    assert "%Warning" not in result.stderr, result.stderr[:3000]


@pytest.mark.parametrize("backend,stages", CONFIGS)
def test_icarus_accepts(zoo_files, backend, stages, tmp_path):
    if shutil.which("iverilog") is None:
        pytest.fail("iverilog not found: run `make setup`")
    result = subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "a.out"),
                             str(zoo_files[(backend, stages)])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_report_and_atomic_write(tmp_path):
    design = Design(build_block("add", width=4), stages=1)
    out = tmp_path / "d"
    design.write(out)
    import json
    report = json.loads((out / "report.json").read_text())
    for key in ("top", "verilog", "neurons", "synapses", "depth", "max_fanin", "max_weight",
                "latency_cycles"):
        assert key in report
    assert report["latency_cycles"] == 1 and (out / report["verilog"]).is_file()
    with pytest.raises(FileExistsError, match="exists and is not empty: pass --force"):
        design.write(out)
    design.write(out, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no staging leftovers


def test_unwritable_output_names_the_fix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="cannot write to .*choose a writable output directory"):
        Design(build_block("and")).write(blocker / "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_long_sums_nest_in_balanced_groups():
    """Sums of more than GROUP_TERMS terms: every term once, in order, parentheses balanced
    at every prefix-closing point, no group of more than WRAP_TERMS members."""
    import re

    from spikegate.hdl.verilog import WRAP_TERMS, _grouped
    for n in list(range(65, 400)) + [1727, 1728, 1729, 20737]:
        terms = [f"t{i}" for i in range(n)]
        text = " ".join(_grouped(terms))
        assert re.findall(r"t\d+", text) == terms, n
        depth = 0
        for ch in text:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            assert depth >= 0, n
        assert depth == 0, n
        for inner in re.findall(r"\(([^()]*)\)", text):
            assert inner.count("+") < WRAP_TERMS, n
