"""Size targets of the wide float units (the issue's figures, measured against NEXUS).

The staged normaliser and rounding of :func:`~spikegate.gen.float_round.round_pack` (formats
wider than 8 bits), the column-counter significand product of the multiplier and the
block-carry adder/subtractor of the adder keep these within bounds; the netlists'
bit-exactness is checked by the unit tests and ``spikegate verify``.
"""

from __future__ import annotations

import pytest

from spikegate.gen.float_add import build_fadd, build_fsub
from spikegate.gen.float_mul import build_fmul


@pytest.fixture(scope="module")
def fp32_add():
    return build_fadd("fp32").stats()


def test_fp32_mul_neurons():
    stats = build_fmul("fp32").stats()
    assert stats["neurons"] <= 2140, stats["neurons"]
    assert stats["max_weight"] < 1 << 16          # no round-up neuron weighs 2^47 any more


def test_fp32_add_neurons(fp32_add):
    assert fp32_add["neurons"] <= 1150, fp32_add["neurons"]


def test_fp32_add_depth(fp32_add):
    assert fp32_add["depth"] <= 33, fp32_add["depth"]


def test_fp32_sub_like_add():
    stats = build_fsub("fp32").stats()
    assert stats["neurons"] <= 1150 + 1 and stats["depth"] <= 33 + 1  # one inverter more


def test_fp16_add_neurons():
    assert build_fadd("fp16").stats()["neurons"] <= 545
