"""The embedded default: an FP8 MLP on scikit-learn's handwritten digits, in neurons, on Verilator.

1. ``sklearn.datasets.load_digits`` (1,797 8x8 images, shipped with scikit-learn), split
   70/30 with a fixed seed; pixels ``0..16`` become ``pixel/16``, exact in E4M3.
2. A 64-32-10 MLP (Linear, ReLU, Linear) trained deterministically with torch on the CPU
   (fixed seed, full-batch Adam), then cast to FP8 E4M3 with torch's cast (policy ``torch``).
3. :func:`~spikegate.hdl.model.from_torch`: hidden layer = exact (Kulisch) dot products rounded
   once to E4M3 + the FP8 ReLU unit; output layer = exact dot products rounded once to FP32.
4. Generated as a time-multiplexed stream design (one exact multiply-accumulate lane per
   layer, weights in ROM, valid/ready streams) into ``build/demo/mlp``
   (:func:`~spikegate.hdl.stream_design.write_stream_design`: Verilog, report, layers.json).
5. Every test image streamed through the Verilog on Verilator (cocotb, random backpressure);
   every logit compared bit for bit with the torch FP8 reference model (and with the exact
   torch-free golden); accuracy printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run_mlp_demo", "train_digits_mlp", "digits_split"]

HIDDEN = 32
SEED = 0


def digits_split():
    """``(x_train, y_train, x_test, y_test)``: pixels scaled to [0, 1], fixed split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    x = data.data.astype(np.float32) / 16.0
    return train_test_split(x, data.target, test_size=0.3, random_state=SEED,
                            stratify=data.target)


def train_digits_mlp(x_train, y_train, *, hidden=HIDDEN, steps=400, seed=SEED):
    """A deterministic 64-hidden-10 MLP (CPU, full batch, fixed seed)."""
    import torch
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt = torch.from_numpy(x_train)
    yt = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
    return model.eval()


def run_mlp_demo(output: Path, *, simulator="verilator", mac=8, stages=2, limit=None) -> int:
    """Train, cast, generate into ``output`` (a streamed design directory: ``spikegate
    verify``/``inspect``/``synth`` work on it), co-simulate every test image; 0 when every
    logit matches the torch FP8 reference bit for bit."""
    import torch

    from .golden.dot import decode_out
    from .hdl.model import from_torch, quantize, reference, torch_reference
    from .hdl.report import write_report_files
    from .sim.stream_runner import run_stream
    from .hdl.stream_design import write_stream_design
    from .sim.stream_runner import pack_payloads, unpack_payloads

    t_start = time.perf_counter()
    x_train, x_test, y_train, y_test = digits_split()
    if limit:
        x_test, y_test = x_test[:limit], y_test[:limit]
    model = train_digits_mlp(x_train, y_train)
    with torch.no_grad():
        float_acc = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    layers = from_torch(model, fmt="e4m3", accum="exact", out_format="fp32")
    x_codes = quantize(torch.from_numpy(x_test), "e4m3").astype(np.int64)
    t_train = time.perf_counter()

    output = Path(output)
    report = write_stream_design(
        output, layers, top="digits_mlp", unit="mlp", mac=mac, stages=stages, force=True,
        command="spikegate demo (make demo)",
        extra={"model": f"64-{HIDDEN}-10 MLP trained on load_digits by spikegate.demo_mlp",
               "weight_cast": "torch (RNE, e4m3 saturating)", "test_images": int(len(x_codes)),
               "float_accuracy": float_acc})
    text = (output / report["verilog"]).read_text()
    t_gen = time.perf_counter()
    golden = reference(layers, x_codes)
    tref = torch_reference(layers, x_codes)
    agree = all(np.array_equal(a, b) for a, b in zip(golden, tref))
    logits_ref = tref[-1]
    fp8_acc = float((np.nanargmax(decode_out("fp32", logits_ref).reshape(logits_ref.shape), 1)
                     == y_test).mean())
    t_ref = time.perf_counter()

    result = run_stream(verilog=text, top=report["top"], in_width=64 * 8, out_width=10 * 32,
                        payloads=pack_payloads(x_codes, 8), simulator=simulator, seed=1)
    got = unpack_payloads(result.outputs, 10, 32)
    t_sim = time.perf_counter()
    mismatches = int((got != logits_ref).sum())
    hw_pred = np.nanargmax(decode_out("fp32", got).reshape(got.shape), 1)
    hw_acc = float((hw_pred == y_test).mean())
    report.update({
        "fp8_reference_accuracy": fp8_acc, "hardware_accuracy": hw_acc,
        "logits_compared": int(got.size), "logit_mismatches": mismatches,
        "golden_equals_torch_reference": agree, "simulator": simulator,
        "cycles": result.cycles,
        "seconds": {"train": round(t_train - t_start, 2), "generate": round(t_gen - t_train, 2),
                    "reference": round(t_ref - t_gen, 2), "build": round(result.build_seconds, 2),
                    "simulate": round(t_sim - t_ref - result.build_seconds, 2)},
    })
    write_report_files(output, report)
    print(f"FP8 MLP 64-{HIDDEN}-10 on load_digits: {len(x_codes)} test images")
    for lay in report["layers"]:
        print(f"  {lay['name']}: {lay['in_features']} -> {lay['out_features']} "
              f"({lay['out_format']}{' + ReLU' if lay['relu'] else ''}), {lay['form']}, "
              f"{lay['cycles_per_vector']} cycles/vector, {lay['neurons']} neurons, "
              f"{lay['synapses']} synapses, depth {lay['depth']}")
    print(f"  accuracy: float32 model {float_acc:.4f}, FP8 reference {fp8_acc:.4f}, "
          f"hardware ({simulator}) {hw_acc:.4f}")
    print(f"  {got.size} logits compared with the torch FP8 reference: {mismatches} mismatches"
          f"; golden == torch reference: {agree}")
    print(f"  {result.cycles} cycles; build {result.build_seconds:.1f} s, "
          f"simulation {t_sim - t_ref - result.build_seconds:.1f} s; wrote "
          f"{output / report['verilog']} (`spikegate verify {output}` re-checks it)")
    ok = mismatches == 0 and agree
    print("MLP demo passed: every logit bit-identical to the torch FP8 reference"
          if ok else "MLP demo FAILED")
    return 0 if ok else 1
