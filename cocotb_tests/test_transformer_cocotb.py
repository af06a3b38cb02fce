"""The transformer processor's Verilog on Verilator and Icarus, every logit against the
golden (a small block, d_model 8: one Verilator build, cached by the text's digest, serves
the bit-exact run and the one-weight-bit test)."""

import pytest

torch = pytest.importorskip("torch")

from spikegate.gen.transformer import compile_transformer  # noqa: E402
from spikegate.golden.transformer import TransformerClassifier, from_torch  # noqa: E402
from spikegate.hdl.processor import processor_verilog  # noqa: E402
from spikegate.sim.check import MismatchError  # noqa: E402
from spikegate.sim.transformer_run import check_sequences, token_sequences  # noqa: E402

SMALL = dict(in_features=8, seq_len=8, d_model=8, heads=2, blocks=1, hidden=16)
LM = dict(seq_len=8, d_model=8, heads=2, blocks=1, hidden=16, vocab=12, head="lm",
          causal=True)


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(1)
    q = from_torch(TransformerClassifier(**SMALL))
    prog = compile_transformer(q, stages=1)
    return q, prog, processor_verilog(prog, top="tf_small")


@pytest.mark.xdist_group("transformer-verilator")
def test_small_block_on_verilator_and_a_flipped_weight_fails(small):
    """Seeded sequences (any code, small values, pixels) with idle cycles and backpressure:
    every logit bit equal; the golden of a model with one weight bit flipped differs."""
    q, prog, text = small
    x = token_sequences(q.config, 6, seed=7)
    result = check_sequences(q, text, "tf_small", x, simulator="verilator", seed=1)
    assert result.cycles >= 6 * prog.figures()["cycles_per_sequence"] - 6 * 8
    wrong = q.with_code("blocks.0.attn.v.w", (0, 0), int(q.params["blocks.0.attn.v.w"][0, 0])
                        ^ 0x08)
    with pytest.raises(MismatchError, match="logit"):
        check_sequences(wrong, text, "tf_small", x, simulator="verilator", seed=1)


@pytest.mark.xdist_group("transformer-verilator")
def test_language_model_on_verilator():
    """Token embedding (ids beyond the 12-row vocabulary included), causal mask, LM head:
    eight rows of logits per sequence, every bit, under idle cycles and backpressure."""
    torch.manual_seed(2)
    q = from_torch(TransformerClassifier(**LM))
    prog = compile_transformer(q, stages=1)
    x = token_sequences(q.config, 4, seed=9)
    assert x.max() >= 12                          # an id with a +0 row is streamed
    result = check_sequences(q, processor_verilog(prog, top="tf_lm"), "tf_lm", x,
                             simulator="verilator", seed=4)
    assert result.outputs.shape == (4 * 8,)


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
