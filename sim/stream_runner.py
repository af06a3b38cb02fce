"""Run valid/ready stream designs (time-multiplexed layers, MLPs) under cocotb.

:func:`run_stream` builds ``verilog`` (cached by content, like
:func:`~spikegate.sim.cocotb_runner.run_vectors`), hands the input payloads to
:mod:`spikegate.cocotb_tests.stream_tb` and returns the output payloads in order, with
random idle cycles on the input and random backpressure on the output (seeded).
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cocotb_runner import (SimulationError, build_simulation, from_rows, locked, log_tail,
                            make_runner, read_results, to_rows, run_files,
                            run_testbench)
from .toolchain import check_simulator

__all__ = ["run_stream", "StreamResult", "pack_payloads", "unpack_payloads"]

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
               build_args=(), build: str = "quick", sequence=(1, 1),
               shards: int = 1) -> StreamResult:
    """Stream ``payloads`` (ints of ``in_width`` bits) through ``top``; outputs in order,
    ``sequence = (inputs, outputs)``: every ``inputs`` payloads give ``outputs`` outputs
    (a sequence of tokens -> its logits). ``shards`` > 1 splits the sequences over that
    many simulator processes sharing one build (each with its own seed, ``seed + k``): a
    multi-core machine's cores each run a part. ``cycles`` is their sum, ``sim_seconds``
    the wall time. ``build``: how Verilator compiles, a key of
    :data:`~spikegate.sim.cocotb_runner.VERILATOR_BUILDS`."""
    check_simulator(simulator)
    payloads = np.asarray(list(payloads), dtype=object)
    n = len(payloads)
    per_seq, out_seq = sequence
    if n == 0 or n % per_seq:
        raise ValueError(f"stream a positive multiple of {per_seq} payloads, not {n}")
    if not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards must be a positive integer, not {shards!r}")
    groups = np.array_split(np.arange(n // per_seq), min(shards, n // per_seq))
    parts = [payloads[g[0] * per_seq:(g[-1] + 1) * per_seq] for g in groups]
    digest = hashlib.sha256(json.dumps({"top": top, "text": verilog, "args": list(build_args),
                                        "build": build, "tb": 1}).encode()).hexdigest()[:12]
    build_dir = (Path(build_root) / f"{top}-{digest}" / simulator).resolve()
    with locked(build_dir):
        src = build_dir / f"{top}.v"
        if not src.exists() or src.read_text() != verilog:
            src.write_text(verilog)
        args = list(build_args)
        if simulator == "verilator":
            args += ["-Wno-fatal"]
        build_seconds = build_simulation(simulator, build_dir, [src],
                                         None, top, json.dumps([verilog, args]), False, args, build)

        def run(k):
            run_dir = build_dir if len(parts) == 1 else build_dir / f"shard{k}"
            return _run_part(parts[k], simulator, top, build_dir, run_dir, seed + k,
                             in_width=in_width, out_width=out_width, sequence=sequence,
                             ready_prob=ready_prob, idle_prob=idle_prob, max_cycles=max_cycles)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            results = list(pool.map(run, range(len(parts))))
        sim_seconds = time.perf_counter() - start
    out = np.asarray([v for outs, _ in results for v in outs], dtype=object)
    return StreamResult(out, sum(c for _, c in results), sim_seconds, build_seconds, build_dir)


def _run_part(payloads, simulator, top, build_dir, run_dir, seed, *, in_width, out_width,
              sequence, ready_prob, idle_prob, max_cycles):
    """One simulator process on one part of the payloads: (outputs, cycles)."""
    n = len(payloads)
    rows = to_rows(payloads, in_width, "i__payload")
    vec_file, out_file, results_xml, log_file = run_files(run_dir, "stream", "stream_out")
    cfg = {"n": n, "outputs": n // sequence[0] * sequence[1], "in_width": in_width,
           "out_width": out_width,
           "seed": seed, "ready_prob": ready_prob, "idle_prob": idle_prob,
           "out_file": str(out_file), "max_cycles": max_cycles or 1000 + 200 * n * 64}
    np.savez(vec_file, __config__=np.array(json.dumps(cfg)), **{"in": rows})
    _, crash = run_testbench(make_runner(simulator), TESTBENCH_MODULE, top, build_dir,
                             results_xml, log_file, {"SPIKEGATE_STREAM": str(vec_file)},
                             _TB_FILE.name, test_dir=run_dir)
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
        raise SimulationError(f"{top} on {simulator}: output #{bad} of a part has X/Z bits")
    return [int(v) for v in out], stats["cycles"]


def pack_payloads(rows, width):
    """Stream payloads (ints) of rows of codes, element ``i`` at bits ``[width*i +: width]``."""
    return [sum(int(c) << (width * i) for i, c in enumerate(r)) for r in rows]


def unpack_payloads(payloads, count, width):
    """The inverse of :func:`pack_payloads`: ``(len(payloads), count)`` codes."""
    mask = (1 << width) - 1
    return np.array([[(int(p) >> (width * i)) & mask for i in range(count)] for p in payloads],
                    dtype=np.uint64)
