"""The any-format behavioural float baselines (``hdl/baseline.py``: ``float_add_verilog``,
``float_mul_verilog``) are the same operations as the neuron-built ``fadd``/``fmul``: bit-exact
on Icarus against the torch golden on TestFloat-style operands (every corner cross is in
the pool; each run takes a seeded sample of them plus near-operand and uniform random
pairs), for fp16, bf16 and fp32; other policies, ``fsub`` and a custom format against the
exact reference. ``synth`` finds them through ``report["unit"]``.
"""

import numpy as np
import pytest

from spikegate.golden.float_vectors import corner_codes, float_operands
from spikegate.golden.formats import get_format
from spikegate.golden.torch_float import golden_op
from spikegate.hdl.baseline import (BaselineUnavailable, baseline_verilog, float_add_verilog,
                                    float_mul_verilog, fp8_add_verilog, fp8_mul_verilog)
from spikegate.sim.cocotb_runner import run_vectors

#: Vectors per (format, op): corner crosses, near operands and random pairs.
CORNERS, NEAR_RANDOM = 3000, 4000


def _operands(fmt, corners, near_random, seed):
    """A seeded sample of the corner crosses plus near-operand and random pairs."""
    fmt = get_format(fmt)
    n_corner = len(corner_codes(fmt)) ** 2               # the pool starts with every pair
    full = float_operands(fmt, 2, n_corner + near_random, seed=seed)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n_corner, min(corners, n_corner), replace=False))
    idx = np.concatenate([pick, np.arange(n_corner, n_corner + near_random)])
    return full[0][idx], full[1][idx]


def _verilog(op, top, fmt, policy):
    if op == "fmul":
        return float_mul_verilog(top, fmt, policy)
    return float_add_verilog(top, fmt, policy, subtract=op == "fsub")


def _check(op, fmt, policy, a, b, tmp_path):
    fmt = get_format(fmt)
    top = f"base_{op}_{fmt.name}_{policy}"
    src = tmp_path / f"{top}.v"
    src.write_text(_verilog(op, top, fmt, policy))
    expected = golden_op(op, fmt, a, b, policy=policy)
    W = fmt.width
    run_vectors(verilog=src, top=top, ports={"a": ("in", W), "b": ("in", W), "y": ("out", W)},
                vectors={"a": a, "b": b}, expected={"y": expected}, simulator="icarus",
                lanes=64, build_root=tmp_path / "sim")


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
@pytest.mark.parametrize("op", ["fadd", "fmul"])
def test_float_baseline_bit_exact_against_torch(op, fmt, tmp_path):
    a, b = _operands(fmt, CORNERS, NEAR_RANDOM, seed=11)
    assert len(a) >= 5000
    _check(op, fmt, "torch", a, b, tmp_path)


@pytest.mark.parametrize("op,fmt,policy", [
    ("fadd", "fp16", "satfinite"), ("fmul", "bf16", "satfinite"),
    ("fsub", "fp16", "torch"), ("fsub", "fp32", "torch"),
    ("fadd", "e6m5", "torch"), ("fmul", "e6m5", "torch"), ("fmul", "e3m4", "satfinite"),
])
def test_float_baseline_other_policies_ops_and_formats(op, fmt, policy, tmp_path):
    """Against the exact reference where torch does not compute it (about 1,200 vectors)."""
    a, b = _operands(fmt, 600, 600, seed=5)
    _check(op, fmt, policy, a, b, tmp_path)


def _report(unit, fmt, policy="torch"):
    W = get_format(fmt).width
    return {"unit": unit, "format": fmt, "policy": policy, "top": f"{unit}_{fmt}",
            "ports": {"a": {"dir": "in", "width": W}, "b": {"dir": "in", "width": W},
                      "y": {"dir": "out", "width": W}}}


def test_synth_finds_the_float_baselines_through_the_report_unit():
    top, text = baseline_verilog(_report("fadd", "fp16"))
    assert top == "fadd_fp16_baseline" and text == float_add_verilog(top, "fp16", "torch")
    top, text = baseline_verilog(_report("fmul", "bf16", "satfinite"))
    assert text == float_mul_verilog(top, "bf16", "satfinite")
    _, text = baseline_verilog(_report("fsub", "fp32"))
    assert text == float_add_verilog("fsub_fp32_baseline", "fp32", "torch", subtract=True)
    # FP8 formats keep the FP8 baselines (the ones tests/test_synth.py checks exhaustively)
    top, text = baseline_verilog(_report("fmul", "e4m3"))
    assert text == fp8_mul_verilog(top, "e4m3", "torch")
    top, text = baseline_verilog(_report("fadd", "e5m2", "ocp"))
    assert text == fp8_add_verilog(top, "e5m2", "ocp")
    with pytest.raises(BaselineUnavailable, match="no behavioural baseline is written for "
                                                   "unit 'fdiv'"):
        baseline_verilog(_report("fdiv", "fp16"))
