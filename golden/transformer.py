"""A small transformer classifier and its exact neuron-hardware semantics (the recipe).

Two things live here, both torch-level:

* :class:`TransformerClassifier`, the float model (``torch.nn`` modules) that users train and
  that :func:`from_torch` reads: an input projection of token features or a token
  embedding (``vocab``), learned positions or RoPE, pre-norm blocks (RMSNorm or LayerNorm;
  multi-head self-attention with an optional causal mask; a SiLU-gated or GELU MLP;
  residual adds), a final norm, and either a classifier (mean or last-token pooling) or an
  LM head (``head="lm"``: logits at every position).
* :func:`forward`, the **recipe**: what the hardware computes, written once against an
  *operations* object. :class:`GoldenOps` evaluates it on code arrays through the units'
  goldens (torch casts and arithmetic, the exact dot product, the correctly rounded
  function tables): that is the golden. The program compiler
  (:mod:`spikegate.gen.transformer`) runs the same function with operations that emit
  instructions, so the program and the golden cannot drift apart.

Precision (cast points; every step one correctly rounded unit):

=====================  ==========================================================
linear layers          FP8 E4M3 activations x E4M3 weights, exact (Kulisch) sum,
                       one rounding to BF16; bias (BF16) added after
attention matmuls      q.k and p.v: E4M3 operands, exact sum, one rounding to BF16;
                       1/sqrt(d_head) folded into W_q before quantisation
activations into FP8   BF16 -> E4M3 round to nearest even, saturating (``satfinite``)
token embedding        BF16 table (the float table rounded to nearest even); an id
                       beyond ``vocab`` (the payload is wider) reads a row of +0
residual stream        BF16 adds; learned positions BF16
RoPE                   on q (after the folded scale) and k: BF16 products with BF16
                       cos/sin constants, one BF16 add/subtract per element
norms                  statistics in FP32 (exact BF16->FP32 widening, FP32 squares and
                       sequential sums, times FP32(1/d), + FP32 eps), FP32 -> BF16,
                       BF16 rsqrt (correctly rounded), BF16 scale; RMSNorm's weight
                       folded into the next layer's weight columns (before E4M3
                       rounding); LayerNorm: FP32 mean and centred values (to BF16
                       before the scale), weight and bias as BF16 steps
softmax                BF16 running max (left to right), BF16 x - max, BF16 exp
                       (correctly rounded), FP32 sequential sum, FP32 -> BF16,
                       BF16 reciprocal, BF16 products; causal: masked scores left
                       out, their lanes of p.v hold +0 (a NaN value there still
                       propagates, as 0 x NaN does)
MLP                    BF16 SiLU/GELU (correctly rounded), BF16 gate product
pooling                mean: FP32 sequential sum times FP32(1/T), to BF16
logits                 BF16 (LM head: one row of logits per position)
=====================  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

__all__ = ["TransformerClassifier", "QuantizedTransformer", "from_torch", "forward",
           "GoldenOps", "ARITH", "with_arith", "golden_logits", "rope_tables",
           "token_bits", "embedding_rows", "outputs_per_sequence", "NORMS", "MLPS", "POOLS",
           "HEADS", "POSITIONS", "ACT_FORMAT", "Q_FORMAT", "Q_POLICY"]

NORMS = ("rmsnorm", "layernorm")
POSITIONS = ("learned", "rope")
MLPS = ("swiglu", "gelu")
POOLS = ("mean", "last")
HEADS = ("classifier", "lm")
#: Formats of the recipe: activations/residuals, FP8 operands (and their cast's policy),
#: statistics.
ACT_FORMAT, Q_FORMAT, Q_POLICY, STAT_FORMAT = "bf16", "e4m3", "satfinite", "fp32"
#: The recipe's two-operand float arithmetic: method -> (float op, format). Both sets of
#: operations (the golden's and the compiler's) take these methods from this one table.
ARITH = {"add16": ("fadd", ACT_FORMAT), "sub16": ("fsub", ACT_FORMAT),
         "mul16": ("fmul", ACT_FORMAT), "add32": ("fadd", STAT_FORMAT),
         "sub32": ("fsub", STAT_FORMAT), "mul32": ("fmul", STAT_FORMAT)}


def with_arith(method):
    """Class decorator: one method per :data:`ARITH` entry, ``method(op, fmt)`` makes it."""
    def decorate(cls):
        for name, (op, fmt) in ARITH.items():
            setattr(cls, name, method(op, fmt))
        return cls
    return decorate


def _make_norm(kind, d, eps):
    return nn.RMSNorm(d, eps=eps) if kind == "rmsnorm" else nn.LayerNorm(d, eps=eps)


def rope_tables(seq_len, d_head, base):
    """RoPE's ``cos``, ``sin`` (float64, shape (seq_len, d_head / 2)): position ``t`` turns
    the pair ``(i, i + d_head/2)`` by ``t * base^(-2i/d_head)`` (the "rotate half" form)."""
    inv = base ** (-np.arange(0, d_head // 2) * 2.0 / d_head)
    angle = np.arange(seq_len)[:, None] * inv[None, :]
    return np.cos(angle), np.sin(angle)


def _rotate(x, cos, sin):
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


class Attention(nn.Module):
    """Multi-head self-attention: Q, K, V, O projections, RoPE on Q and K when asked,
    scaled dot product, softmax."""

    def __init__(self, d, heads, causal, bias, rope_base=None):
        super().__init__()
        self.heads, self.causal, self.rope_base = heads, causal, rope_base
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=bias) for _ in range(4))

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q, k, v = (p(x).view(b, t, h, d // h).transpose(1, 2) for p in (self.q, self.k, self.v))
        if self.rope_base is not None:
            cos, sin = (torch.from_numpy(c).float() for c in rope_tables(t, d // h,
                                                                         self.rope_base))
            q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        s = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        if self.causal:
            s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        return self.o((s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    """SiLU-gated (``swiglu``: down(silu(gate x) * up x)) or ``gelu`` (down(gelu(up x)))."""

    def __init__(self, d, hidden, kind, bias):
        super().__init__()
        self.kind = kind
        if kind == "swiglu":
            self.gate = nn.Linear(d, hidden, bias=bias)
        self.up = nn.Linear(d, hidden, bias=bias)
        self.down = nn.Linear(hidden, d, bias=bias)

    def forward(self, x):
        if self.kind == "swiglu":
            return self.down(nn.functional.silu(self.gate(x)) * self.up(x))
        return self.down(nn.functional.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-norm block: x + attn(norm1 x), then x + mlp(norm2 x)."""

    def __init__(self, d, heads, hidden, norm, mlp, causal, bias, eps, rope_base=None):
        super().__init__()
        self.norm1, self.norm2 = _make_norm(norm, d, eps), _make_norm(norm, d, eps)
        self.attn = Attention(d, heads, causal, bias, rope_base)
        self.mlp = MLP(d, hidden, mlp, bias)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TransformerClassifier(nn.Module):
    """Tokens -> logits. Tokens: (batch, seq_len, in_features) features, or (batch, seq_len)
    ids below ``vocab`` when ``vocab`` is given (an ``nn.Embedding``). Logits: (batch,
    classes) for ``head="classifier"``; (batch, seq_len, classes) for ``head="lm"`` (classes
    defaults to ``vocab`` there: a language model's next-token logits)."""

    def __init__(self, *, in_features=8, seq_len=8, d_model=16, heads=2, blocks=1, hidden=32,
                 classes=None, norm="rmsnorm", mlp="swiglu", causal=False, pool="mean",
                 bias=False, eps=1e-5, positions="learned", rope_base=10000.0, vocab=None,
                 head="classifier"):
        super().__init__()
        for name, value, choices in (("norm", norm, NORMS), ("mlp", mlp, MLPS),
                                     ("pool", pool, POOLS), ("positions", positions, POSITIONS),
                                     ("head", head, HEADS)):
            if value not in choices:
                raise ValueError(f"unknown {name} {value!r}: choose one of {', '.join(choices)}")
        if d_model % heads or (positions == "rope" and (d_model // heads) % 2):
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}"
                             + (" (x 2 for RoPE)" if positions == "rope" else ""))
        if vocab is not None and (not isinstance(vocab, int) or vocab < 2):
            raise ValueError(f"vocab must be an integer >= 2 (or None for token features), "
                             f"not {vocab!r}")
        if classes is None:
            classes = vocab if head == "lm" and vocab else 10
        self.config = dict(in_features=in_features if vocab is None else 0, seq_len=seq_len,
                           d_model=d_model, heads=heads, blocks=blocks, hidden=hidden,
                           classes=classes, norm=norm, mlp=mlp, causal=causal,
                           pool=pool if head == "classifier" else None,
                           bias=bias, eps=eps, positions=positions, rope_base=float(rope_base),
                           vocab=vocab, head=head)
        self.embed = (nn.Linear(in_features, d_model, bias=bias) if vocab is None
                      else nn.Embedding(vocab, d_model))
        rope = float(rope_base) if positions == "rope" else None
        self.pos = nn.Parameter(torch.zeros(seq_len, d_model)) if rope is None else None
        self.blocks = nn.ModuleList(Block(d_model, heads, hidden, norm, mlp, causal, bias, eps,
                                          rope) for _ in range(blocks))
        self.norm = _make_norm(norm, d_model, eps)
        self.head = nn.Linear(d_model, classes, bias=bias)

    def forward(self, x):
        h = self.embed(x) if self.pos is None else self.embed(x) + self.pos
        for blk in self.blocks:
            h = blk(h)
        h = self.norm(h)
        if self.config["head"] == "lm":
            return self.head(h)
        return self.head(h.mean(1) if self.config["pool"] == "mean" else h[:, -1])


# -- quantised parameters ---------------------------------------------------------------------

@dataclass
class QuantizedTransformer:
    """The codes the hardware holds: E4M3 weight rows, BF16 vectors, FP32 scalars.

    ``params`` maps names (``embed.w``, ``blocks.0.attn.q.w``, ``blocks.0.norm1.w`` ...) to
    code arrays (uint64); ``config`` is the float model's configuration.
    """

    config: dict
    params: dict = field(default_factory=dict)

    def with_code(self, name, index, code):
        """A copy with one code changed (the verification tests flip a weight bit)."""
        params = {k: v.copy() for k, v in self.params.items()}
        params[name][index] = code
        return QuantizedTransformer(dict(self.config), params)


def _codes(t, fmt):
    from .formats import get_format
    from .torch_float import tensor_to_codes
    return np.asarray(tensor_to_codes(get_format(fmt), t), dtype=np.uint64)


def from_torch(model) -> QuantizedTransformer:
    """Read a :class:`TransformerClassifier` into hardware codes (one-line errors)."""
    if not isinstance(model, TransformerClassifier):
        raise TypeError(f"expected a spikegate TransformerClassifier, not "
                        f"{type(model).__name__}: build the model from "
                        f"spikegate.golden.transformer.TransformerClassifier")
    cfg = dict(model.config)
    d, h = cfg["d_model"], cfg["heads"]
    q = QuantizedTransformer(cfg)
    f8 = torch.float8_e4m3fn

    def weight(name, w):
        w = w.detach().float()
        if not torch.isfinite(w).all() or w.abs().max() > 448:
            raise ValueError(f"{name}: weights must be finite and within E4M3's +-448")
        q.params[name] = _codes(w.to(f8), Q_FORMAT)

    def vector(name, v):
        q.params[name] = _codes(v.detach().float().to(torch.bfloat16), ACT_FORMAT)

    def linear(prefix, lin, scale=1.0, cols=None):
        w = lin.weight * scale
        weight(prefix + ".w", w if cols is None else w * cols[None, :])
        if lin.bias is not None:
            vector(prefix + ".b", lin.bias * scale)

    def norm(prefix, mod):
        if isinstance(mod, torch.nn.RMSNorm):
            kind, w = "rmsnorm", mod.weight
            b = None
        elif isinstance(mod, torch.nn.LayerNorm):
            kind, w, b = "layernorm", mod.weight, mod.bias
        else:
            raise ValueError(f"{prefix}: unsupported norm {type(mod).__name__} "
                             f"(RMSNorm or LayerNorm)")
        if kind != cfg["norm"]:
            raise ValueError(f"{prefix}: {type(mod).__name__} in a {cfg['norm']} model")
        w = (w if w is not None else torch.ones(d)).detach().float()
        if kind == "rmsnorm":
            return w                      # folded into the next linear layer's columns
        vector(prefix + ".w", w)
        vector(prefix + ".b", b if b is not None else torch.zeros(d))
        return None

    if cfg.get("vocab"):
        table = model.embed.weight.detach().float()
        if not torch.isfinite(table).all():
            raise ValueError("embed: the embedding table must be finite")
        vector("embed.table", table)
    else:
        linear("embed", model.embed)
    if cfg.get("positions", "learned") == "rope":
        cos, sin = rope_tables(cfg["seq_len"], d // h, cfg["rope_base"])
        vector("rope.cos", torch.from_numpy(cos))
        vector("rope.sin", torch.from_numpy(sin))
    else:
        vector("pos", model.pos)
    for i, blk in enumerate(model.blocks):
        p = f"blocks.{i}"
        g1, g2 = norm(p + ".norm1", blk.norm1), norm(p + ".norm2", blk.norm2)
        linear(p + ".attn.q", blk.attn.q, 1 / math.sqrt(d // h), g1)
        for name in "kv":
            linear(f"{p}.attn.{name}", getattr(blk.attn, name), cols=g1)
        linear(f"{p}.attn.o", blk.attn.o)
        for name in (("gate", "up") if cfg["mlp"] == "swiglu" else ("up",)):
            linear(f"{p}.mlp.{name}", getattr(blk.mlp, name), cols=g2)
        linear(f"{p}.mlp.down", blk.mlp.down)
    linear("head", model.head, cols=norm("norm", model.norm))
    return q


def token_bits(config):
    """Width of one token in the input stream: ``in_features`` E4M3 codes, or an id."""
    vocab = config.get("vocab")
    return 8 * config["in_features"] if not vocab else max(1, (vocab - 1).bit_length())


def embedding_rows(q):
    """The embedding table padded with +0 rows to every id the token width can carry."""
    table = np.asarray(q.params["embed.table"], dtype=np.uint64)
    rows = 1 << token_bits(q.config)
    return np.concatenate([table, np.zeros((rows - len(table), table.shape[1]), np.uint64)])


def outputs_per_sequence(config):
    """Rows of logits a sequence gives: one (classifier) or one per position (LM head)."""
    return config["seq_len"] if config.get("head", "classifier") == "lm" else 1


# -- the recipe -------------------------------------------------------------------------------

def _f32_code(value):
    return int(np.float32(value).view(np.uint32))


def _sum32(ops, xs):
    """Left-to-right FP32 sum (the order the hardware program follows)."""
    s = xs[0]
    for x in xs[1:]:
        s = ops.add32(s, x)
    return s


def _norm(ops, q, prefix, xs):
    """One token's norm: FP32 statistics, BF16 rsqrt and scaling (see the module table)."""
    cfg = q.config
    d = len(xs)
    inv_d = ops.const32(_f32_code(1.0 / d))
    eps = ops.const32(_f32_code(cfg["eps"]))
    wide = [ops.widen(x) for x in xs]
    if cfg["norm"] == "layernorm":
        mean = ops.mul32(_sum32(ops, wide), inv_d)
        wide = [ops.sub32(x, mean) for x in wide]
        xs = [ops.narrow(x) for x in wide]
    var = ops.mul32(_sum32(ops, [ops.mul32(x, x) for x in wide]), inv_d)
    r = ops.fn("rsqrt", ops.narrow(ops.add32(var, eps)))
    ys = [ops.mul16(x, r) for x in xs]
    if cfg["norm"] == "layernorm":
        w, b = q.params[prefix + ".w"], q.params[prefix + ".b"]
        ys = [ops.add16(ops.mul16(y, ops.const16(int(w[i]))), ops.const16(int(b[i])))
              for i, y in enumerate(ys)]
    return ys


def _linear(ops, q, prefix, xvec, rows):
    """``rows`` outputs of an FP8 linear layer on the vector ``xvec`` (+ BF16 bias)."""
    w = q.params[prefix + ".w"]
    b = q.params.get(prefix + ".b")
    ys = [ops.dot(xvec, ops.row(w[m])) for m in range(rows)]
    if b is not None:
        ys = [ops.add16(y, ops.const16(int(b[m]))) for m, y in enumerate(ys)]
    return ys


def _rope(ops, q, t, xs, dh):
    """Position ``t``'s rotation of every head's pairs ``(i, i + dh/2)``: BF16 products with
    the BF16 cos/sin constants, one BF16 add or subtract."""
    cos, sin = q.params["rope.cos"][t], q.params["rope.sin"][t]
    half, out = dh // 2, list(xs)
    for base in range(0, len(xs), dh):
        for i in range(half):
            a, b = xs[base + i], xs[base + i + half]
            c, s = ops.const16(int(cos[i])), ops.const16(int(sin[i]))
            out[base + i] = ops.sub16(ops.mul16(a, c), ops.mul16(b, s))
            out[base + i + half] = ops.add16(ops.mul16(b, c), ops.mul16(a, s))
    return out


def _softmax(ops, scores):
    m = scores[0]
    for s in scores[1:]:
        m = ops.max16(m, s)
    es = [ops.fn("exp", ops.sub16(s, m)) for s in scores]
    r = ops.fn("recip", ops.narrow(_sum32(ops, [ops.widen(e) for e in es])))
    return [ops.mul16(e, r) for e in es]


def forward(ops, q: QuantizedTransformer, tokens):
    """The recipe: ``tokens`` (``seq_len`` FP8 vectors, or ids, from ``ops``) -> logits
    (BF16; with the LM head, position by position)."""
    cfg = q.config
    T, d, H, F = cfg["seq_len"], cfg["d_model"], cfg["heads"], cfg["hidden"]
    dh = d // H
    rope = cfg.get("positions", "learned") == "rope"
    x = []
    for t in range(T):
        e = (ops.embed(embedding_rows(q), tokens[t]) if cfg.get("vocab")
             else _linear(ops, q, "embed", tokens[t], d))
        x.append(e if rope else [ops.add16(e[i], ops.const16(int(q.params["pos"][t, i])))
                                 for i in range(d)])
    for blk in range(cfg["blocks"]):
        p = f"blocks.{blk}"
        nvec = [ops.vec(_norm(ops, q, p + ".norm1", x[t])) for t in range(T)]
        qs, ks, vs = ([_linear(ops, q, f"{p}.attn.{n}", nvec[t], d) for t in range(T)]
                      for n in "qkv")
        if rope:
            qs, ks = ([_rope(ops, q, t, x_t, dh) for t, x_t in enumerate(xs)] for xs in (qs, ks))
        att = [[None] * d for _ in range(T)]
        for hd in range(H):
            sl = slice(hd * dh, (hd + 1) * dh)
            qv = [ops.vec(qs[t][sl]) for t in range(T)]
            kv = [ops.vec(ks[t][sl]) for t in range(T)]
            vcol = [ops.vec([vs[t][hd * dh + j] for t in range(T)]) for j in range(dh)]
            for i in range(T):
                keys = range(i + 1) if cfg["causal"] else range(T)
                probs = _softmax(ops, [ops.dot(qv[i], kv[j]) for j in keys])
                pv = ops.vec(probs)
                for j in range(dh):
                    att[i][hd * dh + j] = ops.dot(pv, vcol[j])
        for t in range(T):
            o = _linear(ops, q, f"{p}.attn.o", ops.vec(att[t]), d)
            x[t] = [ops.add16(a, b) for a, b in zip(x[t], o)]
        for t in range(T):
            nv = ops.vec(_norm(ops, q, p + ".norm2", x[t]))
            if cfg["mlp"] == "swiglu":
                g = _linear(ops, q, f"{p}.mlp.gate", nv, F)
                u = _linear(ops, q, f"{p}.mlp.up", nv, F)
                hid = [ops.mul16(ops.fn("silu", a), b) for a, b in zip(g, u)]
            else:
                hid = [ops.fn("gelu", a) for a in _linear(ops, q, f"{p}.mlp.up", nv, F)]
            y = _linear(ops, q, f"{p}.mlp.down", ops.vec(hid), d)
            x[t] = [ops.add16(a, b) for a, b in zip(x[t], y)]
    if cfg.get("head", "classifier") == "lm":
        return [y for t in range(T)
                for y in _linear(ops, q, "head", ops.vec(_norm(ops, q, "norm", x[t])),
                                 cfg["classes"])]
    if cfg["pool"] == "mean":
        xs = [_norm(ops, q, "norm", x[t]) for t in range(T)]
        inv_t = ops.const32(_f32_code(1.0 / T))
        pooled = [ops.narrow(ops.mul32(_sum32(ops, [ops.widen(xs[t][i]) for t in range(T)]),
                                       inv_t)) for i in range(d)]
    else:
        pooled = _norm(ops, q, "norm", x[T - 1])
    return _linear(ops, q, "head", ops.vec(pooled), cfg["classes"])


def _golden_arith(op, fmt):
    def method(self, a, b):
        from .torch_float import golden_op
        return golden_op(op, fmt, a, b)
    return method


@with_arith(_golden_arith)
class GoldenOps:
    """The recipe's operations on code arrays (one entry per sequence): the units' goldens."""

    def __init__(self, batch):
        self.batch = batch

    def _full(self, code):
        return np.full(self.batch, code, dtype=np.uint64)

    def const16(self, code):
        return self._full(code)

    const32 = const16

    def row(self, codes):
        return np.asarray(codes, dtype=np.uint64)[None, :]

    def vec(self, scalars):
        from .torch_float import golden_convert
        x = np.stack(scalars, axis=-1)
        return golden_convert(ACT_FORMAT, Q_FORMAT, x, policy=Q_POLICY)

    def dot(self, x, w):
        """The shorter operand padded with +0 lanes, as the hardware's fresh vector slots and
        ROM rows are."""
        from .dot import dot_exact_fast
        n = max(x.shape[-1], w.shape[-1])
        x, w = (np.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, n - v.shape[-1])]) for v in (x, w))
        return dot_exact_fast(Q_FORMAT, x, w, out=ACT_FORMAT)

    def embed(self, rows, ids):
        return [rows[ids, i] for i in range(rows.shape[1])]

    def max16(self, a, b):
        from .softmax import order_key
        return np.where(order_key(ACT_FORMAT, b) > order_key(ACT_FORMAT, a), b, a)

    def fn(self, name, a):
        from .functions import golden_function
        return golden_function(name, ACT_FORMAT, a)

    def widen(self, a):
        from .torch_float import golden_convert
        return golden_convert(ACT_FORMAT, STAT_FORMAT, a)

    def narrow(self, a):
        from .torch_float import golden_convert
        return golden_convert(STAT_FORMAT, ACT_FORMAT, a)


def golden_logits(q: QuantizedTransformer, tokens):
    """Logit codes (BF16, shape (batch, rows, classes); rows: :func:`outputs_per_sequence`)
    of token codes (batch, seq_len, in_features) (E4M3) or ids (batch, seq_len): what the
    hardware must give, bit for bit."""
    tokens = np.asarray(tokens, dtype=np.uint64)
    cfg = q.config
    T = cfg["seq_len"]
    shape = (T,) if cfg.get("vocab") else (T, cfg["in_features"])
    if tokens.ndim != 1 + len(shape) or tokens.shape[1:] != shape:
        raise ValueError(f"tokens must have shape (batch, {', '.join(map(str, shape))}), "
                         f"not {tokens.shape}")
    if cfg.get("vocab") and tokens.size and int(tokens.max()) >> token_bits(cfg):
        raise ValueError(f"token ids must fit the {token_bits(cfg)}-bit input")
    ops = GoldenOps(len(tokens))
    logits = forward(ops, q, [tokens[:, t] for t in range(T)])
    rows = outputs_per_sequence(cfg)
    return np.stack(logits, axis=-1).reshape(len(tokens), rows, cfg["classes"])
