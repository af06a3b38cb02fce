"""The transformer: recipe golden, program compiler and schedule (the Verilog on the
simulators: cocotb_tests/test_transformer_cocotb.py)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from spikegate.gen.transformer import BINARY, MEMORY_OPS, compile_transformer  # noqa: E402
from spikegate.golden.dot import dot_exact, dot_exact_fast  # noqa: E402
from spikegate.golden.transformer import (QuantizedTransformer,  # noqa: E402
                                          TransformerClassifier, from_torch, golden_logits)
from spikegate.sim.transformer_run import interpret, token_sequences  # noqa: E402

SMALL = dict(in_features=8, seq_len=8, d_model=8, heads=2, blocks=1, hidden=16)
VARIANT = dict(SMALL, norm="layernorm", mlp="gelu", causal=True, bias=True, pool="last",
               blocks=2, positions="rope")
#: A causal language model: token embedding (12 ids, 4-bit input), LM head at every position.
LM = dict(seq_len=8, d_model=8, heads=2, blocks=1, hidden=16, vocab=12, head="lm",
          causal=True)


def _model(**cfg):
    torch.manual_seed(1)
    return TransformerClassifier(**cfg)


@pytest.fixture(scope="module")
def small():
    q = from_torch(_model(**SMALL))
    return q, compile_transformer(q, stages=1)


def _first(got, expected):
    bad = np.argwhere(got != expected)
    return [(tuple(int(i) for i in b), hex(int(got[tuple(b)])), hex(int(expected[tuple(b)])))
            for b in bad[:3]]


def test_fast_dot_golden_matches_exact():
    rng = np.random.default_rng(5)
    for n in (1, 5, 32):
        x, w = rng.integers(0, 256, (4000, n)), rng.integers(0, 256, (4000, n))
        x[rng.random(x.shape) < 0.3] = 0x80                       # -0
        w[rng.random(w.shape) < 0.2] = 0
        for out in ("bf16", "fp32", "fp16"):
            a, b = dot_exact("e4m3", x, w, out=out), dot_exact_fast("e4m3", x, w, out=out)
            assert np.array_equal(a, b), (n, out, _first(b, a))


CONFIGS = pytest.mark.parametrize("cfg", [SMALL, VARIANT, LM],
                                  ids=["rmsnorm-swiglu", "layernorm-gelu-causal-rope",
                                       "embedding-lm-head"])


@CONFIGS
def test_golden_follows_the_float_model(cfg):
    """The recipe computes the float model's function: E4M3 weights and BF16 steps keep
    every logit within a fifth of the largest (a wrong rotation, mask, fold or embedding
    row would not)."""
    m = _model(**cfg)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        if m.pos is not None:
            m.pos.normal_(0, 0.5)
    if cfg.get("vocab"):
        codes = rng.integers(0, cfg["vocab"], (64, 8)).astype(np.uint64)
        x = torch.from_numpy(codes.astype(np.int64))
    else:
        x = torch.from_numpy(rng.integers(0, 17, (64, 8, 8)) / 16).float()
        codes = x.to(torch.float8_e4m3fn).view(torch.uint8).numpy().astype(np.uint64)
    with torch.no_grad():
        ref = m(x).numpy()
    got = (golden_logits(from_torch(m), codes).astype(np.uint32) << 16).view(np.float32)
    got = got.reshape(ref.shape)
    assert np.abs(got - ref).max() <= 0.2 * np.abs(ref).max(), (got[0], ref[0])


def test_embedding_ids_beyond_the_vocabulary_read_zero_rows():
    """A 4-bit id input carries 16 ids for 12 rows: ids 12..15 embed as +0 vectors."""
    q = from_torch(_model(**LM))
    table = np.concatenate([q.params["embed.table"], np.zeros((4, 8), np.uint64)])
    zero = QuantizedTransformer(dict(q.config, vocab=16), dict(q.params, **{"embed.table": table}))
    ids = np.array([[12, 3, 15, 0, 13, 1, 14, 2]], dtype=np.uint64)
    assert np.array_equal(golden_logits(q, ids), golden_logits(zero, ids))
    with pytest.raises(ValueError, match="4-bit"):
        golden_logits(q, ids + 4)


@CONFIGS
def test_program_matches_golden(cfg):
    """The compiled program, instruction by instruction, gives the golden's logits."""
    q = from_torch(_model(**cfg))
    prog = compile_transformer(q, stages=1)
    x = token_sequences(q.config, 24, seed=2)
    got, expected = interpret(prog, x), golden_logits(q, x)
    assert np.array_equal(got, expected), _first(got, expected)


def test_schedule_and_allocation(small):
    """Vector lanes written once and read ``distance`` cycles later; every scalar read finds
    a constant or a write ``distance`` cycles old; addresses are reused (the interpreter
    tests prove each read gets the value it needs)."""
    _, prog = small
    body = prog.instrs()
    assert len(body) == prog.issued and prog.scalars < prog.issued // 4
    writes_s, wrote_v = {}, {}
    for cycle, ins in body:
        if ins.op == "q8":
            assert (ins.dst, ins.lane) not in wrote_v
            wrote_v[(ins.dst, ins.lane)] = cycle
        elif ins.op not in MEMORY_OPS or ins.op == "embed":
            assert ins.dst not in prog.consts
            writes_s.setdefault(ins.dst, []).append(cycle)
    for cycle, ins in body:
        if ins.op == "dot":
            slots = [ins.vx] + ([] if ins.rom else [ins.vy])
            assert all(cycle - c >= prog.distance for (v, _), c in wrote_v.items()
                       if v in slots), ins
            continue
        for a in ([ins.a, ins.b] if ins.op in BINARY else [] if ins.op == "embed"
                  else [ins.a]):
            assert a in prog.consts or any(cycle - c >= prog.distance for c in writes_s[a]), \
                (ins, cycle)


def test_generation_is_deterministic(small):
    q, prog = small
    again = compile_transformer(q, stages=1)
    assert prog.words() == again.words() and prog.consts == again.consts


def test_bad_models_get_one_line_errors():
    with pytest.raises(TypeError, match="TransformerClassifier"):
        from_torch(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="unknown norm"):
        TransformerClassifier(norm="batchnorm")
    with pytest.raises(ValueError, match="unknown head"):
        TransformerClassifier(head="decoder")
    with pytest.raises(ValueError, match="vocab"):
        TransformerClassifier(vocab=1)
    m = _model(**SMALL)
    with torch.no_grad():
        m.head.weight[0, 0] = 1000.0
    with pytest.raises(ValueError, match="448"):
        from_torch(m)
    with pytest.raises(ValueError, match="lanes"):
        compile_transformer(from_torch(_model(**SMALL)), lanes=4)


def test_generate_transformer_cli(tmp_path, capsys):
    """``generate transformer --model FILE``: the design files and figures; bad models get
    one line and exit 2, with nothing written."""
    import json

    from spikegate.cli import main
    model = tmp_path / "tf.pt"
    torch.save(_model(**SMALL), model)
    out = tmp_path / "tf"
    assert main(["generate", "transformer", "--model", str(model), "--stages", "1",
                 "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "report.json", "report.md",
                                                     "transformer.v"]
    assert report["neurons"] == sum(u["neurons"] for u in report["units"].values()) > 10_000
    assert report["cycles_per_sequence"] < report["instructions"]       # bundles of <= 4
    assert "Precision" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["verify", str(out), "--sim", "torch"]) == 2
    assert "icarus or verilator" in capsys.readouterr().err
    torch.save(torch.nn.Linear(2, 2), tmp_path / "lin.pt")
    capsys.readouterr()
    assert main(["generate", "transformer", "--model", str(tmp_path / "lin.pt"),
                 "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "TransformerClassifier" in err[0], err
    assert not (tmp_path / "bad").exists()
    assert main(["generate", "transformer", "-o", str(tmp_path / "bad")]) == 2


def test_processor_verilog_splits_into_units_and_a_shell(small):
    """Per-unit synthesis (``spikegate.sim.synth_units``) reads one module at a time: the
    units and the shell, which sees the units as port-only black boxes."""
    from spikegate.hdl.processor import processor_verilog, unit_designs
    from spikegate.sim.synth_units import blackbox_stubs, split_modules
    _, prog = small
    designs = unit_designs(prog, "tf")
    modules = split_modules(processor_verilog(prog, top="tf", designs=designs))
    assert list(modules)[-1] == "tf" and set(modules) == {"tf", *(d.top for d in designs.values())}
    assert all(m.startswith(f"module {name}") and m.rstrip().endswith("endmodule")
               for name, m in modules.items())
    stubs = blackbox_stubs({k: v for k, v in modules.items() if k != "tf"})
    assert stubs.count("(* blackbox *)") == len(designs) and "fires when" not in stubs
