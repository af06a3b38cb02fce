"""Streamed vector units (:mod:`spikegate.hdl.vector_stream`) against their goldens.

Two checks of one :class:`~spikegate.gen.vector_stream.StreamParts`, both bit for bit
against the unit's golden in the stream's summation order (``lanes=P``:
:func:`~spikegate.golden.norms.norm_golden`, :func:`~spikegate.golden.softmax.softmax_golden`):

* :func:`engine_outputs`: the datapath netlists on the torch engine, stepped through the
  program as the control steps them (every vector at once, one engine call per beat and
  step);
* :func:`verify_vector_stream`: the whole Verilog (control and datapaths) on Icarus or
  Verilator, beats streamed with random idle cycles and backpressure.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["engine_outputs", "expected_outputs", "stream_vectors", "stream_payloads",
           "assert_outputs", "verify_vector_stream", "verify_vector_stream_design",
           "stream_parts"]

STREAMED = ("rmsnorm", "layernorm", "softmax")


def stream_parts(name, fmt, n, lanes, *, eps=None, policy="torch"):
    """The :class:`~spikegate.gen.vector_stream.StreamParts` of ``name``."""
    if name == "softmax":
        from ..gen.softmax import build_softmax_stream
        return build_softmax_stream(fmt, n, lanes, policy=policy)
    if name not in ("rmsnorm", "layernorm"):
        raise ValueError(f"the stream form (--lanes) is for linear, {', '.join(STREAMED)}; "
                         f"not {name}")
    from ..gen.norm import build_norm_stream
    from ..golden.norms import DEFAULT_EPS
    return build_norm_stream(name, fmt, n, lanes, eps=DEFAULT_EPS if eps is None else eps,
                             policy=policy)


def engine_outputs(spec, vectors) -> np.ndarray:
    """``y`` (vectors x N codes) of the datapaths on the torch engine, in the control's order."""
    from .torch_engine import TorchEngine
    eng = {k: TorchEngine(nl) for k, nl in spec.parts.items()}
    P, G = spec.lanes, spec.beats
    count = len(vectors["x"])
    regs = {k: np.full(count, init, dtype=np.uint64) for k, (_, init) in spec.registers.items()}

    def lanes(port, g):
        return {f"{port}{p}": vectors[port][:, g * P + p] for p in range(P)}
    out = np.zeros((count, spec.n), dtype=np.uint64)
    for st in spec.program:
        ins = {r: regs[r] for r in st.reads}
        if st.kind == "pass":
            for g in range(G):
                regs[st.out] = eng[st.part].run({**ins, "acc": regs[st.out],
                                                 **lanes("x", g)})["y"]
        elif st.kind == "step":
            regs[st.out] = eng[st.part].run(ins)["y"]
        else:
            for g in range(G):
                beat = {k: v for port in spec.ports for k, v in lanes(port, g).items()}
                ys = eng[st.part].run({**ins, **beat})
                for p in range(P):
                    out[:, g * P + p] = ys[f"y{p}"]
    return out


def expected_outputs(spec, vectors) -> np.ndarray:
    """The golden in the stream's order."""
    if spec.name == "softmax":
        from ..golden.softmax import softmax_golden
        return softmax_golden(spec.fmt, vectors["x"], policy=spec.meta["policy"],
                              lanes=spec.lanes)
    from ..golden.norms import norm_golden
    return norm_golden(spec.name, spec.fmt, vectors["x"], vectors["w"], vectors.get("b"),
                       eps=spec.meta["eps"], policy=spec.meta["policy"], lanes=spec.lanes)


def stream_vectors(spec, count, seed=0) -> dict:
    """Seeded random and directed vectors of the unit (``{"x", ...}`` code arrays)."""
    if spec.name == "softmax":
        from ..golden.softmax import softmax_vectors
        return {"x": softmax_vectors(spec.fmt, spec.n, count, seed=seed)}
    from ..golden.norms import norm_vectors
    return norm_vectors(spec.name, spec.fmt, spec.n, count, seed=seed)


def stream_payloads(spec, vectors):
    """The input beats (ints), ``G`` a vector, laid out as :mod:`~spikegate.hdl.vector_stream` says."""
    from ..golden.formats import get_format
    W, P = get_format(spec.fmt).width, spec.lanes
    out = []
    for i in range(len(vectors["x"])):
        for g in range(spec.beats):
            word = 0
            for k, port in enumerate(spec.ports):
                for p in range(P):
                    word |= int(vectors[port][i, g * P + p]) << (W * (k * P + p))
            out.append(word)
    return out


def assert_outputs(spec, vectors, got, context):
    """Raise :class:`~spikegate.sim.check.MismatchError` (first mismatches in hex) unless
    ``got`` equals the golden."""
    from ..golden.formats import get_format
    from .check import assert_bit_exact
    W, n = get_format(spec.fmt).width, spec.n
    want = expected_outputs(spec, vectors)
    inputs = {f"{port}{i}": vectors[port][:, i] for port in spec.ports for i in range(n)}
    assert_bit_exact(inputs, {f"y{i}": got[:, i] for i in range(n)},
                     {f"y{i}": want[:, i] for i in range(n)}, context=context,
                     widths={**{k: W for k in inputs}, **{f"y{i}": W for i in range(n)}})


def verify_vector_stream(spec, verilog, top, *, simulator, vectors, seed=0):
    """Stream ``vectors`` through the unit; raises
    :class:`~spikegate.sim.check.MismatchError` unless every output equals the golden.
    ``icarus`` / ``verilator`` run the Verilog ``verilog``; ``amaranth`` runs the Amaranth
    control with its datapaths elaborated from their netlists (``verilog`` unused, may be
    None). Returns the :class:`~spikegate.sim.stream_runner.StreamResult`."""
    from ..golden.formats import get_format
    from .stream_runner import StreamResult, run_stream, unpack_payloads
    W, P, G = get_format(spec.fmt).width, spec.lanes, spec.beats
    count = len(vectors["x"])
    payloads = stream_payloads(spec, vectors)
    max_cycles = 20 * count * spec.cycles_per_vector + 1000
    if simulator == "amaranth":
        from ..hdl.vector_stream import VectorStream
        from .amaranth_sim import run_amaranth_stream
        start = time.perf_counter()
        outs, cycles = run_amaranth_stream(VectorStream(spec, top=top, datapaths="netlist"),
                                           payloads, outputs=count * G, seed=seed,
                                           max_cycles=max_cycles)
        result = StreamResult(np.asarray(outs, dtype=object), cycles,
                              time.perf_counter() - start, 0.0, None)
    else:
        result = run_stream(verilog=verilog, top=top, in_width=len(spec.ports) * P * W,
                            out_width=P * W, payloads=payloads, simulator=simulator,
                            seed=seed, sequence=(G, G), max_cycles=max_cycles)
    got = unpack_payloads(result.outputs, P, W).reshape(count, G * P)
    assert_outputs(spec, vectors, got, f"{top} on {simulator}")
    return result


def verify_vector_stream_design(directory, report, *, simulator, vectors=None, seed=0):
    """``spikegate verify`` of a streamed vector unit: the Verilog on disk, on ``simulator``,
    ``vectors`` seeded random and directed vectors (default 40). Returns the count."""
    from .stream_check import STREAM_SIMS
    if simulator not in STREAM_SIMS:
        raise ValueError(f"{report['top']} is time-multiplexed: its stream control runs on "
                         f"icarus or verilator, not {simulator} (use --sim verilator)")
    spec = stream_parts(report["unit"], report["format"], report["n"], report["lanes"],
                        eps=report.get("eps"), policy=report["policy"])
    count = vectors or 40
    text = (Path(directory) / report["verilog"]).read_text()
    verify_vector_stream(spec, text, report["top"], simulator=simulator,
                         vectors=stream_vectors(spec, count, seed), seed=seed)
    return count
