"""The neuron processor that runs a compiled transformer program, with valid/ready streams.

Datapath: one neuron unit per opcode of :mod:`spikegate.gen.transformer` (the FP8 dot
product, BF16/FP32 add and multiply, BF16 max, the correctly rounded BF16 functions, the
converters), each written by the direct Verilog writer with ``stages`` pipeline registers
and instantiated here. Control, memories and streams are plain Amaranth:

* ``i`` (``stream.Signature(in_features * 8)``): one token (FP8 codes, feature ``n`` in bits
  ``[8n +: 8]``) per transfer, or with a token embedding one id (``stream.Signature(
  token_bits)``, the id's embedding row read from the embedding ROM); ``seq_len`` tokens
  make a sequence.
* ``o`` (``stream.Signature(classes * 16)``): the BF16 logits of a sequence, logit ``c`` in
  bits ``[16c +: 16]``, held until taken; with the LM head ``seq_len`` transfers, one per
  position, in order.

Pipeline (one program word, a bundle of up to four instructions, per cycle): fetch from the
program ROM; read the scalar memory (five ports: the operands of the move, BF16 and FP32
slots), the vector memory (two ports) and the weight ROM; the units; write back up to four
scalars (one per slot), one vector lane (``q8``) and one logit (``out``). The last word
reaching write-back raises ``o.valid``. A sequence's program starts once all its tokens are
in and the previous logits have been taken; the next sequence's tokens are accepted while
the logits wait. A unit's operands are zero unless its opcode issues (operand isolation).
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..gen.netlist import check_name
from ..gen.transformer import (BINARY, SLOT_FIELDS, SLOT_OF, SLOTS, WIDE_INPUT, Program,
                               unit_netlist)
from ..golden.transformer import token_bits
from .design import Design

__all__ = ["Processor", "processor_verilog", "unit_designs"]

#: Every unit writes one of these output widths back (zero-extended to the scalar word).
_OUT_WIDTH = {"add32": 32, "mul32": 32, "widen": 32, "q8": 8}


class Processor(wiring.Component):
    """The processor of one :class:`~spikegate.gen.transformer.Program`.

    Parameters
    ----------
    program : Program
    prefix : str
        Module-name prefix of the unit instances (``{prefix}_{op}``).
    designs : dict or None
        :func:`unit_designs` of the program, when already built.
    """

    def __init__(self, program: Program, *, prefix="tf", designs=None):
        if not isinstance(program, Program):
            raise TypeError(f"program must be a Program, not {program!r}")
        self.program = program
        self.prefix = check_name(prefix, "module prefix")
        self._designs = designs
        cfg = program.config
        super().__init__({"i": In(stream.Signature(token_bits(cfg))),
                          "o": Out(stream.Signature(cfg["classes"] * 16))})

    def unit_designs(self):
        if self._designs is None:
            self._designs = unit_designs(self.program, self.prefix)
        return self._designs

    def elaborate(self, platform):
        m = Module()
        p = self.program
        cfg = p.config
        T, K, C, L = cfg["seq_len"], p.lanes, cfg["classes"], p.stages
        R = p.outputs                                    # logit rows per sequence
        depth = len(p.bundles)

        m.submodules.prog = prog = Memory(shape=p.word_width, depth=max(depth, 2),
                                          init=p.words())
        m.submodules.smem = smem = Memory(shape=32, depth=max(p.scalars, 2),
                                          init=[p.consts.get(a, 0) for a in range(p.scalars)])
        m.submodules.vmem = vmem = Memory(shape=K * 8, depth=max(p.vectors, 2), init=[])
        m.submodules.wrom = wrom = Memory(shape=K * 8, depth=max(len(p.rom), 2),
                                          init=p.rom_words())
        fetch = prog.read_port()
        rv_x, rv_y, rw = vmem.read_port(), vmem.read_port(), wrom.read_port()
        wv = vmem.write_port(granularity=8)

        word = fetch.data
        fields, pos = {}, 0
        for slot, name, width in p.fields():
            fields[(slot, name)] = word[pos:pos + width]
            pos += width

        # control: input phase, run (fetching), busy until the last word is written back
        running = Signal(name="running")
        busy = Signal(name="busy")
        pc = Signal(range(depth + 1), name="pc")
        tok = Signal(range(T + 1), name="tokens_in")
        out_valid = Signal(name="out_valid")
        out_reg = Signal(R * C * 16, name="logits")
        out_row = Signal(range(max(R, 2)), name="out_row")
        m.d.comb += fetch.addr.eq(pc)
        f_valid = Signal(name="fetch_valid")
        m.d.sync += f_valid.eq(running)
        with m.If(running):
            with m.If(pc == depth - 1):
                m.d.sync += running.eq(0)
            m.d.sync += pc.eq(pc + 1)
        with m.Elif((tok == T) & ~out_valid & ~busy):
            m.d.sync += [running.eq(1), busy.eq(1), pc.eq(0), tok.eq(0)]

        def delay(sig, n, name):
            for s in range(n):
                nxt = Signal(len(sig), name=f"{name}_d{s}")
                m.d.sync += nxt.eq(sig)
                sig = nxt
            return sig

        # decode -> operand stage registers (memory reads land in the same cycle)
        stage = {}
        for (slot, name), value in fields.items():
            if name in ("op", "dst", "lane", "neg", "rom", "done"):
                reg = Signal(len(value), name=f"x_{slot}_{name}".replace("__", "_"))
                m.d.sync += reg.eq(Mux(f_valid, value, 0) if name in ("op", "done") else value)
                stage[(slot, name)] = reg
        reads = {}
        for slot, fs in SLOT_FIELDS.items():
            for name in ("a", "b"):
                if name in fs:
                    port = smem.read_port()
                    m.d.comb += port.addr.eq(fields[(slot, name)])
                    reads[(slot, name)] = port.data
        m.d.comb += [rv_x.addr.eq(fields[("dot", "vx")]), rv_y.addr.eq(fields[("dot", "vy")]),
                     rw.addr.eq(fields[("dot", "vy")])]
        vy = Signal(K * 8, name="vy_data")
        m.d.comb += vy.eq(Mux(stage[("dot", "rom")], rw.data, rv_y.data))
        ids = []
        if p.embedding:
            # token ids, one register per position; the embedding ROM row of id[a], its
            # element `lane` through the units' latency
            ids = [Signal(token_bits(cfg), name=f"id{t}") for t in range(T)]
            d = len(p.embedding[0])
            m.submodules.erom = erom = Memory(
                shape=16 * d, depth=len(p.embedding),
                init=[sum(int(c) << (16 * j) for j, c in enumerate(row))
                      for row in p.embedding])
            er = erom.read_port()
            with m.Switch(fields[("move", "a")]):
                for t in range(T):
                    with m.Case(t):
                        m.d.comb += er.addr.eq(ids[t])
            element = Signal(16, name="embed_element")
            m.d.comb += element.eq(er.data.word_select(stage[("move", "lane")], 16))

        # the units, each on its slot's operands
        results = {slot: {} for slot in SLOTS}
        for op, design in self.unit_designs().items():
            slot = SLOT_OF[op]
            # operand isolation: a unit sees zeros unless its opcode issues, so idle units
            # hold still (event-driven simulators skip them; switching power in silicon)
            sel = Signal(name=f"sel_{op}")
            m.d.comb += sel.eq(stage[(slot, "op")] == SLOTS[slot].index(op) + 1)

            def gate(value, name):
                g = Signal(len(value), name=f"{name}_{op}")
                m.d.comb += g.eq(Mux(sel, value, 0))
                return g
            ports = {}
            if op == "dot":
                x, w = gate(rv_x.data, "x"), gate(vy, "w")
                for k in range(K):
                    ports[f"i_x{k}"] = x[8 * k:8 * k + 8]
                    ports[f"i_w{k}"] = w[8 * k:8 * k + 8]
            else:
                width = 32 if op in WIDE_INPUT else 16
                ports["i_a"] = gate(reads[(slot, "a")][:width], "a")
                if op in BINARY:
                    ports["i_b"] = gate(reads[(slot, "b")][:width] ^ (stage[(slot, "neg")]
                                                                     << (width - 1)), "b")
            y = Signal(_OUT_WIDTH.get(op, 16), name=f"y_{op}")
            ports["o_y"] = y
            if L:
                ports.update(i_clk=ClockSignal(), i_rst=ResetSignal(), i_valid_in=1,
                             o_valid_out=Signal(name=f"valid_{op}"))
            m.submodules[f"u_{op}"] = Instance(design.top, **ports)
            results[slot][op] = y
        if ids:
            results["move"]["embed"] = delay(element, L, "embed")

        # write-back, `stages` cycles later: one scalar per slot, one vector lane, one logit
        wb = {key: delay(sig, L, f"w_{key[0]}_{key[1]}") for key, sig in stage.items()}
        moved = delay(reads[("move", "a")][:16], L, "move_a")
        for slot, ops in SLOTS.items():
            op = wb[(slot, "op")]
            result = Signal(32, name=f"result_{slot}")
            writes = Signal(name=f"writes_{slot}")
            with m.Switch(op):
                for name, y in results[slot].items():
                    with m.Case(ops.index(name) + 1):
                        m.d.comb += result.eq(y)
                        if name != "q8":
                            m.d.comb += writes.eq(1)
            port = smem.write_port()
            m.d.comb += [port.addr.eq(wb[(slot, "dst")]), port.data.eq(result),
                         port.en.eq(writes)]
            if slot == "move":
                q8, out = SLOTS["move"].index("q8") + 1, SLOTS["move"].index("out") + 1
                n_in = cfg["in_features"]
                m.d.comb += self.i.ready.eq(~busy & (tok < T))
                with m.If(self.i.valid & self.i.ready):
                    if ids:
                        with m.Switch(tok):
                            for t in range(T):
                                with m.Case(t):
                                    m.d.sync += ids[t].eq(self.i.payload)
                    else:
                        m.d.comb += [wv.addr.eq(tok), wv.data.eq(self.i.payload),
                                     wv.en.eq((1 << n_in) - 1)]
                    m.d.sync += tok.eq(tok + 1)
                with m.Elif(op == q8):
                    m.d.comb += [wv.addr.eq(wb[(slot, "dst")]),
                                 wv.data.eq(Cat(*[result[:8]] * K)),
                                 wv.en.eq(1 << wb[(slot, "lane")])]
                with m.If(op == out):
                    with m.Switch(wb[(slot, "dst")]):
                        for c in range(R * C):
                            with m.Case(c):
                                m.d.sync += out_reg[16 * c:16 * c + 16].eq(moved)
        with m.If(wb[("", "done")]):
            m.d.sync += [out_valid.eq(1), busy.eq(0)]
        m.d.comb += [self.o.valid.eq(out_valid),
                     self.o.payload.eq(out_reg.word_select(out_row, C * 16))]
        with m.If(self.o.valid & self.o.ready):
            with m.If(out_row == R - 1):
                m.d.sync += [out_valid.eq(0), out_row.eq(0)]
            with m.Else():
                m.d.sync += out_row.eq(out_row + 1)
        return m


def unit_designs(program: Program, prefix):
    """op -> the :class:`~spikegate.hdl.design.Design` of its unit (module ``{prefix}_{op}``)."""
    return {op: Design(unit_netlist(op, program.lanes), stages=program.stages,
                       top=f"{prefix}_{op}") for op in program.ops_used}


def processor_verilog(program: Program, *, top="transformer", designs=None) -> str:
    """One Verilog file: the unit modules and the Amaranth processor."""
    from amaranth.back import verilog
    top = check_name(top, "top module name")
    designs = designs or unit_designs(program, top)
    proc = Processor(program, prefix=top, designs=designs)
    wrapper = verilog.convert(proc, name=top, emit_src=False)
    fig = program.figures()
    head = (f"// {top}: a transformer on a neuron processor, generated by spikegate.\n"
            f"// {fig['instructions']} instructions in {fig['program_words']} program words "
            f"(bundles), "
            f"{fig['cycles_per_sequence']} cycles per sequence; units "
            f"{', '.join(designs)} ({sum(d.stats['neurons'] for d in designs.values())} "
            f"neurons), {program.stages} stage(s) each.\n")
    return head + "\n".join(d.verilog for d in designs.values()) + "\n" + wrapper
