"""Run a design on Amaranth's own simulator (pure Python: slow, but no external tools)."""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Elaboratable, Module, Signal
from amaranth.sim import Simulator

from ..hdl.design import Design

__all__ = ["run_amaranth", "run_amaranth_stream"]


class _Packed(Elaboratable):
    """All input buses behind one signal, all outputs behind another.

    Every ``ctx.set`` makes the simulator settle the whole network, so one packed write
    per vector (instead of one per bus) halves the cost of a two-operand unit.
    """

    def __init__(self, dut, inputs, outputs):
        self.dut, self.inputs, self.outputs = dut, inputs, outputs
        self.vec = Signal(sum(w for _, w in inputs))
        self.out = Signal(sum(w for _, w in outputs))

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = self.dut
        offset = 0
        for bus, width in self.inputs:
            m.d.comb += getattr(self.dut, bus).eq(self.vec[offset:offset + width])
            offset += width
        m.d.comb += self.out.eq(Cat(getattr(self.dut, bus) for bus, _ in self.outputs))
        return m


def run_amaranth(design: Design, inputs: dict, *, vcd=None):
    """Drive every vector through the RTL; returns bus name -> numpy uint64 array.

    Combinational designs settle per vector; pipelined ones take a new vector every cycle
    and their outputs are collected ``latency`` cycles later.
    """
    dut = design.component()
    in_buses = [(bus, len(nets)) for bus, nets in design.netlist.inputs.items()]
    out_buses = [(bus, len(nets)) for bus, nets in design.netlist.outputs.items()]
    top = _Packed(dut, in_buses, out_buses)
    packed, offset = 0, 0
    for bus, width in in_buses:
        packed = packed + (np.asarray(inputs[bus]).astype(object) << offset)
        offset += width
    vectors = [int(v) for v in np.atleast_1d(packed)]
    results = []
    latency = design.latency

    async def bench(ctx):
        if latency and dut.valid:
            ctx.set(dut.valid_in, 1)
        first = max(latency - 1, 0)  # the result of vector i shows after tick i + latency - 1
        for i in range(len(vectors) + first):
            if i < len(vectors):
                ctx.set(top.vec, vectors[i])
            if latency:
                await ctx.tick()
            if i >= first:
                results.append(ctx.get(top.out))

    sim = Simulator(top)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    out, offset = {}, 0
    for bus, width in out_buses:
        out[bus] = np.array([(r >> offset) & ((1 << width) - 1) for r in results], dtype=np.uint64)
        offset += width
    return out


def run_amaranth_stream(component, payloads, *, outputs, seed=0, ready_prob=0.7,
                        idle_prob=0.2, max_cycles=100_000):
    """Stream ``payloads`` through a component with ``amaranth.lib.stream`` ports ``i`` and
    ``o`` on Amaranth's simulator, as :mod:`cocotb_tests.stream_tb` does on the HDL
    simulators: random idle cycles before each input (``valid`` then held until taken) and
    ``o.ready`` up with probability ``ready_prob`` each cycle. Returns ``(outputs in order,
    cycles)``; raises ``RuntimeError`` when ``outputs`` payloads have not come out within
    ``max_cycles``."""
    rng = np.random.default_rng(seed)
    payloads = [int(p) for p in payloads]
    got, cycles = [], [0]

    async def bench(ctx):
        idx, offering = 0, False
        while len(got) < outputs and cycles[0] < max_cycles:
            if not offering and idx < len(payloads) and not (idle_prob and
                                                            rng.random() < idle_prob):
                offering = True
                ctx.set(component.i.payload, payloads[idx])
            ctx.set(component.i.valid, offering)
            take = bool(rng.random() < ready_prob)
            ctx.set(component.o.ready, take)
            accepted = offering and ctx.get(component.i.ready)
            emitted = take and ctx.get(component.o.valid)
            if emitted:
                got.append(ctx.get(component.o.payload))
            await ctx.tick()
            cycles[0] += 1
            if accepted:
                idx, offering = idx + 1, False

    sim = Simulator(component)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    if len(got) < outputs:
        raise RuntimeError(f"stalled: {len(got)} of {outputs} outputs after {max_cycles} cycles "
                           f"on the Amaranth simulator")
    return got, cycles[0]
