"""Run valid/ready stream designs (time-multiplexed layers, MLPs) under cocotb.

:func:`run_stream` builds ``verilog`` (cached by content, like
:func:`~spikegate.sim.cocotb_runner.run_vectors`), hands the input payloads to
:mod:`spikegate.cocotb_tests.stream_tb` and returns the output payloads in order, with
random idle cycles on the input and random backpressure on the output (seeded).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cocotb_runner import (SimulationError, build_simulation, from_rows, locked, log_tail,
                            make_runner, read_results, to_rows, run_files,
                            run_testbench)
from .toolchain import check_simulator

__all__ = ["run_stream", "StreamResult"]

TESTBENCH_MODULE = "spikegate.cocotb_tests.stream_tb"
_TB_FILE = Path(__file__).resolve().parent.parent / "cocotb_tests" / "stream_tb.py"


@dataclass
class StreamResult:
    outputs: np.ndarray          # object array of Python ints (payloads), in order
    cycles: int
    sim_seconds: float
    build_seconds: float
    build_dir: Path


def run_stream(*, verilog: str, top: str, in_width: int, out_width: int, payloads,
               simulator: str, build_root: Path = Path("build/sim"), seed: int = 0,
               ready_prob: float = 0.7, idle_prob: float = 0.2, max_cycles: int | None = None,
               build_args=(), per_output: int = 1) -> StreamResult:
    """Stream ``payloads`` (ints of ``in_width`` bits) through ``top``; outputs in order,
    one per ``per_output`` inputs (a sequence of tokens -> its logits)."""
    check_simulator(simulator)
    runner = make_runner(simulator)
    payloads = np.asarray(list(payloads), dtype=object)
    n = len(payloads)
    if n == 0 or n % per_output:
        raise ValueError(f"stream a positive multiple of {per_output} payloads, not {n}")
    rows = to_rows(payloads, in_width, "i__payload")
    digest = hashlib.sha256(json.dumps({"top": top, "text": verilog, "args": list(build_args),
                                        "tb": 1}).encode()).hexdigest()[:12]
    build_dir = (Path(build_root) / f"{top}-{digest}" / simulator).resolve()
    with locked(build_dir):
        src = build_dir / f"{top}.v"
        if not src.exists() or src.read_text() != verilog:
            src.write_text(verilog)
        args = list(build_args)
        if simulator == "verilator":
            args += ["-Wno-fatal"]
        build_seconds = build_simulation(runner, simulator, build_dir, [src], None, top,
                               json.dumps([verilog, args]), False, args)
        vec_file, out_file, results_xml, log_file = run_files(build_dir, "stream", "stream_out")
        cfg = {"n": n, "outputs": n // per_output, "in_width": in_width, "out_width": out_width, "seed": seed,
               "ready_prob": ready_prob, "idle_prob": idle_prob, "out_file": str(out_file),
               "max_cycles": max_cycles or 1000 + 200 * n * 64}
        np.savez(vec_file, __config__=np.array(json.dumps(cfg)), **{"in": rows})
        sim_seconds, crash = run_testbench(
            runner, TESTBENCH_MODULE, top, build_dir, results_xml, log_file,
            {"SPIKEGATE_STREAM": str(vec_file)}, _TB_FILE.name)
        ran, failures = read_results(results_xml)
        if ran == 0 or not out_file.exists() or failures:
            raise SimulationError(
                f"stream test of {top} on {simulator} failed "
                f"({'; '.join(failures) or crash or 'no outputs'}); log {log_file}:\n"
                f"{log_tail(log_file)}")
        with np.load(out_file, allow_pickle=False) as data:
            out = from_rows(data["out"], out_width)
            xz = data["xz"]
            stats = json.loads(str(data["__stats__"]))
    if xz.any():
        bad = int(np.flatnonzero(xz.any(axis=1))[0])
        raise SimulationError(f"{top} on {simulator}: output #{bad} has X/Z bits")
    out = np.asarray([int(v) for v in out], dtype=object)
    return StreamResult(out, stats["cycles"], sim_seconds, build_seconds, build_dir)

