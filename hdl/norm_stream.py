"""Time-multiplexed RMSNorm and LayerNorm for large N, with valid/ready streams.

``P`` elements a beat (:class:`~spikegate.gen.norm.NormStreamParts`: ``N = G * P``), so
one vector is ``G`` beats in and ``G`` beats out:

* ``i`` (``stream.Signature(k * P * W)``, ``k`` = 2 or 3): beat ``g`` holds ``x_(gP+p)`` at
  bits ``[W p +: W]``, ``w_(gP+p)`` at ``[W (P + p) +: W]`` (LayerNorm: ``b`` at
  ``[W (2P + p) +: W]``). Accepted while the unit is loading a vector.
* ``o`` (``stream.Signature(P * W)``): beat ``g`` of the outputs, ``y_(gP+p)`` at
  ``[W p +: W]``, held until taken (``valid`` stays up under backpressure).

Control (plain Amaranth; the arithmetic is the neuron datapaths, instantiated): LOAD
stores each beat in an element buffer (``Memory``, ``G`` words) and adds it into the
accumulator (``sumsq``; LayerNorm: ``sum``); LayerNorm then takes ``mu = mean(acc)`` in one
cycle and runs ``sumsq`` over the buffer (``G`` cycles); ``finish`` gives ``r`` in one
cycle; EMIT reads the buffer again and offers each beat of ``scale`` until taken.
Latency from the last input beat: 1 (RMSNorm) or ``G + 2`` (LayerNorm) cycles to the first
output beat; a vector occupies the unit for ``2G + 1`` (``3G + 2``) cycles plus stalls.
The datapaths are combinational (one cycle each step: a long path at a low clock,
the price of no pipeline hazards on the accumulator loop).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Instance, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.netlist import check_name
from ..gen.norm import NormStreamParts
from ..golden.formats import get_format
from .design import Design

__all__ = ["NormStream", "norm_stream_verilog", "write_norm_stream_design"]

_LOAD, _MEAN, _VAR, _FINISH, _EMIT = range(5)


class NormStream(wiring.Component):
    """The stream form of one :class:`~spikegate.gen.norm.NormStreamParts` (module doc)."""

    def __init__(self, spec: NormStreamParts, *, top="norm"):
        if not isinstance(spec, NormStreamParts):
            raise TypeError(f"spec must be NormStreamParts, not {spec!r}")
        self.spec, self.top = spec, check_name(top, "top module name")
        W, P = get_format(spec.fmt).width, spec.lanes
        super().__init__({"i": In(stream.Signature(len(spec.ports) * P * W)),
                          "o": Out(stream.Signature(P * W))})

    def module(self, part):
        return f"{self.top}_{part}"

    def elaborate(self, platform):
        m = Module()
        sp = self.spec
        fmt, inner = get_format(sp.fmt), get_format(sp.internal)
        W, P, G = fmt.width, sp.lanes, sp.beats
        layer = sp.name == "layernorm"
        neg_zero = 1 << (inner.width - 1)
        m.submodules.buf = buf = Memory(shape=len(self.i.payload), depth=max(G, 2), init=[])
        wr, rd = buf.write_port(), buf.read_port(domain="comb")
        state = Signal(range(5), name="state")
        beat = Signal(range(G + 1), name="beat")
        acc = Signal(inner.width, init=neg_zero, name="acc")
        mu = Signal(inner.width, name="mu") if layer else None
        r = Signal(inner.width, name="r")
        m.d.comb += rd.addr.eq(beat)

        def lanes(word, k):              # the k-th port's P codes of a beat
            return {f"{'xwb'[k]}{p}": word[W * (k * P + p):W * (k * P + p + 1)]
                    for p in range(P)}

        def instance(part, outs, **ins):
            ports = {f"i_{k}": v for k, v in ins.items()}
            ports.update({f"o_{k}": v for k, v in outs.items()})
            m.submodules[part] = Instance(self.module(part), **ports)

        def accumulate(part, word, centre):
            y = Signal(inner.width, name=f"{part}_y")
            ports = lanes(word, 0)
            if centre:
                ports["mu"] = mu
            instance(part, {"y": y}, acc=acc, **ports)
            return y

        # LOAD reads the input beat; LayerNorm's variance pass reads the buffer
        first = accumulate("sum" if layer else "sumsq", self.i.payload, False)
        again = accumulate("sumsq", rd.data, True) if layer else None
        mean_y, r_y = Signal(inner.width, name="mean_y"), Signal(inner.width, name="r_y")
        if layer:
            instance("mean", {"y": mean_y}, acc=acc)
        instance("finish", {"y": r_y}, acc=acc)
        ys = {f"y{p}": Signal(W, name=f"y{p}") for p in range(P)}
        ins = {n: v for k in range(len(sp.ports)) for n, v in lanes(rd.data, k).items()}
        instance("scale", ys, r=r, **({"mu": mu} if layer else {}), **ins)

        def next_beat(done_state):
            with m.If(beat == G - 1):
                m.d.sync += [beat.eq(0), state.eq(done_state)]
            with m.Else():
                m.d.sync += beat.eq(beat + 1)

        # plain assignments, not inside the state switch: an Icarus process that is never
        # woken would leave them X until the state first changes
        m.d.comb += [self.i.ready.eq(state == _LOAD), self.o.valid.eq(state == _EMIT),
                     wr.addr.eq(beat), wr.data.eq(self.i.payload),
                     wr.en.eq(self.i.valid & (state == _LOAD))]
        with m.Switch(state):
            with m.Case(_LOAD):
                with m.If(self.i.valid):
                    m.d.sync += acc.eq(first)
                    next_beat(_MEAN if layer else _FINISH)
            if layer:
                with m.Case(_MEAN):
                    m.d.sync += [mu.eq(mean_y), acc.eq(neg_zero), state.eq(_VAR)]
                with m.Case(_VAR):
                    m.d.sync += acc.eq(again)
                    next_beat(_FINISH)
            with m.Case(_FINISH):
                m.d.sync += [r.eq(r_y), acc.eq(neg_zero), state.eq(_EMIT)]
            with m.Case(_EMIT):
                with m.If(self.o.ready):
                    next_beat(_LOAD)
        m.d.comb += self.o.payload.eq(Cat(*(ys[f"y{p}"] for p in range(P))))
        return m


def norm_stream_verilog(spec: NormStreamParts, *, top) -> str:
    """One Verilog file: the neuron datapath modules and the Amaranth control around them."""
    from amaranth.back import verilog
    comp = NormStream(spec, top=top)
    wrapper = verilog.convert(comp, name=comp.top, emit_src=False)
    head = (f"// {top}: time-multiplexed {spec.name} of {spec.n} {spec.fmt} elements, "
            f"{spec.lanes} a beat ({spec.beats} beats a vector), {spec.internal} steps; "
            f"generated by spikegate.\n")
    parts = []
    for part, nl in spec.parts.items():
        st = nl.stats()
        head += (f"// {comp.module(part)}: {st['neurons']} neurons, {st['synapses']} synapses, "
                 f"depth {st['depth']}\n")
        parts.append(Design(nl, top=comp.module(part)).verilog)
    return head + "\n".join(parts) + "\n" + wrapper


def write_norm_stream_design(output, spec: NormStreamParts, *, top, force=False,
                             command=None) -> dict:
    """Generate the stream form of ``spec`` into ``output`` (atomically); returns the report.
    ``report.json`` records what :func:`~spikegate.gen.norm.build_norm_stream` was given, so
    that verify rebuilds the golden (the Verilog on disk is what it simulates)."""
    import json
    from pathlib import Path

    from .atomic import write_directory
    from .inspect import analyze
    from .report import fusesoc_core, report_markdown
    out = Path(output)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty: pass --force to replace it")
    text = norm_stream_verilog(spec, top=top)
    stats = {k: nl.stats() for k, nl in spec.parts.items()}
    W, P, G = get_format(spec.fmt).width, spec.lanes, spec.beats
    in_w, out_w = len(spec.ports) * P * W, P * W
    layer = spec.name == "layernorm"
    report = {
        "top": top, "verilog": f"{top}.v", "unit": spec.name, "form": "time-multiplexed",
        "format": spec.fmt, "policy": spec.policy, "n": spec.n, "lanes": P, "beats": G,
        "eps": spec.eps, "internal": spec.internal,
        "neurons": sum(s["neurons"] for s in stats.values()),
        "synapses": sum(s["synapses"] for s in stats.values()),
        "depth": max(s["depth"] for s in stats.values()),
        "max_fanin": max(s["max_fanin"] for s in stats.values()),
        "max_weight": max(s["max_weight"] for s in stats.values()),
        "datapaths": {k: {"neurons": s["neurons"], "depth": s["depth"]}
                      for k, s in stats.items()},
        "stages": 0, "latency_cycles": (G + 2 if layer else 1),
        "cycles_per_vector": (3 * G + 2 if layer else 2 * G + 1),
        "interface": f"amaranth.lib.stream: i (valid/ready/payload {in_w} bits a beat: "
                     f"{', '.join(spec.ports)} lanes, {W} bits each), o (valid/ready/payload "
                     f"{out_w} bits: y lanes); {G} beats a vector each way",
        "ports": {"clk": {"dir": "in", "width": 1}, "rst": {"dir": "in", "width": 1},
                  "i__valid": {"dir": "in", "width": 1},
                  "i__ready": {"dir": "out", "width": 1},
                  "i__payload": {"dir": "in", "width": in_w},
                  "o__valid": {"dir": "out", "width": 1},
                  "o__ready": {"dir": "in", "width": 1},
                  "o__payload": {"dir": "out", "width": out_w}},
    }
    if command:
        report["command"] = command
    files = {f"{top}.v": text,
             "report.json": json.dumps(report, indent=2, sort_keys=True) + "\n",
             "report.md": report_markdown(report, analyze(spec.parts["scale"], 0)),
             f"{top}.core": fusesoc_core(report)}
    write_directory(out, files)
    return report
