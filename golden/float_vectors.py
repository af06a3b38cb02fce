"""TestFloat-style operands for float units whose input space is too large to enumerate.

Corner codes cross exponent patterns (zero/subnormal field, the smallest normals, around
the bias, the largest finite exponents, the all-ones field) with significand patterns (zero,
one, two, the top bit, all ones, all ones but one, alternating bits, the top bits only), in
both signs. Binary ops take every pair of corner codes (ties, cancellations, overflow and
underflow thresholds and every special-value cross arise among them), then operands near
each other (``b = a +- k`` codes and ``b`` with ``a``'s exponent shifted: deep
cancellations and alignments), then uniform random codes. Seeded; numpy only.
"""

from __future__ import annotations

import numpy as np

from .formats import get_format

__all__ = ["corner_codes", "float_operands", "vector_rows"]


def corner_codes(fmt) -> np.ndarray:
    fmt = get_format(fmt)
    M, top = fmt.man_bits, fmt.exp_all
    exps = sorted({0, 1, 2, 3, fmt.bias - 1, fmt.bias, fmt.bias + 1, top - 2, top - 1, top}
                  & set(range(top + 1)))
    ones = (1 << M) - 1
    alt = int("10" * M, 2) & ones
    sigs = sorted({0, 1, 2, 3, 1 << (M - 1), ones, ones - 1, alt, alt >> 1,
                   ones ^ (ones >> 2), (1 << (M - 1)) | 1})
    codes = [(s << (fmt.width - 1)) | (e << M) | m for s in (0, 1) for e in exps for m in sigs]
    return np.unique(np.array(codes, dtype=np.uint64))


def float_operands(fmt, arity: int, count: int, *, seed: int = 0) -> list[np.ndarray]:
    """``arity`` code arrays of ``count`` operands (at least every corner pair)."""
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    corners = corner_codes(fmt)
    full = np.uint64((1 << fmt.width) - 1)
    if arity == 1:
        base = [corners]
    else:
        a, b = np.meshgrid(corners, corners, indexing="ij")
        base = [a.reshape(-1), b.reshape(-1)]
    if count < len(base[0]):                      # a seeded sample of the corner crosses
        pick = np.sort(rng.choice(len(base[0]), count, replace=False))
        base = [x[pick] for x in base]
    rest = max(count - len(base[0]), 0)
    n_near, n_rand = rest // 2, rest - rest // 2
    a = rng.integers(0, 1 << fmt.width, n_near, dtype=np.uint64)
    if arity == 1:
        near = [a]
    else:
        delta = rng.integers(-4, 5, n_near).astype(np.int64)
        shift = rng.integers(0, fmt.man_bits + 4, n_near).astype(np.int64)
        flip = rng.integers(0, 2, n_near).astype(np.uint64) << np.uint64(fmt.width - 1)
        mode = rng.integers(0, 2, n_near)
        e_shift = (shift << fmt.man_bits) * np.where(rng.integers(0, 2, n_near) == 1, 1, -1)
        b = np.where(mode == 1, a.astype(np.int64) + delta, a.astype(np.int64) + e_shift)
        b = (b.astype(np.uint64) & full) ^ flip
        near = [a, b]
    rand = [rng.integers(0, 1 << fmt.width, n_rand, dtype=np.uint64) for _ in range(arity)]
    return [np.concatenate([x, y, z]) for x, y, z in zip(base, near, rand)]


def vector_rows(directed, count, n, rng, *, scale, spread) -> np.ndarray:
    """``count x n`` float64 values for the vector units: the ``directed`` rows first, then
    random normals scaled per vector by ``2^U(scale)`` and, in a third of the vectors, per
    element by ``2^U(spread)`` too (wide ranges within a vector)."""
    rows = list(directed)[:count]
    left = count - len(rows)
    if left > 0:
        v = rng.standard_normal((left, n)) * 2.0 ** rng.uniform(*scale, (left, 1))
        wide = rng.random(left) < 1 / 3
        v[wide] *= 2.0 ** rng.uniform(*spread, (int(wide.sum()), n))
        rows += list(v)
    return np.array(rows, dtype=np.float64).reshape(-1, n)
