"""The transformer processor's Verilog on Verilator and Icarus, every logit against the
golden: in ``make test`` a causal language model on Verilator (one run serves the bit-exact
check and the one-weight-bit test) and a small classifier block (d_model 8) on Icarus."""

import pytest

torch = pytest.importorskip("torch")

from spikegate.gen.transformer import compile_transformer  # noqa: E402
from spikegate.golden.transformer import (TransformerClassifier, from_torch,  # noqa: E402
                                          golden_logits)
from spikegate.hdl.processor import processor_verilog  # noqa: E402
from spikegate.sim.check import MismatchError  # noqa: E402
from spikegate.sim.transformer_run import (check_sequences, compare_logits,  # noqa: E402
                                           token_sequences)

SMALL = dict(in_features=8, seq_len=8, d_model=8, heads=2, blocks=1, hidden=16)
LM = dict(seq_len=8, d_model=8, heads=2, blocks=1, hidden=16, vocab=12, head="lm",
          causal=True)


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(1)
    q = from_torch(TransformerClassifier(**SMALL))
    prog = compile_transformer(q, stages=1)
    return q, prog, processor_verilog(prog, top="tf_small")


@pytest.mark.regress
@pytest.mark.xdist_group("transformer-verilator")
def test_small_block_on_verilator(small):
    """Seeded sequences (any code, small values, pixels) with idle cycles and backpressure:
    every logit bit equal (``make test`` runs this classifier on Icarus, and the LM below on
    Verilator)."""
    q, prog, text = small
    result, _ = check_sequences(q, text, "tf_small", token_sequences(q.config, 6, seed=7),
                                simulator="verilator", seed=1)
    assert result.cycles >= 6 * prog.figures()["cycles_per_sequence"] - 6 * 8


@pytest.mark.xdist_group("transformer-verilator")
def test_language_model_on_verilator_and_a_flipped_weight_fails():
    """Token embedding (ids beyond the 12-row vocabulary included), causal mask, LM head:
    eight rows of logits per sequence, every bit, under idle cycles and backpressure; the
    golden of the model with one weight bit flipped does not match what the hardware gave."""
    torch.manual_seed(2)
    q = from_torch(TransformerClassifier(**LM))
    prog = compile_transformer(q, stages=1)
    x = token_sequences(q.config, 4, seed=9)
    assert x.max() >= 12                          # an id with a +0 row is streamed
    result, got = check_sequences(q, processor_verilog(prog, top="tf_lm"), "tf_lm", x,
                                  simulator="verilator", seed=4)
    assert result.outputs.shape == (4 * 8,)
    assert result.cycles >= 4 * prog.figures()["cycles_per_sequence"] - 4 * 8
    name = "blocks.0.attn.v.w"
    wrong = q.with_code(name, (0, 0), int(q.params[name][0, 0]) ^ 0x08)
    with pytest.raises(MismatchError, match="logit"):
        compare_logits(got, golden_logits(wrong, x), context="tf_lm, one weight bit flipped")


@pytest.mark.xdist_group("transformer-icarus")
def test_small_block_on_icarus(small):
    q, prog, text = small
    x = token_sequences(q.config, 1, seed=11)
    check_sequences(q, text, "tf_small", x, simulator="icarus", seed=2)


@pytest.mark.regress
@pytest.mark.xdist_group("transformer-verilator")
def test_rope_causal_layernorm_gelu_blocks_on_verilator():
    """Two blocks, LayerNorm, GELU, causal mask, biases, RoPE, last-token pooling, two
    register stages per unit: every logit bit of 8 sequences."""
    torch.manual_seed(1)
    q = from_torch(TransformerClassifier(**dict(SMALL, blocks=2, norm="layernorm", mlp="gelu",
                                                causal=True, bias=True, pool="last",
                                                positions="rope")))
    prog = compile_transformer(q, stages=2)
    check_sequences(q, processor_verilog(prog, top="tf_rope"), "tf_rope",
                    token_sequences(q.config, 8, seed=5), simulator="verilator", seed=3)
