"""Bit-exact comparison of simulated outputs against expected ones, for every engine.

Arrays are indexed by vector: ``inputs[name][i]`` is bus *name* of vector *i*. Buses up to
64 bits wide are numpy integer arrays (any signedness; bool works too); wider buses are
object arrays of Python ints. What is compared is the *bit pattern* of each output bus:
a negative value stands for its two's complement at the bus width (so ``-1`` on an 8-bit
bus equals ``0xff``), a value at or above ``2**width`` is simply a mismatch.

Values an engine could not resolve (Verilog X/Z) are passed as *unknown*: per output bus,
an array of bit masks (1 = that bit was X or Z). Such a vector always mismatches and is
shown nibble by nibble, an ``X`` for any nibble holding an unknown bit (``got 0xX5``).

Numpy only: no simulator, torch or Amaranth import, so every engine can share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MismatchError", "Mismatch", "assert_bit_exact", "first_mismatches", "mismatch_mask",
           "format_hex"]


class MismatchError(AssertionError):
    """Outputs differ from the expected ones; the message lists the first mismatches.

    Attributes: ``count`` (mismatching vectors), ``total`` (vectors compared) and
    ``mismatches`` (the reported :class:`Mismatch` records).
    """

    def __init__(self, message: str, *, count: int = 0, total: int = 0,
                 mismatches: list[Mismatch] | None = None) -> None:
        super().__init__(message)
        self.count = count
        self.total = total
        self.mismatches = mismatches or []


@dataclass(frozen=True)
class Mismatch:
    """One mismatching vector: its index, all its inputs and the differing output buses."""

    index: int
    inputs: dict[str, int]
    #: differing output buses only, in the order of *expected*
    got: dict[str, int]
    expected: dict[str, int]
    #: X/Z bit masks of the differing buses (0 when fully known)
    unknown: dict[str, int] = field(default_factory=dict)
    #: bus widths used for formatting
    widths: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """``#17: a=0x3c b=0x41 -> y: got 0x45 expected 0x44``."""
        ins = " ".join(f"{k}={format_hex(v, self.widths.get(k, 1))}" for k, v in self.inputs.items())
        outs = ", ".join(
            f"{k}: got {format_hex(self.got[k], self.widths.get(k, 1), self.unknown.get(k, 0))}"
            f" expected {format_hex(self.expected[k], self.widths.get(k, 1))}"
            for k in self.got
        )
        return f"#{self.index}: {ins} -> {outs}" if ins else f"#{self.index}: {outs}"


def format_hex(value: int, width: int, unknown: int = 0) -> str:
    """``0x`` + hex zero-padded to *width* bits; nibbles with an *unknown* bit print ``X``."""
    digits = max(1, (width + 3) // 4)
    value = int(value)
    if value < 0:  # bit pattern at the bus width
        value &= (1 << max(width, value.bit_length() + 1)) - 1
    text = f"{value:0{digits}x}"
    if unknown:
        chars = list(text)
        for d in range(len(chars)):
            if (int(unknown) >> (4 * d)) & 0xF:
                chars[len(chars) - 1 - d] = "X"
        text = "".join(chars)
    return "0x" + text


def _pattern(values: Any, width: int | None, name: str) -> np.ndarray:
    """Bit patterns of *values*: a uint64 array when they fit, else an object array."""
    a = np.asarray(values)
    if a.ndim != 1:
        a = a.reshape(-1)
    if width is not None and width > 64 and a.dtype != object:
        a = np.array([int(v) for v in a], dtype=object)
    if a.dtype == object:
        if width is None:
            if any(int(v) < 0 for v in a):
                raise ValueError(f"bus {name!r} holds negative Python ints: pass widths={{...}}")
            return np.array([int(v) for v in a], dtype=object)
        mod = 1 << width
        out = np.array([int(v) % mod if int(v) < 0 else int(v) for v in a], dtype=object)
        if width <= 64 and all(0 <= v < (1 << 64) for v in out):
            return out.astype(np.uint64)
        return out
    if a.dtype == np.bool_:
        return a.astype(np.uint64)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"bus {name!r} has dtype {a.dtype}: bit-exact checks need integer arrays")
    if np.issubdtype(a.dtype, np.unsignedinteger):
        return a.astype(np.uint64)
    bits = a.dtype.itemsize * 8 if width is None else min(width, 64)
    u = a.astype(np.int64).view(np.uint64)
    if bits < 64:
        u = np.where(a < 0, u & np.uint64((1 << bits) - 1), u)
    return u


def _neq(g: np.ndarray, e: np.ndarray) -> np.ndarray:
    if g.dtype == object or e.dtype == object:
        g = g.astype(object) if g.dtype != object else g
        e = e.astype(object) if e.dtype != object else e
        return np.array([int(x) != int(y) for x, y in zip(g, e)], dtype=bool)
    return g != e


def _infer_width(*arrays: np.ndarray | None) -> int:
    w = 1
    for a in arrays:
        if a is None or len(a) == 0:
            continue
        top = max(int(v) for v in a) if a.dtype == object else int(a.max())
        w = max(w, top.bit_length())
    return w


class _Prepared:
    def __init__(self, inputs, got, expected, unknown, widths):
        widths = dict(widths or {})
        if not expected:
            raise ValueError("no expected outputs to compare")
        missing = [k for k in expected if k not in got]
        if missing:
            raise ValueError(f"outputs {missing} expected but not produced (got {sorted(got)})")
        self.exp = {k: _pattern(v, widths.get(k), k) for k, v in expected.items()}
        self.got = {k: _pattern(got[k], widths.get(k), k) for k in expected}
        self.ins = {k: _pattern(v, widths.get(k), k) for k, v in (inputs or {}).items()}
        self.unk = {k: _pattern(v, None, k) for k, v in (unknown or {}).items() if k in expected}
        lengths = {len(a) for a in (*self.exp.values(), *self.got.values(), *self.ins.values(),
                                    *self.unk.values())}
        if len(lengths) > 1:
            sizes = {k: len(a) for d in (self.ins, self.got, self.exp) for k, a in d.items()}
            raise ValueError(f"vector counts differ between buses: {sizes}")
        self.total = lengths.pop() if lengths else 0
        self.widths = {}
        for k in (*self.ins, *self.exp):
            self.widths[k] = widths.get(k) or _infer_width(
                self.ins.get(k), self.got.get(k), self.exp.get(k))
        bad = np.zeros(self.total, dtype=bool)
        self.bus_bad = {}
        for k in self.exp:
            m = _neq(self.got[k], self.exp[k])
            if k in self.unk:
                m |= _neq(self.unk[k], np.zeros(self.total, dtype=np.uint64))
            self.bus_bad[k] = m
            bad |= m
        self.bad = bad

    def records(self, limit: int | None) -> list[Mismatch]:
        idx = np.flatnonzero(self.bad)
        if limit is not None:
            idx = idx[:limit]
        out = []
        for i in idx:
            i = int(i)
            buses = [k for k in self.exp if self.bus_bad[k][i]]
            out.append(Mismatch(
                index=i,
                inputs={k: int(a[i]) for k, a in self.ins.items()},
                got={k: int(self.got[k][i]) for k in buses},
                expected={k: int(self.exp[k][i]) for k in buses},
                unknown={k: int(self.unk[k][i]) for k in buses if k in self.unk and self.unk[k][i]},
                widths=self.widths,
            ))
        return out


def mismatch_mask(inputs: Mapping[str, Any] | None, got: Mapping[str, Any],
                  expected: Mapping[str, Any], *, unknown: Mapping[str, Any] | None = None,
                  widths: Mapping[str, int] | None = None) -> np.ndarray:
    """Boolean array, True for every vector where some expected bus differs (or is X/Z)."""
    return _Prepared(inputs, got, expected, unknown, widths).bad


def first_mismatches(inputs: Mapping[str, Any] | None, got: Mapping[str, Any],
                     expected: Mapping[str, Any], *, limit: int | None = 5,
                     unknown: Mapping[str, Any] | None = None,
                     widths: Mapping[str, int] | None = None) -> list[Mismatch]:
    """The first *limit* (None: all) mismatching vectors, in vector order."""
    return _Prepared(inputs, got, expected, unknown, widths).records(limit)


def assert_bit_exact(inputs: Mapping[str, Any] | None, got: Mapping[str, Any],
                     expected: Mapping[str, Any], *, max_report: int = 5, context: str = "",
                     unknown: Mapping[str, Any] | None = None,
                     widths: Mapping[str, int] | None = None) -> None:
    """Raise :class:`MismatchError` unless every bus of *expected* matches *got* bit for bit.

    Message: ``N of M vectors mismatch (context)`` then up to *max_report* lines
    ``#17: a=0x3c b=0x41 -> y: got 0x45 expected 0x44`` (hex zero-padded to the bus width,
    taken from *widths* or else from the largest value seen).
    """
    p = _Prepared(inputs, got, expected, unknown, widths)
    count = int(p.bad.sum())
    if not count:
        return
    records = p.records(max_report)
    head = f"{count} of {p.total} vectors mismatch" + (f" ({context})" if context else "")
    lines = [head, *(r.describe() for r in records)]
    if count > len(records):
        lines.append(f"... and {count - len(records)} more")
    raise MismatchError("\n".join(lines), count=count, total=p.total, mismatches=records)
