"""Dot products that round at every step: the ``fp32``, ``fp16`` and ``fp8`` accumulation modes.

Each product ``x_i * w_i`` is rounded once into the accumulator format
(:func:`~.float_add.fp8_product`; the FP8 multiplier for ``fp8``), the bias converted to
it exactly, and the terms are summed by correctly rounded adders (:func:`~.float_add.float_add`;
the FP8 adder for ``fp8``) in one of two documented orders:

``tree``
    pairwise: level after level, partial sums ``(0,1), (2,3), ...`` are added; an odd one
    out moves up unchanged (:func:`~.dot.tree_pairs`); the bias is added last.
``sequential``
    ``((p0 + p1) + p2) + ...``, then the bias.

The accumulator is converted to the output format at the end (rounding when narrower).
:mod:`spikegate.golden.torch_dot` does the same operations in the same order with torch.
Depth: ``D_mul + ceil(log2 N) * D_add`` (tree) versus ``D_mul + (N - 1) * D_add``.
"""

from __future__ import annotations

from functools import lru_cache

from ..golden.dot import get_out_format
from .builder import NetlistBuilder
from .float_add import float_add, float_convert, fp8_product
from .fp8.fields import unpack

__all__ = ["fp_dot", "acc_format"]


def acc_format(fmt, accum):
    return get_out_format({"fp32": "fp32", "fp16": "fp16", "fp8": fmt.name}[accum])


@lru_cache(maxsize=None)
def _fp8_units(fmt_name, policy):
    """The FP8 mode's product and adder: the depth-5 multiplier, since every level of it
    sits on the path of every output."""
    from .fp8 import build_fp8_add, build_fp8_mul_shallow
    return build_fp8_mul_shallow(fmt_name, policy=policy), build_fp8_add(fmt_name,
                                                                        policy=policy)


def _const_acc_code(fmt, acc, code):
    """Bias code converted exactly to the accumulator format (a constant)."""
    from ..golden.fp8 import fp8_to_float16_bits, fp8_to_float32_bits
    if acc.is_fp8:
        return code
    return int(fp8_to_float32_bits(fmt, code) if acc.width == 32 else
               fp8_to_float16_bits(fmt, code))


def fp_dot(b: NetlistBuilder, fmt, xs, ws, bias, out, policy, *, accum, order, name="dot",
           xbits=None):
    """Output bits of the dot product of unpacked operands, rounding at every step."""
    acc = acc_format(fmt, accum)
    out = get_out_format(out)
    use_fp8 = acc.is_fp8
    # the FP8 policy rules FP8 results; float16/float32 accumulators behave as torch's
    acc_policy = policy if use_fp8 else "torch"
    if use_fp8:
        mul_nl, add_nl = _fp8_units(fmt.name, policy)
    with b.block(name):
        terms = []
        for i, (X, W) in enumerate(zip(xs, ws)):
            with b.block(f"m{i}"):
                if use_fp8:
                    terms.append(b.embed(mul_nl, {"a": X.bits, "b": W.bits}, block="mul")["y"])
                else:
                    terms.append(fp8_product(b, fmt, acc, acc_policy, X, W))

        def add(u, v, tag):
            if use_fp8:
                return b.embed(add_nl, {"a": u, "b": v}, block=tag)["y"]
            return float_add(b, acc, acc_policy, u, v, name=tag)

        if order == "tree":
            level = 0
            while len(terms) > 1:
                nxt = [add(terms[2 * k], terms[2 * k + 1], f"t{level}_{k}")
                       for k in range(len(terms) // 2)]
                if len(terms) % 2:
                    nxt.append(terms[-1])
                terms = nxt
                level += 1
            total = terms[0]
        else:
            total = terms[0]
            for i, t in enumerate(terms[1:], 1):
                total = add(total, t, f"s{i}")
        if bias is not None:
            with b.block("bias"):
                if isinstance(bias, int):
                    bt = b.const(_const_acc_code(fmt, acc, bias), acc.width)
                elif use_fp8:
                    bt = tuple(bias)
                else:
                    Bf = unpack(b, fmt, bias)
                    One = unpack(b, fmt, b.const(fmt.one_code, 8))
                    bt = fp8_product(b, fmt, acc, acc_policy, Bf, One)
            total = add(total, bt, "bias_add")
        if out.name == acc.name:
            return tuple(total)
        with b.block("convert"):
            if use_fp8:                                  # exact widening (or fp8 -> fp8)
                F = unpack(b, fmt, total)
                One = unpack(b, fmt, b.const(fmt.one_code, 8))
                return fp8_product(b, fmt, out, policy, F, One)
            return float_convert(b, acc, out, policy, total)



