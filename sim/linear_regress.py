"""Vectors and checks for dot products and linear layers (every accumulation mode).

:func:`dot_vectors` mixes seeded random codes with directed cases, each a share of the
batch: overflow (large same-sign products), cancellation (``x*w`` and ``-x*w`` pairs, exact
zero sums), subnormal products, NaN/inf sprinkled in, all-zero rows (``+-0``), and random
finite codes. :func:`golden_dot` is the golden of a mode: the exact integer reference for
``exact``, torch doing the same operations in the same order for ``fp32``/``fp16``/``fp8``.
:func:`check_dot` runs a dot-product netlist on an engine and compares bit for bit.
"""

from __future__ import annotations

import time

import numpy as np

from ..golden.fp8 import get_format

__all__ = ["dot_vectors", "golden_dot", "dot_inputs", "check_dot", "layer_regression",
           "CATEGORIES"]

CATEGORIES = ("random", "finite", "overflow", "cancel", "subnormal", "special", "zero")


def _finite(fmt, rng, shape, emin=0, emax=None):
    E, M = fmt.exp_bits, fmt.man_bits
    top = (1 << E) - (2 if fmt.has_inf else 1) if emax is None else emax
    e = rng.integers(emin, top + 1, shape)
    m = rng.integers(0, 1 << M, shape)
    if not fmt.has_inf:                                # e4m3: exp 15 man 7 is NaN
        m = np.where((e == 15) & (m == 7), 6, m)
    s = rng.integers(0, 2, shape)
    return (s << 7) | (e << M) | m


def dot_vectors(fmt, n, count, *, seed=0, bias=True):
    """``(x, w, b)``: ``(count, n)`` input and weight codes and ``(count,)`` bias codes
    (None without bias), directed categories interleaved with random ones."""
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    E = fmt.exp_bits
    top = (1 << E) - (2 if fmt.has_inf else 1)
    x = _finite(fmt, rng, (count, n))
    w = _finite(fmt, rng, (count, n))
    b = _finite(fmt, rng, (count,))
    cat = rng.integers(0, len(CATEGORIES), count)
    k = np.flatnonzero(cat == 0)                        # anything, NaN/inf included
    x[k] = rng.integers(0, 256, (len(k), n))
    w[k] = rng.integers(0, 256, (len(k), n))
    b[k] = rng.integers(0, 256, len(k))
    k = np.flatnonzero(cat == 2)                        # overflow: big, one sign
    x[k] = _finite(fmt, rng, (len(k), n), top - 2, top) & 0x7F
    w[k] = _finite(fmt, rng, (len(k), n), top - 2, top) & 0x7F
    flip = rng.integers(0, 2, len(k))[:, None]
    x[k] |= flip << 7
    k = np.flatnonzero(cat == 3)                        # cancellation: pairs x*w, -x*w
    half = n // 2
    if half:
        x[k, half:2 * half] = x[k, :half] ^ 0x80
        w[k, half:2 * half] = w[k, :half]
        b[k] = np.where(rng.random(len(k)) < 0.5, 0, b[k])
    k = np.flatnonzero(cat == 4)                        # subnormal products
    x[k] = _finite(fmt, rng, (len(k), n), 0, 2)
    w[k] = _finite(fmt, rng, (len(k), n), 0, 3)
    b[k] = _finite(fmt, rng, len(k), 0, 1)
    k = np.flatnonzero(cat == 5)                        # NaN / inf sprinkled
    specials = [0x7F, 0xFF] + ([0x7C, 0xFC, 0x7D] if fmt.has_inf else [])
    hit = rng.random((len(k), n)) < 1.0 / max(n, 2)
    x[k] = np.where(hit, rng.choice(specials, (len(k), n)), x[k])
    hitw = rng.random((len(k), n)) < 0.5 / max(n, 2)
    w[k] = np.where(hitw, rng.choice(specials + [0, 0x80], (len(k), n)), w[k])
    k = np.flatnonzero(cat == 6)                        # zero rows, signed zeros
    x[k] = rng.choice([0, 0x80], (len(k), n))
    b[k] = rng.choice([0, 0x80], len(k))
    return x.astype(np.int64), w.astype(np.int64), (b.astype(np.int64) if bias else None)


def golden_dot(fmt, x, w, b, *, accum, order, out, policy="torch"):
    if accum == "exact":
        from ..golden.dot import dot_exact
        return dot_exact(fmt, x, w, b, out=out, policy=policy)
    from ..golden.torch_dot import torch_dot
    return torch_dot(fmt, x, w, b, accum=accum, order=order, out=out, policy=policy)


def dot_inputs(x, w, b):
    n = x.shape[1]
    inputs = {f"x{i}": x[:, i].astype(np.uint64) for i in range(n)}
    inputs.update({f"w{i}": w[:, i].astype(np.uint64) for i in range(n)})
    if b is not None:
        inputs["bias"] = b.astype(np.uint64)
    return inputs


def _golden_row(meta, x, w, b):
    """One output of a layer: the mode's golden, then the activation."""
    y = golden_dot(meta["format"], x, w, b, accum=meta["accum"], order=meta["order"],
                   out=meta["out_format"], policy=meta["policy"])
    if meta.get("activation", "none") == "relu":
        from ..golden.dot import relu_ref
        y = relu_ref(meta["out_format"], y)
    return np.asarray(y).astype(np.uint64)


def _row_operands(meta, r, count, seed, x_draw, weights, bias):
    """Weights and bias of output ``r`` for ``count`` vectors: constants broadcast, or (for
    ports) the draw that came with ``x`` for row 0 (so its directed cases, e.g.
    cancellation, line up) and independent seeded draws for the other rows."""
    n = meta["in_features"]
    const_w, kind = meta.get("weights") == "const", meta.get("bias", "none")
    draw = None
    if not const_w or kind == "port":
        draw = x_draw if r == 0 else dot_vectors(meta["format"], n, count, seed=seed + 7919 * r)
    w = np.broadcast_to(np.asarray(weights[r], dtype=np.int64), (count, n)) if const_w \
        else draw[1]
    b = (None if kind == "none" else
         np.full(count, bias[r], dtype=np.int64) if kind == "const" else draw[2])
    return w, b


def layer_regression(meta, count, *, seed=0, weights=None, bias=None):
    """``(inputs, expected)`` for a spatial :func:`~spikegate.gen.dot.build_dot` /
    :func:`~spikegate.gen.dot.build_linear` netlist with metadata ``meta``.

    ``weights`` (``M`` rows) and ``bias`` (``M`` codes) are the constants of a design built
    with them; port weights and biases get seeded vectors of :func:`dot_vectors`.
    """
    n, m = meta["in_features"], meta["out_features"]
    dot = meta["unit"] == "dot"
    draw = dot_vectors(meta["format"], n, count, seed=seed)
    x = draw[0]
    inputs = {f"x{i}": x[:, i].astype(np.uint64) for i in range(n)}
    expected = {}
    for r in range(m):
        w, b = _row_operands(meta, r, count, seed, draw, weights, bias)
        if meta.get("weights") != "const":
            inputs.update({(f"w{i}" if dot else f"w{r}_{i}"): w[:, i].astype(np.uint64)
                           for i in range(n)})
        if meta.get("bias") == "port":
            inputs["bias" if dot else f"b{r}"] = b.astype(np.uint64)
        expected["y" if dot else f"y{r}"] = _golden_row(meta, x, w, b)
    return inputs, expected


def check_dot(netlist, count, *, seed=0, device=None, chunk=1 << 17):
    """Run ``count`` vectors through a ``build_dot`` netlist on the torch engine against
    its golden; returns ``{vectors, mismatches, seconds, per_s, first}``."""
    from .torch_engine import TorchEngine
    meta = netlist.meta
    engine = TorchEngine(netlist, device=device)
    bias = "bias" in netlist.inputs
    done, bad, first, t_sim = 0, 0, None, 0.0
    while done < count:
        size = min(chunk, count - done)
        x, w, b = dot_vectors(meta["format"], meta["in_features"], size, seed=seed + done,
                              bias=bias)
        t0 = time.perf_counter()
        got = engine.run(dot_inputs(x, w, b))["y"]
        t_sim += time.perf_counter() - t0
        exp = golden_dot(meta["format"], x, w, b, accum=meta["accum"], order=meta["order"],
                         out=meta["out_format"], policy=meta["policy"])
        wrong = np.flatnonzero(got != exp)
        if len(wrong) and first is None:
            i = wrong[0]
            first = (f"x={[hex(v) for v in x[i]]} w={[hex(v) for v in w[i]]} "
                     f"b={None if b is None else hex(b[i])}: got {int(got[i]):#x} "
                     f"expected {int(exp[i]):#x}")
        bad += len(wrong)
        done += size
    return {"vectors": done, "mismatches": bad, "engine_seconds": round(t_sim, 2),
            "per_s": round(done / t_sim) if t_sim else None, "first": first}


MODES = (("exact", "tree"), ("fp32", "tree"), ("fp32", "sequential"), ("fp16", "tree"),
         ("fp16", "sequential"), ("fp8", "tree"), ("fp8", "sequential"))


def engine_outputs(fmt, n, count, *, seed=0, device=None, modes=MODES):
    """Engine outputs of every mode on the same seeded vectors (no golden: for a GPU machine
    whose torch differs from the pinned one; :func:`check_outputs` compares them later)."""
    from ..gen.dot import build_dot
    from .torch_engine import TorchEngine
    x, w, b = dot_vectors(fmt, n, count, seed=seed)
    inputs = dot_inputs(x, w, b)
    out = {"checksum": np.array([int(x.sum()), int(w.sum()), int(b.sum())])}
    times = {}
    for accum, order in modes:
        nl = build_dot(n, fmt, accum=accum, order=order, bias="port")
        t0 = time.perf_counter()
        out[f"{accum}_{order}"] = TorchEngine(nl, device=device).run(inputs)["y"]
        times[f"{accum}_{order}"] = time.perf_counter() - t0
    return out, times


def check_outputs(fmt, n, count, saved, *, seed=0, modes=MODES):
    """Compare :func:`engine_outputs` results with the goldens; ``{mode: mismatches}``."""
    from ..gen.dot import build_dot
    x, w, b = dot_vectors(fmt, n, count, seed=seed)
    assert list(saved["checksum"]) == [int(x.sum()), int(w.sum()), int(b.sum())], \
        "vectors differ from the saved run (numpy version?)"
    res = {}
    for accum, order in modes:
        meta = build_dot(1, fmt, accum=accum, order=order).meta
        exp = golden_dot(fmt, x, w, b, accum=accum, order=order, out=meta["out_format"])
        res[f"{accum}_{order}"] = int((saved[f"{accum}_{order}"] != exp).sum())
    return res
