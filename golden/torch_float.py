"""PyTorch goldens of the any-format float units (``fadd`` ... ``fconvert``).

torch computes float16/bfloat16/FP8 arithmetic in float32 and rounds once; float32 has at
least ``2p + 2`` bits for every ``p <= 11``-bit significand, so that double rounding is
innocuous and ``(a.float() op b.float()).to(fmt)`` is the correctly rounded result (also
for division and square root). float32 itself is computed in float64 (``53 >= 2*24 + 2``)
and rounded once; ``e11m52`` (binary64) is float64 arithmetic itself. What torch does not have -- custom ``eXmY`` formats, and the overflow
policies other than ``torch`` for formats whose cast differs -- comes from the exact
reference :mod:`.float_ref`, which the tests cross-check against these on large sets.

Square root is the exception: torch's float32 ``sqrt`` on the CPU is not correctly rounded
(``torch.sqrt(torch.tensor(4094.0))`` gives ``63.984375``, one ULP above the correctly
rounded ``63.98437``, which turns fp16 ``sqrt(0x23ff)`` into ``0x3000`` instead of
``0x2fff``), so the ``fsqrt`` golden is the exact reference and torch is reported beside it.

NaN results are mapped to the format's canonical NaN (torch's NaN sign is not stable).
"""

from __future__ import annotations

import numpy as np
import torch

from . import float_ref
from .formats import FloatFormat, get_format, overflow_code

__all__ = ["torch_dtype_of", "golden_op", "torch_op", "torch_op_codes", "golden_convert",
           "has_torch_golden", "codes_to_tensor", "tensor_to_codes"]

def _flushes_denormals() -> bool:
    return bool((torch.tensor([2.0 ** -126]) / 4).item() == 0)


if _flushes_denormals():                         # subnormals are part of what is checked
    raise RuntimeError("torch flushes denormals (torch.set_flush_denormal(True) was called): "
                       "call torch.set_flush_denormal(False) before importing the goldens")


def torch_dtype_of(fmt: FloatFormat):
    name = fmt.torch_dtype_name
    return getattr(torch, name) if name else None


def _uint_dtype(width):
    return {8: torch.uint8, 16: torch.int16, 32: torch.int32, 64: torch.int64}[width]


def codes_to_tensor(fmt, codes):
    """A tensor of ``fmt``'s torch dtype holding the bit patterns ``codes``."""
    a = np.asarray(codes, dtype=np.uint64).astype({8: np.uint8, 16: np.uint16,
                                                   32: np.uint32, 64: np.uint64}[fmt.width])
    raw = torch.from_numpy(a.view({8: np.uint8, 16: np.int16, 32: np.int32,
                                   64: np.int64}[fmt.width]))
    return raw.view(torch_dtype_of(fmt))


def tensor_to_codes(fmt, t):
    """The bit patterns of ``t`` (uint64), NaNs as the canonical NaN of ``fmt``."""
    codes = t.contiguous().view(_uint_dtype(fmt.width)).numpy()
    codes = codes.view({8: np.uint8, 16: np.uint16, 32: np.uint32,
                        64: np.uint64}[fmt.width]).astype(np.uint64)
    nan = torch.isnan(t.float() if fmt.width == 8 else t).numpy()
    return np.where(nan, np.uint64(fmt.canonical_nan), codes)


def has_torch_golden(fmt, policy="torch") -> bool:
    """Whether torch computes ``fmt`` under ``policy`` (its own cast's overflow rule)."""
    fmt = get_format(fmt)
    if torch_dtype_of(fmt) is None:
        return False
    return policy == "torch" or overflow_code(fmt, policy) == overflow_code(fmt, "torch")


def _compute(fmt, op, *xs):
    wide = torch.float64 if fmt.width >= 32 else torch.float32
    xs = [x.to(wide) for x in xs]
    if op == "fadd":
        y = xs[0] + xs[1]
    elif op == "fsub":
        y = xs[0] - xs[1]
    elif op == "fmul":
        y = xs[0] * xs[1]
    elif op == "fdiv":
        y = xs[0] / xs[1]
    elif op == "fsqrt":
        y = torch.sqrt(xs[0])
    else:
        raise ValueError(f"unknown float op {op!r}: choose one of {', '.join(float_ref.OPS)}")
    return y.to(torch_dtype_of(fmt))


def golden_op(op: str, fmt, *codes, policy: str = "torch") -> np.ndarray:
    """Result codes (uint64) of ``op`` on code arrays: torch where it has the format and
    policy, else the exact reference."""
    fmt = get_format(fmt)
    if op == "fsqrt" or not has_torch_golden(fmt, policy):
        return float_ref.apply(op, fmt, *codes, policy=policy)
    return torch_op(op, fmt, *codes)


def torch_op(op: str, fmt, *codes) -> np.ndarray:
    """What torch computes for ``op`` (through float32, float64 for fp32), NaN canonical."""
    fmt = get_format(fmt)
    return tensor_to_codes(fmt, _compute(fmt, op, *(codes_to_tensor(fmt, c) for c in codes)))


def golden_convert(src, dst, codes, *, policy: str = "torch") -> np.ndarray:
    """``src`` codes cast to ``dst``: torch's cast (through float32 when neither side is
    float32, exact on the way in), or the exact reference."""
    src, dst = get_format(src), get_format(dst)
    if not (has_torch_golden(dst, policy) and torch_dtype_of(src) is not None):
        cols = np.asarray(codes, dtype=np.uint64).reshape(-1).tolist()
        return np.array([float_ref.convert(src, dst, c, policy) for c in cols], dtype=np.uint64)
    x = codes_to_tensor(src, codes)
    if src.width != 32 and dst.width != 32:
        x = x.float()                             # exact: every 8/16-bit value is a float32
    return tensor_to_codes(dst, x.to(torch_dtype_of(dst)))


_SIGNED = {8: torch.int8, 16: torch.int16, 32: torch.int32}


def torch_op_codes(op: str, fmt, *codes):
    """:func:`torch_op` on int64 code tensors, on their device (the exhaustive sweeps'
    golden, computed beside the engine on the GPU)."""
    fmt = get_format(fmt)
    w = fmt.width
    xs = [(c & ((1 << w) - 1)).to(torch.int64) for c in codes]
    xs = [torch.where(x >= 1 << (w - 1), x - (1 << w), x).to(_SIGNED[w]) for x in xs]
    xs = [x.view(torch.uint8) if w == 8 else x for x in xs]
    y = _compute(fmt, op, *(x.view(torch_dtype_of(fmt)) for x in xs))
    raw = y.view(torch.uint8 if w == 8 else _SIGNED[w]).to(torch.int64) & ((1 << w) - 1)
    nan = torch.isnan(y.float() if w == 8 else y)
    return torch.where(nan, torch.full_like(raw, fmt.canonical_nan), raw)
