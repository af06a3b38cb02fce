"""cocotb testbench for valid/ready stream designs, driven by :mod:`spikegate.sim.stream_runner`.

The design has a clock ``clk``, a synchronous reset ``rst`` and two ``amaranth.lib.stream``
ports flattened by Amaranth as ``i__valid/i__ready/i__payload`` and
``o__valid/o__ready/o__payload``. The ``.npz`` file named by ``$SPIKEGATE_STREAM`` holds
``__config__`` (JSON: widths, vector count, output file, seed, ready probability, idle
probability) and ``in`` (one row of little-endian payload bytes per vector).

At falling edges the testbench decides what the next rising edge transfers: ``i__valid``
is raised for the next vector (after random idle cycles when asked), ``o__ready`` with the
given probability (backpressure); a transfer happens where valid and ready are both 1.
Between transfers it sleeps on changes of ``i__ready``/``o__valid``, so a layer that works
for hundreds of cycles per vector costs a few Python wake-ups, not hundreds. Output payloads
are recorded in order; the run ends when every vector has come out.
Numpy only (no torch): cocotb imports this module inside the simulator.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time

ENV_VAR = "SPIKEGATE_STREAM"
CLOCK_NS = 10


def _bits(row: np.ndarray, width: int) -> str:
    v = int.from_bytes(row.tobytes(), "little")
    return format(v, f"0{width}b")


@cocotb.test()
async def stream(dut) -> None:
    path = os.environ.get(ENV_VAR)
    assert path, f"${ENV_VAR} is not set: run this testbench through spikegate.sim.stream_runner"
    with np.load(path, allow_pickle=False) as data:
        cfg = json.loads(str(data["__config__"]))
        rows = data["in"]
    n, win, wout = cfg["n"], cfg["in_width"], cfg["out_width"]
    n_out = cfg.get("outputs", n)
    rng = np.random.default_rng(cfg["seed"])
    ready_p, idle_p = cfg["ready_prob"], cfg["idle_prob"]
    max_ns = cfg["max_cycles"] * CLOCK_NS
    drive = [_bits(r, win) for r in rows]

    dut.clk.value = 0
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    await Timer(1, "ns")
    Clock(dut.clk, CLOCK_NS, "ns").start(start_high=False)
    falling, rising = FallingEdge(dut.clk), RisingEdge(dut.clk)
    await falling
    await falling
    dut.rst.value = 0
    t_start = get_sim_time("ns")
    got = []

    # Both sides act at falling edges, where valid/ready (functions of registers) are
    # stable: a transfer happens at the next rising edge when both are 1. Between
    # transfers they sleep on value changes of ready/valid, not on every clock cycle.
    async def driver():
        for idx in range(n):
            while idle_p and rng.random() < idle_p:
                await falling
            dut.i__payload.value = drive[idx]
            dut.i__valid.value = 1
            while not int(dut.i__ready.value):
                await RisingEdge(dut.i__ready)
                await falling
            await rising                            # the transfer
            dut.i__valid.value = 0
            await falling

    async def monitor():
        while len(got) < n_out:
            await falling
            if not int(dut.o__valid.value):
                await RisingEdge(dut.o__valid)
                continue
            if rng.random() < ready_p:
                got.append(str(dut.o__payload.value))
                dut.o__ready.value = 1
                await rising                        # the transfer
                dut.o__ready.value = 0

    t0 = time.perf_counter()
    cocotb.start_soon(driver())
    mon = cocotb.start_soon(monitor())
    try:
        await with_timeout(mon, max_ns, "ns")
    except SimTimeoutError:
        pass
    assert len(got) == n_out, f"stalled: {len(got)} of {n_out} outputs after {max_ns} ns"
    cycles = int((get_sim_time("ns") - t_start) // CLOCK_NS)
    seconds = time.perf_counter() - t0
    text = "".join(got).upper().encode("ascii")
    chars = np.frombuffer(text, dtype=np.uint8).reshape(n_out, wout)[:, ::-1]
    ones = chars == ord("1")
    unknown = ~np.isin(chars, np.frombuffer(b"01", dtype=np.uint8))
    out = np.packbits(ones.astype(np.uint8), axis=1, bitorder="little")
    xz = np.packbits(unknown.astype(np.uint8), axis=1, bitorder="little")
    stats = {"cycles": cycles, "seconds": seconds, "vectors": n, "outputs": n_out}
    tmp = cfg["out_file"] + ".tmp.npz"
    np.savez(tmp, out=out, xz=xz, __stats__=np.array(json.dumps(stats)))
    os.replace(tmp, cfg["out_file"])
    dut._log.info("%d vectors through the stream in %d cycles (%.2f s)", n, cycles, seconds)
