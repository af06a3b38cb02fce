"""Run a design on Amaranth's own simulator (pure Python: slow, but no external tools)."""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator

from ..hdl.design import Design

__all__ = ["run_amaranth"]


def run_amaranth(design: Design, inputs: dict, *, vcd=None):
    """Drive every vector through the RTL; returns bus name -> numpy uint64 array.

    Combinational designs settle per vector; pipelined ones take a new vector every cycle
    and their outputs are collected ``latency`` cycles later.
    """
    dut = design.component()
    arrays = {k: [int(x) for x in np.asarray(v)] for k, v in inputs.items()}
    count = len(next(iter(arrays.values())))
    outputs = {bus: [] for bus in design.netlist.outputs}
    latency = design.latency

    async def bench(ctx):
        if latency and dut.valid:
            ctx.set(dut.valid_in, 1)
        first = max(latency - 1, 0)  # the result of vector i shows after tick i + latency - 1
        for i in range(count + first):
            if i < count:
                for bus, values in arrays.items():
                    ctx.set(getattr(dut, bus), values[i])
            if latency:
                await ctx.tick()
            if i >= first:
                for bus in outputs:
                    outputs[bus].append(ctx.get(getattr(dut, bus)))

    sim = Simulator(dut)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return {bus: np.array(v, dtype=np.uint64) for bus, v in outputs.items()}

