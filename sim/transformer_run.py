"""Token sequences through a transformer design's Verilog, compared with the golden.

The stream testbench (:mod:`spikegate.sim.stream_runner`) sends ``seq_len`` tokens per
sequence with random idle cycles and takes the logits under random backpressure; every logit
code is compared with :func:`~spikegate.golden.transformer.golden_logits` of the codes the
design holds (``model.json``).
"""

from __future__ import annotations

import numpy as np

from ..golden.transformer import (QuantizedTransformer, golden_logits, outputs_per_sequence,
                                  token_bits)
from .check import assert_bit_exact
from .stream_runner import run_stream

__all__ = ["token_sequences", "run_sequences", "check_sequences", "compare_logits", "interpret",
           "TRANSFORMER_SIMS"]

TRANSFORMER_SIMS = ("icarus", "verilator")


def token_sequences(config, count, seed=0):
    """``count`` seeded sequences of E4M3 codes, shape (count, seq_len, in_features): a third
    any code (NaN and +-448 included), a third small magnitudes, a third pixel-like ``k/16``.
    With a token embedding: ids (count, seq_len), any value the input's width carries (ids
    beyond the vocabulary included)."""
    rng = np.random.default_rng(seed)
    if config.get("vocab"):
        return rng.integers(0, 1 << token_bits(config),
                            (count, config["seq_len"])).astype(np.uint64)
    shape = (count, config["seq_len"], config["in_features"])
    full = rng.integers(0, 256, shape)
    small = rng.integers(0, 0x40, shape) | (rng.integers(0, 2, shape) << 7)
    pixels = np.array([int(np.float32(k / 16).view(np.uint32)) for k in range(17)])
    from ..golden.torch_float import golden_convert
    pix = golden_convert("fp32", "e4m3", pixels)[rng.integers(0, 17, shape)]
    kind = rng.integers(0, 3, count)[:, None, None]
    return np.where(kind == 0, full, np.where(kind == 1, small, pix)).astype(np.uint64)


def run_sequences(verilog, top, config, tokens, *, simulator, seed=0, ready_prob=0.7,
                  idle_prob=0.2, build_root="build/sim", build="quick", shards=1):
    """Logit codes (count, rows, classes) the Verilog gives for ``tokens``, and the run
    result (``shards``: simulator processes sharing the sequences)."""
    from pathlib import Path
    if simulator not in TRANSFORMER_SIMS:
        raise ValueError(f"a transformer design runs on icarus or verilator, not {simulator} "
                         f"(use --sim verilator)")
    tokens = np.asarray(tokens, dtype=np.uint64)
    T, C, R = config["seq_len"], config["classes"], outputs_per_sequence(config)
    payloads = [int(tok) if config.get("vocab") else
                sum(int(c) << (8 * i) for i, c in enumerate(tok))
                for seq in tokens for tok in seq]
    result = run_stream(verilog=verilog, top=top, in_width=token_bits(config),
                        out_width=C * 16, payloads=payloads, simulator=simulator, seed=seed,
                        ready_prob=ready_prob, idle_prob=idle_prob,
                        max_cycles=len(tokens) * 40 * T * 1000,
                        build=build,
                        sequence=(T, R), shards=shards, build_root=Path(build_root))
    logits = np.array([[(int(o) >> (16 * c)) & 0xFFFF for c in range(C)]
                       for o in result.outputs], dtype=np.uint64)
    return logits.reshape(len(tokens), R, C), result


def check_sequences(q: QuantizedTransformer, verilog, top, tokens, *, simulator, seed=0,
                    expected=None, **kw):
    """Run and compare every logit bit with the golden (raises MismatchError, first
    mismatches in hex). Returns the run result and the logit codes (count, rows, classes)."""
    tokens = np.asarray(tokens, dtype=np.uint64)
    got, result = run_sequences(verilog, top, q.config, tokens, simulator=simulator, seed=seed,
                                **kw)
    compare_logits(got, golden_logits(q, tokens) if expected is None else expected,
                   context=f"{top} on {simulator}")
    return result, got


def compare_logits(got, expected, *, context):
    """Every bit of the logit codes ``got`` against ``expected`` (both (count, rows,
    classes)): raises MismatchError naming the first (sequence, position) in hex."""
    got = np.asarray(got, dtype=np.uint64)
    count, R, C = got.shape
    inputs = {"sequence": np.repeat(np.arange(count, dtype=np.uint64), R),
              "position": np.tile(np.arange(R, dtype=np.uint64), count)}
    got, expected = got.reshape(-1, C), np.asarray(expected).reshape(-1, C)
    assert_bit_exact(inputs, {f"logit{c}": got[:, c] for c in range(C)},
                     {f"logit{c}": expected[:, c] for c in range(C)}, context=context,
                     widths={"sequence": 16, "position": 8,
                             **{f"logit{c}": 16 for c in range(C)}})


def interpret(program, tokens):
    """Run a compiled program bundle by bundle on code arrays (the units' goldens, one entry
    per sequence), each result visible ``distance`` cycles after its issue as in the
    hardware: checks addressing, schedule and address reuse without a Verilog simulator.
    Returns logit codes (count, rows, classes)."""
    from ..golden.transformer import GoldenOps
    tokens = np.asarray(tokens, dtype=np.uint64)
    B, K = len(tokens), program.lanes
    ops = GoldenOps(B)
    S = np.zeros((program.scalars, B), dtype=np.uint64)
    for addr, code in program.consts.items():
        S[addr] = code
    V = np.zeros((program.vectors, B, K), dtype=np.uint64)
    if program.embedding:
        table = np.asarray(program.embedding, dtype=np.uint64)
    else:
        V[:tokens.shape[1], :, :tokens.shape[2]] = tokens.transpose(1, 0, 2)
    rom = np.asarray(program.rom, dtype=np.uint64)
    C = program.config["classes"]
    out = np.zeros((B, program.outputs * C), dtype=np.uint64)
    sign16, sign32 = np.uint64(1 << 15), np.uint64(1 << 31)
    unary = {"widen": ops.widen, "narrow": ops.narrow}
    binary = {"add16": ops.add16, "mul16": ops.mul16, "max16": ops.max16,
              "add32": ops.add32, "mul32": ops.mul32}
    pending = []                            # (visible from cycle, memory, index, value)
    for cycle, bundle in enumerate(program.bundles):
        while pending and pending[0][0] <= cycle:
            _, mem, index, value = pending.pop(0)
            mem[index] = value
        for ins in bundle.values():
            if ins.op == "dot":
                y = ops.dot(V[ins.vx], rom[ins.vy][None] if ins.rom else V[ins.vy])
            elif ins.op == "q8":
                pending.append((cycle + program.distance, V, (ins.dst, slice(None), ins.lane),
                                ops.vec([S[ins.a]])[:, 0]))
                continue
            elif ins.op == "out":
                out[:, ins.dst] = S[ins.a]
                continue
            elif ins.op == "embed":
                y = table[tokens[:, ins.a], ins.lane]
            elif ins.op in binary:
                b = S[ins.b] ^ ((sign32 if ins.op == "add32" else sign16) if ins.neg else 0)
                y = binary[ins.op](S[ins.a], b)
            elif ins.op in unary:
                y = unary[ins.op](S[ins.a])
            else:
                y = ops.fn(ins.op, S[ins.a])
            pending.append((cycle + program.distance, S, ins.dst, y))
        pending.sort(key=lambda p: p[0])
    return out.reshape(B, program.outputs, C)
