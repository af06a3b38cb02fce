"""A streamed design (linear layers, MLPs) through its Verilog, against the golden.

``verify`` streams seeded random and directed vectors through the Verilog with random idle
cycles and backpressure and compares every output code with
:func:`~spikegate.hdl.model.reference` of the codes the ROMs hold (``layers.json``).
"""

from __future__ import annotations

from pathlib import Path

from ..hdl.stream_design import load_layers

__all__ = ["verify_stream_design", "STREAM_SIMS"]

#: The stream control is plain Amaranth around Verilog instances of the neuron datapaths,
#: so a whole streamed design runs on the Verilog simulators only.
STREAM_SIMS = ("icarus", "verilator")


def verify_stream_design(directory, report, *, simulator, vectors=2000, seed=0):
    """Stream ``vectors`` seeded random + directed input vectors through the design's Verilog
    on ``simulator``; raises :class:`~spikegate.sim.check.MismatchError` (first mismatches in
    hex) unless every output code equals the golden. Returns the number of vectors."""
    from ..hdl.model import reference
    from .check import assert_bit_exact
    from .linear_regress import dot_vectors
    from .stream_runner import pack_payloads, run_stream, unpack_payloads
    if simulator not in STREAM_SIMS:
        raise ValueError(f"{report['top']} is time-multiplexed: its stream control runs on "
                         f"icarus or verilator, not {simulator} (use --sim verilator)")
    directory = Path(directory)
    layers = load_layers(directory)
    n, m = layers[0].in_features, layers[-1].out_features
    x = dot_vectors(layers[0].fmt, n, vectors, seed=seed, bias=False)[0]
    expected = reference(layers, x)[-1]
    width = report["ports"]["o__payload"]["width"] // m
    text = (directory / report["verilog"]).read_text()
    result = run_stream(verilog=text, top=report["top"], in_width=n * 8, out_width=m * width,
                        payloads=pack_payloads(x, 8), simulator=simulator, seed=seed)
    got = unpack_payloads(result.outputs, m, width)
    inputs = {f"x{i}": x[:, i] for i in range(n)}
    assert_bit_exact(inputs, {f"y{k}": got[:, k] for k in range(m)},
                     {f"y{k}": expected[:, k] for k in range(m)},
                     context=f"{report['top']} on {simulator}",
                     widths={**{f"x{i}": 8 for i in range(n)},
                             **{f"y{k}": width for k in range(m)}})
    return vectors
