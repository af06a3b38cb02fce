"""The transformer demo: a digits classifier in neurons, every logit checked on Verilator.

1. ``sklearn.datasets.load_digits`` split 70/30 (:func:`~spikegate.demo_mlp.digits_split`):
   each 8x8 image is 8 tokens (rows) of 8 pixels ``k/16``, exact in E4M3.
2. A :class:`~spikegate.golden.transformer.TransformerClassifier` (d_model 16, 2 heads,
   1 block, SiLU-gated MLP of 16, RMSNorm, mean pooling) trained deterministically on the CPU
   (fixed seed, full-batch Adam).
3. :func:`~spikegate.golden.transformer.from_torch` -> the neuron processor's design in
   ``build/demo/transformer`` (:mod:`spikegate.hdl.transformer_design`).
4. Test images streamed through the Verilog on Verilator (random idle cycles and
   backpressure), every logit compared bit for bit with the golden; accuracy printed beside
   the float model's, with the largest logit difference between the two.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

__all__ = ["run_transformer_demo", "train_digits_transformer", "DEMO_CONFIG"]

DEMO_CONFIG = dict(in_features=8, seq_len=8, d_model=16, heads=2, blocks=1, hidden=16,
                   classes=10, norm="rmsnorm", mlp="swiglu", pool="mean")
SEED = 0


def train_digits_transformer(x_train, y_train, *, steps=300, seed=SEED, config=None):
    """A deterministic digits transformer (CPU, full batch, fixed seed)."""
    import torch

    from .golden.transformer import TransformerClassifier
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    cfg = dict(DEMO_CONFIG, **(config or {}))
    model = TransformerClassifier(**cfg)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.from_numpy(np.asarray(x_train, np.float32)).view(-1, cfg["seq_len"],
                                                               cfg["in_features"])
    y = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def _bf16_values(codes):
    return (np.asarray(codes, np.uint64).astype(np.uint32) << 16).view(np.float32)


def run_transformer_demo(output: Path, *, simulator="verilator", limit=None, stages=1) -> int:
    """Train, generate into ``output``, stream the test split (or its first ``limit``
    images) and compare; returns a process exit status."""
    import torch

    from .demo_mlp import digits_split
    from .golden.transformer import from_torch, golden_logits
    from .hdl.transformer_design import write_transformer_design
    from .sim.transformer_run import check_sequences
    t0 = time.perf_counter()
    x_train, x_test, y_train, y_test = digits_split()
    model = train_digits_transformer(x_train, y_train)
    q = from_torch(model)
    t_train = time.perf_counter() - t0
    x = torch.from_numpy(x_test).view(-1, 8, 8)
    with torch.no_grad():
        ref = model(x).numpy()
    tokens = x.to(torch.float8_e4m3fn).view(torch.uint8).numpy().astype(np.uint64)
    expected = golden_logits(q, tokens)[:, 0]
    print(f"trained in {t_train:.1f} s; float model {np.mean(ref.argmax(1) == y_test):.2%}, "
          f"neuron recipe (golden) {np.mean(_bf16_values(expected).argmax(1) == y_test):.2%} "
          f"on {len(y_test)} test images; largest logit difference "
          f"{np.max(np.abs(_bf16_values(expected) - ref)):.3f}")
    t1 = time.perf_counter()
    report = write_transformer_design(q, output, stages=stages, force=True,
                                      command="spikegate demo --transformer")
    print(f"generated {Path(output) / report['verilog']} in {time.perf_counter() - t1:.1f} s: "
          f"{report['neurons']:,} neurons, {report['cycles_per_sequence']:,} cycles per image")
    n = len(tokens) if limit is None else min(limit, len(tokens))
    text = (Path(output) / report["verilog"]).read_text()
    result, _ = check_sequences(q, text, report["top"], tokens[:n], simulator=simulator,
                                expected=expected[:n, None], build="long",
                                shards=min(2, os.cpu_count() or 1))
    hw = _bf16_values(expected[:n]).argmax(1)
    print(f"{simulator}: {n} test images, {n * 10} logits bit-identical with the golden "
          f"(build {result.build_seconds:.0f} s, {result.cycles:,} cycles in "
          f"{result.sim_seconds:.0f} s on {min(2, os.cpu_count() or 1)} simulator "
          f"process(es)); hardware accuracy {np.mean(hw == y_test[:n]):.2%}, "
          f"float model {np.mean(ref[:n].argmax(1) == y_test[:n]):.2%} on these images")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0
