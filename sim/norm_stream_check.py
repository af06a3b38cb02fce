"""The stream form of RMSNorm/LayerNorm (:mod:`spikegate.hdl.norm_stream`) against the golden.

Two checks of one :class:`~spikegate.gen.norm.NormStreamParts`, both bit for bit against
:func:`~spikegate.golden.norms.norm_golden` with ``lanes=P`` (the stream's summation order):

* :func:`engine_outputs`: the datapath netlists on the torch engine, stepped in the
  control's order (every vector at once, one engine call per beat and step);
* :func:`verify_norm_stream`: the whole Verilog (control and datapaths) on Icarus or
  Verilator, beats streamed with random idle cycles and backpressure.
"""

from __future__ import annotations

import numpy as np

__all__ = ["engine_outputs", "verify_norm_stream", "verify_norm_stream_design",
           "stream_payloads", "expected_outputs", "assert_outputs"]


def _neg_zero(spec, count):
    from ..golden.formats import get_format
    return np.full(count, 1 << (get_format(spec.internal).width - 1), dtype=np.uint64)


def engine_outputs(spec, vectors) -> np.ndarray:
    """``y`` (vectors x N codes) of the datapaths on the torch engine, in the control's order."""
    from .torch_engine import TorchEngine
    eng = {k: TorchEngine(nl) for k, nl in spec.parts.items()}
    P, G = spec.lanes, spec.beats
    count = len(vectors["x"])

    def beat(port, g):
        return {f"{port}{p}": vectors[port][:, g * P + p] for p in range(P)}

    def run(part, **ins):
        return eng[part].run(ins)
    acc = _neg_zero(spec, count)
    layer = spec.name == "layernorm"
    for g in range(G):
        acc = run("sum" if layer else "sumsq", acc=acc, **beat("x", g))["y"]
    extra = {}
    if layer:
        extra["mu"] = run("mean", acc=acc)["y"]
        acc = _neg_zero(spec, count)
        for g in range(G):
            acc = run("sumsq", acc=acc, **extra, **beat("x", g))["y"]
    r = run("finish", acc=acc)["y"]
    out = np.zeros((count, spec.n), dtype=np.uint64)
    for g in range(G):
        ins = {k: v for port in spec.ports for k, v in beat(port, g).items()}
        ys = run("scale", r=r, **extra, **ins)
        for p in range(P):
            out[:, g * P + p] = ys[f"y{p}"]
    return out


def expected_outputs(spec, vectors) -> np.ndarray:
    from ..golden.norms import norm_golden
    return norm_golden(spec.name, spec.fmt, vectors["x"], vectors["w"], vectors.get("b"),
                       eps=spec.eps, policy=spec.policy, lanes=spec.lanes)


def stream_payloads(spec, vectors):
    """The input beats (ints), ``G`` a vector, laid out as :mod:`~spikegate.hdl.norm_stream` says."""
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
    from .check import assert_bit_exact
    from ..golden.formats import get_format
    W = get_format(spec.fmt).width
    want = expected_outputs(spec, vectors)
    n = spec.n
    inputs = {f"{port}{i}": vectors[port][:, i] for port in spec.ports for i in range(n)}
    assert_bit_exact(inputs, {f"y{i}": got[:, i] for i in range(n)},
                     {f"y{i}": want[:, i] for i in range(n)}, context=context,
                     widths={**{k: W for k in inputs}, **{f"y{i}": W for i in range(n)}})


def verify_norm_stream(spec, verilog, top, *, simulator, vectors, seed=0, build_root=None):
    """Stream ``vectors`` (``{"x", "w"[, "b"]}`` code arrays) through the Verilog; raises
    :class:`~spikegate.sim.check.MismatchError` unless every output equals the golden.
    Returns the :class:`~spikegate.sim.stream_runner.StreamResult`."""
    from pathlib import Path

    from ..golden.formats import get_format
    from .stream_runner import run_stream, unpack_payloads
    W, P, G = get_format(spec.fmt).width, spec.lanes, spec.beats
    kwargs = {"build_root": Path(build_root)} if build_root else {}
    result = run_stream(verilog=verilog, top=top, in_width=len(spec.ports) * P * W,
                        out_width=P * W, payloads=stream_payloads(spec, vectors),
                        simulator=simulator, seed=seed, sequence=(G, G),
                        max_cycles=400 * len(vectors["x"]) * G + 1000, **kwargs)
    beats = unpack_payloads(result.outputs, P, W)            # (vectors * G, P)
    got = beats.reshape(len(vectors["x"]), G * P)
    assert_outputs(spec, vectors, got, f"{top} on {simulator}")
    return result


def verify_norm_stream_design(directory, report, *, simulator, vectors=None, seed=0):
    """``spikegate verify`` of a streamed norm: its Verilog on disk, on ``simulator``, with
    ``vectors`` seeded random and directed vectors (default 40). Returns the count."""
    from pathlib import Path

    from ..gen.norm import build_norm_stream
    from ..golden.norms import norm_vectors
    from .stream_check import STREAM_SIMS
    if simulator not in STREAM_SIMS:
        raise ValueError(f"{report['top']} is time-multiplexed: its stream control runs on "
                         f"icarus or verilator, not {simulator} (use --sim verilator)")
    spec = build_norm_stream(report["unit"], report["format"], report["n"], report["lanes"],
                             eps=report["eps"], policy=report["policy"])
    count = vectors or 40
    v = norm_vectors(spec.name, spec.fmt, spec.n, count, seed=seed)
    text = (Path(directory) / report["verilog"]).read_text()
    verify_norm_stream(spec, text, report["top"], simulator=simulator, vectors=v, seed=seed)
    return count
