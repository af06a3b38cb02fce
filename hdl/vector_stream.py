"""Time-multiplexed vector units (RMSNorm, LayerNorm, softmax) for large N, with valid/ready
streams: the control that steps a :class:`~spikegate.gen.vector_stream.StreamParts`
program through its neuron datapaths.

``P`` elements a beat (``N = G * P``), so one vector is ``G`` beats in and ``G`` out:

* ``i`` (``stream.Signature(k * P * W)``, ``k`` ports): beat ``g`` holds port ``j``'s
  lane ``p`` (element ``gP + p``) at bits ``[W (j P + p) +: W]`` (ports ``x, w[, b]`` of a
  norm, ``x`` of softmax). Accepted while the unit runs its first pass (LOAD).
* ``o`` (``stream.Signature(P * W)``): beat ``g`` of the outputs, ``y_(gP+p)`` at
  ``[W p +: W]``, held until taken (``valid`` stays up under backpressure).

The program's first pass stores each input beat in an element buffer (``Memory``, ``G``
words) while it accumulates; later passes read the buffer (``G`` cycles), single steps take
one cycle, and the emit step offers each output beat until taken, then every register
returns to its initial code for the next vector. Control, buffer and registers are plain
Amaranth; the arithmetic is the datapath netlists, emitted by the direct writer and
instantiated (``datapaths="instance"``, for Verilog), or elaborated in place as
:class:`~spikegate.hdl.elaborate.NetlistComponent` submodules (``datapaths="netlist"``, so
that Amaranth's own simulator runs the whole unit). The datapaths are combinational (one
step a cycle: a long path at a low clock, and no pipeline hazard on the accumulator loops).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Instance, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.netlist import check_name
from ..gen.vector_stream import StreamParts
from ..golden.formats import get_format
from .design import Design
from .elaborate import NetlistComponent

__all__ = ["VectorStream", "vector_stream_verilog", "write_vector_stream_design"]


#: How the datapaths enter the control: Verilog instances (the written design) or
#: elaborated netlists (the Amaranth simulator; no Verilog involved).
DATAPATHS = ("instance", "netlist")


class VectorStream(wiring.Component):
    """The stream form of one :class:`~spikegate.gen.vector_stream.StreamParts`.

    Parameters
    ----------
    spec : StreamParts
    top : str
        Verilog module name; the datapath modules are ``<top>_<part>``.
    datapaths : {"instance", "netlist"}
        ``instance`` (default): each datapath an ``Instance`` of its written module;
        ``netlist``: each one elaborated from its netlist, for Amaranth's simulator.
    """

    def __init__(self, spec: StreamParts, *, top="vector", datapaths="instance"):
        if not isinstance(spec, StreamParts):
            raise TypeError(f"spec must be StreamParts, not {spec!r}")
        if datapaths not in DATAPATHS:
            raise ValueError(f"unknown datapaths {datapaths!r}: choose one of "
                             f"{', '.join(DATAPATHS)}")
        self.spec, self.top = spec, check_name(top, "top module name")
        self.datapaths = datapaths
        W, P = get_format(spec.fmt).width, spec.lanes
        super().__init__({"i": In(stream.Signature(len(spec.ports) * P * W)),
                          "o": Out(stream.Signature(P * W))})

    def module(self, part):
        return f"{self.top}_{part}"

    def elaborate(self, platform):
        m = Module()
        sp = self.spec
        W, P, G = get_format(sp.fmt).width, sp.lanes, sp.beats
        m.submodules.buf = buf = Memory(shape=len(self.i.payload), depth=max(G, 2), init=[])
        wr, rd = buf.write_port(), buf.read_port(domain="comb")
        state = Signal(range(len(sp.program)), name="state")
        beat = Signal(range(G + 1), name="beat")
        regs = {k: Signal(w, init=init, name=k) for k, (w, init) in sp.registers.items()}
        m.d.comb += rd.addr.eq(beat)

        def lanes(word, k):              # the k-th port's P codes of a beat
            return {f"{sp.ports[k]}{p}": word[W * (k * P + p):W * (k * P + p + 1)]
                    for p in range(P)}

        def instance(tag, part, outs, ins):
            if self.datapaths == "netlist":
                m.submodules[tag] = sub = NetlistComponent(sp.parts[part])
                m.d.comb += [getattr(sub, k).eq(v) for k, v in ins.items()]
                m.d.comb += [v.eq(getattr(sub, k)) for k, v in outs.items()]
                return
            ports = {f"i_{k}": v for k, v in ins.items()}
            ports.update({f"o_{k}": v for k, v in outs.items()})
            m.submodules[tag] = Instance(self.module(part), **ports)

        # one datapath instance per step (a datapath used twice is two instances)
        results = []
        for k, st in enumerate(sp.program):
            ins = {r: regs[r] for r in st.reads}
            if st.kind == "pass":
                word = self.i.payload if st.source == "input" else rd.data
                ins.update(acc=regs[st.out], **lanes(word, 0))
            if st.kind == "emit":
                for j in range(len(sp.ports)):
                    ins.update(lanes(rd.data, j))
                outs = {f"y{p}": Signal(W, name=f"y{p}") for p in range(P)}
                m.d.comb += self.o.payload.eq(Cat(*outs.values()))
            else:
                outs = {"y": Signal(len(regs[st.out]), name=f"{st.part}{k}_y")}
            instance(f"{st.part}{k}", st.part, outs, ins)
            results.append(outs)

        def advance(k):
            with m.If(beat == G - 1):
                m.d.sync += [beat.eq(0), state.eq(k + 1)]
            with m.Else():
                m.d.sync += beat.eq(beat + 1)

        # plain assignments, not inside the state switch: an Icarus process that is never
        # woken would leave them X until the state first changes
        emit = len(sp.program) - 1
        m.d.comb += [self.i.ready.eq(state == 0), self.o.valid.eq(state == emit),
                     wr.addr.eq(beat), wr.data.eq(self.i.payload),
                     wr.en.eq(self.i.valid & (state == 0))]
        with m.Switch(state):
            for k, st in enumerate(sp.program):
                with m.Case(k):
                    if st.kind == "pass":
                        go = self.i.valid if st.source == "input" else 1
                        with m.If(go):
                            m.d.sync += regs[st.out].eq(results[k]["y"])
                            advance(k)
                    elif st.kind == "step":
                        m.d.sync += [regs[st.out].eq(results[k]["y"]), state.eq(k + 1)]
                    else:
                        with m.If(self.o.ready):
                            with m.If(beat == G - 1):
                                m.d.sync += [beat.eq(0), state.eq(0)]
                                m.d.sync += [r.eq(r.init) for r in regs.values()]
                            with m.Else():
                                m.d.sync += beat.eq(beat + 1)
        return m


def vector_stream_verilog(spec: StreamParts, *, top) -> str:
    """One Verilog file: the neuron datapath modules and the Amaranth control around them."""
    from amaranth.back import verilog
    comp = VectorStream(spec, top=top)
    wrapper = verilog.convert(comp, name=comp.top, emit_src=False)
    head = (f"// {top}: time-multiplexed {spec.name} of {spec.n} {spec.fmt} elements, "
            f"{spec.lanes} a beat ({spec.beats} beats a vector); generated by spikegate.\n")
    parts = []
    for part, nl in spec.parts.items():
        st = nl.stats()
        head += (f"// {comp.module(part)}: {st['neurons']} neurons, {st['synapses']} synapses, "
                 f"depth {st['depth']}\n")
        parts.append(Design(nl, top=comp.module(part)).verilog)
    return head + "\n".join(parts) + "\n" + wrapper


def write_vector_stream_design(output, spec: StreamParts, *, top, force=False,
                               command=None) -> dict:
    """Generate the stream form of ``spec`` into ``output`` (atomically); returns the report.
    ``report.json`` records what the builder was given (``n``, ``lanes``, ``eps``...), so
    that verify rebuilds the golden; the Verilog on disk is what it simulates."""
    import json
    from pathlib import Path

    from .atomic import write_directory
    from .inspect import analyze
    from .report import fusesoc_core, report_markdown, stream_ports
    out = Path(output)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty: pass --force to replace it")
    text = vector_stream_verilog(spec, top=top)
    stats = {k: nl.stats() for k, nl in spec.parts.items()}
    W, P, G = get_format(spec.fmt).width, spec.lanes, spec.beats
    in_w, out_w = len(spec.ports) * P * W, P * W
    report = {
        "top": top, "verilog": f"{top}.v", "unit": spec.name, "form": "time-multiplexed",
        "format": spec.fmt, "n": spec.n, "lanes": P, "beats": G, **spec.meta,
        "neurons": sum(s["neurons"] for s in stats.values()),
        "synapses": sum(s["synapses"] for s in stats.values()),
        "depth": max(s["depth"] for s in stats.values()),
        "max_fanin": max(s["max_fanin"] for s in stats.values()),
        "max_weight": max(s["max_weight"] for s in stats.values()),
        "datapaths": {k: {"neurons": s["neurons"], "depth": s["depth"]}
                      for k, s in stats.items()},
        "stages": 0, "latency_cycles": spec.latency,
        "cycles_per_vector": spec.cycles_per_vector,
        "interface": f"amaranth.lib.stream: i (valid/ready/payload {in_w} bits a beat: "
                     f"{', '.join(spec.ports)} lanes, {W} bits each), o (valid/ready/payload "
                     f"{out_w} bits: y lanes); {G} beats a vector each way",
        "ports": stream_ports(in_w, out_w),
    }
    if command:
        report["command"] = command
    emit = spec.program[-1].part
    files = {f"{top}.v": text,
             "report.json": json.dumps(report, indent=2, sort_keys=True) + "\n",
             "report.md": report_markdown(report, analyze(spec.parts[emit], 0)),
             f"{top}.core": fusesoc_core(report)}
    write_directory(out, files)
    return report
