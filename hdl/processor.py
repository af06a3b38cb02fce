"""The neuron processor that runs a compiled transformer program, with valid/ready streams.

Datapath: one neuron unit per opcode of :mod:`spikegate.gen.transformer` (the FP8 dot
product, BF16/FP32 add and multiply, BF16 max, the correctly rounded BF16 functions, the
converters), each written by the direct Verilog writer with ``stages`` pipeline registers
and instantiated here. Control, memories and streams are plain Amaranth:

* ``i`` (``stream.Signature(in_features * 8)``): one token (FP8 codes, feature ``n`` in bits
  ``[8n +: 8]``) per transfer; ``seq_len`` tokens make a sequence.
* ``o`` (``stream.Signature(classes * 16)``): the BF16 logits of a sequence, logit ``c`` in
  bits ``[16c +: 16]``, held until taken.

Pipeline (one instruction per cycle): fetch from the program ROM; read the scalar memory
(two ports), the vector memory (two ports) and the weight ROM; the unit; write back one
scalar, one vector lane (``q8``) or one logit (``out``). ``done`` reaching write-back raises
``o.valid``. A sequence's program starts once all its tokens are in and the previous logits
have been taken; the next sequence's tokens are accepted while the logits wait.
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.netlist import check_name
from ..gen.transformer import OPS, WIDE_INPUT, Program, unit_netlist
from .design import Design

__all__ = ["Processor", "processor_verilog"]

#: Every unit writes one of these output widths back (zero-extended to the scalar word).
_OUT_WIDTH = {"add32": 32, "mul32": 32, "widen": 32, "q8": 8}


class Processor(wiring.Component):
    """The processor of one :class:`~spikegate.gen.transformer.Program`.

    Parameters
    ----------
    program : Program
    prefix : str
        Module-name prefix of the unit instances (``{prefix}_{op}``).
    """

    def __init__(self, program: Program, *, prefix="tf"):
        if not isinstance(program, Program):
            raise TypeError(f"program must be a Program, not {program!r}")
        self.program = program
        self.prefix = check_name(prefix, "module prefix")
        cfg = program.config
        super().__init__({"i": In(stream.Signature(cfg["in_features"] * 8)),
                          "o": Out(stream.Signature(cfg["classes"] * 16))})

    def unit_designs(self):
        """op -> the :class:`~spikegate.hdl.design.Design` of its unit."""
        p = self.program
        return {op: Design(unit_netlist(op, p.lanes), stages=p.stages,
                           top=f"{self.prefix}_{op}") for op in p.ops_used}

    def elaborate(self, platform):
        m = Module()
        p = self.program
        cfg = p.config
        T, K, C, L = cfg["seq_len"], p.lanes, cfg["classes"], p.stages
        fields = p.fields()

        m.submodules.prog = prog = Memory(shape=p.word_width, depth=max(len(p.instrs), 2),
                                          init=p.words())
        m.submodules.smem = smem = Memory(shape=32, depth=max(p.scalars, 2),
                                          init=[p.consts.get(a, 0) for a in range(p.scalars)])
        m.submodules.vmem = vmem = Memory(shape=K * 8, depth=max(p.vectors, 2), init=[])
        m.submodules.wrom = wrom = Memory(shape=K * 8, depth=max(len(p.rom), 2),
                                          init=p.rom_words())
        fetch = prog.read_port()
        rs_a, rs_b = smem.read_port(), smem.read_port()
        rv_x, rv_y = vmem.read_port(), vmem.read_port()
        rw = wrom.read_port()
        ws = smem.write_port()
        wv = vmem.write_port(granularity=8)

        def field(word, name):
            pos = 0
            for n, w in fields:
                if n == name:
                    return word[pos:pos + w]
                pos += w
            raise KeyError(name)

        # control: input phase, run (fetching), busy until `done` is written back
        running = Signal(name="running")
        busy = Signal(name="busy")
        pc = Signal(range(len(p.instrs) + 1), name="pc")
        tok = Signal(range(T + 1), name="tokens_in")
        out_valid = Signal(name="out_valid")
        out_reg = Signal(C * 16, name="logits")
        m.d.comb += fetch.addr.eq(pc)
        f_valid = Signal(name="fetch_valid")
        m.d.sync += f_valid.eq(running)
        with m.If(running):
            with m.If(pc == len(p.instrs) - 1):
                m.d.sync += running.eq(0)
            m.d.sync += pc.eq(pc + 1)
        with m.Elif((tok == T) & ~out_valid & ~busy):
            m.d.sync += [running.eq(1), busy.eq(1), pc.eq(0), tok.eq(0)]

        # decode: memory reads for the operand stage
        word = fetch.data
        m.d.comb += [rs_a.addr.eq(field(word, "a")), rs_b.addr.eq(field(word, "b")),
                     rv_x.addr.eq(field(word, "vx")), rv_y.addr.eq(field(word, "vy")),
                     rw.addr.eq(field(word, "vy"))]
        names = ("op", "neg", "rom", "dst", "lane")
        stage = {n: Signal(len(field(word, n)), name=f"x_{n}") for n in names}
        x_valid = Signal(name="x_valid")
        m.d.sync += [stage[n].eq(field(word, n)) for n in names]
        m.d.sync += x_valid.eq(f_valid)

        # operand stage: the units
        a = rs_a.data
        neg16 = stage["neg"] << 15
        neg32 = stage["neg"] << 31
        vy = Signal(K * 8, name="vy_data")
        m.d.comb += vy.eq(rv_y.data)
        with m.If(stage["rom"]):
            m.d.comb += vy.eq(rw.data)
        results = {}
        for op, design in self.unit_designs().items():
            nl = design.netlist
            ports = {}
            if op == "dot":
                for k in range(K):
                    ports[f"i_x{k}"] = rv_x.data[8 * k:8 * k + 8]
                    ports[f"i_w{k}"] = vy[8 * k:8 * k + 8]
            else:
                wide = op in WIDE_INPUT
                width = 32 if wide else 16
                ports["i_a"] = a[:width]
                if "b" in nl.inputs:
                    ports["i_b"] = rs_b.data[:width] ^ (neg32 if wide else neg16)
            y = Signal(_OUT_WIDTH.get(op, 16), name=f"y_{op}")
            ports["o_y"] = y
            if L:
                ports.update(i_clk=ClockSignal(), i_rst=ResetSignal(), i_valid_in=1,
                             o_valid_out=Signal(name=f"valid_{op}"))
            m.submodules[f"u_{op}"] = Instance(design.top, **ports)
            results[op] = y

        # write-back, `stages` cycles later
        wb = dict(stage, valid=x_valid)
        for s in range(L):
            nxt = {n: Signal(len(v), name=f"w{s}_{n}") for n, v in wb.items()}
            m.d.sync += [nxt[n].eq(v) for n, v in wb.items()]
            wb = nxt
        op = wb["op"]
        result = Signal(32, name="result")
        with m.Switch(op):
            for name, y in results.items():
                with m.Case(OPS.index(name)):
                    m.d.comb += result.eq(y)
        writes_s = Signal(name="writes_scalar")
        with m.Switch(op):
            with m.Case(*(OPS.index(n) for n in results if n != "q8")):
                m.d.comb += writes_s.eq(1)
        m.d.comb += [ws.addr.eq(wb["dst"]), ws.data.eq(result), ws.en.eq(wb["valid"] & writes_s)]

        # vector memory: write-back of q8 lanes, or the incoming tokens
        n_in = cfg["in_features"]
        m.d.comb += self.i.ready.eq(~busy & (tok < T))
        with m.If(self.i.valid & self.i.ready):
            m.d.comb += [wv.addr.eq(tok), wv.data.eq(self.i.payload),
                         wv.en.eq((1 << n_in) - 1)]
            m.d.sync += tok.eq(tok + 1)
        with m.Elif(wb["valid"] & (op == OPS.index("q8"))):
            m.d.comb += [wv.addr.eq(wb["dst"]), wv.data.eq(Cat(*[result[:8]] * K)),
                         wv.en.eq(1 << wb["lane"])]

        # logits: `out` copies operand a (through no unit) into the output buffer
        a_wb = a[:16]
        for s in range(L):
            nxt = Signal(16, name=f"a_wb{s}")
            m.d.sync += nxt.eq(a_wb)
            a_wb = nxt
        with m.If(wb["valid"] & (op == OPS.index("out"))):
            with m.Switch(wb["dst"]):
                for c in range(C):
                    with m.Case(c):
                        m.d.sync += out_reg[16 * c:16 * c + 16].eq(a_wb)
        with m.If(wb["valid"] & (op == OPS.index("done"))):
            m.d.sync += [out_valid.eq(1), busy.eq(0)]
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.eq(out_reg)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += out_valid.eq(0)
        return m


def processor_verilog(program: Program, *, top="transformer") -> str:
    """One Verilog file: the unit modules and the Amaranth processor."""
    from amaranth.back import verilog
    top = check_name(top, "top module name")
    proc = Processor(program, prefix=top)
    designs = proc.unit_designs()
    wrapper = verilog.convert(proc, name=top, emit_src=False)
    fig = program.figures()
    head = (f"// {top}: a transformer on a neuron processor, generated by spikegate.\n"
            f"// {fig['instructions']} instructions in {fig['program_words']} program words, "
            f"{fig['cycles_per_sequence']} cycles per sequence; units "
            f"{', '.join(designs)} ({sum(d.stats['neurons'] for d in designs.values())} "
            f"neurons), {program.stages} stage(s) each.\n")
    return head + "\n".join(d.verilog for d in designs.values()) + "\n" + wrapper
