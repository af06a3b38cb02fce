"""PyTorch golden models for FP8 multiply and add.

The hardware is proven bit-exact against what PyTorch computes, so this module
produces FP8 results *with torch itself*: operands are uint8 bit patterns
viewed as ``torch.float8_*``, widened to float32, combined, and cast back.
Widening is exact and float32 has more than ``2p + 2`` bits for every FP8
precision ``p``, so this is the correctly rounded result: the same thing the
exact reference :mod:`spikegate.golden.fp8` computes under its ``"torch"``
policy.  (``+`` is not implemented on float8 tensors, hence the detour.)

Torch's cast is the part that changed between releases (E4M3 overflow gave NaN
in older versions and saturates in 2.13), so :func:`probe_torch` runs at import
and refuses to continue with a torch that casts differently from what the
``"torch"`` policy assumes.  Other policies (``"ocp"``, ``"satfinite"``) have no
torch equivalent and are answered from the exact reference tables.

All results are ``uint8`` code arrays with NaN canonicalised to ``0x7F``,
because torch's NaN sign is not stable.
"""

from __future__ import annotations

import numpy as np
import torch

from .fp8 import (
    Fp8Format,
    add_table,
    canonicalize_nan,
    check_bits,
    check_codes,
    check_policy,
    get_format,
    mul_table,
)

__all__ = [
    "torch_dtype",
    "torch_mul",
    "torch_add",
    "torch_float32_bits_to_fp8",
    "torch_float16_bits_to_fp8",
    "torch_fp8_to_float_bits",
    "torch_exact_product_bits",
    "golden_mul",
    "golden_add",
    "probe_torch",
]

#: The torch release whose cast behaviour the ``"torch"`` policy describes.
PINNED_TORCH = "2.13.0"


def torch_dtype(fmt) -> torch.dtype:
    """The ``torch.float8_*`` dtype of an FP8 format (``e4m3`` -> ``float8_e4m3fn``)."""
    return getattr(torch, get_format(fmt).torch_dtype_name)


def _operands(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = check_codes(a, "a")
    b = check_codes(b, "b")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(
            f"a has shape {a.shape} and b has shape {b.shape}, which do not broadcast: "
            f"pass arrays of equal or broadcastable shapes") from None
    # np.array(order='C') rather than np.ascontiguousarray, which turns 0-d into 1-d
    return np.array(a, order="C"), np.array(b, order="C")


def _as_float32(fmt: Fp8Format, codes: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(codes).view(torch_dtype(fmt)).float()


def _to_codes(fmt: Fp8Format, x: torch.Tensor) -> np.ndarray:
    return canonicalize_nan(fmt, x.to(torch_dtype(fmt)).view(torch.uint8).numpy())


def torch_mul(fmt, a, b) -> np.ndarray:
    """FP8 product computed by torch: ``(a.float() * b.float()).to(fp8)``.

    Parameters
    ----------
    fmt : str or Fp8Format
        ``"e4m3"`` or ``"e5m2"``.
    a, b : array_like of int
        FP8 bit patterns (0..255), broadcast against each other.

    Returns
    -------
    numpy.ndarray
        ``uint8`` codes, NaN canonicalised.
    """
    fmt = get_format(fmt)
    a, b = _operands(a, b)
    return _to_codes(fmt, _as_float32(fmt, a) * _as_float32(fmt, b))


def torch_add(fmt, a, b) -> np.ndarray:
    """FP8 sum computed by torch: ``(a.float() + b.float()).to(fp8)``.

    ``+`` is not implemented on float8 tensors, so the sum goes through
    float32, where it is exact enough that one final rounding is correct.
    Arguments and result as in :func:`torch_mul`.
    """
    fmt = get_format(fmt)
    a, b = _operands(a, b)
    return _to_codes(fmt, _as_float32(fmt, a) + _as_float32(fmt, b))


def torch_float32_bits_to_fp8(fmt, bits) -> np.ndarray:
    """Torch's cast of float32 values (given as bit patterns) to FP8 codes, NaN canonicalised."""
    fmt = get_format(fmt)
    x = torch.from_numpy(check_bits(bits, 32, "float32").view(np.float32))
    return _to_codes(fmt, x)


def torch_float16_bits_to_fp8(fmt, bits) -> np.ndarray:
    """Torch's cast of float16 values (given as bit patterns) to FP8 codes, NaN canonicalised."""
    fmt = get_format(fmt)
    x = torch.from_numpy(check_bits(bits, 16, "float16").view(np.float16))
    return _to_codes(fmt, x)


def _float_bits(x: torch.Tensor) -> np.ndarray:
    """Bit patterns of a float32/float16 tensor, NaN canonical (``0x7FC00000`` / ``0x7E00``)."""
    if x.dtype == torch.float32:
        bits = x.view(torch.int32).numpy().view(np.uint32)
        return np.where(torch.isnan(x).numpy(), np.uint32(0x7FC00000), bits)
    bits = x.view(torch.int16).numpy().view(np.uint16)
    return np.where(torch.isnan(x).numpy(), np.uint16(0x7E00), bits)


def torch_fp8_to_float_bits(fmt, codes, width: int = 32) -> np.ndarray:
    """Torch's widening of FP8 codes to float32 (``width=32``) or float16 bit patterns."""
    fmt = get_format(fmt)
    if width not in (16, 32):
        raise ValueError(f"width must be 16 or 32, not {width!r}")
    x = torch.from_numpy(np.array(check_codes(codes, "codes"), order="C")).view(torch_dtype(fmt))
    return _float_bits(x.float() if width == 32 else x.half())


def torch_exact_product_bits(fmt, a, b) -> np.ndarray:
    """``a.float() * b.float()`` as float32 bit patterns: every FP8 product is exact in
    float32, so this is the exact product (NaN canonical)."""
    fmt = get_format(fmt)
    a, b = _operands(a, b)
    return _float_bits(_as_float32(fmt, a) * _as_float32(fmt, b))


def _table_lookup(table: np.ndarray, a, b) -> np.ndarray:
    a, b = _operands(a, b)
    return table[a.astype(np.intp), b.astype(np.intp)]


def golden_mul(fmt, a, b, policy: str = "torch") -> np.ndarray:
    """Golden FP8 product under an overflow policy.

    ``"torch"`` asks torch itself (:func:`torch_mul`); ``"ocp"`` and
    ``"satfinite"`` have no torch equivalent and come from the exact reference
    table :func:`~spikegate.golden.fp8.mul_table`.  Returns ``uint8`` codes.
    """
    fmt = get_format(fmt)
    policy = check_policy(policy)
    if policy == "torch":
        return torch_mul(fmt, a, b)
    return _table_lookup(mul_table(fmt, policy), a, b)


def golden_add(fmt, a, b, policy: str = "torch") -> np.ndarray:
    """Golden FP8 sum under an overflow policy (see :func:`golden_mul`)."""
    fmt = get_format(fmt)
    policy = check_policy(policy)
    if policy == "torch":
        return torch_add(fmt, a, b)
    return _table_lookup(add_table(fmt, policy), a, b)


def _f32(x: float) -> int:
    return int(np.array(x, dtype=np.float32).view(np.uint32))


#: (float32 bits, expected FP8 code after torch's cast) per format: the
#: behaviour the "torch" policy relies on.  NaN results are canonical (0x7F).
_PROBE_CASES = {
    "e4m3": [
        (_f32(448.0), 0x7E),            # max finite
        (_f32(464.0), 0x7E),            # tie 448/480: even mantissa is 448
        (_f32(480.0), 0x7E),            # overflow saturates (older torch: NaN)
        (_f32(-1e6), 0xFE),             # overflow saturates, sign kept
        (0x7F800000, 0x7E),             # +inf saturates
        (0xFF800000, 0xFE),             # -inf saturates
        (_f32(1.0625), 0x38),           # tie rounds down to even (1.0)
        (_f32(1.1875), 0x3A),           # tie rounds up to even (1.25)
        (_f32(-2.0 ** -10), 0x80),      # tie to zero keeps sign
        (0x7FC00000, 0x7F),             # NaN
    ],
    "e5m2": [
        (_f32(57344.0), 0x7B),          # max finite
        (0x476FFFFF, 0x7B),             # just below the 61440 tie
        (_f32(61440.0), 0x7C),          # tie 57344/65536: even is 65536 -> +inf
        (_f32(-1e6), 0xFC),             # overflow gives -inf (no saturation)
        (0x7F800000, 0x7C),             # +inf
        (_f32(1.125), 0x3C),            # tie rounds down to even
        (_f32(1.375), 0x3E),            # tie rounds up to even
        (0x7FC00000, 0x7F),             # NaN
    ],
}


def _torch_cast(fmt: Fp8Format, bits: np.ndarray) -> np.ndarray:
    """The cast :func:`probe_torch` checks (a seam the tests replace)."""
    return torch_float32_bits_to_fp8(fmt, bits)


def probe_torch() -> None:
    """Check that the installed torch casts to FP8 as the ``"torch"`` policy assumes.

    Casts a handful of float32 values per format (overflow, infinities, ties,
    signed zero, NaN) and compares with the codes torch 2.13.0 produces.

    Raises
    ------
    RuntimeError
        On the first mismatch, naming the installed ``torch.__version__``.
    """
    for name, cases in _PROBE_CASES.items():
        fmt = get_format(name)
        bits = np.array([c[0] for c in cases], dtype=np.uint32)
        got = _torch_cast(fmt, bits)
        for (b, want), g in zip(cases, np.asarray(got).tolist()):
            if g != want:
                value = float(np.array(b, dtype=np.uint32).view(np.float32))
                raise RuntimeError(
                    f"torch {torch.__version__} casts float32 {value!r} (0x{b:08x}) to "
                    f"torch.{fmt.torch_dtype_name} as 0x{g:02x}, but spikegate's 'torch' FP8 "
                    f"policy expects 0x{want:02x}: install torch=={PINNED_TORCH}")


probe_torch()
