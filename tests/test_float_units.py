"""The any-format float units (fadd, fsub, fmul, fdiv, fsqrt, fconvert) through the registry.

Every op and format on the torch engine: FP8 exhaustively (all 65,536 pairs, all 256
inputs), 16-bit unary ops on all 65,536 inputs, binary 16/32-bit ops and custom formats on
TestFloat-style vectors (every cross of corner codes: >= 40,000 pairs) plus seeded random
ones, every policy. The goldens (torch, or the exact reference where torch has none) are
themselves checked against the torch-free exact reference (golden/float_ref.py).
"""

import numpy as np
import pytest

from spikegate.golden import float_ref
from spikegate.golden.float_vectors import corner_codes, float_operands
from spikegate.golden.formats import POLICIES, get_format
from spikegate.golden.torch_float import golden_convert, golden_op, torch_op
from spikegate.sim.check import assert_bit_exact
from spikegate.sim.regress import exhaustive_inputs, golden_outputs
from spikegate.sim.torch_engine import TorchEngine
from spikegate.sim.units import FLOAT_OPS, build_unit

WIDE = ("fp16", "bf16", "fp32", "e6m9")
#: TestFloat-style vectors per wide op and format (corner crosses first)
VECTORS = 60_000


def operands(op, fmt, seed=0):
    fmt = get_format(fmt)
    arity = FLOAT_OPS[op]
    if fmt.width * arity <= 16:
        return exhaustive_inputs(build_unit(op, fmt=fmt))
    cols = float_operands(fmt, arity, VECTORS, seed=seed)
    return dict(zip(("a", "b"), cols))


def run(netlist, inputs):
    got = TorchEngine(netlist).run(inputs)
    assert_bit_exact(inputs, {"y": got["y"]}, golden_outputs(netlist, inputs),
                     context=netlist.name, widths={"a": netlist.inputs["a"].__len__(),
                                                   "y": len(netlist.outputs["y"])})


@pytest.mark.parametrize("fmt", ("e4m3", "e5m2") + WIDE)
@pytest.mark.parametrize("op", tuple(FLOAT_OPS))
def test_op_bit_exact(op, fmt):
    netlist = build_unit(op, fmt=fmt)
    assert netlist.meta["format"] == get_format(fmt).name
    run(netlist, operands(op, fmt))


@pytest.mark.parametrize("policy", ("ocp", "satfinite"))
@pytest.mark.parametrize("fmt", ("e4m3", "fp16", "bf16"))
@pytest.mark.parametrize("op", ("fadd", "fmul", "fdiv"))
def test_policies(op, fmt, policy):
    netlist = build_unit(op, fmt=fmt, policy=policy)
    assert netlist.meta["policy"] == policy
    run(netlist, operands(op, fmt, seed=3))


@pytest.mark.parametrize("fmt", ("e4m3", "e5m2"))
@pytest.mark.parametrize("op", ("fadd", "fmul"))
def test_generic_architecture_on_fp8(op, fmt):
    """The any-format datapath itself (not the FP8-specialised one the registry picks)."""
    from spikegate.gen.float_add import build_fadd
    from spikegate.gen.float_mul import build_fmul
    netlist = (build_fadd if op == "fadd" else build_fmul)(fmt)
    run(netlist, exhaustive_inputs(netlist))


CONVERT = ("e4m3", "e5m2", "fp16", "bf16", "fp32")


@pytest.mark.parametrize("dst", CONVERT)
@pytest.mark.parametrize("src", CONVERT)
def test_fconvert(src, dst):
    if src == dst:
        with pytest.raises(ValueError, match="to itself"):
            build_unit("fconvert", fmt=src, to=dst)
        return
    netlist = build_unit("fconvert", fmt=src, to=dst, policy="satfinite" if dst == "e4m3"
                         else "torch")
    S = get_format(src)
    a = (np.arange(1 << S.width, dtype=np.uint64) if S.width <= 16
         else float_operands(S, 1, 100_000, seed=1)[0])
    run(netlist, {"a": a})


# -- the goldens against the exact reference --------------------------------------------

@pytest.mark.parametrize("op", tuple(FLOAT_OPS))
def test_binary64_units(op):
    """e11m52 (binary64, the internal format of the fp32 norms) on TestFloat-style vectors:
    its 63-bit magnitude comparisons take two neuron levels (gen/linear_form.WIDE_SUM), so
    every neuron sum stays exact in the engines."""
    netlist = build_unit(op, fmt="e11m52")
    cols = float_operands(get_format("e11m52"), FLOAT_OPS[op], 4000, seed=4)
    run(netlist, dict(zip(("a", "b"), cols)))


@pytest.mark.parametrize("fmt", ("e4m3", "e5m2", "fp16", "bf16", "fp32", "e11m52"))
@pytest.mark.parametrize("op", tuple(FLOAT_OPS))
def test_torch_agrees_with_exact_reference(op, fmt):
    arity = FLOAT_OPS[op]
    rng = np.random.default_rng(7)
    f = get_format(fmt)
    cols = float_operands(f, arity, 30_000, seed=5)
    cols = [np.concatenate([c, rng.integers(0, 1 << f.width, 20_000, dtype=np.uint64)])
            for c in cols]
    exact = float_ref.apply(op, f, *cols)
    ins = dict(zip(("a", "b"), cols))
    if op == "fsqrt" and fmt in ("fp16", "e11m52"):
        # torch's sqrt depends on its SIMD path (fp16: wrongly rounded on some AVX2 machines,
        # correct with AVX512; float64 with AVX512: sqrt(0.5) one ULP low): the golden is
        # the exact reference, never torch
        assert np.array_equal(golden_op(op, f, *cols), exact)
        return
    assert_bit_exact(ins, {"y": torch_op(op, f, *cols)}, {"y": exact},
                     context=f"torch {op} {fmt} vs exact reference",
                     widths={"a": f.width, "b": f.width, "y": f.width})


def test_fconvert_golden_agrees_with_exact_reference():
    for src in CONVERT:
        S = get_format(src)
        a = (np.arange(1 << S.width, dtype=np.uint64) if S.width <= 16
             else float_operands(S, 1, 20_000, seed=2)[0])
        for dst in CONVERT:
            if dst == src:
                continue
            exact = np.array([float_ref.convert(S, dst, int(x)) for x in a], dtype=np.uint64)
            assert_bit_exact({"a": a}, {"y": golden_convert(S, dst, a)}, {"y": exact},
                             context=f"{src} -> {dst}")


# Special values, one row per rule of the table in golden/float_ref.py (fp16 codes).
SPECIALS = [
    ("fadd", 0x7C00, 0xFC00, 0x7E00),      # inf - inf: NaN
    ("fadd", 0x8000, 0x8000, 0x8000),      # -0 + -0 = -0
    ("fadd", 0x3C00, 0xBC00, 0x0000),      # x - x = +0
    ("fsub", 0x8000, 0x0000, 0x8000),      # -0 - +0 = -0
    ("fmul", 0x0000, 0x7C00, 0x7E00),      # 0 * inf: NaN
    ("fmul", 0x8000, 0x3C00, 0x8000),      # -0 * 1 = -0
    ("fmul", 0x7BFF, 0x4000, 0x7C00),      # overflow: inf
    ("fmul", 0x0001, 0x3800, 0x0000),      # 2^-24 * 0.5: tie to even, +0
    ("fmul", 0x0001, 0x3E00, 0x0002),      # 2^-24 * 1.5: tie to even, up
    ("fdiv", 0x3C00, 0x0000, 0x7C00),      # 1 / +0 = inf
    ("fdiv", 0x3C00, 0x8000, 0xFC00),      # 1 / -0 = -inf
    ("fdiv", 0x0000, 0x0000, 0x7E00),      # 0 / 0: NaN
    ("fdiv", 0x7C00, 0x7C00, 0x7E00),      # inf / inf: NaN
    ("fdiv", 0xBC00, 0x7C00, 0x8000),      # -1 / inf = -0
    ("fsqrt", 0x8000, None, 0x8000),       # sqrt(-0) = -0
    ("fsqrt", 0xBC00, None, 0x7E00),       # sqrt(-1): NaN
    ("fsqrt", 0x7C00, None, 0x7C00),       # sqrt(inf) = inf
    ("fsqrt", 0x7C01, None, 0x7E00),       # NaN in: canonical NaN out
]


@pytest.mark.parametrize("op,a,b,expected", SPECIALS)
def test_special_values_table(op, a, b, expected):
    cols = [a] if b is None else [a, b]
    assert int(float_ref.apply(op, "fp16", *cols)[0]) == expected
    netlist = build_unit(op, fmt="fp16")
    got = int(TorchEngine(netlist).run(dict(zip(("a", "b"), ([c] for c in cols))))["y"][0])
    assert got == expected, f"{op}({a:#06x}, {b}) -> got {got:#06x} expected {expected:#06x}"


def test_corner_codes_cover_the_format():
    f = get_format("bf16")
    codes = corner_codes(f)
    assert {0, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x7F7F, 0x0080}.issubset(set(codes.tolist()))
    a, b = float_operands(f, 2, 45_000)
    assert len(a) == 45_000 and len(set(zip(a[:len(codes) ** 2].tolist(),
                                           b[:len(codes) ** 2].tolist()))) >= 40_000


@pytest.mark.parametrize("bad", ["e0m7", "e9m", "e12m3", "fp64", "E4M3FN"])
def test_bad_formats_are_one_line_errors(bad):
    with pytest.raises(ValueError, match=r"^unknown float format .*: choose e4m3, e5m2, fp16, "
                                         r"bf16, fp32 or eXmY"):
        build_unit("fadd", fmt=bad)


def test_policy_table_is_the_one_every_layer_reads():
    from spikegate.golden.formats import overflow_code
    assert overflow_code("fp16", "torch") == (0x7C00, True)
    assert overflow_code("fp16", "satfinite") == (0x7BFF, True)
    assert overflow_code("e4m3", "torch") == (0x7E, True)
    assert overflow_code("e4m3", "ocp") == (0x7F, False)
    for policy in POLICIES:                    # hardware overflow = golden overflow
        netlist = build_unit("fmul", fmt="bf16", policy=policy)
        got = int(TorchEngine(netlist).run({"a": [0x7F7F], "b": [0x4000]})["y"][0])
        assert got == int(float_ref.mul("bf16", 0x7F7F, 0x4000, policy))
