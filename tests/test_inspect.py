"""spikegate inspect, report.md, the FuseSoC core and the pictures."""

import json
import re

import pytest

from spikegate.cli import main
from spikegate.gen.catalog import build_block
from spikegate.hdl.design import Design
from spikegate.hdl.inspect import SCHEMATIC_LIMIT, analyze, format_text, schematic_svg
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("backend", ["direct", "amaranth"])
@pytest.mark.parametrize("stages", [0, 1, 3])
def test_stages_and_registers_match_the_verilog(stages, backend):
    design = Design(build_block("add", width=4, variant="ripple"), stages=stages,
                    backend=backend)
    info = analyze(design.netlist, stages)
    assert sum(r["neurons"] for r in info["per_stage"]) == len(design.netlist.neurons)
    assert len(info["per_stage"]) == max(stages, 1)
    # every pipeline register bit of the RTL is counted once (valid_p* excluded); the
    # direct writer declares `reg a_3_p1;`, Amaranth `reg a_3_p1 = 1'h0;` (and a register
    # on an output takes the port's name there, e.g. `reg cout = 1'h0;`)
    pattern = r"^\s*reg (\w+);" if backend == "direct" else r"^\s*reg (\w+) = 1'h0;"
    regs = re.findall(pattern, design.verilog, flags=re.M)
    regs = [r for r in regs if not r.startswith("valid_")]
    assert info["pipeline_registers"] == len(regs)
    assert sum(r["registers_after"] for r in info["per_stage"]) == len(regs)


def test_blocks_depth_histograms_of_fp8_mul():
    netlist = build_unit("fp8-mul")
    info = analyze(netlist)
    stats = netlist.stats()
    assert {r["block"]: r["neurons"] for r in info["blocks"]} == stats["neurons_per_block"]
    assert {"unpack", "product", "round"} <= {r["block"] for r in info["blocks"]}
    for r in info["blocks"]:
        lo, hi = r["levels"]
        assert 1 <= r["depth"] <= hi - lo + 1
    assert sum(info["fanin_histogram"].values()) == stats["neurons"]
    assert sum(info["weight_histogram"].values()) == stats["synapses"]
    assert max(int(k) for k in info["fanin_histogram"]) == stats["max_fanin"]
    assert info["neurons_per_level"] == stats["neurons_per_level"]
    outs = {o["bit"]: o for o in info["outputs"]}
    assert set(outs) == {f"y[{i}]" for i in range(8)}
    # the sign bit is the XOR of the operand signs, nothing else
    assert outs["y[7]"]["inputs"] != [] and all(o["cone_neurons"] >= 1 for o in outs.values())
    assert max(o["level"] for o in outs.values()) == stats["depth"]
    text = format_text(info)
    assert "per functional block" in text and "where each output bit comes from" in text


def test_output_cone_of_a_gate():
    info = analyze(build_block("and"))
    (out,) = info["outputs"]
    assert out["bit"] == "y[0]" and out["cone_neurons"] == 1 and out["level"] == 1
    assert out["inputs"] == ["a[0]", "b[0]"]


def test_inspect_cli_writes_plots_schematic_and_json(tmp_path, capsys):
    out = tmp_path / "fa"
    assert main(["generate", "add", "--width", "3", "--stages", "2", "-o", str(out),
                 "--quiet"]) == 0
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "per pipeline stage:" in text and "fan-in histogram" in text
    assert "y[2]" in text and "inputs a[0:2] b[0:2] cin[0]" in text
    files = {p.name for p in (out / "inspect").iterdir()}
    assert files == {"levels.png", "stages.png", "schematic.svg", "inspect.json"}
    for png in ("levels.png", "stages.png"):
        assert (out / "inspect" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (out / "inspect" / "schematic.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    info = json.loads((out / "inspect" / "inspect.json").read_text())
    assert info["stages"] == 2 and info["neurons"] == len(json.loads(
        (out / "netlist.json").read_text())["neurons"])
    assert main(["inspect", str(out), "--json", "--no-plots", "--schematic", "no"]) == 0
    assert json.loads(capsys.readouterr().out)["top"] == "add_w3_auto"


def test_schematic_refuses_big_netlists():
    netlist = build_unit("fp8-add")
    assert len(netlist.neurons) > SCHEMATIC_LIMIT
    with pytest.raises(ValueError, match=f"a schematic is drawn for at most {SCHEMATIC_LIMIT}"):
        schematic_svg(netlist)


def test_generate_writes_report_md_and_fusesoc_core(tmp_path):
    out = tmp_path / "cmp"
    assert main(["generate", "compare", "--width", "3", "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    top = report["top"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{top}.v", f"{top}.core", "netlist.json", "report.json", "report.md"])
    md = (out / "report.md").read_text()
    assert md.startswith(f"# {top}\n") and "| neurons | " in md and "## Functional blocks" in md
    assert f"`spikegate generate compare --width 3 --variant auto -o DIR`" in md
    core = (out / f"{top}.core").read_text()
    assert core.startswith("CAPI=2:\n")
    assert f"name: spikegate:generated:{top}:0.1.0" in core
    assert f"      - {top}.v\n    file_type: verilogSource" in core
    assert f"toplevel: {top}" in core


def test_inspect_missing_directory(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope")]) == 2
    assert "point at a directory written by `spikegate generate`" in capsys.readouterr().err
