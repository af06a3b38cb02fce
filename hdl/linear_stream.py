"""Time-multiplexed linear layers with valid/ready streams (``amaranth.lib.stream``).

A layer ``y = W x (+ b)`` with ``M`` outputs is computed by ``P`` lanes (hls4ml's *reuse
factor* is ``ceil(M / P)``). Each lane is a full ``N``-input dot product built from neurons
(:func:`~spikegate.gen.dot.build_linear` with weight *ports*); the lanes share the
unpacked inputs. A weight ROM holds row group ``g`` (lanes ``p``: rows ``g*P + p``, bias
included) at address ``g``.

Protocol (one vector per transaction):

* ``i`` (``stream.Signature(N*8)``): input vector, ``x_n`` in bits ``[8n +: 8]``. Accepted
  when the layer is idle and its output buffer is empty.
* the groups ``g = 0 .. G-1`` are issued on consecutive cycles into the pipelined neuron
  datapath (``stages`` register stages); results are captured as they come out.
* ``o`` (``stream.Signature(M*W_out)``): output vector, ``y_m`` in bits ``[W_out*m +: W_out]``,
  held until taken (``valid`` stays up under backpressure).

Latency per vector: ``G + stages + 1`` cycles from acceptance to ``o.valid``. An
:class:`MLPStream` chains layers stream to stream (``wiring.connect``), so layer ``k+1``
works on vector ``t`` while layer ``k`` works on ``t + 1``.

The neuron datapath is emitted by the direct writer (:class:`~spikegate.hdl.design.Design`) as its own
module and instantiated here (``Instance``); the control, ROM and buffers are plain
Amaranth. :func:`stream_verilog` returns one self-contained Verilog file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.netlist import Netlist, check_name
from .design import Design

__all__ = ["LayerSpec", "LinearStream", "MacLayerSpec", "LinearMacStream", "MLPStream",
           "stream_verilog"]


@dataclass
class LayerSpec:
    """One time-multiplexed layer: its lane datapath netlist and its weights.

    ``datapath`` is ``build_linear(N, P, weights=None, bias="port"|None, ...)`` (inputs
    ``x*``, ``w{p}_{n}``, ``b{p}``; outputs ``y{p}``); ``weights`` ``M`` rows of ``N`` codes;
    ``bias`` ``M`` codes or None.
    """

    datapath: Netlist
    weights: list
    bias: list | None
    stages: int = 2
    name: str = "layer"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        nl = self.datapath
        self.in_features = nl.meta["in_features"]
        self.lanes = nl.meta["out_features"]
        self.out_features = len(self.weights)
        self.out_width = len(nl.outputs["y0"])
        if any(len(r) != self.in_features for r in self.weights):
            raise ValueError(f"every weight row must have {self.in_features} codes")
        if (self.bias is None) != (nl.meta.get("bias") == "none"):
            raise ValueError("bias given for a datapath without bias ports (or the reverse)")
        if self.stages < 1:
            raise ValueError(f"stages must be >= 1 for a streamed layer, not {self.stages}")
        self.groups = -(-self.out_features // self.lanes)
        check_name(self.name, "layer name")

    @property
    def dp_top(self):
        return f"{self.name}_dp"

    def rom_words(self):
        """ROM contents: per group, lanes' weights (and biases) packed LSB first."""
        N, P = self.in_features, self.lanes
        words = []
        for g in range(self.groups):
            word, pos = 0, 0
            for p in range(P):
                m = g * P + p
                row = self.weights[m] if m < self.out_features else [0] * N
                for c in row:
                    word |= (c & 0xFF) << pos
                    pos += 8
            if self.bias is not None:
                for p in range(P):
                    m = g * P + p
                    word |= ((self.bias[m] if m < self.out_features else 0) & 0xFF) << pos
                    pos += 8
            words.append(word)
        return words

    @property
    def rom_width(self):
        return self.lanes * self.in_features * 8 + (self.lanes * 8 if self.bias is not None else 0)

    def datapath_verilog(self):
        return Design(self.datapath, stages=self.stages, top=self.dp_top).verilog


def _vector_streams(first, last):
    """The signature every streamed layer and chain has: FP8 vector in, output vector out."""
    return {"i": In(stream.Signature(first.in_features * 8)),
            "o": Out(stream.Signature(last.out_features * last.out_width))}


class LinearStream(wiring.Component):
    """One time-multiplexed layer (see the module doc). Members ``i`` and ``o`` are streams."""

    def __init__(self, spec: LayerSpec):
        if not isinstance(spec, LayerSpec):
            raise TypeError(f"spec must be a LayerSpec, not {spec!r}")
        self.spec = spec
        super().__init__(_vector_streams(spec, spec))

    def elaborate(self, platform):
        m = Module()
        sp = self.spec
        N, P, G, Wo = sp.in_features, sp.lanes, sp.groups, sp.out_width
        m.submodules.rom = rom = Memory(shape=sp.rom_width, depth=max(G, 2),
                                        init=sp.rom_words())
        rd = rom.read_port(domain="comb")
        x = Signal(N * 8, name="x_hold")
        busy = Signal(name="busy")
        issue = Signal(range(G + 1), name="issue")
        capture = Signal(range(G + 1), name="capture")
        full = Signal(name="out_full")
        result = Signal(sp.out_features * Wo, name="result")
        issuing = Signal(name="issuing")
        m.d.comb += issuing.eq(busy & (issue < G))
        m.d.comb += rd.addr.eq(issue)

        # the neuron datapath
        valid_out = Signal(name="dp_valid_out")
        ys = [Signal(Wo, name=f"y{p}") for p in range(P)]
        ports = {}
        word = rd.data
        for n in range(N):
            ports[f"i_x{n}"] = x[8 * n:8 * n + 8]
        for p in range(P):
            for n in range(N):
                off = (p * N + n) * 8
                ports[f"i_w{p}_{n}"] = word[off:off + 8]
            if sp.bias is not None:
                off = P * N * 8 + p * 8
                ports[f"i_b{p}"] = word[off:off + 8]
            ports[f"o_y{p}"] = ys[p]
        ports.update(i_clk=ClockSignal(), i_rst=ResetSignal(), i_valid_in=issuing,
                     o_valid_out=valid_out)
        m.submodules.dp = Instance(sp.dp_top, **ports)

        m.d.comb += self.i.ready.eq(~busy & ~full)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [x.eq(self.i.payload), busy.eq(1), issue.eq(0), capture.eq(0)]
        with m.If(issuing):
            m.d.sync += issue.eq(issue + 1)
        with m.If(valid_out & busy):
            with m.Switch(capture):
                for g in range(G):
                    with m.Case(g):
                        for p in range(P):
                            mo = g * P + p
                            if mo < sp.out_features:
                                m.d.sync += result[mo * Wo:(mo + 1) * Wo].eq(ys[p])
            m.d.sync += capture.eq(capture + 1)
            with m.If(capture == G - 1):
                m.d.sync += [busy.eq(0), full.eq(1)]
        m.d.comb += [self.o.valid.eq(full), self.o.payload.eq(result)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += full.eq(0)
        return m


class MLPStream(wiring.Component):
    """Layers chained stream to stream: ``i`` of the first, ``o`` of the last."""

    def __init__(self, specs):
        specs = list(specs)
        if not specs:
            raise ValueError("an MLP needs at least one layer")
        for a, c in zip(specs, specs[1:]):
            if a.out_features * a.out_width != c.in_features * 8:
                raise ValueError(f"layer {a.name!r} gives {a.out_features} x {a.out_width} "
                                 f"bits but {c.name!r} takes {c.in_features} FP8 inputs")
        self.specs = specs
        super().__init__(_vector_streams(specs[0], specs[-1]))

    def elaborate(self, platform):
        m = Module()
        layers = [LinearMacStream(s) if isinstance(s, MacLayerSpec) else LinearStream(s)
                  for s in self.specs]
        for s, layer in zip(self.specs, layers):
            m.submodules[s.name] = layer
        wiring.connect(m, wiring.flipped(self.i), layers[0].i)
        for a, c in zip(layers, layers[1:]):
            wiring.connect(m, a.o, c.i)
        wiring.connect(m, layers[-1].o, wiring.flipped(self.o))
        return m


def stream_verilog(specs, *, top) -> str:
    """One Verilog file: every layer's neuron datapath module plus the Amaranth top."""
    from amaranth.back import verilog
    specs = list(specs)
    if len(specs) > 1:
        comp = MLPStream(specs)
    elif isinstance(specs[0], MacLayerSpec):
        comp = LinearMacStream(specs[0])
    else:
        comp = LinearStream(specs[0])
    wrapper = verilog.convert(comp, name=check_name(top, "top module name"), emit_src=False)
    parts = [s.datapath_verilog() for s in specs]
    head = (f"// {top}: time-multiplexed FP8 layers generated by spikegate "
            f"({len(specs)} layer(s)).\n")
    for s in specs:
        st = s.datapath.stats()
        head += (f"// {s.name}: {s.in_features} -> {s.out_features}, {s.lanes} lane(s), "
                 f"{s.groups} cycles/vector, datapath {st['neurons']} neurons, "
                 f"{st['synapses']} synapses, depth {st['depth']}, {s.stages} stages\n")
    return head + "\n".join(parts) + "\n" + wrapper


@dataclass
class MacLayerSpec:
    """A layer computed by one exact multiply-accumulate lane, ``k`` inputs per cycle.

    ``mac`` is :func:`~spikegate.gen.dot.build_mac` (``k`` products + the accumulator, one
    combinational step), ``finish`` :func:`~spikegate.gen.dot.build_mac_finish` (one
    rounding, ReLU optional). Output ``m`` takes ``ceil(N / k)`` accumulate cycles and one
    finish cycle; the weight ROM holds ``k`` weights (and the bias on the first chunk, ``-0``
    on the others) per address ``m * chunks + c``. Inputs beyond ``N`` are padded with
    ``-0 * 1.0``, which changes neither the sum nor the sign of a zero result.
    """

    mac: Netlist
    finish: Netlist
    weights: list
    bias: list | None
    name: str = "layer"

    def __post_init__(self):
        from ..golden.formats import get_format
        self.k = self.mac.meta["in_features"]
        self.in_features = len(self.weights[0])
        self.out_features = len(self.weights)
        self.out_width = len(self.finish.outputs["y"])
        self.chunks = -(-self.in_features // self.k)
        self.stages = 0
        self.lanes = 1
        self.groups = self.out_features * (self.chunks + 1)
        self._one = get_format(self.mac.meta["format"]).one_code
        if (self.bias is None) != ("bias" not in self.mac.inputs):
            raise ValueError("bias given for a MAC without a bias port (or the reverse)")
        check_name(self.name, "layer name")

    @property
    def rom_width(self):
        return self.k * 8 + (8 if self.bias is not None else 0)

    def rom_words(self):
        words = []
        for m in range(self.out_features):
            for c in range(self.chunks):
                word = 0
                for i in range(self.k):
                    n = c * self.k + i
                    code = self.weights[m][n] if n < self.in_features else self._one
                    word |= (code & 0xFF) << (8 * i)
                if self.bias is not None:
                    word |= ((self.bias[m] if c == 0 else 0x80) & 0xFF) << (8 * self.k)
                words.append(word)
        return words

    @property
    def datapath(self):
        return self.mac

    def datapath_verilog(self):
        return (Design(self.mac, top=f"{self.name}_mac").verilog + "\n"
                + Design(self.finish, top=f"{self.name}_fin").verilog)


class LinearMacStream(wiring.Component):
    """A :class:`MacLayerSpec` layer with the stream interface of :class:`LinearStream`."""

    def __init__(self, spec: MacLayerSpec):
        if not isinstance(spec, MacLayerSpec):
            raise TypeError(f"spec must be a MacLayerSpec, not {spec!r}")
        self.spec = spec
        super().__init__(_vector_streams(spec, spec))

    def elaborate(self, platform):
        m = Module()
        sp = self.spec
        K, C, M, Wo = sp.k, sp.chunks, sp.out_features, sp.out_width
        depth = M * C
        m.submodules.rom = rom = Memory(shape=sp.rom_width, depth=max(depth, 2),
                                        init=sp.rom_words())
        rd = rom.read_port(domain="comb")
        x = Signal(sp.in_features * 8, name="x_hold")
        busy = Signal(name="busy")
        fin = Signal(name="finishing")
        full = Signal(name="out_full")
        row = Signal(range(M + 1), name="row")
        chunk = Signal(range(C + 1), name="chunk")
        addr = Signal(range(depth + 1), name="addr")
        result = Signal(M * Wo, name="result")
        accs = {bus: Signal(len(nets), name=f"r_{bus}") for bus, nets in sp.mac.inputs.items()
                if bus.startswith("acc")}
        flags = {f: Signal(name=f"r_{f}", init=1 if f == "negz" else 0)
                 for f in ("nan", "infp", "infn", "negz")}
        m.d.comb += rd.addr.eq(addr)
        xs = Signal(K * 8, name="x_chunk")
        with m.Switch(chunk):
            for c in range(C):
                with m.Case(c):
                    for i in range(K):
                        n = c * K + i
                        src = x[8 * n:8 * n + 8] if n < sp.in_features else 0x80
                        m.d.comb += xs[8 * i:8 * i + 8].eq(src)
        ports = {f"i_x{i}": xs[8 * i:8 * i + 8] for i in range(K)}
        ports.update({f"i_w{i}": rd.data[8 * i:8 * i + 8] for i in range(K)})
        if sp.bias is not None:
            ports["i_bias"] = rd.data[8 * K:8 * K + 8]
        sums = {bus: Signal(len(r), name=f"sum{bus[3:]}") for bus, r in accs.items()}
        outs = {f: Signal(name=f"{f}_o") for f in flags}
        for bus, r in accs.items():
            ports[f"i_{bus}"] = r
            ports[f"o_sum{bus[3:]}"] = sums[bus]
        for f, r in flags.items():
            ports[f"i_{f}"] = r
            ports[f"o_{f}_o"] = outs[f]
        m.submodules.mac = Instance(f"{sp.name}_mac", **ports)
        y = Signal(Wo, name="y")
        fports = {f"i_{bus}": r for bus, r in accs.items()}
        fports.update({f"i_{f}": r for f, r in flags.items()})
        fports["o_y"] = y
        m.submodules.fin = Instance(f"{sp.name}_fin", **fports)

        def clear():
            return [r.eq(0) for r in accs.values()] + [
                flags[f].eq(1 if f == "negz" else 0) for f in flags]

        m.d.comb += self.i.ready.eq(~busy & ~full)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [x.eq(self.i.payload), busy.eq(1), fin.eq(0), row.eq(0), chunk.eq(0),
                         addr.eq(0)] + clear()
        with m.Elif(busy & ~fin):
            m.d.sync += [r.eq(sums[bus]) for bus, r in accs.items()]
            m.d.sync += [flags[f].eq(outs[f]) for f in flags]
            m.d.sync += addr.eq(addr + 1)
            with m.If(chunk == C - 1):
                m.d.sync += [fin.eq(1), chunk.eq(0)]
            with m.Else():
                m.d.sync += chunk.eq(chunk + 1)
        with m.Elif(busy & fin):
            with m.Switch(row):
                for r in range(M):
                    with m.Case(r):
                        m.d.sync += result[r * Wo:(r + 1) * Wo].eq(y)
            m.d.sync += [fin.eq(0), row.eq(row + 1)] + clear()
            with m.If(row == M - 1):
                m.d.sync += [busy.eq(0), full.eq(1)]
        m.d.comb += [self.o.valid.eq(full), self.o.payload.eq(result)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += full.eq(0)
        return m
