"""PyTorch golden for the rounding accumulation modes (``fp32``, ``fp16``, ``fp8``).

Torch does the operations the hardware does, in the same order
(:mod:`spikegate.gen.float_dot`):

* products: ``fp32``: ``x.float() * w.float()`` (exact); ``fp16``: ``x.half() * w.half()``
  (torch rounds the exact float32 product once); ``fp8``: ``(x.float() * w.float()).to(fp8)``;
* additions in the accumulator dtype: ``a + b`` on float32 / float16 tensors (torch's float16
  add goes through float32, which has ``2*11 + 2`` bits, so it is correctly rounded);
  FP8 has no ``+`` in torch, so ``(a.float() + b.float()).to(fp8)``, exact-then-one-rounding;
* order ``tree`` (pairwise levels, odd one out moves up) or ``sequential``; the bias is
  widened exactly to the accumulator dtype and added last;
* the accumulator cast to the output dtype (one rounding when narrower).

Under a policy other than ``torch`` (which only torch's own casts implement) every FP8
rounding comes from the exact tables of :mod:`spikegate.golden.fp8` instead. Results are
codes with NaN canonical.
"""

from __future__ import annotations

import numpy as np
import torch

from .dot import get_out_format
from .fp8 import (add_table, canonicalize_nan, check_policy, float16_bits_to_fp8,
                  float32_bits_to_fp8, get_format, mul_table)
from .torch_ref import torch_dtype

__all__ = ["torch_dot", "torch_linear"]


def _dtype(out):
    return {"fp32": torch.float32, "fp16": torch.float16}.get(out.name) or torch_dtype(out)


def _codes(out, t):
    """Codes (uint64) of a tensor in ``out``'s dtype, NaN canonical."""
    if out.is_fp8:
        return canonicalize_nan(out, t.view(torch.uint8).numpy()).astype(np.uint64)
    if out.width == 32:
        bits = t.view(torch.int32).numpy().view(np.uint32).astype(np.uint64)
        nan = torch.isnan(t).numpy()
        return np.where(nan, np.uint64(out.canonical_nan), bits)
    bits = t.view(torch.int16).numpy().view(np.uint16).astype(np.uint64)
    return np.where(torch.isnan(t).numpy(), np.uint64(out.canonical_nan), bits)


def torch_dot(fmt, x, w, bias=None, *, accum="fp32", order="tree", out=None, policy="torch"):
    """Dot products over the last axis of FP8 code arrays ``x``, ``w`` (broadcast), with
    the rounding accumulation ``accum`` in ``order``; returns output codes."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    acc = get_out_format({"fp32": "fp32", "fp16": "fp16", "fp8": fmt.name}[accum])
    out = get_out_format(out or acc.name)
    x, w = np.broadcast_arrays(np.asarray(x, dtype=np.uint8), np.asarray(w, dtype=np.uint8))
    dt8 = torch_dtype(fmt)
    X = torch.from_numpy(np.ascontiguousarray(x)).view(dt8)
    W = torch.from_numpy(np.ascontiguousarray(w)).view(dt8)
    exact = policy != "torch"
    if accum == "fp8":
        if exact:
            prods = torch.from_numpy(mul_table(fmt, policy)[x, w].astype(np.uint8)).view(dt8)
        else:
            prods = (X.float() * W.float()).to(dt8)
    elif accum == "fp16":
        prods = X.half() * W.half()
    else:
        prods = X.float() * W.float()
    terms = list(prods.unbind(-1))

    def add(a, b):
        if accum != "fp8":
            return a + b
        if exact:
            ca, cb = a.view(torch.uint8).numpy(), b.view(torch.uint8).numpy()
            return torch.from_numpy(add_table(fmt, policy)[ca, cb].astype(np.uint8)).view(dt8)
        return (a.float() + b.float()).to(dt8)

    if order == "tree":
        while len(terms) > 1:
            nxt = [add(terms[2 * k], terms[2 * k + 1]) for k in range(len(terms) // 2)]
            if len(terms) % 2:
                nxt.append(terms[-1])
            terms = nxt
        total = terms[0]
    elif order == "sequential":
        total = terms[0]
        for t in terms[1:]:
            total = add(total, t)
    else:
        raise ValueError(f"unknown order {order!r}: choose tree or sequential")
    if bias is not None:
        B = torch.from_numpy(np.array(
            np.broadcast_to(np.asarray(bias, dtype=np.uint8), total.shape))).view(dt8)
        total = add(total, B if accum == "fp8" else B.to(_dtype(acc)))
    if out.name == acc.name:
        return _codes(out, total)
    if out.is_fp8 and exact:
        if acc.is_fp8:                      # fp8 -> other fp8 through float32
            wide = total.float().view(torch.int32).numpy().view(np.uint32)
            return float32_bits_to_fp8(out, wide, policy).astype(np.uint64)
        if acc.width == 32:
            wide = total.view(torch.int32).numpy().view(np.uint32)
            return float32_bits_to_fp8(out, wide, policy).astype(np.uint64)
        wide = total.view(torch.int16).numpy().view(np.uint16)
        return float16_bits_to_fp8(out, wide, policy).astype(np.uint64)
    src = total.float() if acc.is_fp8 else total
    if out.is_fp8 and acc.width == 16:
        src = total.float()                          # exact widening, then one rounding
    return _codes(out, src.to(_dtype(out)))


def torch_linear(fmt, x, weight, bias=None, *, accum="fp32", order="tree", out=None,
                 policy="torch"):
    """``y[b, m]`` = :func:`torch_dot` of ``x[b]`` and ``weight[m]`` (+ ``bias[m]``)."""
    x = np.asarray(x)[:, None, :]
    weight = np.asarray(weight)[None, :, :]
    b = None if bias is None else np.asarray(bias)[None, :]
    return torch_dot(fmt, x, weight, b, accum=accum, order=order, out=out, policy=policy)
