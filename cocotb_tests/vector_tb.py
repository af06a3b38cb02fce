"""cocotb testbench that streams vectors through a design, driven by :mod:`spikegate.sim.cocotb_runner`.

It is not meant to be started by hand: ``run_vectors`` writes a ``.npz`` file and passes its
path in the environment variable :data:`ENV_VAR`. The file holds

* ``__config__``: a JSON string, see :func:`_load` (lanes, latency, clock, reset, hold values,
  input/output widths, vector count, where to write the outputs, whether to compare);
* ``in:<bus>`` / ``exp:<bus>``: one row per vector, the value as little-endian bytes
  (``ceil(width / 8)`` columns), so buses of any width travel the same way.

The design seen here carries ``lanes`` copies of the user's module side by side, every
vector bus ``lanes`` times wider (lane 0 in the least significant bits): each step drives
``lanes`` vectors at once. Packing and unpacking are vectorized with numpy; the simulator
loop only moves pre-built binary strings in and collects binary strings out, which also
keeps X/Z bits (recorded separately as ``xz:<bus>`` masks) instead of failing on them.

Output file (``out_file``): ``out:<bus>`` value bytes (X/Z bits read as 0), ``xz:<bus>``
for buses that had any X/Z bit, and ``__stats__`` (JSON: loop seconds, steps, mismatches).

Numpy only (no torch): cocotb imports this module inside the simulator.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

ENV_VAR = "SPIKEGATE_VECTORS"
CLOCK_PERIOD_NS = 10

_ONE = np.frombuffer(b"1H", dtype=np.uint8)  # chars read as logic 1
_KNOWN = np.frombuffer(b"01LH", dtype=np.uint8)  # every other char is X/Z/U/W/-


def bytes_to_bits(rows: np.ndarray, width: int) -> np.ndarray:
    """(N, nbytes) little-endian bytes -> (N, width) bits, bit 0 first."""
    return np.unpackbits(rows, axis=1, count=width, bitorder="little")


def bits_to_bytes(bits: np.ndarray) -> np.ndarray:
    """(N, width) bits, bit 0 first -> (N, ceil(width / 8)) little-endian bytes."""
    return np.packbits(bits.astype(np.uint8), axis=1, bitorder="little")


def lane_strings(rows: np.ndarray, width: int, lanes: int) -> list[str]:
    """Binary strings (MSB first) of ``lanes * width`` bits, one per step.

    Vector ``step * lanes + lane`` lands in bits ``[lane * width +: width]``; the last
    step is padded with copies of vector 0.
    """
    n = rows.shape[0]
    steps = -(-n // lanes)
    idx = np.zeros(steps * lanes, dtype=np.int64)
    idx[:n] = np.arange(n)
    bits = bytes_to_bits(rows[idx], width).reshape(steps, lanes * width)
    chars = np.where(bits[:, ::-1] != 0, ord("1"), ord("0")).astype(np.uint8)
    text = chars.tobytes().decode("ascii")
    size = lanes * width
    return [text[i * size:(i + 1) * size] for i in range(steps)]


def strings_to_lanes(strings: list[str], width: int, lanes: int, n: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`lane_strings`: (value bytes, X/Z-mask bytes), n rows each."""
    size = lanes * width
    text = "".join(strings).upper().encode("ascii")
    chars = np.frombuffer(text, dtype=np.uint8).reshape(len(strings), size)[:, ::-1]
    chars = chars.reshape(len(strings) * lanes, width)[:n]
    ones = np.isin(chars, _ONE)
    unknown = ~np.isin(chars, _KNOWN)
    return bits_to_bytes(ones), bits_to_bytes(unknown)


def _load(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    config = json.loads(str(arrays.pop("__config__")))
    return config, arrays


def _hex(row: np.ndarray, width: int, unknown: np.ndarray | None = None) -> str:
    digits = max(1, (width + 3) // 4)
    text = f"{int.from_bytes(row.tobytes(), 'little'):0{digits}x}"
    if unknown is not None and unknown.any():
        xz = int.from_bytes(unknown.tobytes(), "little")
        text = "".join("X" if (xz >> (4 * (digits - 1 - i))) & 0xF else c
                       for i, c in enumerate(text))
    return "0x" + text


@cocotb.test()
async def stream_vectors(dut: Any) -> None:
    """Drive every vector of the file named by ``$SPIKEGATE_VECTORS`` and record outputs."""
    path = os.environ.get(ENV_VAR)
    assert path, f"${ENV_VAR} is not set: run this testbench through spikegate.sim.cocotb_runner"
    cfg, arrays = _load(path)
    lanes: int = cfg["lanes"]
    latency: int = cfg["latency"]
    n: int = cfg["n"]
    in_widths: dict[str, int] = cfg["inputs"]
    out_widths: dict[str, int] = cfg["outputs"]

    drive = {name: lane_strings(arrays[f"in:{name}"], w, lanes) for name, w in in_widths.items()}
    steps = -(-n // lanes)
    in_handles = [(getattr(dut, name), drive[name]) for name in in_widths]
    out_handles = [getattr(dut, name) for name in out_widths]
    collected: list[list[str]] = [[] for _ in out_widths]

    for name, value in cfg["hold"].items():
        getattr(dut, name).value = int(value)

    t0 = time.perf_counter()
    if latency == 0:
        settle = Timer(1, "ns")
        for step in range(steps):
            for handle, values in in_handles:
                handle.value = values[step]
            await settle
            for handle, sink in zip(out_handles, collected):
                sink.append(str(handle.value))
    else:
        clk = getattr(dut, cfg["clock"])
        rst = getattr(dut, cfg["reset"]) if cfg["reset"] else None
        clk.value = 0
        if rst is not None:
            rst.value = 1
        for handle, values in in_handles:
            handle.value = values[0]
        # Let clk settle at 0 before the clock starts: in a 4-state simulator its X -> 0
        # step at time 0 is a falling edge, which would be miscounted as a clock cycle.
        await Timer(1, "ns")
        Clock(clk, CLOCK_PERIOD_NS, "ns").start(start_high=False)
        falling = FallingEdge(clk)
        if rst is not None:
            await falling  # rising edge with rst = 1
            await falling  # and a second one
            rst.value = 0
        # Inputs driven before rising edge k (driven at the falling edge before it) give
        # their result just after rising edge k + latency - 1: read at the next falling edge.
        for k in range(steps + latency - 1):
            await falling
            j = k - (latency - 1)
            if j >= 0:
                for handle, sink in zip(out_handles, collected):
                    sink.append(str(handle.value))
            if k + 1 < steps:
                for handle, values in in_handles:
                    handle.value = values[k + 1]
    loop_seconds = time.perf_counter() - t0

    result: dict[str, np.ndarray] = {}
    any_xz = {}
    for (name, width), strings in zip(out_widths.items(), collected):
        value, xz = strings_to_lanes(strings, width, lanes, n)
        result[f"out:{name}"] = value
        if xz.any():
            result[f"xz:{name}"] = xz
            any_xz[name] = xz

    mismatch_lines: list[str] = []
    bad_count = 0
    if cfg.get("compare"):
        bad = np.zeros(n, dtype=bool)
        for name in out_widths:
            key = f"exp:{name}"
            if key in arrays:
                bad |= (result[f"out:{name}"] != arrays[key]).any(axis=1)
                if name in any_xz:
                    bad |= any_xz[name].any(axis=1)
        bad_count = int(bad.sum())
        for i in np.flatnonzero(bad)[:5]:
            ins = " ".join(f"{k}={_hex(arrays[f'in:{k}'][i], w)}" for k, w in in_widths.items())
            outs = ", ".join(
                f"{k}: got {_hex(result[f'out:{k}'][i], w, any_xz[k][i] if k in any_xz else None)}"
                f" expected {_hex(arrays[f'exp:{k}'][i], w)}"
                for k, w in out_widths.items() if f"exp:{k}" in arrays
            )
            mismatch_lines.append(f"#{i}: {ins} -> {outs}")

    stats = {"loop_seconds": loop_seconds, "steps": steps, "vectors": n,
             "mismatches": bad_count}
    result["__stats__"] = np.array(json.dumps(stats))
    out_file = cfg["out_file"]
    tmp = out_file + ".tmp.npz"
    np.savez(tmp, **result)
    os.replace(tmp, out_file)
    dut._log.info("%d vectors in %d steps of %d lanes: %.3f s", n, steps, lanes, loop_seconds)

    assert bad_count == 0, "\n".join(
        [f"{bad_count} of {n} vectors mismatch", *mismatch_lines])
