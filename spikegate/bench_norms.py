"""``run_norms_bench()``: RMSNorm and LayerNorm, measured -> reports/norms.md (and
``run_softmax_bench()``: softmax -> reports/softmax.md, the same columns).

Per norm and I/O format at N = 8: the netlist's neurons and depth; its outputs bit-exact
against the step-by-step golden on the torch engine (``CHECKED`` vectors); and the accuracy
of the algorithm (the golden, which the netlist equals) against the exact formula on
``VECTORS`` seeded random and directed vectors (golden/norms.py: norm_vectors): the largest
error in ULPs and the fraction correctly rounded, beside torch's own ``F.rms_norm`` /
``F.layer_norm`` on tensors of the format (CPU) on the same vectors.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run_norms_bench", "norm_rows", "run_softmax_bench", "softmax_rows", "REPORT",
           "SOFTMAX_REPORT"]

REPORT = Path("reports/norms.md")
N, VECTORS, CHECKED = 8, 100_000, 2_000
EPS = 1e-5


def _torch_norm(name, fmt, v):
    import torch
    import torch.nn.functional as F

    from .golden.formats import get_format
    from .golden.torch_float import codes_to_tensor, tensor_to_codes
    f = get_format(fmt)

    def t(codes):
        return codes_to_tensor(f, codes.reshape(-1)).reshape(codes.shape)
    eps = float(np.float32(EPS))
    x, w = t(v["x"]), t(v["w"])
    if name == "rmsnorm":           # one weight per vector: a loop of rows, batched by chunks
        out = torch.stack([F.rms_norm(x[i], (N,), w[i], eps=eps) for i in range(len(x))])
    else:
        b = t(v["b"])
        out = torch.stack([F.layer_norm(x[i], (N,), w[i], b[i], eps=eps)
                           for i in range(len(x))])
    return tensor_to_codes(f, out.reshape(-1)).reshape(out.shape)


def norm_rows(vectors=VECTORS, checked=CHECKED):
    from .golden.norms import NORMS, exact_norm, norm_golden, norm_vectors, ulp_errors
    from .sim.regress import golden_outputs
    from .sim.torch_engine import TorchEngine
    from .sim.units import build_unit
    rows = []
    for name in NORMS:
        for fmt in ("bf16", "fp16", "fp32"):
            net = build_unit(name, fmt=fmt, n=N, eps=EPS)
            s = net.stats()
            v = norm_vectors(name, fmt, N, vectors, seed=1)
            ports = [p for p in ("x", "w", "b") if p in v]
            inputs = {f"{p}{i}": v[p][:checked, i] for p in ports for i in range(N)}
            got = TorchEngine(net).run(inputs)
            want = golden_outputs(net, inputs)
            exact_bits = all(np.array_equal(np.asarray(got[k]).astype(np.uint64),
                                            np.asarray(want[k]).astype(np.uint64)) for k in want)
            exact = exact_norm(name, fmt, v["x"], v["w"], v.get("b"), eps=EPS)
            ours = ulp_errors(fmt, norm_golden(name, fmt, v["x"], v["w"], v.get("b"), eps=EPS),
                              exact)
            theirs = ulp_errors(fmt, _torch_norm(name, fmt, v), exact)
            fin = np.isfinite(exact)
            rows.append({"norm": name, "format": fmt, "n": N, "neurons": s["neurons"],
                         "depth": s["depth"], "checked": checked, "bit_exact": exact_bits,
                         "outputs": int(fin.sum()),
                         "max_ulp": float(ours[fin].max()),
                         "cr": float((ours[fin] <= 0.5).mean()),
                         "torch_max_ulp": float(theirs[fin].max()),
                         "torch_cr": float((theirs[fin] <= 0.5).mean())})
    return rows


def _markdown(rows, seconds):
    lines = [
        "# RMSNorm and LayerNorm", "",
        "`spikegate bench norms` writes this file. Units: `spikegate generate rmsnorm|layernorm "
        f"--n N --format F` (here N = {N}, eps = {EPS}). The algorithm (golden/norms.py): "
        "float32 steps (binary64 for fp32 I/O), each correctly rounded, pairwise adder "
        "trees, `r = 1 / sqrt(v)` as a "
        "square root and a division, one final rounding to the format. *bit-exact*: the "
        "netlist on the torch engine against that golden on the first vectors. *max ULP*, "
        "*correctly rounded*: the golden (= the netlist) against the exact formula (float64; "
        "x87 extended for fp32) "
        "on all vectors x N outputs; *torch*: `F.rms_norm` / `F.layer_norm` on CPU tensors of "
        "the format, same vectors. NEXUS has no norm to compare with (its FP32 softmax: 37% "
        "correctly rounded, 6 ULP: reports/softmax.md).",
        "",
        "| norm | format | N | neurons | depth | bit-exact | outputs | max ULP | correctly "
        "rounded | torch max ULP | torch correctly rounded |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['norm']} | {r['format']} | {r['n']} | {r['neurons']:,} | {r['depth']} | "
            f"{'yes' if r['bit_exact'] else 'NO'} ({r['checked']:,} vectors) | "
            f"{r['outputs']:,} | {r['max_ulp']:.3f} | {100 * r['cr']:.3f}% | "
            f"{r['torch_max_ulp']:.3g} | {100 * r['torch_cr']:.3f}% |")
    lines += ["", f"({len(rows)} rows in {seconds:.0f} s.)", ""]
    return "\n".join(lines)


def run_norms_bench(path=REPORT) -> int:
    from .hdl.atomic import write_file
    start = time.perf_counter()
    rows = norm_rows()
    text = _markdown(rows, time.perf_counter() - start)
    write_file(path, text)
    print(text)
    print(f"wrote {path}")
    return 0 if all(r["bit_exact"] for r in rows) else 1


SOFTMAX_REPORT = Path("reports/softmax.md")
#: NEXUS's FP32 16-element softmax, measured on its own code (the issue's figures).
NEXUS_SOFTMAX = "NEXUS FP32 softmax (16 elements, its own code): 37% correctly rounded, max 6 ULP"


def softmax_rows(vectors=VECTORS, checked=500):
    import torch

    from .golden.formats import get_format
    from .golden.norms import ulp_errors
    from .golden.softmax import exact_softmax, softmax_golden, softmax_vectors
    from .golden.torch_float import codes_to_tensor, tensor_to_codes
    from .sim.regress import golden_outputs
    from .sim.torch_engine import TorchEngine
    from .sim.units import build_unit
    rows = []
    for fmt in ("bf16", "fp16", "fp32"):
        f = get_format(fmt)
        net = build_unit("softmax", fmt=fmt, n=N)
        s = net.stats()
        x = softmax_vectors(fmt, N, vectors, seed=1)
        inputs = {f"x{i}": x[:checked, i] for i in range(N)}
        got = TorchEngine(net).run(inputs)
        want = golden_outputs(net, inputs)
        bit_exact = all(np.array_equal(np.asarray(got[k]).astype(np.uint64),
                                       np.asarray(want[k]).astype(np.uint64)) for k in want)
        exact = exact_softmax(fmt, x)
        ours = ulp_errors(fmt, softmax_golden(fmt, x), exact)
        t = torch.softmax(codes_to_tensor(f, x.reshape(-1)).reshape(x.shape), dim=1)
        theirs = ulp_errors(fmt, tensor_to_codes(f, t.reshape(-1)).reshape(x.shape), exact)
        fin = np.isfinite(exact)
        rows.append({"norm": "softmax", "format": fmt, "n": N, "neurons": s["neurons"],
                     "depth": s["depth"], "checked": checked, "bit_exact": bit_exact,
                     "outputs": int(fin.sum()), "max_ulp": float(ours[fin].max()),
                     "cr": float((ours[fin] <= 0.5).mean()),
                     "torch_max_ulp": float(theirs[fin].max()),
                     "torch_cr": float((theirs[fin] <= 0.5).mean())})
    return rows


def run_softmax_bench(path=SOFTMAX_REPORT) -> int:
    from .hdl.atomic import write_file
    start = time.perf_counter()
    rows = softmax_rows()
    lines = _markdown(rows, time.perf_counter() - start).splitlines()
    lines[0] = "# Softmax"
    lines[2] = ("`spikegate bench softmax` writes this file. Unit: `spikegate generate softmax "
                f"--n N --format F` (here N = {N}). The algorithm (golden/softmax.py): the "
                "maximum subtracted in the internal format (float32; binary64 for fp32 I/O), "
                "the difference split exactly into bf16 pieces whose exps come from the "
                "correctly rounded bf16 -> internal-format table (binary64: times "
                "1 + s + s^2/2), products, sum and reciprocal, one rounding to the format. "
                "Columns "
                "as in reports/norms.md; *torch*: `torch.softmax` on CPU tensors of the "
                f"format. {NEXUS_SOFTMAX}.")
    text = "\n".join(lines) + "\n"
    write_file(path, text)
    print(text)
    print(f"wrote {path}")
    return 0 if all(r["bit_exact"] for r in rows) else 1
