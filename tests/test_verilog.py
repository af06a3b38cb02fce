"""Generated Verilog: deterministic, traceable, accepted by Icarus, clean under Verilator lint."""

import shutil
import subprocess

import pytest

from spikegate.gen.catalog import build_block
from spikegate.gen.zoo import build_zoo
from spikegate.hdl.design import Design
from spikegate.sim.toolchain import find_verilator

#: The justified waivers (see README "Verilator lint").
LINT_WAIVERS = ("-Wno-UNUSEDSIGNAL", "-Wno-PROCASSINIT")


@pytest.fixture(scope="module")
def zoo_files(tmp_path_factory):
    out = {}
    for stages in (0, 3):
        design = Design(build_zoo(4), stages=stages)
        path = tmp_path_factory.mktemp(f"zoo{stages}") / f"{design.top}.v"
        path.write_text(design.verilog)
        out[stages] = path
    return out


def test_verilog_is_deterministic():
    one = Design(build_block("multiply", width=4), stages=2).verilog
    two = Design(build_block("multiply", width=4), stages=2).verilog
    assert one == two


def test_every_neuron_is_a_named_wire():
    design = Design(build_block("add", width=4, variant="ripple"), stages=2)
    text = design.verilog
    for neuron in design.netlist.neurons:
        assert f"wire {neuron.name};" in text or f"reg {neuron.name} " in text, neuron.name
    assert "reg valid_p1" in text and "reg a_3_p1" in text  # a[3] feeds a level-4 neuron


@pytest.mark.parametrize("stages", [0, 3])
def test_verilator_lint_clean_with_waivers(zoo_files, stages):
    result = subprocess.run([str(find_verilator()), "--lint-only", "-Wall", *LINT_WAIVERS,
                             str(zoo_files[stages])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[:3000]
    assert "%Warning" not in result.stderr, result.stderr[:3000]


@pytest.mark.parametrize("stages", [0, 3])
def test_icarus_accepts(zoo_files, stages, tmp_path):
    if shutil.which("iverilog") is None:
        pytest.fail("iverilog not found: run `make setup`")
    result = subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "a.out"),
                             str(zoo_files[stages])], capture_output=True, text=True)
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
