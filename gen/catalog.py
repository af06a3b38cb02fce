"""The catalogue of gates and blocks: how to build each as a stand-alone netlist, and its golden.

Every entry builds a netlist with fixed bus names (``a``, ``b``, ... in; ``y``, ... out) and
pairs it with the integer reference from :mod:`spikegate.golden.logic`, so tests, the CLI
and reports iterate over one table, FloPoCo-style: each operator carries its own golden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..golden import logic
from . import arith, compare, count, gates, shift
from .builder import NetlistBuilder
from .netlist import UNBOUNDED, Bounds, Netlist

__all__ = ["BlockSpec", "CATALOG", "build_block"]


@dataclass(frozen=True)
class BlockSpec:
    """A catalogue entry: ``build(builder, width, variant)`` wires the block up;
    ``golden(inputs, width)`` returns the expected output buses."""

    name: str
    doc: str
    build: Callable
    golden: Callable
    variants: tuple = ("default",)
    has_width: bool = True


def _gate_spec(name):
    fn, arity = gates.GATES[name]
    names = ("s", "a", "b") if name == "mux" else ("a", "b", "c")[:arity]

    def build(b, width, variant):
        b.output("y", (fn(b, *(b.input(n, 1)[0] for n in names)),))

    def golden(v, width):
        return {"y": logic.GATE_FUNCTIONS[name](*(v[n] for n in names))}

    return BlockSpec(name, f"{name.upper()} gate", build, golden, has_width=False)


def _adder(kind):
    def build(b, w, variant):
        x, y = b.input("a", w), b.input("b", w)
        if kind == "add":
            s, c = arith.add(b, x, y, b.input("cin", 1)[0], variant=variant)
            b.output("y", s), b.output("cout", (c,))
        elif kind == "sub":
            s, ge = arith.sub(b, x, y, variant=variant)
            b.output("y", s), b.output("ge", (ge,))
        else:
            s, c = arith.add_sub(b, x, y, b.input("sub", 1)[0], variant=variant)
            b.output("y", s), b.output("cout", (c,))
    return build


def _golden_addsub(v, w):
    s, c = logic.add(v["a"], ((v["b"] ^ ((1 << w) - 1) * v["sub"])), v["sub"], w)
    return {"y": s, "cout": c}


_SIGNED = ("lt", "ge")


def _build_compare(b, w, variant):
    x, y = b.input("a", w), b.input("b", w)
    for op in compare.COMPARE_OPS:
        b.output(op, (compare.compare(b, x, y, op, variant=variant),))
    for op in _SIGNED:
        b.output(f"s{op}", (compare.compare(b, x, y, op, signed=True, variant=variant),))


def _golden_compare(v, w):
    out = {op: logic.compare(v["a"], v["b"], op, w) for op in compare.COMPARE_OPS}
    out.update({f"s{op}": logic.compare(v["a"], v["b"], op, w, signed=True) for op in _SIGNED})
    return out


def _amount_bits(w):
    return w.bit_length()  # enough to express shifts past the width


def _build_shift(direction):
    def build(b, w, variant):
        x, amount = b.input("a", w), b.input("amount", _amount_bits(w))
        if direction == "left":
            b.output("y", shift.shift_left(b, x, amount, variant=variant))
        else:
            bits, sticky = shift.shift_right(b, x, amount, variant=variant, sticky=True)
            b.output("y", bits), b.output("sticky", (sticky,))
    return build


def _golden_shr(v, w):
    y, sticky = logic.shift_right(v["a"], v["amount"], w)
    return {"y": y, "sticky": sticky}


def _build_adder_cell(arity):
    def build(b, w, variant):
        cell = gates.half_adder if arity == 2 else gates.full_adder
        total, carry = cell(b, *(b.input(x, 1)[0] for x in "abc"[:arity]))
        b.output("sum", (total,))
        b.output("carry", (carry,))
    return build


def _golden_adder_cell(v, w):
    total = v["a"] + v["b"] + v.get("c", 0)
    return {"sum": total & 1, "carry": total >> 1}


def _build_increment(b, w, variant):
    total, carry = arith.increment(b, b.input("a", w))
    b.output("y", total)
    b.output("cout", (carry,))


_ADDER_VARIANTS = tuple(arith.ADDER_VARIANTS)

CATALOG: dict[str, BlockSpec] = {name: _gate_spec(name) for name in gates.GATES}
CATALOG.update({
    "half_adder": BlockSpec("half_adder", "half adder (2 neurons)", _build_adder_cell(2),
                            _golden_adder_cell, has_width=False),
    "full_adder": BlockSpec("full_adder", "full adder (2 neurons)", _build_adder_cell(3),
                            _golden_adder_cell, has_width=False),
    "add": BlockSpec("add", "n-bit adder with carry in/out", _adder("add"),
                     lambda v, w: dict(zip(("y", "cout"), logic.add(v["a"], v["b"], v["cin"], w))),
                     _ADDER_VARIANTS),
    "sub": BlockSpec("sub", "n-bit subtractor; ge = (a >= b)", _adder("sub"),
                     lambda v, w: dict(zip(("y", "ge"), logic.sub(v["a"], v["b"], w))),
                     _ADDER_VARIANTS),
    "addsub": BlockSpec("addsub", "adder/subtractor selected by 'sub'", _adder("addsub"),
                        _golden_addsub, _ADDER_VARIANTS),
    "increment": BlockSpec("increment", "n-bit incrementer", _build_increment,
                           lambda v, w: dict(zip(("y", "cout"), logic.increment(v["a"], w)))),
    "multiply": BlockSpec(
        "multiply", "unsigned n x n -> 2n multiplier",
        lambda b, w, v: b.output("y", arith.multiply(b, b.input("a", w), b.input("b", w))),
        lambda v, w: {"y": logic.multiply(v["a"], v["b"])}),
    "popcount": BlockSpec(
        "popcount", "number of ones",
        lambda b, w, v: b.output("y", arith.popcount(b, b.input("a", w))),
        lambda v, w: {"y": logic.popcount(v["a"], w)}),
    "compare": BlockSpec("compare", "all six unsigned comparisons plus signed lt/ge",
                         _build_compare, _golden_compare, ("auto", "threshold", "prefix")),
    "lzc": BlockSpec(
        "lzc", "leading-zero count",
        lambda b, w, v: b.output("y", count.leading_zeros(b, b.input("a", w))),
        lambda v, w: {"y": logic.leading_zeros(v["a"], w)}),
    "shift_left": BlockSpec("shift_left", "left barrel shifter", _build_shift("left"),
                            lambda v, w: {"y": logic.shift_left(v["a"], v["amount"], w)},
                            shift.SHIFT_VARIANTS),
    "shift_right": BlockSpec("shift_right", "right barrel shifter with sticky bit",
                             _build_shift("right"), _golden_shr, shift.SHIFT_VARIANTS),
})


def build_block(name, *, width=4, variant=None, bounds: Bounds = UNBOUNDED) -> Netlist:
    """A catalogue block as a netlist named ``<name>_w<width>[_<variant>]``."""
    if name not in CATALOG:
        raise ValueError(f"unknown block {name!r}: choose one of {', '.join(CATALOG)}")
    spec = CATALOG[name]
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 64:
        raise ValueError(f"width must be an int in 1..64, not {width!r}")
    if variant is None:
        variant = spec.variants[0]
    if variant not in spec.variants:
        raise ValueError(f"block {name!r} has no variant {variant!r}: choose one of "
                         f"{', '.join(spec.variants)}")
    label = name + (f"_w{width}" if spec.has_width else "") + \
        (f"_{variant}" if variant != "default" else "")
    b = NetlistBuilder(label, bounds=bounds)
    spec.build(b, width, variant)
    netlist = b.build()
    netlist.meta.update(unit=name, width=width if spec.has_width else 1, variant=variant)
    return netlist
