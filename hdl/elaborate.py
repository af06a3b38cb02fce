"""Netlist -> Amaranth: every neuron becomes a named threshold accumulator signal.

The Verilog wire of a neuron carries the neuron's netlist name (``mul_add_b3``...), so an
engineer can trace any output bit back to the neuron that made it. Pipeline registers are
named ``<net>_p<stage>``; a ``valid`` bit travels alongside the data.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..gen.netlist import CONST0, CONST1, Netlist
from .neuron import threshold_fire
from .pipeline import cut_levels, stage_of_level

__all__ = ["NetlistComponent"]


class NetlistComponent(wiring.Component):
    """A neuron netlist as an Amaranth component.

    Parameters
    ----------
    netlist : Netlist
    stages : int
        Pipeline register stages (0: combinational; K: latency K, one result per cycle).
    valid : bool
        With ``stages > 0``, add ``valid_in``/``valid_out`` that travel with the data.

    The signature has one port per netlist bus, with the same names.
    """

    def __init__(self, netlist: Netlist, *, stages=0, valid=True):
        if not isinstance(netlist, Netlist):
            raise TypeError(f"netlist must be a Netlist, not {netlist!r}")
        self.netlist = netlist
        self.cuts = cut_levels(netlist.depth(), stages)
        self.stages = stages
        self.valid = bool(valid) and stages > 0
        members = {bus: In(len(nets)) for bus, nets in netlist.inputs.items()}
        members.update({bus: Out(len(nets)) for bus, nets in netlist.outputs.items()})
        if self.valid:
            members.update(valid_in=In(1), valid_out=Out(1))
        super().__init__(members)

    @property
    def latency(self):
        return self.stages

    def elaborate(self, platform):
        m = Module()
        nl = self.netlist
        level = nl.levels()
        names = nl.net_names()
        # value[(net, stage)]: the net as seen by logic of that stage.
        value = {}
        home = {}
        for bus, nets in nl.inputs.items():
            port = getattr(self, bus)
            for i, n in enumerate(nets):
                value[(n, 0)] = port[i]
                home[n] = 0

        def at(net, stage):
            if net == CONST0 or net == CONST1:
                return Const(net, 1)
            if (net, stage) not in value:
                prev = at(net, stage - 1)
                reg = Signal(name=f"{_plain(names[net])}_p{stage}", reset_less=self.valid)
                m.d.sync += reg.eq(prev)
                value[(net, stage)] = reg
            return value[(net, stage)]

        for neuron in nl.neurons:
            stage = stage_of_level(level[neuron.out], self.cuts)
            fire = Signal(name=neuron.name)
            m.d.comb += fire.eq(threshold_fire([at(i, stage) for i in neuron.inputs],
                                               neuron.weights, neuron.bias, neuron.threshold))
            value[(neuron.out, stage)] = fire
            home[neuron.out] = stage
        for bus, nets in nl.outputs.items():
            port = getattr(self, bus)
            for i, n in enumerate(nets):
                m.d.comb += port[i].eq(at(n, self.stages))
        if self.valid:
            v = self.valid_in
            for stage in range(1, self.stages + 1):
                reg = Signal(name=f"valid_p{stage}")
                m.d.sync += reg.eq(v)
                v = reg
            m.d.comb += self.valid_out.eq(v)
        return m


def _plain(name):
    return name.replace("[", "_").replace("]", "")
