"""A transformer compiled to a program for a neuron processor: functional units + microcode.

The processor (:mod:`spikegate.hdl.processor`) has one functional unit per operation of the
recipe (:mod:`spikegate.golden.transformer`), each a neuron netlist built here: the FP8 dot
product of ``K`` lanes (exact sum, one rounding to BF16), the BF16 and FP32 adders and
multipliers, the BF16 maximum, the correctly rounded BF16 functions and the converters.
A *program* drives them: each program word is a bundle of up to four instructions, one per
issue slot (:data:`SLOTS`: the dot product; moves into vectors, logits and FP32; BF16 ops;
FP32 ops), all issued in the same cycle:

* scalars (BF16 or FP32 codes) live in a scalar memory ``S`` (constants preloaded),
* FP8 vectors of ``K`` lanes in a vector memory ``V`` (the input tokens, and vectors built
  lane by lane by ``q8`` instructions), weight rows in a ROM,
* ``dot`` reads two vectors (``V`` x ``V`` or ``V`` x ROM), every other op one or two scalars;
  ``embed`` reads element ``lane`` of the embedding-ROM row of token ``a``'s id (a model
  with a token embedding keeps the ids, not vectors); ``out`` writes a logit into the
  output buffer; the last word ends the program.

:func:`compile_transformer` runs the recipe's own :func:`~spikegate.golden.transformer.forward`
with operations that emit instructions (so program and golden are one description), then
schedules them: every unit has the same latency, a result may be read ``distance`` cycles
after its instruction issues, and the list scheduler fills each slot with independent work
(other tokens, other heads); :func:`allocate` then gives scalars addresses again once
they are dead, so the scalar memory holds the live values only.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..golden.transformer import (ACT_FORMAT, Q_FORMAT, Q_POLICY, STAT_FORMAT,
                                  QuantizedTransformer, forward, outputs_per_sequence,
                                  with_arith)

__all__ = ["SLOTS", "SLOT_FIELDS", "SLOT_OF", "UNIT_OPS", "MEMORY_OPS", "BINARY", "Instr", "Program",
           "compile_transformer", "unit_netlist", "schedule", "allocate"]

#: Issue slots: each issues one instruction per cycle to its own units (a bundle of one
#: instruction per slot is one program word). Opcode 0 of every slot is ``nop``.
SLOTS = {"dot": ("dot",),
         "move": ("q8", "out", "widen", "embed"),
         "b16": ("add16", "mul16", "max16", "exp", "silu", "gelu", "recip", "rsqrt"),
         "f32": ("add32", "mul32", "narrow")}
#: The instruction fields each slot's word carries.
SLOT_FIELDS = {"dot": ("dst", "vx", "vy", "rom"), "move": ("dst", "a", "lane"),
               "b16": ("dst", "a", "b", "neg"), "f32": ("dst", "a", "b", "neg")}
SLOT_OF = {op: slot for slot, ops in SLOTS.items() for op in ops}
#: Opcodes served by memories, not neuron units: ``out`` copies a scalar into the output
#: buffer, ``embed`` reads the embedding ROM.
MEMORY_OPS = ("out", "embed")
#: Opcodes executed by a neuron unit.
UNIT_OPS = tuple(op for ops in SLOTS.values() for op in ops if op not in MEMORY_OPS)
#: Units whose operands are FP32 (the others take BF16 codes in the low 16 bits).
WIDE_INPUT = ("add32", "mul32", "narrow")
#: Units with two scalar operands.
BINARY = ("add16", "mul16", "max16", "add32", "mul32")


def unit_netlist(op, lanes):
    """The neuron netlist of the functional unit of ``op`` (ports ``a`` [``b``] -> ``y``;
    the dot product ``x*``, ``w*`` -> ``y``)."""
    from .dot import build_dot
    from .float_add import build_fadd, build_fconvert
    from .float_function import build_function
    from .float_mul import build_fmul
    from .softmax import build_float_max
    if op == "dot":
        return build_dot(lanes, Q_FORMAT, accum="exact", out=ACT_FORMAT, name="dot")
    if op in ("add16", "add32"):
        return build_fadd(ACT_FORMAT if op == "add16" else STAT_FORMAT)
    if op in ("mul16", "mul32"):
        return build_fmul(ACT_FORMAT if op == "mul16" else STAT_FORMAT)
    if op == "max16":
        return build_float_max(ACT_FORMAT)
    if op in ("exp", "silu", "gelu", "recip", "rsqrt"):
        return build_function(op, ACT_FORMAT)
    if op == "widen":
        return build_fconvert(ACT_FORMAT, STAT_FORMAT)
    if op == "narrow":
        return build_fconvert(STAT_FORMAT, ACT_FORMAT)
    if op == "q8":
        return build_fconvert(ACT_FORMAT, Q_FORMAT, policy=Q_POLICY)
    raise ValueError(f"{op!r} is not a unit op: choose one of {', '.join(UNIT_OPS)}")


@dataclass
class Instr:
    """One instruction. ``dst``: scalar address (unit ops, ``embed``), vector slot (``q8``,
    with ``lane``) or output lane (``out``); ``a``, ``b``: scalar addresses (``embed``: the
    token position, ``lane`` the element); ``vx``, ``vy``:
    vector slots (``vy`` a ROM row when ``rom``); ``neg``: negate ``b`` (subtraction)."""

    op: str
    dst: int = 0
    a: int = 0
    b: int = 0
    neg: int = 0
    vx: int = 0
    vy: int = 0
    rom: int = 0
    lane: int = 0
    deps: tuple = field(default=(), compare=False, repr=False)


@dataclass
class Program:
    """A scheduled program (``bundles``: per cycle, slot -> :class:`Instr`) and the
    memories it needs (see the module doc)."""

    config: dict
    lanes: int
    stages: int
    bundles: list
    consts: dict
    rom: list
    scalars: int
    vectors: int
    ops_used: tuple
    issued: int = 0
    embedding: list = field(default_factory=list)   # rows of BF16 codes (token ids)

    @property
    def outputs(self):
        """Logit rows per sequence (one per position with the LM head)."""
        return outputs_per_sequence(self.config)

    @property
    def distance(self):
        """Cycles from an instruction's issue to the first that may read its result."""
        return self.stages + 2

    def instrs(self):
        """Every instruction, in issue order (cycle, slot)."""
        return [(c, ins) for c, b in enumerate(self.bundles) for ins in b.values()]

    def _bits(self, field):
        def bits(n):
            return max(1, (max(n, 2) - 1).bit_length())
        cfg = self.config
        return {"dst": bits(max(self.scalars, self.vectors, cfg["classes"] * self.outputs)),
                "a": bits(max(self.scalars, cfg["seq_len"])), "b": bits(self.scalars),
                "neg": 1, "rom": 1, "vx": bits(self.vectors),
                "vy": bits(max(self.vectors, len(self.rom))),
                "lane": bits(max(self.lanes, cfg["d_model"]))}[field]

    def fields(self):
        """(slot, field, width) of the program word, LSB first; ``done`` ends it."""
        out = [("", "done", 1)]
        for slot, ops in SLOTS.items():
            out.append((slot, "op", max(1, len(ops).bit_length())))
            out += [(slot, f, self._bits(f)) for f in SLOT_FIELDS[slot]]
        return out

    @property
    def word_width(self):
        return sum(w for _, _, w in self.fields())

    def words(self):
        out = []
        last = len(self.bundles) - 1
        for cycle, bundle in enumerate(self.bundles):
            word, pos = 0, 0
            for slot, name, width in self.fields():
                ins = bundle.get(slot)
                if name == "done":
                    v = int(cycle == last)
                elif ins is None:
                    v = 0
                elif name == "op":
                    v = SLOTS[slot].index(ins.op) + 1
                else:
                    v = getattr(ins, name)
                if not 0 <= v < 1 << width:
                    raise ValueError(f"instruction field {slot}.{name}={v} exceeds {width} bits")
                word |= v << pos
                pos += width
            out.append(word)
        return out

    def rom_words(self):
        return [sum((c & 0xFF) << (8 * i) for i, c in enumerate(row)) for row in self.rom]

    def figures(self):
        T = self.config["seq_len"]
        cycles = len(self.bundles) + self.distance
        return {"instructions": self.issued, "program_words": len(self.bundles),
                "slot_utilisation": {s: round(sum(s in b for b in self.bundles)
                                              / len(self.bundles), 3) for s in SLOTS},
                "cycles_per_sequence": cycles + T + self.outputs - 1,
                "cycles_per_token": round((cycles + T + self.outputs - 1) / T, 1),
                "scalar_words": self.scalars, "vector_slots": self.vectors,
                "rom_rows": len(self.rom), "word_bits": self.word_width}


def _emit_arith(op, fmt):
    """add16/mul16/add32/mul32 units; a subtraction is the adder with ``b`` negated."""
    unit = ("mul" if op == "fmul" else "add") + ("16" if fmt == ACT_FORMAT else "32")

    def method(self, a, b):
        return self._unit(unit, a, b, neg=int(op == "fsub"))
    return method


@with_arith(_emit_arith)
class EmitOps:
    """The recipe's operations as instruction emission (values are addresses)."""

    def __init__(self, lanes, token_vectors):
        self.lanes = lanes
        self.instrs, self.consts, self.rom, self.embedding = [], {}, [], []
        self._const_addr, self._rom_addr = {}, {}
        self.scalars = 0
        self.vectors = token_vectors               # slots 0..T-1: the input tokens
        self.writer_s, self.writers_v = {}, {}

    def _scalar(self):
        self.scalars += 1
        return self.scalars - 1

    def _emit(self, op, deps, **fields):
        self.instrs.append(Instr(op, deps=tuple(d for d in deps if d is not None), **fields))
        return len(self.instrs) - 1

    def _unit(self, op, a, b=None, neg=0):
        dst = self._scalar()
        deps = [self.writer_s.get(a)] + ([self.writer_s.get(b)] if b is not None else [])
        self.writer_s[dst] = self._emit(op, deps, dst=dst, a=a, b=0 if b is None else b,
                                        neg=neg)
        return dst

    def const16(self, code):
        key = int(code)
        if key not in self._const_addr:
            addr = self._const_addr[key] = self._scalar()
            self.consts[addr] = key
        return self._const_addr[key]

    const32 = const16

    def row(self, codes):
        codes = [int(c) for c in codes]
        if len(codes) > self.lanes:
            raise ValueError(f"a weight row of {len(codes)} exceeds the {self.lanes} lanes")
        row = tuple(codes + [0] * (self.lanes - len(codes)))
        if row not in self._rom_addr:
            self._rom_addr[row] = len(self.rom)
            self.rom.append(list(row))
        return ("rom", self._rom_addr[row])

    def vec(self, scalars):
        if len(scalars) > self.lanes:
            raise ValueError(f"a vector of {len(scalars)} exceeds the {self.lanes} lanes")
        slot = self.vectors
        self.vectors += 1
        self.writers_v[slot] = [self._emit("q8", [self.writer_s.get(s)], dst=slot, a=s,
                                           lane=i) for i, s in enumerate(scalars)]
        return slot

    def dot(self, x, w):
        rom = isinstance(w, tuple)
        vy = w[1] if rom else w
        deps = list(self.writers_v.get(x, [])) + ([] if rom else self.writers_v.get(vy, []))
        dst = self._scalar()
        self.writer_s[dst] = self._emit("dot", deps, dst=dst, vx=x, vy=vy, rom=int(rom))
        return dst

    def embed(self, rows, position):
        """The token at ``position``'s embedding (its id is in the processor, not here)."""
        self.embedding = [[int(c) for c in row] for row in rows]
        out = []
        for i in range(len(self.embedding[0])):
            dst = self._scalar()
            self.writer_s[dst] = self._emit("embed", [], dst=dst, a=position, lane=i)
            out.append(dst)
        return out

    def max16(self, a, b):
        return self._unit("max16", a, b)

    def fn(self, name, a):
        return self._unit(name, a)

    def widen(self, a):
        return self._unit("widen", a)

    def narrow(self, a):
        return self._unit("narrow", a)

    def out(self, lane, a):
        self._emit("out", [self.writer_s.get(a)], dst=lane, a=a)


def schedule(instrs, distance):
    """Bundles (one dict slot -> instruction per cycle): each slot issues its oldest ready
    instruction, a dependent ``distance`` cycles after what it reads."""
    n = len(instrs)
    users = [[] for _ in range(n)]
    waiting = [0] * n
    for i, ins in enumerate(instrs):
        for d in set(ins.deps):
            users[d].append(i)
            waiting[i] += 1
    earliest = [0] * n
    pending = [(0, i) for i in range(n) if waiting[i] == 0]   # (earliest cycle, index)
    heapq.heapify(pending)
    ready = {slot: [] for slot in SLOTS}
    bundles, left, t = [], n, 0
    while left:
        while pending and pending[0][0] <= t:
            i = heapq.heappop(pending)[1]
            heapq.heappush(ready[SLOT_OF[instrs[i].op]], i)
        bundle = {}
        for slot, queue in ready.items():
            if queue:
                i = heapq.heappop(queue)
                bundle[slot] = instrs[i]
                left -= 1
                for u in users[i]:
                    earliest[u] = max(earliest[u], t + distance)
                    waiting[u] -= 1
                    if waiting[u] == 0:
                        heapq.heappush(pending, (earliest[u], u))
        bundles.append(bundle)
        t += 1
    return bundles


def allocate(bundles, consts, distance):
    """Scalar addresses reused once a value is dead: constants first, then each value held
    from the cycle it becomes visible (issue + ``distance``) to its last read; a new value
    may take an address whose last read issues before the new one becomes visible.
    Returns (bundles, constant inits, scalar words)."""
    from dataclasses import replace
    first, last = {}, {}
    for cycle, bundle in enumerate(bundles):
        for ins in bundle.values():
            for a in ([ins.a, ins.b] if ins.op in BINARY
                      else [] if ins.op in ("dot", "embed") else [ins.a]):
                if a not in consts:
                    last[a] = cycle
            if ins.op not in ("q8", "out"):
                first[ins.dst] = cycle + distance
    where = {a: i for i, a in enumerate(sorted(consts))}
    free, live, top = [], [], len(where)
    for value in sorted(first, key=lambda v: first[v]):
        start = first[value]
        while live and live[0][0] < start:
            heapq.heappush(free, heapq.heappop(live)[1])
        if free:
            addr = heapq.heappop(free)
        else:
            addr, top = top, top + 1
        where[value] = addr
        heapq.heappush(live, (last.get(value, start), addr))

    def remap(ins):
        fields = {"a": 0 if ins.op == "dot" else ins.a if ins.op == "embed" else where[ins.a],
                  "b": where[ins.b] if ins.op in BINARY else 0}
        if ins.op not in ("q8", "out"):
            fields["dst"] = where[ins.dst]
        return replace(ins, **fields)
    out = [{slot: remap(ins) for slot, ins in b.items()} for b in bundles]
    return out, {where[a]: code for a, code in consts.items()}, max(top, 1)


def compile_transformer(q: QuantizedTransformer, *, lanes=None, stages=1) -> Program:
    """The program of a quantised transformer; ``lanes``: the dot unit's width (default:
    the longest contraction), ``stages``: pipeline registers inside every unit."""
    cfg = q.config
    need = max(cfg["in_features"], cfg["d_model"], cfg["hidden"], cfg["seq_len"])
    lanes = need if lanes is None else lanes
    if not isinstance(lanes, int) or lanes < need:
        raise ValueError(f"--lanes must be an integer >= {need} (the longest dot product)")
    if not isinstance(stages, int) or stages < 0:
        raise ValueError(f"--stages must be a non-negative integer, not {stages!r}")
    ops = EmitOps(lanes, 0 if cfg.get("vocab") else cfg["seq_len"])
    logits = forward(ops, q, list(range(cfg["seq_len"])))
    for lane, a in enumerate(logits):
        ops.out(lane, a)
    body = ops.instrs
    used = tuple(op for op in UNIT_OPS if any(i.op == op for i in body))
    bundles, consts, scalars = allocate(schedule(body, stages + 2), ops.consts, stages + 2)
    return Program(dict(cfg), lanes, stages, bundles, consts, ops.rom, scalars,
                   max(ops.vectors, 1), used, issued=len(body), embedding=ops.embedding)
